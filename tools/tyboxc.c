/* tyboxc - compile an ONNX model into static C99.
 *
 * The straight line: load (frontend) -> shapes and folding (ir) -> pipeline
 * (passes) -> arena plan and C (backend). Exit 0 on success, 1 on bad input
 * or a failed compile (one "error:" line), 2 on a bad command line.
 */
#include "backend.h"
#include "calibrate.h"
#include "driver.h"
#include "model_stats.h"
#include "passes.h"
#include "tail_split.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TYBOXC_VERSION "0.1.0"

static const char usage[] =
    "usage: tyboxc MODEL.onnx -o DIR [options]\n"
    "\n"
    "Compiles an ONNX model (or a .tir file) into static C99: DIR/PREFIX.h, DIR/PREFIX.c\n"
    "and the runtime kernels. The folder is written only when the compile succeeds.\n"
    "\n"
    "options:\n"
    "  -o, --output DIR     output folder (created if missing)\n"
    "  --name PREFIX        prefix of the generated symbols and files (default: model)\n"
    "  --passes LIST        comma-separated pass pipeline (default:\n"
    "                       " TB_DEFAULT_PIPELINE ")\n"
    "  --emit-ir FILE       write the IR after the passes as .tir ('-' for stdout)\n"
    "  --print-after NAMES  print the IR to stderr after these passes ('all' for every one)\n"
    "  --report[=full]      print the memory plan (full: one line per arena tensor)\n"
    "  --harness            also write main.c and a Makefile building DIR/model_run\n"
    "\n"
    "resource limits (docs/robustness.md; K and M suffixes: 96K, 2M):\n"
    "  --max-ram BYTES      refuse the model if its arena needs more than BYTES\n"
    "  --max-flash BYTES    refuse the model if its weights need more than BYTES\n"
    "\n"
    "graph passes (docs/passes.md):\n"
    "  --channel-multiple N round channel counts of depthwise convs up to a multiple of N\n"
    "                       with zero filters (default 8; 1 turns it off)\n"
    "  --round-all-convs    round the channels of every conv, not only depthwise ones\n"
    "  --prune RATIO        remove this fraction of the filters of every prunable conv\n"
    "                       (smallest L1 norm first)\n"
    "  --prune-layer NAME=RATIO  the same for one conv node (repeatable)\n"
    "  --prune-budget BYTES prune until the weights fit in BYTES (K and M suffixes)\n"
    "\n"
    "int8 quantization (docs/quantization.md):\n"
    "  --quantize int8      quantize after the float passes: int8 weights (per output\n"
    "                       channel) and activations, integer-only kernels; ops without\n"
    "                       an int8 form run in float (--report lists them)\n"
    "  --calib FILE         representative inputs (raw float32 samples back to back, or\n"
    "                       a float32 .npy [N, ...input shape]); needed by --quantize,\n"
    "                       also read by --prune-budget\n"
    "  --calib-method M     how ranges are set: minmax, percentile (99.99%) or mse\n"
    "                       (default: " TB_CALIB_DEFAULT_METHOD ")\n"
    "  --int8-io            the model takes and returns int8; model.h gives the scales\n"
    "                       and zero points (default: float in and out)\n"
    "\n"
    "trainable classifier tail (docs/incremental.md):\n"
    "  --train-tail         keep the final dense layers float and trainable on the device\n"
    "  --memory-budget BYTES  device RAM for the whole model (K and M suffixes); the buffer\n"
    "                       fills what the arena, tail and training scratch leave\n"
    "  --split NODE|TENSOR  force the split: the feature vector is this tensor / node output\n"
    "  --min-buffer N       entries the automatic split must leave room for (default 64)\n"
    "  --buffer N           buffer entries (default: fill the budget)\n"
    "  --buffer-policy NAME fifo (default), reservoir, class-balanced or latest\n"
    "  --lr X               learning rate (default 0.01)\n"
    "  --momentum X         SGD momentum (default 0: no momentum buffers)\n"
    "  --epochs N           passes over the buffer per learned sample (default 1)\n"
    "  --max-classes K      output classes the tail can learn (default: the model's)\n"
    "  --train-last-only    train only the last dense layer\n"
    "\n"
    "other:\n"
    "  --list-ops           print the supported ONNX operators and exit\n"
    "  --list-passes        print the registered passes and exit\n"
    "  -h, --help           print this help and exit\n"
    "  --version            print the version and exit\n";

