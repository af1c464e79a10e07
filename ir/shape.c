/* shape.c - shape inference and attribute canonicalisation.
 *
 * For every node, in order: validate the inputs (count, ranks, dtypes,
 * attribute values, dim compatibility) and set dtype/rank/dims of each
 * output value. The rules follow ONNX opsets 7..17, reading g->opset where an
 * attribute became an input. A model is untrusted input: every problem is an
 * error through tb_node_error, never an assert, and dims are kept within
 * 2^31-1 (as is every element count) so later int32 arithmetic cannot wrap.
 *
 * Canonicalisation: Conv / MaxPool / AveragePool get explicit kernel_shape,
 * strides, dilations and pads and lose auto_pad, so later stages read one
 * form. The resolvers exported in shape.h are the single definition of each
 * rule; the shape functions below use them too.
 */
#include "shape.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define DIM_MAX INT64_C(2147483647)
#define DEFAULT_OPSET 17

#define NODE(g, id) (&(g)->nodes[id])
/* Report an error on the current node (needs g, node, err in scope). */
#define FAIL(...) return (tb_node_error(err, NODE(g, node), __VA_ARGS__), 1)

static int opset_of(const tb_graph *g) { return g->opset > 0 ? g->opset : DEFAULT_OPSET; }

/* ---- small utilities ------------------------------------------------------ */

/* Present input i of the node, or NULL when omitted / beyond n_inputs. */
static tb_value *in(tb_graph *g, int node, int i) {
    const tb_node *n = NODE(g, node);
    if (i < 0 || i >= n->n_inputs || n->inputs[i] < 0 || n->inputs[i] >= g->n_values) return NULL;
    return &g->values[n->inputs[i]];
}

static int present_out(tb_graph *g, int node, int k) {
    const tb_node *n = NODE(g, node);
    return k < n->n_outputs && n->outputs[k] >= 0;
}

static const char *fmt_shape(char *buf, size_t cap, int rank, const int64_t *d) {
    size_t k = 0;
    buf[0] = 0;
    if (rank < 0) {
        snprintf(buf, cap, "[?]");
        return buf;
    }
    k += (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < rank && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%lld", i ? "," : "", (long long)d[i]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
    return buf;
}
#define SHAPE_BUF 128

/* Element count of dims, or -1 if a dim is negative or above DIM_MAX or the
 * product of the non-zero dims exceeds DIM_MAX: a zero dim elsewhere does
 * not excuse huge dims, so every stride of every tensor fits in an int32.
 * (Each partial product is checked: no overflow.) */
static int64_t checked_numel(int rank, const int64_t *d) {
    int zero = 0;
    int64_t p = 1;
    for (int i = 0; i < rank; i++) {
        if (d[i] < 0 || d[i] > DIM_MAX) return -1;
        if (d[i] == 0) {
            zero = 1;
            continue;
        }
        p *= d[i]; /* both factors <= 2^31-1: no overflow */
        if (p > DIM_MAX) return -1;
    }
    return zero ? 0 : p;
}

/* Product of d[lo..hi), or -1 if above DIM_MAX (dims already validated). */
static int64_t span_product(const int64_t *d, int lo, int hi) {
    int64_t p = 1;
    for (int i = lo; i < hi; i++) {
        if (d[i] == 0) return 0;
    }
    for (int i = lo; i < hi; i++) {
        p *= d[i];
        if (p > DIM_MAX) return -1;
    }
    return p;
}

/* Sets output k's dtype and shape; an omitted output is skipped. */
static int set_out(tb_graph *g, int node, int k, tb_dtype dtype, int rank, const int64_t *dims,
                   tb_error *err) {
    if (!present_out(g, node, k)) return 0;
    char b[SHAPE_BUF];
    if (rank < 0 || rank > TB_MAX_RANK)
        FAIL("output %d would have rank %d, more than the supported %d", k, rank, TB_MAX_RANK);
    for (int i = 0; i < rank; i++)
        if (dims[i] < 0)
            FAIL("output %d would have a negative dim: %s", k, fmt_shape(b, sizeof b, rank, dims));
    if (checked_numel(rank, dims) < 0)
        FAIL("tensor too large: output %d would be %s (dims and element counts must be <= 2^31-1)",
             k, fmt_shape(b, sizeof b, rank, dims));
    tb_value *v = &g->values[NODE(g, node)->outputs[k]];
    if (v->data) {
        /* Folded data must keep matching its shape. */
        int same = v->rank == rank && v->dtype == dtype;
        for (int i = 0; same && i < rank; i++) same = v->dims[i] == dims[i];
        if (!same) FAIL("output %d already holds constant data of another shape", k);
    }
    v->dtype = dtype;
    v->rank = rank;
    for (int i = 0; i < TB_MAX_RANK; i++) v->dims[i] = i < rank ? dims[i] : 0;
    return 0;
}

static int same_out(tb_graph *g, int node, int k, const tb_value *x, tb_error *err) {
    return set_out(g, node, k, x->dtype, x->rank, x->dims, err);
}

/* ---- generic validation ------------------------------------------------ */

/* Checks ids, input shapes and output slots: what every op relies on. */
static int check_node(tb_graph *g, int node, tb_error *err) {
    if (node < 0 || node >= g->n_nodes) return tb_error_set(err, "node %d does not exist", node);
    tb_node *n = NODE(g, node);
    if ((int)n->op <= (int)TB_OP_NONE || (int)n->op >= (int)TB_OP_COUNT)
        return tb_error_set(err, "node '%s': unknown operator %d", n->name ? n->name : "", (int)n->op);
    if (n->n_inputs < 0 || n->n_inputs > TB_MAX_IO) FAIL("bad input count %d", n->n_inputs);
    if (n->n_outputs < 0 || n->n_outputs > TB_MAX_IO) FAIL("bad output count %d", n->n_outputs);
    for (int i = 0; i < n->n_inputs; i++) {
        int id = n->inputs[i];
        if (id < -1 || id >= g->n_values) FAIL("input %d refers to value %d, which does not exist", i, id);
        if (id < 0) continue;
        const tb_value *v = &g->values[id];
        if (v->rank < 0)
            FAIL("input %d ('%s') has no known shape (is the graph in topological order?)", i, v->name);
        if (v->rank > TB_MAX_RANK) FAIL("input %d has rank %d, more than the supported %d", i, v->rank, TB_MAX_RANK);
        if ((int)v->dtype <= (int)TB_DTYPE_NONE || (int)v->dtype >= (int)TB_DTYPE_COUNT)
            FAIL("input %d ('%s') has no valid dtype", i, v->name);
        for (int d = 0; d < v->rank; d++)
            if (v->dims[d] < 0) FAIL("input %d has a negative dim", i);
        if (checked_numel(v->rank, v->dims) < 0) {
            char b[SHAPE_BUF];
            FAIL("tensor too large: input %d is %s", i, fmt_shape(b, sizeof b, v->rank, v->dims));
        }
    }
    for (int k = 0; k < n->n_outputs; k++) {
        int id = n->outputs[k];
        if (id < -1 || id >= g->n_values) FAIL("output %d refers to value %d, which does not exist", k, id);
        if (id < 0) continue;
        const tb_value *v = &g->values[id];
        /* Writing a shape over a graph input or a constant would desynchronise
         * its dims from its data. */
        if (tb_value_is_graph_input(g, id) || (v->data && v->producer != node))
            FAIL("output %d ('%s') is a graph input or a constant", k, v->name);
        for (int i = 0; i < n->n_inputs; i++)
            if (n->inputs[i] == id) FAIL("output %d ('%s') is also input %d", k, v->name, i);
    }
    return 0;
}

static int want_io(tb_graph *g, int node, int in_lo, int in_hi, int out_lo, int out_hi, tb_error *err) {
    const tb_node *n = NODE(g, node);
    if (n->n_inputs < in_lo || n->n_inputs > in_hi) {
        if (in_lo == in_hi) FAIL("expected %d input%s, got %d", in_lo, in_lo == 1 ? "" : "s", n->n_inputs);
        FAIL("expected %d to %d inputs, got %d", in_lo, in_hi, n->n_inputs);
    }
    for (int i = 0; i < in_lo; i++)
        if (n->inputs[i] < 0) FAIL("input %d is required but missing", i);
    if (n->n_outputs < out_lo || n->n_outputs > out_hi) {
        if (out_lo == out_hi) FAIL("expected %d output%s, got %d", out_lo, out_lo == 1 ? "" : "s", n->n_outputs);
        FAIL("expected %d to %d outputs, got %d", out_lo, out_hi, n->n_outputs);
    }
    return 0;
}

#define DT(t) (1u << (t))
#define DT_F32 DT(TB_F32)
#define DT_ARITH (DT(TB_F32) | DT(TB_I32) | DT(TB_I64))
#define DT_INDEX (DT(TB_I32) | DT(TB_I64))
/* Every numeric type tb_binary_any runs (all but bool). */
#define DT_NUM (DT_F32 | DT(TB_F64) | DT(TB_I8) | DT(TB_I16) | DT(TB_I32) | DT(TB_I64) | DT(TB_U8) | \
                DT(TB_U16) | DT(TB_U32) | DT(TB_U64))
#define DT_BOOL DT(TB_BOOL)
#define DT_ANY (~0u)
#define DT_Q8 (DT(TB_I8) | DT(TB_U8))

static int want_dtype(tb_graph *g, int node, int i, unsigned mask, tb_error *err) {
    const tb_value *v = in(g, node, i);
    if (!v || (mask & DT(v->dtype))) return 0;
    char list[160] = "";
    int total = 0, seen = 0;
    for (int t = 1; t < TB_DTYPE_COUNT; t++) total += (mask & DT(t)) != 0;
    for (int t = 1; t < TB_DTYPE_COUNT; t++) {
        if (!(mask & DT(t))) continue;
        seen++;
        size_t k = strlen(list);
        snprintf(list + k, sizeof list - k, "%s%s", seen == 1 ? "" : seen == total ? " or " : ", ",
                 tb_dtype_name((tb_dtype)t));
    }
    FAIL("input %d has dtype %s, expected %s", i, tb_dtype_name(v->dtype), list);
}

static int want_same_dtype(tb_graph *g, int node, int i, int j, tb_error *err) {
    const tb_value *a = in(g, node, i), *b = in(g, node, j);
    if (!a || !b || a->dtype == b->dtype) return 0;
    FAIL("input %d has dtype %s but input %d has dtype %s", j, tb_dtype_name(b->dtype), i,
         tb_dtype_name(a->dtype));
}

static int want_rank(tb_graph *g, int node, int i, int lo, int hi, tb_error *err) {
    const tb_value *v = in(g, node, i);
    if (!v || (v->rank >= lo && v->rank <= hi)) return 0;
    if (lo == hi) FAIL("input %d has rank %d, expected %d", i, v->rank, lo);
    if (hi >= TB_MAX_RANK) FAIL("input %d has rank %d, expected at least %d", i, v->rank, lo);
    FAIL("input %d has rank %d, expected %d to %d", i, v->rank, lo, hi);
}

/* ---- attributes (kind-checked: a wrong kind is an error, not a default) --- */

static int attr_int(tb_graph *g, int node, const char *name, int64_t dflt, int64_t *out, tb_error *err) {
    const tb_attr *a = tb_node_attr(NODE(g, node), name);
    *out = dflt;
    if (!a) return 0;
    if (a->kind != TB_ATTR_INT) FAIL("attribute '%s' must be an int", name);
    *out = a->i;
    return 0;
}

/* An int attribute that must be 0 or 1. */
static int attr_bool(tb_graph *g, int node, const char *name, int dflt, int *out, tb_error *err) {
    int64_t v;
    if (attr_int(g, node, name, dflt, &v, err)) return 1;
    if (v != 0 && v != 1) FAIL("attribute '%s' must be 0 or 1, got %lld", name, (long long)v);
    *out = (int)v;
    return 0;
}

static int attr_float(tb_graph *g, int node, const char *name, float dflt, float *out, tb_error *err) {
    const tb_attr *a = tb_node_attr(NODE(g, node), name);
    *out = dflt;
    if (!a) return 0;
    if (a->kind == TB_ATTR_FLOAT) *out = a->f;
    else if (a->kind == TB_ATTR_INT) *out = (float)a->i;
    else FAIL("attribute '%s' must be a float", name);
    return 0;
}

static int attr_string(tb_graph *g, int node, const char *name, const char *dflt, const char **out,
                       tb_error *err) {
    const tb_attr *a = tb_node_attr(NODE(g, node), name);
    *out = dflt;
    if (!a) return 0;
    if (a->kind != TB_ATTR_STRING || !a->s) FAIL("attribute '%s' must be a string", name);
    *out = a->s;
    return 0;
}

/* *count = -1 when absent; an error when longer than max. */
static int attr_ints(tb_graph *g, int node, const char *name, int64_t *out, int max, int *count,
                     tb_error *err) {
    const tb_attr *a = tb_node_attr(NODE(g, node), name);
    *count = -1;
    if (!a) return 0;
    if (a->kind != TB_ATTR_INTS || a->n < 0 || (a->n > 0 && !a->ints))
        FAIL("attribute '%s' must be a list of ints", name);
    if (a->n > max) FAIL("attribute '%s' has %d values, more than %d", name, a->n, max);
    for (int i = 0; i < a->n; i++) out[i] = a->ints[i];
    *count = a->n;
    return 0;
}

static int no_attr(tb_graph *g, int node, const char *name, const char *why, tb_error *err) {
    if (tb_node_attr(NODE(g, node), name)) FAIL("attribute '%s' %s (model opset %d)", name, why, opset_of(g));
    return 0;
}

/* ---- constants ------------------------------------------------------------ */

int tb_const_ints(const tb_graph *g, int value, int64_t *out, int max, int *n) {
    *n = 0;
    if (value < 0 || value >= g->n_values) return -2;
    const tb_value *v = &g->values[value];
    if (!v->data) return -1;
    if (v->dtype != TB_I64 && v->dtype != TB_I32) return -2;
    int64_t cnt;
    if (v->rank == 0) cnt = 1;
    else if (v->rank == 1) cnt = v->dims[0];
    else return -2;
    if (cnt < 0) return -2;
    if (cnt > max) return -3;
    for (int64_t i = 0; i < cnt; i++) {
        if (v->dtype == TB_I64) {
            memcpy(&out[i], (const char *)v->data + i * 8, 8);
        } else {
            int32_t t;
            memcpy(&t, (const char *)v->data + i * 4, 4);
            out[i] = t;
        }
    }
    *n = (int)cnt;
    return 0;
}

/* tb_const_ints on input i with a message naming the input ("shape"). */
static int input_ints(tb_graph *g, int node, int i, const char *what, int64_t *out, int max, int *n,
                      tb_error *err) {
    const tb_node *nd = NODE(g, node);
    int id = i < nd->n_inputs ? nd->inputs[i] : -1;
    const tb_value *v = in(g, node, i);
    switch (tb_const_ints(g, id, out, max, n)) {
    case 0: return 0;
    case -1: FAIL("the '%s' input must be a constant (tyboxc needs static shapes)", what);
    case -3: FAIL("the '%s' input has %lld values, more than %d", what, (long long)tb_value_numel(v), max);
    default:
        FAIL("the '%s' input must be an int64 scalar or 1-D tensor, got %s of rank %d", what,
             v ? tb_dtype_name(v->dtype) : "nothing", v ? v->rank : -1);
    }
}

static double elem_double(tb_dtype t, const void *data, int64_t i) {
    const char *p = (const char *)data;
    switch (t) {
#define DTYPE(id, text, onnx, size, ctype) \
    case TB_##id: {                        \
        ctype x;                           \
        memcpy(&x, p + i * size, size);    \
        return (double)x;                  \
    }
#include "dtypes.def"
#undef DTYPE
    default: return 0;
    }
}

static int64_t elem_i64(tb_dtype t, const void *data, int64_t i) {
    const char *p = (const char *)data;
    if (t == TB_I64 || t == TB_U64) {
        int64_t x;
        memcpy(&x, p + i * 8, 8);
        return x;
    }
    double d = elem_double(t, data, i);
    if (!(d > -9.2e18 && d < 9.2e18)) return d > 0 ? INT64_MAX : INT64_MIN;
    return (int64_t)d;
}

/* A constant one-element input (rank 0, or rank 1 of one value). */
static int input_scalar(tb_graph *g, int node, int i, const char *what, int need_const, tb_error *err) {
    const tb_value *v = in(g, node, i);
    if (!v) return 0;
    if (need_const && !v->data) FAIL("the '%s' input must be a constant", what);
    if (v->rank > 1 || checked_numel(v->rank, v->dims) != 1)
        FAIL("the '%s' input must be a scalar, got rank %d with %lld values", what, v->rank,
             (long long)tb_value_numel(v));
    return 0;
}

/* Data-dependent shapes. When an input that the output shape depends on is
 * not a constant (yet), inference cannot compute the shape: it is an error,
 * unless every output already carries a shape (textual IR written before
 * const-fold, re-checked in full once folding made the input a constant).
 * is_pending: input i is present and not a constant. */
static int is_pending(tb_graph *g, int node, int i) {
    const tb_value *v = in(g, node, i);
    return v && !v->data;
}

/* What a recorded output must share with input 0. */
enum { SAME_DTYPE = 1, SAME_RANK = 2, SAME_NUMEL = 4, BROADCAST_OF = 8 };

/* Accepts the recorded output shapes (see above) or fails. `same` (SAME_*
 * flags) lists what each output must share with input 0; BROADCAST_OF: input
 * 0 must broadcast to the output (Expand). */
static int accept_recorded(tb_graph *g, int node, const char *what, int same, tb_error *err) {
    const tb_node *n = NODE(g, node);
    const tb_value *x = in(g, node, 0);
    for (int k = 0; k < n->n_outputs; k++) {
        if (n->outputs[k] < 0) continue;
        const tb_value *y = &g->values[n->outputs[k]];
        if (y->rank < 0 || y->rank > TB_MAX_RANK || (int)y->dtype <= (int)TB_DTYPE_NONE ||
            (int)y->dtype >= (int)TB_DTYPE_COUNT)
            FAIL("the '%s' input must be a constant (tyboxc needs static shapes)", what);
        if (checked_numel(y->rank, y->dims) < 0) FAIL("tensor too large: output %d", k);
        if (!x) continue;
        char s1[SHAPE_BUF], s2[SHAPE_BUF];
        if ((same & SAME_DTYPE) && y->dtype != x->dtype)
            FAIL("output %d has dtype %s, expected %s", k, tb_dtype_name(y->dtype), tb_dtype_name(x->dtype));
        if ((same & SAME_RANK) && y->rank != x->rank) FAIL("output %d has rank %d, expected %d", k, y->rank, x->rank);
        if ((same & SAME_NUMEL) && checked_numel(y->rank, y->dims) != checked_numel(x->rank, x->dims))
            FAIL("cannot reshape %s into %s", fmt_shape(s1, sizeof s1, x->rank, x->dims),
                 fmt_shape(s2, sizeof s2, y->rank, y->dims));
        int r;
        int64_t bd[TB_MAX_RANK];
        if (same & BROADCAST_OF) {
            int ok = !tb_broadcast_shape(x->rank, x->dims, y->rank, y->dims, &r, bd) && r == y->rank;
            for (int d = 0; ok && d < r; d++) ok = bd[d] == y->dims[d];
            if (!ok)
                FAIL("input of shape %s cannot be expanded to %s", fmt_shape(s1, sizeof s1, x->rank, x->dims),
                     fmt_shape(s2, sizeof s2, y->rank, y->dims));
        }
    }
    return 0;
}

