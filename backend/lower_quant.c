/* lower_quant.c - lowering of the quantized ops (issue 5): QuantizeLinear,
 * DequantizeLinear, QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger,
 * the com.microsoft QGemm, QLinearAdd, QLinearConcat, QLinearGlobalAveragePool,
 * QLinearAveragePool, QLinearSigmoid, and MaxPool on int8 / uint8.
 *
 * Scales and zero points are read from the constant operands (never from
 * tb_value.scale / zero_point). Everything the integer kernels need that
 * takes float arithmetic is computed here, at compile time, and stored as a
 * derived constant of the node's output (tb_graph_derived_const):
 *   "<y>.rq"   int32 [channels][2]: requantization {multiplier, shift}
 *   "<y>.lut"  uint8 [256]: QLinearSigmoid's table
 *   "<y>.fold" int32 [c_out]: QLinearConv's bias with the x zero point folded
 *              in, for tb_qconv's int8 fast path (fold_x_zero)
 * A real multiplier M = f * 2^e (frexp, f in [0.5, 1)) becomes m =
 * round(f * 2^31) (2^31 rounds to 2^30 with e + 1) and shift = e; shifts
 * outside [-31, 30] are an error. A fused Relu / Clip (clip_min / clip_max)
 * becomes the output clamp round(clip / s_y) + z_y within the dtype's range.
 */
#include "lower.h"
#include "shape.h"

#include <math.h>
#include <string.h>

#define MAX_CHANNELS (1 << 20)

static tb_value *in_val(tb_graph *g, tb_node *n, int i) {
    return i < n->n_inputs && n->inputs[i] >= 0 ? &g->values[n->inputs[i]] : NULL;
}
static int input_or_none(tb_node *n, int i) { return i >= 0 && i < n->n_inputs ? n->inputs[i] : -1; }

/* add_call, set_args and prod are lower.c's (lower.h). */
#define add_call tb_lower_add_call
#define set_args tb_lower_set_args
#define prod tb_lower_prod

/* ---- constant operands -------------------------------------------------- */

/* The f32 scale at input i: its values (count 1, or one per channel). */
static int read_scale(tb_graph *g, tb_node *n, int i, const float **s, int64_t *count, tb_error *err) {
    tb_value *v = in_val(g, n, i);
    if (!v) return tb_node_error(err, n, "input %d (scale) is missing", i);
    if (!v->data) return tb_node_error(err, n, "input %d (scale) must be a constant", i);
    if (v->dtype != TB_F32) return tb_node_error(err, n, "input %d (scale) must be f32", i);
    *s = v->data;
    *count = tb_value_numel(v);
    for (int64_t k = 0; k < *count; k++)
        if (!((*s)[k] > 0) || isinf((*s)[k]))
            return tb_node_error(err, n, "input %d (scale) holds %g; scales must be positive and finite", i,
                                 (double)(*s)[k]);
    return 0;
}

/* The zero point at input i as int32 values (absent: 0); *uniform = 1 when
 * all are equal (per-tensor in effect). */
static int read_zero(tb_graph *g, tb_node *n, int i, int32_t *z, int *uniform, tb_error *err) {
    tb_value *v = in_val(g, n, i);
    *z = 0;
    if (uniform) *uniform = 1;
    if (!v) return 0;
    if (!v->data) return tb_node_error(err, n, "input %d (zero point) must be a constant", i);
    int64_t cnt = tb_value_numel(v);
    for (int64_t k = 0; k < cnt; k++) {
        int32_t x = v->dtype == TB_U8 ? ((const uint8_t *)v->data)[k]
                    : v->dtype == TB_I8 ? ((const int8_t *)v->data)[k]
                                        : ((const int32_t *)v->data)[k];
        if (k == 0) *z = x;
        else if (x != *z && uniform) *uniform = 0;
    }
    return 0;
}

/* A per-tensor zero point; per-channel ones must all be equal (the kernels
 * take one value). */