typedef struct {
    const char *input, *output, *prefix, *passes, *emit_ir, *print_after;
    int report, harness;
    int prune; /* a --prune* flag was given: prune-l1 joins the default pipeline */
    int quantize, calib, calib_method, int8_io; /* --quantize int8 and the flags that need it */
    tb_pass_context ctx;
    int train_tail;
    tb_tail_options tail;
    /* resource limits: --max-ram bounds the arena, --max-flash the weights */
    size_t max_ram, max_flash; /* SIZE_MAX: no limit */
} options;

/* Flags that become pass options: "--prune 0.3" is the option "prune=0.3". */
static const struct {
    const char *flag, *key;
    int prunes;
} option_flags[] = {
    {"--channel-multiple", "channel-multiple", 0},
    {"--prune", "prune", 1},
    {"--prune-layer", "prune-layer", 1},
    {"--prune-budget", "prune-budget", 1},
    {"--calib", "calib", 0},
    {"--calib-method", "method", 0},
};

static int usage_error(const char *fmt, const char *arg) {
    fputs("tyboxc: error: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n(tyboxc --help shows the options)\n", stderr);
    return 2;
}

static int valid_prefix(const char *s) {
    if (!*s || isdigit((unsigned char)*s)) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_') return 0;
    return 1;
}

/* The value of `flag` given as "flag VALUE" or "flag=VALUE"; NULL when
 * argv[*i] is another argument. A flag without its value exits. */
static const char *flag_value(const char *flag, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    size_t n = strlen(flag);
    if (!strncmp(a, flag, n) && a[n] == '=') return a + n + 1;
    if (strcmp(a, flag)) return NULL;
    if (*i + 1 >= argc) exit(usage_error("%s needs a value", flag));
    return argv[++*i];
}

/* A flag from option_flags: stores "key=value" in the options. */
static int pass_option_flag(int argc, char **argv, int *i, options *o) {
    for (size_t k = 0; k < sizeof option_flags / sizeof option_flags[0]; k++) {
        const char *val = flag_value(option_flags[k].flag, argc, argv, i);
        if (!val) continue;
        /* The options live as long as the process: one static slot each. */
        static char slots[TB_MAX_PASS_OPTIONS][1024];
        if (o->ctx.n_options == TB_MAX_PASS_OPTIONS) return 1;
        char *kv = slots[o->ctx.n_options];
        if ((size_t)snprintf(kv, sizeof slots[0], "%s=%s", option_flags[k].key, val) >= sizeof slots[0])
            exit(usage_error("the value of %s is too long", option_flags[k].flag));
        tb_pass_add_option(&o->ctx, kv);
        o->prune |= option_flags[k].prunes;
        if (!strcmp(option_flags[k].key, "calib")) o->calib = 1;
        if (!strcmp(option_flags[k].key, "method")) {
            tb_calib_method m;
            if (tb_calib_method_parse(val, &m)) exit(usage_error("unknown --calib-method '%s' (minmax, percentile or mse)", val));
            o->calib_method = 1;
        }
        return 1;
    }
    return 0;
}

/* The default pipeline, with prune-l1 after fold-batchnorm when asked for:
 * it ranks the filters as BN has scaled them. */
static const char *default_pipeline(const options *o) {
    if (!o->prune) return TB_DEFAULT_PIPELINE;
    static char buf[512];
    const char *at = strstr(TB_DEFAULT_PIPELINE, "fold-batchnorm");
    size_t head = at ? (size_t)(at - TB_DEFAULT_PIPELINE) + strlen("fold-batchnorm") : strlen(TB_DEFAULT_PIPELINE);
    snprintf(buf, sizeof buf, "%.*s,prune-l1%s", (int)head, TB_DEFAULT_PIPELINE, &TB_DEFAULT_PIPELINE[head]);
    return buf;
}

static int parse_count(const char *s, long lo, long *out) {
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (end == s || *end || errno || n < lo || n > 1 << 24) return 1;
    *out = n;
    return 0;
}

static int parse_real(const char *s, float lo, float hi, float *out) {
    char *end;
    float f = strtof(s, &end);
    if (end == s || *end || !(f >= lo && f < hi)) return 1;
    *out = f;
    return 0;
}

