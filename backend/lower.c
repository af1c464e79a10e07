/* lower.c - one lower_<stem> per op in ir/ops.def: node -> kernel calls.
 *
 * Requires shape inference to have run: attributes are canonical (explicit
 * pads, strides, dilations, kernel_shape) and every value has static dims.
 * Conv and Gemm may carry the fused clamp attributes clip_min / clip_max
 * (set by the fuse-activation pass).
 */
#include "lower.h"
#include "shape.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef int lower_fn(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err);

#define add_call tb_lower_add_call
#define set_args tb_lower_set_args
#define prod tb_lower_prod

tb_call *tb_lower_add_call(tb_lowered *L, tb_kernel k) {
    TB_ASSERT(L->n_calls < TB_LOWER_MAX_CALLS);
    tb_call *c = &L->calls[L->n_calls++];
    memset(c, 0, sizeof *c);
    c->kernel = k;
    return c;
}

void tb_lower_set_args(tb_call *c, int n, const int *ids) {
    c->n_args = n;
    for (int i = 0; i < n; i++) c->args[i] = ids[i];
}

static tb_value *in_val(tb_graph *g, tb_node *n, int i) { return &g->values[n->inputs[i]]; }
static tb_value *out_val(tb_graph *g, tb_node *n, int i) { return &g->values[n->outputs[i]]; }
static int input_or_none(tb_node *n, int i) { return i < n->n_inputs ? n->inputs[i] : -1; }

int32_t tb_lower_prod(const int64_t *d, int from, int to) {
    int64_t p = 1;
    for (int i = from; i < to; i++) p *= d[i];
    return (int32_t)p;
}

/* Row-major strides of dims, in elements. */
static void strides_of(int rank, const int64_t *dims, int64_t *s) {
    int64_t acc = 1;
    for (int i = rank - 1; i >= 0; i--) {
        s[i] = acc;
        acc *= dims[i];
    }
}

void tb_broadcast_strides(int r, const int64_t *dims, int ro, const int64_t *odims, int32_t *out) {
    int64_t s[TB_MAX_RANK];
    strides_of(r, dims, s);
    for (int i = 0; i < ro; i++) {
        int j = i - (ro - r);
        out[i] = (j < 0 || (dims[j] == 1 && odims[i] != 1)) ? 0 : (int32_t)s[j];
    }
}

static void clip_attrs(tb_node *n, float *lo, float *hi) {
    *lo = tb_node_float(n, "clip_min", -INFINITY);
    *hi = tb_node_float(n, "clip_max", INFINITY);
}

static int need_f32(tb_node *n, tb_value *v, tb_error *err) {
    if (v->dtype == TB_F32) return 0;
    return tb_node_error(err, n, "dtype %s is not supported (only f32)", tb_dtype_name(v->dtype));
}

/* ---- convolution, dense, pooling ---------------------------------------- */

int tb_lower_geometry(tb_node *n, const tb_value *x, const tb_value *y, tb_geometry *g, tb_error *err) {
    int sp = x->rank - 2;
    if (sp != 1 && sp != 2) return tb_node_error(err, n, "only 1-D and 2-D spatial inputs are supported");
    int64_t k[2], s[2], d[2], p[4];
    if (tb_node_ints(n, "kernel_shape", k, 2) != sp || tb_node_ints(n, "strides", s, 2) != sp ||
        tb_node_ints(n, "dilations", d, 2) != sp || tb_node_ints(n, "pads", p, 4) != 2 * sp)
        return tb_node_error(err, n, "attributes are not canonical (run shape inference first)");
    if (sp == 1) {
        *g = (tb_geometry){1, (int32_t)x->dims[2], 1, (int32_t)y->dims[2], 1, (int32_t)k[0], 1, (int32_t)s[0],
                        1, (int32_t)d[0], 0, (int32_t)p[0], 0, (int32_t)p[1]};
    } else {
        *g = (tb_geometry){(int32_t)x->dims[2], (int32_t)x->dims[3], (int32_t)y->dims[2], (int32_t)y->dims[3],
                        (int32_t)k[0], (int32_t)k[1], (int32_t)s[0], (int32_t)s[1], (int32_t)d[0], (int32_t)d[1],
                        (int32_t)p[0], (int32_t)p[1], (int32_t)p[2], (int32_t)p[3]};
    }
    return 0;
}

static int lower_conv(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_value *x = in_val(g, n, 0), *y = out_val(g, n, 0), *w = in_val(g, n, 1);
    tb_geometry q;
    if (need_f32(n, x, err) || tb_lower_geometry(n, x, y, &q, err)) return 1;
    tb_call *c = add_call(L, TB_K_conv);
    tb_conv_params *p = &c->p.conv;
    p->n = (int32_t)x->dims[0];
    p->c_in = (int32_t)x->dims[1];
    p->c_out = (int32_t)w->dims[0];
    p->h_in = q.h_in, p->w_in = q.w_in, p->h_out = q.h_out, p->w_out = q.w_out;
    p->k_h = q.k_h, p->k_w = q.k_w, p->stride_h = q.s_h, p->stride_w = q.s_w;
    p->dil_h = q.d_h, p->dil_w = q.d_w, p->pad_top = q.pt, p->pad_left = q.pl;
    p->group = (int32_t)tb_node_int(n, "group", 1);
    clip_attrs(n, &p->act_min, &p->act_max);
    set_args(c, 4, (int[]){n->inputs[0], n->inputs[1], input_or_none(n, 2), n->outputs[0]});
    return 0;
}

static int lower_pool(tb_graph *g, tb_node *n, tb_lowered *L, tb_kernel k, tb_error *err) {
    tb_value *x = in_val(g, n, 0), *y = out_val(g, n, 0);
    tb_geometry q;
    if (need_f32(n, x, err) || tb_lower_geometry(n, x, y, &q, err)) return 1;
    tb_call *c = add_call(L, k);
    tb_pool_params *p = &c->p.maxpool;
    p->n = (int32_t)x->dims[0];
    p->c = (int32_t)x->dims[1];
    p->h_in = q.h_in, p->w_in = q.w_in, p->h_out = q.h_out, p->w_out = q.w_out;
    p->k_h = q.k_h, p->k_w = q.k_w, p->stride_h = q.s_h, p->stride_w = q.s_w;
    p->dil_h = q.d_h, p->dil_w = q.d_w, p->pad_top = q.pt, p->pad_left = q.pl;
    /* With ceil_mode the last window may hang past the end pad: the kernels
     * clip every window to the padded extent, as ONNX and torch do. */
    p->pad_bottom = q.pb, p->pad_right = q.pr;
    p->count_include_pad = (int32_t)tb_node_int(n, "count_include_pad", 0);
    set_args(c, 2, (int[]){n->inputs[0], n->outputs[0]});
    return 0;
}

static int lower_maxpool(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_value *x = in_val(g, n, 0);
    if (x->dtype == TB_I8 || x->dtype == TB_U8) return tb_lower_qmaxpool(g, n, L, err);
    return lower_pool(g, n, L, TB_K_maxpool, err);
}
static int lower_avgpool(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    return lower_pool(g, n, L, TB_K_avgpool, err);
}

/* A constant transB operand (fully connected layers: weights [n,k]) is
 * transposed here, once, into a derived constant [k,n] that the blocked GEMM
 * reads in place, so the generated code never transposes it at run time.
 * The original weights are then read by no call and not emitted. Returns the
 * B operand the call takes (trans_b cleared when it is the transposed copy). */