static int read_zero_scalar(tb_graph *g, tb_node *n, int i, int32_t *z, tb_error *err) {
    int uniform;
    if (read_zero(g, n, i, z, &uniform, err)) return 1;
    if (!uniform)
        return tb_node_error(err, n, "input %d: zero points that differ per channel are not supported", i);
    return 0;
}

/* M -> {multiplier, shift} (see the top comment). */
static int to_multiplier(tb_node *n, double M, int32_t *rq, tb_error *err) {
    if (!(M > 0) || isinf(M)) return tb_node_error(err, n, "requantization multiplier %g is not positive", M);
    int e;
    double f = frexp(M, &e);
    int64_t m = (int64_t)llround(f * 2147483648.0);
    if (m == (INT64_C(1) << 31)) {
        m /= 2;
        e++;
    }
    if (e < -31 || e > 30)
        return tb_node_error(err, n, "requantization multiplier %g is out of range (shift %d outside [-31, 30])", M,
                             e);
    rq[0] = (int32_t)m;
    rq[1] = e;
    return 0;
}

static int32_t dtype_min(tb_dtype t) { return t == TB_U8 ? 0 : -128; }
static int32_t dtype_max(tb_dtype t) { return t == TB_U8 ? 255 : 127; }

/* The output clamp: the dtype's range narrowed by a fused clip_min / clip_max. */
static void act_range(tb_node *n, tb_dtype t, double s_y, int32_t z_y, int32_t *lo, int32_t *hi) {
    float cmin = tb_node_float(n, "clip_min", -INFINITY), cmax = tb_node_float(n, "clip_max", INFINITY);
    *lo = dtype_min(t);
    *hi = dtype_max(t);
    if (cmin > -INFINITY) {
        double q = z_y + round((double)cmin / s_y);
        if (q > *lo) *lo = q > *hi ? *hi : (int32_t)q;
    }
    if (cmax < INFINITY) {
        double q = z_y + round((double)cmax / s_y);
        if (q < *hi) *hi = q < *lo ? *lo : (int32_t)q;
    }
}

/* "<y>.rq": one {multiplier, shift} per channel for M[c] = s_in * s_w[c] / s_out. */
static int requant_table(tb_graph *g, tb_node *n, double scale_in, const float *s_w, int64_t n_w, double s_out,
                         int *id, tb_error *err) {
    if (n_w > MAX_CHANNELS) return tb_node_error(err, n, "too many channels (%lld)", (long long)n_w);
    int32_t *rq = tb_alloc(g->pool, (size_t)n_w * 2 * sizeof *rq);
    for (int64_t c = 0; c < n_w; c++)
        if (to_multiplier(n, scale_in * (double)s_w[c] / s_out, rq + 2 * c, err)) return 1;
    *id = tb_graph_derived_const(g, n->outputs[0], "rq", TB_I32, 2, (int64_t[]){n_w, 2}, rq);
    return 0;
}

/* ---- QuantizeLinear / DequantizeLinear ------------------------------------ */

static int linear_quant(tb_graph *g, tb_node *n, tb_lowered *L, int dequant, tb_error *err) {
    tb_value *x = in_val(g, n, 0), *s = in_val(g, n, 1);
    tb_call *c = add_call(L, dequant ? TB_K_dequantize : TB_K_quantize);
    tb_qlinear_params *p = &c->p.quantize;
    int64_t ns = tb_value_numel(s);
    if (ns > 1) {
        int axis;
        if (tb_norm_axis(tb_node_int(n, "axis", 1), x->rank, &axis))
            return tb_node_error(err, n, "axis is out of range");
        p->outer = prod(x->dims, 0, axis);
        p->axis = (int32_t)x->dims[axis];
        p->inner = prod(x->dims, axis + 1, x->rank);
    } else {
        p->outer = 1;
        p->axis = 1;
        p->inner = prod(x->dims, 0, x->rank);
    }
    tb_value *q = dequant ? x : &g->values[n->outputs[0]];
    p->dtype = tb_dtype_onnx(q->dtype);
    /* Scale and zero point are pointers: they need not be constants here. */
    set_args(c, 4, (int[]){n->inputs[0], n->inputs[1], input_or_none(n, 2), n->outputs[0]});
    return 0;
}

