/* emit_c.c - write the model as C99: <prefix>.h, <prefix>.c, and the runtime.
 *
 * The model file holds the weights as static const arrays, one static arena
 * of <PREFIX>_ARENA_BYTES, and <prefix>_run(), a straight list of kernel
 * calls with their parameters as static const structs. No malloc, no stdio,
 * no VLAs. Weights print as the bits of each float in hex through a union:
 * exact, compact (11 characters a float), and quick for C compilers to parse.
 */
#include "backend.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static FILE *open_out(const char *dir, const char *name, tb_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) tb_error_set(err, "cannot write '%s': %s", path, strerror(errno));
    return f;
}

static int close_out(FILE *f, const char *name, tb_error *err) {
    int bad = ferror(f);
    if (fclose(f) || bad) return tb_error_set(err, "error writing '%s'", name);
    return 0;
}

static void upper(char *dst, const char *src, size_t cap) {
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++) dst[i] = (char)toupper((unsigned char)src[i]);
    dst[i] = 0;
}

/* Value names go into comments: keep them from closing one. */
static void comment_text(FILE *out, const char *s) {
    for (; *s; s++) {
        if (s[0] == '*' && s[1] == '/') fputs("* /", out), s++;
        else if ((unsigned char)*s >= 32 && *s != 127) fputc(*s, out);
        else fputc('?', out);
    }
}

static void print_type(FILE *out, const tb_value *v) {
    fprintf(out, "%s[", tb_dtype_name(v->dtype));
    for (int i = 0; i < v->rank; i++) fprintf(out, "%s%" PRId64, i ? "," : "", v->dims[i]);
    fputc(']', out);
}


/* ---- weights ------------------------------------------------------------- */

/* 8-bit weights (the int8 models' filters) are written four to a 32-bit hex
 * word: as decimals they would take about 4 characters a byte, and the
 * sources must stay under 3x the weights. Bytes go in least significant
 * first, so model.c refuses a compiler that says it targets big-endian. */
static int packs_bytes(const tb_value *val) {
    return (val->dtype == TB_I8 || val->dtype == TB_U8) && tb_value_numel(val) >= 4;
}

static void emit_packed_bytes(FILE *out, const tb_value *val, int index) {
    int64_t n = tb_value_numel(val), words = (n + 3) / 4;
    const uint8_t *b = val->data;
    fprintf(out, "static const union { uint32_t bits[%" PRId64 "]; %s v[%" PRId64 "]; } w%d = {{", words,
            tb_dtype_ctype(val->dtype), 4 * words, index);
    for (int64_t i = 0; i < words; i++) {
        uint32_t word = 0;
        for (int k = 3; k >= 0; k--) word = word << 8 | (4 * i + k < n ? b[4 * i + k] : 0);
        if (i % 16 == 0) fputs("\n    ", out);
        fprintf(out, "0x%08" PRIx32 "%s", word, i + 1 < words ? "," : "");
    }
    fputs("\n}};\n\n", out);
}

