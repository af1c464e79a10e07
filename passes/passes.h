/* passes.h - the pass manager and the built-in passes.
 *
 * A pass is a function over the graph. It returns 0, or non-zero with err
 * filled when it cannot proceed (the pipeline then stops). Passes allocate
 * from g->pool and mark removed nodes dead; the manager compacts after each.
 *
 *   static int my_pass(tb_graph *g, tb_pass_context *ctx, tb_error *err) { ... }
 *   tb_pass_register("my-pass", "what it does", my_pass);
 *   tb_pass_context ctx = {0};
 *   if (tb_run_pipeline(g, "const-fold,my-pass,dce", &ctx, &err)) ...;
 *
 * docs/writing-passes.md walks through writing and lit-testing one.
 */
#ifndef TYBOXC_PASSES_H
#define TYBOXC_PASSES_H

#include "ir.h"

#define TB_MAX_PASS_OPTIONS 64

typedef struct tb_pass_context {
    FILE *report;             /* where passes say what they did and why not; may be NULL */
    const char *print_after;  /* comma-separated pass names, or "all"; NULL for none */
    FILE *print_out;          /* where --print-after dumps go (default stderr) */
    int verify_each;          /* run tb_verify after every pass */
    /* Pass options as "key=value", in command-line order: tyboxc maps its
     * flags onto them (--prune 0.3 is "prune=0.3"), tyboxc-opt takes
     * --pass-option key=value. A key may repeat (prune-layer). */
    int n_options;
    const char *options[TB_MAX_PASS_OPTIONS];
} tb_pass_context;

/* The values given for key, in order, up to max; returns how many. */
int tb_pass_options(const tb_pass_context *ctx, const char *key, const char **values, int max);
/* The last value given for key, or dflt. */
const char *tb_pass_option(const tb_pass_context *ctx, const char *key, const char *dflt);
/* Adds "key=value" (the string must outlive the context); 1 when full or malformed. */
int tb_pass_add_option(tb_pass_context *ctx, const char *key_value);

typedef int (*tb_pass_fn)(tb_graph *g, tb_pass_context *ctx, tb_error *err);

typedef struct {
    const char *name;
    const char *summary;
    tb_pass_fn run;
} tb_pass_info;

/* Adds a pass to the table; returns 0, or 1 if the name is taken or malformed. */
int tb_pass_register(const char *name, const char *summary, tb_pass_fn run);
const tb_pass_info *tb_pass_find(const char *name, size_t len);
int tb_pass_count(void);
const tb_pass_info *tb_pass_at(int i);

/* Runs "a,b,c" in order. Unknown names are reported before anything runs. */
int tb_run_pipeline(tb_graph *g, const char *pipeline, tb_pass_context *ctx, tb_error *err);

/* The default pipeline of tyboxc. */
#define TB_DEFAULT_PIPELINE "remove-identity,const-fold,fold-pad,fold-batchnorm,fuse-activation,round-channels,dce"

/* Folds one node whose inputs are all constants into constant outputs (the
 * fold callback of tb_infer_shapes_folding). Marks the node dead. */
int tb_fold_node(tb_graph *g, int node, tb_error *err);

#define PASS(name, fn, summary) int fn(tb_graph *g, tb_pass_context *ctx, tb_error *err);
#include "passes.def"
#undef PASS

#endif