int tb_lower_quantizelinear(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    return linear_quant(g, n, L, 0, err);
}
int tb_lower_dequantizelinear(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    return linear_quant(g, n, L, 1, err);
}

/* ---- convolution ---------------------------------------------------------- */

/* The int8 fast path of tb_qconv (see TB_QCONV_PARAMS), when x and w are
 * int8, w_zero is 0, the weights (and bias) are constants and the window
 * fits the kernel's buffer: *bias becomes "<y>.fold", int32 [c_out] =
 * bias[oc] - (x_zero + 128) * sum w[oc], if every entry leaves room in int32
 * for the kernel's sums of (x + 128) * w (|.| <= kk * 255 * 128). Returns 1
 * when it applies. */
static int fold_x_zero(tb_graph *g, tb_node *n, const tb_qconv_params *p, const tb_value *w, const tb_value *b,
                       int *bias) {
    int64_t kk = (int64_t)(p->c_in / p->group) * p->k_h * p->k_w;
    if (p->x_dtype != 3 || p->w_dtype != 3 || p->w_zero != 0 || p->y_dtype == 6 || !w->data ||
        kk > TB_QCONV_FOLD_MAX_K || p->c_out > MAX_CHANNELS || (b && (!b->data || b->dtype != TB_I32)))
        return 0;
    int32_t *fold = tb_alloc(g->pool, (size_t)p->c_out * sizeof *fold);
    for (int32_t oc = 0; oc < p->c_out; oc++) {
        const int8_t *wo = (const int8_t *)w->data + oc * kk;
        int64_t sum = 0;
        for (int64_t k = 0; k < kk; k++) sum += wo[k];
        int64_t v = (b ? ((const int32_t *)b->data)[oc] : 0) - ((int64_t)p->x_zero + 128) * sum;
        if (v < INT32_MIN + kk * 255 * 128 || v > INT32_MAX - kk * 255 * 128) return 0;
        fold[oc] = (int32_t)v;
    }
    *bias = tb_graph_derived_const(g, n->outputs[0], "fold", TB_I32, 1, (int64_t[]){p->c_out}, fold);
    return 1;
}

/* xi/wi/bi: x, w, bias inputs; the zero points at xzi/wzi; scales (QLinearConv
 * only) at xsi, wsi, ysi with y's zero point at yzi; -1 when absent. */
static int conv(tb_graph *g, tb_node *n, tb_lowered *L, int xi, int xzi, int wi, int wzi, int bi, int xsi, int wsi,
                int ysi, int yzi, tb_error *err) {
    tb_value *x = in_val(g, n, xi), *w = in_val(g, n, wi), *y = &g->values[n->outputs[0]];
    tb_geometry q;
    if (tb_lower_geometry(n, x, y, &q, err)) return 1;
    tb_call *c = add_call(L, TB_K_qconv);
    tb_qconv_params *p = &c->p.qconv;
    p->n = (int32_t)x->dims[0];
    p->c_in = (int32_t)x->dims[1];
    p->c_out = (int32_t)w->dims[0];
    p->h_in = q.h_in, p->w_in = q.w_in, p->h_out = q.h_out, p->w_out = q.w_out;
    p->k_h = q.k_h, p->k_w = q.k_w, p->stride_h = q.s_h, p->stride_w = q.s_w;
    p->dil_h = q.d_h, p->dil_w = q.d_w, p->pad_top = q.pt, p->pad_left = q.pl;
    p->group = (int32_t)tb_node_int(n, "group", 1);
    p->x_dtype = tb_dtype_onnx(x->dtype);
    p->w_dtype = tb_dtype_onnx(w->dtype);
    p->y_dtype = tb_dtype_onnx(y->dtype);
    if (read_zero_scalar(g, n, xzi, &p->x_zero, err) || read_zero_scalar(g, n, wzi, &p->w_zero, err)) return 1;
    int rq = -1;
    if (ysi >= 0) {
        const float *xs, *ws, *ys;
        int64_t nx, nw, ny;
        if (read_scale(g, n, xsi, &xs, &nx, err) || read_scale(g, n, wsi, &ws, &nw, err) ||
            read_scale(g, n, ysi, &ys, &ny, err) || read_zero_scalar(g, n, yzi, &p->y_zero, err))
            return 1;
        if (requant_table(g, n, xs[0], ws, nw, ys[0], &rq, err)) return 1;
        p->per_channel = nw > 1;
        act_range(n, y->dtype, ys[0], p->y_zero, &p->act_min, &p->act_max);
    }
    int bias = input_or_none(n, bi);
    if (ysi >= 0 && fold_x_zero(g, n, p, w, in_val(g, n, bi), &bias)) p->folded = 1;
    set_args(c, 5, (int[]){n->inputs[xi], n->inputs[wi], bias, rq, n->outputs[0]});
    return 0;
}

