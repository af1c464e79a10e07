/* quantize.c - post-training int8 quantization into the ONNX QOperator form.
 *
 * Calibrates (calibrate.c), then rewrites the float graph, node by node in
 * order, keeping for every original float value up to two forms: its f32
 * value and its i8 value. A node that has an int8 form reads the i8 forms of
 * its inputs (a QuantizeLinear makes one where only the f32 exists); every
 * other node reads the f32 forms (a DequantizeLinear makes one). Each
 * QuantizeLinear / DequantizeLinear is made once per value, at its first use.
 *
 *   Conv               -> QLinearConv (weights i8 per output channel, bias i32)
 *   Gemm               -> QGemm (alpha and beta folded into B and C; transB kept)
 *   MatMul             -> QLinearMatMul (a constant B per column)
 *   Add                -> QLinearAdd (a constant operand per tensor)
 *   Concat             -> QLinearConcat
 *   GlobalAveragePool, AveragePool, Sigmoid -> QLinearGlobalAveragePool,
 *                         QLinearAveragePool, QLinearSigmoid
 *   MaxPool, Reshape, Flatten, Transpose, Squeeze, Unsqueeze: the same op on
 *                         i8 when its input is already i8; the output keeps
 *                         the input's scale and zero point
 *   Relu / Clip (constant bounds), the single user of a QLinearConv, QGemm,
 *                         QLinearMatMul or QLinearAdd: fused as clip_min /
 *                         clip_max; the output takes the activation's range
 *   anything else      -> f32 between DequantizeLinear and QuantizeLinear,
 *                         listed on the report
 *
 * Scheme (docs/quantization.md): activations i8 asymmetric per tensor from the
 * calibrated range with min <= 0 <= max: s = (max - min) / 255,
 * z = -128 - round(min / s); weights i8 symmetric per output channel,
 * s_c = max|w_c| / 127 (an all-zero channel takes the largest s_c of its
 * tensor, so its requantization multiplier stays ordinary), rounded half to
 * even; bias i32 with s = s_in * s_c. The values the pass makes carry
 * tb_value.scale / zero_point, except per-channel weights (their scales are
 * the w_scale operand).
 *
 * Names: an i8 value that replaces a float one takes its name; a graph output
 * keeps its name on the value the model returns; QuantizeLinear outputs are
 * "X.q", DequantizeLinear outputs "X.dq", the constants "X.scale",
 * "X.zero_point", and for weight W "W.q", "W.scale", "W.zero_point".
 *
 * Options: calib=FILE (required), method=minmax|percentile|mse,
 * int8-io=0|1 (graph inputs and outputs i8; the emitter writes their scales),
 * stop=VALUE (nodes computed from VALUE stay float: tyboxc --train-tail).
 *
 *   graph @g(%x: f32[1,4]) {
 *     %w = const f32[2,4] [...]
 *     %y = Gemm(%x, %w) {transB = 1} : f32[1,2]
 *     return %y
 *   }
 * becomes
 *   %x.q = QuantizeLinear(%x, %x.scale, %x.zero_point) : i8[1,4]{scale = ..., zero_point = ...}
 *   %y.q = QGemm(%x.q, %x.scale, %x.zero_point, %w.q, %w.scale, %w.zero_point, none,
 *                %y.scale, %y.zero_point) {transB = 1} : i8[1,2]{...}
 *   %y = DequantizeLinear(%y.q, %y.scale, %y.zero_point) : f32[1,2]
 */
#include "calibrate.h"
#include "passes.h"
#include "shape.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    K_FLOAT,     /* runs in f32 */
    K_FUSED,     /* a Relu/Clip folded into its producer */
    K_MOVE,      /* the same op on i8 */
    K_CONV, K_GEMM, K_MATMUL, K_ADD, K_CONCAT, K_GAP, K_AVGPOOL, K_SIGMOID,
} kind;

/* The QOperator ops, looked up by name: tb_op ids of the int8 ops. */
typedef struct {
    tb_op quantize, dequantize, conv, gemm, matmul, add, concat, gap, avgpool, sigmoid;
} qops;

