/* dce.c - dead-node elimination.
 *
 * A node is live when one of its outputs is a graph output or is read by a
 * live node. Walking the nodes backwards (they are in topological order)
 * decides every node in one sweep. Unused constants go with the compaction
 * that the pass manager runs after every pass.
 *
 *   %a = Relu(%x) : f32[4]           // read by nothing: removed
 *   %b = Sigmoid(%x) : f32[4]
 *   return %b
 */
#include "passes.h"

#include <stdlib.h>

int tb_pass_dce(tb_graph *g, tb_pass_context *ctx, tb_error *err) {
    (void)ctx, (void)err;
    char *needed = calloc((size_t)g->n_values + 1, 1);
    if (!needed) tb_die(__FILE__, __LINE__, "out of memory");
    for (int k = 0; k < g->n_outputs; k++) needed[g->outputs[k]] = 1;
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        tb_node *n = &g->nodes[i];
        if (n->dead) continue;
        int live = 0;
        for (int k = 0; k < n->n_outputs; k++) live |= needed[n->outputs[k]];
        if (!live) {
            n->dead = 1;
            continue;
        }
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] >= 0) needed[n->inputs[k]] = 1;
    }
    free(needed);
    return 0;
}