static void emit_weight(FILE *out, const tb_graph *g, int v, int index) {
    const tb_value *val = &g->values[v];
    int64_t n = tb_value_numel(val);
    int64_t len = n ? n : 1; /* C has no empty arrays */
    fputs("/* ", out);
    comment_text(out, val->name);
    fputc(' ', out);
    print_type(out, val);
    fputs(" */\n", out);
    if (packs_bytes(val)) {
        emit_packed_bytes(out, val, index);
        return;
    }
    if (val->dtype == TB_F32)
        fprintf(out, "static const union { uint32_t bits[%" PRId64 "]; float v[%" PRId64 "]; } w%d = {{", len, len, index);
    else if (val->dtype == TB_F64)
        fprintf(out, "static const union { uint64_t bits[%" PRId64 "]; double v[%" PRId64 "]; } w%d = {{", len, len, index);
    else
        fprintf(out, "static const struct { %s v[%" PRId64 "]; } w%d = {{", tb_dtype_ctype(val->dtype), len, index);
    for (int64_t i = 0; i < len; i++) {
        /* 16 values a line and no blanks: the source stays under 3x the weights */
        if (i % 16 == 0) fputs("\n    ", out);
        if (i >= n) { fputs("0", out); break; }
        switch (val->dtype) {
        case TB_F32: { uint32_t b; memcpy(&b, (const char *)val->data + 4 * i, 4); fprintf(out, "0x%08" PRIx32, b); break; }
        case TB_F64: { uint64_t b; memcpy(&b, (const char *)val->data + 8 * i, 8); fprintf(out, "0x%016" PRIx64 "u", b); break; }
        case TB_I64: {
            int64_t x = ((const int64_t *)val->data)[i];
            /* INT64_MIN has no literal: its magnitude does not fit int64. */
            if (x == INT64_MIN) fputs("(-9223372036854775807LL - 1)", out);
            else fprintf(out, "%" PRId64 "LL", x);
            break;
        }
        case TB_U64: fprintf(out, "%" PRIu64 "ULL", ((const uint64_t *)val->data)[i]); break;
        case TB_I32: {
            int32_t x = ((const int32_t *)val->data)[i];
            if (x == INT32_MIN) fputs("(-2147483647 - 1)", out);
            else fprintf(out, "%" PRId32, x);
            break;
        }
        case TB_U32: fprintf(out, "%" PRIu32 "u", ((const uint32_t *)val->data)[i]); break;
        case TB_I16: fprintf(out, "%d", ((const int16_t *)val->data)[i]); break;
        case TB_U16: fprintf(out, "%u", ((const uint16_t *)val->data)[i]); break;
        case TB_I8: fprintf(out, "%d", ((const int8_t *)val->data)[i]); break;
        case TB_U8: case TB_BOOL: fprintf(out, "%u", ((const uint8_t *)val->data)[i]); break;
        default: TB_ASSERT(!"dtype without a C literal");
        }
        if (i + 1 < len) fputc(',', out);
    }
    fputs("\n}};\n\n", out);
}

/* ---- pointers --------------------------------------------------------------- */

/* The C expression for the bytes of value v. */
static void emit_pointer(FILE *out, const tb_graph *g, const tb_plan *plan, int v) {
    if (v < 0) {
        fputs("NULL", out);
        return;
    }
    const tb_storage *s = &plan->store[v];
    const tb_value *val = &g->values[v];
    const char *ctype = tb_dtype_ctype(val->dtype);
    switch (s->kind) {
    case TB_STORE_CONST: fprintf(out, "w%d.v", s->index); break;
    case TB_STORE_INPUT:
        /* An alias of an input reads it with the alias's element type (same bytes). */
        if (g->values[s->root].dtype == val->dtype) fprintf(out, "in%d", s->index);
        else fprintf(out, "(const %s *)(const void *)in%d", ctype, s->index);
        break;
    case TB_STORE_OUTPUT:
        if (g->values[s->root].dtype == val->dtype) fprintf(out, "out%d", s->index);
        else fprintf(out, "(%s *)(void *)out%d", ctype, s->index);
        break;
    case TB_STORE_ARENA: fprintf(out, "(%s *)(void *)(arena.bytes + %zu)", ctype, s->offset); break;
    default: TB_ASSERT(!"value without storage");
    }
}

/* ---- header ---------------------------------------------------------------- */

static void emit_io_params(FILE *out, const tb_graph *g) {
    for (int k = 0; k < g->n_inputs; k++)
        fprintf(out, "%sconst %s *in%d", k ? ", " : "", tb_dtype_ctype(g->values[g->inputs[k]].dtype), k);
    for (int k = 0; k < g->n_outputs; k++)
        fprintf(out, "%s%s *out%d", k || g->n_inputs ? ", " : "", tb_dtype_ctype(g->values[g->outputs[k]].dtype), k);
    if (!g->n_inputs && !g->n_outputs) fputs("void", out);
}

/* One "#define MODEL_INPUT0_SIZE 784" line, naming the tensor and its type. */
static void emit_size_macro(FILE *out, const char *P, const char *kind, int k, const tb_value *v) {
    fprintf(out, "#define %s_%s%d_SIZE %" PRId64 " /* ", P, kind, k, tb_value_numel(v));
    comment_text(out, v->name);
    fputc(' ', out);
    print_type(out, v);
    fputs(" */\n", out);
}

/* For a quantized input or output (int8 I/O, tb_value.scale set):
 * "#define MODEL_INPUT0_SCALE 0.0235294122f" and "..._ZERO_POINT (-3)",
 * so that x = (q - ZERO_POINT) * SCALE. %.9g gives back the same float. */