/* ---- shared shape rules ----------------------------------------------- */

int tb_broadcast_shape(int ra, const int64_t *da, int rb, const int64_t *db, int *r_out, int64_t *d_out) {
    if (ra < 0 || rb < 0 || ra > TB_MAX_RANK || rb > TB_MAX_RANK) return -1;
    int r = ra > rb ? ra : rb;
    int64_t tmp[TB_MAX_RANK];
    for (int i = 0; i < r; i++) {
        /* ONNX multidirectional broadcasting: align on the right, missing dims are 1. */
        int ia = i - (r - ra), ib = i - (r - rb);
        int64_t a = ia >= 0 ? da[ia] : 1, b = ib >= 0 ? db[ib] : 1;
        if (a == b || b == 1) tmp[i] = a;
        else if (a == 1) tmp[i] = b;
        else return -1;
    }
    for (int i = 0; i < r; i++) d_out[i] = tmp[i];
    *r_out = r;
    return 0;
}

int tb_norm_axis(int64_t axis, int rank, int *out) {
    if (rank < 0 || axis < -(int64_t)rank || axis >= rank) return -1;
    *out = (int)(axis < 0 ? axis + rank : axis);
    return 0;
}

static int norm_axis(tb_graph *g, int node, int64_t axis, int rank, const char *what, tb_error *err, int *out) {
    if (tb_norm_axis(axis, rank, out))
        FAIL("%s %lld is out of range for rank %d (accepted: %d to %d)", what, (long long)axis, rank, -rank,
             rank - 1);
    return 0;
}

/* ---- conv / pool geometry ----------------------------------------------- */

typedef struct {
    int nsp;                    /* spatial dims: 1 or 2 */
    int64_t kernel[2], stride[2], dil[2];
    int64_t pads[4];            /* begins then ends */
    int64_t out[2];
} geom;

/* Resolves kernel/strides/dilations/pads (auto_pad -> explicit) and the
 * output spatial size. wkernel: the weight's spatial dims (Conv) or NULL
 * (pools, where kernel_shape is required). */
static int resolve_geom(tb_graph *g, int node, const int64_t *in_sp, int nsp, const int64_t *wkernel,
                        int ceil_mode, int is_pool, geom *o, tb_error *err) {
    int64_t v[8];
    int c;
    o->nsp = nsp;
    if (attr_ints(g, node, "kernel_shape", v, 8, &c, err)) return 1;
    if (c < 0 && !wkernel) FAIL("attribute 'kernel_shape' is required");
    if (c >= 0 && c != nsp) FAIL("kernel_shape must have %d values, got %d", nsp, c);
    for (int i = 0; i < nsp; i++) {
        o->kernel[i] = c >= 0 ? v[i] : wkernel[i];
        if (c >= 0 && wkernel && v[i] != wkernel[i])
            FAIL("kernel_shape[%d] is %lld but the weight's spatial dim is %lld", i, (long long)v[i],
                 (long long)wkernel[i]);
        if (o->kernel[i] < 1 || o->kernel[i] > DIM_MAX)
            FAIL("kernel size %lld on spatial axis %d is invalid", (long long)o->kernel[i], i);
    }
    if (attr_ints(g, node, "strides", v, 8, &c, err)) return 1;
    if (c >= 0 && c != nsp) FAIL("strides must have %d values, got %d", nsp, c);
    for (int i = 0; i < nsp; i++) {
        o->stride[i] = c >= 0 ? v[i] : 1;
        if (o->stride[i] < 1 || o->stride[i] > DIM_MAX)
            FAIL("stride %lld on spatial axis %d must be >= 1", (long long)o->stride[i], i);
    }
    if (attr_ints(g, node, "dilations", v, 8, &c, err)) return 1;
    if (c >= 0 && c != nsp) FAIL("dilations must have %d values, got %d", nsp, c);
    for (int i = 0; i < nsp; i++) {
        o->dil[i] = c >= 0 ? v[i] : 1;
        if (o->dil[i] < 1 || o->dil[i] > DIM_MAX)
            FAIL("dilation %lld on spatial axis %d must be >= 1", (long long)o->dil[i], i);
    }
    const char *ap;
    if (attr_string(g, node, "auto_pad", "NOTSET", &ap, err)) return 1;
    int mode; /* 0 NOTSET, 1 VALID, 2 SAME_UPPER, 3 SAME_LOWER */
    if (!strcmp(ap, "NOTSET") || !*ap) mode = 0;
    else if (!strcmp(ap, "VALID")) mode = 1;
    else if (!strcmp(ap, "SAME_UPPER")) mode = 2;
    else if (!strcmp(ap, "SAME_LOWER")) mode = 3;
    else FAIL("auto_pad '%s' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER", ap);

    if (attr_ints(g, node, "pads", v, 8, &c, err)) return 1;
    if (mode == 0) {
        if (c >= 0 && c != 2 * nsp) FAIL("pads must have %d values, got %d", 2 * nsp, c);
        for (int i = 0; i < 2 * nsp; i++) {
            o->pads[i] = c >= 0 ? v[i] : 0;
            if (o->pads[i] < 0) FAIL("negative pads are not supported (pads[%d] = %lld)", i, (long long)o->pads[i]);
            if (o->pads[i] > DIM_MAX) FAIL("pads[%d] = %lld is too large", i, (long long)o->pads[i]);
        }
    }
    for (int i = 0; i < nsp; i++) {
        int64_t dk = (o->kernel[i] - 1) * o->dil[i] + 1; /* effective kernel: < 2^62 */
        if (mode == 1) {
            o->pads[i] = o->pads[i + nsp] = 0;
        } else if (mode >= 2) {
            /* auto_pad SAME_*: output = ceil(in / stride); the total pad is
             * (out-1)*stride + effective_kernel - in, floored at 0 (an
             * explicit pads attribute is ignored, as onnxruntime does). */
            int64_t target = (in_sp[i] + o->stride[i] - 1) / o->stride[i];
            int64_t total = (target - 1) * o->stride[i] + dk - in_sp[i];
            if (total < 0) total = 0;
            /* SAME_UPPER puts the extra (odd) pad at the end, SAME_LOWER at the beginning. */
            int64_t small = total / 2, big = total - small;
            o->pads[i] = mode == 2 ? small : big;
            o->pads[i + nsp] = mode == 2 ? big : small;
        }
        int64_t pb = o->pads[i], pe = o->pads[i + nsp];
        int64_t span = in_sp[i] + pb + pe - dk;
        if (span < 0)
            FAIL("the kernel (effective size %lld) is larger than the padded input (%lld) on spatial axis %d",
                 (long long)dk, (long long)(in_sp[i] + pb + pe), i);
        if (is_pool && (pb >= dk || pe >= dk))
            /* onnxruntime: "Pad should be smaller than kernel"; a window wholly
             * in the padding would have no input element. */
            FAIL("pads on spatial axis %d (%lld, %lld) must be smaller than the kernel (%lld)", i,
                 (long long)pb, (long long)pe, (long long)dk);
        int64_t out = span / o->stride[i] + 1;
        if (ceil_mode) {
            out = (span + o->stride[i] - 1) / o->stride[i] + 1;
            /* ceil_mode: the last window must start inside the input or its
             * begin padding, else it is dropped (PyTorch, onnxruntime, ONNX
             * reference implementation). */
            if ((out - 1) * o->stride[i] >= in_sp[i] + pb) out--;
        }
        o->out[i] = out;
    }
    return 0;
}

/* Writes the resolved geometry back as the canonical attributes. */
static void canonicalise_geom(tb_graph *g, int node, const geom *o) {
    tb_node_set_ints(g, node, "kernel_shape", o->nsp, o->kernel);
    tb_node_set_ints(g, node, "strides", o->nsp, o->stride);
    tb_node_set_ints(g, node, "dilations", o->nsp, o->dil);
    tb_node_set_ints(g, node, "pads", 2 * o->nsp, o->pads);
    tb_node_remove_attr(g, node, "auto_pad");
}

/* ---- convolution, dense, pooling -------------------------------------- */

/* Conv's rule with x, w and the optional bias at inputs xi, wi, bi (QLinearConv
 * and ConvInteger have their operands elsewhere); dtypes are checked by the caller. */
static int conv_out(tb_graph *g, int node, int xi, int wi, int bi, tb_dtype out, tb_error *err) {
    tb_value *x = in(g, node, xi), *w = in(g, node, wi), *b = in(g, node, bi);
    if (x->rank == 5) FAIL("3-D Conv is not supported");
    if (x->rank != 3 && x->rank != 4)
        FAIL("input %d has rank %d, expected 3 (1-D Conv) or 4 (2-D Conv)", xi, x->rank);
    if (want_rank(g, node, wi, x->rank, x->rank, err) || want_rank(g, node, bi, 1, 1, err)) return 1;
    int64_t group;
    if (attr_int(g, node, "group", 1, &group, err)) return 1;
    int64_t C = x->dims[1], M = w->dims[0];
    if (group < 1 || group > DIM_MAX) FAIL("group %lld must be >= 1", (long long)group);
    if (C % group) FAIL("input channels (%lld) are not divisible by group (%lld)", (long long)C, (long long)group);
    if (w->dims[1] != C / group)
        FAIL("input %d has %lld input channels per group, expected %lld (%lld channels / group %lld)", wi,
             (long long)w->dims[1], (long long)(C / group), (long long)C, (long long)group);
    if (M % group) FAIL("output channels (%lld) are not divisible by group (%lld)", (long long)M, (long long)group);
    if (b && b->dims[0] != M)
        FAIL("input %d (bias) has %lld values, expected %lld (output channels)", bi, (long long)b->dims[0],
             (long long)M);
    geom o;
    int nsp = x->rank - 2;
    if (resolve_geom(g, node, x->dims + 2, nsp, w->dims + 2, 0, 0, &o, err)) return 1;
    int64_t od[4] = {x->dims[0], M, o.out[0], nsp > 1 ? o.out[1] : 0};
    if (set_out(g, node, 0, out, x->rank, od, err)) return 1;
    canonicalise_geom(g, node, &o);
    return 0;
}

static int shape_conv(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 2, 3, 1, 1, err)) return 1;
    for (int i = 0; i < 3; i++)
        if (want_dtype(g, node, i, DT_F32, err)) return 1;
    return conv_out(g, node, 0, 1, 2, TB_F32, err);
}

/* Pooling's rule on input 0 (also QLinearAveragePool's X, whose quantization
 * parameters follow it); the dtype is checked by the caller. */
static int pool_out(tb_graph *g, int node, int is_max, tb_dtype out, tb_error *err) {
    tb_value *x = in(g, node, 0);
    if (x->rank == 5) FAIL("3-D pooling is not supported");
    if (x->rank != 3 && x->rank != 4) FAIL("input 0 has rank %d, expected 3 (1-D pooling) or 4 (2-D pooling)", x->rank);
    int ceil_mode, cip;
    if (attr_bool(g, node, "ceil_mode", 0, &ceil_mode, err)) return 1;
    if (!is_max && attr_bool(g, node, "count_include_pad", 0, &cip, err)) return 1;
    if (is_max && attr_bool(g, node, "storage_order", 0, &cip, err)) return 1;
    geom o;
    int nsp = x->rank - 2;
    if (resolve_geom(g, node, x->dims + 2, nsp, NULL, ceil_mode, 1, &o, err)) return 1;
    int64_t od[4] = {x->dims[0], x->dims[1], o.out[0], nsp > 1 ? o.out[1] : 0};
    if (set_out(g, node, 0, out, x->rank, od, err)) return 1;
    canonicalise_geom(g, node, &o);
    return 0;
}

static int pool(tb_graph *g, int node, int is_max, tb_error *err) {
    if (want_io(g, node, 1, 1, 1, is_max ? 2 : 1, err)) return 1;
    /* MaxPool's second output (Indices, opset 8+) is optional. */
    if (present_out(g, node, 1)) FAIL("the Indices output of MaxPool is not supported");
    /* MaxPool also runs on int8 / uint8 (quantized graphs). */
    if (want_dtype(g, node, 0, is_max ? DT_F32 | DT_Q8 : DT_F32, err)) return 1;
    return pool_out(g, node, is_max, in(g, node, 0)->dtype, err);
}

static int shape_maxpool(tb_graph *g, int node, tb_error *err) { return pool(g, node, 1, err); }
static int shape_avgpool(tb_graph *g, int node, tb_error *err) { return pool(g, node, 0, err); }

static int global_pool(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 1, 1, 1, 1, err)) return 1;
    if (want_rank(g, node, 0, 2, TB_MAX_RANK, err) || want_dtype(g, node, 0, DT_F32, err)) return 1;
    tb_value *x = in(g, node, 0);
    int64_t od[TB_MAX_RANK];
    for (int i = 0; i < x->rank; i++) od[i] = i < 2 ? x->dims[i] : 1;
    return set_out(g, node, 0, TB_F32, x->rank, od, err);
}

static int shape_globalavgpool(tb_graph *g, int node, tb_error *err) { return global_pool(g, node, err); }
static int shape_globalmaxpool(tb_graph *g, int node, tb_error *err) { return global_pool(g, node, err); }

/* Gemm's rule on A, B and the optional C at inputs ai, bi, ci (QGemm has its
 * operands elsewhere); dtypes are checked by the caller. */
static int gemm_out(tb_graph *g, int node, int ai, int bi, int ci, tb_dtype out, tb_error *err) {
    if (want_rank(g, node, ai, 2, 2, err) || want_rank(g, node, bi, 2, 2, err) ||
        want_rank(g, node, ci, 0, 2, err))
        return 1;
    int ta, tb;
    float alpha, beta;
    if (attr_bool(g, node, "transA", 0, &ta, err) || attr_bool(g, node, "transB", 0, &tb, err) ||
        attr_float(g, node, "alpha", 1, &alpha, err) || attr_float(g, node, "beta", 1, &beta, err))
        return 1;
    tb_value *a = in(g, node, ai), *b = in(g, node, bi), *c = in(g, node, ci);
    int64_t M = a->dims[ta], K = a->dims[!ta], Kb = b->dims[tb], N = b->dims[!tb];
    if (K != Kb)
        FAIL("inner dimensions differ: A%s gives K = %lld, B%s gives K = %lld", ta ? "^T" : "", (long long)K,
             tb ? "^T" : "", (long long)Kb);
    int64_t od[2] = {M, N};
    if (c) {
        /* Gemm: C is unidirectionally broadcastable to [M, N]. */
        int r;
        int64_t bd[TB_MAX_RANK];
        if (tb_broadcast_shape(c->rank, c->dims, 2, od, &r, bd) || bd[0] != M || bd[1] != N) {
            char s1[SHAPE_BUF];
            FAIL("input %d (C) of shape %s does not broadcast to [%lld,%lld]", ci,
                 fmt_shape(s1, sizeof s1, c->rank, c->dims), (long long)M, (long long)N);
        }
    }
    return set_out(g, node, 0, out, 2, od, err);
}

static int shape_gemm(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 2, 3, 1, 1, err)) return 1;
    for (int i = 0; i < 3; i++)
        if (want_dtype(g, node, i, DT_F32, err)) return 1;
    return gemm_out(g, node, 0, 1, 2, TB_F32, err);
}

/* MatMul's rule on inputs ai and bi (QLinearMatMul's b is input 3). */
static int matmul_out(tb_graph *g, int node, int ai, int bi, tb_dtype out, tb_error *err) {
    if (want_rank(g, node, ai, 1, TB_MAX_RANK, err) || want_rank(g, node, bi, 1, TB_MAX_RANK, err)) return 1;
    tb_value *a = in(g, node, ai), *b = in(g, node, bi);
    /* numpy matmul: a 1-D A is [1,K] (the 1 is dropped from the result), a
     * 1-D B is [K,1] (likewise); leading dims broadcast. */
    int64_t K = a->dims[a->rank - 1];
    int64_t Kb = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
    if (K != Kb)
        FAIL("inner dimensions differ: input %d has K = %lld, input %d has K = %lld", ai, (long long)K, bi,
             (long long)Kb);
    int ra = a->rank >= 2 ? a->rank - 2 : 0, rb = b->rank >= 2 ? b->rank - 2 : 0;
    int r;
    int64_t od[TB_MAX_RANK + 2];
    if (tb_broadcast_shape(ra, a->dims, rb, b->dims, &r, od)) {
        char s1[SHAPE_BUF], s2[SHAPE_BUF];
        FAIL("batch dims %s and %s do not broadcast", fmt_shape(s1, sizeof s1, ra, a->dims),
             fmt_shape(s2, sizeof s2, rb, b->dims));
    }
    if (a->rank >= 2) od[r++] = a->dims[a->rank - 2];
    if (b->rank >= 2) od[r++] = b->dims[b->rank - 1];
    return set_out(g, node, 0, out, r, od, err);
}

static int shape_matmul(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 2, 2, 1, 1, err)) return 1;
    if (want_dtype(g, node, 0, DT_F32, err) || want_dtype(g, node, 1, DT_F32, err)) return 1;
    return matmul_out(g, node, 0, 1, TB_F32, err);
}

static int shape_batchnorm(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 5, 5, 1, 5, err)) return 1;
    for (int k = 1; k < NODE(g, node)->n_outputs; k++)
        if (present_out(g, node, k)) FAIL("training-mode outputs (output %d) are not supported", k);
    int training;
    if (attr_bool(g, node, "training_mode", 0, &training, err)) return 1;
    if (training) FAIL("training_mode=1 is not supported");
    float eps;
    if (attr_float(g, node, "epsilon", 1e-5f, &eps, err)) return 1;
    if (want_rank(g, node, 0, 2, TB_MAX_RANK, err)) return 1;
    tb_value *x = in(g, node, 0);
    int64_t spatial;
    if (attr_int(g, node, "spatial", 1, &spatial, err)) return 1;
    /* BatchNormalization-7: spatial=0 means per-element statistics. */
    if (spatial == 0 && x->rank > 2) FAIL("spatial=0 is not supported");
    for (int i = 0; i < 5; i++) {
        if (want_dtype(g, node, i, DT_F32, err)) return 1;
        if (i == 0) continue;
        tb_value *p = in(g, node, i);
        if (p->rank != 1 || p->dims[0] != x->dims[1]) {
            char s[SHAPE_BUF];
            FAIL("input %d has shape %s, expected [%lld] (the channel count)", i,
                 fmt_shape(s, sizeof s, p->rank, p->dims), (long long)x->dims[1]);
        }
    }
    return same_out(g, node, 0, x, err);
}