static int gemm_weights_kn(tb_graph *g, tb_node *n, tb_gemm_params *p) {
    int id = n->inputs[1];
    tb_value *b = &g->values[id];
    if (!p->trans_b || b->dtype != TB_F32 || b->rank != 2 || !b->data || b->producer >= 0 ||
        tb_value_is_graph_input(g, id))
        return id;
    const int64_t rows = b->dims[0], cols = b->dims[1]; /* n, k */
    float *t = malloc((size_t)(rows * cols > 0 ? rows * cols : 1) * sizeof *t);
    if (!t) tb_die(__FILE__, __LINE__, "out of memory");
    const float *src = b->data;
    for (int64_t j = 0; j < rows; j++)
        for (int64_t k = 0; k < cols; k++) t[k * rows + j] = src[j * cols + k];
    int kn = tb_graph_derived_const(g, id, "kn", TB_F32, 2, (int64_t[]){cols, rows}, t);
    free(t);
    p->trans_b = 0;
    return kn;
}

static int lower_gemm(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_value *a = in_val(g, n, 0), *y = out_val(g, n, 0);
    if (need_f32(n, a, err)) return 1;
    tb_call *c = add_call(L, TB_K_gemm);
    tb_gemm_params *p = &c->p.gemm;
    p->trans_a = (int32_t)tb_node_int(n, "transA", 0);
    p->trans_b = (int32_t)tb_node_int(n, "transB", 0);
    p->m = (int32_t)y->dims[0];
    p->n = (int32_t)y->dims[1];
    p->k = (int32_t)(p->trans_a ? a->dims[0] : a->dims[1]);
    p->alpha = tb_node_float(n, "alpha", 1.0f);
    p->beta = tb_node_float(n, "beta", 1.0f);
    int cid = input_or_none(n, 2);
    if (cid >= 0) {
        tb_value *cv = &g->values[cid];
        int32_t s[2];
        tb_broadcast_strides(cv->rank, cv->dims, 2, y->dims, s);
        p->c_stride_m = s[0], p->c_stride_n = s[1];
    }
    clip_attrs(n, &p->act_min, &p->act_max);
    int bid = p->trans_a ? n->inputs[1] : gemm_weights_kn(g, n, p);
    set_args(c, 4, (int[]){n->inputs[0], bid, cid, n->outputs[0]});
    return 0;
}

void tb_lower_matmul_dims(const tb_value *a, const tb_value *b, tb_matmul_params *p) {
    /* numpy matmul: a 1-D operand gains a unit dim (prepended for a, appended
     * for b) that the output then drops. */
    int ra = a->rank, rb = b->rank;
    int64_t da[TB_MAX_RANK + 1], db[TB_MAX_RANK + 1];
    if (ra == 1) { da[0] = 1; da[1] = a->dims[0]; ra = 2; } else memcpy(da, a->dims, sizeof a->dims);
    if (rb == 1) { db[0] = b->dims[0]; db[1] = 1; rb = 2; } else memcpy(db, b->dims, sizeof b->dims);
    memset(p, 0, sizeof *p);
    p->m = (int32_t)da[ra - 2];
    p->k = (int32_t)da[ra - 1];
    p->n = (int32_t)db[rb - 1];
    int br = (ra > rb ? ra : rb) - 2;
    int64_t bdims[TB_MAX_RANK] = {0};
    for (int i = 0; i < br; i++) {
        int ia = i - (br - (ra - 2)), ib = i - (br - (rb - 2));
        int64_t x = ia >= 0 ? da[ia] : 1, z = ib >= 0 ? db[ib] : 1;
        bdims[i] = x > z ? x : z;
    }
    p->batch_rank = br;
    for (int i = 0; i < br; i++) p->batch_dims[i] = (int32_t)bdims[i];
    /* Batch strides count whole matrices times the matrix size. */
    int32_t sa[TB_MAX_RANK], sb[TB_MAX_RANK];
    tb_broadcast_strides(ra - 2, da, br, bdims, sa);
    tb_broadcast_strides(rb - 2, db, br, bdims, sb);
    for (int i = 0; i < br; i++) {
        p->a_batch_strides[i] = sa[i] * p->m * p->k;
        p->b_batch_strides[i] = sb[i] * p->k * p->n;
    }
}

static int lower_matmul(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_value *a = in_val(g, n, 0), *b = in_val(g, n, 1);
    if (need_f32(n, a, err)) return 1;
    tb_call *c = add_call(L, TB_K_matmul);
    tb_lower_matmul_dims(a, b, &c->p.matmul);
    set_args(c, 3, (int[]){n->inputs[0], n->inputs[1], n->outputs[0]});
    return 0;
}

static int lower_batchnorm(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_value *x = in_val(g, n, 0);
    if (need_f32(n, x, err)) return 1;
    tb_call *c = add_call(L, TB_K_batchnorm);
    c->p.batchnorm.n = (int32_t)x->dims[0];
    c->p.batchnorm.c = x->rank > 1 ? (int32_t)x->dims[1] : 1;
    c->p.batchnorm.inner = prod(x->dims, 2, x->rank);
    c->p.batchnorm.epsilon = tb_node_float(n, "epsilon", 1e-5f);
    set_args(c, 6, (int[]){n->inputs[0], n->inputs[1], n->inputs[2], n->inputs[3], n->inputs[4], n->outputs[0]});
    L->in_place_ok = 1;
    return 0;
}

/* ---- elementwise ------------------------------------------------------------ */

/* One broadcast binary call y = a op b (value ids). f32 arithmetic and i64
 * ADD..MIN have typed kernels; everything else runs tb_binary_any. */
static int binary_call(tb_graph *g, tb_node *n, tb_lowered *L, int op, int a_id, int b_id, int y_id, tb_error *err) {
    tb_value *a = &g->values[a_id], *b = &g->values[b_id], *y = &g->values[y_id];
    tb_kernel k = TB_K_binary_any;
    if (a->dtype == TB_F32 && b->dtype == TB_F32 && op <= TB_BINARY_PRELU && op != TB_BINARY_MOD)
        k = TB_K_binary_f32;
    else if (a->dtype == TB_I64 && b->dtype == TB_I64 && op <= TB_BINARY_MIN)
        k = TB_K_binary_i64;
    if (k == TB_K_binary_any) {
        if (a->dtype == TB_BOOL && op < TB_BINARY_EQ)
            return tb_node_error(err, n, "arithmetic on bool tensors is not supported");
        tb_call *c = add_call(L, k);
        tb_binary_any_params *p = &c->p.binary_any;
        p->op = op;
        p->dtype = tb_dtype_onnx(a->dtype);
        p->b_dtype = tb_dtype_onnx(b->dtype);
        p->rank = y->rank;
        p->count = (int32_t)tb_value_numel(y);
        for (int i = 0; i < y->rank; i++) p->dims[i] = (int32_t)y->dims[i];
        tb_broadcast_strides(a->rank, a->dims, y->rank, y->dims, p->a_strides);
        tb_broadcast_strides(b->rank, b->dims, y->rank, y->dims, p->b_strides);
        set_args(c, 3, (int[]){a_id, b_id, y_id});
        return 0;
    }
    tb_call *c = add_call(L, k);
    tb_binary_params *p = &c->p.binary_f32;
    p->op = op;
    p->rank = y->rank;
    p->count = (int32_t)tb_value_numel(y);
    for (int i = 0; i < y->rank; i++) p->dims[i] = (int32_t)y->dims[i];
    tb_broadcast_strides(a->rank, a->dims, y->rank, y->dims, p->a_strides);
    tb_broadcast_strides(b->rank, b->dims, y->rank, y->dims, p->b_strides);
    set_args(c, 3, (int[]){a_id, b_id, y_id});
    return 0;
}