static void emit_quant_macros(FILE *out, const char *P, const char *kind, int k, const tb_value *v) {
    if (v->scale == 0 || (v->dtype != TB_I8 && v->dtype != TB_U8)) return;
    char num[64];
    snprintf(num, sizeof num, "%.9g", (double)v->scale);
    fprintf(out, "#define %s_%s%d_SCALE %s%sf\n", P, kind, k, num, strpbrk(num, ".e") ? "" : ".0");
    fprintf(out, "#define %s_%s%d_ZERO_POINT %s%" PRId32 "%s\n", P, kind, k, v->zero_point < 0 ? "(" : "",
            v->zero_point, v->zero_point < 0 ? ")" : "");
}

static int emit_header(const tb_graph *g, const tb_plan *plan, const tb_emit_options *o, const char *dir, tb_error *err) {
    char name[256], guard[256];
    snprintf(name, sizeof name, "%s.h", o->prefix);
    FILE *out = open_out(dir, name, err);
    if (!out) return 1;
    char P[200];
    upper(P, o->prefix, sizeof P);
    snprintf(guard, sizeof guard, "%s_H", P);
    fprintf(out, "/* %s - generated by tyboxc from ", name);
    comment_text(out, o->source_name);
    fputs(". Do not edit.\n *\n", out);
    fprintf(out, " * int %s_run(...) runs the model once: inputs and outputs in graph order,\n", o->prefix);
    fputs(" * dense row-major. It returns 0. It is not reentrant: one static arena holds\n"
          " * every intermediate tensor.\n */\n", out);
    fprintf(out, "#ifndef %s\n#define %s\n\n#include <stdint.h>\n\n", guard, guard);
    fprintf(out, "#define %s_ARENA_BYTES %zu\n", P, plan->arena_bytes);
    fprintf(out, "#define %s_WEIGHT_BYTES %zu\n", P, plan->weight_bytes);
    fprintf(out, "#define %s_NUM_INPUTS %d\n#define %s_NUM_OUTPUTS %d\n", P, g->n_inputs, P, g->n_outputs);
    for (int k = 0; k < g->n_inputs; k++) emit_size_macro(out, P, "INPUT", k, &g->values[g->inputs[k]]);
    for (int k = 0; k < g->n_outputs; k++) emit_size_macro(out, P, "OUTPUT", k, &g->values[g->outputs[k]]);
    for (int k = 0; k < g->n_inputs; k++) emit_quant_macros(out, P, "INPUT", k, &g->values[g->inputs[k]]);
    for (int k = 0; k < g->n_outputs; k++) emit_quant_macros(out, P, "OUTPUT", k, &g->values[g->outputs[k]]);
    if (g->n_inputs) fprintf(out, "#define %s_INPUT_SIZE %s_INPUT0_SIZE\n", P, P);
    if (g->n_outputs) fprintf(out, "#define %s_OUTPUT_SIZE %s_OUTPUT0_SIZE\n", P, P);
    fprintf(out, "\nint %s_run(", o->prefix);
    emit_io_params(out, g);
    fprintf(out, ");\n\n#endif\n");
    return close_out(out, name, err);
}

/* ---- model ------------------------------------------------------------------ */

static void emit_call(FILE *out, const tb_graph *g, const tb_plan *plan, const tb_call *c, int number) {
    fprintf(out, "    static const %s p%d = ", tb_kernel_params_type(c->kernel), number);
    tb_print_kernel_params(out, c);
    fprintf(out, ";\n    %s(&p%d", tb_kernel_function(c->kernel), number);
    for (int k = 0; k < c->n_args; k++) {
        fputs(", ", out);
        emit_pointer(out, g, plan, c->args[k]);
    }
    fputs(");\n", out);
}

/* A graph output that does not live in its buffer (a constant, an input, a
 * repeated output) is copied there at the end of the run. */
static void emit_output_copy(FILE *out, const tb_graph *g, const tb_plan *plan, int k, int number) {
    int v = g->outputs[k];
    tb_call c;
    memset(&c, 0, sizeof c);
    c.kernel = TB_K_copy;
    c.p.copy.elem_size = 1;
    c.p.copy.rank = 1;
    c.p.copy.dims[0] = (int32_t)tb_value_bytes(&g->values[v]);
    c.p.copy.in_strides[0] = c.p.copy.out_strides[0] = 1;
    fprintf(out, "    /* output %d */\n", k);
    fprintf(out, "    static const tb_copy_params p%d = ", number);
    tb_print_kernel_params(out, &c);
    fprintf(out, ";\n    tb_copy(&p%d, ", number);
    emit_pointer(out, g, plan, v);
    fprintf(out, ", out%d);\n", k);
}