/* ---- elementwise ----------------------------------------------------------- */

/* Output 0 = inputs 0 and 1 broadcast, with dtype `dtype`. */
static int broadcast_out(tb_graph *g, int node, tb_dtype dtype, tb_error *err) {
    tb_value *a = in(g, node, 0), *b = in(g, node, 1);
    int r;
    int64_t od[TB_MAX_RANK];
    if (tb_broadcast_shape(a->rank, a->dims, b->rank, b->dims, &r, od)) {
        char s1[SHAPE_BUF], s2[SHAPE_BUF];
        FAIL("inputs of shapes %s and %s are not broadcast-compatible", fmt_shape(s1, sizeof s1, a->rank, a->dims),
             fmt_shape(s2, sizeof s2, b->rank, b->dims));
    }
    return set_out(g, node, 0, dtype, r, od, err);
}

/* Two inputs of the same dtype in `dtypes`, broadcast; the output has
 * dtype out (TB_DTYPE_NONE: the inputs' dtype). */
static int binary_typed(tb_graph *g, int node, unsigned dtypes, tb_dtype out, tb_error *err) {
    if (want_io(g, node, 2, 2, 1, 1, err)) return 1;
    if (want_dtype(g, node, 0, dtypes, err) || want_dtype(g, node, 1, dtypes, err) ||
        want_same_dtype(g, node, 0, 1, err))
        return 1;
    return broadcast_out(g, node, out == TB_DTYPE_NONE ? in(g, node, 0)->dtype : out, err);
}

static int binary(tb_graph *g, int node, tb_error *err) {
    return binary_typed(g, node, DT_NUM, TB_DTYPE_NONE, err);
}

static int shape_add(tb_graph *g, int node, tb_error *err) { return binary(g, node, err); }
static int shape_sub(tb_graph *g, int node, tb_error *err) { return binary(g, node, err); }
static int shape_mul(tb_graph *g, int node, tb_error *err) { return binary(g, node, err); }
static int shape_div(tb_graph *g, int node, tb_error *err) { return binary(g, node, err); }

/* One input of an allowed dtype, the same shape out; float attributes checked. */
static int unary(tb_graph *g, int node, unsigned dtypes, const char *fattr1, const char *fattr2, tb_error *err) {
    if (want_io(g, node, 1, 1, 1, 1, err) || want_dtype(g, node, 0, dtypes, err)) return 1;
    float f;
    if (fattr1 && attr_float(g, node, fattr1, 0, &f, err)) return 1;
    if (fattr2 && attr_float(g, node, fattr2, 0, &f, err)) return 1;
    return same_out(g, node, 0, in(g, node, 0), err);
}

static int shape_relu(tb_graph *g, int node, tb_error *err) { return unary(g, node, DT_F32, NULL, NULL, err); }
static int shape_sigmoid(tb_graph *g, int node, tb_error *err) { return unary(g, node, DT_F32, NULL, NULL, err); }
static int shape_hardsigmoid(tb_graph *g, int node, tb_error *err) {
    return unary(g, node, DT_F32, "alpha", "beta", err);
}
static int shape_hardswish(tb_graph *g, int node, tb_error *err) { return unary(g, node, DT_F32, NULL, NULL, err); }
static int shape_leakyrelu(tb_graph *g, int node, tb_error *err) { return unary(g, node, DT_F32, "alpha", NULL, err); }
static int shape_tanh(tb_graph *g, int node, tb_error *err) { return unary(g, node, DT_F32, NULL, NULL, err); }
static int shape_exp(tb_graph *g, int node, tb_error *err) { return unary(g, node, DT_F32, NULL, NULL, err); }
static int shape_log(tb_graph *g, int node, tb_error *err) { return unary(g, node, DT_F32, NULL, NULL, err); }
static int shape_sqrt(tb_graph *g, int node, tb_error *err) { return unary(g, node, DT_F32, NULL, NULL, err); }
static int shape_reciprocal(tb_graph *g, int node, tb_error *err) { return unary(g, node, DT_F32, NULL, NULL, err); }
static int shape_abs(tb_graph *g, int node, tb_error *err) {
    return unary(g, node,
                 DT_F32 | DT(TB_I8) | DT(TB_I16) | DT(TB_I32) | DT(TB_I64) | DT(TB_U8) | DT(TB_U16) | DT(TB_U32) |
                     DT(TB_U64),
                 NULL, NULL, err);
}
static int shape_neg(tb_graph *g, int node, tb_error *err) {
    return unary(g, node, DT_F32 | DT(TB_I8) | DT(TB_I16) | DT(TB_I32) | DT(TB_I64), NULL, NULL, err);
}

static int shape_elu(tb_graph *g, int node, tb_error *err) { return unary(g, node, DT_F32, "alpha", NULL, err); }
static int shape_selu(tb_graph *g, int node, tb_error *err) { return unary(g, node, DT_F32, "alpha", "gamma", err); }
static int shape_celu(tb_graph *g, int node, tb_error *err) {
    float alpha;
    if (attr_float(g, node, "alpha", 1.0f, &alpha, err)) return 1;
    if (alpha == 0) FAIL("alpha must not be 0");
    return unary(g, node, DT_F32, NULL, NULL, err);
}
static int shape_thresholdedrelu(tb_graph *g, int node, tb_error *err) {
    return unary(g, node, DT_F32, "alpha", NULL, err);
}
static int shape_gelu(tb_graph *g, int node, tb_error *err) {
    const char *a;
    if (attr_string(g, node, "approximate", "none", &a, err)) return 1;
    if (strcmp(a, "none") && strcmp(a, "tanh")) FAIL("approximate '%s' is not none or tanh", a);
    return unary(g, node, DT_F32, NULL, NULL, err);
}
#define FLOAT_UNARY(stem) \
    static int shape_##stem(tb_graph *g, int node, tb_error *err) { return unary(g, node, DT_F32, NULL, NULL, err); }
FLOAT_UNARY(softplus)
FLOAT_UNARY(softsign)
FLOAT_UNARY(erf)
FLOAT_UNARY(floor)
FLOAT_UNARY(ceil)
FLOAT_UNARY(round)
FLOAT_UNARY(sign)
FLOAT_UNARY(sin)
FLOAT_UNARY(cos)
FLOAT_UNARY(tan)
FLOAT_UNARY(asin)
FLOAT_UNARY(acos)
FLOAT_UNARY(atan)
FLOAT_UNARY(sinh)
FLOAT_UNARY(cosh)
FLOAT_UNARY(asinh)
FLOAT_UNARY(acosh)
FLOAT_UNARY(atanh)
#undef FLOAT_UNARY

/* IsNaN / IsInf: float in, bool out; Not: bool in and out. */
static int unary_to_bool(tb_graph *g, int node, unsigned dtypes, tb_error *err) {
    if (want_io(g, node, 1, 1, 1, 1, err) || want_dtype(g, node, 0, dtypes, err)) return 1;
    tb_value *x = in(g, node, 0);
    return set_out(g, node, 0, TB_BOOL, x->rank, x->dims, err);
}
static int shape_isnan(tb_graph *g, int node, tb_error *err) { return unary_to_bool(g, node, DT_F32, err); }
static int shape_isinf(tb_graph *g, int node, tb_error *err) {
    int neg, pos;
    if (attr_bool(g, node, "detect_negative", 1, &neg, err) || attr_bool(g, node, "detect_positive", 1, &pos, err))
        return 1;
    return unary_to_bool(g, node, DT_F32, err);
}
static int shape_not(tb_graph *g, int node, tb_error *err) { return unary_to_bool(g, node, DT_BOOL, err); }

/* Pow: the exponent may have another numeric type; the output has the base's. */
static int shape_pow(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 2, 2, 1, 1, err) || want_dtype(g, node, 0, DT_NUM, err) ||
        want_dtype(g, node, 1, DT_NUM, err))
        return 1;
    return broadcast_out(g, node, in(g, node, 0)->dtype, err);
}

static int shape_mod(tb_graph *g, int node, tb_error *err) {
    int fmod_;
    if (attr_bool(g, node, "fmod", 0, &fmod_, err)) return 1;
    const tb_value *a = in(g, node, 0);
    if (a && (a->dtype == TB_F32 || a->dtype == TB_F64) && !fmod_)
        FAIL("fmod must be 1 for floating-point inputs (Mod spec)");
    return binary_typed(g, node, DT_NUM, TB_DTYPE_NONE, err);
}

/* PRelu: slope broadcasts to X (unidirectionally); the output is X's shape. */
int tb_prelu_per_channel(tb_graph *g, int node) {
    const tb_value *x = in(g, node, 0), *s = in(g, node, 1);
    return opset_of(g) < 7 && x && s && x->rank >= 2 && s->rank == 1 && s->dims[0] == x->dims[1] && s->dims[0] != 1;
}

static int shape_prelu(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 2, 2, 1, 1, err) || want_dtype(g, node, 0, DT_NUM, err) ||
        want_same_dtype(g, node, 0, 1, err))
        return 1;
    tb_value *x = in(g, node, 0), *s = in(g, node, 1);
    int r;
    int64_t od[TB_MAX_RANK];
    int ok = !tb_broadcast_shape(x->rank, x->dims, s->rank, s->dims, &r, od) && r == x->rank;
    for (int d = 0; ok && d < r; d++) ok = od[d] == x->dims[d];
    if (!ok && tb_prelu_per_channel(g, node)) ok = 1;
    if (!ok) {
        char s1[SHAPE_BUF], s2[SHAPE_BUF];
        FAIL("slope of shape %s does not broadcast to X's shape %s", fmt_shape(s1, sizeof s1, s->rank, s->dims),
             fmt_shape(s2, sizeof s2, x->rank, x->dims));
    }
    return same_out(g, node, 0, x, err);
}

static int shape_equal(tb_graph *g, int node, tb_error *err) {
    return binary_typed(g, node, DT_NUM | DT_BOOL, TB_BOOL, err);
}
static int shape_greater(tb_graph *g, int node, tb_error *err) { return binary_typed(g, node, DT_NUM, TB_BOOL, err); }
static int shape_less(tb_graph *g, int node, tb_error *err) { return binary_typed(g, node, DT_NUM, TB_BOOL, err); }
static int shape_greaterorequal(tb_graph *g, int node, tb_error *err) {
    return binary_typed(g, node, DT_NUM, TB_BOOL, err);
}
static int shape_lessorequal(tb_graph *g, int node, tb_error *err) {
    return binary_typed(g, node, DT_NUM, TB_BOOL, err);
}
static int shape_and(tb_graph *g, int node, tb_error *err) { return binary_typed(g, node, DT_BOOL, TB_BOOL, err); }
static int shape_or(tb_graph *g, int node, tb_error *err) { return binary_typed(g, node, DT_BOOL, TB_BOOL, err); }
static int shape_xor(tb_graph *g, int node, tb_error *err) { return binary_typed(g, node, DT_BOOL, TB_BOOL, err); }

/* Max / Min / Sum / Mean: 1 or more inputs of one dtype, all broadcast together. */
static int variadic(tb_graph *g, int node, unsigned dtypes, tb_error *err) {
    if (want_io(g, node, 1, TB_MAX_IO, 1, 1, err)) return 1;
    const tb_node *n = NODE(g, node);
    tb_value *a = in(g, node, 0);
    int r = a->rank;
    int64_t od[TB_MAX_RANK];
    for (int d = 0; d < r; d++) od[d] = a->dims[d];
    for (int i = 0; i < n->n_inputs; i++) {
        if (!in(g, node, i)) FAIL("input %d is missing", i);
        if (want_dtype(g, node, i, dtypes, err) || want_same_dtype(g, node, 0, i, err)) return 1;
        tb_value *b = in(g, node, i);
        if (tb_broadcast_shape(r, od, b->rank, b->dims, &r, od)) {
            char s1[SHAPE_BUF];
            FAIL("input %d of shape %s does not broadcast with the inputs before it", i,
                 fmt_shape(s1, sizeof s1, b->rank, b->dims));
        }
    }
    return set_out(g, node, 0, a->dtype, r, od, err);
}
static int shape_max(tb_graph *g, int node, tb_error *err) { return variadic(g, node, DT_NUM, err); }
static int shape_min(tb_graph *g, int node, tb_error *err) { return variadic(g, node, DT_NUM, err); }
static int shape_sum(tb_graph *g, int node, tb_error *err) { return variadic(g, node, DT_F32, err); }
static int shape_mean(tb_graph *g, int node, tb_error *err) { return variadic(g, node, DT_F32, err); }

static int shape_where(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 3, 3, 1, 1, err) || want_dtype(g, node, 0, DT_BOOL, err) ||
        want_same_dtype(g, node, 1, 2, err))
        return 1;
    int r = 0;
    int64_t od[TB_MAX_RANK];
    for (int i = 0; i < 3; i++) {
        tb_value *v = in(g, node, i);
        if (tb_broadcast_shape(r, od, v->rank, v->dims, &r, od)) {
            char s1[SHAPE_BUF];
            FAIL("input %d of shape %s does not broadcast with the inputs before it", i,
                 fmt_shape(s1, sizeof s1, v->rank, v->dims));
        }
    }
    return set_out(g, node, 0, in(g, node, 1)->dtype, r, od, err);
}

int tb_clip_resolve(tb_graph *g, int node, float *lo, float *hi, tb_error *err) {
    if (check_node(g, node, err)) return 1;
    *lo = -FLT_MAX;
    *hi = FLT_MAX;
    if (opset_of(g) < 11) {
        /* Clip-6: min/max are attributes, defaulting to the float range. */
        if (want_io(g, node, 1, 1, 1, 1, err)) return 1;
        return attr_float(g, node, "min", -FLT_MAX, lo, err) || attr_float(g, node, "max", FLT_MAX, hi, err);
    }
    /* Clip-11: min/max are optional scalar inputs. */
    if (want_io(g, node, 1, 3, 1, 1, err)) return 1;
    if (no_attr(g, node, "min", "became an input in opset 11", err) ||
        no_attr(g, node, "max", "became an input in opset 11", err))
        return 1;
    static const char *const names[3] = {"input", "min", "max"};
    for (int i = 1; i < 3; i++) {
        tb_value *v = in(g, node, i);
        if (!v) continue;
        if (want_same_dtype(g, node, 0, i, err) || input_scalar(g, node, i, names[i], 1, err)) return 1;
        *(i == 1 ? lo : hi) = (float)elem_double(v->dtype, v->data, 0);
    }
    return 0;
}

static int shape_clip(tb_graph *g, int node, tb_error *err) {
    float lo, hi;
    if (want_io(g, node, 1, 3, 1, 1, err) || want_dtype(g, node, 0, DT_F32, err)) return 1;
    if (opset_of(g) >= 11 && (is_pending(g, node, 1) || is_pending(g, node, 2))) {
        /* Bounds computed at run time do not change the shape: checked here,
         * rejected by tb_clip_resolve (the code generator needs constants). */
        if (no_attr(g, node, "min", "became an input in opset 11", err) ||
            no_attr(g, node, "max", "became an input in opset 11", err))
            return 1;
        for (int i = 1; i < 3; i++)
            if (want_same_dtype(g, node, 0, i, err) || input_scalar(g, node, i, i == 1 ? "min" : "max", 0, err))
                return 1;
    } else if (tb_clip_resolve(g, node, &lo, &hi, err)) {
        return 1;
    }
    return same_out(g, node, 0, in(g, node, 0), err);
}

/* ---- reductions and normalisation ---------------------------------------- */

/* The opset from which a reduction takes axes as its second input. */
static int axes_input_opset(tb_op op) { return op == TB_OP_REDUCESUM ? 13 : 18; }

int tb_reduce_axes(tb_graph *g, int node, int *mask, int *keepdims, tb_error *err) {
    if (check_node(g, node, err) || want_io(g, node, 1, 2, 1, 1, err)) return 1;
    tb_value *x = in(g, node, 0);
    if (attr_bool(g, node, "keepdims", 1, keepdims, err)) return 1;
    int64_t axes[TB_MAX_RANK];
    int n;
    int from = axes_input_opset(NODE(g, node)->op);
    if (opset_of(g) < from) {
        if (NODE(g, node)->n_inputs > 1)
            FAIL("axes is an attribute before opset %d, but the node has 2 inputs", from);
        if (attr_ints(g, node, "axes", axes, TB_MAX_RANK, &n, err)) return 1;
        if (n == 0) n = -1; /* an empty list reduces everything, like an absent one */
    } else {
        /* ReduceSum-13, the other reductions from 18: axes became an
         * optional input; noop_with_empty_axes. */
        if (no_attr(g, node, "axes", "became an input", err)) return 1;
        int noop;
        if (attr_bool(g, node, "noop_with_empty_axes", 0, &noop, err)) return 1;
        n = -1;
        if (in(g, node, 1) && input_ints(g, node, 1, "axes", axes, TB_MAX_RANK, &n, err)) return 1;
        if (n <= 0 && noop) n = 0;
        else if (n == 0) n = -1;
    }
    for (int d = 0; d < x->rank; d++) mask[d] = n < 0; /* absent axes: reduce all */
    for (int k = 0; k < n; k++) {
        int a;
        if (norm_axis(g, node, axes[k], x->rank, "axis", err, &a)) return 1;
        mask[a] = 1; /* a repeated axis is harmless */
    }
    return 0;
}

static int reduce(tb_graph *g, int node, tb_error *err) {
    int mask[TB_MAX_RANK], keep;
    if (want_io(g, node, 1, 2, 1, 1, err) || want_dtype(g, node, 0, DT_F32, err)) return 1;
    if (opset_of(g) >= axes_input_opset(NODE(g, node)->op) && is_pending(g, node, 1))
        return accept_recorded(g, node, "axes", SAME_DTYPE, err);
    if (tb_reduce_axes(g, node, mask, &keep, err)) return 1;
    tb_value *x = in(g, node, 0);
    int64_t od[TB_MAX_RANK];
    int r = 0;
    for (int d = 0; d < x->rank; d++) {
        if (!mask[d]) od[r++] = x->dims[d];
        else if (keep) od[r++] = 1;
    }
    return set_out(g, node, 0, TB_F32, r, od, err);
}

