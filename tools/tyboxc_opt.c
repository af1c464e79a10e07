/* tyboxc-opt - run a pass pipeline on textual IR (or ONNX) and print .tir.
 *
 *   tyboxc-opt --passes=const-fold,dce in.tir
 *   tyboxc-opt --passes=fold-batchnorm --print-after=all net.onnx -o out.tir
 * The lit tests drive it; exit codes follow tyboxc (0 ok, 1 error, 2 usage).
 *
 * The whole driver is tb_opt_main, in the library (driver.h), so that an
 * out-of-tree opt tool is its passes, tb_pass_register calls and one call to
 * tb_opt_main (docs/examples/custom_pass/); tyboxc_opt_main.c is tyboxc-opt's.
 */
#include "driver.h"
#include "passes.h"

#include <stdlib.h>
#include <string.h>

/* The program's name in usage and errors: "tyboxc-opt", or the out-of-tree tool's. */
static const char *tool = "tyboxc-opt";

/* Follows "usage: TOOL". */
static const char usage[] =
    " [options] INPUT\n"
    "\n"
    "Reads INPUT (.tir, '-' for .tir on stdin, anything else as ONNX), runs the\n"
    "pipeline and prints the result as .tir.\n"
    "\n"
    "options:\n"
    "  --passes=LIST          comma-separated passes to run in order (default: none)\n"
    "  --print-after=NAMES    print the IR to stderr after these passes ('all' for every one)\n"
    "  --elide-constants=N    print constants of more than N elements as [...] (not parseable)\n"
    "  --pass-option=KEY=VALUE  an option for the passes (repeatable), e.g. prune=0.3\n"
    "  --report               passes say what they did on stderr\n"
    "  --no-verify            do not run the verifier after each pass\n"
    "  --report               print what the passes did, and why they left nodes, to stderr\n"
    "  --split-input-file     treat '// -----' lines as separators: each part is a\n"
    "                         graph of its own, errors are reported per part\n"
    "  -o FILE                write to FILE instead of stdout\n"
    "  --list-passes          print the registered passes and exit\n"
    "  -h, --help             print this help and exit\n";

static int usage_error(const char *what, const char *arg) {
    fprintf(stderr, "%s: error: %s%s\n(%s --help shows the options)\n", tool, what, arg, tool);
    return 2;
}

typedef struct {
    const char *passes;
    long long elide;
    tb_pass_context *ctx;
} run_options;

/* Parses one graph's text, runs the pipeline and prints it. Errors name the
 * input and, for split input, the line the part starts on. */
static int run_one(const char *input, const char *text, size_t len, int first_line, const run_options *o, FILE *out) {
    tb_error err = {{0}};
    tb_graph *g = tb_parse_graph(text, len, &err);
    if (g && (tb_verify(g, &err) || tb_infer_shapes(g, &err))) {
        tb_graph_free(g);
        g = NULL;
    }
    if (!g || tb_run_pipeline(g, o->passes, o->ctx, &err)) {
        if (first_line > 1) fprintf(stderr, "%s: part at line %d: error: %s\n", input, first_line, err.msg);
        else fprintf(stderr, "%s: error: %s\n", input, err.msg);
        tb_graph_free(g);
        return 1;
    }
    if (o->elide >= 0) tb_print_graph_elided(out, g, o->elide);
    else tb_print_graph(out, g);
    tb_graph_free(g);
    return 0;
}

/* MLIR's --split-input-file: parts separated by lines that are exactly "// -----". */
static int run_split(const char *input, const run_options *o, FILE *out) {
    tb_error err = {{0}};
    size_t len;
    char *text = tb_read_file(input, &len, &err);
    if (!text) {
        fprintf(stderr, "%s: error: %s\n", input, err.msg);
        return 1;
    }
    int rc = 0, line = 1, part_line = 1;
    char *part = text;
    for (char *p = text;; ) {
        char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        int sep = n == 8 && !strncmp(p, "// -----", 8);
        if (sep || !eol) {
            size_t part_len = (size_t)((sep ? p : p + n) - part);
            if (part_line > 1) fputs("// -----\n", out);
            rc |= run_one(input, part, part_len, part_line, o, out);
            part = eol ? eol + 1 : p + n;
            part_line = line + 1;
        }
        if (!eol) break;
        p = eol + 1;
        line++;
    }
    free(text);
    return rc;
}

int tb_opt_main(int argc, char **argv, const char *tool_name) {
    tool = tool_name ? tool_name : "tyboxc-opt";
    const char *input = NULL, *output = NULL, *passes = "";
    long long elide = -1;
    int split = 0;
    tb_pass_context ctx = {.print_out = stderr, .verify_each = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("usage: %s%s", tool, usage);
            return 0;
        } else if (!strcmp(a, "--list-passes")) {
            for (int k = 0; k < tb_pass_count(); k++) printf("%-18s %s\n", tb_pass_at(k)->name, tb_pass_at(k)->summary);
            return 0;
        } else if (!strncmp(a, "--passes=", 9)) {
            passes = a + 9;
        } else if (!strncmp(a, "--print-after=", 14)) {
            ctx.print_after = a + 14;
        } else if (!strncmp(a, "--elide-constants=", 18)) {
            char *end;
            elide = strtoll(a + 18, &end, 10);
            if (*end || elide < 0) return usage_error("bad --elide-constants value: ", a + 18);
        } else if (!strncmp(a, "--pass-option=", 14)) {
            if (tb_pass_add_option(&ctx, a + 14)) return usage_error("bad or too many --pass-option: ", a + 14);
        } else if (!strcmp(a, "--split-input-file")) {
            split = 1;
        } else if (!strcmp(a, "--report")) {
            ctx.report = stderr;
        } else if (!strcmp(a, "--no-verify")) {
            ctx.verify_each = 0;
        } else if (!strcmp(a, "--report")) {
            ctx.report = stderr;
        } else if (!strcmp(a, "-o")) {
            if (++i == argc) return usage_error("-o needs a file", "");
            output = argv[i];
        } else if (a[0] == '-' && a[1]) {
            return usage_error("unknown option ", a);
        } else if (input) {
            return usage_error("more than one input: ", a);
        } else {
            input = a;
        }
    }
    if (!input) return usage_error("no input given", "");

    FILE *out = output ? fopen(output, "w") : stdout;
    if (!out) {
        fprintf(stderr, "%s: error: cannot write '%s'\n", tool, output);
        return 1;
    }
    run_options ro = {passes, elide, &ctx};
    if (split) {
        int rc = run_split(input, &ro, out);
        if (out != stdout && fclose(out)) rc = 1;
        return rc;
    }
    tb_error err = {{0}};
    tb_graph *g = tb_driver_load(input, &err);
    if (!g || tb_run_pipeline(g, passes, &ctx, &err)) {
        fprintf(stderr, "%s: error: %s\n", input, err.msg);
        tb_graph_free(g);
        if (out != stdout) fclose(out);
        return 1;
    }
    if (elide >= 0) tb_print_graph_elided(out, g, elide);
    else tb_print_graph(out, g);
    int bad = ferror(out);
    if (out != stdout && fclose(out)) bad = 1;
    tb_graph_free(g);
    if (bad) fprintf(stderr, "%s: error: error writing output\n", tool);
    return bad;
}
