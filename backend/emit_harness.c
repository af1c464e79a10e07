/* emit_harness.c - main.c and Makefile for running a generated model on a host.
 *
 *   make -C out && out/model_run IN.bin OUT.bin [RUNS]
 * IN.bin holds samples back to back, a sample being every input in graph
 * order as raw little-endian elements; OUT.bin receives every output per
 * sample. With RUNS > 0 the first sample then runs RUNS more times and the
 * median latency is printed. The harness is host code: it uses stdio.
 *
 * With --train-tail, OUT.bin receives <prefix>_predict()'s probabilities, and
 *   out/model_run --learn STREAM --eval TEST [--every K] [--policy NAME]
 *                 [--lr X] [--momentum X] [--epochs N]
 * replays STREAM (records of one uint8 label then one float32 input) through
 * <prefix>_learn() and prints "step N accuracy A" on TEST (same records) at
 * step 0, every K records and at the end. phi_f is frozen, so TEST's features
 * are computed once and cached; each accuracy then runs the tail only.
 */
#include "backend.h"

#include <errno.h>
#include <string.h>

static const char main_top[] =
    "#define _POSIX_C_SOURCE 199309L\n"
    "#include <stdio.h>\n"
    "#include <stdlib.h>\n"
    "#include <time.h>\n\n";

static const char main_helpers[] =
    "static double now_ms(void) {\n"
    "    struct timespec t;\n"
    "    clock_gettime(CLOCK_MONOTONIC, &t);\n"
    "    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;\n"
    "}\n\n"
    "static int by_value(const void *a, const void *b) {\n"
    "    double x = *(const double *)a, y = *(const double *)b;\n"
    "    return (x > y) - (x < y);\n"
    "}\n\n"
    "/* 1: a whole sample read; 0: clean end of file; exits on a partial sample. */\n"
    "static int read_input(FILE *f, void *buf, size_t size, size_t count, int first) {\n"
    "    size_t got = fread(buf, size, count, f);\n"
    "    if (got == count) return 1;\n"
    "    if (got == 0 && first && feof(f)) return 0;\n"
    "    fprintf(stderr, \"model_run: error: input file ends inside a sample\\n\");\n"
    "    exit(1);\n"
    "}\n\n";

/* The --learn / --eval mode of a --train-tail harness (P: the upper prefix). */
static void emit_learn_mode(FILE *out, const char *p, const char *P) {
    fprintf(out,
        "/* One record: a label byte, then the input. 1 read, 0 clean end of file. */\n"
        "static int read_record(FILE *f, int *label, float *x) {\n"
        "    int c = fgetc(f);\n"
        "    if (c == EOF)\n        return 0;\n"
        "    *label = c;\n"
        "    return read_input(f, x, sizeof x[0], %s_INPUT0_SIZE, 0);\n"
        "}\n\n"
        "static %s_feature_t *test_feat;\n"
        "static int *test_label;\n"
        "static long test_n;\n\n"
        "static double accuracy(void) {\n"
        "    long i, right = 0;\n"
        "    for (i = 0; i < test_n; i++)\n"
        "        right += %s_predict_feature(test_feat + i * %s_FEATURE_SIZE, NULL) == test_label[i];\n"
        "    return test_n ? (double)right / (double)test_n : 0.0;\n"
        "}\n\n", P, p, p, P);
    fprintf(out,
        "static int learn_mode(int argc, char **argv) {\n"
        "    const char *learn = NULL, *eval = NULL;\n"
        "    long every = 0, step = 0, printed = -1, cap = 0;\n"
        "    int i, label, rc = 0;\n"
        "    static float x[%s_INPUT0_SIZE];\n"
        "    for (i = 1; i + 1 < argc; i += 2) {\n"
        "        const char *v = argv[i + 1];\n"
        "        if (!strcmp(argv[i], \"--learn\")) learn = v;\n"
        "        else if (!strcmp(argv[i], \"--eval\")) eval = v;\n"
        "        else if (!strcmp(argv[i], \"--every\")) every = strtol(v, NULL, 10);\n"
        "        else if (!strcmp(argv[i], \"--lr\")) rc = %s_set_lr(strtof(v, NULL));\n"
        "        else if (!strcmp(argv[i], \"--momentum\")) rc = %s_set_momentum(strtof(v, NULL));\n"
        "        else if (!strcmp(argv[i], \"--epochs\")) rc = %s_set_epochs((int)strtol(v, NULL, 10));\n"
        "        else if (!strcmp(argv[i], \"--policy\")) {\n"
        "            static const char *const names[] = {\"fifo\", \"reservoir\", \"class-balanced\", \"latest\"};\n"
        "            int k;\n"
        "            for (k = 0; k < 4 && strcmp(names[k], v); k++)\n                ;\n"
        "            rc = %s_set_policy(k);\n"
        "        } else break;\n"
        "        if (rc < 0) {\n"
        "            fprintf(stderr, \"model_run: error: bad value '%%s' for %%s\\n\", v, argv[i]);\n"
        "            return 2;\n"
        "        }\n"
        "        rc = 0;\n"
        "    }\n"
        "    if (i < argc || !learn || !eval) {\n"
        "        fprintf(stderr, \"usage: %%s --learn STREAM --eval TEST [--every K] [--policy NAME] [--lr X] [--momentum X] [--epochs N]\\n\", argv[0]);\n"
        "        return 2;\n"
        "    }\n", P, p, p, p, p);
    fprintf(out,
        "    FILE *f = fopen(eval, \"rb\");\n"
        "    if (!f) { perror(eval); return 1; }\n"
        "    while (read_record(f, &label, x)) {\n"
        "        if (test_n == cap) {\n"
        "            cap = cap ? 2 * cap : 256;\n"
        "            test_feat = realloc(test_feat, (size_t)cap * %s_FEATURE_SIZE * sizeof *test_feat);\n"
        "            test_label = realloc(test_label, (size_t)cap * sizeof *test_label);\n"
        "            if (!test_feat || !test_label) { fprintf(stderr, \"model_run: error: out of memory\\n\"); return 1; }\n"
        "        }\n"
        "        %s_run(x, test_feat + test_n * %s_FEATURE_SIZE);\n"
        "        test_label[test_n++] = label;\n"
        "    }\n"
        "    fclose(f);\n"
        "    f = fopen(learn, \"rb\");\n"
        "    if (!f) { perror(learn); return 1; }\n"
        "    printf(\"step 0 accuracy %%.4f\\n\", accuracy());\n"
        "    printed = 0;\n"
        "    while (read_record(f, &label, x)) {\n"
        "        if ((rc = %s_learn(x, label)) < 0) {\n"
        "            fprintf(stderr, \"model_run: error: record %%ld: label %%d: error %%d (%s_NUM_CLASSES is %%d)\\n\", step + 1, label, rc, %s_NUM_CLASSES);\n"
        "            return 1;\n"
        "        }\n"
        "        step++;\n"
        "        if (every > 0 && step %% every == 0) {\n"
        "            printf(\"step %%ld accuracy %%.4f\\n\", step, accuracy());\n"
        "            printed = step;\n"
        "        }\n"
        "    }\n"
        "    if (printed != step)\n"
        "        printf(\"step %%ld accuracy %%.4f\\n\", step, accuracy());\n"
        "    fclose(f);\n"
        "    free(test_feat);\n"
        "    free(test_label);\n"
        "    return 0;\n"
        "}\n\n", P, p, P, p, P, P);
}