int tb_softmax_axis(tb_graph *g, int node, int *axis, int *coerce_2d, tb_error *err) {
    if (check_node(g, node, err) || want_io(g, node, 1, 1, 1, 1, err)) return 1;
    if (want_rank(g, node, 0, 1, TB_MAX_RANK, err)) return 1;
    tb_value *x = in(g, node, 0);
    int old = opset_of(g) < 13;
    int64_t a;
    /* Softmax before opset 13: axis defaults to 1 and the input is coerced to
     * 2-D [prod(dims[:axis]), prod(dims[axis:])]; from 13: one axis, default -1. */
    if (attr_int(g, node, "axis", old ? 1 : -1, &a, err)) return 1;
    if (norm_axis(g, node, a, x->rank, "axis", err, axis)) return 1;
    *coerce_2d = old && *axis < x->rank - 1;
    if (*coerce_2d && (span_product(x->dims, 0, *axis) < 0 || span_product(x->dims, *axis, x->rank) < 0))
        FAIL("tensor too large");
    return 0;
}

static int shape_reducemean(tb_graph *g, int node, tb_error *err) { return reduce(g, node, err); }
static int shape_reducesum(tb_graph *g, int node, tb_error *err) { return reduce(g, node, err); }
static int shape_reducemax(tb_graph *g, int node, tb_error *err) { return reduce(g, node, err); }
static int shape_reducemin(tb_graph *g, int node, tb_error *err) { return reduce(g, node, err); }
static int shape_reduceprod(tb_graph *g, int node, tb_error *err) { return reduce(g, node, err); }
static int shape_reducel1(tb_graph *g, int node, tb_error *err) { return reduce(g, node, err); }
static int shape_reducel2(tb_graph *g, int node, tb_error *err) { return reduce(g, node, err); }
static int shape_reducesumsquare(tb_graph *g, int node, tb_error *err) { return reduce(g, node, err); }
static int shape_reducelogsum(tb_graph *g, int node, tb_error *err) { return reduce(g, node, err); }
static int shape_reducelogsumexp(tb_graph *g, int node, tb_error *err) { return reduce(g, node, err); }

int tb_arg_axis(tb_graph *g, int node, int *axis, int *keepdims, int *select_last, tb_error *err) {
    if (check_node(g, node, err) || want_io(g, node, 1, 1, 1, 1, err)) return 1;
    if (want_rank(g, node, 0, 1, TB_MAX_RANK, err)) return 1;
    int64_t a;
    *select_last = 0;
    if (attr_int(g, node, "axis", 0, &a, err) || attr_bool(g, node, "keepdims", 1, keepdims, err)) return 1;
    /* select_last_index arrived in opset 12. */
    if (opset_of(g) >= 12 && attr_bool(g, node, "select_last_index", 0, select_last, err)) return 1;
    if (norm_axis(g, node, a, in(g, node, 0)->rank, "axis", err, axis)) return 1;
    if (in(g, node, 0)->dims[*axis] == 0) FAIL("ArgMax/ArgMin over the empty axis %d", *axis);
    return 0;
}

static int arg_reduce(tb_graph *g, int node, tb_error *err) {
    int axis, keep, last;
    if (want_io(g, node, 1, 1, 1, 1, err) || want_dtype(g, node, 0, DT_F32, err)) return 1;
    if (tb_arg_axis(g, node, &axis, &keep, &last, err)) return 1;
    tb_value *x = in(g, node, 0);
    int64_t od[TB_MAX_RANK];
    int r = 0;
    for (int d = 0; d < x->rank; d++) {
        if (d != axis) od[r++] = x->dims[d];
        else if (keep) od[r++] = 1;
    }
    return set_out(g, node, 0, TB_I64, r, od, err);
}
static int shape_argmax(tb_graph *g, int node, tb_error *err) { return arg_reduce(g, node, err); }
static int shape_argmin(tb_graph *g, int node, tb_error *err) { return arg_reduce(g, node, err); }

static int shape_softmax(tb_graph *g, int node, tb_error *err) {
    int axis, c2;
    if (want_io(g, node, 1, 1, 1, 1, err) || want_dtype(g, node, 0, DT_F32, err)) return 1;
    if (tb_softmax_axis(g, node, &axis, &c2, err)) return 1;
    return same_out(g, node, 0, in(g, node, 0), err);
}

static int shape_logsoftmax(tb_graph *g, int node, tb_error *err) { return shape_softmax(g, node, err); }
static int shape_hardmax(tb_graph *g, int node, tb_error *err) { return shape_softmax(g, node, err); }

/* InstanceNormalization: x [N, C, ...], scale and bias [C]. */
static int shape_instancenorm(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 3, 3, 1, 1, err) || want_rank(g, node, 0, 2, TB_MAX_RANK, err)) return 1;
    float eps;
    if (attr_float(g, node, "epsilon", 1e-5f, &eps, err)) return 1;
    tb_value *x = in(g, node, 0);
    for (int i = 0; i < 3; i++) {
        if (want_dtype(g, node, i, DT_F32, err)) return 1;
        tb_value *p = in(g, node, i);
        if (i > 0 && (p->rank != 1 || p->dims[0] != x->dims[1])) {
            char b[SHAPE_BUF];
            FAIL("input %d (%s) has shape %s, expected [%lld] (the channel count)", i, i == 1 ? "scale" : "B",
                 fmt_shape(b, sizeof b, p->rank, p->dims), (long long)x->dims[1]);
        }
    }
    return same_out(g, node, 0, x, err);
}

int tb_layernorm_axis(tb_graph *g, int node, int *axis, tb_error *err) {
    if (check_node(g, node, err) || want_io(g, node, 2, 3, 1, 3, err)) return 1;
    if (want_rank(g, node, 0, 1, TB_MAX_RANK, err)) return 1;
    int64_t a, stash;
    float eps;
    if (attr_int(g, node, "axis", -1, &a, err) || attr_float(g, node, "epsilon", 1e-5f, &eps, err) ||
        attr_int(g, node, "stash_type", 1, &stash, err))
        return 1;
    if (stash != 1) FAIL("stash_type %lld is not supported (only 1, float32)", (long long)stash);
    tb_value *x = in(g, node, 0);
    if (norm_axis(g, node, a, x->rank, "axis", err, axis)) return 1;
    int64_t inner = span_product(x->dims, *axis, x->rank);
    for (int i = 1; i < 3; i++) {
        tb_value *p = in(g, node, i);
        if (!p) continue;
        if (want_dtype(g, node, i, DT_F32, err)) return 1;
        /* The kernel reads one full row of scale / bias: broadcasting them
         * over part of the normalised dims is not supported. */
        if (tb_value_numel(p) != inner || p->rank > x->rank - *axis) {
            char b1[SHAPE_BUF], b2[SHAPE_BUF];
            FAIL("input %d (%s) has shape %s, expected %s (the normalised dims)", i, i == 1 ? "Scale" : "B",
                 fmt_shape(b1, sizeof b1, p->rank, p->dims), fmt_shape(b2, sizeof b2, x->rank - *axis, x->dims + *axis));
        }
    }
    return 0;
}

/* LayerNormalization-17: Y like X; Mean and InvStdDev are X's dims with the
 * normalised ones set to 1. */
static int shape_layernorm(tb_graph *g, int node, tb_error *err) {
    int axis;
    if (want_io(g, node, 2, 3, 1, 3, err) || want_dtype(g, node, 0, DT_F32, err)) return 1;
    if (tb_layernorm_axis(g, node, &axis, err)) return 1;
    tb_value *x = in(g, node, 0);
    int64_t sd[TB_MAX_RANK];
    for (int d = 0; d < x->rank; d++) sd[d] = d < axis ? x->dims[d] : 1;
    return same_out(g, node, 0, x, err) || set_out(g, node, 1, TB_F32, x->rank, sd, err) ||
           set_out(g, node, 2, TB_F32, x->rank, sd, err);
}

static int shape_lrn(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 1, 1, 1, 1, err) || want_dtype(g, node, 0, DT_F32, err) ||
        want_rank(g, node, 0, 3, TB_MAX_RANK, err))
        return 1;
    int64_t size;
    float f;
    if (!tb_node_attr(NODE(g, node), "size")) FAIL("attribute 'size' is required");
    if (attr_int(g, node, "size", 1, &size, err) || attr_float(g, node, "alpha", 1e-4f, &f, err) ||
        attr_float(g, node, "beta", 0.75f, &f, err) || attr_float(g, node, "bias", 1.0f, &f, err))
        return 1;
    if (size < 1 || size > DIM_MAX) FAIL("size %lld must be >= 1", (long long)size);
    return same_out(g, node, 0, in(g, node, 0), err);
}

/* ---- data movement ---------------------------------------------------- */

static int shape_identity(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 1, 1, 1, 1, err)) return 1;
    return same_out(g, node, 0, in(g, node, 0), err);
}

static int shape_dropout(tb_graph *g, int node, tb_error *err) {
    int opset = opset_of(g);
    if (want_io(g, node, 1, opset < 12 ? 1 : 3, 1, 2, err)) return 1;
    if (want_dtype(g, node, 0, DT_F32 | DT(TB_F64), err)) return 1;
    tb_value *x = in(g, node, 0), *tm = in(g, node, 2);
    if (tm) {
        /* Dropout-12: training_mode input; only inference (false) is supported. */
        if (input_scalar(g, node, 2, "training_mode", 1, err)) return 1;
        if (elem_double(tm->dtype, tm->data, 0) != 0) FAIL("training_mode=true is not supported");
    }
    if (same_out(g, node, 0, x, err)) return 1;
    /* The mask is T (the input's type) in Dropout-7, bool from opset 10; in
     * inference it is all true. */
    return set_out(g, node, 1, opset < 10 ? x->dtype : TB_BOOL, x->rank, x->dims, err);
}

int tb_flatten_axis(tb_graph *g, int node, int *axis, tb_error *err) {
    if (check_node(g, node, err) || want_io(g, node, 1, 1, 1, 1, err)) return 1;
    tb_value *x = in(g, node, 0);
    int64_t a;
    if (attr_int(g, node, "axis", 1, &a, err)) return 1;
    /* Flatten: axis in [-r, r]; negative adds r (so -1 is r-1, not r); r gives [numel, 1]. */
    if (a < -(int64_t)x->rank || a > x->rank)
        FAIL("axis %lld is out of range for rank %d (accepted: %d to %d)", (long long)a, x->rank, -x->rank, x->rank);
    *axis = (int)(a < 0 ? a + x->rank : a);
    return 0;
}

static int shape_flatten(tb_graph *g, int node, tb_error *err) {
    int axis;
    if (tb_flatten_axis(g, node, &axis, err)) return 1;
    tb_value *x = in(g, node, 0);
    int64_t od[2] = {span_product(x->dims, 0, axis), span_product(x->dims, axis, x->rank)};
    if (od[0] < 0 || od[1] < 0) FAIL("tensor too large");
    return set_out(g, node, 0, x->dtype, 2, od, err);
}

static int shape_reshape(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 2, 2, 1, 1, err)) return 1;
    tb_value *x = in(g, node, 0);
    int64_t s[TB_MAX_RANK];
    int n, allowzero;
    if (is_pending(g, node, 1)) return accept_recorded(g, node, "shape", SAME_DTYPE | SAME_NUMEL, err);
    if (input_ints(g, node, 1, "shape", s, TB_MAX_RANK, &n, err)) return 1;
    if (in(g, node, 1)->rank != 1) FAIL("the 'shape' input must be 1-D, got rank %d", in(g, node, 1)->rank);
    if (attr_bool(g, node, "allowzero", 0, &allowzero, err)) return 1;
    int infer = -1, zero = 0;
    int64_t known = 1;
    for (int i = 0; i < n; i++) {
        if (s[i] == -1) {
            if (infer >= 0) FAIL("shape has more than one -1");
            infer = i;
            continue;
        }
        if (s[i] < -1) FAIL("shape[%d] = %lld is negative", i, (long long)s[i]);
        if (s[i] == 0 && !allowzero) {
            /* Reshape: 0 copies the input dim at the same index (unless allowzero=1). */
            if (i >= x->rank) FAIL("shape[%d] = 0 copies input dim %d, but the input has rank %d", i, i, x->rank);
            s[i] = x->dims[i];
        }
        if (s[i] > DIM_MAX) FAIL("tensor too large: shape[%d] = %lld", i, (long long)s[i]);
        if (s[i] == 0) zero = 1;
        else if (!zero) {
            known *= s[i];
            if (known > DIM_MAX) FAIL("tensor too large");
        }
    }
    if (zero) known = 0;
    int64_t numel = tb_value_numel(x);
    if (infer >= 0) {
        /* -1 takes whatever is left; with allowzero=1 a 0 next to -1 is invalid. */
        if (known == 0) FAIL("shape has -1 next to a 0 dim: the -1 cannot be inferred");
        if (numel % known) {
            char s1[SHAPE_BUF];
            FAIL("cannot reshape %s (%lld elements) into a multiple of %lld", fmt_shape(s1, sizeof s1, x->rank, x->dims),
                 (long long)numel, (long long)known);
        }
        s[infer] = numel / known;
        known = numel;
    }
    if (known != numel) {
        char s1[SHAPE_BUF], s2[SHAPE_BUF];
        FAIL("cannot reshape %s (%lld elements) into %s (%lld elements)", fmt_shape(s1, sizeof s1, x->rank, x->dims),
             (long long)numel, fmt_shape(s2, sizeof s2, n, s), (long long)known);
    }
    return set_out(g, node, 0, x->dtype, n, s, err);
}

/* Squeeze / Unsqueeze axes: attribute before opset 13, input from 13.
 * *n = -1 when absent. */
static int read_axes(tb_graph *g, int node, int64_t *axes, int *n, tb_error *err) {
    int opset = opset_of(g);
    *n = -1;
    if (opset < 13) {
        if (want_io(g, node, 1, 1, 1, 1, err)) return 1;
        return attr_ints(g, node, "axes", axes, TB_MAX_RANK, n, err);
    }
    if (want_io(g, node, 1, 2, 1, 1, err)) return 1;
    if (no_attr(g, node, "axes", "became an input in opset 13", err)) return 1;
    if (in(g, node, 1) && input_ints(g, node, 1, "axes", axes, TB_MAX_RANK, n, err)) return 1;
    return 0;
}

static int shape_squeeze(tb_graph *g, int node, tb_error *err) {
    int64_t axes[TB_MAX_RANK];
    int n, mask[TB_MAX_RANK] = {0};
    if (opset_of(g) >= 13 && is_pending(g, node, 1) && !want_io(g, node, 1, 2, 1, 1, err))
        return accept_recorded(g, node, "axes", SAME_DTYPE | SAME_NUMEL, err);
    if (read_axes(g, node, axes, &n, err)) return 1;
    tb_value *x = in(g, node, 0);
    for (int k = 0; k < n; k++) {
        int a;
        if (norm_axis(g, node, axes[k], x->rank, "axis", err, &a)) return 1;
        if (x->dims[a] != 1) FAIL("cannot squeeze axis %d of size %lld", a, (long long)x->dims[a]);
        mask[a] = 1;
    }
    /* Squeeze without axes removes every dim of size 1. */
    int64_t od[TB_MAX_RANK];
    int r = 0;
    for (int d = 0; d < x->rank; d++)
        if (!(n < 0 ? x->dims[d] == 1 : mask[d])) od[r++] = x->dims[d];
    return set_out(g, node, 0, x->dtype, r, od, err);
}

static int shape_unsqueeze(tb_graph *g, int node, tb_error *err) {
    int64_t axes[TB_MAX_RANK];
    int n, mask[TB_MAX_RANK] = {0};
    if (opset_of(g) >= 13 && is_pending(g, node, 1) && !want_io(g, node, 1, 2, 1, 1, err))
        return accept_recorded(g, node, "axes", SAME_DTYPE | SAME_NUMEL, err);
    if (read_axes(g, node, axes, &n, err)) return 1;
    if (n < 0) FAIL("the 'axes' %s is required", opset_of(g) < 13 ? "attribute" : "input");
    tb_value *x = in(g, node, 0);
    int r = x->rank + n;
    if (r > TB_MAX_RANK) FAIL("output rank %d exceeds the supported maximum %d", r, TB_MAX_RANK);
    for (int k = 0; k < n; k++) {
        int a;
        /* Unsqueeze: axes refer to the output, in [-r_out, r_out-1]; no repeats. */
        if (norm_axis(g, node, axes[k], r, "axis", err, &a)) return 1;
        if (mask[a]) FAIL("axis %d is repeated in axes", a);
        mask[a] = 1;
    }
    int64_t od[TB_MAX_RANK];
    for (int d = 0, j = 0; d < r; d++) od[d] = mask[d] ? 1 : x->dims[j++];
    return set_out(g, node, 0, x->dtype, r, od, err);
}

int tb_transpose_perm(tb_graph *g, int node, int *perm, tb_error *err) {
    if (check_node(g, node, err) || want_io(g, node, 1, 1, 1, 1, err)) return 1;
    tb_value *x = in(g, node, 0);
    int64_t p[TB_MAX_RANK];
    int n, seen[TB_MAX_RANK] = {0};
    if (attr_ints(g, node, "perm", p, TB_MAX_RANK, &n, err)) return 1;
    if (n < 0) {
        /* Transpose: perm defaults to reversing the dims. */
        for (int i = 0; i < x->rank; i++) perm[i] = x->rank - 1 - i;
        return 0;
    }
    if (n != x->rank) FAIL("perm has %d values, expected %d (the input rank)", n, x->rank);
    for (int i = 0; i < n; i++) {
        if (p[i] < 0 || p[i] >= x->rank) FAIL("perm[%d] = %lld is out of range for rank %d", i, (long long)p[i], x->rank);
        if (seen[p[i]]) FAIL("perm is not a permutation: %lld appears twice", (long long)p[i]);
        seen[p[i]] = 1;
        perm[i] = (int)p[i];
    }
    return 0;
}

static int shape_transpose(tb_graph *g, int node, tb_error *err) {
    int perm[TB_MAX_RANK];
    if (tb_transpose_perm(g, node, perm, err)) return 1;
    tb_value *x = in(g, node, 0);
    int64_t od[TB_MAX_RANK];
    for (int i = 0; i < x->rank; i++) od[i] = x->dims[perm[i]];
    return set_out(g, node, 0, x->dtype, x->rank, od, err);
}

int tb_concat_axis(tb_graph *g, int node, int *axis, tb_error *err) {
    if (check_node(g, node, err) || want_io(g, node, 1, TB_MAX_IO, 1, 1, err)) return 1;
    const tb_node *n = NODE(g, node);
    for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i] < 0) FAIL("input %d is missing", i);
    if (!tb_node_attr(n, "axis")) FAIL("attribute 'axis' is required");
    int64_t a;
    if (attr_int(g, node, "axis", 0, &a, err)) return 1;
    return norm_axis(g, node, a, in(g, node, 0)->rank, "axis", err, axis);
}

