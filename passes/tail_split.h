/* tail_split.h - where a model splits into a frozen feature extractor (phi_f)
 * and a trainable classifier tail (phi_c), and what each part costs in RAM.
 *
 *   tb_tail_options o = tb_tail_default_options();
 *   o.budget = 96 * 1024;
 *   tb_tail t;
 *   tb_plan plan;
 *   if (tb_tail_split(g, &o, &t, &plan, report, &err)) ...;  // g now ends at psi
 *   ... emit g with plan, then the tail from t ...
 *   tb_tail_free(&t);
 *
 * The tail is a suffix of dense layers (Gemm, or MatMul + Add bias, each with
 * an optional Relu or fused clamp) ending at the single graph output, after
 * the last Flatten / GlobalAveragePool / Reshape; a trailing Softmax or
 * LogSoftmax is dropped (the tail computes its own softmax). Every figure is
 * exact: the extractor's arena is planned, not estimated.
 */
#ifndef TYBOXC_TAIL_SPLIT_H
#define TYBOXC_TAIL_SPLIT_H

#include "backend.h"

#define TB_TAIL_MAX_LAYERS 16

typedef struct {
    size_t budget;        /* --memory-budget bytes; 0: none */
    const char *split;    /* --split NODE|TENSOR; NULL: automatic */
    int min_buffer;       /* --min-buffer, entries the automatic split must leave room for */
    int buffer;           /* --buffer N; 0: fill the budget */
    int policy;           /* TB_POLICY_* */
    int max_classes;      /* --max-classes; 0: the model's output width */
    int train_last_only;  /* only the last tail layer learns */
    float lr, momentum;
    int epochs;
} tb_tail_options;

tb_tail_options tb_tail_default_options(void);
/* "fifo" -> TB_POLICY_FIFO; -1 if unknown. */
int tb_tail_policy_from_name(const char *name);
const char *tb_tail_policy_name(int policy);

typedef struct {
    const char *name;      /* the Gemm / MatMul node */
    const char *op;        /* "Gemm" or "MatMul" */
    int n_in, n_out;       /* n_out of the last layer is max_classes */
    float act_min, act_max;
    float *w;              /* [n_out][n_in], rows past the model's classes zero */
    float *b;              /* [n_out] */
    int trainable;
} tb_tail_layer;

typedef struct {
    tb_tail_options opt;
    int n_layers;
    tb_tail_layer layers[TB_TAIL_MAX_LAYERS];
    int n_classes;         /* the model's output width: classes known at start */
    int max_classes;       /* K: output rows, >= n_classes */
    const char *feature;   /* name of psi */
    int feature_size;      /* F */
    int feature_int8;      /* psi comes from DequantizeLinear of an int8 value */
    float scale;           /* of the int8 psi: x = (q - zero_point) * scale */
    int32_t zero_point;
    int input_size;        /* elements of the graph input */
    /* RAM, bytes */
    size_t arena, feature_bytes, weights, momentum, scratch, state;
    size_t entry_bytes;    /* one buffer entry: F features + 1 label byte */
    int capacity;          /* buffer entries */
    size_t buffer, total;
} tb_tail;

/* Chooses the split, cuts g so that it ends at psi (the int8 value when psi is
 * dequantized), plans it into plan, sizes the buffer. Reports to `report`
 * (may be NULL). Errors name the node or give the figures that do not fit. */
int tb_tail_split(tb_graph *g, const tb_tail_options *o, tb_tail *t, tb_plan *plan, FILE *report, tb_error *err);
void tb_tail_free(tb_tail *t);
/* The name of the feature tensor of the longest possible tail (its first dense
 * layer's input), or NULL when the model does not end in dense layers. With
 * --quantize, the quantize pass stops there (option stop=NAME): the layers the
 * split may choose stay float. */
const char *tb_tail_longest_feature(const tb_graph *g);

/* backend/emit_tail.c: <prefix>_tail.c, and the tail's API appended to
 * <prefix>.h (which tb_emit_model wrote first). */
int tb_emit_tail(const tb_tail *t, const tb_emit_options *o, const char *dir, tb_error *err);

/* The RAM parts of t as computed by tb_tail_split, printed one per line. */
void tb_tail_print_memory(FILE *out, const tb_tail *t);

#endif