static int lower_binary(tb_graph *g, tb_node *n, tb_lowered *L, int op, tb_error *err) {
    if (binary_call(g, n, L, op, n->inputs[0], n->inputs[1], n->outputs[0], err)) return 1;
    /* In place over a is safe only when a is not broadcast (then y[i] reads
     * a[i] alone) and y has a's element size. */
    L->in_place_ok = tb_value_numel(in_val(g, n, 0)) == tb_value_numel(out_val(g, n, 0)) &&
                     in_val(g, n, 0)->dtype == out_val(g, n, 0)->dtype;
    return 0;
}

static int lower_mod(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *e) {
    return lower_binary(g, n, L, tb_node_int(n, "fmod", 0) ? TB_BINARY_FMOD : TB_BINARY_MOD, e);
}

#define BINARY(stem, OP) \
    static int lower_##stem(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *e) { \
        return lower_binary(g, n, L, TB_BINARY_##OP, e); \
    }
BINARY(pow, POW)
BINARY(equal, EQ)
BINARY(greater, GT)
BINARY(less, LT)
BINARY(greaterorequal, GE)
BINARY(lessorequal, LE)
BINARY(and, AND)
BINARY(or, OR)
BINARY(xor, XOR)
#undef BINARY

/* Max / Min / Sum / Mean: a chain of broadcast binary calls into the output,
 * y = x0 op x1, then y = y op x_i in place; Mean scales by 1/n at the end.
 * The output is written before every input is read: not in place. */
static int lower_variadic(tb_graph *g, tb_node *n, tb_lowered *L, int op, int mean, tb_error *err) {
    int y = n->outputs[0];
    if (n->n_inputs + 1 > TB_LOWER_MAX_CALLS) return tb_node_error(err, n, "too many inputs (%d)", n->n_inputs);
    if (n->n_inputs == 1) {
        /* One input: a broadcasting copy (the output has its shape). */
        tb_value *x = in_val(g, n, 0), *yv = out_val(g, n, 0);
        int64_t ys[TB_MAX_RANK];
        tb_call *c = add_call(L, TB_K_copy);
        c->p.copy.elem_size = (int32_t)tb_dtype_size(x->dtype);
        c->p.copy.rank = yv->rank;
        for (int i = 0; i < yv->rank; i++) c->p.copy.dims[i] = (int32_t)yv->dims[i];
        tb_broadcast_strides(x->rank, x->dims, yv->rank, yv->dims, c->p.copy.in_strides);
        strides_of(yv->rank, yv->dims, ys);
        for (int i = 0; i < yv->rank; i++) c->p.copy.out_strides[i] = (int32_t)ys[i];
        set_args(c, 2, (int[]){n->inputs[0], y});
        return 0;
    }
    if (binary_call(g, n, L, op, n->inputs[0], n->inputs[1], y, err)) return 1;
    for (int i = 2; i < n->n_inputs; i++)
        if (binary_call(g, n, L, op, y, n->inputs[i], y, err)) return 1;
    if (mean) {
        tb_call *c = add_call(L, TB_K_unary);
        c->p.unary.op = TB_UNARY_SCALE;
        c->p.unary.count = (int32_t)tb_value_numel(out_val(g, n, 0));
        c->p.unary.alpha = 1.0f / (float)n->n_inputs;
        set_args(c, 2, (int[]){y, y});
    }
    return 0;
}
static int lower_max(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *e) { return lower_variadic(g, n, L, TB_BINARY_MAX, 0, e); }
static int lower_min(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *e) { return lower_variadic(g, n, L, TB_BINARY_MIN, 0, e); }
static int lower_sum(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *e) { return lower_variadic(g, n, L, TB_BINARY_ADD, 0, e); }
static int lower_mean(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *e) { return lower_variadic(g, n, L, TB_BINARY_ADD, 1, e); }

static int lower_where(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    (void)err;
    tb_value *y = out_val(g, n, 0);
    tb_call *c = add_call(L, TB_K_where);
    tb_where_params *p = &c->p.where;
    p->elem_size = (int32_t)tb_dtype_size(y->dtype);
    p->rank = y->rank;
    for (int i = 0; i < y->rank; i++) p->dims[i] = (int32_t)y->dims[i];
    tb_value *cv = in_val(g, n, 0), *xv = in_val(g, n, 1), *yv = in_val(g, n, 2);
    tb_broadcast_strides(cv->rank, cv->dims, y->rank, y->dims, p->c_strides);
    tb_broadcast_strides(xv->rank, xv->dims, y->rank, y->dims, p->x_strides);
    tb_broadcast_strides(yv->rank, yv->dims, y->rank, y->dims, p->y_strides);
    set_args(c, 4, (int[]){n->inputs[0], n->inputs[1], n->inputs[2], n->outputs[0]});
    return 0;
}

static int lower_add(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *e) { return lower_binary(g, n, L, TB_BINARY_ADD, e); }
static int lower_sub(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *e) { return lower_binary(g, n, L, TB_BINARY_SUB, e); }
static int lower_mul(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *e) { return lower_binary(g, n, L, TB_BINARY_MUL, e); }
static int lower_div(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *e) { return lower_binary(g, n, L, TB_BINARY_DIV, e); }

static int lower_unary(tb_graph *g, tb_node *n, tb_lowered *L, int op, float alpha, float beta, tb_error *err) {
    tb_value *x = in_val(g, n, 0);
    if (need_f32(n, x, err)) return 1;
    tb_call *c = add_call(L, TB_K_unary);
    c->p.unary.op = op;
    c->p.unary.count = (int32_t)tb_value_numel(x);
    c->p.unary.alpha = alpha;
    c->p.unary.beta = beta;
    set_args(c, 2, (int[]){n->inputs[0], n->outputs[0]});
    L->in_place_ok = 1;
    return 0;
}

#define UNARY(stem, OP, alpha, beta) \
    static int lower_##stem(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *e) { \
        return lower_unary(g, n, L, TB_UNARY_##OP, alpha, beta, e); \
    }
UNARY(relu, RELU, 0, 0)
UNARY(sigmoid, SIGMOID, 0, 0)
UNARY(hardswish, HARDSWISH, 0, 0)
UNARY(tanh, TANH, 0, 0)
UNARY(exp, EXP, 0, 0)
UNARY(log, LOG, 0, 0)
UNARY(sqrt, SQRT, 0, 0)
UNARY(abs, ABS, 0, 0)
UNARY(reciprocal, RECIPROCAL, 0, 0)
UNARY(hardsigmoid, HARDSIGMOID, tb_node_float(n, "alpha", 0.2f), tb_node_float(n, "beta", 0.5f))
UNARY(leakyrelu, LEAKYRELU, tb_node_float(n, "alpha", 0.01f), 0)
UNARY(elu, ELU, tb_node_float(n, "alpha", 1.0f), 0)
UNARY(selu, SELU, tb_node_float(n, "alpha", 1.67326319217681884765625f),
      tb_node_float(n, "gamma", 1.05070102214813232421875f))