static int shape_concat(tb_graph *g, int node, tb_error *err) {
    int axis;
    if (tb_concat_axis(g, node, &axis, err)) return 1;
    tb_value *x = in(g, node, 0);
    int64_t od[TB_MAX_RANK];
    for (int d = 0; d < x->rank; d++) od[d] = x->dims[d];
    for (int i = 1; i < NODE(g, node)->n_inputs; i++) {
        tb_value *v = in(g, node, i);
        if (want_same_dtype(g, node, 0, i, err)) return 1;
        if (v->rank != x->rank) FAIL("input %d has rank %d, expected %d", i, v->rank, x->rank);
        for (int d = 0; d < x->rank; d++)
            if (d != axis && v->dims[d] != x->dims[d])
                FAIL("input %d has dim %d = %lld, expected %lld (only axis %d may differ)", i, d,
                     (long long)v->dims[d], (long long)x->dims[d], axis);
        od[axis] += v->dims[axis]; /* each <= 2^31-1: no overflow over TB_MAX_IO inputs */
    }
    return set_out(g, node, 0, x->dtype, x->rank, od, err);
}

int tb_split_resolve(tb_graph *g, int node, int *axis, int64_t *sizes, tb_error *err) {
    int opset = opset_of(g);
    if (check_node(g, node, err) || want_io(g, node, 1, opset < 13 ? 1 : 2, 1, TB_MAX_IO, err)) return 1;
    tb_value *x = in(g, node, 0);
    int nout = NODE(g, node)->n_outputs;
    int64_t a, s[TB_MAX_IO];
    int n = -1;
    if (attr_int(g, node, "axis", 0, &a, err) || norm_axis(g, node, a, x->rank, "axis", err, axis)) return 1;
    if (opset < 13) {
        if (attr_ints(g, node, "split", s, TB_MAX_IO, &n, err)) return 1;
    } else {
        /* Split-13: 'split' became an optional input. */
        if (no_attr(g, node, "split", "became an input in opset 13", err)) return 1;
        if (in(g, node, 1) && input_ints(g, node, 1, "split", s, TB_MAX_IO, &n, err)) return 1;
        if (n == 0) n = -1; /* an empty split tensor reads as absent */
    }
    int64_t d = x->dims[*axis];
    if (n < 0) {
        /* Without 'split' the axis is divided equally between the outputs. */
        if (d % nout) FAIL("axis %d of size %lld cannot be split equally into %d outputs", *axis, (long long)d, nout);
        for (int k = 0; k < nout; k++) sizes[k] = d / nout;
        return 0;
    }
    if (n != nout) FAIL("split has %d values but the node has %d outputs", n, nout);
    int64_t sum = 0;
    for (int k = 0; k < n; k++) {
        if (s[k] < 0 || s[k] > DIM_MAX) FAIL("split[%d] = %lld is invalid", k, (long long)s[k]);
        sum += s[k];
        sizes[k] = s[k];
    }
    if (sum != d) FAIL("split sums to %lld but axis %d has size %lld", (long long)sum, *axis, (long long)d);
    return 0;
}

static int shape_split(tb_graph *g, int node, tb_error *err) {
    int axis;
    int64_t sizes[TB_MAX_IO];
    if (opset_of(g) >= 13 && is_pending(g, node, 1) && !want_io(g, node, 1, 2, 1, TB_MAX_IO, err))
        return accept_recorded(g, node, "split", SAME_DTYPE | SAME_RANK, err);
    if (tb_split_resolve(g, node, &axis, sizes, err)) return 1;
    tb_value *x = in(g, node, 0);
    int64_t od[TB_MAX_RANK];
    for (int d = 0; d < x->rank; d++) od[d] = x->dims[d];
    for (int k = 0; k < NODE(g, node)->n_outputs; k++) {
        od[axis] = sizes[k];
        if (set_out(g, node, k, x->dtype, x->rank, od, err)) return 1;
    }
    return 0;
}

/* Slice: start/step per input dim and the output dims. */
static int slice_compute(tb_graph *g, int node, int64_t *start, int64_t *step, int64_t *od, tb_error *err) {
    int opset = opset_of(g);
    if (check_node(g, node, err)) return 1;
    int64_t st[TB_MAX_RANK], en[TB_MAX_RANK], ax[TB_MAX_RANK], sp[TB_MAX_RANK];
    int ns, ne, na = -1, np = -1;
    if (opset < 10) {
        /* Slice-1: starts/ends/axes are attributes, steps are all 1. */
        if (want_io(g, node, 1, 1, 1, 1, err)) return 1;
        if (attr_ints(g, node, "starts", st, TB_MAX_RANK, &ns, err) ||
            attr_ints(g, node, "ends", en, TB_MAX_RANK, &ne, err) ||
            attr_ints(g, node, "axes", ax, TB_MAX_RANK, &na, err))
            return 1;
        if (ns < 0 || ne < 0) FAIL("attributes 'starts' and 'ends' are required");
    } else {
        /* Slice-10: starts, ends, axes, steps are (constant) inputs. */
        if (want_io(g, node, 3, 5, 1, 1, err)) return 1;
        if (input_ints(g, node, 1, "starts", st, TB_MAX_RANK, &ns, err) ||
            input_ints(g, node, 2, "ends", en, TB_MAX_RANK, &ne, err))
            return 1;
        if (in(g, node, 3) && input_ints(g, node, 3, "axes", ax, TB_MAX_RANK, &na, err)) return 1;
        if (in(g, node, 4) && input_ints(g, node, 4, "steps", sp, TB_MAX_RANK, &np, err)) return 1;
    }
    tb_value *x = in(g, node, 0);
    int r = x->rank;
    if (ns != ne) FAIL("starts has %d values but ends has %d", ns, ne);
    if (na >= 0 && na != ns) FAIL("axes has %d values but starts has %d", na, ns);
    if (np >= 0 && np != ns) FAIL("steps has %d values but starts has %d", np, ns);
    if (na < 0 && ns > r) FAIL("starts has %d values, more than the input rank %d", ns, r);
    int seen[TB_MAX_RANK] = {0};
    for (int d = 0; d < r; d++) {
        start[d] = 0;
        step[d] = 1;
        od[d] = x->dims[d];
    }
    for (int k = 0; k < ns; k++) {
        int a = k;
        if (na >= 0 && norm_axis(g, node, ax[k], r, "axis", err, &a)) return 1;
        if (seen[a]) FAIL("axis %d appears twice in axes", a);
        seen[a] = 1;
        int64_t d = x->dims[a], s = st[k], e = en[k], p = np >= 0 ? sp[k] : 1, cnt;
        if (p == 0) FAIL("steps[%d] is 0", k);
        /* Slice: negative starts/ends count from the end (dim added once);
         * then step > 0 clamps both to [0, d], step < 0 clamps start to
         * [0, d-1] and end to [-1, d-1]; INT64_MAX / INT64_MIN ends so clamp. */
        if (s < 0) s += d;
        if (e < 0) e += d;
        if (d == 0) {
            s = 0;
            cnt = 0;
        } else if (p > 0) {
            s = s < 0 ? 0 : s > d ? d : s;
            e = e < 0 ? 0 : e > d ? d : e;
            cnt = e > s ? 1 + (e - s - 1) / p : 0;
        } else {
            s = s < 0 ? 0 : s > d - 1 ? d - 1 : s;
            e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
            /* (s-e-1)/p truncates toward zero with p < 0: this is 1 + floor((s-e-1)/|p|), no -p overflow. */
            cnt = s > e ? 1 - (s - e - 1) / p : 0;
        }
        start[a] = cnt ? s : 0; /* an empty result reads nothing: keep offsets in range */
        step[a] = p;
        od[a] = cnt;
    }
    return 0;
}

int tb_slice_resolve(tb_graph *g, int node, int64_t start[TB_MAX_RANK], int64_t step[TB_MAX_RANK], tb_error *err) {
    int64_t od[TB_MAX_RANK];
    return slice_compute(g, node, start, step, od, err);
}

static int shape_slice(tb_graph *g, int node, tb_error *err) {
    int64_t start[TB_MAX_RANK], step[TB_MAX_RANK], od[TB_MAX_RANK];
    static const char *const names[5] = {"data", "starts", "ends", "axes", "steps"};
    if (opset_of(g) >= 10 && !want_io(g, node, 3, 5, 1, 1, err))
        for (int i = 1; i < 5; i++)
            if (is_pending(g, node, i)) return accept_recorded(g, node, names[i], SAME_DTYPE | SAME_RANK, err);
    if (slice_compute(g, node, start, step, od, err)) return 1;
    tb_value *x = in(g, node, 0);
    return set_out(g, node, 0, x->dtype, x->rank, od, err);
}

int tb_gather_axis(tb_graph *g, int node, int *axis, tb_error *err) {
    if (check_node(g, node, err) || want_io(g, node, 2, 2, 1, 1, err)) return 1;
    if (want_rank(g, node, 0, 1, TB_MAX_RANK, err)) return 1;
    int64_t a;
    if (attr_int(g, node, "axis", 0, &a, err)) return 1;
    return norm_axis(g, node, a, in(g, node, 0)->rank, "axis", err, axis);
}

static int shape_gather(tb_graph *g, int node, tb_error *err) {
    int axis;
    if (tb_gather_axis(g, node, &axis, err) || want_dtype(g, node, 1, DT_INDEX, err)) return 1;
    tb_value *x = in(g, node, 0), *idx = in(g, node, 1);
    int r = x->rank + idx->rank - 1;
    if (r > TB_MAX_RANK) FAIL("output rank %d exceeds the supported maximum %d", r, TB_MAX_RANK);
    if (idx->data) {
        /* Gather: indices in [-d, d-1] (negative counts from the end); out of
         * range is an error in ONNX. Checked here when known. */
        int64_t d = x->dims[axis], cnt = tb_value_numel(idx);
        for (int64_t i = 0; i < cnt; i++) {
            int64_t v = elem_i64(idx->dtype, idx->data, i);
            if (v < -d || v >= d) FAIL("index %lld is out of range for axis %d of size %lld", (long long)v, axis, (long long)d);
        }
    }
    /* Output: data.dims[:axis] + indices.dims + data.dims[axis+1:]. */
    int64_t od[TB_MAX_RANK];
    int k = 0;
    for (int i = 0; i < axis; i++) od[k++] = x->dims[i];
    for (int i = 0; i < idx->rank; i++) od[k++] = idx->dims[i];
    for (int i = axis + 1; i < x->rank; i++) od[k++] = x->dims[i];
    return set_out(g, node, 0, x->dtype, r, od, err);
}

/* need_value: constant_value must be a constant (the code generator's view);
 * shape inference does not need it. */
static int pad_compute(tb_graph *g, int node, int64_t pads[2 * TB_MAX_RANK], int *mode, double *value, int need_value,
                       tb_error *err) {
    int opset = opset_of(g);
    if (check_node(g, node, err)) return 1;
    int n;
    const char *m;
    *value = 0;
    if (opset < 11) {
        /* Pad-2: pads and value are attributes. */
        if (want_io(g, node, 1, 1, 1, 1, err)) return 1;
        float f;
        if (attr_ints(g, node, "pads", pads, 2 * TB_MAX_RANK, &n, err) || attr_float(g, node, "value", 0, &f, err))
            return 1;
        if (n < 0) FAIL("attribute 'pads' is required");
        *value = f;
    } else {
        /* Pad-11: pads and constant_value are inputs (axes from opset 18). */
        if (want_io(g, node, 2, opset < 18 ? 3 : 4, 1, 1, err)) return 1;
        if (in(g, node, 3)) FAIL("the 'axes' input is not supported");
        if (input_ints(g, node, 1, "pads", pads, 2 * TB_MAX_RANK, &n, err)) return 1;
        tb_value *cv = in(g, node, 2);
        if (cv) {
            if (want_same_dtype(g, node, 0, 2, err) || input_scalar(g, node, 2, "constant_value", need_value, err))
                return 1;
            if (cv->data) *value = elem_double(cv->dtype, cv->data, 0);
        }
    }
    if (attr_string(g, node, "mode", "constant", &m, err)) return 1;
    if (!strcmp(m, "constant")) *mode = 0;
    else if (!strcmp(m, "reflect")) *mode = 1;
    else if (!strcmp(m, "edge")) *mode = 2;
    else FAIL("mode '%s' is not supported (constant, reflect or edge)", m);
    if (*mode) *value = 0;
    tb_value *x = in(g, node, 0);
    int r = x->rank;
    if (n != 2 * r) FAIL("pads must have %d values, got %d", 2 * r, n);
    for (int i = 0; i < 2 * r; i++) {
        int64_t p = pads[i], d = x->dims[i % r];
        if (p < 0) FAIL("negative pads are not supported (pads[%d] = %lld)", i, (long long)p);
        if (p > DIM_MAX) FAIL("tensor too large: pads[%d] = %lld", i, (long long)p);
        /* reflect mirrors without repeating the edge: each pad must be < dim. */
        if (*mode == 1 && p > 0 && p >= d)
            FAIL("reflect pad %lld on axis %d must be smaller than the dim (%lld)", (long long)p, i % r, (long long)d);
        if (*mode == 2 && p > 0 && d == 0) FAIL("edge padding of the empty axis %d", i % r);
    }
    return 0;
}

int tb_pad_resolve(tb_graph *g, int node, int64_t pads[2 * TB_MAX_RANK], int *mode, double *value, tb_error *err) {
    return pad_compute(g, node, pads, mode, value, 1, err);
}

static int shape_pad(tb_graph *g, int node, tb_error *err) {
    int64_t pads[2 * TB_MAX_RANK];
    int mode;
    double value;
    if (opset_of(g) >= 11 && is_pending(g, node, 1) && !want_io(g, node, 2, 4, 1, 1, err))
        return accept_recorded(g, node, "pads", SAME_DTYPE | SAME_RANK, err);
    if (pad_compute(g, node, pads, &mode, &value, 0, err)) return 1;
    tb_value *x = in(g, node, 0);
    int64_t od[TB_MAX_RANK];
    for (int d = 0; d < x->rank; d++) od[d] = x->dims[d] + pads[d] + pads[d + x->rank]; /* < 2^33 */
    return set_out(g, node, 0, x->dtype, x->rank, od, err);
}

static int shape_expand(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 2, 2, 1, 1, err)) return 1;
    tb_value *x = in(g, node, 0);
    int64_t s[TB_MAX_RANK], od[TB_MAX_RANK];
    int n, r;
    if (is_pending(g, node, 1)) return accept_recorded(g, node, "shape", SAME_DTYPE | BROADCAST_OF, err);
    if (input_ints(g, node, 1, "shape", s, TB_MAX_RANK, &n, err)) return 1;
    if (in(g, node, 1)->rank != 1) FAIL("the 'shape' input must be 1-D, got rank %d", in(g, node, 1)->rank);
    for (int i = 0; i < n; i++)
        if (s[i] < 0) FAIL("shape[%d] = %lld is negative", i, (long long)s[i]);
    /* Expand broadcasts bidirectionally: a 1 in 'shape' keeps the input dim. */
    if (tb_broadcast_shape(x->rank, x->dims, n, s, &r, od)) {
        char s1[SHAPE_BUF], s2[SHAPE_BUF];
        FAIL("input of shape %s cannot be expanded to %s", fmt_shape(s1, sizeof s1, x->rank, x->dims),
             fmt_shape(s2, sizeof s2, n, s));
    }
    return set_out(g, node, 0, x->dtype, r, od, err);
}

static int shape_cast(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 1, 1, 1, 1, err)) return 1;
    int64_t to;
    if (!tb_node_attr(NODE(g, node), "to")) FAIL("attribute 'to' is required");
    if (attr_int(g, node, "to", 0, &to, err)) return 1;
    tb_dtype t = to > 0 && to < 1000 ? tb_dtype_from_onnx((int)to) : TB_DTYPE_NONE;
    if (t == TB_DTYPE_NONE) FAIL("Cast to ONNX type %lld is not supported", (long long)to);
    tb_value *x = in(g, node, 0);
    return set_out(g, node, 0, t, x->rank, x->dims, err);
}

static int shape_castlike(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 2, 2, 1, 1, err)) return 1;
    tb_value *x = in(g, node, 0);
    return set_out(g, node, 0, in(g, node, 1)->dtype, x->rank, x->dims, err);
}

int tb_tile_repeats(tb_graph *g, int node, int64_t *reps, tb_error *err) {
    if (check_node(g, node, err) || want_io(g, node, 2, 2, 1, 1, err)) return 1;
    tb_value *x = in(g, node, 0);
    int n;
    if (input_ints(g, node, 1, "repeats", reps, TB_MAX_RANK, &n, err)) return 1;
    if (n != x->rank) FAIL("repeats has %d values, expected %d (the input's rank)", n, x->rank);
    for (int i = 0; i < n; i++)
        if (reps[i] < 0 || reps[i] > DIM_MAX) FAIL("repeats[%d] = %lld is invalid", i, (long long)reps[i]);
    return 0;
}

static int shape_tile(tb_graph *g, int node, tb_error *err) {
    int64_t reps[TB_MAX_RANK], od[TB_MAX_RANK];
    if (want_io(g, node, 2, 2, 1, 1, err) || want_dtype(g, node, 1, DT(TB_I64), err)) return 1;
    if (is_pending(g, node, 1)) return accept_recorded(g, node, "repeats", SAME_DTYPE | SAME_RANK, err);
    if (tb_tile_repeats(g, node, reps, err)) return 1;
    tb_value *x = in(g, node, 0);
    for (int d = 0; d < x->rank; d++) od[d] = x->dims[d] * reps[d]; /* each < 2^31: no overflow */
    return set_out(g, node, 0, x->dtype, x->rank, od, err);
}

int tb_blocksize(tb_graph *g, int node, int64_t *bs, int *crd, tb_error *err) {
    if (check_node(g, node, err) || want_io(g, node, 1, 1, 1, 1, err) || want_rank(g, node, 0, 4, 4, err)) return 1;
    const char *mode;
    if (!tb_node_attr(NODE(g, node), "blocksize")) FAIL("attribute 'blocksize' is required");
    if (attr_int(g, node, "blocksize", 1, bs, err)) return 1;
    if (*bs < 1 || *bs > 65535) FAIL("blocksize %lld is invalid", (long long)*bs);
    *crd = 0;
    if (NODE(g, node)->op == TB_OP_DEPTHTOSPACE) {
        if (attr_string(g, node, "mode", "DCR", &mode, err)) return 1;
        if (!strcmp(mode, "CRD")) *crd = 1;
        else if (strcmp(mode, "DCR")) FAIL("mode '%s' is not DCR or CRD", mode);
    }
    return 0;
}

static int shape_depthtospace(tb_graph *g, int node, tb_error *err) {
    int64_t bs;
    int crd;
    if (tb_blocksize(g, node, &bs, &crd, err)) return 1;
    tb_value *x = in(g, node, 0);
    if (x->dims[1] % (bs * bs))
        FAIL("channels (%lld) are not divisible by blocksize^2 (%lld)", (long long)x->dims[1], (long long)(bs * bs));
    int64_t od[4] = {x->dims[0], x->dims[1] / (bs * bs), x->dims[2] * bs, x->dims[3] * bs};
    return set_out(g, node, 0, x->dtype, 4, od, err);
}

