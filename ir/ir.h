/* ir.h - the tyboxc graph IR: values, nodes, attributes, constants.
 *
 * A graph is two flat arrays. Values (tensors) and nodes refer to each other
 * by index, never by pointer, so arrays can grow while passes hold ids.
 * Every shape is static: dims[] is fully known after the frontend.
 *
 *   tb_graph *g = tb_graph_new("net");
 *   int x = tb_graph_add_input(g, "x", TB_F32, 4, (int64_t[]){1, 3, 8, 8});
 *   int w = tb_graph_add_const(g, "w", TB_F32, 4, (int64_t[]){4, 3, 3, 3}, data);
 *   int n = tb_graph_add_node(g, TB_OP_CONV, "conv0", 2, (int[]){x, w}, 1);
 *   tb_node_set_ints(g, n, "pads", 4, (int64_t[]){1, 1, 1, 1});
 *   tb_graph_mark_output(g, tb_graph_node(g, n)->outputs[0]);
 *   tb_infer_shapes(g, &err);          // fills the output value's dims
 *
 * Memory: everything a graph owns comes from its pool (tb_pool) and is freed
 * with tb_graph_free(); passes allocate from g->pool and never free.
 */
#ifndef TYBOXC_IR_H
#define TYBOXC_IR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TB_MAX_RANK 8

/* ---- element types ---------------------------------------------------- */
typedef enum {
    TB_DTYPE_NONE = 0,
#define DTYPE(id, text, onnx, size, ctype) TB_##id,
#include "dtypes.def"
#undef DTYPE
    TB_DTYPE_COUNT
} tb_dtype;

const char *tb_dtype_name(tb_dtype t);       /* "f32" */
const char *tb_dtype_ctype(tb_dtype t);      /* "float" */
size_t tb_dtype_size(tb_dtype t);            /* 4 */
tb_dtype tb_dtype_from_onnx(int onnx_type);  /* TB_DTYPE_NONE if unknown */
int tb_dtype_onnx(tb_dtype t);               /* TensorProto.DataType code */
tb_dtype tb_dtype_from_name(const char *s, size_t len);

/* ---- operators ---------------------------------------------------------- */
typedef enum {
    TB_OP_NONE = 0,
#define OP(id, onnx, stem) TB_OP_##id,
#include "ops.def"
#undef OP
    TB_OP_COUNT
} tb_op;

const char *tb_op_name(tb_op op);             /* ONNX op_type, "Conv" */
tb_op tb_op_from_name(const char *s, size_t len); /* TB_OP_NONE if unknown */

/* ---- pool allocator --------------------------------------------------- */
typedef struct tb_pool tb_pool;
tb_pool *tb_pool_new(void);
void tb_pool_free(tb_pool *p);
void *tb_alloc(tb_pool *p, size_t n);        /* zeroed, 16-byte aligned; exits on OOM */
char *tb_strdup(tb_pool *p, const char *s);
char *tb_strndup(tb_pool *p, const char *s, size_t n);

/* ---- attributes --------------------------------------------------------- */
typedef enum {
    TB_ATTR_INT,     /* i */
    TB_ATTR_FLOAT,   /* f */
    TB_ATTR_STRING,  /* s */
    TB_ATTR_INTS,    /* ints[n] */
    TB_ATTR_FLOATS,  /* floats[n] */
    TB_ATTR_TENSOR,  /* t: a constant outside the graph's value list (ConstantOfShape's value) */
} tb_attr_kind;

struct tb_value_s;

typedef struct {
    const char *name;
    tb_attr_kind kind;
    int n;            /* element count for INTS / FLOATS */
    int64_t i;
    float f;
    const char *s;
    int64_t *ints;
    float *floats;
    struct tb_value_s *t;
} tb_attr;

/* ---- values --------------------------------------------------------------- */
typedef struct tb_value_s {
    const char *name;    /* unique within the graph */
    tb_dtype dtype;
    int rank;            /* -1 while the shape is unknown */
    int64_t dims[TB_MAX_RANK];
    void *data;          /* non-NULL: a constant, dense row-major */
    int producer;        /* node id, -1 for graph inputs and constants */
    /* quantization parameters (issue 5): unused while scale == 0 */
    float scale;
    int32_t zero_point;
} tb_value;

/* ---- nodes ---------------------------------------------------------------- */
/* 32: QLinearConcat takes 2 + 3 inputs per concatenated tensor. */
#define TB_MAX_IO 32
typedef struct {
    tb_op op;
    const char *name;    /* the ONNX node name, for diagnostics; may be "" */
    int n_inputs;
    int inputs[TB_MAX_IO];   /* value ids; -1 = omitted optional input */
    int n_outputs;
    int outputs[TB_MAX_IO];
    int n_attrs;
    tb_attr *attrs;
    int dead;            /* removed; skipped everywhere, compacted by tb_graph_compact */
} tb_node;

typedef struct {
    tb_pool *pool;
    const char *name;
    int n_values, cap_values;
    tb_value *values;
    int n_nodes, cap_nodes;
    tb_node *nodes;      /* in topological order after the frontend */
    int n_inputs;
    int *inputs;         /* value ids of graph inputs, in order */
    int n_outputs;
    int *outputs;        /* value ids of graph outputs, in order */
    int opset;           /* default-domain opset the model was exported with */
} tb_graph;

tb_graph *tb_graph_new(const char *name);
void tb_graph_free(tb_graph *g);

static inline tb_value *tb_graph_value(tb_graph *g, int id) { return &g->values[id]; }
static inline tb_node *tb_graph_node(tb_graph *g, int id) { return &g->nodes[id]; }