UNARY(celu, CELU, tb_node_float(n, "alpha", 1.0f), 0)
UNARY(softplus, SOFTPLUS, 0, 0)
UNARY(softsign, SOFTSIGN, 0, 0)
UNARY(thresholdedrelu, THRESHOLDEDRELU, tb_node_float(n, "alpha", 1.0f), 0)
UNARY(erf, ERF, 0, 0)
UNARY(floor, FLOOR, 0, 0)
UNARY(ceil, CEIL, 0, 0)
UNARY(round, ROUND, 0, 0)
UNARY(sign, SIGN, 0, 0)
UNARY(sin, SIN, 0, 0)
UNARY(cos, COS, 0, 0)
UNARY(tan, TAN, 0, 0)
UNARY(asin, ASIN, 0, 0)
UNARY(acos, ACOS, 0, 0)
UNARY(atan, ATAN, 0, 0)
UNARY(sinh, SINH, 0, 0)
UNARY(cosh, COSH, 0, 0)
UNARY(asinh, ASINH, 0, 0)
UNARY(acosh, ACOSH, 0, 0)
UNARY(atanh, ATANH, 0, 0)
#undef UNARY

static int lower_gelu(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *e) {
    int tanh_ = !strcmp(tb_node_string(n, "approximate", "none"), "tanh");
    return lower_unary(g, n, L, tanh_ ? TB_UNARY_GELU_TANH : TB_UNARY_GELU, 0, 0, e);
}

static int lower_unary_bool(tb_graph *g, tb_node *n, tb_lowered *L, int op, tb_error *err) {
    (void)err;
    tb_call *c = add_call(L, TB_K_unary_bool);
    c->p.unary_bool.op = op;
    c->p.unary_bool.count = (int32_t)tb_value_numel(in_val(g, n, 0));
    c->p.unary_bool.detect_negative = (int32_t)tb_node_int(n, "detect_negative", 1);
    c->p.unary_bool.detect_positive = (int32_t)tb_node_int(n, "detect_positive", 1);
    set_args(c, 2, (int[]){n->inputs[0], n->outputs[0]});
    /* y[i] depends on x[i] alone; in place needs the same element size. */
    L->in_place_ok = op == TB_UNARY_BOOL_NOT;
    return 0;
}
static int lower_isnan(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *e) { return lower_unary_bool(g, n, L, TB_UNARY_BOOL_ISNAN, e); }
static int lower_isinf(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *e) { return lower_unary_bool(g, n, L, TB_UNARY_BOOL_ISINF, e); }
static int lower_not(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *e) { return lower_unary_bool(g, n, L, TB_UNARY_BOOL_NOT, e); }

static int lower_clip(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    int lo = input_or_none(n, 1), hi = input_or_none(n, 2);
    if ((lo >= 0 && !g->values[lo].data) || (hi >= 0 && !g->values[hi].data)) {
        /* Bounds computed at run time: y = min(max(x, lo), hi), the second
         * step in place over y. */
        int src = n->inputs[0];
        if (lo >= 0 && binary_call(g, n, L, TB_BINARY_MAX, src, lo, n->outputs[0], err)) return 1;
        if (lo >= 0) src = n->outputs[0];
        return hi >= 0 && binary_call(g, n, L, TB_BINARY_MIN, src, hi, n->outputs[0], err);
    }
    float lo_v, hi_v;
    if (tb_clip_resolve(g, (int)(n - g->nodes), &lo_v, &hi_v, err)) return 1;
    return lower_unary(g, n, L, TB_UNARY_CLIP, lo_v, hi_v, err);
}

/* ---- reductions ------------------------------------------------------------- */

static int lower_reduce_mask(tb_graph *g, tb_node *n, tb_lowered *L, int op, const int *mask, tb_error *err) {
    tb_value *x = in_val(g, n, 0);
    if (need_f32(n, x, err)) return 1;
    tb_call *c = add_call(L, TB_K_reduce);
    tb_reduce_params *p = &c->p.reduce;
    p->op = op;
    p->rank = x->rank;
    /* Output strides over the input's dims, 0 on reduced axes (whether the
     * output keeps them as 1 or drops them, the layout is the same). */
    int64_t acc = 1;
    p->reduced = 1;
    for (int i = x->rank - 1; i >= 0; i--) {
        p->dims[i] = (int32_t)x->dims[i];
        if (mask[i]) {
            p->out_strides[i] = 0;
            p->reduced *= (int32_t)x->dims[i];
        } else {
            p->out_strides[i] = (int32_t)acc;
            acc *= x->dims[i];
        }
    }
    p->out_count = (int32_t)acc;
    set_args(c, 2, (int[]){n->inputs[0], n->outputs[0]});
    return 0;
}

static int lower_global_pool(tb_graph *g, tb_node *n, tb_lowered *L, int op, tb_error *err) {
    int mask[TB_MAX_RANK] = {0};
    for (int i = 2; i < in_val(g, n, 0)->rank; i++) mask[i] = 1;
    return lower_reduce_mask(g, n, L, op, mask, err);
}

static int lower_globalavgpool(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *e) {
    return lower_global_pool(g, n, L, TB_REDUCE_MEAN, e);
}
static int lower_globalmaxpool(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *e) {
    return lower_global_pool(g, n, L, TB_REDUCE_MAX, e);
}

static int lower_reducemean(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    int mask[TB_MAX_RANK] = {0}, keepdims;
    if (tb_reduce_axes(g, (int)(n - g->nodes), mask, &keepdims, err)) return 1;
    return lower_reduce_mask(g, n, L, TB_REDUCE_MEAN, mask, err);
}

#define REDUCE(stem, OP) \
    static int lower_##stem(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) { \
        int mask[TB_MAX_RANK] = {0}, keepdims; \
        if (tb_reduce_axes(g, (int)(n - g->nodes), mask, &keepdims, err)) return 1; \
        return lower_reduce_mask(g, n, L, TB_REDUCE_##OP, mask, err); \
    }
REDUCE(reducesum, SUM)
REDUCE(reducemax, MAX)
REDUCE(reducemin, MIN)
REDUCE(reduceprod, PROD)
REDUCE(reducel1, L1)
REDUCE(reducel2, L2)
REDUCE(reducesumsquare, SUMSQUARE)
REDUCE(reducelogsum, LOGSUM)
REDUCE(reducelogsumexp, LOGSUMEXP)
#undef REDUCE

static int lower_arg(tb_graph *g, tb_node *n, tb_lowered *L, int op, tb_error *err) {
    tb_value *x = in_val(g, n, 0);
    int axis, keep, last;
    if (need_f32(n, x, err) || tb_arg_axis(g, (int)(n - g->nodes), &axis, &keep, &last, err)) return 1;
    tb_call *c = add_call(L, TB_K_argreduce);
    c->p.argreduce.op = op;
    c->p.argreduce.outer = prod(x->dims, 0, axis);
    c->p.argreduce.axis = (int32_t)x->dims[axis];
    c->p.argreduce.inner = prod(x->dims, axis + 1, x->rank);
    c->p.argreduce.select_last = last;
    set_args(c, 2, (int[]){n->inputs[0], n->outputs[0]});
    return 0;
}
static int lower_argmax(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *e) { return lower_arg(g, n, L, TB_ARG_MAX, e); }
static int lower_argmin(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *e) { return lower_arg(g, n, L, TB_ARG_MIN, e); }