int tb_lower_qlinearconv(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    return conv(g, n, L, 0, 2, 3, 5, 8, 1, 4, 6, 7, err);
}
int tb_lower_convinteger(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    return conv(g, n, L, 0, 2, 1, 3, -1, -1, -1, -1, -1, err);
}

/* ---- matrix products ---------------------------------------------------- */

/* The requantization of a product: scales at asi, bsi (per column allowed),
 * ysi; alpha multiplies M (QGemm). Sets rq, per_channel, y_zero, the clamp. */
static int product_requant(tb_graph *g, tb_node *n, tb_qmatmul_params *p, int asi, int bsi, int ysi, int yzi,
                           double alpha, int *rq, tb_error *err) {
    const float *as = NULL, *bs = NULL, *ys = NULL; /* set by read_scale; -O3 cannot tell */
    int64_t na, nb, ny;
    if (read_scale(g, n, asi, &as, &na, err) || read_scale(g, n, bsi, &bs, &nb, err) ||
        read_scale(g, n, ysi, &ys, &ny, err) || read_zero_scalar(g, n, yzi, &p->y_zero, err))
        return 1;
    if (!(alpha > 0)) return tb_node_error(err, n, "alpha %g must be positive", alpha);
    if (requant_table(g, n, alpha * as[0], bs, nb, ys[0], rq, err)) return 1;
    p->per_channel = nb > 1;
    act_range(n, g->values[n->outputs[0]].dtype, ys[0], p->y_zero, &p->act_min, &p->act_max);
    return 0;
}

/* QLinearMatMul and MatMulInteger: numpy matmul of a (ai) and b (bi). */
static int matmul(tb_graph *g, tb_node *n, tb_lowered *L, int ai, int azi, int bi, int bzi, int asi, int bsi, int ysi,
                  int yzi, tb_error *err) {
    tb_value *a = in_val(g, n, ai), *b = in_val(g, n, bi), *y = &g->values[n->outputs[0]];
    tb_matmul_params mm;
    tb_lower_matmul_dims(a, b, &mm);
    tb_call *c = add_call(L, TB_K_qmatmul);
    tb_qmatmul_params *p = &c->p.qmatmul;
    p->m = mm.m, p->n = mm.n, p->k = mm.k;
    p->batch_rank = mm.batch_rank;
    memcpy(p->batch_dims, mm.batch_dims, sizeof p->batch_dims);
    memcpy(p->a_batch_strides, mm.a_batch_strides, sizeof p->a_batch_strides);
    memcpy(p->b_batch_strides, mm.b_batch_strides, sizeof p->b_batch_strides);
    p->a_stride_m = p->k, p->a_stride_k = 1, p->b_stride_k = p->n, p->b_stride_n = 1;
    p->a_dtype = tb_dtype_onnx(a->dtype);
    p->b_dtype = tb_dtype_onnx(b->dtype);
    p->y_dtype = tb_dtype_onnx(y->dtype);
    if (read_zero_scalar(g, n, azi, &p->a_zero, err) || read_zero_scalar(g, n, bzi, &p->b_zero, err)) return 1;
    int rq = -1;
    if (ysi >= 0 && product_requant(g, n, p, asi, bsi, ysi, yzi, 1.0, &rq, err)) return 1;
    set_args(c, 5, (int[]){n->inputs[ai], n->inputs[bi], -1, rq, n->outputs[0]});
    return 0;
}