static int shape_spacetodepth(tb_graph *g, int node, tb_error *err) {
    int64_t bs;
    int crd;
    if (tb_blocksize(g, node, &bs, &crd, err)) return 1;
    tb_value *x = in(g, node, 0);
    if (x->dims[2] % bs || x->dims[3] % bs)
        FAIL("spatial dims %lldx%lld are not divisible by blocksize %lld", (long long)x->dims[2],
             (long long)x->dims[3], (long long)bs);
    int64_t od[4] = {x->dims[0], x->dims[1] * bs * bs, x->dims[2] / bs, x->dims[3] / bs};
    return set_out(g, node, 0, x->dtype, 4, od, err);
}

int tb_gatherelements_axis(tb_graph *g, int node, int *axis, tb_error *err) {
    if (check_node(g, node, err) || want_io(g, node, 2, 2, 1, 1, err)) return 1;
    if (want_rank(g, node, 0, 1, TB_MAX_RANK, err) || want_dtype(g, node, 1, DT_INDEX, err)) return 1;
    tb_value *x = in(g, node, 0), *idx = in(g, node, 1);
    int64_t a;
    if (attr_int(g, node, "axis", 0, &a, err) || norm_axis(g, node, a, x->rank, "axis", err, axis)) return 1;
    if (idx->rank != x->rank) FAIL("indices have rank %d, expected %d (the data's rank)", idx->rank, x->rank);
    for (int d = 0; d < x->rank; d++)
        if (d != *axis && idx->dims[d] > x->dims[d])
            FAIL("indices dim %d (%lld) exceeds the data's (%lld)", d, (long long)idx->dims[d], (long long)x->dims[d]);
    if (idx->data) {
        int64_t len = x->dims[*axis], cnt = tb_value_numel(idx);
        for (int64_t i = 0; i < cnt; i++) {
            int64_t v = elem_i64(idx->dtype, idx->data, i);
            if (v < -len || v >= len)
                FAIL("index %lld is out of range for axis %d of size %lld", (long long)v, *axis, (long long)len);
        }
    }
    return 0;
}

static int shape_gatherelements(tb_graph *g, int node, tb_error *err) {
    int axis;
    if (tb_gatherelements_axis(g, node, &axis, err)) return 1;
    tb_value *x = in(g, node, 0), *idx = in(g, node, 1);
    return set_out(g, node, 0, x->dtype, idx->rank, idx->dims, err);
}

static int shape_trilu(tb_graph *g, int node, tb_error *err) {
    int upper;
    if (want_io(g, node, 1, 2, 1, 1, err) || want_rank(g, node, 0, 2, TB_MAX_RANK, err) ||
        attr_bool(g, node, "upper", 1, &upper, err))
        return 1;
    if (in(g, node, 1) && (want_dtype(g, node, 1, DT(TB_I64), err) || input_scalar(g, node, 1, "k", 0, err))) return 1;
    return same_out(g, node, 0, in(g, node, 0), err);
}

/* ---- shape computation -------------------------------------------------- */

static int shape_shape(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 1, 1, 1, 1, err)) return 1;
    tb_value *x = in(g, node, 0);
    int64_t start = 0, end = x->rank;
    if (opset_of(g) >= 15) {
        /* Shape-15: start/end select dims, negative from the back, clamped to [0, r]. */
        if (attr_int(g, node, "start", 0, &start, err) || attr_int(g, node, "end", x->rank, &end, err)) return 1;
        if (start < 0) start += x->rank;
        if (end < 0) end += x->rank;
        start = start < 0 ? 0 : start > x->rank ? x->rank : start;
        end = end < 0 ? 0 : end > x->rank ? x->rank : end;
    } else if (no_attr(g, node, "start", "needs opset 15", err) || no_attr(g, node, "end", "needs opset 15", err)) {
        return 1;
    }
    int64_t len = end > start ? end - start : 0;
    if (!present_out(g, node, 0)) return 0;
    tb_value *y = &g->values[NODE(g, node)->outputs[0]];
    /* Static shapes: the output is a constant now, so it folds without an evaluator. */
    int reuse = y->data && y->dtype == TB_I64 && y->rank == 1 && y->dims[0] == len;
    if (!reuse) y->data = NULL;
    if (set_out(g, node, 0, TB_I64, 1, &len, err)) return 1;
    if (!reuse) y->data = tb_alloc(g->pool, len ? (size_t)len * sizeof(int64_t) : 1);
    for (int64_t i = 0; i < len; i++) memcpy((char *)y->data + i * 8, &x->dims[start + i], 8);
    return 0;
}

static int shape_constantofshape(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 1, 1, 1, 1, err)) return 1;
    int64_t s[TB_MAX_RANK];
    int n;
    if (is_pending(g, node, 0)) return accept_recorded(g, node, "input", 0, err);
    if (input_ints(g, node, 0, "input", s, TB_MAX_RANK, &n, err)) return 1;
    if (in(g, node, 0)->rank != 1) FAIL("the 'input' input must be 1-D, got rank %d", in(g, node, 0)->rank);
    for (int i = 0; i < n; i++)
        if (s[i] < 0) FAIL("shape[%d] = %lld is negative", i, (long long)s[i]);
    tb_dtype t = TB_F32; /* ConstantOfShape: value defaults to float 0 */
    const tb_attr *a = tb_node_attr(NODE(g, node), "value");
    if (a) {
        const tb_value *v = a->t;
        if (a->kind != TB_ATTR_TENSOR || !v) FAIL("attribute 'value' must be a tensor");
        if ((int)v->dtype <= (int)TB_DTYPE_NONE || (int)v->dtype >= (int)TB_DTYPE_COUNT)
            FAIL("attribute 'value' has an unsupported dtype");
        if (v->rank < 0 || v->rank > 1 || checked_numel(v->rank, v->dims) != 1 || !v->data)
            FAIL("attribute 'value' must hold exactly one element");
        t = v->dtype;
    }
    return set_out(g, node, 0, t, n, s, err);
}

static int shape_range(tb_graph *g, int node, tb_error *err) {
    static const char *const names[3] = {"start", "limit", "delta"};
    if (want_io(g, node, 3, 3, 1, 1, err)) return 1;
    for (int i = 0; i < 3; i++) {
        tb_value *v = in(g, node, i);
        if (want_dtype(g, node, i, DT_F32 | DT(TB_F64) | DT(TB_I16) | DT(TB_I32) | DT(TB_I64), err) ||
            want_same_dtype(g, node, 0, i, err))
            return 1;
        if (!v->data) return accept_recorded(g, node, names[i], SAME_DTYPE, err);
        if (input_scalar(g, node, i, names[i], 1, err)) return 1;
    }
    tb_dtype t = in(g, node, 0)->dtype;
    const void *ds = in(g, node, 0)->data, *dl = in(g, node, 1)->data, *dd = in(g, node, 2)->data;
    int64_t count;
    /* Range: count = max(ceil((limit - start) / delta), 0). */
    if (t == TB_F32 || t == TB_F64) {
        double s = elem_double(t, ds, 0), l = elem_double(t, dl, 0), d = elem_double(t, dd, 0);
        if (d == 0) FAIL("delta is 0");
        /* onnxruntime subtracts in the element type, then divides in double. */
        double diff = t == TB_F32 ? (double)((float)l - (float)s) : l - s;
        double c = ceil(diff / d);
        if (c != c) FAIL("start, limit or delta is not a number");
        if (c > (double)DIM_MAX) FAIL("tensor too large: Range would have %g elements", c);
        count = c > 0 ? (int64_t)c : 0;
    } else {
        int64_t s = elem_i64(t, ds, 0), l = elem_i64(t, dl, 0), d = elem_i64(t, dd, 0);
        if (d == 0) FAIL("delta is 0");
        uint64_t diff, step;
        if (d > 0 && l > s) {
            diff = (uint64_t)l - (uint64_t)s;
            step = (uint64_t)d;
        } else if (d < 0 && l < s) {
            diff = (uint64_t)s - (uint64_t)l;
            step = (uint64_t)0 - (uint64_t)d;
        } else {
            diff = 0;
            step = 1;
        }
        uint64_t c = diff / step + (diff % step != 0);
        if (c > (uint64_t)DIM_MAX) FAIL("tensor too large: Range would have %llu elements", (unsigned long long)c);
        count = (int64_t)c;
    }
    return set_out(g, node, 0, t, 1, &count, err);
}

/* ---- quantized operators (issue 5) ---------------------------------------
 * ONNX QuantizeLinear / DequantizeLinear / QLinearConv / QLinearMatMul /
 * ConvInteger / MatMulInteger and the com.microsoft QGemm, QLinearAdd,
 * QLinearConcat, QLinearGlobalAveragePool, QLinearAveragePool, QLinearSigmoid.
 * A scale is f32, a zero point int8 / uint8 (int32 for DequantizeLinear of
 * int32); a pair holds one value (per tensor) or, where `channels` > 0, one
 * per channel. Lowering reads them as constants; inference only checks them. */

/* Scale at input si and the optional zero point at zi (-1: none). channels:
 * the per-channel count a 1-D pair may have, or 0 (per tensor only).
 * zmask: the zero point's allowed dtypes. */
static int quant_pair(tb_graph *g, int node, int si, int zi, int64_t channels, unsigned zmask, tb_error *err) {
    const tb_value *s = in(g, node, si), *z = zi >= 0 ? in(g, node, zi) : NULL;
    if (!s) FAIL("input %d (scale) is required but missing", si);
    if (want_dtype(g, node, si, DT_F32, err) || (z && want_dtype(g, node, zi, zmask, err))) return 1;
    int64_t ns = tb_value_numel(s);
    if (s->rank > 1 || !(ns == 1 || (channels > 0 && s->rank == 1 && ns == channels))) {
        char b[SHAPE_BUF];
        if (channels > 0)
            FAIL("input %d (scale) has shape %s, expected one value or [%lld] (one per channel)", si,
                 fmt_shape(b, sizeof b, s->rank, s->dims), (long long)channels);
        FAIL("input %d (scale) has shape %s, expected a scalar (per-tensor quantization)", si,
             fmt_shape(b, sizeof b, s->rank, s->dims));
    }
    if (z && (z->rank != s->rank || tb_value_numel(z) != ns)) {
        char b1[SHAPE_BUF], b2[SHAPE_BUF];
        FAIL("input %d (zero point) has shape %s but its scale (input %d) has shape %s", zi,
             fmt_shape(b1, sizeof b1, z->rank, z->dims), si, fmt_shape(b2, sizeof b2, s->rank, s->dims));
    }
    return 0;
}

/* The com.microsoft ops have optional operands in the middle: want_io only
 * checks the leading ones, this checks the inputs listed in `required`. */
static int want_present(tb_graph *g, int node, int n, const int *required, tb_error *err) {
    for (int k = 0; k < n; k++)
        if (!in(g, node, required[k])) FAIL("input %d is required but missing", required[k]);
    return 0;
}

/* The int8 / uint8 dtype a quantized output takes from its zero point at
 * input zi, or from input xi when the zero point is omitted. */
static tb_dtype zero_point_dtype(tb_graph *g, int node, int zi, int xi) {
    const tb_value *z = in(g, node, zi);
    return z ? z->dtype : in(g, node, xi)->dtype;
}

/* QuantizeLinear / DequantizeLinear: x, scale, zero point; per-axis when
 * the scale is 1-D with more than one value (axis, default 1). */
static int linear_quant(tb_graph *g, int node, int dequant, tb_error *err) {
    if (want_io(g, node, 2, 3, 1, 1, err)) return 1;
    tb_value *x = in(g, node, 0), *s = in(g, node, 1), *z = in(g, node, 2);
    if (want_dtype(g, node, 0, dequant ? DT_Q8 | DT(TB_I32) : DT_F32, err)) return 1;
    int64_t axis_len = 0;
    if (s->rank == 1 && s->dims[0] != 1) {
        int64_t a;
        int axis;
        if (attr_int(g, node, "axis", 1, &a, err) || norm_axis(g, node, a, x->rank, "axis", err, &axis)) return 1;
        axis_len = x->dims[axis];
    }
    if (quant_pair(g, node, 1, 2, axis_len, dequant ? DT(x->dtype) : DT_Q8, err)) return 1;
    if (dequant) return set_out(g, node, 0, TB_F32, x->rank, x->dims, err);
    /* Without a zero point the output is uint8 (ONNX). */
    return set_out(g, node, 0, z ? z->dtype : TB_U8, x->rank, x->dims, err);
}

static int shape_quantizelinear(tb_graph *g, int node, tb_error *err) { return linear_quant(g, node, 0, err); }
static int shape_dequantizelinear(tb_graph *g, int node, tb_error *err) { return linear_quant(g, node, 1, err); }

/* QLinearConv(x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B?). */
static int shape_qlinearconv(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 8, 9, 1, 1, err)) return 1;
    if (want_dtype(g, node, 0, DT_Q8, err) || want_dtype(g, node, 3, DT_Q8, err) ||
        want_dtype(g, node, 8, DT(TB_I32), err))
        return 1;
    if (want_rank(g, node, 3, 1, TB_MAX_RANK, err)) return 1;
    if (quant_pair(g, node, 1, 2, 0, DT(in(g, node, 0)->dtype), err) ||
        quant_pair(g, node, 4, 5, in(g, node, 3)->dims[0], DT(in(g, node, 3)->dtype), err) ||
        quant_pair(g, node, 6, 7, 0, DT_Q8, err))
        return 1;
    return conv_out(g, node, 0, 3, 8, in(g, node, 7)->dtype, err);
}

/* ConvInteger(x, w, x_zp?, w_zp?) -> int32. */
static int shape_convinteger(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 2, 4, 1, 1, err)) return 1;
    if (want_dtype(g, node, 0, DT_Q8, err) || want_dtype(g, node, 1, DT_Q8, err) ||
        want_rank(g, node, 1, 1, TB_MAX_RANK, err))
        return 1;
    const tb_value *xz = in(g, node, 2), *wz = in(g, node, 3), *w = in(g, node, 1);
    if (xz && (want_same_dtype(g, node, 0, 2, err) || input_scalar(g, node, 2, "x_zero_point", 0, err))) return 1;
    if (wz) {
        if (want_same_dtype(g, node, 1, 3, err)) return 1;
        if (wz->rank > 1 || (tb_value_numel(wz) != 1 && tb_value_numel(wz) != w->dims[0]))
            FAIL("input 3 (w_zero_point) must hold one value or one per output channel (%lld)", (long long)w->dims[0]);
    }
    return conv_out(g, node, 0, 1, -1, TB_I32, err);
}

/* QLinearMatMul(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp): b's
 * parameters per tensor or per column. */
static int shape_qlinearmatmul(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 8, 8, 1, 1, err)) return 1;
    if (want_dtype(g, node, 0, DT_Q8, err) || want_dtype(g, node, 3, DT_Q8, err) ||
        want_rank(g, node, 3, 1, TB_MAX_RANK, err))
        return 1;
    const tb_value *b = in(g, node, 3);
    if (quant_pair(g, node, 1, 2, 0, DT(in(g, node, 0)->dtype), err) ||
        quant_pair(g, node, 4, 5, b->rank >= 2 ? b->dims[b->rank - 1] : 0, DT(b->dtype), err) ||
        quant_pair(g, node, 6, 7, 0, DT_Q8, err))
        return 1;
    return matmul_out(g, node, 0, 3, in(g, node, 7)->dtype, err);
}

/* MatMulInteger(a, b, a_zp?, b_zp?) -> int32; a_zp per tensor, b_zp per
 * tensor or per column. */
static int shape_matmulinteger(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 2, 4, 1, 1, err)) return 1;
    if (want_dtype(g, node, 0, DT_Q8, err) || want_dtype(g, node, 1, DT_Q8, err) ||
        want_rank(g, node, 1, 1, TB_MAX_RANK, err))
        return 1;
    const tb_value *az = in(g, node, 2), *bz = in(g, node, 3), *b = in(g, node, 1);
    if (az && (want_same_dtype(g, node, 0, 2, err) || input_scalar(g, node, 2, "a_zero_point", 0, err))) return 1;
    if (bz) {
        int64_t cols = b->dims[b->rank - 1];
        if (want_same_dtype(g, node, 1, 3, err)) return 1;
        if (bz->rank > 1 || (tb_value_numel(bz) != 1 && (b->rank < 2 || tb_value_numel(bz) != cols)))
            FAIL("input 3 (b_zero_point) must hold one value or one per column of b (%lld)", (long long)cols);
    }
    return matmul_out(g, node, 0, 1, TB_I32, err);
}

/* com.microsoft QGemm(A, a_scale, a_zp, B, b_scale, b_zp, C?, y_scale?, y_zp?):
 * alpha, transA, transB; C is int32. Without y_scale the output would be
 * float, which tyboxc does not run: y_scale is required. */
static int shape_qgemm(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 6, 9, 1, 1, err)) return 1;
    if (!in(g, node, 7)) FAIL("input 7 (y_scale) is required: a float QGemm output is not supported");
    if (want_dtype(g, node, 0, DT_Q8, err) || want_dtype(g, node, 3, DT_Q8, err) ||
        want_dtype(g, node, 6, DT(TB_I32), err) || want_rank(g, node, 3, 2, 2, err))
        return 1;
    if (tb_node_attr(NODE(g, node), "beta")) FAIL("attribute 'beta' does not exist on QGemm");
    int tb;
    if (attr_bool(g, node, "transB", 0, &tb, err)) return 1;
    const tb_value *b = in(g, node, 3);
    if (quant_pair(g, node, 1, 2, 0, DT(in(g, node, 0)->dtype), err) ||
        quant_pair(g, node, 4, 5, b->dims[!tb], DT(b->dtype), err) ||
        quant_pair(g, node, 7, 8, 0, DT_Q8, err))
        return 1;
    return gemm_out(g, node, 0, 3, 6, zero_point_dtype(g, node, 8, 0), err);
}

/* com.microsoft QLinearAdd(A, A_scale, A_zp?, B, B_scale, B_zp?, C_scale, C_zp?):
 * numpy broadcasting; A and B share the int8 / uint8 dtype. */
static int shape_qlinearadd(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 1, 8, 1, 1, err) || want_present(g, node, 5, (int[]){0, 1, 3, 4, 6}, err)) return 1;
    if (want_dtype(g, node, 0, DT_Q8, err) || want_same_dtype(g, node, 0, 3, err)) return 1;
    unsigned t = DT(in(g, node, 0)->dtype);
    if (quant_pair(g, node, 1, 2, 0, t, err) || quant_pair(g, node, 4, 5, 0, t, err) ||
        quant_pair(g, node, 6, 7, 0, t, err))
        return 1;
    tb_value *a = in(g, node, 0), *b = in(g, node, 3);
    int r;
    int64_t od[TB_MAX_RANK];
    if (tb_broadcast_shape(a->rank, a->dims, b->rank, b->dims, &r, od)) {
        char s1[SHAPE_BUF], s2[SHAPE_BUF];
        FAIL("inputs of shapes %s and %s are not broadcast-compatible", fmt_shape(s1, sizeof s1, a->rank, a->dims),
             fmt_shape(s2, sizeof s2, b->rank, b->dims));
    }
    return set_out(g, node, 0, a->dtype, r, od, err);
}