/* The --train-tail block: 1 when argv[*i] was one of its flags. */
static int tail_flag(int argc, char **argv, int *i, options *o, int *rc) {
    tb_tail_options *t = &o->tail;
    const char *a = argv[*i], *val;
    long n = 0;
    *rc = -1;
    if (!strcmp(a, "--train-tail")) o->train_tail = 1;
    else if (!strcmp(a, "--train-last-only")) t->train_last_only = 1;
    else if ((val = flag_value("--memory-budget", argc, argv, i))) {
        if (tb_parse_bytes(val, &t->budget) || !t->budget) *rc = usage_error("--memory-budget '%s' is not a size in bytes (K, M suffixes)", val);
    } else if ((val = flag_value("--split", argc, argv, i))) {
        t->split = val;
    } else if ((val = flag_value("--min-buffer", argc, argv, i))) {
        if (parse_count(val, 1, &n)) *rc = usage_error("--min-buffer '%s' is not a count >= 1", val);
        t->min_buffer = (int)n;
    } else if ((val = flag_value("--buffer", argc, argv, i))) {
        if (parse_count(val, 1, &n)) *rc = usage_error("--buffer '%s' is not a count >= 1", val);
        t->buffer = (int)n;
    } else if ((val = flag_value("--buffer-policy", argc, argv, i))) {
        if ((t->policy = tb_tail_policy_from_name(val)) < 0)
            *rc = usage_error("--buffer-policy '%s': fifo, reservoir, class-balanced or latest", val);
    } else if ((val = flag_value("--lr", argc, argv, i))) {
        if (parse_real(val, 0.0f, 1e6f, &t->lr)) *rc = usage_error("--lr '%s' is not a rate >= 0", val);
    } else if ((val = flag_value("--momentum", argc, argv, i))) {
        if (parse_real(val, 0.0f, 1.0f, &t->momentum)) *rc = usage_error("--momentum '%s' is not in [0, 1)", val);
    } else if ((val = flag_value("--epochs", argc, argv, i))) {
        if (parse_count(val, 0, &n)) *rc = usage_error("--epochs '%s' is not a count >= 0", val);
        t->epochs = (int)n;
    } else if ((val = flag_value("--max-classes", argc, argv, i))) {
        if (parse_count(val, 1, &n) || n > 256) *rc = usage_error("--max-classes '%s' is not in [1, 256]", val);
        t->max_classes = (int)n;
    } else return 0;
    return 1;
}