typedef struct {
    tb_graph *g;
    tb_error *err;
    int int8_io;
    qops op;
    int n_old;               /* values before the rewrite: the maps below cover them */
    const char **name;       /* original names */
    tb_calib_range *range;
    int *fval, *qval;        /* f32 / i8 form of each original value, -1 if none (yet) */
    float *scale;            /* i8 form's parameters */
    int32_t *zp;
    int *scale_c, *zp_c;     /* constants holding them, -1 until made */
    int (*wcache)[2][4];     /* per weight, per layout (0 channel-major, 1 columns): the
                              * i8, scale, zero-point constants and 1 once made */
} qstate;

/* ---- names and parameters --------------------------------------------------- */

static const char *unique_name(tb_graph *g, const char *base, const char *suffix) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s%s", base, suffix);
    for (int k = 1; tb_graph_find_value(g, buf) >= 0; k++) snprintf(buf, sizeof buf, "%s%s_%d", base, suffix, k);
    return tb_strdup(g->pool, buf);
}

/* Asymmetric per-tensor parameters for the range [lo, hi] (0 included). */
static void act_params(double lo, double hi, float *s, int32_t *z) {
    if (lo > 0) lo = 0;
    if (hi < 0) hi = 0;
    *s = (float)((hi - lo) / 255);
    if (!(*s > 0) || !isfinite(*s)) *s = 1;
    double zz = -128 - nearbyint(lo / *s);
    *z = (int32_t)(zz < -128 ? -128 : zz > 127 ? 127 : zz);
}

static int8_t quantize_one(double x, double s, int32_t z, int lo) {
    double q = nearbyint(x / s) + z;
    return (int8_t)(q < lo ? lo : q > 127 ? 127 : q);
}

static int scalar_const(tb_graph *g, const char *name, tb_dtype t, const void *data) {
    return tb_graph_add_const(g, name, t, 0, NULL, data);
}

/* The scale and zero-point constants of original value v's i8 form. */
static void qconsts(qstate *Q, int v, int *sc, int *zc) {
    if (Q->scale_c[v] < 0) {
        int8_t z = (int8_t)Q->zp[v];
        Q->scale_c[v] = scalar_const(Q->g, unique_name(Q->g, Q->name[v], ".scale"), TB_F32, &Q->scale[v]);
        Q->zp_c[v] = scalar_const(Q->g, unique_name(Q->g, Q->name[v], ".zero_point"), TB_I8, &z);
    }
    *sc = Q->scale_c[v];
    *zc = Q->zp_c[v];
}

static void set_calibrated_params(qstate *Q, int v) {
    act_params(Q->range[v].lo, Q->range[v].hi, &Q->scale[v], &Q->zp[v]);
}

/* ---- emitting nodes ------------------------------------------------------------- */

/* A new node with one output, attributes copied from `like` (may be NULL),
 * shape inferred; returns its output value. */
static int emit(qstate *Q, tb_op op, const char *name, int n_in, const int *in, const tb_node *like, int *node) {
    tb_graph *g = Q->g;
    int id = tb_graph_add_node(g, op, name, n_in, in, 1);
    if (like && like->n_attrs) {
        tb_attr *a = tb_alloc(g->pool, (size_t)like->n_attrs * sizeof *a);
        memcpy(a, like->attrs, (size_t)like->n_attrs * sizeof *a);
        g->nodes[id].attrs = a;
        g->nodes[id].n_attrs = like->n_attrs;
    }
    if (node) *node = id;
    return g->nodes[id].outputs[0];
}

static int infer(qstate *Q, int node) { return tb_infer_node(Q->g, node, Q->err); }

static void mark_i8(qstate *Q, int value, int orig) {
    Q->g->values[value].scale = Q->scale[orig];
    Q->g->values[value].zero_point = Q->zp[orig];
}

/* The i8 form of original value v: QuantizeLinear of its f32 form if needed. */
static int get_q(qstate *Q, int v, int *out) {
    if (Q->qval[v] < 0) {
        int sc, zc, node;
        if (Q->scale_c[v] < 0) set_calibrated_params(Q, v);
        qconsts(Q, v, &sc, &zc);
        int y = emit(Q, Q->op.quantize, Q->name[v], 3, (int[]){Q->fval[v], sc, zc}, NULL, &node);
        if (infer(Q, node)) return 1;
        Q->g->values[y].name = unique_name(Q->g, Q->name[v], ".q");
        mark_i8(Q, y, v);
        Q->qval[v] = y;
    }
    *out = Q->qval[v];
    return 0;
}

