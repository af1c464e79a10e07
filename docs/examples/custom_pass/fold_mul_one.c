/* fold_mul_one.c - arithmetic with a neutral constant is a copy: forward x.
 *
 *   %one = const f32[] [1.0]
 *   %y = Mul(%x, %one) : f32[4]
 *   %z = Relu(%y) : f32[4]           =>   %z = Relu(%x) : f32[4]
 *
 * Folds x * 1, 1 * x, x / 1, x + 0, 0 + x and x - 0 when the constant is all
 * ones (zeros), whatever its shape, as long as broadcasting does not widen x:
 * the output must have the shape and type of x, or its users would read a
 * different tensor. Exporters leave these behind (a scale of 1, a zero bias,
 * a normalisation with mean 0 and std 1).
 *
 * In floating point x + 0 is not exact: -0.0 + 0.0 is +0.0. With the pass
 * option keep-signed-zeros=1 only the exact forms fold (x + -0.0, x - +0.0).
 *
 * Written outside the tyboxc tree against the installed library; see
 * docs/writing-passes.md for a walk through it.
 */
#include <tyboxc/passes.h>

#include <math.h>
#include <string.h>

/* Which zeros count as the neutral element. */
typedef enum { ANY_ZERO, POSITIVE_ZERO, NEGATIVE_ZERO } zero_sign;

/* Whether v is a constant whose elements all equal k (0 or 1). A float zero
 * must also have the sign asked for; integers have a single zero. */
static int is_constant_splat(const tb_value *v, double k, zero_sign sign) {
    if (!v->data || v->scale != 0) return 0; /* not a constant, or quantized: the stored 1 is not 1 */
    int is_float = v->dtype == TB_F32 || v->dtype == TB_F64;
    int64_t n = tb_value_numel(v);
    for (int64_t i = 0; i < n; i++) {
        double e;
        switch (v->dtype) {
        case TB_F32: e = ((const float *)v->data)[i]; break;
        case TB_F64: e = ((const double *)v->data)[i]; break;
        case TB_I8: e = ((const int8_t *)v->data)[i]; break;
        case TB_U8: e = ((const uint8_t *)v->data)[i]; break;
        case TB_I16: e = ((const int16_t *)v->data)[i]; break;
        case TB_U16: e = ((const uint16_t *)v->data)[i]; break;
        case TB_I32: e = ((const int32_t *)v->data)[i]; break;
        case TB_U32: e = ((const uint32_t *)v->data)[i]; break;
        case TB_I64: e = (double)((const int64_t *)v->data)[i]; break;
        case TB_U64: e = (double)((const uint64_t *)v->data)[i]; break;
        default: return 0; /* bool and anything newer: no arithmetic identity to rely on */
        }
        if (e != k) return 0;
        if (k == 0 && is_float && sign != ANY_ZERO && (signbit(e) != 0) != (sign == NEGATIVE_ZERO)) return 0;
    }
    return 1;
}

/* The input index (0 or 1) whose value n's output copies, or -1. */
static int copied_input(const tb_graph *g, const tb_node *n, int keep_signed_zeros) {
    if (n->n_inputs != 2 || n->inputs[0] < 0 || n->inputs[1] < 0) return -1;
    const tb_value *a = &g->values[n->inputs[0]], *b = &g->values[n->inputs[1]];
    zero_sign add_zero = keep_signed_zeros ? NEGATIVE_ZERO : ANY_ZERO;
    zero_sign sub_zero = keep_signed_zeros ? POSITIVE_ZERO : ANY_ZERO;
    switch (n->op) {
    case TB_OP_MUL: return is_constant_splat(b, 1, ANY_ZERO) ? 0 : is_constant_splat(a, 1, ANY_ZERO) ? 1 : -1;
    case TB_OP_ADD: return is_constant_splat(b, 0, add_zero) ? 0 : is_constant_splat(a, 0, add_zero) ? 1 : -1;
    case TB_OP_DIV: return is_constant_splat(b, 1, ANY_ZERO) ? 0 : -1; /* 1 / x is not x */
    case TB_OP_SUB: return is_constant_splat(b, 0, sub_zero) ? 0 : -1; /* 0 - x is not x */
    default: return -1;
    }
}

static int same_type(const tb_value *x, const tb_value *y) {
    return x->dtype == y->dtype && x->rank == y->rank && x->scale == y->scale &&
           !memcmp(x->dims, y->dims, sizeof x->dims[0] * (size_t)x->rank);
}

int fold_mul_one(tb_graph *g, tb_pass_context *ctx, tb_error *err) {
    const char *opt = tb_pass_option(ctx, "keep-signed-zeros", "0");
    if (strcmp(opt, "0") && strcmp(opt, "1"))
        return tb_error_set(err, "fold-mul-one: keep-signed-zeros must be 0 or 1, got '%s'", opt);
    int keep_signed_zeros = !strcmp(opt, "1");
    for (int i = 0; i < g->n_nodes; i++) {
        tb_node *n = &g->nodes[i];
        if (n->dead) continue;
        int k = copied_input(g, n, keep_signed_zeros);
        if (k < 0) continue;
        int x = n->inputs[k], y = n->outputs[0];
        const char *label = n->name[0] ? n->name : g->values[y].name;
        if (!same_type(&g->values[x], &g->values[y])) {
            if (ctx->report)
                fprintf(ctx->report, "fold-mul-one: kept '%s' (%s): the constant broadcasts its input to a larger shape\n",
                        label, tb_op_name(n->op));
            continue;
        }
        if (tb_value_is_graph_output(g, y)) {
            /* The output keeps its name, so x must become it: a graph input or
             * constant cannot (the generated code must write the output
             * buffer), nor can a value that is already an output. */
            if (g->values[x].producer < 0 || tb_value_is_graph_output(g, x)) {
                if (ctx->report)
                    fprintf(ctx->report, "fold-mul-one: kept '%s' (%s): the output would be a graph input, a constant or another output\n",
                            label, tb_op_name(n->op));
                continue;
            }
            tb_graph_forward_value(g, y, x);
        } else {
            /* Users read x under its own name: a graph input keeps its name. */
            tb_graph_replace_uses(g, y, x);
        }
        n->dead = 1;
        if (ctx->report) fprintf(ctx->report, "fold-mul-one: removed '%s' (%s)\n", label, tb_op_name(n->op));
    }
    return 0;
}
