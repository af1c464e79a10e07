/* model_stats.c - parameter, MAC and weight-byte counts (see model_stats.h).
 * Used by prune-l1's report and by tyboxc --report. */
#include "model_stats.h"

#include <stdlib.h>

static int is_const(const tb_graph *g, int v) { return v >= 0 && g->values[v].data != NULL; }

int64_t tb_node_params(const tb_graph *g, int node) {
    const tb_node *n = &g->nodes[node];
    int64_t total = 0;
    for (int k = 0; k < n->n_inputs; k++) {
        int v = n->inputs[k], seen = 0;
        if (!is_const(g, v)) continue;
        for (int j = 0; j < k; j++) seen |= n->inputs[j] == v;
        if (!seen) total += tb_value_numel(&g->values[v]);
    }
    return total;
}

int64_t tb_node_macs(const tb_graph *g, int node) {
    const tb_node *n = &g->nodes[node];
    if (n->dead || n->n_outputs < 1 || n->outputs[0] < 0 || n->n_inputs < 2) return 0;
    const tb_value *y = &g->values[n->outputs[0]];
    const tb_value *a = &g->values[n->inputs[0]], *b = &g->values[n->inputs[1]];
    if (y->rank < 0 || a->rank < 1 || b->rank < 1) return 0;
    int64_t out = tb_value_numel(y);
    switch (n->op) {
    case TB_OP_CONV: {
        /* Each output element reads C/group input channels times the kernel. */
        int64_t per = 1;
        for (int i = 1; i < b->rank; i++) per *= b->dims[i];
        return out * per;
    }
    case TB_OP_GEMM:
        if (a->rank != 2) return 0;
        return out * (tb_node_int(n, "transA", 0) ? a->dims[0] : a->dims[1]);
    case TB_OP_MATMUL: return out * a->dims[a->rank - 1];
    default: return 0;
    }
}

/* Elements (or, with f32_bytes, bytes of the f32 ones) of every constant read
 * by a live node, each counted once. */
static int64_t sum_consts(const tb_graph *g, int f32_bytes) {
    unsigned char *seen = calloc((size_t)g->n_values + 1, 1);
    TB_ASSERT(seen);
    int64_t total = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const tb_node *n = &g->nodes[i];
        if (n->dead) continue;
        for (int k = 0; k < n->n_inputs; k++) {
            int v = n->inputs[k];
            if (!is_const(g, v) || seen[v]) continue;
            seen[v] = 1;
            const tb_value *c = &g->values[v];
            if (!f32_bytes) total += tb_value_numel(c);
            else if (c->dtype == TB_F32) total += (int64_t)tb_value_bytes(c);
        }
    }
    free(seen);
    return total;
}

int64_t tb_graph_params(const tb_graph *g) { return sum_consts(g, 0); }
int64_t tb_graph_float_weight_bytes(const tb_graph *g) { return sum_consts(g, 1); }

int64_t tb_graph_macs(const tb_graph *g) {
    int64_t total = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i].dead) total += tb_node_macs(g, i);
    return total;
}