/* The f32 form of original value v: DequantizeLinear of its i8 form if needed. */
static int get_f(qstate *Q, int v, int *out) {
    if (Q->fval[v] < 0) {
        int sc, zc, node;
        qconsts(Q, v, &sc, &zc);
        int y = emit(Q, Q->op.dequantize, Q->name[v], 3, (int[]){Q->qval[v], sc, zc}, NULL, &node);
        if (infer(Q, node)) return 1;
        Q->g->values[y].name = unique_name(Q->g, Q->name[v], ".dq");
        Q->fval[v] = y;
    }
    *out = Q->fval[v];
    return 0;
}

/* The new node's i8 output now stands for original value v: it takes v's
 * name (the old f32 value is gone), unless v is a graph output that stays f32. */
static void take_output(qstate *Q, int y, int v) {
    tb_graph *g = Q->g;
    if (tb_value_is_graph_output(g, v) && !Q->int8_io) {
        g->values[y].name = unique_name(g, Q->name[v], ".q");
    } else {
        g->values[v].name = unique_name(g, Q->name[v], ".f32");
        g->values[y].name = Q->name[v];
    }
    mark_i8(Q, y, v);
    Q->qval[v] = y;
    Q->fval[v] = -1;
}

/* ---- constants ---------------------------------------------------------------- */

/* Symmetric per-channel i8 weights: channel c holds the elements whose index
 * i has (i / inner) % C == c. Writes the i8, scale and zero-point constants. */
static void quantize_weight(qstate *Q, int w, int64_t C, int64_t inner, float alpha, int *wq, int *ws, int *wz,
                            float **scales) {
    tb_graph *g = Q->g;
    /* A weight shared by several nodes is quantized once (alpha 1 only). */
    int *cached = Q->wcache[w][C * inner != tb_value_numel(&g->values[w])];
    if (alpha == 1.0f && cached[3]) {
        *wq = cached[0], *ws = cached[1], *wz = cached[2];
        *scales = g->values[*ws].data;
        return;
    }
    const tb_value *W = &g->values[w];
    int64_t n = tb_value_numel(W);
    const float *x = W->data;
    float *s = tb_alloc(g->pool, (size_t)C * sizeof *s);
    double smax = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t c = (i / inner) % C;
        double a = fabs((double)x[i] * alpha);
        if (a > s[c]) s[c] = (float)a;
    }
    for (int64_t c = 0; c < C; c++) {
        s[c] = (float)(s[c] / 127.0);
        if (s[c] > smax) smax = s[c];
    }
    for (int64_t c = 0; c < C; c++)
        if (!(s[c] > 0)) s[c] = smax > 0 ? (float)smax : 1.0f;
    int8_t *q = tb_alloc(g->pool, (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) q[i] = quantize_one((double)x[i] * alpha, s[(i / inner) % C], 0, -127);
    int8_t *zeros = tb_alloc(g->pool, (size_t)C);
    const char *base = Q->g->values[w].name;
    int64_t dims[TB_MAX_RANK];
    int rank = W->rank;
    memcpy(dims, W->dims, sizeof dims);
    *wq = tb_graph_add_const(g, unique_name(g, base, ".q"), TB_I8, rank, dims, q);
    *ws = tb_graph_add_const(g, unique_name(g, base, ".scale"), TB_F32, 1, (int64_t[]){C}, s);
    *wz = tb_graph_add_const(g, unique_name(g, base, ".zero_point"), TB_I8, 1, (int64_t[]){C}, zeros);
    *scales = g->values[*ws].data;
    if (alpha == 1.0f) cached[0] = *wq, cached[1] = *ws, cached[2] = *wz, cached[3] = 1;
}

/* Bias b (C elements, or 1 broadcast, times beta) as i32 at scale s_in * s_c. */
static int quantize_bias(qstate *Q, int b, int64_t C, float beta, float s_in, const float *s_w) {
    tb_graph *g = Q->g;
    const float *x = g->values[b].data;
    int64_t nb = tb_value_numel(&g->values[b]);
    int32_t *q = tb_alloc(g->pool, (size_t)C * sizeof *q);
    for (int64_t c = 0; c < C; c++) {
        double v = nearbyint((double)x[nb == 1 ? 0 : c] * beta / ((double)s_in * s_w[c]));
        q[c] = (int32_t)(v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : v);
    }
    return tb_graph_add_const(g, unique_name(g, g->values[b].name, ".q"), TB_I32, 1, (int64_t[]){C}, q);
}