static int lower_softmax_like(tb_graph *g, tb_node *n, tb_lowered *L, tb_kernel k, tb_error *err);
static int lower_softmax(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    return lower_softmax_like(g, n, L, TB_K_softmax, err);
}
static int lower_logsoftmax(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    return lower_softmax_like(g, n, L, TB_K_logsoftmax, err);
}
static int lower_hardmax(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    return lower_softmax_like(g, n, L, TB_K_hardmax, err);
}

static int lower_instancenorm(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_value *x = in_val(g, n, 0);
    if (need_f32(n, x, err)) return 1;
    tb_call *c = add_call(L, TB_K_instancenorm);
    c->p.instancenorm.n = (int32_t)x->dims[0];
    c->p.instancenorm.c = (int32_t)x->dims[1];
    c->p.instancenorm.inner = prod(x->dims, 2, x->rank);
    c->p.instancenorm.epsilon = tb_node_float(n, "epsilon", 1e-5f);
    set_args(c, 4, (int[]){n->inputs[0], n->inputs[1], n->inputs[2], n->outputs[0]});
    return 0;
}

static int lower_layernorm(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_value *x = in_val(g, n, 0);
    int axis;
    if (need_f32(n, x, err) || tb_layernorm_axis(g, (int)(n - g->nodes), &axis, err)) return 1;
    tb_layernorm_params q = {0};
    q.outer = prod(x->dims, 0, axis);
    q.inner = prod(x->dims, axis, x->rank);
    q.epsilon = tb_node_float(n, "epsilon", 1e-5f);
    /* The statistics outputs first: they read x, which y may overwrite. */
    for (int k = 1; k < 3 && k < n->n_outputs; k++) {
        if (n->outputs[k] < 0) continue;
        tb_call *c = add_call(L, TB_K_layernorm_stats);
        c->p.layernorm_stats = q;
        c->p.layernorm_stats.which = k - 1;
        set_args(c, 2, (int[]){n->inputs[0], n->outputs[k]});
    }
    tb_call *c = add_call(L, TB_K_layernorm);
    c->p.layernorm = q;
    set_args(c, 4, (int[]){n->inputs[0], n->inputs[1], input_or_none(n, 2), n->outputs[0]});
    return 0;
}

static int lower_lrn(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_value *x = in_val(g, n, 0);
    if (need_f32(n, x, err)) return 1;
    tb_call *c = add_call(L, TB_K_lrn);
    c->p.lrn.n = (int32_t)x->dims[0];
    c->p.lrn.c = (int32_t)x->dims[1];
    c->p.lrn.inner = prod(x->dims, 2, x->rank);
    c->p.lrn.size = (int32_t)tb_node_int(n, "size", 1);
    c->p.lrn.alpha = tb_node_float(n, "alpha", 1e-4f);
    c->p.lrn.beta = tb_node_float(n, "beta", 0.75f);
    c->p.lrn.bias = tb_node_float(n, "bias", 1.0f);
    set_args(c, 2, (int[]){n->inputs[0], n->outputs[0]});
    return 0;
}

static int lower_softmax_like(tb_graph *g, tb_node *n, tb_lowered *L, tb_kernel k, tb_error *err) {
    tb_value *x = in_val(g, n, 0);
    int axis, coerce;
    if (need_f32(n, x, err) || tb_softmax_axis(g, (int)(n - g->nodes), &axis, &coerce, err)) return 1;
    tb_call *c = add_call(L, k);
    c->p.softmax.outer = prod(x->dims, 0, axis);
    /* Before opset 13 the input is coerced to 2-D at axis: softmax runs over
     * everything from axis on. */
    c->p.softmax.axis = coerce ? prod(x->dims, axis, x->rank) : (int32_t)x->dims[axis];
    c->p.softmax.inner = coerce ? 1 : prod(x->dims, axis + 1, x->rank);
    set_args(c, 2, (int[]){n->inputs[0], n->outputs[0]});
    return 0;
}

/* ---- data movement ------------------------------------------------------------ */

static int lower_alias(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    (void)g, (void)err;
    L->alias_input = n->inputs[0];
    return 0;
}

static int lower_dropout(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    if (n->n_outputs > 1 && tb_value_use_count(g, n->outputs[1]) > 0)
        return tb_node_error(err, n, "the mask output is not supported");
    return lower_alias(g, n, L, err);
}

#define lower_identity lower_alias
#define lower_flatten lower_alias
#define lower_reshape lower_alias
#define lower_squeeze lower_alias
#define lower_unsqueeze lower_alias

static tb_call *copy_call(tb_lowered *L, size_t elem, int rank, const int64_t *dims, int in, int out) {
    tb_call *c = add_call(L, TB_K_copy);
    c->p.copy.elem_size = (int32_t)elem;
    c->p.copy.rank = rank;
    for (int i = 0; i < rank; i++) c->p.copy.dims[i] = (int32_t)dims[i];
    set_args(c, 2, (int[]){in, out});
    return c;
}

static int lower_transpose(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_value *x = in_val(g, n, 0), *y = out_val(g, n, 0);
    int perm[TB_MAX_RANK];
    if (tb_transpose_perm(g, (int)(n - g->nodes), perm, err)) return 1;
    tb_call *c = copy_call(L, tb_dtype_size(x->dtype), y->rank, y->dims, n->inputs[0], n->outputs[0]);
    int64_t xs[TB_MAX_RANK], ys[TB_MAX_RANK];
    strides_of(x->rank, x->dims, xs);
    strides_of(y->rank, y->dims, ys);
    for (int i = 0; i < y->rank; i++) {
        c->p.copy.in_strides[i] = (int32_t)xs[perm[i]];
        c->p.copy.out_strides[i] = (int32_t)ys[i];
    }
    return 0;
}

/* Concat and Split: one strided copy per piece, at the piece's offset along axis. */
static int lower_pieces(tb_graph *g, tb_node *n, tb_lowered *L, int axis, int concat) {
    tb_value *whole = concat ? out_val(g, n, 0) : in_val(g, n, 0);
    int64_t ws[TB_MAX_RANK], ps[TB_MAX_RANK];
    strides_of(whole->rank, whole->dims, ws);
    int pieces = concat ? n->n_inputs : n->n_outputs;
    int64_t offset = 0;
    for (int k = 0; k < pieces; k++) {
        int id = concat ? n->inputs[k] : n->outputs[k];
        tb_value *piece = &g->values[id];
        strides_of(piece->rank, piece->dims, ps);
        tb_call *c = copy_call(L, tb_dtype_size(whole->dtype), piece->rank, piece->dims,
                               concat ? id : n->inputs[0], concat ? n->outputs[0] : id);
        for (int i = 0; i < piece->rank; i++) {
            c->p.copy.in_strides[i] = (int32_t)(concat ? ps[i] : ws[i]);
            c->p.copy.out_strides[i] = (int32_t)(concat ? ws[i] : ps[i]);
        }
        if (concat) c->p.copy.out_offset = (int32_t)(offset * ws[axis]);
        else c->p.copy.in_offset = (int32_t)(offset * ws[axis]);
        offset += piece->dims[axis];
    }
    return 0;
}

static int lower_concat(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    int axis;
    if (tb_concat_axis(g, (int)(n - g->nodes), &axis, err)) return 1;
    return lower_pieces(g, n, L, axis, 1);
}

static int lower_split(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    int axis;
    int64_t sizes[TB_MAX_IO];
    if (tb_split_resolve(g, (int)(n - g->nodes), &axis, sizes, err)) return 1;
    return lower_pieces(g, n, L, axis, 0);
}