/* com.microsoft QLinearConcat(Y_scale, Y_zp, X0, X0_scale, X0_zp, X1, ...): axis. */
static int shape_qlinearconcat(tb_graph *g, int node, tb_error *err) {
    const tb_node *n = NODE(g, node);
    if (want_io(g, node, 5, TB_MAX_IO, 1, 1, err)) return 1;
    if ((n->n_inputs - 2) % 3)
        FAIL("expected Y_scale, Y_zero_point and (X, X_scale, X_zero_point) triples, got %d inputs", n->n_inputs);
    for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i] < 0) FAIL("input %d is missing", i);
    if (want_dtype(g, node, 2, DT_Q8, err)) return 1;
    tb_value *x = in(g, node, 2);
    if (quant_pair(g, node, 0, 1, 0, DT(x->dtype), err)) return 1;
    if (!tb_node_attr(n, "axis")) FAIL("attribute 'axis' is required");
    int64_t a;
    int axis;
    if (attr_int(g, node, "axis", 0, &a, err) || norm_axis(g, node, a, x->rank, "axis", err, &axis)) return 1;
    int64_t od[TB_MAX_RANK];
    for (int d = 0; d < x->rank; d++) od[d] = x->dims[d];
    od[axis] = 0;
    for (int i = 2; i < n->n_inputs; i += 3) {
        tb_value *v = in(g, node, i);
        if (want_same_dtype(g, node, 2, i, err) || quant_pair(g, node, i + 1, i + 2, 0, DT(x->dtype), err))
            return 1;
        if (v->rank != x->rank) FAIL("input %d has rank %d, expected %d", i, v->rank, x->rank);
        for (int d = 0; d < x->rank; d++)
            if (d != axis && v->dims[d] != x->dims[d])
                FAIL("input %d has dim %d = %lld, expected %lld (only axis %d may differ)", i, d,
                     (long long)v->dims[d], (long long)x->dims[d], axis);
        od[axis] += v->dims[axis]; /* each <= 2^31-1: no overflow over TB_MAX_IO inputs */
    }
    return set_out(g, node, 0, x->dtype, x->rank, od, err);
}

/* com.microsoft pooling and sigmoid: X, x_scale, x_zp, y_scale, y_zp?; the
 * output keeps X's dtype. channels_last (NHWC) is not supported. */
static int q_unary_io(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 1, 5, 1, 1, err) || want_present(g, node, 3, (int[]){0, 1, 3}, err) ||
        want_dtype(g, node, 0, DT_Q8, err))
        return 1;
    unsigned t = DT(in(g, node, 0)->dtype);
    if (quant_pair(g, node, 1, 2, 0, t, err) || quant_pair(g, node, 3, 4, 0, t, err)) return 1;
    int cl;
    if (attr_bool(g, node, "channels_last", 0, &cl, err)) return 1;
    if (cl) FAIL("channels_last=1 is not supported (only NCHW)");
    return 0;
}

static int shape_qlinearglobalavgpool(tb_graph *g, int node, tb_error *err) {
    if (q_unary_io(g, node, err) || want_rank(g, node, 0, 3, 4, err)) return 1;
    tb_value *x = in(g, node, 0);
    int64_t od[TB_MAX_RANK];
    for (int i = 0; i < x->rank; i++) od[i] = i < 2 ? x->dims[i] : 1;
    return set_out(g, node, 0, x->dtype, x->rank, od, err);
}

static int shape_qlinearavgpool(tb_graph *g, int node, tb_error *err) {
    if (q_unary_io(g, node, err)) return 1;
    return pool_out(g, node, 0, in(g, node, 0)->dtype, err);
}

static int shape_qlinearsigmoid(tb_graph *g, int node, tb_error *err) {
    if (q_unary_io(g, node, err)) return 1;
    return same_out(g, node, 0, in(g, node, 0), err);
}

/* ---- ops3: resampling, transposed convolution, selection, recurrent ----- */

static int shape_size(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 1, 1, 1, 1, err)) return 1;
    int64_t count = tb_value_numel(in(g, node, 0));
    if (!present_out(g, node, 0)) return 0;
    tb_value *y = &g->values[NODE(g, node)->outputs[0]];
    /* Static shapes: like Shape, the output is a constant now. */
    int reuse = y->data && y->dtype == TB_I64 && y->rank == 0;
    if (!reuse) y->data = NULL;
    if (set_out(g, node, 0, TB_I64, 0, NULL, err)) return 1;
    if (!reuse) y->data = tb_alloc(g->pool, sizeof(int64_t));
    memcpy(y->data, &count, sizeof count);
    return 0;
}

/* Index of s in names[0..n), or -1. */
static int pick_name(const char *s, const char *const *names, int n) {
    for (int i = 0; i < n; i++)
        if (!strcmp(s, names[i])) return i;
    return -1;
}

/* Reads a constant float tensor (f32 or f64) of exactly `want` values. */
static int input_floats(tb_graph *g, int node, int i, const char *what, float *out, int want, tb_error *err) {
    const tb_value *v = in(g, node, i);
    if (!v->data) FAIL("the '%s' input must be a constant (tyboxc needs static shapes)", what);
    if (v->dtype != TB_F32 && v->dtype != TB_F64) FAIL("the '%s' input must be float, got %s", what, tb_dtype_name(v->dtype));
    if (v->rank != 1 || v->dims[0] != want)
        FAIL("the '%s' input must hold %d values (one per input dim), got %lld", what, want, (long long)tb_value_numel(v));
    for (int k = 0; k < want; k++) out[k] = (float)elem_double(v->dtype, v->data, k);
    return 0;
}

int tb_resize_resolve(tb_graph *g, int node, tb_resize_info *r, tb_error *err) {
    static const char *const modes[] = {"nearest", "linear", "cubic"};
    static const char *const coords[] = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                                         "tf_half_pixel_for_nn", "tf_crop_and_resize"};
    static const char *const nearests[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    if (check_node(g, node, err)) return 1;
    int upsample = NODE(g, node)->op == TB_OP_UPSAMPLE, opset = opset_of(g);
    /* Resize-10 and Upsample: (X, scales), asymmetric coordinates; Upsample-7
     * has scales as an attribute. Resize-11+: (X, roi, scales, sizes). */
    int legacy = upsample || opset < 11;
    int scales_in = legacy ? (upsample && opset < 9 ? -1 : 1) : 2;
    if (want_io(g, node, scales_in < 0 ? 1 : legacy ? 2 : 1, scales_in < 0 ? 1 : legacy ? 2 : 4, 1, 1, err) ||
        want_dtype(g, node, 0, DT_F32, err))
        return 1;
    tb_value *x = in(g, node, 0);
    int rank = x->rank;
    if (rank < 1) FAIL("input 0 must have rank 1 or more");
    memset(r, 0, sizeof *r);
    const char *s;
    if (attr_string(g, node, "mode", "nearest", &s, err)) return 1;
    r->mode = pick_name(s, modes, 3);
    if (!strcmp(s, "bilinear") && upsample) r->mode = 1;
    if (r->mode < 0 || (legacy && r->mode == 2)) FAIL("mode '%s' is not supported", s);
    r->coord = 3;
    r->nearest = 4;
    r->cubic_a = -0.75f;
    if (!legacy) {
        if (attr_string(g, node, "coordinate_transformation_mode", "half_pixel", &s, err)) return 1;
        if ((r->coord = pick_name(s, coords, 6)) < 0) FAIL("coordinate_transformation_mode '%s' is not supported", s);
        if (attr_string(g, node, "nearest_mode", "round_prefer_floor", &s, err)) return 1;
        if ((r->nearest = pick_name(s, nearests, 4)) < 0) FAIL("nearest_mode '%s' is not supported", s);
        if (attr_float(g, node, "cubic_coeff_a", -0.75f, &r->cubic_a, err) ||
            attr_bool(g, node, "exclude_outside", 0, &r->exclude_outside, err) ||
            attr_float(g, node, "extrapolation_value", 0.0f, &r->extrapolation, err))
            return 1;
        if (tb_node_attr(NODE(g, node), "antialias") || tb_node_attr(NODE(g, node), "axes") ||
            tb_node_attr(NODE(g, node), "keep_aspect_ratio_policy"))
            FAIL("the opset 18 attributes antialias, axes and keep_aspect_ratio_policy are not supported");
    }
    for (int d = 0; d < rank; d++) r->roi[d] = 0, r->roi[rank + d] = 1;
    const tb_value *sv = scales_in >= 0 ? in(g, node, scales_in) : NULL, *zv = legacy ? NULL : in(g, node, 3);
    if (sv && tb_value_numel(sv) == 0 && !legacy) sv = NULL; /* an empty scales tensor means "use sizes" */
    if (r->coord == 5) {
        if (!in(g, node, 1)) FAIL("tf_crop_and_resize needs the 'roi' input");
        if (input_floats(g, node, 1, "roi", r->roi, 2 * rank, err)) return 1;
    }
    if (sv && zv) FAIL("only one of 'scales' and 'sizes' may be given");
    if (scales_in < 0) {
        const tb_attr *a = tb_node_attr(NODE(g, node), "scales");
        if (!a || a->kind != TB_ATTR_FLOATS) FAIL("attribute 'scales' (a list of floats) is required");
        if (a->n != rank) FAIL("attribute 'scales' has %d values, expected %d (the input rank)", a->n, rank);
        for (int d = 0; d < rank; d++) r->scales[d] = a->floats[d];
    } else if (sv) {
        if (input_floats(g, node, scales_in, "scales", r->scales, rank, err)) return 1;
    } else if (zv) {
        int64_t sz[TB_MAX_RANK];
        int n;
        if (input_ints(g, node, 3, "sizes", sz, TB_MAX_RANK, &n, err)) return 1;
        if (n != rank) FAIL("the 'sizes' input has %d values, expected %d (the input rank)", n, rank);
        for (int d = 0; d < rank; d++) {
            if (sz[d] < 1 || sz[d] > DIM_MAX) FAIL("sizes[%d] = %lld is invalid", d, (long long)sz[d]);
            r->out[d] = sz[d];
            r->scales[d] = x->dims[d] ? (float)((double)sz[d] / (double)x->dims[d]) : 1.0f;
        }
    } else {
        FAIL("one of 'scales' and 'sizes' is required");
    }
    if (!zv) {
        for (int d = 0; d < rank; d++) {
            if (!(r->scales[d] > 0) || r->scales[d] > 65536.0f) FAIL("scales[%d] = %g is invalid", d, (double)r->scales[d]);
            if (upsample && r->scales[d] < 1) FAIL("Upsample scales[%d] = %g is below 1", d, (double)r->scales[d]);
            /* The output size truncates in * scale (ONNX's reference implementation). */
            r->out[d] = (int64_t)floor((double)x->dims[d] * (double)r->scales[d]);
        }
    }
    for (int d = 0; d < rank - 2; d++)
        if (r->out[d] != x->dims[d] || (r->scales[d] != 1.0f && x->dims[d] != 1))
            FAIL("resizing axis %d is not supported (only the last two axes)", d);
    return 0;
}

static int resample(tb_graph *g, int node, tb_error *err) {
    tb_resize_info r;
    /* Scales or sizes computed by a node not folded yet (textual IR); a
     * Resize-11+ roi matters only to tf_crop_and_resize, which reports it. */
    int roi_first = NODE(g, node)->op == TB_OP_RESIZE && opset_of(g) >= 11;
    for (int i = 1 + roi_first; i < NODE(g, node)->n_inputs; i++)
        if (is_pending(g, node, i)) return accept_recorded(g, node, i == 3 ? "sizes" : "scales", SAME_DTYPE | SAME_RANK, err);
    if (tb_resize_resolve(g, node, &r, err)) return 1;
    return set_out(g, node, 0, TB_F32, in(g, node, 0)->rank, r.out, err);
}

static int shape_resize(tb_graph *g, int node, tb_error *err) { return resample(g, node, err); }
static int shape_upsample(tb_graph *g, int node, tb_error *err) { return resample(g, node, err); }

/* ConvTranspose: out = stride*(in-1) + output_padding + (k-1)*dil + 1 - pads.
 * output_shape or auto_pad SAME_* fix the output size and so the total pad,
 * split as ONNX says (SAME_UPPER: the smaller half first; end pads may then
 * be negative, which only lengthens the output). Inference leaves
 * explicit kernel_shape, strides, dilations, pads and output_padding. */
static int shape_convtranspose(tb_graph *g, int node, tb_error *err) {
    if (want_io(g, node, 2, 3, 1, 1, err)) return 1;
    tb_value *x = in(g, node, 0), *w = in(g, node, 1), *b = in(g, node, 2);
    if (x->rank == 5) FAIL("3-D ConvTranspose is not supported");
    if (x->rank != 3 && x->rank != 4) FAIL("input 0 has rank %d, expected 3 (1-D) or 4 (2-D)", x->rank);
    if (want_rank(g, node, 1, x->rank, x->rank, err) || want_rank(g, node, 2, 1, 1, err)) return 1;
    for (int i = 0; i < 3; i++)
        if (want_dtype(g, node, i, DT_F32, err)) return 1;
    int nsp = x->rank - 2;
    int64_t group, C = x->dims[1];
    if (attr_int(g, node, "group", 1, &group, err)) return 1;
    if (group < 1 || group > DIM_MAX) FAIL("group %lld must be >= 1", (long long)group);
    if (C % group) FAIL("input channels (%lld) are not divisible by group (%lld)", (long long)C, (long long)group);
    if (w->dims[0] != C) FAIL("input 1 has %lld input channels, expected %lld", (long long)w->dims[0], (long long)C);
    int64_t M = w->dims[1] * group;
    if (b && b->dims[0] != M)
        FAIL("input 2 (bias) has %lld values, expected %lld (output channels)", (long long)b->dims[0], (long long)M);
    int64_t k[2], s[2], d[2], pads[4] = {0}, op[2] = {0}, os[2], v[8];
    int c, cs, co;
    static const char *const names[3] = {"kernel_shape", "strides", "dilations"};
    int64_t *dst[3] = {k, s, d};
    for (int a = 0; a < 3; a++) {
        if (attr_ints(g, node, names[a], v, 8, &c, err)) return 1;
        if (c >= 0 && c != nsp) FAIL("%s must have %d values, got %d", names[a], nsp, c);
        for (int i = 0; i < nsp; i++) {
            dst[a][i] = c >= 0 ? v[i] : a == 0 ? w->dims[2 + i] : 1;
            if (dst[a][i] < 1 || dst[a][i] > 65535) FAIL("%s[%d] = %lld is invalid", names[a], i, (long long)dst[a][i]);
        }
    }
    for (int i = 0; i < nsp; i++)
        if (k[i] != w->dims[2 + i]) FAIL("kernel_shape[%d] is %lld but the weight's spatial dim is %lld", i,
                                         (long long)k[i], (long long)w->dims[2 + i]);
    if (attr_ints(g, node, "output_padding", op, 2, &co, err)) return 1;
    if (co >= 0 && co != nsp) FAIL("output_padding must have %d values, got %d", nsp, co);
    if (co < 0) op[0] = op[1] = 0;
    for (int i = 0; i < nsp; i++)
        if (op[i] < 0 || op[i] >= (s[i] > d[i] ? s[i] : d[i]))
            FAIL("output_padding[%d] = %lld must be smaller than the stride or dilation", i, (long long)op[i]);
    const char *ap;
    if (attr_string(g, node, "auto_pad", "NOTSET", &ap, err)) return 1;
    int mode = !strcmp(ap, "NOTSET") || !*ap ? 0 : !strcmp(ap, "VALID") ? 1 : !strcmp(ap, "SAME_UPPER") ? 2
             : !strcmp(ap, "SAME_LOWER") ? 3 : -1;
    if (mode < 0) FAIL("auto_pad '%s' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER", ap);
    if (attr_ints(g, node, "output_shape", v, 8, &cs, err)) return 1;
    if (cs >= 0 && cs != nsp && cs != nsp + 2) FAIL("output_shape must have %d values, got %d", nsp, cs);
    for (int i = 0; i < nsp; i++) os[i] = cs >= 0 ? v[cs - nsp + i] : x->dims[2 + i] * s[i];
    if (mode == 0 && cs < 0) {
        if (attr_ints(g, node, "pads", v, 8, &c, err)) return 1;
        if (c >= 0 && c != 2 * nsp) FAIL("pads must have %d values, got %d", 2 * nsp, c);
        for (int i = 0; i < 2 * nsp; i++) {
            pads[i] = c >= 0 ? v[i] : 0;
            /* negative: canonical pads from an output_shape (see above) */
            if (pads[i] < -DIM_MAX || pads[i] > DIM_MAX) FAIL("pads[%d] = %lld is invalid", i, (long long)pads[i]);
        }
    }
    int64_t od[4] = {x->dims[0], M, 0, 0};
    for (int i = 0; i < nsp; i++) {
        int64_t full = s[i] * (x->dims[2 + i] - 1) + op[i] + (k[i] - 1) * d[i] + 1;
        if (cs >= 0 || mode >= 2) {
            /* A negative total (output_shape beyond the full output) pads
             * the end with zeros: floor division, as ONNX's reference. */
            int64_t total = full - os[i];
            if (os[i] < 1 || os[i] > DIM_MAX) FAIL("output_shape[%d] = %lld is invalid", i, (long long)os[i]);
            int64_t small = total >= 0 ? total / 2 : -((1 - total) / 2);
            pads[i] = mode == 2 ? small : total - small;
            pads[i + nsp] = total - pads[i];
        }
        od[2 + i] = full - pads[i] - pads[i + nsp];
        if (od[2 + i] < 1) FAIL("the pads leave no output on spatial axis %d", i);
    }
    if (set_out(g, node, 0, TB_F32, x->rank, od, err)) return 1;
    tb_node_set_ints(g, node, "kernel_shape", nsp, k);
    tb_node_set_ints(g, node, "strides", nsp, s);
    tb_node_set_ints(g, node, "dilations", nsp, d);
    tb_node_set_ints(g, node, "pads", 2 * nsp, pads);
    tb_node_set_ints(g, node, "output_padding", nsp, op);
    tb_node_remove_attr(g, node, "auto_pad");
    tb_node_remove_attr(g, node, "output_shape");
    return 0;
}

/* MeanVarianceNormalization: axes default [0, 2, 3] (the ONNX default, so
 * rank 4 unless axes is given). */
