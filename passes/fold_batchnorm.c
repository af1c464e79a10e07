/* fold_batchnorm.c - fold inference BatchNormalization into Conv or Gemm.
 *
 * BN computes y = (x - mean) * s + beta with s = gamma / sqrt(var + eps), per
 * channel. When x comes from a Conv (or a Gemm, channel = output column) with
 * constant weights and no other user, scaling that channel's filter by s and
 * setting its bias to (b - mean) * s + beta gives the same y in one node.
 *
 *   %c = Conv(%x, %w) {...} : f32[1,8,4,4]
 *   %y = BatchNormalization(%c, %g, %beta, %m, %v) {epsilon = 1e-05} : f32[1,8,4,4]
 * becomes
 *   %y' = Conv(%x, %w', %b') {...} : f32[1,8,4,4]
 *
 * New weights are new constants (the old ones may be shared); dce and the
 * compaction drop the old ones when nothing else reads them.
 */
#include "passes.h"

#include <math.h>
#include <string.h>

static int all_const_f32(tb_graph *g, const tb_node *n, int from, int to) {
    for (int k = from; k < to; k++) {
        if (k >= n->n_inputs || n->inputs[k] < 0) return 0;
        tb_value *v = &g->values[n->inputs[k]];
        if (!v->data || v->dtype != TB_F32) return 0;
    }
    return 1;
}

static void fold_into(tb_graph *g, int prod, tb_node *bn) {
    tb_node *p = &g->nodes[prod];
    tb_value *w = &g->values[p->inputs[1]];
    int channels = (int)g->values[bn->inputs[1]].dims[0];
    const float *gamma = g->values[bn->inputs[1]].data, *beta = g->values[bn->inputs[2]].data;
    const float *mean = g->values[bn->inputs[3]].data, *var = g->values[bn->inputs[4]].data;
    float eps = tb_node_float(bn, "epsilon", 1e-5f);
    const int bias_in = 2; /* Conv's B and Gemm's C */
    const float *old_b = p->n_inputs > bias_in && p->inputs[bias_in] >= 0 ? g->values[p->inputs[bias_in]].data : NULL;

    int64_t wn = tb_value_numel(w);
    float *nw = tb_alloc(g->pool, (size_t)wn * sizeof *nw);
    float *nb = tb_alloc(g->pool, (size_t)channels * sizeof *nb);
    memcpy(nw, w->data, (size_t)wn * sizeof *nw);
    /* Gemm with transB = 0 holds output column j at w[i * n + j]. */
    int gemm_cols = p->op == TB_OP_GEMM && !tb_node_int(p, "transB", 0);
    int64_t per = wn / channels;
    for (int c = 0; c < channels; c++) {
        float s = gamma[c] / sqrtf(var[c] + eps);
        for (int64_t i = 0; i < per; i++) {
            int64_t at = gemm_cols ? i * channels + c : c * per + i;
            nw[at] *= s;
        }
        nb[c] = ((old_b ? old_b[c] : 0.0f) - mean[c]) * s + beta[c];
    }
    char name[256];
    snprintf(name, sizeof name, "%s.bn_folded", w->name);
    int wid = tb_graph_add_const(g, name, TB_F32, w->rank, w->dims, nw);
    snprintf(name, sizeof name, "%s.bn_bias", g->values[bn->outputs[0]].name);
    int bid = tb_graph_add_const(g, name, TB_F32, 1, (int64_t[]){channels}, nb);
    p = &g->nodes[prod]; /* adding values may not move nodes, but stay safe */
    p->inputs[1] = wid;
    if (p->n_inputs <= bias_in) p->n_inputs = bias_in + 1;
    p->inputs[bias_in] = bid;
    if (p->op == TB_OP_GEMM) tb_node_set_float(g, prod, "beta", 1.0f);
}

int tb_pass_fold_batchnorm(tb_graph *g, tb_pass_context *ctx, tb_error *err) {
    (void)err;
    for (int i = 0; i < g->n_nodes; i++) {
        tb_node *bn = &g->nodes[i];
        if (bn->dead || bn->op != TB_OP_BATCHNORM || bn->n_outputs > 1) continue;
        int x = bn->inputs[0];
        int prod = g->values[x].producer;
        if (prod < 0 || tb_value_single_user(g, x) != i) continue;
        tb_node *p = &g->nodes[prod];
        if (p->op != TB_OP_CONV && p->op != TB_OP_GEMM) continue;
        /* A fused clamp acts before the BN: folding would move it after. */
        if (tb_node_attr(p, "clip_min") || tb_node_attr(p, "clip_max")) continue;
        if (!all_const_f32(g, bn, 1, 5) || !all_const_f32(g, p, 1, 2)) continue;
        if (p->n_inputs > 2 && p->inputs[2] >= 0 && !all_const_f32(g, p, 2, 3)) continue;
        if (p->op == TB_OP_GEMM) {
            /* Gemm: BN over [N, C]; C must be a full row vector or absent, and alpha 1 keeps the math simple. */
            if (tb_node_float(p, "alpha", 1.0f) != 1.0f || tb_node_int(p, "transA", 0)) continue;
            if (p->n_inputs > 2 && p->inputs[2] >= 0 && tb_value_numel(&g->values[p->inputs[2]]) != g->values[bn->inputs[1]].dims[0]) continue;
            if (p->n_inputs > 2 && p->inputs[2] >= 0 && tb_node_float(p, "beta", 1.0f) != 1.0f) continue;
        }
        fold_into(g, prod, &g->nodes[i]);
        bn = &g->nodes[i];
        tb_graph_forward_value(g, bn->outputs[0], g->nodes[prod].outputs[0]);
        bn->dead = 1;
        if (ctx->report) fprintf(ctx->report, "fold-batchnorm: '%s' folded into '%s'\n", bn->name, g->nodes[prod].name);
    }
    return 0;
}
