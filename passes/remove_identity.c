/* remove_identity.c - forward the input of Identity and Dropout.
 *
 * In inference Dropout is the identity (its optional mask output must be
 * unused). Users of the output read the input instead; the node dies.
 *
 *   %y = Identity(%x) : f32[4]
 *   %z = Relu(%y) : f32[4]        =>   %z = Relu(%x) : f32[4]
 *
 * A graph output that would become a graph input or a constant stays behind
 * an Identity: the generated code must still write the output buffer, and
 * graph outputs keep their names.
 */
#include "passes.h"

int tb_pass_remove_identity(tb_graph *g, tb_pass_context *ctx, tb_error *err) {
    (void)ctx, (void)err;
    for (int i = 0; i < g->n_nodes; i++) {
        tb_node *n = &g->nodes[i];
        if (n->dead || (n->op != TB_OP_IDENTITY && n->op != TB_OP_DROPOUT)) continue;
        if (n->op == TB_OP_DROPOUT && n->n_outputs > 1 && tb_value_use_count(g, n->outputs[1]) > 0) continue;
        int x = n->inputs[0], y = n->outputs[0];
        if (tb_value_is_graph_output(g, y)) continue;
        tb_graph_replace_uses(g, y, x);
        n->dead = 1;
    }
    return 0;
}