int tb_lower_qlinearmatmul(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    return matmul(g, n, L, 0, 2, 3, 5, 1, 4, 6, 7, err);
}
int tb_lower_matmulinteger(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    return matmul(g, n, L, 0, 2, 1, 3, -1, -1, -1, -1, err);
}

int tb_lower_qgemm(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_value *a = in_val(g, n, 0), *b = in_val(g, n, 3), *cv = in_val(g, n, 6), *y = &g->values[n->outputs[0]];
    int ta = (int)tb_node_int(n, "transA", 0), tbt = (int)tb_node_int(n, "transB", 0);
    tb_call *c = add_call(L, TB_K_qmatmul);
    tb_qmatmul_params *p = &c->p.qmatmul;
    p->m = (int32_t)y->dims[0];
    p->n = (int32_t)y->dims[1];
    p->k = (int32_t)a->dims[ta ? 0 : 1];
    /* A is [M, K] or (transA) [K, M]; B is [K, N] or (transB) [N, K]. */
    p->a_stride_m = ta ? 1 : p->k, p->a_stride_k = ta ? p->m : 1;
    p->b_stride_k = tbt ? 1 : p->n, p->b_stride_n = tbt ? p->k : 1;
    if (cv) {
        int32_t s[2];
        tb_broadcast_strides(cv->rank, cv->dims, 2, y->dims, s);
        p->c_stride_m = s[0], p->c_stride_n = s[1];
    }
    p->a_dtype = tb_dtype_onnx(a->dtype);
    p->b_dtype = tb_dtype_onnx(b->dtype);
    p->y_dtype = tb_dtype_onnx(y->dtype);
    int rq;
    if (read_zero_scalar(g, n, 2, &p->a_zero, err) || read_zero_scalar(g, n, 5, &p->b_zero, err) ||
        product_requant(g, n, p, 1, 4, 7, 8, tb_node_float(n, "alpha", 1.0f), &rq, err))
        return 1;
    set_args(c, 5, (int[]){n->inputs[0], n->inputs[3], input_or_none(n, 6), rq, n->outputs[0]});
    return 0;
}

/* ---- elementwise ---------------------------------------------------------- */

/* TFLite's scheme (see TB_QADD_PARAMS): inputs centred and shifted left by
 * 20 bits, rescaled to 2 max(s_a, s_b), summed, rescaled to s_y. */
int tb_lower_qlinearadd(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_value *a = in_val(g, n, 0), *b = in_val(g, n, 3), *y = &g->values[n->outputs[0]];
    const float *sa = NULL, *sb = NULL, *sy = NULL;
    int64_t k1, k2, k3;
    tb_call *c = add_call(L, TB_K_qadd);
    tb_qadd_params *p = &c->p.qadd;
    if (read_scale(g, n, 1, &sa, &k1, err) || read_scale(g, n, 4, &sb, &k2, err) ||
        read_scale(g, n, 6, &sy, &k3, err) || read_zero_scalar(g, n, 2, &p->a_zero, err) ||
        read_zero_scalar(g, n, 5, &p->b_zero, err) || read_zero_scalar(g, n, 7, &p->y_zero, err))
        return 1;
    double twice = 2.0 * ((double)sa[0] > (double)sb[0] ? (double)sa[0] : (double)sb[0]);
    p->left_shift = 20;
    if (to_multiplier(n, (double)sa[0] / twice, &p->a_mult, err) ||
        to_multiplier(n, (double)sb[0] / twice, &p->b_mult, err) ||
        to_multiplier(n, twice / ((double)(1 << p->left_shift) * (double)sy[0]), &p->y_mult, err))
        return 1;
    p->dtype = tb_dtype_onnx(y->dtype);
    p->count = prod(y->dims, 0, y->rank);
    p->rank = y->rank;
    for (int i = 0; i < y->rank; i++) p->dims[i] = (int32_t)y->dims[i];
    tb_broadcast_strides(a->rank, a->dims, y->rank, y->dims, p->a_strides);
    tb_broadcast_strides(b->rank, b->dims, y->rank, y->dims, p->b_strides);
    act_range(n, y->dtype, sy[0], p->y_zero, &p->act_min, &p->act_max);
    set_args(c, 3, (int[]){n->inputs[0], n->inputs[3], n->outputs[0]});
    return 0;
}

