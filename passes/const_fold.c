/* const_fold.c - evaluate nodes whose inputs are all constants.
 *
 * With static shapes, the shape arithmetic that exporters emit (Shape,
 * Gather, Concat, Cast, ConstantOfShape, Reshape, Slice, ...) only ever sees
 * constants, so it evaluates away here. Evaluation runs the same runtime
 * kernels as the generated code (backend/interp.c).
 *
 *   %s = const i64[2] [2, 3]
 *   %z = ConstantOfShape(%s) {value = tensor<f32[1] [0.0]>} : f32[2,3]
 *   %y = Add(%x, %z) : f32[2,3]
 * becomes
 *   %z = const f32[2,3] [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
 *   %y = Add(%x, %z) : f32[2,3]
 *
 * A graph output that is computed from constants becomes a constant too; the
 * backend copies it into the output buffer.
 */
#include "lower.h"
#include "passes.h"
#include "shape.h"

#include <math.h>
#include <string.h>

/* ConstantOfShape and Range have no kernel: they only exist at compile time. */
static void fill_constant_of_shape(tb_graph *g, tb_node *n, void *out) {
    tb_value *y = &g->values[n->outputs[0]];
    const tb_attr *a = tb_node_attr(n, "value");
    size_t size = tb_dtype_size(y->dtype);
    int64_t count = tb_value_numel(y);
    for (int64_t i = 0; a && a->kind == TB_ATTR_TENSOR && i < count; i++)
        memcpy((char *)out + (size_t)i * size, a->t->data, size);
}

static int fill_range(tb_graph *g, tb_node *n, void *out, tb_error *err) {
    tb_value *y = &g->values[n->outputs[0]];
    int64_t count = tb_value_numel(y);
    double v[3];
    for (int k = 0; k < 3; k++) {
        tb_value *x = &g->values[n->inputs[k]];
        switch (x->dtype) {
        case TB_F32: v[k] = *(float *)x->data; break;
        case TB_F64: v[k] = *(double *)x->data; break;
        case TB_I32: v[k] = *(int32_t *)x->data; break;
        case TB_I64: v[k] = (double)*(int64_t *)x->data; break;
        default: return tb_node_error(err, n, "dtype %s is not supported", tb_dtype_name(x->dtype));
        }
    }
    for (int64_t i = 0; i < count; i++) {
        double e = v[0] + (double)i * v[2];
        switch (y->dtype) {
        case TB_F32: ((float *)out)[i] = (float)e; break;
        case TB_F64: ((double *)out)[i] = e; break;
        case TB_I32: ((int32_t *)out)[i] = (int32_t)e; break;
        default: ((int64_t *)out)[i] = *(int64_t *)g->values[n->inputs[0]].data +
                                       i * *(int64_t *)g->values[n->inputs[2]].data; break;
        }
    }
    return 0;
}

int tb_fold_node(tb_graph *g, int node, tb_error *err) {
    tb_node *n = &g->nodes[node];
    void *ptr_small[64];
    void **ptr = ptr_small;
    /* The interpreter indexes storage by value id. */
    if (g->n_values > 64) {
        ptr = tb_alloc(g->pool, (size_t)g->n_values * sizeof *ptr);
    } else {
        memset(ptr_small, 0, sizeof ptr_small);
    }
    for (int k = 0; k < n->n_inputs; k++)
        if (n->inputs[k] >= 0) ptr[n->inputs[k]] = g->values[n->inputs[k]].data;
    for (int k = 0; k < n->n_outputs; k++) {
        tb_value *y = &g->values[n->outputs[k]];
        if (y->data) continue; /* Shape inference already knew it (Shape, Size). */
        size_t bytes = tb_value_bytes(y);
        ptr[n->outputs[k]] = tb_alloc(g->pool, bytes ? bytes : 1);
    }
    int rc = 0;
    if (n->op == TB_OP_CONSTANTOFSHAPE) fill_constant_of_shape(g, n, ptr[n->outputs[0]]);
    else if (n->op == TB_OP_RANGE) rc = fill_range(g, n, ptr[n->outputs[0]], err);
    else if (n->op != TB_OP_SHAPE && n->op != TB_OP_SIZE) rc = tb_interp_node(g, node, ptr, err);
    if (rc) return rc;
    for (int k = 0; k < n->n_outputs; k++) {
        tb_value *y = &g->values[n->outputs[k]];
        if (!y->data) y->data = ptr[n->outputs[k]];
        y->producer = -1;
    }
    n->dead = 1;
    return 0;
}

int tb_pass_const_fold(tb_graph *g, tb_pass_context *ctx, tb_error *err) {
    (void)ctx;
    for (int i = 0; i < g->n_nodes; i++) {
        tb_node *n = &g->nodes[i];
        if (n->dead) continue;
        /* Shape and Size need no constant input: static shapes make their output known. */
        int all_const = 1;
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] >= 0 && !g->values[n->inputs[k]].data) all_const = 0;
        if ((all_const || n->op == TB_OP_SHAPE || n->op == TB_OP_SIZE) && tb_fold_node(g, i, err)) return 1;
    }
    return 0;
}