static int lower_slice(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_value *x = in_val(g, n, 0), *y = out_val(g, n, 0);
    int64_t start[TB_MAX_RANK], step[TB_MAX_RANK], xs[TB_MAX_RANK], ys[TB_MAX_RANK];
    if (tb_slice_resolve(g, (int)(n - g->nodes), start, step, err)) return 1;
    tb_call *c = copy_call(L, tb_dtype_size(x->dtype), y->rank, y->dims, n->inputs[0], n->outputs[0]);
    strides_of(x->rank, x->dims, xs);
    strides_of(y->rank, y->dims, ys);
    int64_t off = 0;
    for (int i = 0; i < y->rank; i++) {
        c->p.copy.in_strides[i] = (int32_t)(step[i] * xs[i]);
        c->p.copy.out_strides[i] = (int32_t)ys[i];
        off += start[i] * xs[i];
    }
    c->p.copy.in_offset = (int32_t)off;
    return 0;
}

static int lower_expand(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    (void)err;
    tb_value *x = in_val(g, n, 0), *y = out_val(g, n, 0);
    int64_t ys[TB_MAX_RANK];
    tb_call *c = copy_call(L, tb_dtype_size(x->dtype), y->rank, y->dims, n->inputs[0], n->outputs[0]);
    tb_broadcast_strides(x->rank, x->dims, y->rank, y->dims, c->p.copy.in_strides);
    strides_of(y->rank, y->dims, ys);
    for (int i = 0; i < y->rank; i++) c->p.copy.out_strides[i] = (int32_t)ys[i];
    return 0;
}

static int lower_gather(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_value *x = in_val(g, n, 0), *idx = in_val(g, n, 1);
    int axis;
    if (tb_gather_axis(g, (int)(n - g->nodes), &axis, err)) return 1;
    tb_call *c = add_call(L, TB_K_gather);
    tb_gather_params *p = &c->p.gather;
    p->elem_size = (int32_t)tb_dtype_size(x->dtype);
    p->outer = prod(x->dims, 0, axis);
    p->axis_len = (int32_t)x->dims[axis];
    p->inner = prod(x->dims, axis + 1, x->rank);
    p->n_index = (int32_t)tb_value_numel(idx);
    p->index_size = (int32_t)tb_dtype_size(idx->dtype);
    set_args(c, 3, (int[]){n->inputs[0], n->inputs[1], n->outputs[0]});
    return 0;
}

static int lower_pad(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_value *x = in_val(g, n, 0), *y = out_val(g, n, 0);
    int64_t pads[2 * TB_MAX_RANK];
    int mode;
    double value;
    if (need_f32(n, x, err) || tb_pad_resolve(g, (int)(n - g->nodes), pads, &mode, &value, err)) return 1;
    tb_call *c = add_call(L, TB_K_pad);
    tb_pad_params *p = &c->p.pad;
    p->mode = mode;
    p->rank = x->rank;
    p->value = (float)value;
    for (int i = 0; i < x->rank; i++) {
        p->in_dims[i] = (int32_t)x->dims[i];
        p->out_dims[i] = (int32_t)y->dims[i];
        p->pads_begin[i] = (int32_t)pads[i];
    }
    set_args(c, 2, (int[]){n->inputs[0], n->outputs[0]});
    return 0;
}

static int lower_cast(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    (void)err;
    tb_value *x = in_val(g, n, 0), *y = out_val(g, n, 0);
    tb_call *c = add_call(L, TB_K_cast);
    c->p.cast.count = (int32_t)tb_value_numel(x);
    c->p.cast.from = tb_dtype_onnx(x->dtype);
    c->p.cast.to = tb_dtype_onnx(y->dtype);
    set_args(c, 2, (int[]){n->inputs[0], n->outputs[0]});
    return 0;
}

/* CastLike reads only its target's dtype, which shape inference gave the output. */
#define lower_castlike lower_cast

/* Tile as one strided copy: each tiled input dim d becomes two view dims,
 * (repeats[d], input stride 0) outside (dims[d], input stride), whose
 * output strides are dims[d] * out_stride and out_stride. */
static int lower_tile(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_value *x = in_val(g, n, 0), *y = out_val(g, n, 0);
    int64_t reps[TB_MAX_RANK], xs[TB_MAX_RANK], ys[TB_MAX_RANK];
    if (tb_tile_repeats(g, (int)(n - g->nodes), reps, err)) return 1;
    strides_of(x->rank, x->dims, xs);
    strides_of(y->rank, y->dims, ys);
    int64_t vd[2 * TB_MAX_RANK] = {0}, vi[2 * TB_MAX_RANK] = {0}, vo[2 * TB_MAX_RANK] = {0};
    int r = 0;
    for (int d = 0; d < x->rank; d++) {
        if (reps[d] != 1 && x->dims[d] != 1) {
            vd[r] = reps[d], vi[r] = 0, vo[r] = x->dims[d] * ys[d], r++;
        }
        vd[r] = x->dims[d] == 1 ? reps[d] : x->dims[d];
        vi[r] = x->dims[d] == 1 ? 0 : xs[d];
        vo[r] = ys[d];
        r++;
    }
    if (r > TB_RT_MAX_RANK)
        return tb_node_error(err, n, "Tile would need a %d-D copy (at most %d)", r, TB_RT_MAX_RANK);
    tb_call *c = copy_call(L, tb_dtype_size(x->dtype), r, vd, n->inputs[0], n->outputs[0]);
    for (int i = 0; i < r; i++) {
        c->p.copy.in_strides[i] = (int32_t)vi[i];
        c->p.copy.out_strides[i] = (int32_t)vo[i];
    }
    return 0;
}

/* DepthToSpace / SpaceToDepth: one 6-D strided copy over the output, viewed
 * as the reshape the ONNX definition transposes. */
static int lower_blocks(tb_graph *g, tb_node *n, tb_lowered *L, int to_space, tb_error *err) {
    tb_value *x = in_val(g, n, 0), *y = out_val(g, n, 0);
    int64_t bs;
    int crd;
    if (tb_blocksize(g, (int)(n - g->nodes), &bs, &crd, err)) return 1;
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    int64_t vd[6], vi[6], vo[6];
    if (to_space) {
        /* y[n, c, h*bs + i, w*bs + j] = x[n, ch, h, w] with ch = (i*bs + j)*C' + c
         * (DCR) or c*bs*bs + i*bs + j (CRD); view y as [N, C', H, bs, W, bs]. */
        int64_t Cp = C / (bs * bs), hw = H * W;
        int64_t v[6] = {N, Cp, H, bs, W, bs};
        int64_t si[6] = {C * hw, crd ? bs * bs * hw : hw, W, crd ? bs * hw : bs * Cp * hw, 1, crd ? hw : Cp * hw};
        memcpy(vd, v, sizeof v), memcpy(vi, si, sizeof si);
    } else {
        /* y[n, (i*bs + j)*C + c, h, w] = x[n, c, h*bs + i, w*bs + j]; view y as
         * [N, bs, bs, C, H', W']. */
        int64_t v[6] = {N, bs, bs, C, H / bs, W / bs};
        int64_t si[6] = {C * H * W, W, 1, H * W, bs * W, bs};
        memcpy(vd, v, sizeof v), memcpy(vi, si, sizeof si);
    }
    strides_of(6, vd, vo);
    (void)y;
    tb_call *c = copy_call(L, tb_dtype_size(x->dtype), 6, vd, n->inputs[0], n->outputs[0]);
    for (int i = 0; i < 6; i++) {
        c->p.copy.in_strides[i] = (int32_t)vi[i];
        c->p.copy.out_strides[i] = (int32_t)vo[i];
    }
    return 0;
}
static int lower_depthtospace(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *e) { return lower_blocks(g, n, L, 1, e); }
static int lower_spacetodepth(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *e) { return lower_blocks(g, n, L, 0, e); }

