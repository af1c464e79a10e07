/* parse.c - the textual IR (.tir) parser: a hand-written lexer and a
 * recursive-descent parser in the style of chibicc, one function per rule.
 *
 * Grammar (whitespace and `//` comments may appear between any two tokens):
 *
 *   file     = "graph" GNAME "(" [param ("," param)*] ")" ["opset" INT]
 *              "{" stmt* "return" [VALUE ("," VALUE)*] "}" EOF
 *   param    = VALUE ":" type
 *   type     = DTYPE "[" ("?" | [INT ("," INT)*]) "]" [quant]
 *   quant    = "{" "scale" "=" number "," "zero_point" "=" INT "}"
 *   stmt     = VALUE "=" "const" type elements
 *            | [VALUE ("," VALUE)* "="] OP "(" [operand ("," operand)*] ")"
 *              [attrs] [":" type ("," type)*] ["loc" "(" STRING ")"]
 *   operand  = VALUE | "none"
 *   elements = "[" [number ("," number)*] "]"
 *   attrs    = "{" [attr ("," attr)*] "}"
 *   attr     = (IDENT | STRING) "=" attrval
 *   attrval  = number | STRING | "[" [number ("," number)*] "]"
 *            | "tensor" "<" type elements ">"
 *   number   = INT | FLOAT
 *
 * Tokens:
 *   VALUE    = "%" (NAME | STRING)         a value name
 *   GNAME    = "@" (NAME | STRING)         the graph name
 *   NAME     = [A-Za-z0-9_.]+
 *   IDENT    = [A-Za-z_][A-Za-z0-9_]*      keywords, op names, dtypes, attribute names
 *   DTYPE    = an IDENT from dtypes.def ("f32", "i64", ...), or "none" (no
 *              element type yet) for graph inputs and node outputs
 *   STRING   = '"' chars '"' with escapes \" \\ \n \t \r \xNN (NN != 00);
 *              no raw newline
 *   INT      = [+-]?[0-9]+
 *   FLOAT    = [+-]? (decimal or exponent form, as strtof / strtod read it)
 *            | [+-]? ("inf" | "nan")       nan: the default quiet NaN
 *            | "nan(0x" HEX{1,8|16} ")"   exact NaN bits (f32: 8, f64: 16)
 *   "..."    = only in an elided constant (tb_print_graph_elided): an error
 *
 * Meaning:
 *   - A node's output types, when it has outputs, are required, one per
 *     output; `f32[?]` is an unknown shape. The `: types` part is absent for a
 *     node without outputs.
 *   - A constant's elements are its row-major values; their count must equal
 *     the type's element count exactly. Integer types take integers in range,
 *     bool takes 0 or 1, f32 / f64 take any number.
 *   - An attribute number is an int when it is an INT, a float otherwise; a
 *     list is ints when every element is an INT (so `[]` is ints), floats
 *     otherwise.
 *   - Values must be defined (graph input, constant or node output) before
 *     they are used, and each name is defined once (not empty).
 *   - "opset N" sets g->opset (absent: 0, unset). Graph outputs may be
 *     constants or graph inputs, and may repeat.
 *   - Limits: rank <= TB_MAX_RANK, inputs and outputs per node <= TB_MAX_IO,
 *     attributes per node <= 64, element counts < 2^59.
 *
 * Values are numbered in the order they are defined: graph inputs, then
 * constants and node outputs as they appear. The parser adds node outputs
 * by name (tb_graph_add_node with no outputs, then tb_graph_add_value),
 * and keeps a hash table of names, so parsing is linear in the input.
 *
 * Errors are reported as "line:col: message" (1-based; the column counts
 * bytes) in err->msg, through a longjmp back to tb_parse_graph, which frees
 * everything. Input is never trusted: every array write is bounded, dims
 * products are checked for overflow, and text does not need a trailing NUL.
 */
#include "ir.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* A node may carry at most this many attributes (ONNX operators have far
 * fewer); tb_node_set_* copies the attribute array on every append, so an
 * unbounded count would cost quadratic memory. */
#define MAX_ATTRS 64
/* Longest number token; printed numbers are at most ~25 characters. */
#define MAX_NUM_LEN 127

typedef enum {
    TK_EOF,
    TK_PUNCT,    /* one of ( ) { } [ ] < > , = : ? */
    TK_IDENT,
    TK_NUM,
    TK_STR,
    TK_VALUE,    /* %name or %"name" */
    TK_GNAME,    /* @name or @"name" */
    TK_ELLIPSIS, /* ... (an elided constant) */
} tk_kind;

typedef struct {
    tk_kind kind;
    const char *p; /* raw text, including sigils and quotes */
    size_t len;
    size_t line, col;
} token;

typedef struct {
    const char *name; /* the value's name, owned by the graph's pool */
    size_t len;
    uint64_t hash;
    int id;
} map_ent;

typedef struct {
    const char *start, *cur, *end;
    size_t line;
    const char *line_start;
    token tok;
    tb_error *err;
    jmp_buf fail;
    tb_graph *g;
    /* value names -> ids */
    map_ent *map;
    size_t map_cap, map_n;
    /* scratch: decoded strings (two, so an attribute name can be held while
     * its value is decoded), attribute list elements, tensor data */
    char *buf[2];
    size_t buf_cap[2];
    token *list;
    size_t list_cap;
    void *nums;
    size_t nums_cap;
    void *tdata;
} parser;