int tb_mvn_axes(tb_graph *g, int node, int *mask, tb_error *err) {
    if (check_node(g, node, err) || want_io(g, node, 1, 1, 1, 1, err) || want_dtype(g, node, 0, DT_F32, err)) return 1;
    tb_value *x = in(g, node, 0);
    int64_t axes[TB_MAX_RANK] = {0, 2, 3};
    int n;
    if (attr_ints(g, node, "axes", axes, TB_MAX_RANK, &n, err)) return 1;
    if (n < 0) n = 3;
    for (int d = 0; d < TB_MAX_RANK; d++) mask[d] = 0;
    for (int i = 0; i < n; i++) {
        int a;
        if (norm_axis(g, node, axes[i], x->rank, "axis", err, &a)) return 1;
        if (mask[a]) FAIL("axis %lld is listed twice", (long long)axes[i]);
        mask[a] = 1;
    }
    return 0;
}

static int shape_mvn(tb_graph *g, int node, tb_error *err) {
    int mask[TB_MAX_RANK];
    if (tb_mvn_axes(g, node, mask, err)) return 1;
    return same_out(g, node, 0, in(g, node, 0), err);
}

int tb_topk_resolve(tb_graph *g, int node, int *axis, int64_t *k, int *largest, tb_error *err) {
    if (check_node(g, node, err)) return 1;
    int opset = opset_of(g);
    if (want_io(g, node, opset < 10 ? 1 : 2, opset < 10 ? 1 : 2, 2, 2, err) || want_dtype(g, node, 0, DT_F32, err) ||
        want_rank(g, node, 0, 1, TB_MAX_RANK, err))
        return 1;
    tb_value *x = in(g, node, 0);
    int64_t a, kv[1];
    int n, sorted;
    if (attr_int(g, node, "axis", -1, &a, err) || norm_axis(g, node, a, x->rank, "axis", err, axis)) return 1;
    if (opset < 10) {
        if (!tb_node_attr(NODE(g, node), "k")) FAIL("attribute 'k' is required");
        if (attr_int(g, node, "k", 0, k, err)) return 1;
    } else {
        if (input_ints(g, node, 1, "K", kv, 1, &n, err)) return 1;
        if (n != 1) FAIL("the 'K' input must hold one value");
        *k = kv[0];
    }
    if (*k < 0 || *k > x->dims[*axis])
        FAIL("k = %lld is out of range for axis %d of size %lld", (long long)*k, *axis, (long long)x->dims[*axis]);
    /* sorted = 0 leaves the order unspecified: the sorted order is one. */
    if (attr_bool(g, node, "largest", 1, largest, err) || attr_bool(g, node, "sorted", 1, &sorted, err)) return 1;
    return 0;
}

static int shape_topk(tb_graph *g, int node, tb_error *err) {
    int axis, largest;
    int64_t k;
    if (is_pending(g, node, 1)) return accept_recorded(g, node, "K", SAME_RANK, err);
    if (tb_topk_resolve(g, node, &axis, &k, &largest, err)) return 1;
    tb_value *x = in(g, node, 0);
    int64_t od[TB_MAX_RANK];
    for (int d = 0; d < x->rank; d++) od[d] = d == axis ? k : x->dims[d];
    return set_out(g, node, 0, TB_F32, x->rank, od, err) || set_out(g, node, 1, TB_I64, x->rank, od, err);
}

/* Einsum: labels are letters; '...' stands for the broadcast dims, aligned
 * on the right across operands. Without '->' the output is the ellipsis
 * dims, then the labels used once, in alphabetical order. */
int tb_einsum_resolve(tb_graph *g, int node, tb_einsum_info *e, tb_error *err) {
    if (check_node(g, node, err)) return 1;
    const tb_node *nd = NODE(g, node);
    const char *eq;
    if (!tb_node_attr(nd, "equation")) FAIL("attribute 'equation' is required");
    if (attr_string(g, node, "equation", "", &eq, err)) return 1;
    if (nd->n_inputs < 1 || nd->n_inputs > 2)
        FAIL("Einsum '%s' with %d operands is not supported (1 or 2)", eq, nd->n_inputs);
    if (want_io(g, node, nd->n_inputs, nd->n_inputs, 1, 1, err)) return 1;
    for (int i = 0; i < nd->n_inputs; i++)
        if (want_dtype(g, node, i, DT_F32 | DT(TB_F64), err) || want_same_dtype(g, node, 0, i, err)) return 1;
    /* label ids: 0..51 letters, 52.. ellipsis dims (52 + position from the right) */
    enum { NL = 52 + TB_MAX_RANK };
    int64_t size[NL];
    int used[NL] = {0}, count[NL] = {0}, ops_lab[2][TB_MAX_RANK], n_ell = 0, ell_out = 0;
    for (int l = 0; l < NL; l++) size[l] = -1;
    const char *p = eq;
    memset(e, 0, sizeof *e);
    for (int op = 0; op < nd->n_inputs; op++) {
        tb_value *v = in(g, node, op);
        int labs[TB_MAX_RANK + 1], nlab = 0, ell_at = -1;
        while (*p == ' ') p++;
        for (; *p && *p != ',' && *p != '-'; p++) {
            if (*p == ' ') continue;
            if (!strncmp(p, "...", 3)) {
                if (ell_at >= 0) FAIL("Einsum equation '%s': two ellipses in one operand", eq);
                ell_at = nlab;
                p += 2;
            } else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
                if (nlab >= TB_MAX_RANK) FAIL("Einsum equation '%s': too many labels", eq);
                labs[nlab++] = *p >= 'a' ? *p - 'a' : 26 + *p - 'A';
            } else {
                FAIL("Einsum equation '%s' is not supported (unexpected '%c')", eq, *p);
            }
        }
        int ne = ell_at >= 0 ? v->rank - nlab : 0;
        if (ne < 0 || (ell_at < 0 && nlab != v->rank))
            FAIL("Einsum equation '%s': operand %d has rank %d but %d labels", eq, op, v->rank, nlab);
        if (ne > n_ell) n_ell = ne;
        int d = 0;
        for (int i = 0; i <= nlab; i++) {
            if (i == ell_at)
                for (int k = 0; k < ne; k++) ops_lab[op][d++] = 52 + (ne - 1 - k);
            if (i < nlab) ops_lab[op][d++] = labs[i];
        }
        for (d = 0; d < v->rank; d++) {
            int l = ops_lab[op][d];
            used[l] = 1;
            count[l]++;
            if (l >= 52 && v->dims[d] == 1) continue; /* broadcast */
            if (size[l] >= 0 && size[l] != 1 && size[l] != v->dims[d] && !(l >= 52 && size[l] == 1))
                FAIL("Einsum equation '%s': label sizes %lld and %lld differ", eq, (long long)size[l], (long long)v->dims[d]);
            if (size[l] < 0 || size[l] == 1) size[l] = v->dims[d];
        }
        if (op + 1 < nd->n_inputs) {
            if (*p != ',') FAIL("Einsum equation '%s' has fewer terms than the %d operands", eq, nd->n_inputs);
            p++;
        }
    }
    for (int l = 52; l < 52 + n_ell; l++)
        if (size[l] < 0) size[l] = 1;
    int out[TB_MAX_RANK], n_out = 0;
    if (*p == ',') FAIL("Einsum equation '%s' has more terms than the %d operands", eq, nd->n_inputs);
    if (*p == '-') {
        if (p[1] != '>') FAIL("Einsum equation '%s' is not supported", eq);
        for (p += 2; *p; p++) {
            if (*p == ' ') continue;
            int l;
            if (!strncmp(p, "...", 3)) {
                for (int k = n_ell - 1; k >= 0 && n_out < TB_MAX_RANK; k--) out[n_out++] = 52 + k;
                ell_out = 1;
                p += 2;
                continue;
            }
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) l = *p >= 'a' ? *p - 'a' : 26 + *p - 'A';
            else FAIL("Einsum equation '%s' is not supported (unexpected '%c')", eq, *p);
            if (!used[l]) FAIL("Einsum equation '%s': output label '%c' is in no operand", eq, *p);
            for (int k = 0; k < n_out; k++)
                if (out[k] == l) FAIL("Einsum equation '%s': output label '%c' repeats", eq, *p);
            if (n_out >= TB_MAX_RANK) FAIL("Einsum equation '%s': too many output labels", eq);
            out[n_out++] = l;
        }
        if (!ell_out && n_ell) FAIL("Einsum equation '%s': the output drops the ellipsis dims (not supported)", eq);
    } else {
        for (int k = n_ell - 1; k >= 0; k--) out[n_out++] = 52 + k;
        for (int l = 0; l < 52; l++)
            if (count[l] == 1) out[n_out++] = l;
    }
    /* index space: output labels, then the summed ones */
    int order[NL], n = 0;
    for (int k = 0; k < n_out; k++) order[n++] = out[k];
    for (int l = 0; l < NL; l++) {
        int in_out = 0;
        for (int k = 0; k < n_out; k++) in_out |= out[k] == l;
        if (used[l] && !in_out) order[n++] = l;
    }
    if (n > TB_MAX_RANK) FAIL("Einsum equation '%s' needs %d indices, more than %d", eq, n, TB_MAX_RANK);
    e->rank = n;
    e->out_rank = n_out;
    for (int i = 0; i < n; i++) e->dims[i] = size[order[i]];
    for (int op = 0; op < nd->n_inputs; op++) {
        tb_value *v = in(g, node, op);
        int64_t st = 1;
        for (int d = v->rank - 1; d >= 0; d--) {
            for (int i = 0; i < n; i++)
                if (order[i] == ops_lab[op][d] && v->dims[d] != 1) e->strides[op][i] += st;
            st *= v->dims[d];
        }
    }
    return 0;
}

static int shape_einsum(tb_graph *g, int node, tb_error *err) {
    tb_einsum_info e;
    if (tb_einsum_resolve(g, node, &e, err)) return 1;
    return set_out(g, node, 0, in(g, node, 0)->dtype, e.out_rank, e.dims, err);
}

/* LSTM / GRU / RNN. The kernel keeps h(t) in Y and the LSTM cell state in
 * Y_c (the GRU uses Y_h for r (.) h(t-1)), so inference gives the node these
 * outputs (and those before them) when the model omitted them: unused, they
 * cost only arena bytes. */
static int ensure_output(tb_graph *g, int node, int k) {
    tb_node *n = NODE(g, node);
    while (n->n_outputs <= k) n->outputs[n->n_outputs++] = -1;
    if (n->outputs[k] >= 0) return 0;
    int v = tb_graph_add_value(g, NULL, TB_F32);
    n = NODE(g, node); /* the value array may have moved, not the nodes */
    n->outputs[k] = v;
    g->values[v].producer = node;
    return 0;
}

int tb_rnn_resolve(tb_graph *g, int node, tb_rnn_info *r, tb_error *err) {
    if (check_node(g, node, err)) return 1;
    tb_op op = NODE(g, node)->op;
    int lstm = op == TB_OP_LSTM, gates = lstm ? 4 : op == TB_OP_GRU ? 3 : 1;
    if (want_io(g, node, 3, lstm ? 8 : 6, 0, lstm ? 3 : 2, err)) return 1;
    for (int i = 0; i < NODE(g, node)->n_inputs; i++)
        if (i != 4 && want_dtype(g, node, i, DT_F32, err)) return 1;
    if (want_dtype(g, node, 4, DT(TB_I32), err)) return 1;
    if (want_rank(g, node, 0, 3, 3, err) || want_rank(g, node, 1, 3, 3, err) || want_rank(g, node, 2, 3, 3, err))
        return 1;
    memset(r, 0, sizeof *r);
    int64_t hs, ifg;
    const char *dir;
    if (!tb_node_attr(NODE(g, node), "hidden_size")) FAIL("attribute 'hidden_size' is required");
    if (attr_int(g, node, "hidden_size", 0, &hs, err) || attr_string(g, node, "direction", "forward", &dir, err) ||
        attr_bool(g, node, "layout", 0, &r->layout, err) || attr_float(g, node, "clip", 0.0f, &r->clip, err) ||
        attr_bool(g, node, "linear_before_reset", 0, &r->linear_before_reset, err) ||
        attr_int(g, node, "input_forget", 0, &ifg, err))
        return 1;
    if (hs < 1 || hs > 65535) FAIL("hidden_size %lld is invalid", (long long)hs);
    if (ifg) FAIL("input_forget = 1 is not supported");
    if (!strcmp(dir, "forward")) r->direction = 0;
    else if (!strcmp(dir, "reverse")) r->direction = 1;
    else if (!strcmp(dir, "bidirectional")) r->direction = 2;
    else FAIL("direction '%s' is not forward, reverse or bidirectional", dir);
    /* The IR has no string lists (the frontend rejects them), so any
     * activations attribute here did not come from ONNX defaults. */
    if (tb_node_attr(NODE(g, node), "activations"))
        FAIL("the 'activations' attribute is not supported (only the default activations)");
    tb_value *x = in(g, node, 0), *w = in(g, node, 1), *rr = in(g, node, 2);
    r->dirs = r->direction == 2 ? 2 : 1;
    r->hidden = hs;
    r->seq = x->dims[r->layout ? 1 : 0];
    r->batch = x->dims[r->layout ? 0 : 1];
    r->input = x->dims[2];
    r->cell = lstm ? 2 : gates == 3 ? 1 : 0;
    char s1[SHAPE_BUF];
    int64_t wd[3] = {r->dirs, gates * hs, r->input}, rd[3] = {r->dirs, gates * hs, hs};
    for (int d = 0; d < 3; d++) {
        if (w->dims[d] != wd[d]) FAIL("input 1 (W) has shape %s, expected [%lld,%lld,%lld]", fmt_shape(s1, sizeof s1, 3, w->dims),
                                      (long long)wd[0], (long long)wd[1], (long long)wd[2]);
        if (rr->dims[d] != rd[d]) FAIL("input 2 (R) has shape %s, expected [%lld,%lld,%lld]", fmt_shape(s1, sizeof s1, 3, rr->dims),
                                       (long long)rd[0], (long long)rd[1], (long long)rd[2]);
    }
    tb_value *b = in(g, node, 3), *sl = in(g, node, 4), *p = in(g, node, 7);
    if (b && (b->rank != 2 || b->dims[0] != r->dirs || b->dims[1] != 2 * gates * hs))
        FAIL("input 3 (B) has shape %s, expected [%lld,%lld]", fmt_shape(s1, sizeof s1, b->rank, b->dims), (long long)r->dirs,
             (long long)(2 * gates * hs));
    if (sl && (sl->rank != 1 || sl->dims[0] != r->batch))
        FAIL("input 4 (sequence_lens) has shape %s, expected [%lld]", fmt_shape(s1, sizeof s1, sl->rank, sl->dims),
             (long long)r->batch);
    for (int i = 5; i <= 6; i++) {
        tb_value *h = in(g, node, i);
        int64_t want[3] = {r->layout ? r->batch : r->dirs, r->layout ? r->dirs : r->batch, hs};
        if (h && (h->rank != 3 || h->dims[0] != want[0] || h->dims[1] != want[1] || h->dims[2] != want[2]))
            FAIL("input %d (initial state) has shape %s, expected [%lld,%lld,%lld]", i,
                 fmt_shape(s1, sizeof s1, h->rank, h->dims), (long long)want[0], (long long)want[1], (long long)want[2]);
    }
    if (p && (p->rank != 2 || p->dims[0] != r->dirs || p->dims[1] != 3 * hs))
        FAIL("input 7 (P) has shape %s, expected [%lld,%lld]", fmt_shape(s1, sizeof s1, p->rank, p->dims), (long long)r->dirs,
             (long long)(3 * hs));
    return 0;
}

static int recurrent(tb_graph *g, int node, tb_error *err) {
    tb_rnn_info r;
    if (tb_rnn_resolve(g, node, &r, err)) return 1;
    /* Y always, Y_h for a GRU, Y_c (and so Y_h: no gaps) for an LSTM */
    for (int k = 0; k <= r.cell; k++) ensure_output(g, node, k);
    int64_t yd[4] = {r.seq, r.dirs, r.batch, r.hidden}, sd[3] = {r.dirs, r.batch, r.hidden};
    if (r.layout) {
        yd[0] = r.batch, yd[1] = r.seq, yd[2] = r.dirs;
        sd[0] = r.batch, sd[1] = r.dirs;
    }
    for (int k = 0; k < NODE(g, node)->n_outputs; k++)
        if (set_out(g, node, k, TB_F32, k ? 3 : 4, k ? sd : yd, err)) return 1;
    return 0;
}

static int shape_lstm(tb_graph *g, int node, tb_error *err) { return recurrent(g, node, err); }
static int shape_gru(tb_graph *g, int node, tb_error *err) { return recurrent(g, node, err); }
static int shape_rnn(tb_graph *g, int node, tb_error *err) { return recurrent(g, node, err); }

/* ---- dispatch ----------------------------------------------------------- */

typedef int (*shape_fn)(tb_graph *g, int node, tb_error *err);

/* Every op in ops.def needs a shape_<stem> above: a missing one is an
 * undeclared identifier here, i.e. a compile error. */
static const shape_fn shape_fns[TB_OP_COUNT] = {
#define OP(id, onnx, stem) [TB_OP_##id] = shape_##stem,
#include "ops.def"
#undef OP
};

/* Ops whose node must not be folded even when all inputs are constant
 * (none for now). */
static const unsigned char never_fold[TB_OP_COUNT] = {0};

int tb_infer_node(tb_graph *g, int node, tb_error *err) {
    if (node < 0 || node >= g->n_nodes) return tb_error_set(err, "node %d does not exist", node);
    if (g->nodes[node].dead) return 0;
    if (check_node(g, node, err)) return 1;
    return shape_fns[g->nodes[node].op](g, node, err);
}

int tb_infer_shapes_folding(tb_graph *g, tb_fold_fn fold, tb_error *err) {
    /* fold may add nodes or values: re-read g->n_nodes and re-fetch nodes. */
    for (int i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i].dead) continue;
        if (tb_infer_node(g, i, err)) return 1;
        const tb_node *n = &g->nodes[i];
        if (!fold || never_fold[n->op]) continue;
        int all_const = 1, outs_known = n->n_outputs > 0;
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] >= 0 && !g->values[n->inputs[k]].data) all_const = 0;
        /* A node whose outputs inference already made constant (Shape, whose
         * input need not be constant) folds too, so no live node is left
         * producing a constant. */
        for (int k = 0; k < n->n_outputs; k++)
            if (n->outputs[k] >= 0 && !g->values[n->outputs[k]].data) outs_known = 0;
        if ((all_const || outs_known) && fold(g, i, err)) return 1;
    }
    return 0;
}

int tb_infer_shapes(tb_graph *g, tb_error *err) { return tb_infer_shapes_folding(g, NULL, err); }
