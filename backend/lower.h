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

/* For the lowering files (lower.c, lower_quant.c): append a zeroed call of
 * kernel k; set a call's value ids; the product of dims [from, to). */
tb_call *tb_lower_add_call(tb_lowered *L, tb_kernel k);
void tb_lower_set_args(tb_call *c, int n, const int *ids);
int32_t tb_lower_prod(const int64_t *d, int from, int to);
const char *tb_kernel_function(tb_kernel k);   /* "tb_conv_f32" */
const char *tb_kernel_params_type(tb_kernel k); /* "tb_conv_params" */
/* Prints the params of a call as a C99 designated initialiser: {.n = 1, ...} */
void tb_print_kernel_params(FILE *out, const tb_call *c);

/* Shared by lower.c and lower_quant.c. */
/* Spatial geometry of Conv and pooling (canonical attributes, see shape.h):
 * 1-D runs as 2-D with H = 1. */
typedef struct {
    int32_t h_in, w_in, h_out, w_out, k_h, k_w, s_h, s_w, d_h, d_w, pt, pl, pb, pr;
} tb_geometry;
int tb_lower_geometry(tb_node *n, const tb_value *x, const tb_value *y, tb_geometry *g, tb_error *err);
/* Strides to read a tensor of rank r broadcast to an output of rank ro
 * (numpy: align right, a dim of 1 repeats with stride 0). */
void tb_broadcast_strides(int r, const int64_t *dims, int ro, const int64_t *odims, int32_t *out);
/* MatMul's m, n, k and batch fields for a @ b (numpy rules). */
void tb_lower_matmul_dims(const tb_value *a, const tb_value *b, tb_matmul_params *p);
/* MaxPool on int8 / uint8. */
int tb_lower_qmaxpool(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err);

/* lower_quant.c: the quantized ops (ir/ops.def "quantization" rows). */
#define TB_QUANT_LOWERERS(X) \
    X(quantizelinear) X(dequantizelinear) X(qlinearconv) X(qlinearmatmul) X(convinteger) \
    X(matmulinteger) X(qgemm) X(qlinearadd) X(qlinearconcat) X(qlinearglobalavgpool) \
    X(qlinearavgpool) X(qlinearsigmoid)
#define TB_DECLARE_LOWER(stem) int tb_lower_##stem(tb_graph *g, tb_node *n, tb_lowered *L, tb_error *err);
TB_QUANT_LOWERERS(TB_DECLARE_LOWER)
#undef TB_DECLARE_LOWER

/* interp.c: run one node on concrete buffers. ptr[v] is the storage of
 * value v for every value the node reads or writes (constants: their data). */
int tb_interp_node(tb_graph *g, int node, void *const *ptr, tb_error *err);

#endif