/* One call per input: a plain copy where its scale and zero point are the
 * output's, else a rescale into its slice of the output. */
int tb_lower_qlinearconcat(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_value *y = &g->values[n->outputs[0]];
    const float *sy;
    int64_t k;
    int32_t zy;
    int axis;
    if (read_scale(g, n, 0, &sy, &k, err) || read_zero_scalar(g, n, 1, &zy, err)) return 1;
    if (tb_norm_axis(tb_node_int(n, "axis", 0), y->rank, &axis)) return tb_node_error(err, n, "axis is out of range");
    int32_t outer = prod(y->dims, 0, axis), after = prod(y->dims, axis + 1, y->rank);
    int32_t y_inner = (int32_t)y->dims[axis] * after, offset = 0;
    for (int i = 2; i < n->n_inputs; i += 3) {
        tb_value *x = in_val(g, n, i);
        const float *sx;
        int32_t zx, inner = (int32_t)x->dims[axis] * after;
        if (read_scale(g, n, i + 1, &sx, &k, err) || read_zero_scalar(g, n, i + 2, &zx, err)) return 1;
        if (sx[0] == sy[0] && zx == zy) {
            tb_call *c = add_call(L, TB_K_copy);
            tb_copy_params *p = &c->p.copy;
            p->elem_size = 1;
            p->rank = 2;
            p->out_offset = offset;
            p->dims[0] = outer, p->dims[1] = inner;
            p->in_strides[0] = inner, p->in_strides[1] = 1;
            p->out_strides[0] = y_inner, p->out_strides[1] = 1;
            set_args(c, 2, (int[]){n->inputs[i], n->outputs[0]});
        } else {
            tb_call *c = add_call(L, TB_K_qrescale);
            tb_qrescale_params *p = &c->p.qrescale;
            p->dtype = tb_dtype_onnx(y->dtype);
            p->outer = outer, p->inner = inner, p->y_inner = y_inner, p->y_offset = offset;
            p->x_zero = zx, p->y_zero = zy;
            if (to_multiplier(n, (double)sx[0] / (double)sy[0], &p->mult, err)) return 1;
            set_args(c, 2, (int[]){n->inputs[i], n->outputs[0]});
        }
        offset += inner;
    }
    return 0;
}

/* ---- pooling -------------------------------------------------------------- */

static void pool_geometry(tb_qpool_params *p, const tb_value *x, const tb_geometry *q) {
    p->n = (int32_t)x->dims[0];
    p->c = (int32_t)x->dims[1];
    p->h_in = q->h_in, p->w_in = q->w_in, p->h_out = q->h_out, p->w_out = q->w_out;
    p->k_h = q->k_h, p->k_w = q->k_w, p->stride_h = q->s_h, p->stride_w = q->s_w;
    p->dil_h = q->d_h, p->dil_w = q->d_w, p->pad_top = q->pt, p->pad_left = q->pl;
    p->pad_bottom = q->pb, p->pad_right = q->pr;
    p->dtype = tb_dtype_onnx(x->dtype);
}

int tb_lower_qmaxpool(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_value *x = in_val(g, n, 0), *y = &g->values[n->outputs[0]];
    tb_geometry q;
    if (tb_lower_geometry(n, x, y, &q, err)) return 1;
    tb_call *c = add_call(L, TB_K_qmaxpool);
    pool_geometry(&c->p.qmaxpool, x, &q);
    set_args(c, 2, (int[]){n->inputs[0], n->outputs[0]});
    return 0;
}

/* Average of the window's cnt elements: requantized with s_x / (cnt s_y),
 * one table row per possible count (rq_first .. k_h k_w). */
