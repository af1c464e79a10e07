/* backend.h - from a lowered graph to C99: the arena plan and the emitters.
 *
 *   tb_plan plan;
 *   if (tb_plan_graph(g, &plan, &err)) ...;          // lowers and places every tensor
 *   tb_print_plan_report(stdout, g, &plan, 0);
 *   tb_emit_options o = {.prefix = "model", .source_name = "net.onnx"};
 *   if (tb_emit_model(g, &plan, &o, "out.tmp", &err)) ...; // model.h, model.c, runtime
 *   tb_plan_free(&plan);
 */
#ifndef TYBOXC_BACKEND_H
#define TYBOXC_BACKEND_H

#include "ir.h"
#include "lower.h"

/* Where a value's bytes live in the generated code. */
typedef enum {
    TB_STORE_NONE,    /* not used by the generated code */
    TB_STORE_CONST,   /* a static const weight array */
    TB_STORE_INPUT,   /* the caller's input pointer number `index` */
    TB_STORE_OUTPUT,  /* the caller's output pointer number `index` */
    TB_STORE_ARENA,   /* the static arena at `offset` */
} tb_storage_kind;

typedef struct {
    int root;               /* the value whose storage this one shares (itself if none) */
    tb_storage_kind kind;   /* of the root */
    int index;              /* INPUT/OUTPUT position, CONST weight number */
    size_t offset, size;    /* ARENA placement of the root, bytes */
    int first, last;        /* node steps over which the root is live (inclusive) */
} tb_storage;

#define TB_ARENA_ALIGN 16

typedef struct {
    int n_values, n_nodes;
    tb_storage *store;      /* per value id */
    tb_lowered *lowered;    /* per node id */
    size_t arena_bytes;     /* what the plan uses */
    size_t lower_bound;     /* largest sum of arena tensors live across one node */
    size_t weight_bytes;    /* constants the code reads */
    int n_weights;
} tb_plan;

int tb_plan_graph(tb_graph *g, tb_plan *plan, tb_error *err);
void tb_plan_free(tb_plan *plan);
/* The summary the driver prints; full adds one line per arena tensor. */
void tb_print_plan_report(FILE *out, const tb_graph *g, const tb_plan *plan, int full);

typedef struct {
    const char *prefix;       /* symbol and file prefix, default "model" */
    const char *source_name;  /* the input file, named in the header comment */
    int harness;              /* also write main.c and Makefile */
    int train_tail;           /* --train-tail: <prefix>_tail.c joins the build; main.c can learn */
} tb_emit_options;

/* Writes <prefix>.h, <prefix>.c and the runtime into dir (which must exist). */
int tb_emit_model(tb_graph *g, const tb_plan *plan, const tb_emit_options *o, const char *dir, tb_error *err);
int tb_emit_harness(const tb_graph *g, const tb_emit_options *o, const char *dir, tb_error *err);

/* The runtime sources, embedded at build time (runtime_files.c). */
typedef struct {
    const char *name;
    const char *text;
} tb_runtime_file;
extern const tb_runtime_file tb_runtime_files[];
extern const int tb_runtime_file_count;
#define TB_RUNTIME_MAX_FILES 256

/* need[f] = whether the model of plan uses tb_runtime_files[f] (headers
 * always; sources that define its kernels, the trainer when train_tail, and
 * what those call); need holds tb_runtime_file_count flags. */
void tb_runtime_select(const tb_plan *plan, int train_tail, unsigned char *need);

#endif