static int lower_gatherelements(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_value *x = in_val(g, n, 0), *idx = in_val(g, n, 1);
    int axis;
    if (tb_gatherelements_axis(g, (int)(n - g->nodes), &axis, err)) return 1;
    tb_call *c = add_call(L, TB_K_gather_elements);
    tb_gather_elements_params *p = &c->p.gather_elements;
    int64_t xs[TB_MAX_RANK];
    strides_of(x->rank, x->dims, xs);
    p->elem_size = (int32_t)tb_dtype_size(x->dtype);
    p->index_size = (int32_t)tb_dtype_size(idx->dtype);
    p->rank = idx->rank;
    p->axis = axis;
    p->x_axis_len = (int32_t)x->dims[axis];
    for (int i = 0; i < idx->rank; i++) {
        p->dims[i] = (int32_t)idx->dims[i];
        p->x_strides[i] = (int32_t)xs[i];
    }
    set_args(c, 3, (int[]){n->inputs[0], n->inputs[1], n->outputs[0]});
    return 0;
}

static int lower_trilu(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    (void)err;
    tb_value *x = in_val(g, n, 0);
    tb_call *c = add_call(L, TB_K_trilu);
    tb_trilu_params *p = &c->p.trilu;
    int kid = input_or_none(n, 1);
    p->elem_size = (int32_t)tb_dtype_size(x->dtype);
    p->rows = (int32_t)x->dims[x->rank - 2];
    p->cols = (int32_t)x->dims[x->rank - 1];
    p->batch = prod(x->dims, 0, x->rank - 2);
    p->upper = (int32_t)tb_node_int(n, "upper", 1);
    if (kid >= 0 && g->values[kid].data) {
        /* A constant k goes into the params, clamped: beyond +-(rows + cols)
         * every k keeps or clears the same elements. */
        int64_t k;
        memcpy(&k, g->values[kid].data, sizeof k);
        int64_t lim = (int64_t)p->rows + p->cols;
        p->k = (int32_t)(k > lim ? lim : k < -lim ? -lim : k);
        kid = -1;
    }
    set_args(c, 3, (int[]){n->inputs[0], kid, n->outputs[0]});
    L->in_place_ok = 1;
    return 0;
}

/* Shape arithmetic has no kernel: with static shapes it is always folded. */
static int lower_folded_only(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    (void)g, (void)L;
    return tb_node_error(err, n, "should have been constant-folded (its inputs are not constants)");
}
#define lower_shape lower_folded_only
#define lower_constantofshape lower_folded_only
#define lower_range lower_folded_only

/* The quantized ops live in lower_quant.c. */
#define lower_quantizelinear tb_lower_quantizelinear
#define lower_dequantizelinear tb_lower_dequantizelinear
#define lower_qlinearconv tb_lower_qlinearconv
#define lower_qlinearmatmul tb_lower_qlinearmatmul
#define lower_convinteger tb_lower_convinteger
#define lower_matmulinteger tb_lower_matmulinteger
#define lower_qgemm tb_lower_qgemm
#define lower_qlinearadd tb_lower_qlinearadd
#define lower_qlinearconcat tb_lower_qlinearconcat
#define lower_qlinearglobalavgpool tb_lower_qlinearglobalavgpool
#define lower_qlinearavgpool tb_lower_qlinearavgpool
#define lower_qlinearsigmoid tb_lower_qlinearsigmoid
/* ---- ops3: resampling, transposed convolution, selection, recurrent ------ */

/* Neg: f32 through the unary kernel; integers (shape arithmetic) as
 * y = x - x, then y = y - x in place, with tb_binary_any's wrapping. */
static int lower_neg(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    if (in_val(g, n, 0)->dtype == TB_F32) return lower_unary(g, n, L, TB_UNARY_NEG, 0, 0, err);
    int x = n->inputs[0], y = n->outputs[0];
    return binary_call(g, n, L, TB_BINARY_SUB, x, x, y, err) || binary_call(g, n, L, TB_BINARY_SUB, y, x, y, err);
}

/* PRelu: numpy broadcasting, or a per-channel slope before opset 7. */
static int lower_prelu(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    if (lower_binary(g, n, L, TB_BINARY_PRELU, err)) return 1;
    if (tb_prelu_per_channel(g, (int)(n - g->nodes))) {
        tb_call *c = &L->calls[L->n_calls - 1];
        int32_t *bs = c->kernel == TB_K_binary_f32 ? c->p.binary_f32.b_strides : c->p.binary_any.b_strides;
        for (int i = 0; i < TB_RT_MAX_RANK; i++) bs[i] = i == 1;
    }
    return 0;
}

/* Size: its output is a constant from shape inference, folded like Shape. */
#define lower_size lower_folded_only

/* Resize / Upsample: x viewed as [outer, h, w] over its last two axes. */
static int lower_resample(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_value *x = in_val(g, n, 0);
    tb_resize_info r;
    if (need_f32(n, x, err) || tb_resize_resolve(g, (int)(n - g->nodes), &r, err)) return 1;
    tb_call *c = add_call(L, TB_K_resize);
    tb_resize_params *p = &c->p.resize;
    int rk = x->rank, h = rk - 2, w = rk - 1;
    p->outer = prod(x->dims, 0, rk >= 2 ? rk - 2 : 0);
    p->h_in = h >= 0 ? (int32_t)x->dims[h] : 1;
    p->h_out = h >= 0 ? (int32_t)r.out[h] : 1;
    p->w_in = (int32_t)x->dims[w];
    p->w_out = (int32_t)r.out[w];
    p->scale_h = h >= 0 ? r.scales[h] : 1.0f;
    p->scale_w = r.scales[w];
    p->roi_h0 = h >= 0 ? r.roi[h] : 0.0f;
    p->roi_h1 = h >= 0 ? r.roi[rk + h] : 1.0f;
    p->roi_w0 = r.roi[w];
    p->roi_w1 = r.roi[rk + w];
    p->mode = r.mode, p->coord = r.coord, p->nearest = r.nearest;
    p->exclude_outside = r.exclude_outside;
    p->cubic_a = r.cubic_a;
    p->extrapolation = r.extrapolation;
    set_args(c, 2, (int[]){n->inputs[0], n->outputs[0]});
    return 0;
}
#define lower_resize lower_resample
#define lower_upsample lower_resample