static int avg_pool(tb_graph *g, tb_node *n, tb_lowered *L, const tb_geometry *q, int global, tb_error *err) {
    tb_value *x = in_val(g, n, 0);
    const float *sx, *sy;
    int64_t k;
    tb_call *c = add_call(L, TB_K_qavgpool);
    tb_qpool_params *p = &c->p.qavgpool;
    pool_geometry(p, x, q);
    p->count_include_pad = (int32_t)tb_node_int(n, "count_include_pad", 0);
    if (read_scale(g, n, 1, &sx, &k, err) || read_scale(g, n, 3, &sy, &k, err) ||
        read_zero_scalar(g, n, 2, &p->x_zero, err) || read_zero_scalar(g, n, 4, &p->y_zero, err))
        return 1;
    int64_t cmax = (int64_t)q->k_h * q->k_w;
    p->rq_first = global ? (int32_t)cmax : 1;
    int64_t rows = cmax - p->rq_first + 1;
    if (rows > MAX_CHANNELS) return tb_node_error(err, n, "pooling window of %lld elements is too large", (long long)cmax);
    int32_t *rq = tb_alloc(g->pool, (size_t)rows * 2 * sizeof *rq);
    for (int64_t r = 0; r < rows; r++)
        if (to_multiplier(n, (double)sx[0] / ((double)(p->rq_first + r) * (double)sy[0]), rq + 2 * r, err)) return 1;
    int id = tb_graph_derived_const(g, n->outputs[0], "rq", TB_I32, 2, (int64_t[]){rows, 2}, rq);
    set_args(c, 3, (int[]){n->inputs[0], id, n->outputs[0]});
    return 0;
}

int tb_lower_qlinearavgpool(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_geometry q;
    if (tb_lower_geometry(n, in_val(g, n, 0), &g->values[n->outputs[0]], &q, err)) return 1;
    return avg_pool(g, n, L, &q, 0, err);
}

int tb_lower_qlinearglobalavgpool(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_value *x = in_val(g, n, 0);
    int sp = x->rank - 2;
    int32_t h = sp == 2 ? (int32_t)x->dims[2] : 1, w = (int32_t)x->dims[x->rank - 1];
    /* one window over the whole plane */
    tb_geometry q = {h, w, 1, 1, h, w, 1, 1, 1, 1, 0, 0, 0, 0};
    return avg_pool(g, n, L, &q, 1, err);
}

/* ---- lookup tables ---------------------------------------------------------- */

/* "<y>.lut": y for each of the 256 input bytes, sigmoid of the dequantized
 * input requantized to the output (in double; round half to even). */
int tb_lower_qlinearsigmoid(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_value *x = in_val(g, n, 0), *y = &g->values[n->outputs[0]];
    const float *sx, *sy;
    int64_t k;
    int32_t zx, zy;
    if (read_scale(g, n, 1, &sx, &k, err) || read_scale(g, n, 3, &sy, &k, err) ||
        read_zero_scalar(g, n, 2, &zx, err) || read_zero_scalar(g, n, 4, &zy, err))
        return 1;
    uint8_t table[256];
    for (int b = 0; b < 256; b++) {
        int32_t qx = x->dtype == TB_U8 ? b : (int32_t)(int8_t)(uint8_t)b;
        double real = (double)(qx - zx) * (double)sx[0];
        double v = nearbyint(1.0 / (1.0 + exp(-real)) / (double)sy[0]) + zy;
        v = v < dtype_min(y->dtype) ? dtype_min(y->dtype) : v > dtype_max(y->dtype) ? dtype_max(y->dtype) : v;
        table[b] = (uint8_t)(int32_t)v; /* int8 results as their byte pattern */
    }
    int id = tb_graph_derived_const(g, n->outputs[0], "lut", TB_U8, 1, (int64_t[]){256}, table);
    tb_call *c = add_call(L, TB_K_lut8);
    c->p.lut8.count = prod(x->dims, 0, x->rank);
    set_args(c, 3, (int[]){n->inputs[0], id, n->outputs[0]});
    return 0;
}