/* ---- errors ------------------------------------------------------------- */

static _Noreturn void __attribute__((format(printf, 4, 5)))
fail_at(parser *p, size_t line, size_t col, const char *fmt, ...) {
    int k = snprintf(p->err->msg, sizeof p->err->msg, "%zu:%zu: ", line, col);
    if (k > 0 && (size_t)k < sizeof p->err->msg) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err->msg + k, sizeof p->err->msg - (size_t)k, fmt, ap);
        va_end(ap);
    }
    longjmp(p->fail, 1);
}

#define fail_tok(p, t, ...) fail_at((p), (t)->line, (t)->col, __VA_ARGS__)

/* A token's text for messages, at most 60 bytes, non-printables as '?'. */
static const char *tok_text(const token *t, char buf[64]) {
    size_t n = t->len > 60 ? 57 : t->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t->p[i];
        buf[i] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
    }
    if (n < t->len) buf[n++] = '.', buf[n++] = '.', buf[n++] = '.';
    buf[n] = 0;
    return buf;
}

static void *xrealloc(void *ptr, size_t n) {
    void *r = realloc(ptr, n ? n : 1);
    if (!r) tb_die(__FILE__, __LINE__, "out of memory");
    return r;
}

/* Grows *buf to hold n elements of size elem. */
static void reserve(void **buf, size_t *cap, size_t n, size_t elem) {
    if (n <= *cap) return;
    size_t c = *cap ? *cap : 16;
    while (c < n) c *= 2;
    *buf = xrealloc(*buf, c * elem);
    *cap = c;
}

/* ---- lexer -------------------------------------------------------------- */