/* New value with unknown shape (rank -1); name NULL picks a fresh "%N" name. */
int tb_graph_add_value(tb_graph *g, const char *name, tb_dtype dtype);
int tb_graph_add_input(tb_graph *g, const char *name, tb_dtype dtype, int rank, const int64_t *dims);
/* Constant: copies data (dense, row-major, tb_numel*size bytes). */
int tb_graph_add_const(tb_graph *g, const char *name, tb_dtype dtype, int rank,
                       const int64_t *dims, const void *data);
/* A constant that lowering computes from a node's constant operands
 * (requantization multipliers, lookup tables): the value named
 * "<name of value owner>.<suffix>", created on first use and found again
 * afterwards (its data is refreshed, so it always matches the operands it
 * was derived from). Returns its value id. */
int tb_graph_derived_const(tb_graph *g, int owner, const char *suffix, tb_dtype dtype, int rank,
                           const int64_t *dims, const void *data);
/* Node with fresh output values (dtype NONE until shape inference). */
int tb_graph_add_node(tb_graph *g, tb_op op, const char *name, int n_inputs,
                      const int *inputs, int n_outputs);
void tb_graph_mark_output(tb_graph *g, int value);
int tb_graph_find_value(const tb_graph *g, const char *name); /* -1 if none */

/* Replace every use of value `from` (node inputs, graph outputs) by `to`. */
void tb_graph_replace_uses(tb_graph *g, int from, int to);
/* A node that computed `from` is gone and `to` now holds its result: every
 * use moves to `to`, and `to` takes over the name of `from` (so graph
 * outputs and golden tests keep the names users know). */
void tb_graph_forward_value(tb_graph *g, int from, int to);
/* Number of node inputs (live nodes) plus graph outputs that read the value. */
int tb_value_use_count(const tb_graph *g, int value);
/* The single live node reading `value`, or -1 if it has 0 or several uses
 * (a graph output counts as a use). */
int tb_value_single_user(const tb_graph *g, int value);
int tb_value_is_graph_output(const tb_graph *g, int value);
int tb_value_is_graph_input(const tb_graph *g, int value);
/* Drop dead nodes and unreferenced values, renumbering ids; keeps order. */
void tb_graph_compact(tb_graph *g);

int64_t tb_value_numel(const tb_value *v);
size_t tb_value_bytes(const tb_value *v);

/* ---- attribute access ------------------------------------------------- */
const tb_attr *tb_node_attr(const tb_node *n, const char *name);
int64_t tb_node_int(const tb_node *n, const char *name, int64_t dflt);
float tb_node_float(const tb_node *n, const char *name, float dflt);
const char *tb_node_string(const tb_node *n, const char *name, const char *dflt);
/* Copies up to max ints into out; returns the count, or -1 if absent. */
int tb_node_ints(const tb_node *n, const char *name, int64_t *out, int max);
void tb_node_set_int(tb_graph *g, int node, const char *name, int64_t v);
void tb_node_set_float(tb_graph *g, int node, const char *name, float v);
void tb_node_set_string(tb_graph *g, int node, const char *name, const char *s);
void tb_node_set_ints(tb_graph *g, int node, const char *name, int n, const int64_t *v);
void tb_node_set_floats(tb_graph *g, int node, const char *name, int n, const float *v);
/* Tensor attribute: copies t (and its data) into the graph's pool. */
void tb_node_set_tensor(tb_graph *g, int node, const char *name, const tb_value *t);
void tb_node_remove_attr(tb_graph *g, int node, const char *name);

/* ---- diagnostics -------------------------------------------------------
 * Bad input is reported, never asserted: functions that can fail on user
 * input take a tb_error and return non-zero. The message already names the
 * node ("node 'conv_3' (Conv): ..."); the driver prefixes the file name. */
typedef struct {
    char msg[512];
} tb_error;
int tb_error_set(tb_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));           /* returns 1 */
int tb_node_error(tb_error *err, const tb_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));           /* returns 1 */

/* The same from a va_list, for nodes known only by name and op type (the
 * frontend's errors come before a tb_node exists). */
int tb_node_verror(tb_error *err, const char *name, const char *op_type, const char *fmt, va_list ap);

/* Broken invariant inside the compiler: prints file:line and aborts. */
#define TB_ASSERT(c) ((c) ? (void)0 : tb_die(__FILE__, __LINE__, #c))
_Noreturn void tb_die(const char *file, int line, const char *what);

/* ---- analyses over the whole graph --------------------------------------- */
/* Fill rank/dims/dtype of every node output from its inputs (ir/shape.c). */
int tb_infer_shapes(tb_graph *g, tb_error *err);
/* The same, folding as it goes: after inferring a node whose inputs are all
 * constants, calls fold(g, node) (passes/const_fold.c provides one), so that
 * exporter shape arithmetic becomes constants before a Reshape needs them. */
typedef int (*tb_fold_fn)(tb_graph *g, int node, tb_error *err);
int tb_infer_shapes_folding(tb_graph *g, tb_fold_fn fold, tb_error *err);
/* Shape inference for one node only. */
int tb_infer_node(tb_graph *g, int node, tb_error *err);
/* Check structural invariants (ir/verify.c): ids in range, single producer,
 * topological order, static shapes consistent with shape inference. */
int tb_verify(tb_graph *g, tb_error *err);

/* ---- textual form (ir/print.c, ir/parse.c) ------------------------------ */
void tb_print_graph(FILE *out, const tb_graph *g);
/* Like tb_print_graph, but constants and tensor attributes with more than
 * max_const_elems elements print as [...] (max < 0: none); the text then
 * starts with a comment saying so and cannot be parsed back. */
void tb_print_graph_elided(FILE *out, const tb_graph *g, int64_t max_const_elems);
/* Parses one graph; errors are "line:col: message". */
tb_graph *tb_parse_graph(const char *text, size_t len, tb_error *err);

#endif
