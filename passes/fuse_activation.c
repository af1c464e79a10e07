/* fuse_activation.c - fuse Relu and constant Clip into Conv / Gemm.
 *
 * The conv and gemm kernels clamp their result to [clip_min, clip_max]
 * after adding the bias, so an activation that is a clamp and is the only
 * user of the output costs nothing:
 *
 *   %c = Conv(%x, %w, %b) {...} : f32[1,8,4,4]
 *   %y = Relu(%c) : f32[1,8,4,4]
 * becomes
 *   %y = Conv(%x, %w, %b) {..., clip_min = 0.0} : f32[1,8,4,4]
 *
 * Clip(0, 6) (Relu6) gives clip_min = 0.0, clip_max = 6.0. Repeated clamps
 * intersect.
 */
#include "passes.h"
#include "shape.h"

#include <float.h>
#include <math.h>

int tb_pass_fuse_activation(tb_graph *g, tb_pass_context *ctx, tb_error *err) {
    (void)ctx;
    for (int i = 0; i < g->n_nodes; i++) {
        tb_node *act = &g->nodes[i];
        if (act->dead || (act->op != TB_OP_RELU && act->op != TB_OP_CLIP)) continue;
        int x = act->inputs[0];
        int prod = g->values[x].producer;
        if (prod < 0 || tb_value_single_user(g, x) != i || g->values[x].dtype != TB_F32) continue;
        tb_node *p = &g->nodes[prod];
        if (p->op != TB_OP_CONV && p->op != TB_OP_GEMM) continue;
        float lo = 0.0f, hi = INFINITY;
        if (act->op == TB_OP_CLIP) {
            /* Clip bounds must be constants to fuse; otherwise it stays. */
            int dynamic = 0;
            for (int k = 1; k < act->n_inputs; k++)
                if (act->inputs[k] >= 0 && !g->values[act->inputs[k]].data) dynamic = 1;
            if (dynamic) continue;
            if (tb_clip_resolve(g, i, &lo, &hi, err)) return 1;
        }
        float old_lo = tb_node_float(p, "clip_min", -INFINITY), old_hi = tb_node_float(p, "clip_max", INFINITY);
        if (old_lo > lo) lo = old_lo;
        if (old_hi < hi) hi = old_hi;
        /* An absent Clip bound reads as -FLT_MAX / FLT_MAX: no clamp there. */
        if (lo > -FLT_MAX) tb_node_set_float(g, prod, "clip_min", lo);
        if (hi < FLT_MAX) tb_node_set_float(g, prod, "clip_max", hi);
        act = &g->nodes[i];
        /* The Conv now produces the activation's value, under its name. */
        tb_graph_forward_value(g, act->outputs[0], x);
        act->dead = 1;
    }
    return 0;
}