/* Returns -1 to go on, otherwise the exit code. */
static int parse_args(int argc, char **argv, options *o) {
    int rc;
    *o = (options){.prefix = "model", .ctx = {.print_out = stderr}, .tail = tb_tail_default_options(),
                   .max_ram = SIZE_MAX, .max_flash = SIZE_MAX};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(a, "--version")) {
            puts("tyboxc " TYBOXC_VERSION);
            return 0;
        } else if (!strcmp(a, "--list-ops")) {
            for (int op = 1; op < TB_OP_COUNT; op++) puts(tb_op_name((tb_op)op));
            puts("Constant"); /* the frontend turns it into a constant value */
            return 0;
        } else if (!strcmp(a, "--list-passes")) {
            for (int k = 0; k < tb_pass_count(); k++) printf("%-18s %s\n", tb_pass_at(k)->name, tb_pass_at(k)->summary);
            return 0;
        } else if ((val = flag_value("-o", argc, argv, &i)) || (val = flag_value("--output", argc, argv, &i))) {
            o->output = val;
        } else if ((val = flag_value("--name", argc, argv, &i))) {
            if (!valid_prefix(val)) return usage_error("--name '%s' is not a C identifier", val);
            o->prefix = val;
        } else if ((val = flag_value("--passes", argc, argv, &i))) {
            o->passes = val;
        } else if ((val = flag_value("--emit-ir", argc, argv, &i))) {
            o->emit_ir = val;
        } else if ((val = flag_value("--print-after", argc, argv, &i))) {
            o->print_after = val;
        } else if (!strcmp(a, "--round-all-convs")) {
            tb_pass_add_option(&o->ctx, "round-all-convs=1");
        } else if ((val = flag_value("--quantize", argc, argv, &i))) {
            if (strcmp(val, "int8")) return usage_error("--quantize '%s': only int8 is supported", val);
            o->quantize = 1;
        } else if (!strcmp(a, "--int8-io")) {
            tb_pass_add_option(&o->ctx, "int8-io=1");
            o->int8_io = 1;
        } else if (!strcmp(a, "--report")) {
            o->report = 1;
        } else if (!strcmp(a, "--report=full")) {
            o->report = 2;
        } else if (!strcmp(a, "--harness")) {
            o->harness = 1;
        } else if (tail_flag(argc, argv, &i, o, &rc)) {
            if (rc >= 0) return rc;
        } else if ((val = flag_value("--max-ram", argc, argv, &i))) {
            if (tb_parse_bytes(val, &o->max_ram)) return usage_error("--max-ram '%s' is not a byte count (e.g. 98304, 96K, 2M)", val);
        } else if ((val = flag_value("--max-flash", argc, argv, &i))) {
            if (tb_parse_bytes(val, &o->max_flash)) return usage_error("--max-flash '%s' is not a byte count (e.g. 98304, 96K, 2M)", val);
        } else if (a[0] == '-' && a[1] && pass_option_flag(argc, argv, &i, o)) {
            if (o->ctx.n_options == TB_MAX_PASS_OPTIONS) return usage_error("too many pass options at '%s'", a);
        } else if (a[0] == '-' && a[1]) {
            return usage_error("unknown option '%s'", a);
        } else if (o->input) {
            return usage_error("more than one input file ('%s')", a);
        } else {
            o->input = a;
        }
    }
    if (o->quantize && !o->calib) return usage_error("%s", "--quantize needs calibration samples (--calib FILE)");
    if (o->calib && !o->quantize && !o->prune) return usage_error("%s", "--calib is only used with --quantize (or --prune-budget)");
    if ((o->calib_method || o->int8_io) && !o->quantize)
        return usage_error("%s needs --quantize int8", o->int8_io ? "--int8-io" : "--calib-method");
    if (!o->passes) o->passes = default_pipeline(o);
    if (o->int8_io && o->train_tail) return usage_error("%s", "--int8-io and --train-tail: the tail API takes float input");
    if (o->quantize && !o->train_tail) {
        /* After the float passes: calibration sees the fused, folded graph.
         * (With --train-tail, main() runs it where the tail begins.) */
        static char buf[1024];
        if ((size_t)snprintf(buf, sizeof buf, "%s%squantize", o->passes, *o->passes ? "," : "") >= sizeof buf)
            return usage_error("%s", "--passes is too long");
        o->passes = buf;
    }
    if (!o->input) return usage_error("%s", "no input model given");
    if (!o->output) return usage_error("%s", "no output folder given (-o DIR)");
    if (!o->train_tail && (o->tail.budget || o->tail.split || o->tail.buffer || o->tail.max_classes))
        return usage_error("%s", "--memory-budget, --split, --buffer and --max-classes need --train-tail");
    return -1;
}

static int fail(const char *file, const tb_error *err) {
    fprintf(stderr, "%s: error: %s\n", file, err->msg);
    return 1;
}

/* The plan against --max-ram and --max-flash: one message giving the figures
 * of every limit exceeded, before anything is written. */
static int check_limits(const options *o, const tb_plan *plan, tb_error *err) {
    char msg[sizeof err->msg];
    size_t k = 0;
    if (plan->arena_bytes > o->max_ram)
        k += (size_t)snprintf(msg, sizeof msg, "the arena needs %zu bytes of RAM, over --max-ram %zu by %zu",
                              plan->arena_bytes, o->max_ram, plan->arena_bytes - o->max_ram);
    if (plan->weight_bytes > o->max_flash && k < sizeof msg)
        k += (size_t)snprintf(msg + k, sizeof msg - k, "%sthe weights need %zu bytes of flash, over --max-flash %zu by %zu",
                              k ? "; " : "", plan->weight_bytes, o->max_flash, plan->weight_bytes - o->max_flash);
    return k ? tb_error_set(err, "%s", msg) : 0;
}

static int write_ir(const char *path, tb_graph *g, tb_error *err) {
    FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
    if (!f) return tb_error_set(err, "cannot write '%s'", path);
    tb_print_graph(f, g);
    int bad = ferror(f);
    if (f != stdout && fclose(f)) bad = 1;
    return bad ? tb_error_set(err, "error writing '%s'", path) : 0;
}

