/* print.c - the textual IR (.tir) printer.
 *
 * Prints one graph in the canonical text that ir/parse.c reads back:
 *
 *   graph @tiny(%x: f32[1,1,4,4]) opset 13 {
 *     %w = const f32[2,1,3,3] [0.5, -1.25, 3e-08, ...]
 *     %c = Conv(%x, %w, none) {kernel_shape = [3, 3], alpha = 0.5} : f32[1,2,4,4] loc("conv0")
 *     return %c
 *   }
 *
 * The graph inputs go in the header, then every constant in value-id order,
 * then the live nodes in order (dead nodes are skipped), then `return`.
 * `opset N` is printed only when g->opset != 0. The text is canonical:
 * printing parse(print(g)) gives the same bytes, and the parsed graph holds
 * the same bits. Numbers:
 *   - f32 / f64: the fewest significant digits k (1..9, 1..17) such that x
 *     rounded to k digits reads back (strtof / strtod) as the same bits,
 *     written positionally for exponents -4..15 ("100.0", "0.0001") and in
 *     exponent form otherwise ("1e-05", "3.4028235e+38"); always with '.' or
 *     'e'. Also inf, -inf, -0.0, nan (0x7fc00000), -nan (sign bit set), and
 *     nan(0x7fc00001) with the exact bits for any other NaN.
 *   - integers in decimal, bool as 0 / 1 (any non-zero byte prints as 1).
 *
 * The printer does not assume a valid graph (it is used to dump graphs that
 * failed verification): an out-of-range id prints as <invalid N>.
 */
#include "ir.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Like tb_print_graph, but a constant (or tensor attribute) with more than
 * max_const_elems elements prints as `[...]`; max_const_elems < 0 elides
 * nothing. Text with elided constants cannot be parsed back. */
void tb_print_graph_elided(FILE *out, const tb_graph *g, int64_t max_const_elems);

/* ---- names and strings ------------------------------------------------- */

static int is_name_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.';
}

/* "..." with \" \\ \n and \xNN for other bytes outside printable ASCII. */
static void print_quoted(FILE *out, const char *s) {
    static const char hex[] = "0123456789abcdef";
    putc('"', out);
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        unsigned char c = *q;
        if (c == '"' || c == '\\') {
            putc('\\', out);
            putc(c, out);
        } else if (c == '\n') {
            fputs("\\n", out);
        } else if (c < 0x20 || c >= 0x7f) {
            putc('\\', out);
            putc('x', out);
            putc(hex[c >> 4], out);
            putc(hex[c & 15], out);
        } else {
            putc(c, out);
        }
    }
    putc('"', out);
}

/* %name or %"quoted name" (sigil '@' for the graph name). */
static void print_name(FILE *out, char sigil, const char *s) {
    if (!s) s = "";
    putc(sigil, out);
    const unsigned char *q = (const unsigned char *)s;
    while (*q && is_name_char(*q)) q++;
    if (*s && !*q)
        fputs(s, out);
    else
        print_quoted(out, s);
}

static void print_value_ref(FILE *out, const tb_graph *g, int id) {
    if (id == -1)
        fputs("none", out);
    else if (id < 0 || id >= g->n_values)
        fprintf(out, "<invalid %d>", id);
    else
        print_name(out, '%', g->values[id].name);
}

/* Attribute names: a bare identifier, quoted otherwise. The lexer reads
 * `inf` and `nan` as numbers, so those are quoted too. */
static void print_attr_name(FILE *out, const char *s) {
    if (!s) s = "";
    const unsigned char *q = (const unsigned char *)s;
    int ok = *q && !(*q >= '0' && *q <= '9');
    for (; *q && ok; q++) ok = is_name_char(*q) && *q != '.';
    if (ok && (!strcmp(s, "inf") || !strcmp(s, "nan"))) ok = 0;
    if (ok)
        fputs(s, out);
    else
        print_quoted(out, s);
}