/* A constant operand of Add as its own per-tensor i8 constant; its
 * parameters go in the maps like an activation's. */
static void quantize_const_operand(qstate *Q, int v) {
    tb_graph *g = Q->g;
    const tb_value *c = &g->values[v];
    int64_t n = tb_value_numel(c);
    const float *x = c->data;
    double lo = 0, hi = 0;
    for (int64_t i = 0; i < n; i++) lo = fmin(lo, x[i]), hi = fmax(hi, x[i]);
    act_params(lo, hi, &Q->scale[v], &Q->zp[v]);
    int8_t *q = tb_alloc(g->pool, (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) q[i] = quantize_one(x[i], Q->scale[v], Q->zp[v], -128);
    int64_t dims[TB_MAX_RANK];
    memcpy(dims, c->dims, sizeof dims);
    int y = tb_graph_add_const(g, unique_name(g, Q->name[v], ".q"), TB_I8, c->rank, dims, q);
    mark_i8(Q, y, v);
    Q->qval[v] = y;
}

/* ---- choosing what runs in int8 ------------------------------------------------- */

static int is_activation(const tb_graph *g, const tb_calib_range *r, int v) {
    return v >= 0 && g->values[v].dtype == TB_F32 && !g->values[v].data && r[v].seen;
}

static int is_f32_const(const tb_graph *g, int v) { return v >= 0 && g->values[v].dtype == TB_F32 && g->values[v].data; }

static kind classify(const qstate *Q, const tb_node *n, const char *has_q) {
    const tb_graph *g = Q->g;
    const tb_calib_range *r = Q->range;
    const qops *o = &Q->op;
    if (n->n_outputs < 1 || !is_activation(g, r, n->outputs[0])) return K_FLOAT;
    int x = n->inputs[0];
    switch (n->op) {
    case TB_OP_CONV:
        if (!o->conv || !is_activation(g, r, x) || !is_f32_const(g, n->inputs[1])) return K_FLOAT;
        if (n->n_inputs > 2 && n->inputs[2] >= 0 && !is_f32_const(g, n->inputs[2])) return K_FLOAT;
        return K_CONV;
    case TB_OP_GEMM: {
        if (!o->gemm || !is_activation(g, r, x) || tb_node_int(n, "transA", 0) || !is_f32_const(g, n->inputs[1]) ||
            g->values[n->inputs[1]].rank != 2)
            return K_FLOAT;
        int64_t N = g->values[n->inputs[1]].dims[tb_node_int(n, "transB", 0) ? 0 : 1];
        if (n->n_inputs > 2 && n->inputs[2] >= 0) {
            const tb_value *c = &g->values[n->inputs[2]];
            int64_t nc = c->data ? tb_value_numel(c) : -1;
            if (!is_f32_const(g, n->inputs[2]) || (nc != 1 && nc != N) || (c->rank == 2 && c->dims[0] != 1)) return K_FLOAT;
        }
        return K_GEMM;
    }
    case TB_OP_MATMUL:
        if (!o->matmul || !is_activation(g, r, x) || g->values[x].rank < 2) return K_FLOAT;
        if (is_activation(g, r, n->inputs[1])) return K_MATMUL;
        return is_f32_const(g, n->inputs[1]) && g->values[n->inputs[1]].rank == 2 ? K_MATMUL : K_FLOAT;
    case TB_OP_ADD:
        if (!o->add) return K_FLOAT;
        for (int k = 0; k < 2; k++)
            if (!is_activation(g, r, n->inputs[k]) && !is_f32_const(g, n->inputs[k])) return K_FLOAT;
        return K_ADD;
    case TB_OP_CONCAT:
        if (!o->concat || 2 + 3 * n->n_inputs > TB_MAX_IO) return K_FLOAT;
        for (int k = 0; k < n->n_inputs; k++)
            if (!is_activation(g, r, n->inputs[k])) return K_FLOAT;
        return K_CONCAT;
    case TB_OP_GLOBALAVGPOOL: return o->gap && is_activation(g, r, x) ? K_GAP : K_FLOAT;
    case TB_OP_AVGPOOL: return o->avgpool && is_activation(g, r, x) ? K_AVGPOOL : K_FLOAT;
    case TB_OP_SIGMOID: return o->sigmoid && is_activation(g, r, x) ? K_SIGMOID : K_FLOAT;
    case TB_OP_MAXPOOL:
        if (n->n_outputs != 1) return K_FLOAT;
        /* fall through */
    case TB_OP_RESHAPE: case TB_OP_FLATTEN: case TB_OP_TRANSPOSE: case TB_OP_SQUEEZE: case TB_OP_UNSQUEEZE:
        return x >= 0 && has_q[x] ? K_MOVE : K_FLOAT;
    default: return K_FLOAT;
    }
}

static int fusable_producer(kind k) { return k == K_CONV || k == K_GEMM || k == K_MATMUL || k == K_ADD; }

/* ---- the pass -------------------------------------------------------------------- */

static int rewrite_node(qstate *Q, const tb_node *o, kind k, int fused_out, float lo, float hi) {
    tb_graph *g = Q->g;
    int v = o->outputs[0], out = fused_out >= 0 ? fused_out : v;
    int in[TB_MAX_IO], n_in = 0, node, xs, xz, ys, yz;
    int x = o->inputs[0];
    if (k == K_MOVE) {
        int xq;
        if (get_q(Q, x, &xq)) return 1;
        for (int i = 0; i < o->n_inputs; i++) in[i] = i ? o->inputs[i] : xq;
        Q->scale[v] = Q->scale[x];
        Q->zp[v] = Q->zp[x];
        Q->scale_c[v] = Q->scale_c[x];
        Q->zp_c[v] = Q->zp_c[x];
        int y = emit(Q, o->op, o->name, o->n_inputs, in, o, &node);
        if (infer(Q, node)) return 1;
        take_output(Q, y, v);
        return 0;
    }
    set_calibrated_params(Q, out);
    qconsts(Q, out, &ys, &yz);
    tb_op op = TB_OP_NONE;
    if (k == K_CONCAT) {
        op = Q->op.concat;
        in[n_in++] = ys;
        in[n_in++] = yz;
        for (int i = 0; i < o->n_inputs; i++) {
            if (get_q(Q, o->inputs[i], &in[n_in])) return 1;
            qconsts(Q, o->inputs[i], &in[n_in + 1], &in[n_in + 2]);
            n_in += 3;
        }
    } else if (k == K_ADD) {
        op = Q->op.add;
        for (int i = 0; i < 2; i++) {
            int a = o->inputs[i];
            if (g->values[a].data) {
                if (Q->qval[a] < 0) quantize_const_operand(Q, a);
            }
            if (get_q(Q, a, &in[n_in])) return 1;
            qconsts(Q, a, &in[n_in + 1], &in[n_in + 2]);
            n_in += 3;
        }
        in[n_in++] = ys;
        in[n_in++] = yz;
    } else {
        int xq;
        if (get_q(Q, x, &xq)) return 1;
        qconsts(Q, x, &xs, &xz);
        in[n_in++] = xq;
        in[n_in++] = xs;
        in[n_in++] = xz;
        if (k == K_CONV || k == K_GEMM || k == K_MATMUL) {
            int w = o->inputs[1], wq, ws, wz;
            float *sw = NULL;
            const tb_value *W = &g->values[w];
            if (k == K_MATMUL && !W->data) {
                if (get_q(Q, w, &wq)) return 1;
                qconsts(Q, w, &ws, &wz);
            } else if (k == K_CONV) {
                int64_t inner = tb_value_numel(W) / (W->dims[0] ? W->dims[0] : 1);
                quantize_weight(Q, w, W->dims[0], inner ? inner : 1, 1.0f, &wq, &ws, &wz, &sw);
            } else if (k == K_GEMM && tb_node_int(o, "transB", 0)) {
                quantize_weight(Q, w, W->dims[0], W->dims[1], tb_node_float(o, "alpha", 1.0f), &wq, &ws, &wz, &sw);
            } else { /* B [K, N]: one channel per column */
                float alpha = k == K_GEMM ? tb_node_float(o, "alpha", 1.0f) : 1.0f;
                quantize_weight(Q, w, W->dims[1], 1, alpha, &wq, &ws, &wz, &sw);
            }
            in[n_in++] = wq;
            in[n_in++] = ws;
            in[n_in++] = wz;
            W = &g->values[w]; /* the constants just added may have moved the values */
            int b = o->n_inputs > 2 ? o->inputs[2] : -1;
            if (k == K_CONV) {
                op = Q->op.conv;
                in[n_in++] = ys;
                in[n_in++] = yz;
                if (b >= 0) in[n_in++] = quantize_bias(Q, b, W->dims[0], 1.0f, Q->scale[x], sw);
            } else if (k == K_GEMM) {
                op = Q->op.gemm;
                int64_t N = W->dims[tb_node_int(o, "transB", 0) ? 0 : 1];
                in[n_in++] = b >= 0 ? quantize_bias(Q, b, N, tb_node_float(o, "beta", 1.0f), Q->scale[x], sw) : -1;
                in[n_in++] = ys;
                in[n_in++] = yz;
            } else {
                op = Q->op.matmul;
                in[n_in++] = ys;
                in[n_in++] = yz;
            }
        } else {
            op = k == K_GAP ? Q->op.gap : k == K_AVGPOOL ? Q->op.avgpool : Q->op.sigmoid;
            in[n_in++] = ys;
            in[n_in++] = yz;
        }
    }
    int y = emit(Q, op, o->name, n_in, in, k == K_SIGMOID || k == K_ADD || k == K_MATMUL ? NULL : o, &node);
    if (k == K_GEMM) {
        tb_node_remove_attr(g, node, "alpha");
        tb_node_remove_attr(g, node, "beta");
        tb_node_remove_attr(g, node, "transA");
    }
    if (fusable_producer(k)) {
        float old_lo = tb_node_float(o, "clip_min", -INFINITY), old_hi = tb_node_float(o, "clip_max", INFINITY);
        if (old_lo > lo) lo = old_lo;
        if (old_hi < hi) hi = old_hi;
        if (lo > -FLT_MAX) tb_node_set_float(g, node, "clip_min", lo);
        if (hi < FLT_MAX) tb_node_set_float(g, node, "clip_max", hi);
    }
    if (infer(Q, node)) return 1;
    take_output(Q, y, out);
    return 0;
}

/* Appends old node o again, reading f32 forms. */
static int keep_float(qstate *Q, const tb_node *o) {
    tb_graph *g = Q->g;
    int in[TB_MAX_IO];
    for (int i = 0; i < o->n_inputs; i++) {
        in[i] = o->inputs[i];
        if (in[i] >= 0 && in[i] < Q->n_old && Q->fval[in[i]] != in[i] && get_f(Q, o->inputs[i], &in[i])) return 1;
    }
    int id = tb_graph_add_node(g, o->op, o->name, o->n_inputs, in, 0);
    tb_node *n = &g->nodes[id];
    n->n_attrs = o->n_attrs;
    n->attrs = o->attrs;
    n->n_outputs = o->n_outputs;
    for (int k = 0; k < o->n_outputs; k++) {
        n->outputs[k] = o->outputs[k];
        g->values[o->outputs[k]].producer = id;
    }
    return 0;
}

static int resolve_ops(qops *o, tb_error *err) {
    static const char *names[] = {"QuantizeLinear", "DequantizeLinear", "QLinearConv", "QGemm", "QLinearMatMul",
                                  "QLinearAdd", "QLinearConcat", "QLinearGlobalAveragePool", "QLinearAveragePool",
                                  "QLinearSigmoid"};
    tb_op *slot[] = {&o->quantize, &o->dequantize, &o->conv, &o->gemm, &o->matmul,
                     &o->add, &o->concat, &o->gap, &o->avgpool, &o->sigmoid};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) *slot[i] = tb_op_from_name(names[i], strlen(names[i]));
    if (!o->quantize || !o->dequantize)
        return tb_error_set(err, "quantize: this build has no QuantizeLinear/DequantizeLinear ops");
    return 0;
}