int tb_emit_model(tb_graph *g, const tb_plan *plan, const tb_emit_options *o, const char *dir, tb_error *err) {
    if (emit_header(g, plan, o, dir, err)) return 1;
    char name[256], P[200];
    upper(P, o->prefix, sizeof P);
    snprintf(name, sizeof name, "%s.c", o->prefix);
    FILE *out = open_out(dir, name, err);
    if (!out) return 1;
    int nodes = 0;
    for (int i = 0; i < g->n_nodes; i++) nodes += !g->nodes[i].dead;
    fprintf(out, "/* %s - generated by tyboxc from ", name);
    comment_text(out, o->source_name);
    fprintf(out, ". Do not edit.\n * %d nodes; arena %zu bytes (lower bound %zu); weights %zu bytes. */\n",
            nodes, plan->arena_bytes, plan->lower_bound, plan->weight_bytes);
    fprintf(out, "#include <stddef.h>\n#include <stdint.h>\n#include <math.h>\n\n#include \"%s.h\"\n#include \"tb_runtime.h\"\n\n", o->prefix);

    int packed = 0;
    for (int v = 0; v < g->n_values; v++)
        packed |= plan->store[v].kind == TB_STORE_CONST && plan->store[v].root == v && packs_bytes(&g->values[v]);
    if (packed)
        fputs("#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__\n"
              "#error \"the 8-bit weights below are packed into words for a little-endian target\"\n"
              "#endif\n\n", out);
    for (int v = 0; v < g->n_values; v++)
        if (plan->store[v].kind == TB_STORE_CONST && plan->store[v].root == v) emit_weight(out, g, v, plan->store[v].index);

    /* The union aligns the arena for every element type the kernels use. */
    fprintf(out, "static union {\n    unsigned char bytes[%s_ARENA_BYTES ? %s_ARENA_BYTES : 1];\n"
                 "    double align_double;\n    int64_t align_int64;\n} arena;\n\n", P, P);

    fprintf(out, "int %s_run(", o->prefix);
    emit_io_params(out, g);
    fputs(") {\n", out);
    int number = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const tb_node *n = &g->nodes[i];
        if (n->dead) continue;
        const tb_lowered *L = &plan->lowered[i];
        fputs("    /* ", out);
        comment_text(out, n->name);
        fprintf(out, " (%s) */\n", tb_op_name(n->op));
        if (L->alias_input >= 0) {
            fputs("    /* no code: the output is the input viewed with another shape */\n", out);
            continue;
        }
        for (int k = 0; k < L->n_calls; k++) emit_call(out, g, plan, &L->calls[k], number++);
    }
    for (int k = 0; k < g->n_outputs; k++)
        if (plan->store[g->outputs[k]].kind != TB_STORE_OUTPUT || plan->store[g->outputs[k]].index != k)
            emit_output_copy(out, g, plan, k, number++);
    /* Inputs and outputs a graph never touches stay named in the signature. */
    for (int k = 0; k < g->n_inputs; k++) fprintf(out, "    (void)in%d;\n", k);
    /* A model whose every tensor is an input, an output or a constant leaves
     * the arena unused; say so, or -Wunused-variable rejects the file. */
    int arena_used = 0;
    for (int v = 0; v < g->n_values; v++) arena_used |= plan->store[v].kind == TB_STORE_ARENA;
    if (!arena_used) fputs("    (void)arena;\n", out);
    fputs("    return 0;\n}\n", out);
    if (close_out(out, name, err)) return 1;

    /* the runtime files the model uses, as embedded at build time */
    unsigned char need[TB_RUNTIME_MAX_FILES];
    tb_runtime_select(plan, o->train_tail, need);
    for (int i = 0; i < tb_runtime_file_count; i++) {
        if (!need[i]) continue;
        FILE *f = open_out(dir, tb_runtime_files[i].name, err);
        if (!f) return 1;
        fputs(tb_runtime_files[i].text, f);
        if (close_out(f, tb_runtime_files[i].name, err)) return 1;
    }
    return 0;
}
