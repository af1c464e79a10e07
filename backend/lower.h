/* lower.h - from graph nodes to runtime kernel calls.
 *
 * Lowering is the one place that turns a node's canonical attributes into a
 * kernel's parameter struct. The interpreter (constant folding) executes the
 * calls; the C emitter prints them. So what the compiler folds and what the
 * device computes are the same code.
 *
 *   tb_lowered L;
 *   if (tb_lower_node(g, node, &L, &err)) ...;
 *   for (int i = 0; i < L.n_calls; i++) use(&L.calls[i]);
 *   if (L.alias_input >= 0) ... the node's output is its input, reinterpreted.
 */
#ifndef TYBOXC_LOWER_H
#define TYBOXC_LOWER_H

#include "ir.h"
#include "tb_runtime.h"

typedef enum {
    TB_K_NONE = 0,
#define KERNEL(stem, fn, ptype, plist, nin, nout) TB_K_##stem,
#include "kernels.def"
#undef KERNEL
    TB_K_COUNT
} tb_kernel;

#define TB_CALL_MAX_ARGS 11 /* tb_rnn_f32: 8 inputs, 3 outputs */

typedef struct {
    tb_kernel kernel;
    union {
#define KERNEL(stem, fn, ptype, plist, nin, nout) ptype stem;
#include "kernels.def"
#undef KERNEL
    } p;
    int n_args;
    int args[TB_CALL_MAX_ARGS]; /* value ids, inputs then outputs; -1 passes NULL */
} tb_call;

#define TB_LOWER_MAX_CALLS TB_MAX_IO

typedef struct {
    int n_calls;
    tb_call calls[TB_LOWER_MAX_CALLS];
    /* >= 0: the node computes nothing; its output 0 is this input value
     * with another shape (Reshape, Flatten, Squeeze, Identity, ...). */
    int alias_input;
    /* The kernel may write its output over input 0 (elementwise ops). */
    int in_place_ok;
} tb_lowered;

int tb_lower_node(tb_graph *g, int node, tb_lowered *out, tb_error *err);
const char *tb_kernel_function(tb_kernel k);   /* "tb_conv_f32" */
const char *tb_kernel_params_type(tb_kernel k); /* "tb_conv_params" */
/* Prints the params of a call as a C99 designated initialiser: {.n = 1, ...} */
void tb_print_kernel_params(FILE *out, const tb_call *c);

/* interp.c: run one node on concrete buffers. ptr[v] is the storage of
 * value v for every value the node reads or writes (constants: their data). */
int tb_interp_node(tb_graph *g, int node, void *const *ptr, tb_error *err);

#endif