int tb_pass_quantize(tb_graph *g, tb_pass_context *ctx, tb_error *err) {
    const char *path = tb_pass_option(ctx, "calib", NULL);
    const char *method_name = tb_pass_option(ctx, "method", TB_CALIB_DEFAULT_METHOD);
    const char *io = tb_pass_option(ctx, "int8-io", "0");
    const char *stop = tb_pass_option(ctx, "stop", NULL);
    tb_calib_method method;
    if (!path) return tb_error_set(err, "quantize: needs calibration samples (option calib=FILE, tyboxc --calib FILE)");
    if (tb_calib_method_parse(method_name, &method))
        return tb_error_set(err, "quantize: unknown calibration method '%s' (minmax, percentile or mse)", method_name);
    if (strcmp(io, "0") && strcmp(io, "1")) return tb_error_set(err, "quantize: int8-io must be 0 or 1, not '%s'", io);
    qstate Q = {.g = g, .err = err, .int8_io = io[0] == '1', .n_old = g->n_values};
    if (resolve_ops(&Q.op, err)) return 1;

    int N = g->n_values, n_samples = 0;
    Q.range = calloc((size_t)N + 1, sizeof *Q.range);
    TB_ASSERT(Q.range);
    if (tb_calibrate(g, path, method, stderr, Q.range, &n_samples, err)) {
        free(Q.range);
        return 1;
    }
    Q.name = calloc((size_t)N + 1, sizeof *Q.name);
    Q.fval = malloc(((size_t)N + 1) * sizeof *Q.fval);
    Q.qval = malloc(((size_t)N + 1) * sizeof *Q.qval);
    Q.scale = calloc((size_t)N + 1, sizeof *Q.scale);
    Q.zp = calloc((size_t)N + 1, sizeof *Q.zp);
    Q.scale_c = malloc(((size_t)N + 1) * sizeof *Q.scale_c);
    Q.zp_c = malloc(((size_t)N + 1) * sizeof *Q.zp_c);
    Q.wcache = calloc((size_t)N + 1, sizeof *Q.wcache);
    int n_old_nodes = g->n_nodes;
    tb_node *old = malloc(((size_t)n_old_nodes + 1) * sizeof *old);
    kind *kinds = calloc((size_t)n_old_nodes + 1, sizeof *kinds);
    int *fused_out = malloc(((size_t)n_old_nodes + 1) * sizeof *fused_out);
    float *clip_lo = malloc(((size_t)n_old_nodes + 1) * sizeof *clip_lo), *clip_hi = malloc(((size_t)n_old_nodes + 1) * sizeof *clip_hi);
    char *has_q = calloc((size_t)N + 1, 1);
    TB_ASSERT(Q.wcache && Q.name && Q.fval && Q.qval && Q.scale && Q.zp && Q.scale_c && Q.zp_c && old && kinds && fused_out && clip_lo &&
              clip_hi && has_q);
    for (int v = 0; v < N; v++) {
        Q.name[v] = g->values[v].name;
        Q.fval[v] = v;
        Q.qval[v] = Q.scale_c[v] = Q.zp_c[v] = -1;
    }
    for (int k = 0; Q.int8_io && k < g->n_inputs; k++) has_q[g->inputs[k]] = 1;

    /* stop=NAME: what is computed from value NAME stays float (the
     * trainable tail reads a dequantized feature vector). */
    int rc = 0;
    char *after = calloc((size_t)N + 1, 1);
    TB_ASSERT(after);
    if (stop) {
        int sv = tb_graph_find_value(g, stop);
        if (sv < 0) rc = tb_error_set(err, "quantize: stop=%s names no value of the graph", stop);
        else after[sv] = 1;
    }

    /* Decide every node first: fusing a Relu needs the graph as it was. */
    for (int i = 0; i < n_old_nodes && !rc; i++) {
        tb_node *n = &g->nodes[i];
        fused_out[i] = -1;
        clip_lo[i] = -INFINITY;
        clip_hi[i] = INFINITY;
        if (n->dead || kinds[i] == K_FUSED) continue;
        int downstream = 0;
        for (int k = 0; k < n->n_inputs; k++) downstream |= n->inputs[k] >= 0 && after[n->inputs[k]];
        if (downstream) {
            for (int k = 0; k < n->n_outputs; k++) after[n->outputs[k]] = 1;
            kinds[i] = K_FLOAT;
            continue;
        }
        kinds[i] = classify(&Q, n, has_q);
        if (kinds[i] == K_FLOAT) continue;
        int user = fusable_producer(kinds[i]) ? tb_value_single_user(g, n->outputs[0]) : -1;
        if (user > i) {
            tb_node *a = &g->nodes[user];
            int dynamic = a->op != TB_OP_RELU && a->op != TB_OP_CLIP;
            for (int k = 1; !dynamic && k < a->n_inputs; k++)
                if (a->inputs[k] >= 0 && !g->values[a->inputs[k]].data) dynamic = 1;
            if (!dynamic && is_activation(g, Q.range, a->outputs[0])) {
                float lo = 0, hi = INFINITY;
                if (a->op == TB_OP_CLIP && (rc = tb_clip_resolve(g, user, &lo, &hi, err))) break;
                kinds[user] = K_FUSED;
                fused_out[i] = a->outputs[0];
                clip_lo[i] = lo;
                clip_hi[i] = hi;
            }
        }
        has_q[fused_out[i] >= 0 ? fused_out[i] : n->outputs[0]] = 1;
    }

    /* With int8-io the inputs become i8 themselves. */
    for (int k = 0; !rc && Q.int8_io && k < g->n_inputs; k++) {
        int x = g->inputs[k];
        set_calibrated_params(&Q, x);
        g->values[x].dtype = TB_I8;
        mark_i8(&Q, x, x);
        Q.qval[x] = x;
        Q.fval[x] = -1;
    }

    /* Rebuild the node list in order. */
    if (!rc) {
        memcpy(old, g->nodes, (size_t)n_old_nodes * sizeof *old);
        g->n_nodes = 0;
    }
    int n_float = 0;
    for (int i = 0; i < n_old_nodes && !rc; i++) {
        const tb_node *o = &old[i];
        if (o->dead || kinds[i] == K_FUSED) continue;
        if (kinds[i] == K_FLOAT) {
            rc = keep_float(&Q, o);
            for (int k = 0; k < o->n_outputs; k++) n_float += k == 0 && g->values[o->outputs[k]].dtype == TB_F32;
        } else {
            rc = rewrite_node(&Q, o, kinds[i], fused_out[i], clip_lo[i], clip_hi[i]);
        }
    }
    /* Graph outputs: f32 by default, i8 with int8-io; the returned value
     * keeps the output's name. */
    for (int k = 0; k < g->n_outputs && !rc; k++) {
        int v = g->outputs[k], y = v;
        if (v >= N || g->values[v].data) continue;
        if (Q.int8_io && (Q.qval[v] >= 0 || is_activation(g, Q.range, v))) {
            rc = get_q(&Q, v, &y);
        } else if (Q.fval[v] != v) {
            rc = get_f(&Q, v, &y);
        }
        if (!rc && y != v && strcmp(g->values[y].name, Q.name[v])) {
            const char *tmp = g->values[y].name;
            g->values[y].name = Q.name[v];
            g->values[v].name = tmp;
            /* With int8-io a float producer's value stays in use: say so. */
            if (Q.int8_io) g->values[v].name = unique_name(g, Q.name[v], ".f32");
        }
        g->outputs[k] = y;
    }
    if (!rc && ctx->report) {
        fprintf(ctx->report, "quantize: calibrated on %d samples (%s)\n", n_samples, method_name);
        if (!n_float) {
            fprintf(ctx->report, "quantize: every op runs in int8\n");
        } else {
            fprintf(ctx->report, "quantize: %d op%s run%s in float:", n_float, n_float == 1 ? "" : "s", n_float == 1 ? "s" : "");
            int first = 1;
            for (int i = 0; i < n_old_nodes; i++)
                if (!old[i].dead && kinds[i] == K_FLOAT && old[i].n_outputs && g->values[old[i].outputs[0]].dtype == TB_F32) {
                    fprintf(ctx->report, "%s %s '%s'", first ? "" : ",", tb_op_name(old[i].op), old[i].name);
                    first = 0;
                }
            fputc('\n', ctx->report);
        }
    }
    free(Q.range);
    free(Q.name);
    free(Q.fval);
    free(Q.qval);
    free(Q.scale);
    free(Q.zp);
    free(Q.scale_c);
    free(Q.zp_c);
    free(Q.wcache);
    free(old);
    free(kinds);
    free(fused_out);
    free(clip_lo);
    free(clip_hi);
    free(has_q);
    free(after);
    return rc;
}
