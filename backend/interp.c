/* interp.c - run a node on concrete buffers with the runtime kernels.
 *
 * The constant folder uses it at compile time (and the calibration of the
 * quantizer will): the kernels it calls are the ones the generated code calls.
 * Constant arguments come from their values' data, not from ptr[], so the
 * derived constants lowering adds (tb_graph_derived_const) need no slot there.
 */
#include "lower.h"

#include <string.h>

/* Calls by arity: a void * converts to each kernel's typed pointer parameter. */
#define CALL_1_1(fn, p, a) fn(p, a[0], a[1])
#define CALL_2_1(fn, p, a) fn(p, a[0], a[1], a[2])
#define CALL_3_1(fn, p, a) fn(p, a[0], a[1], a[2], a[3])
#define CALL_4_1(fn, p, a) fn(p, a[0], a[1], a[2], a[3], a[4])
#define CALL_5_1(fn, p, a) fn(p, a[0], a[1], a[2], a[3], a[4], a[5])
#define CALL_1_2(fn, p, a) fn(p, a[0], a[1], a[2])
#define CALL_8_3(fn, p, a) fn(p, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10])

static void run_call(const tb_call *c, void *const *a) {
    switch (c->kernel) {
#define KERNEL(stem, fn, ptype, plist, nin, nout) \
    case TB_K_##stem: CALL_##nin##_##nout(fn, &c->p.stem, a); break;
#include "kernels.def"
#undef KERNEL
    default: TB_ASSERT(!"unknown kernel");
    }
}

int tb_interp_node(tb_graph *g, int node, void *const *ptr, tb_error *err) {
    tb_lowered L;
    if (tb_lower_node(g, node, &L, err)) return 1;
    tb_node *n = &g->nodes[node];
    if (L.alias_input >= 0) {
        size_t bytes = tb_value_bytes(&g->values[n->outputs[0]]);
        if (ptr[n->outputs[0]] != ptr[L.alias_input] && bytes)
            memmove(ptr[n->outputs[0]], ptr[L.alias_input], bytes);
        return 0;
    }
    for (int i = 0; i < L.n_calls; i++) {
        const tb_call *c = &L.calls[i];
        void *args[TB_CALL_MAX_ARGS];
        /* A constant argument is read from its value: lowering may have just
         * created it (a derived constant), after the caller filled ptr[]. */
        for (int k = 0; k < c->n_args; k++) {
            int v = c->args[k];
            args[k] = v < 0 ? NULL : g->values[v].data ? g->values[v].data : ptr[v];
        }
        run_call(c, args);
    }
    return 0;
}