/* ---- numbers ------------------------------------------------------------ */

/* Renders the decimal d[0] . d[1..nd) x 10^exp10 (digits without trailing
 * zeros) like Python's repr: positional for -4 <= exp10 < 16 ("100.0",
 * "0.0001"), else "1.5e-05". Always contains '.' or 'e'. */
static void render_decimal(char *buf, int neg, const char *d, int nd, int exp10) {
    char *o = buf;
    if (neg) *o++ = '-';
    if (exp10 >= -4 && exp10 < 16) {
        if (exp10 >= 0) {
            for (int i = 0; i <= exp10; i++) *o++ = i < nd ? d[i] : '0';
            *o++ = '.';
            if (nd > exp10 + 1)
                for (int i = exp10 + 1; i < nd; i++) *o++ = d[i];
            else
                *o++ = '0';
        } else {
            *o++ = '0';
            *o++ = '.';
            for (int i = 0; i < -exp10 - 1; i++) *o++ = '0';
            for (int i = 0; i < nd; i++) *o++ = d[i];
        }
        *o = 0;
    } else {
        *o++ = d[0];
        if (nd > 1) {
            *o++ = '.';
            for (int i = 1; i < nd; i++) *o++ = d[i];
        }
        sprintf(o, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    }
}

/* The shortest decimal that reads back as the same float (is32) or double:
 * the fewest significant digits k for which x correctly rounded to k digits
 * (what "%.{k-1}e" prints) reads back exactly. k is found by binary search
 * (a k-digit decimal that reads back stays exact with more digits) from one
 * "%.{max-1}e" print: rounding its digits to k gives x rounded to k digits,
 * except when the dropped digits are exactly 50..0, where x itself decides
 * and snprintf is asked again. x is finite and non-zero. */
static void fmt_real(char *buf, double x, int is32) {
    int maxd = is32 ? 9 : 17;
    char e[48], c[24], tmp[48];
    snprintf(e, sizeof e, "%.*e", maxd - 1, x);
    int neg = e[0] == '-';
    char d[24];
    int nd = 0;
    const char *s = e + neg;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9' && nd < maxd) d[nd++] = *s;
    int exp10 = *s == 'e' ? atoi(s + 1) : 0;

    char best[24];
    int best_nd = nd, best_exp = exp10;
    memcpy(best, d, (size_t)nd);
    int lo = 1, hi = nd;
    while (lo < hi) {
        int k = (lo + hi) / 2, cexp = exp10;
        int tie = d[k] == '5';
        for (int i = k + 1; i < nd && tie; i++) tie = d[i] == '0';
        if (tie) {
            snprintf(tmp, sizeof tmp, "%.*e", k - 1, x);
            const char *t = tmp + neg;
            int n = 0;
            for (; *t && *t != 'e'; t++)
                if (*t >= '0' && *t <= '9' && n < k) c[n++] = *t;
            cexp = *t == 'e' ? atoi(t + 1) : 0;
        } else {
            memcpy(c, d, (size_t)k);
            if (d[k] >= '5') {
                int i = k - 1;
                while (i >= 0 && c[i] == '9') c[i--] = '0';
                if (i >= 0) {
                    c[i]++;
                } else {
                    c[0] = '1';
                    cexp++;
                }
            }
            /* the candidate in %e form, for strtof / strtod */
            char *o = tmp;
            if (neg) *o++ = '-';
            *o++ = c[0];
            *o++ = '.';
            for (int i = 1; i < k; i++) *o++ = c[i];
            *o++ = '0';
            *o++ = 'e';
            int ae = cexp < 0 ? -cexp : cexp;
            if (cexp < 0) *o++ = '-';
            if (ae >= 100) *o++ = (char)('0' + ae / 100);
            if (ae >= 10) *o++ = (char)('0' + ae / 10 % 10);
            *o++ = (char)('0' + ae % 10);
            *o = 0;
        }
        int exact;
        if (is32) {
            float r = strtof(tmp, NULL), f = (float)x;
            exact = !memcmp(&r, &f, sizeof r);
        } else {
            double r = strtod(tmp, NULL);
            exact = !memcmp(&r, &x, sizeof r);
        }
        if (exact) {
            hi = k;
            memcpy(best, c, (size_t)k);
            best_nd = k;
            best_exp = cexp;
        } else {
            lo = k + 1;
        }
    }
    while (best_nd > 1 && best[best_nd - 1] == '0') best_nd--;
    render_decimal(buf, neg, best, best_nd, best_exp);
}

/* A float in canonical form (buf: at least 48 bytes). */
static void fmt_f32(char *buf, float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    if (isnan(f)) {
        if (bits == 0x7fc00000u)
            strcpy(buf, "nan");
        else if (bits == 0xffc00000u)
            strcpy(buf, "-nan");
        else
            sprintf(buf, "nan(0x%08" PRIx32 ")", bits);
    } else if (isinf(f)) {
        strcpy(buf, f < 0 ? "-inf" : "inf");
    } else if ((bits & 0x7fffffffu) == 0) {
        strcpy(buf, bits ? "-0.0" : "0.0");
    } else {
        fmt_real(buf, f, 1);
    }
}

static void fmt_f64(char *buf, double f) {
    uint64_t bits;
    memcpy(&bits, &f, sizeof bits);
    if (isnan(f)) {
        if (bits == UINT64_C(0x7ff8000000000000))
            strcpy(buf, "nan");
        else if (bits == UINT64_C(0xfff8000000000000))
            strcpy(buf, "-nan");
        else
            sprintf(buf, "nan(0x%016" PRIx64 ")", bits);
    } else if (isinf(f)) {
        strcpy(buf, f < 0 ? "-inf" : "inf");
    } else if ((bits & ~(UINT64_C(1) << 63)) == 0) {
        strcpy(buf, bits ? "-0.0" : "0.0");
    } else {
        fmt_real(buf, f, 0);
    }
}

static void print_f32(FILE *out, float f) {
    char buf[48];
    fmt_f32(buf, f);
    fputs(buf, out);
}

/* ---- types and elements ------------------------------------------------- */

static void print_dtype(FILE *out, tb_dtype t) {
    if ((int)t < 0 || t >= TB_DTYPE_COUNT)
        fprintf(out, "<invalid dtype %d>", (int)t);
    else
        fputs(tb_dtype_name(t), out);
}

/* f32[1,3,8,8], f32[] (rank 0), f32[?] (unknown shape), then the
 * quantization parameters when scale != 0. */
static void print_type(FILE *out, const tb_value *v) {
    print_dtype(out, v->dtype);
    putc('[', out);
    if (v->rank < 0 || v->rank > TB_MAX_RANK) {
        putc('?', out);
    } else {
        for (int i = 0; i < v->rank; i++) {
            if (i) putc(',', out);
            fprintf(out, "%" PRId64, v->dims[i]);
        }
    }
    putc(']', out);
    if (v->scale != 0) {
        fputs("{scale = ", out);
        print_f32(out, v->scale);
        fprintf(out, ", zero_point = %" PRId32 "}", v->zero_point);
    }
}

static int64_t value_numel(const tb_value *v) {
    if (v->rank < 0 || v->rank > TB_MAX_RANK) return 0;
    int64_t n = 1;
    for (int i = 0; i < v->rank; i++) {
        if (v->dims[i] < 0) return 0;
        if (v->dims[i] && n > INT64_MAX / v->dims[i]) return 0;
        n *= v->dims[i];
    }
    return n;
}

/* The elements of a constant, row-major: [e0, e1, ...], or [...] when there
 * are more than max (max >= 0). */
static void print_elements(FILE *out, const tb_value *v, int64_t max) {
    int64_t n = value_numel(v);
    if (max >= 0 && n > max) {
        fputs("[...]", out);
        return;
    }
    if (!v->data || (int)v->dtype <= TB_DTYPE_NONE || v->dtype >= TB_DTYPE_COUNT) {
        fputs(n ? "[<no elements>]" : "[]", out);
        return;
    }
    char buf[48];
    putc('[', out);
    for (int64_t i = 0; i < n; i++) {
        if (i) fputs(", ", out);
        switch (v->dtype) {
        case TB_F32: fmt_f32(buf, ((const float *)v->data)[i]); fputs(buf, out); break;
        case TB_F64: fmt_f64(buf, ((const double *)v->data)[i]); fputs(buf, out); break;
        case TB_U8: fprintf(out, "%u", (unsigned)((const uint8_t *)v->data)[i]); break;
        case TB_I8: fprintf(out, "%d", (int)((const int8_t *)v->data)[i]); break;
        case TB_U16: fprintf(out, "%u", (unsigned)((const uint16_t *)v->data)[i]); break;
        case TB_I16: fprintf(out, "%d", (int)((const int16_t *)v->data)[i]); break;
        case TB_I32: fprintf(out, "%" PRId32, ((const int32_t *)v->data)[i]); break;
        case TB_I64: fprintf(out, "%" PRId64, ((const int64_t *)v->data)[i]); break;
        case TB_U32: fprintf(out, "%" PRIu32, ((const uint32_t *)v->data)[i]); break;
        case TB_U64: fprintf(out, "%" PRIu64, ((const uint64_t *)v->data)[i]); break;
        case TB_BOOL: putc(((const uint8_t *)v->data)[i] ? '1' : '0', out); break;
        case TB_DTYPE_NONE:
        case TB_DTYPE_COUNT:
            fputs("<no elements>", out);
            i = n;
            break;
        }
    }
    putc(']', out);
}

/* ---- attributes and nodes ----------------------------------------------- */

static void print_attr(FILE *out, const tb_attr *a, int64_t max) {
    print_attr_name(out, a->name);
    fputs(" = ", out);
    switch (a->kind) {
    case TB_ATTR_INT: fprintf(out, "%" PRId64, a->i); break;
    case TB_ATTR_FLOAT: print_f32(out, a->f); break;
    case TB_ATTR_STRING: print_quoted(out, a->s ? a->s : ""); break;
    case TB_ATTR_INTS:
        putc('[', out);
        for (int i = 0; a->ints && i < a->n; i++) fprintf(out, "%s%" PRId64, i ? ", " : "", a->ints[i]);
        putc(']', out);
        break;
    case TB_ATTR_FLOATS:
        putc('[', out);
        for (int i = 0; a->floats && i < a->n; i++) {
            if (i) fputs(", ", out);
            print_f32(out, a->floats[i]);
        }
        putc(']', out);
        break;
    case TB_ATTR_TENSOR:
        if (!a->t) {
            fputs("<null tensor>", out);
            break;
        }
        fputs("tensor<", out);
        print_type(out, a->t);
        putc(' ', out);
        print_elements(out, a->t, max);
        putc('>', out);
        break;
    default: fprintf(out, "<invalid attribute kind %d>", (int)a->kind); break;
    }
}

static void print_node(FILE *out, const tb_graph *g, const tb_node *n, int64_t max) {
    int n_out = n->n_outputs < 0 ? 0 : n->n_outputs > TB_MAX_IO ? TB_MAX_IO : n->n_outputs;
    int n_in = n->n_inputs < 0 ? 0 : n->n_inputs > TB_MAX_IO ? TB_MAX_IO : n->n_inputs;
    fputs("  ", out);
    for (int i = 0; i < n_out; i++) {
        if (i) fputs(", ", out);
        print_value_ref(out, g, n->outputs[i]);
    }
    if (n_out) fputs(" = ", out);
    if ((int)n->op <= TB_OP_NONE || n->op >= TB_OP_COUNT)
        fprintf(out, "<invalid op %d>", (int)n->op);
    else
        fputs(tb_op_name(n->op), out);
    putc('(', out);
    for (int i = 0; i < n_in; i++) {
        if (i) fputs(", ", out);
        print_value_ref(out, g, n->inputs[i]);
    }
    putc(')', out);
    if (n->n_attrs > 0 && n->attrs) {
        fputs(" {", out);
        for (int i = 0; i < n->n_attrs; i++) {
            if (i) fputs(", ", out);
            print_attr(out, &n->attrs[i], max);
        }
        putc('}', out);
    }
    if (n_out) {
        fputs(" : ", out);
        for (int i = 0; i < n_out; i++) {
            if (i) fputs(", ", out);
            int id = n->outputs[i];
            if (id < 0 || id >= g->n_values)
                fprintf(out, "<invalid %d>", id);
            else
                print_type(out, &g->values[id]);
        }
    }
    if (n->name && *n->name) {
        fputs(" loc(", out);
        print_quoted(out, n->name);
        putc(')', out);
    }
    putc('\n', out);
}

/* ---- the graph ---------------------------------------------------------- */

static int is_const(const tb_value *v, const char *is_input, int id) {
    return v->data && v->producer < 0 && !(is_input && is_input[id]);
}

void tb_print_graph_elided(FILE *out, const tb_graph *g, int64_t max_const_elems) {
    char *is_input = calloc((size_t)(g->n_values > 0 ? g->n_values : 1), 1);
    for (int k = 0; is_input && k < g->n_inputs; k++)
        if (g->inputs[k] >= 0 && g->inputs[k] < g->n_values) is_input[g->inputs[k]] = 1;

    if (max_const_elems >= 0) {
        int elided = 0;
        for (int i = 0; i < g->n_values && !elided; i++)
            elided = is_const(&g->values[i], is_input, i) && value_numel(&g->values[i]) > max_const_elems;
        for (int i = 0; i < g->n_nodes && !elided; i++) {
            const tb_node *n = &g->nodes[i];
            for (int k = 0; !n->dead && n->attrs && k < n->n_attrs; k++)
                if (n->attrs[k].kind == TB_ATTR_TENSOR && n->attrs[k].t &&
                    value_numel(n->attrs[k].t) > max_const_elems)
                    elided = 1;
        }
        if (elided)
            fprintf(out, "// constants with more than %" PRId64 " elements are elided as [...]:"
                         " this text cannot be parsed back\n", max_const_elems);
    }

    fputs("graph ", out);
    print_name(out, '@', g->name);
    putc('(', out);
    for (int k = 0; k < g->n_inputs; k++) {
        if (k) fputs(", ", out);
        int id = g->inputs[k];
        print_value_ref(out, g, id);
        if (id >= 0 && id < g->n_values) {
            fputs(": ", out);
            print_type(out, &g->values[id]);
        }
    }
    putc(')', out);
    if (g->opset) fprintf(out, " opset %d", g->opset);
    fputs(" {\n", out);

    for (int i = 0; i < g->n_values; i++) {
        const tb_value *v = &g->values[i];
        if (!is_const(v, is_input, i)) continue;
        fputs("  ", out);
        print_name(out, '%', v->name);
        fputs(" = const ", out);
        print_type(out, v);
        putc(' ', out);
        print_elements(out, v, max_const_elems);
        putc('\n', out);
    }
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i].dead) print_node(out, g, &g->nodes[i], max_const_elems);

    fputs("  return", out);
    for (int k = 0; k < g->n_outputs; k++) {
        fputs(k ? ", " : " ", out);
        print_value_ref(out, g, g->outputs[k]);
    }
    fputs("\n}\n", out);
    free(is_input);
}

void tb_print_graph(FILE *out, const tb_graph *g) { tb_print_graph_elided(out, g, -1); }