/* Quantizes the feature extractor only: stop=psi keeps psi's readers float. */
static int quantize_until(tb_graph *g, const tb_pass_context *ctx, const char *psi, tb_error *err) {
    char kv[1024];
    if ((size_t)snprintf(kv, sizeof kv, "stop=%s", psi) >= sizeof kv) return tb_error_set(err, "feature tensor name too long");
    tb_pass_context q = *ctx;
    if (tb_pass_add_option(&q, kv)) return tb_error_set(err, "too many pass options");
    return tb_run_pipeline(g, "quantize", &q, err);
}

/* Load -> passes -> plan, or with --train-tail split off the tail and plan
 * the feature extractor. With --quantize too, a first silent run quantizes
 * up to the feature vector of the longest possible tail and chooses the
 * split there (the dense layers it freezes are still float, so its arena and
 * feature entries are never smaller than the final ones); then the model is
 * compiled again, quantized up to the chosen feature vector, split there. */
static tb_graph *compile(const options *o, tb_pass_context *ctx, tb_plan *plan, tb_tail *tail, tb_error *err) {
    tb_tail_options to = o->tail;
    char psi[1024] = "";
    if (o->train_tail && o->quantize) {
        tb_graph *f = tb_driver_load(o->input, err);
        tb_pass_context quiet = *ctx;
        quiet.report = NULL, quiet.print_after = NULL;
        const char *longest = NULL;
        int bad = !f || tb_run_pipeline(f, o->passes, &quiet, err);
        if (!bad && !(longest = tb_tail_longest_feature(f)))
            bad = tb_error_set(err, "--train-tail: the model does not end in a dense layer (Gemm, or MatMul + Add, "
                                    "on a [1, N] input, with constant weights): nothing to train");
        bad = bad || quantize_until(f, &quiet, longest, err) || tb_tail_split(f, &to, tail, plan, NULL, err);
        if (!bad) {
            snprintf(psi, sizeof psi, "%s", tail->feature);
            tb_plan_free(plan);
        }
        tb_tail_free(tail);
        tb_graph_free(f);
        if (bad) return NULL;
        to.split = psi;
    }
    tb_graph *g = tb_driver_load(o->input, err);
    if (!g) return NULL;
    if (tb_run_pipeline(g, o->passes, ctx, err) || (*psi && quantize_until(g, ctx, psi, err)) ||
        (o->emit_ir && write_ir(o->emit_ir, g, err)) ||
        (o->train_tail ? tb_tail_split(g, &to, tail, plan, ctx->report, err) : tb_plan_graph(g, plan, err))) {
        tb_tail_free(tail);
        tb_graph_free(g);
        return NULL;
    }
    return g;
}

int main(int argc, char **argv) {
    options o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) return rc;
    rc = 0;

    tb_error err = {{0}};
    tb_pass_context ctx = o.ctx;
    ctx.report = o.report ? stdout : NULL;
    ctx.print_after = o.print_after;
#ifdef TYBOXC_VERIFY_EACH
    ctx.verify_each = 1;
#endif
    tb_plan plan;
    tb_emit_options eo = {.prefix = o.prefix, .source_name = o.input, .harness = o.harness, .train_tail = o.train_tail};
    tb_tail tail = {0};
    char tmp[4096];
    /* --train-tail cuts the graph at psi: what is planned and emitted as
     * <prefix>_run is the feature extractor. */
    tb_graph *g = compile(&o, &ctx, &plan, &tail, &err);
    if (!g) return fail(o.input, &err);
    if (check_limits(&o, &plan, &err)) { /* refused: nothing is written */
        tb_plan_free(&plan);
        tb_tail_free(&tail);
        tb_graph_free(g);
        return fail(o.input, &err);
    }
    if (tb_output_begin(o.output, tmp, sizeof tmp, &err)) rc = 1;
    else if (tb_emit_model(g, &plan, &eo, tmp, &err) || (o.train_tail && tb_emit_tail(&tail, &eo, tmp, &err)) ||
             (o.harness && tb_emit_harness(g, &eo, tmp, &err))) {
        tb_output_abort(tmp);
        rc = 1;
    } else if (tb_output_commit(tmp, o.output, &err)) {
        rc = 1;
    }
    if (!rc && o.report) {
        tb_print_plan_report(stdout, g, &plan, o.report == 2);
        printf("params: %lld, MACs: %lld\n", (long long)tb_graph_params(g), (long long)tb_graph_macs(g));
    }
    tb_plan_free(&plan);
    tb_tail_free(&tail);
    tb_graph_free(g);
    return rc ? fail(o.input, &err) : 0;
}