static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int is_alnum(int c) { return is_alpha(c) || is_digit(c); }
static int is_name_char(int c) { return is_alnum(c) || c == '.'; }
static int hex_val(int c) {
    if (is_digit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static size_t col_of(parser *p, const char *s) { return (size_t)(s - p->line_start) + 1; }

/* Scans a quoted string starting at the '"' at s; returns the position just
 * past the closing quote. Escapes are checked here so decoding cannot fail. */
static const char *scan_string(parser *p, const char *s) {
    const char *q = s + 1;
    for (;;) {
        if (q == p->end || *q == '\n')
            fail_at(p, p->line, col_of(p, s), "unterminated string");
        if (*q == '"') return q + 1;
        if (*q == 0) fail_at(p, p->line, col_of(p, q), "NUL byte in string");
        if (*q != '\\') {
            q++;
            continue;
        }
        if (q + 1 == p->end) fail_at(p, p->line, col_of(p, s), "unterminated string");
        char c = q[1];
        if (c == '"' || c == '\\' || c == 'n' || c == 't' || c == 'r') {
            q += 2;
        } else if (c == 'x') {
            if (p->end - q < 4 || hex_val((unsigned char)q[2]) < 0 || hex_val((unsigned char)q[3]) < 0)
                fail_at(p, p->line, col_of(p, q), "expected two hex digits after '\\x'");
            if (q[2] == '0' && q[3] == '0') fail_at(p, p->line, col_of(p, q), "'\\x00' is not allowed in a string");
            q += 4;
        } else {
            fail_at(p, p->line, col_of(p, q), "unknown escape sequence");
        }
    }
}

/* Scans a number starting at s: [+-]? then letters, digits, '.', '_', and a
 * sign right after an exponent 'e'; "nan(0x...)" includes its parentheses. */
static const char *scan_number(parser *p, const char *s) {
    const char *q = s;
    if (q < p->end && (*q == '+' || *q == '-')) q++;
    const char *body = q;
    int hex = p->end - q >= 2 && q[0] == '0' && (q[1] == 'x' || q[1] == 'X');
    while (q < p->end) {
        int c = (unsigned char)*q;
        if (is_name_char(c))
            q++;
        else if ((c == '+' || c == '-') && !hex && q > body && (q[-1] == 'e' || q[-1] == 'E'))
            q++;
        else
            break;
    }
    if (q - body == 3 && !memcmp(body, "nan", 3) && q < p->end && *q == '(') {
        const char *r = q + 1;
        while (r < p->end && is_alnum((unsigned char)*r)) r++;
        if (r == p->end || *r != ')') fail_at(p, p->line, col_of(p, r), "expected ')'");
        q = r + 1;
    }
    return q;
}

/* Reads the next token into p->tok. */
static void next(parser *p) {
    /* skip whitespace and comments */
    for (;;) {
        if (p->cur == p->end) break;
        char c = *p->cur;
        if (c == '\n') {
            p->line++;
            p->cur++;
            p->line_start = p->cur;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            p->cur++;
        } else if (c == '/' && p->end - p->cur >= 2 && p->cur[1] == '/') {
            const char *nl = memchr(p->cur, '\n', (size_t)(p->end - p->cur));
            p->cur = nl ? nl : p->end;
        } else {
            break;
        }
    }
    token *t = &p->tok;
    const char *s = p->cur;
    t->p = s;
    t->line = p->line;
    t->col = col_of(p, s);
    if (s == p->end) {
        t->kind = TK_EOF;
        t->len = 0;
        return;
    }
    int c = (unsigned char)*s;
    const char *q;
    if (c == '%' || c == '@') {
        t->kind = c == '%' ? TK_VALUE : TK_GNAME;
        q = s + 1;
        if (q < p->end && *q == '"') {
            q = scan_string(p, q);
        } else {
            while (q < p->end && is_name_char((unsigned char)*q)) q++;
            if (q == s + 1) fail_at(p, t->line, t->col, "expected a name after '%c'", c);
        }
    } else if (c == '"') {
        t->kind = TK_STR;
        q = scan_string(p, s);
    } else if (is_alpha(c)) {
        q = s;
        while (q < p->end && is_alnum((unsigned char)*q)) q++;
        t->kind = TK_IDENT;
        if (q - s == 3 && (!memcmp(s, "inf", 3) || !memcmp(s, "nan", 3))) {
            t->kind = TK_NUM;
            q = scan_number(p, s);
        }
    } else if (is_digit(c) || c == '+' || c == '-' ||
               (c == '.' && p->end - s >= 2 && is_digit((unsigned char)s[1]))) {
        t->kind = TK_NUM;
        q = scan_number(p, s);
    } else if (c == '.' && p->end - s >= 3 && s[1] == '.' && s[2] == '.') {
        t->kind = TK_ELLIPSIS;
        q = s + 3;
    } else if (strchr("(){}[]<>,=:?", c) && c) {
        t->kind = TK_PUNCT;
        q = s + 1;
    } else if (c >= 0x20 && c < 0x7f) {
        fail_at(p, t->line, t->col, "unexpected character '%c'", c);
    } else {
        fail_at(p, t->line, t->col, "unexpected byte 0x%02x", c);
    }
    t->len = (size_t)(q - s);
    p->cur = q;
}

static int is_punct(const token *t, char c) { return t->kind == TK_PUNCT && t->p[0] == c; }

static int is_kw(const token *t, const char *kw) {
    return t->kind == TK_IDENT && t->len == strlen(kw) && !memcmp(t->p, kw, t->len);
}

/* Consumes the punctuation c or fails with "expected 'c'". */
static void expect(parser *p, char c) {
    if (!is_punct(&p->tok, c)) fail_tok(p, &p->tok, "expected '%c'", c);
    next(p);
}

/* Decodes a STRING, VALUE or GNAME token into scratch buffer `which`
 * (NUL-terminated, valid until that buffer is reused). */
static char *decode(parser *p, const token *t, int which, size_t *len_out) {
    const char *s = t->p, *e = t->p + t->len;
    if (t->kind == TK_VALUE || t->kind == TK_GNAME) s++;
    size_t n = (size_t)(e - s);
    reserve((void **)&p->buf[which], &p->buf_cap[which], n + 1, 1);
    char *o = p->buf[which];
    size_t k = 0;
    if (s < e && *s == '"') {
        for (s++, e--; s < e; s++) {
            if (*s != '\\') {
                o[k++] = *s;
                continue;
            }
            char c = *++s;
            if (c == 'n') o[k++] = '\n';
            else if (c == 't') o[k++] = '\t';
            else if (c == 'r') o[k++] = '\r';
            else if (c == 'x') {
                o[k++] = (char)(hex_val((unsigned char)s[1]) * 16 + hex_val((unsigned char)s[2]));
                s += 2;
            } else o[k++] = c;
        }
    } else {
        memcpy(o, s, n);
        k = n;
    }
    o[k] = 0;
    if (len_out) *len_out = k;
    return o;
}

/* ---- value names ---------------------------------------------------------- */

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * UINT64_C(1099511628211);
    return h;
}

static int map_find(parser *p, const char *s, size_t n) {
    if (!p->map_cap) return -1;
    uint64_t h = hash_bytes(s, n);
    for (size_t i = (size_t)h & (p->map_cap - 1);; i = (i + 1) & (p->map_cap - 1)) {
        map_ent *e = &p->map[i];
        if (!e->name) return -1;
        if (e->hash == h && e->len == n && !memcmp(e->name, s, n)) return e->id;
    }
}

static void map_insert(map_ent *map, size_t cap, map_ent e) {
    size_t i = (size_t)e.hash & (cap - 1);
    while (map[i].name) i = (i + 1) & (cap - 1);
    map[i] = e;
}

/* Records the name of value id (already in the graph) for lookups. */
static void map_add(parser *p, int id) {
    if ((p->map_n + 1) * 2 > p->map_cap) {
        size_t cap = p->map_cap ? p->map_cap * 2 : 256;
        map_ent *m = calloc(cap, sizeof *m);
        if (!m) tb_die(__FILE__, __LINE__, "out of memory");
        for (size_t i = 0; i < p->map_cap; i++)
            if (p->map[i].name) map_insert(m, cap, p->map[i]);
        free(p->map);
        p->map = m;
        p->map_cap = cap;
    }
    const char *name = p->g->values[id].name;
    size_t n = strlen(name);
    map_insert(p->map, p->map_cap, (map_ent){name, n, hash_bytes(name, n), id});
    p->map_n++;
}

/* The decoded name of VALUE token t for a new definition (scratch buffer 0):
 * fails if it is empty or already defined. */
static const char *new_name(parser *p, const token *t) {
    char tmp[64];
    size_t n;
    const char *name = decode(p, t, 0, &n);
    if (!n) fail_tok(p, t, "empty value name");
    if (map_find(p, name, n) >= 0) fail_tok(p, t, "redefinition of value '%s'", tok_text(t, tmp));
    return name;
}

/* The id of the defined value named by VALUE token t. */
static int lookup(parser *p, const token *t) {
    char tmp[64];
    size_t n;
    const char *name = decode(p, t, 0, &n);
    int id = map_find(p, name, n);
    if (id < 0) fail_tok(p, t, "value '%s' used before definition", tok_text(t, tmp));
    return id;
}

/* ---- numbers -------------------------------------------------------------- */

static int is_int_text(const token *t) {
    size_t i = t->len && (t->p[0] == '+' || t->p[0] == '-');
    if (i == t->len) return 0;
    for (; i < t->len; i++)
        if (!is_digit((unsigned char)t->p[i])) return 0;
    return 1;
}

/* INT token -> sign and magnitude; fails on other tokens and on overflow. */
static void int_parts(parser *p, const token *t, int *neg, uint64_t *mag, const char *what) {
    char tmp[64];
    if (t->kind != TK_NUM) fail_tok(p, t, "expected an integer");
    if (!is_int_text(t)) fail_tok(p, t, "invalid integer '%s'", tok_text(t, tmp));
    size_t i = t->p[0] == '+' || t->p[0] == '-';
    *neg = t->p[0] == '-';
    uint64_t m = 0;
    for (; i < t->len; i++) {
        unsigned d = (unsigned)(t->p[i] - '0');
        if (m > (UINT64_MAX - d) / 10) fail_tok(p, t, "integer '%s' out of range for %s", tok_text(t, tmp), what);
        m = m * 10 + d;
    }
    *mag = m;
}

/* A signed integer in [lo, hi]; what names the type in messages. */
static int64_t num_int(parser *p, const token *t, int64_t lo, int64_t hi, const char *what) {
    char tmp[64];
    int neg;
    uint64_t mag;
    int_parts(p, t, &neg, &mag, what);
    int64_t v;
    if (!neg && mag <= (uint64_t)INT64_MAX)
        v = (int64_t)mag;
    else if (neg && mag <= (uint64_t)INT64_MAX)
        v = -(int64_t)mag;
    else if (neg && mag == (uint64_t)INT64_MAX + 1)
        v = INT64_MIN;
    else
        fail_tok(p, t, "integer '%s' out of range for %s", tok_text(t, tmp), what);
    if (v < lo || v > hi) fail_tok(p, t, "integer '%s' out of range for %s", tok_text(t, tmp), what);
    return v;
}

/* An unsigned integer in [0, hi]. */
static uint64_t num_uint(parser *p, const token *t, uint64_t hi, const char *what) {
    char tmp[64];
    int neg;
    uint64_t mag;
    int_parts(p, t, &neg, &mag, what);
    if ((neg && mag) || mag > hi) fail_tok(p, t, "integer '%s' out of range for %s", tok_text(t, tmp), what);
    return mag;
}

/* Copies a number token into buf (NUL-terminated) and returns the body after
 * the sign; handles the nan forms: returns 1 with *nan_bits set (width bits)
 * for "nan", "-nan" and "nan(0x...)". */
static int float_text(parser *p, const token *t, char buf[MAX_NUM_LEN + 1], int width, uint64_t *nan_bits) {
    char tmp[64];
    if (t->kind != TK_NUM) fail_tok(p, t, "expected a number");
    if (t->len > MAX_NUM_LEN) fail_tok(p, t, "number too long");
    memcpy(buf, t->p, t->len);
    buf[t->len] = 0;
    int neg = buf[0] == '-';
    const char *body = buf + (buf[0] == '-' || buf[0] == '+');
    if (strncmp(body, "nan", 3)) return 0;
    uint64_t quiet = width == 32 ? UINT64_C(0x7fc00000) : UINT64_C(0x7ff8000000000000);
    uint64_t sign = width == 32 ? UINT64_C(0x80000000) : UINT64_C(0x8000000000000000);
    if (!body[3]) {
        *nan_bits = quiet | (neg ? sign : 0);
        return 1;
    }
    /* nan(0xHEX): exact bits, no sign prefix */
    const char *h = body + 4;
    if (body != buf || body[3] != '(' || h[0] != '0' || (h[1] != 'x' && h[1] != 'X'))
        fail_tok(p, t, "invalid number '%s'", tok_text(t, tmp));
    uint64_t bits = 0;
    int nd = 0;
    for (h += 2; *h != ')'; h++, nd++) {
        int d = hex_val((unsigned char)*h);
        if (d < 0 || nd >= width / 4) fail_tok(p, t, "invalid number '%s'", tok_text(t, tmp));
        bits = bits << 4 | (uint64_t)d;
    }
    uint64_t exp = width == 32 ? UINT64_C(0x7f800000) : UINT64_C(0x7ff0000000000000);
    uint64_t frac = width == 32 ? UINT64_C(0x007fffff) : UINT64_C(0x000fffffffffffff);
    if (!nd || (bits & exp) != exp || !(bits & frac))
        fail_tok(p, t, "'%s' does not hold the bits of a NaN", tok_text(t, tmp));
    *nan_bits = bits;
    return 1;
}

/* Whether strtod/strtof's result overflowed: infinite but not spelled "inf". */
static int overflowed(const char *buf) {
    const char *b = buf + (buf[0] == '-' || buf[0] == '+');
    return *b != 'i' && *b != 'I';
}

static float num_f32(parser *p, const token *t) {
    char buf[MAX_NUM_LEN + 1], tmp[64];
    uint64_t bits;
    if (float_text(p, t, buf, 32, &bits)) {
        uint32_t b = (uint32_t)bits;
        float f;
        memcpy(&f, &b, sizeof f);
        return f;
    }
    char *e;
    float f = strtof(buf, &e);
    if (e != buf + t->len || isnan(f)) fail_tok(p, t, "invalid number '%s'", tok_text(t, tmp));
    if (isinf(f) && overflowed(buf)) fail_tok(p, t, "number '%s' out of range for f32", tok_text(t, tmp));
    return f;
}

static double num_f64(parser *p, const token *t) {
    char buf[MAX_NUM_LEN + 1], tmp[64];
    uint64_t bits;
    if (float_text(p, t, buf, 64, &bits)) {
        double f;
        memcpy(&f, &bits, sizeof f);
        return f;
    }
    char *e;
    double f = strtod(buf, &e);
    if (e != buf + t->len || isnan(f)) fail_tok(p, t, "invalid number '%s'", tok_text(t, tmp));
    if (isinf(f) && overflowed(buf)) fail_tok(p, t, "number '%s' out of range for f64", tok_text(t, tmp));
    return f;
}

/* ---- types and elements ----------------------------------------------------- */

typedef struct {
    token at; /* the dtype token, for messages */
    tb_dtype dtype;
    int rank; /* -1: unknown */
    int64_t dims[TB_MAX_RANK];
    int64_t numel;
    float scale;
    int32_t zero_point;
} ptype;

/* quant = "{" "scale" "=" number "," "zero_point" "=" INT "}" */
static void parse_quant(parser *p, ptype *t) {
    next(p);
    if (!is_kw(&p->tok, "scale")) fail_tok(p, &p->tok, "expected 'scale'");
    next(p);
    expect(p, '=');
    t->scale = num_f32(p, &p->tok);
    next(p);
    expect(p, ',');
    if (!is_kw(&p->tok, "zero_point")) fail_tok(p, &p->tok, "expected 'zero_point'");
    next(p);
    expect(p, '=');
    t->zero_point = (int32_t)num_int(p, &p->tok, INT32_MIN, INT32_MAX, "zero_point");
    next(p);
    expect(p, '}');
}

/* type = DTYPE "[" ("?" | [INT ("," INT)*]) "]" [quant]
 * allow_none: the element type may be "none" (graph inputs, node outputs). */
static void parse_type(parser *p, ptype *t, int allow_none) {
    char tmp[64];
    memset(t, 0, sizeof *t);
    t->at = p->tok;
    if (p->tok.kind != TK_IDENT) fail_tok(p, &p->tok, "expected a type");
    if (is_kw(&p->tok, "none")) {
        if (!allow_none) fail_tok(p, &p->tok, "a constant needs an element type");
        t->dtype = TB_DTYPE_NONE;
    } else {
        t->dtype = tb_dtype_from_name(p->tok.p, p->tok.len);
        if (t->dtype == TB_DTYPE_NONE) fail_tok(p, &p->tok, "unknown element type '%s'", tok_text(&p->tok, tmp));
    }
    next(p);
    expect(p, '[');
    t->numel = 1;
    if (is_punct(&p->tok, '?')) {
        t->rank = -1;
        t->numel = -1;
        next(p);
    } else if (!is_punct(&p->tok, ']')) {
        for (;;) {
            if (p->tok.kind != TK_NUM) fail_tok(p, &p->tok, "expected a dimension");
            if (t->rank == TB_MAX_RANK) fail_tok(p, &p->tok, "rank exceeds %d", TB_MAX_RANK);
            int64_t d = num_int(p, &p->tok, 0, INT64_MAX, "a dimension");
            /* the same left-to-right product as tb_value_numel, kept far
             * from overflow so that numel * element size fits too */
            if (d && t->numel > (INT64_MAX / 16) / d) fail_tok(p, &p->tok, "tensor type too large");
            t->numel *= d;
            t->dims[t->rank++] = d;
            next(p);
            if (!is_punct(&p->tok, ',')) break;
            next(p);
        }
    }
    expect(p, ']');
    if (is_punct(&p->tok, '{')) parse_quant(p, t);
}

/* elements = "[" [number ("," number)*] "]"
 * Stores exactly numel elements of dtype into out; out == NULL only checks
 * (used when the input is too short to hold numel elements, which then
 * fails without allocating the declared size). */
static void parse_elements(parser *p, tb_dtype dtype, int64_t numel, void *out) {
    const char *what = tb_dtype_name(dtype);
    expect(p, '[');
    if (p->tok.kind == TK_ELLIPSIS)
        fail_tok(p, &p->tok, "elided constant '[...]' (from tb_print_graph_elided) cannot be parsed");
    int64_t n = 0;
    if (!is_punct(&p->tok, ']')) {
        for (;;) {
            token *t = &p->tok;
            if (n == numel) fail_tok(p, t, "expected %" PRId64 " elements, got more", numel);
            if (out) {
                switch (dtype) {
                case TB_F32: ((float *)out)[n] = num_f32(p, t); break;
                case TB_F64: ((double *)out)[n] = num_f64(p, t); break;
                case TB_U8: ((uint8_t *)out)[n] = (uint8_t)num_uint(p, t, UINT8_MAX, what); break;
                case TB_I8: ((int8_t *)out)[n] = (int8_t)num_int(p, t, INT8_MIN, INT8_MAX, what); break;
                case TB_U16: ((uint16_t *)out)[n] = (uint16_t)num_uint(p, t, UINT16_MAX, what); break;
                case TB_I16: ((int16_t *)out)[n] = (int16_t)num_int(p, t, INT16_MIN, INT16_MAX, what); break;
                case TB_I32: ((int32_t *)out)[n] = (int32_t)num_int(p, t, INT32_MIN, INT32_MAX, what); break;
                case TB_I64: ((int64_t *)out)[n] = num_int(p, t, INT64_MIN, INT64_MAX, what); break;
                case TB_U32: ((uint32_t *)out)[n] = (uint32_t)num_uint(p, t, UINT32_MAX, what); break;
                case TB_U64: ((uint64_t *)out)[n] = num_uint(p, t, UINT64_MAX, what); break;
                case TB_BOOL: ((uint8_t *)out)[n] = (uint8_t)num_uint(p, t, 1, what); break;
                case TB_DTYPE_NONE:
                case TB_DTYPE_COUNT: fail_tok(p, t, "no elements for this type");
                }
            } else if (t->kind != TK_NUM) {
                fail_tok(p, t, "expected a number");
            }
            n++;
            next(p);
            if (!is_punct(&p->tok, ',')) break;
            next(p);
        }
    }
    if (!is_punct(&p->tok, ']')) fail_tok(p, &p->tok, "expected ']'");
    if (n != numel) fail_tok(p, &p->tok, "expected %" PRId64 " elements, got %" PRId64, numel, n);
    next(p);
}

/* Whether numel elements can fit in the rest of the input (each takes at
 * least a digit and a separator), so that allocating them is safe. */
static int elements_fit(parser *p, int64_t numel) {
    return numel <= (int64_t)((size_t)(p->end - p->tok.p) / 2);
}

/* ---- statements ---------------------------------------------------------- */

/* The value of `%name = const type elements` (VALUE token name, current
 * token "const"). */
static void parse_const(parser *p, const token *name) {
    next(p);
    ptype t;
    parse_type(p, &t, 0);
    if (t.rank < 0) fail_tok(p, &t.at, "a constant needs a known shape");
    if (!elements_fit(p, t.numel)) {
        parse_elements(p, t.dtype, t.numel, NULL); /* fails */
        fail_tok(p, &p->tok, "constant too large");
    }
    int id = tb_graph_add_const(p->g, new_name(p, name), t.dtype, t.rank, t.dims, NULL);
    tb_value *v = &p->g->values[id];
    v->scale = t.scale;
    v->zero_point = t.zero_point;
    map_add(p, id);
    parse_elements(p, t.dtype, t.numel, v->data);
}

/* attrval = number | STRING | "[" [number ("," number)*] "]"
 *         | "tensor" "<" type elements ">" */
static void parse_attr_value(parser *p, int node, const char *name) {
    tb_graph *g = p->g;
    token *t = &p->tok;
    if (t->kind == TK_NUM) {
        if (is_int_text(t))
            tb_node_set_int(g, node, name, num_int(p, t, INT64_MIN, INT64_MAX, "an int attribute"));
        else
            tb_node_set_float(g, node, name, num_f32(p, t));
        next(p);
    } else if (t->kind == TK_STR) {
        tb_node_set_string(g, node, name, decode(p, t, 0, NULL));
        next(p);
    } else if (is_punct(t, '[')) {
        next(p);
        size_t n = 0;
        int ints = 1;
        if (!is_punct(&p->tok, ']')) {
            for (;;) {
                if (p->tok.kind != TK_NUM) fail_tok(p, &p->tok, "expected a number");
                if (n == INT_MAX) fail_tok(p, &p->tok, "list too long");
                reserve((void **)&p->list, &p->list_cap, n + 1, sizeof *p->list);
                p->list[n++] = p->tok;
                ints &= is_int_text(&p->tok);
                next(p);
                if (!is_punct(&p->tok, ',')) break;
                next(p);
            }
        }
        expect(p, ']');
        reserve(&p->nums, &p->nums_cap, n * sizeof(int64_t), 1); /* bytes: fits floats too */
        for (size_t i = 0; i < n; i++) {
            if (ints)
                ((int64_t *)p->nums)[i] = num_int(p, &p->list[i], INT64_MIN, INT64_MAX, "an int attribute");
            else
                ((float *)p->nums)[i] = num_f32(p, &p->list[i]);
        }
        if (ints)
            tb_node_set_ints(g, node, name, (int)n, p->nums);
        else
            tb_node_set_floats(g, node, name, (int)n, p->nums);
    } else if (is_kw(t, "tensor")) {
        next(p);
        expect(p, '<');
        ptype ty;
        parse_type(p, &ty, 0);
        if (ty.rank < 0) fail_tok(p, &ty.at, "a tensor attribute needs a known shape");
        tb_value v;
        memset(&v, 0, sizeof v);
        v.name = "";
        v.dtype = ty.dtype;
        v.rank = ty.rank;
        memcpy(v.dims, ty.dims, sizeof v.dims);
        v.producer = -1;
        v.scale = ty.scale;
        v.zero_point = ty.zero_point;
        if (!elements_fit(p, ty.numel)) {
            parse_elements(p, ty.dtype, ty.numel, NULL); /* fails */
            fail_tok(p, &p->tok, "tensor too large");
        }
        size_t bytes = (size_t)ty.numel * tb_dtype_size(ty.dtype);
        p->tdata = calloc(1, bytes ? bytes : 1);
        if (!p->tdata) tb_die(__FILE__, __LINE__, "out of memory");
        parse_elements(p, ty.dtype, ty.numel, p->tdata);
        expect(p, '>');
        v.data = p->tdata;
        tb_node_set_tensor(g, node, name, &v);
        free(p->tdata);
        p->tdata = NULL;
    } else {
        fail_tok(p, t, "expected an attribute value");
    }
}

/* attrs = "{" [attr ("," attr)*] "}"
 * attr  = (IDENT | STRING) "=" attrval */
static void parse_attrs(parser *p, int node) {
    char tmp[64];
    next(p);
    if (!is_punct(&p->tok, '}')) {
        for (;;) {
            token at = p->tok;
            if (at.kind != TK_IDENT && at.kind != TK_STR) fail_tok(p, &at, "expected an attribute name");
            if (p->g->nodes[node].n_attrs == MAX_ATTRS) fail_tok(p, &at, "more than %d attributes", MAX_ATTRS);
            size_t n;
            const char *name;
            if (at.kind == TK_STR) {
                name = decode(p, &at, 1, &n);
            } else {
                reserve((void **)&p->buf[1], &p->buf_cap[1], at.len + 1, 1);
                memcpy(p->buf[1], at.p, at.len);
                p->buf[1][at.len] = 0;
                name = p->buf[1];
                n = at.len;
            }
            if (!n) fail_tok(p, &at, "empty attribute name");
            if (tb_node_attr(&p->g->nodes[node], name)) fail_tok(p, &at, "duplicate attribute '%s'", tok_text(&at, tmp));
            next(p);
            expect(p, '=');
            parse_attr_value(p, node, name);
            if (!is_punct(&p->tok, ',')) break;
            next(p);
        }
    }
    expect(p, '}');
}

/* The rest of a node statement, from its OP token:
 *   OP "(" [operand ("," operand)*] ")" [attrs] [":" type ("," type)*]
 *   ["loc" "(" STRING ")"]
 *   operand = VALUE | "none"
 * outs: the n_out output VALUE tokens before "=". */
static void parse_node(parser *p, const token *outs, int n_out) {
    char tmp[64];
    tb_graph *g = p->g;
    if (p->tok.kind != TK_IDENT) fail_tok(p, &p->tok, "expected an op name");
    tb_op op = tb_op_from_name(p->tok.p, p->tok.len);
    if (op == TB_OP_NONE) fail_tok(p, &p->tok, "unknown op '%s'", tok_text(&p->tok, tmp));
    next(p);
    expect(p, '(');
    int ins[TB_MAX_IO], n_in = 0;
    if (!is_punct(&p->tok, ')')) {
        for (;;) {
            if (n_in == TB_MAX_IO) fail_tok(p, &p->tok, "more than %d inputs", TB_MAX_IO);
            if (is_kw(&p->tok, "none"))
                ins[n_in++] = -1;
            else if (p->tok.kind == TK_VALUE)
                ins[n_in++] = lookup(p, &p->tok);
            else
                fail_tok(p, &p->tok, "expected a value or 'none'");
            next(p);
            if (!is_punct(&p->tok, ',')) break;
            next(p);
        }
    }
    expect(p, ')');

    /* Outputs are added below, by name: tb_graph_add_node's fresh output
     * names would cost a scan of every value per output. */
    int node = tb_graph_add_node(g, op, "", n_in, ins, 0);
    if (is_punct(&p->tok, '{')) parse_attrs(p, node);

    ptype types[TB_MAX_IO];
    int n_types = 0;
    if (is_punct(&p->tok, ':')) {
        token colon = p->tok;
        if (!n_out) fail_tok(p, &colon, "output types given for a node without outputs");
        next(p);
        for (;;) {
            if (n_types == TB_MAX_IO) fail_tok(p, &p->tok, "more than %d output types", TB_MAX_IO);
            parse_type(p, &types[n_types++], 1);
            if (!is_punct(&p->tok, ',')) break;
            next(p);
        }
        if (n_types != n_out)
            fail_tok(p, &colon, "node has %d output%s but %d type%s", n_out, n_out == 1 ? "" : "s", n_types,
                     n_types == 1 ? "" : "s");
    } else if (n_out) {
        fail_tok(p, &p->tok, "expected ':'");
    }

    if (is_kw(&p->tok, "loc")) {
        next(p);
        expect(p, '(');
        if (p->tok.kind != TK_STR) fail_tok(p, &p->tok, "expected a string");
        g->nodes[node].name = tb_strdup(g->pool, decode(p, &p->tok, 0, NULL));
        next(p);
        expect(p, ')');
    }

    for (int i = 0; i < n_out; i++) {
        int v = tb_graph_add_value(g, new_name(p, &outs[i]), types[i].dtype);
        tb_value *val = &g->values[v];
        val->rank = types[i].rank;
        memcpy(val->dims, types[i].dims, sizeof val->dims);
        val->scale = types[i].scale;
        val->zero_point = types[i].zero_point;
        val->producer = node;
        g->nodes[node].outputs[i] = v;
        g->nodes[node].n_outputs = i + 1;
        map_add(p, v);
    }
}

/* stmt = VALUE "=" "const" type elements
 *      | [VALUE ("," VALUE)* "="] node */
static void parse_stmt(parser *p) {
    if (p->tok.kind != TK_VALUE) {
        if (p->tok.kind != TK_IDENT) fail_tok(p, &p->tok, "expected a statement");
        parse_node(p, NULL, 0);
        return;
    }
    token outs[TB_MAX_IO];
    int n_out = 0;
    for (;;) {
        if (p->tok.kind != TK_VALUE) fail_tok(p, &p->tok, "expected a value name");
        if (n_out == TB_MAX_IO) fail_tok(p, &p->tok, "more than %d outputs", TB_MAX_IO);
        new_name(p, &p->tok); /* reports a redefinition at its first place */
        outs[n_out++] = p->tok;
        next(p);
        if (!is_punct(&p->tok, ',')) break;
        next(p);
    }
    expect(p, '=');
    if (is_kw(&p->tok, "const")) {
        if (n_out != 1) fail_tok(p, &p->tok, "a constant defines exactly one value");
        parse_const(p, &outs[0]);
    } else {
        parse_node(p, outs, n_out);
    }
}

/* param = VALUE ":" type */
static void parse_param(parser *p) {
    if (p->tok.kind != TK_VALUE) fail_tok(p, &p->tok, "expected a value name");
    token name = p->tok;
    new_name(p, &name);
    next(p);
    expect(p, ':');
    ptype t;
    parse_type(p, &t, 1);
    int id = tb_graph_add_input(p->g, new_name(p, &name), t.dtype, t.rank < 0 ? 0 : t.rank, t.dims);
    tb_value *v = &p->g->values[id];
    v->rank = t.rank;
    v->scale = t.scale;
    v->zero_point = t.zero_point;
    map_add(p, id);
}

/* file = "graph" GNAME "(" [param ("," param)*] ")" ["opset" INT]
 *        "{" stmt* "return" [VALUE ("," VALUE)*] "}" EOF */
static void parse_file(parser *p) {
    next(p);
    if (!is_kw(&p->tok, "graph")) fail_tok(p, &p->tok, "expected 'graph'");
    next(p);
    if (p->tok.kind != TK_GNAME) fail_tok(p, &p->tok, "expected a graph name '@name'");
    p->g = tb_graph_new(decode(p, &p->tok, 0, NULL));
    next(p);
    expect(p, '(');
    if (!is_punct(&p->tok, ')')) {
        for (;;) {
            parse_param(p);
            if (!is_punct(&p->tok, ',')) break;
            next(p);
        }
    }
    expect(p, ')');
    if (is_kw(&p->tok, "opset")) {
        next(p);
        p->g->opset = (int)num_int(p, &p->tok, 1, INT_MAX, "opset");
        next(p);
    }
    expect(p, '{');
    while (!is_kw(&p->tok, "return")) {
        if (p->tok.kind == TK_EOF || is_punct(&p->tok, '}')) fail_tok(p, &p->tok, "expected 'return'");
        parse_stmt(p);
    }
    next(p);
    if (p->tok.kind == TK_VALUE) {
        for (;;) {
            if (p->tok.kind != TK_VALUE) fail_tok(p, &p->tok, "expected a value name");
            tb_graph_mark_output(p->g, lookup(p, &p->tok));
            next(p);
            if (!is_punct(&p->tok, ',')) break;
            next(p);
        }
    }
    expect(p, '}');
    if (p->tok.kind != TK_EOF) fail_tok(p, &p->tok, "expected end of input after the graph");
}

static void parser_free(parser *p) {
    free(p->map);
    free(p->buf[0]);
    free(p->buf[1]);
    free(p->list);
    free(p->nums);
    free(p->tdata);
}

tb_graph *tb_parse_graph(const char *text, size_t len, tb_error *err) {
    parser *p = calloc(1, sizeof *p);
    if (!p) tb_die(__FILE__, __LINE__, "out of memory");
    p->start = p->cur = p->line_start = text ? text : "";
    p->end = p->start + (text ? len : 0);
    p->line = 1;
    p->err = err;
    err->msg[0] = 0;
    tb_graph *g = NULL;
    if (!setjmp(p->fail)) {
        parse_file(p);
        g = p->g;
    } else {
        tb_graph_free(p->g);
        g = NULL;
    }
    parser_free(p);
    free(p);
    return g;
}