static int lower_convtranspose(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_value *x = in_val(g, n, 0), *y = out_val(g, n, 0);
    int64_t k[2], s[2], d[2], pd[4];
    int sp = x->rank - 2;
    if (need_f32(n, x, err)) return 1;
    if (tb_node_ints(n, "kernel_shape", k, 2) != sp || tb_node_ints(n, "strides", s, 2) != sp ||
        tb_node_ints(n, "dilations", d, 2) != sp || tb_node_ints(n, "pads", pd, 4) != 2 * sp)
        return tb_node_error(err, n, "attributes are not canonical (run shape inference first)");
    tb_call *c = add_call(L, TB_K_convtranspose);
    tb_convtranspose_params *p = &c->p.convtranspose;
    p->n = (int32_t)x->dims[0];
    p->c_in = (int32_t)x->dims[1];
    p->c_out = (int32_t)y->dims[1];
    p->group = (int32_t)tb_node_int(n, "group", 1);
    p->h_in = sp == 2 ? (int32_t)x->dims[2] : 1;
    p->h_out = sp == 2 ? (int32_t)y->dims[2] : 1;
    p->w_in = (int32_t)x->dims[x->rank - 1];
    p->w_out = (int32_t)y->dims[y->rank - 1];
    p->k_h = sp == 2 ? (int32_t)k[0] : 1;
    p->k_w = (int32_t)k[sp - 1];
    p->stride_h = sp == 2 ? (int32_t)s[0] : 1;
    p->stride_w = (int32_t)s[sp - 1];
    p->dil_h = sp == 2 ? (int32_t)d[0] : 1;
    p->dil_w = (int32_t)d[sp - 1];
    p->pad_top = sp == 2 ? (int32_t)pd[0] : 0;
    p->pad_left = (int32_t)pd[sp - 1];
    set_args(c, 4, (int[]){n->inputs[0], n->inputs[1], input_or_none(n, 2), n->outputs[0]});
    return 0;
}

static int lower_mvn(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_value *x = in_val(g, n, 0);
    int mask[TB_MAX_RANK];
    if (tb_mvn_axes(g, (int)(n - g->nodes), mask, err)) return 1;
    tb_call *c = add_call(L, TB_K_mvn);
    c->p.mvn.rank = x->rank;
    for (int i = 0; i < x->rank; i++) {
        c->p.mvn.dims[i] = (int32_t)x->dims[i];
        c->p.mvn.mask[i] = mask[i];
    }
    set_args(c, 2, (int[]){n->inputs[0], n->outputs[0]});
    return 0;
}

static int lower_topk(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_value *x = in_val(g, n, 0);
    int axis, largest;
    int64_t k;
    if (tb_topk_resolve(g, (int)(n - g->nodes), &axis, &k, &largest, err)) return 1;
    tb_call *c = add_call(L, TB_K_topk);
    c->p.topk.outer = prod(x->dims, 0, axis);
    c->p.topk.axis = (int32_t)x->dims[axis];
    c->p.topk.inner = prod(x->dims, axis + 1, x->rank);
    c->p.topk.k = (int32_t)k;
    c->p.topk.largest = largest;
    set_args(c, 3, (int[]){n->inputs[0], n->outputs[0], n->outputs[1]});
    return 0;
}

static int lower_einsum(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_einsum_info e;
    if (tb_einsum_resolve(g, (int)(n - g->nodes), &e, err)) return 1;
    tb_call *c = add_call(L, TB_K_contract);
    tb_contract_params *p = &c->p.contract;
    p->is_f64 = in_val(g, n, 0)->dtype == TB_F64;
    p->rank = e.rank;
    p->out_rank = e.out_rank;
    for (int i = 0; i < e.rank; i++) {
        p->dims[i] = (int32_t)e.dims[i];
        p->a_strides[i] = (int32_t)e.strides[0][i];
        p->b_strides[i] = (int32_t)e.strides[1][i];
    }
    set_args(c, 3, (int[]){n->inputs[0], input_or_none(n, 1), n->outputs[0]});
    return 0;
}

/* LSTM / GRU / RNN: one tb_rnn_f32 call (inference gave the node the Y, Y_h
 * and Y_c outputs the kernel needs). */
static int lower_recurrent(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err) {
    tb_rnn_info r;
    if (tb_rnn_resolve(g, (int)(n - g->nodes), &r, err)) return 1;
    tb_call *c = add_call(L, TB_K_rnn);
    tb_rnn_params *p = &c->p.rnn;
    p->cell = r.cell;
    p->seq = (int32_t)r.seq, p->batch = (int32_t)r.batch, p->input = (int32_t)r.input, p->hidden = (int32_t)r.hidden;
    p->dirs = r.dirs, p->direction = r.direction, p->layout = r.layout;
    p->linear_before_reset = r.linear_before_reset;
    p->clip = r.clip;
    int out[3];
    for (int k = 0; k < 3; k++) out[k] = k < n->n_outputs ? n->outputs[k] : -1;
    set_args(c, 11, (int[]){n->inputs[0], n->inputs[1], n->inputs[2], input_or_none(n, 3), input_or_none(n, 4),
                            input_or_none(n, 5), input_or_none(n, 6), input_or_none(n, 7), out[0], out[1], out[2]});
    return 0;
}
#define lower_lstm lower_recurrent
#define lower_gru lower_recurrent
#define lower_rnn lower_recurrent

static lower_fn *const lowerers[TB_OP_COUNT] = {
#define OP(id, onnx, stem) [TB_OP_##id] = lower_##stem,
#include "ops.def"
#undef OP
};

int tb_lower_node(tb_graph *g, int node, tb_lowered *out, tb_error *err) {
    memset(out, 0, sizeof *out);
    out->alias_input = -1;
    tb_node *n = &g->nodes[node];
    TB_ASSERT(n->op > TB_OP_NONE && n->op < TB_OP_COUNT);
    return lowerers[n->op](g, n, out, err);
}

/* ---- names and printing ----------------------------------------------------- */

static const char *const function_names[TB_K_COUNT] = {
#define KERNEL(stem, fn, ptype, plist, nin, nout) [TB_K_##stem] = #fn,
#include "kernels.def"
#undef KERNEL
};
static const char *const params_types[TB_K_COUNT] = {
#define KERNEL(stem, fn, ptype, plist, nin, nout) [TB_K_##stem] = #ptype,
#include "kernels.def"
#undef KERNEL
};

const char *tb_kernel_function(tb_kernel k) { return function_names[k]; }
const char *tb_kernel_params_type(tb_kernel k) { return params_types[k]; }

/* Floats print exactly: %.9g round-trips every float; infinities by name. */
static void print_float(FILE *out, float f) {
    if (isinf(f)) fputs(f < 0 ? "-INFINITY" : "INFINITY", out);
    else {
        char buf[32];
        snprintf(buf, sizeof buf, "%.9g", (double)f);
        fputs(buf, out);
        if (!strpbrk(buf, ".en")) fputs(".0", out);
        fputc('f', out);
    }
}

static void print_array(FILE *out, const int32_t *a) {
    int last = 0;
    for (int i = 0; i < TB_RT_MAX_RANK; i++)
        if (a[i]) last = i + 1;
    fputc('{', out);
    for (int i = 0; i < last; i++) fprintf(out, "%s%d", i ? ", " : "", (int)a[i]);
    if (!last) fputc('0', out);
    fputc('}', out);
}

void tb_print_kernel_params(FILE *out, const tb_call *c) {
    const char *sep = "";
#define PI(f) fprintf(out, "%s.%s = %d", sep, #f, (int)p->f), sep = ", ";
#define PF(f) fprintf(out, "%s.%s = ", sep, #f), print_float(out, p->f), sep = ", ";
#define PA(f) fprintf(out, "%s.%s = ", sep, #f), print_array(out, p->f), sep = ", ";
    fputc('{', out);
    switch (c->kernel) {
#define KERNEL(stem, fn, ptype, plist, nin, nout) \
    case TB_K_##stem: { const ptype *p = &c->p.stem; plist(PI, PF, PA) break; }
#include "kernels.def"
#undef KERNEL
    default: TB_ASSERT(!"unknown kernel");
    }
    fputc('}', out);
    (void)sep;
#undef PI
#undef PF
#undef PA
}