static int file_exists(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f) fclose(f);
    return f != NULL;
}

int tb_emit_harness(const tb_graph *g, const tb_emit_options *o, const char *dir, tb_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/main.c", dir);
    FILE *out = fopen(path, "w");
    if (!out) return tb_error_set(err, "cannot write '%s': %s", path, strerror(errno));
    char P[200];
    size_t i = 0;
    for (; o->prefix[i] && i + 1 < sizeof P; i++)
        P[i] = (char)(o->prefix[i] >= 'a' && o->prefix[i] <= 'z' ? o->prefix[i] - 32 : o->prefix[i]);
    P[i] = 0;

    fprintf(out, "/* main.c - generated by tyboxc: runs %s_run() on samples from a file.\n"
                 " * usage: model_run IN.bin OUT.bin [RUNS] */\n", o->prefix);
    fputs(main_top, out);
    if (o->train_tail) fputs("#include <string.h>\n\n", out);
    fprintf(out, "#include \"%s.h\"\n\n", o->prefix);
    for (int k = 0; k < g->n_inputs; k++)
        fprintf(out, "static %s in%d[%s_INPUT%d_SIZE ? %s_INPUT%d_SIZE : 1];\n",
                tb_dtype_ctype(g->values[g->inputs[k]].dtype), k, P, k, P, k);
    for (int k = 0; k < g->n_outputs && !o->train_tail; k++)
        fprintf(out, "static %s out%d[%s_OUTPUT%d_SIZE ? %s_OUTPUT%d_SIZE : 1];\n",
                tb_dtype_ctype(g->values[g->outputs[k]].dtype), k, P, k, P, k);
    fputs("\n", out);
    fputs(main_helpers, out);

    /* The first input with elements detects the end of the file; a model
     * whose inputs hold no bytes at all runs once. */
    fputs("static int read_sample(FILE *f) {\n", out);
    int first = 1;
    for (int k = 0; k < g->n_inputs; k++) {
        if (tb_value_numel(&g->values[g->inputs[k]]) == 0) continue;
        fprintf(out, "    if (!read_input(f, in%d, sizeof in%d[0], %s_INPUT%d_SIZE, %d)) return 0;\n", k, k, P, k, first);
        first = 0;
    }
    if (first) fputs("    static int once;\n    (void)f;\n    return once++ == 0;\n", out);
    else fputs("    return 1;\n", out);
    fputs("}\n\n", out);

    if (o->train_tail) {
        /* in0 is the input, out0 the classes' probabilities */
        fprintf(out, "static float probs[%s_NUM_CLASSES];\n\n", P);
        fprintf(out, "static void run(void) {\n    %s_predict(in0, probs);\n}\n\n", o->prefix);
        emit_learn_mode(out, o->prefix, P);
    } else {
        fprintf(out, "static void run(void) {\n    %s_run(", o->prefix);
        for (int k = 0; k < g->n_inputs; k++) fprintf(out, "%sin%d", k ? ", " : "", k);
        for (int k = 0; k < g->n_outputs; k++) fprintf(out, "%sout%d", k || g->n_inputs ? ", " : "", k);
        fputs(");\n}\n\n", out);
    }

    fputs("int main(int argc, char **argv) {\n", out);
    if (o->train_tail) fputs("    if (argc > 1 && !strncmp(argv[1], \"--\", 2))\n        return learn_mode(argc, argv);\n", out);
    fputs("    if (argc < 3 || argc > 4) {\n"
          "        fprintf(stderr, \"usage: %s IN.bin OUT.bin [RUNS]\\n\", argv[0]);\n"
          "        return 2;\n"
          "    }\n"
          "    FILE *in = fopen(argv[1], \"rb\");\n"
          "    if (!in) { perror(argv[1]); return 1; }\n"
          "    FILE *out = fopen(argv[2], \"wb\");\n"
          "    if (!out) { perror(argv[2]); return 1; }\n"
          "    long runs = argc == 4 ? strtol(argv[3], NULL, 10) : 0;\n"
          "    long samples = 0;\n"
          "    while (read_sample(in)) {\n"
          "        run();\n"
          "        samples++;\n", out);
    if (o->train_tail)
        fprintf(out, "        if (fwrite(probs, sizeof probs[0], %s_NUM_CLASSES, out) != (size_t)%s_NUM_CLASSES) {\n"
                     "            perror(argv[2]);\n            return 1;\n        }\n", P, P);
    else
        for (int k = 0; k < g->n_outputs; k++)
            fprintf(out, "        if (fwrite(out%d, sizeof out%d[0], %s_OUTPUT%d_SIZE, out) != (size_t)%s_OUTPUT%d_SIZE) {\n"
                         "            perror(argv[2]);\n            return 1;\n        }\n", k, k, P, k, P, k);
    fputs("    }\n"
          "    if (fclose(out)) { perror(argv[2]); return 1; }\n"
          "    if (runs > 0 && samples > 0) {\n"
          "        double *ms = malloc((size_t)runs * sizeof *ms);\n"
          "        if (!ms) return 1;\n"
          "        rewind(in);\n"
          "        read_sample(in);\n"
          "        for (long i = 0; i < runs; i++) {\n"
          "            double t0 = now_ms();\n"
          "            run();\n"
          "            ms[i] = now_ms() - t0;\n"
          "        }\n"
          "        qsort(ms, (size_t)runs, sizeof *ms, by_value);\n"
          "        printf(\"latency_ms_median %.6f\\n\", runs % 2 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2);\n"
          "        free(ms);\n"
          "    }\n"
          "    fclose(in);\n"
          "    return 0;\n"
          "}\n", out);
    int bad = ferror(out);
    if (fclose(out) || bad) return tb_error_set(err, "error writing '%s'", path);

    snprintf(path, sizeof path, "%s/Makefile", dir);
    out = fopen(path, "w");
    if (!out) return tb_error_set(err, "cannot write '%s': %s", path, strerror(errno));
    fprintf(out, "# Generated by tyboxc. make [CC=...] [CFLAGS=...] builds model_run.\n"
                 "CC ?= cc\nCFLAGS ?= -O2\n"
                 "SRCS = main.c %s.c", o->prefix);
    if (o->train_tail) fprintf(out, " %s_tail.c", o->prefix);
    for (int k = 0; k < tb_runtime_file_count; k++) {
        const char *nm = tb_runtime_files[k].name;
        size_t len = strlen(nm);
        /* the runtime sources tb_emit_model wrote: those the model uses */
        if (len > 2 && !strcmp(nm + len - 2, ".c") && file_exists(dir, nm)) fprintf(out, " %s", nm);
    }
    fprintf(out, "\n\nmodel_run: $(SRCS) %s.h tb_runtime.h%s\n"
                 "\t$(CC) $(CFLAGS) -o $@ $(SRCS) -lm\n\n"
                 "clean:\n\trm -f model_run\n\n.PHONY: clean\n", o->prefix, o->train_tail ? " tb_train.h" : "");
    bad = ferror(out);
    if (fclose(out) || bad) return tb_error_set(err, "error writing '%s'", path);
    return 0;
}
