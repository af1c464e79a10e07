/* test_roundtrip.c - tests of the .tir printer, parser and the IR verifier.
 *
 *   test_roundtrip [FILE.tir | DIR]...
 *
 * Each file (a directory: each *.tir in it) is split into chunks at lines
 * "// -----"; line numbers in messages count from the chunk's first line.
 * A chunk's directives (comment lines) say what it must do:
 *   // expect-error: L:C: message     tb_parse_graph fails with exactly this
 *   // expect-verify-error: message   parses, round-trips, tb_verify fails so
 *   // expect-verify: ok              parses, round-trips, tb_verify passes
 *   // expect-canonical               print(parse(chunk)) is the chunk itself
 *                                     without its comment lines
 *   (none)                            parses and round-trips
 * Round trip: p1 = print(parse(text)), p2 = print(parse(p1)); p1 == p2 and
 * the two parsed graphs hold the same values (float bits included).
 * Valid chunks are also parsed truncated at every byte and with random byte
 * changes: the parser must fail cleanly ("L:C: ...") or succeed, never crash.
 *
 * Then built-in tests: exact float bits, names that need quoting, elided
 * printing, the verifier on graphs the parser cannot express, and timing on
 * a big constant and a long chain of nodes.
 * Prints "N passed, N failed"; exits 1 on any failure.
 */
#include "ir.h"

#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void tb_print_graph_elided(FILE *out, const tb_graph *g, int64_t max_const_elems);

static int n_pass, n_fail;

static void __attribute__((format(printf, 2, 3))) check(int ok, const char *fmt, ...) {
    if (ok) {
        n_pass++;
        return;
    }
    n_fail++;
    va_list ap;
    va_start(ap, fmt);
    fputs("FAIL: ", stdout);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- helpers ----------------------------------------------------------- */

static char *print_str(const tb_graph *g, int64_t elide, size_t *len) {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f) abort();
    tb_print_graph_elided(f, g, elide);
    fclose(f);
    if (len) *len = n;
    return buf;
}

/* "12:3: ..." */
static int well_formed_error(const char *msg) {
    const char *s = msg;
    if (*s < '1' || *s > '9') return 0;
    while (*s >= '0' && *s <= '9') s++;
    if (*s++ != ':' || *s < '1' || *s > '9') return 0;
    while (*s >= '0' && *s <= '9') s++;
    return s[0] == ':' && s[1] == ' ' && s[2];
}

static int same_value(const tb_value *a, const tb_value *b) {
    if (strcmp(a->name ? a->name : "", b->name ? b->name : "") || a->dtype != b->dtype || a->rank != b->rank)
        return 0;
    for (int k = 0; k < a->rank; k++)
        if (a->dims[k] != b->dims[k]) return 0;
    if (memcmp(&a->scale, &b->scale, sizeof a->scale) || a->zero_point != b->zero_point) return 0;
    if (!a->data != !b->data) return 0;
    return !a->data || !memcmp(a->data, b->data, tb_value_bytes(a));
}

static int same_attr(const tb_attr *a, const tb_attr *b) {
    if (strcmp(a->name, b->name) || a->kind != b->kind) return 0;
    switch (a->kind) {
    case TB_ATTR_INT: return a->i == b->i;
    case TB_ATTR_FLOAT: return !memcmp(&a->f, &b->f, sizeof a->f);
    case TB_ATTR_STRING: return !strcmp(a->s, b->s);
    case TB_ATTR_INTS: return a->n == b->n && (!a->n || !memcmp(a->ints, b->ints, (size_t)a->n * sizeof *a->ints));
    case TB_ATTR_FLOATS:
        return a->n == b->n && (!a->n || !memcmp(a->floats, b->floats, (size_t)a->n * sizeof *a->floats));
    case TB_ATTR_TENSOR: {
        tb_value x = *a->t, y = *b->t; /* a tensor attribute's name is not printed */
        x.name = y.name = "";
        return same_value(&x, &y);
    }
    }
    return 0;
}

/* The graphs hold the same values (matched by name), live nodes in the same
 * order with the same attributes, inputs and outputs. */
static int same_graph(tb_graph *a, tb_graph *b, char *why, size_t cap) {
#define DIFF(...) return snprintf(why, cap, __VA_ARGS__), 0
    if (strcmp(a->name, b->name)) DIFF("graph names differ");
    if (a->opset != b->opset) DIFF("opsets differ");
    int *map = malloc((size_t)(a->n_values + 1) * sizeof *map);
    for (int i = 0; i < a->n_values; i++) map[i] = tb_graph_find_value(b, a->values[i].name);
    int ok = 1;
    for (int i = 0; i < a->n_values && ok; i++) {
        /* values nothing refers to are not printed */
        if (map[i] < 0 && !a->values[i].data && tb_value_use_count(a, i) == 0 && a->values[i].producer < 0)
            continue;
        if (map[i] < 0 || !same_value(&a->values[i], &b->values[map[i]])) {
            snprintf(why, cap, "value '%s' differs", a->values[i].name);
            ok = 0;
        }
    }
    if (ok && (a->n_inputs != b->n_inputs || a->n_outputs != b->n_outputs)) {
        snprintf(why, cap, "graph input/output counts differ");
        ok = 0;
    }
    for (int k = 0; ok && k < a->n_inputs; k++)
        if (map[a->inputs[k]] != b->inputs[k]) snprintf(why, cap, "graph input %d differs", k), ok = 0;
    for (int k = 0; ok && k < a->n_outputs; k++)
        if (map[a->outputs[k]] != b->outputs[k]) snprintf(why, cap, "graph output %d differs", k), ok = 0;
    int j = 0;
    for (int i = 0; ok && i < a->n_nodes; i++) {
        tb_node *x = &a->nodes[i];
        if (x->dead) continue;
        while (j < b->n_nodes && b->nodes[j].dead) j++;
        if (j == b->n_nodes) {
            snprintf(why, cap, "node %d missing", i);
            ok = 0;
            break;
        }
        tb_node *y = &b->nodes[j++];
        int same = x->op == y->op && !strcmp(x->name, y->name) && x->n_inputs == y->n_inputs &&
                   x->n_outputs == y->n_outputs && x->n_attrs == y->n_attrs;
        for (int k = 0; same && k < x->n_inputs; k++)
            same = x->inputs[k] < 0 ? y->inputs[k] == -1 : map[x->inputs[k]] == y->inputs[k];
        for (int k = 0; same && k < x->n_outputs; k++) same = map[x->outputs[k]] == y->outputs[k];
        for (int k = 0; same && k < x->n_attrs; k++) same = same_attr(&x->attrs[k], &y->attrs[k]);
        if (!same) snprintf(why, cap, "node %d (%s) differs", i, tb_op_name(x->op)), ok = 0;
    }
    while (ok && j < b->n_nodes && b->nodes[j].dead) j++;
    if (ok && j != b->n_nodes) snprintf(why, cap, "extra nodes"), ok = 0;
    free(map);
    return ok;
#undef DIFF
}

/* Prints g, parses and prints again: same text, same graph. Returns the
 * first print (caller frees) or NULL. */
static char *roundtrip(tb_graph *g, const char *what) {
    size_t n1, n2;
    char *p1 = print_str(g, -1, &n1);
    tb_error err;
    tb_graph *g2 = tb_parse_graph(p1, n1, &err);
    check(g2 != NULL, "%s: printed text does not parse: %s\n--- text:\n%s", what, err.msg, p1);
    if (!g2) {
        free(p1);
        return NULL;
    }
    char *p2 = print_str(g2, -1, &n2);
    check(n1 == n2 && !memcmp(p1, p2, n1), "%s: second print differs\n--- first:\n%s--- second:\n%s", what, p1, p2);
    char why[256] = "";
    check(same_graph(g, g2, why, sizeof why), "%s: reparsed graph differs: %s", what, why);
    tb_graph_free(g2);
    free(p2);
    return p1;
}

/* ---- robustness -------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Parses text[0..len) from a buffer of exactly len bytes (so ASan sees any
 * read past the end); the result must be a graph or a well-formed error. */
static int parse_cleanly(const char *text, size_t len) {
    char *copy = malloc(len ? len : 1);
    memcpy(copy, text, len);
    tb_error err;
    tb_graph *g = tb_parse_graph(copy, len, &err);
    int ok = g ? 1 : well_formed_error(err.msg);
    if (!ok) printf("  bad error message '%s'\n", err.msg);
    if (g) {
        /* whatever parses must print and verify without crashing */
        free(print_str(g, -1, NULL));
        free(print_str(g, 2, NULL));
        tb_verify(g, &err);
    }
    tb_graph_free(g);
    free(copy);
    return ok;
}

static void fuzz_text(const char *text, size_t len, const char *what) {
    int ok = 1;
    for (size_t k = 0; k < len && ok; k++) ok = parse_cleanly(text, k);
    check(ok, "%s: a truncated text broke the parser", what);
    static const char alphabet[] = "%@\"\\[](){}<>,=:?.-+e0123456789x/\n ";
    char *m = malloc(len + 1);
    for (int round = 0; round < 300 && ok; round++) {
        memcpy(m, text, len);
        int edits = 1 + (int)(rnd() % 4);
        for (int e = 0; e < edits && len; e++) {
            size_t at = rnd() % len;
            m[at] = rnd() % 4 ? alphabet[rnd() % (sizeof alphabet - 1)] : (char)(rnd() & 0xff);
        }
        ok = parse_cleanly(m, len);
    }
    check(ok, "%s: a mutated text broke the parser", what);
    free(m);
}

/* ---- .tir files -------------------------------------------------------- */

/* The text after "// <key>" on one of the chunk's lines, up to the line end. */
static char *directive(const char *text, size_t len, const char *key) {
    size_t kl = strlen(key);
    for (size_t i = 0; i < len;) {
        const char *line = text + i;
        const char *nl = memchr(line, '\n', len - i);
        size_t ll = nl ? (size_t)(nl - line) : len - i;
        if (ll >= 3 + kl && !memcmp(line, "// ", 3) && !memcmp(line + 3, key, kl)) {
            const char *v = line + 3 + kl;
            size_t vl = ll - 3 - kl;
            while (vl && *v == ' ') v++, vl--;
            char *r = malloc(vl + 1);
            memcpy(r, v, vl);
            r[vl] = 0;
            return r;
        }
        i += ll + 1;
    }
    return NULL;
}

static void run_chunk(const char *text, size_t len, const char *what) {
    char *want_err = directive(text, len, "expect-error:");
    char *want_verr = directive(text, len, "expect-verify-error:");
    char *want_vok = directive(text, len, "expect-verify:");
    char *canonical = directive(text, len, "expect-canonical");
    tb_error err;
    tb_graph *g = tb_parse_graph(text, len, &err);
    if (want_err) {
        check(!g && !strcmp(err.msg, want_err), "%s: expected error '%s', got %s'%s'", what, want_err,
              g ? "success, " : "", g ? "" : err.msg);
        check(!g || well_formed_error(err.msg), "%s: malformed error message", what);
    } else if (!g) {
        check(0, "%s: parse failed: %s", what, err.msg);
    } else {
        char *p1 = roundtrip(g, what);
        if (canonical && p1) {
            /* the chunk without its comment lines */
            char *want = malloc(len + 1);
            size_t n = 0;
            for (size_t i = 0; i < len;) {
                const char *nl = memchr(text + i, '\n', len - i);
                size_t ll = nl ? (size_t)(nl - text - i) + 1 : len - i;
                if (!(ll >= 2 && text[i] == '/' && text[i + 1] == '/')) memcpy(want + n, text + i, ll), n += ll;
                i += ll;
            }
            want[n] = 0;
            check(!strcmp(p1, want), "%s: not canonical\n--- printed:\n%s--- file:\n%s", what, p1, want);
            free(want);
        }
        free(p1);
        if (want_verr || want_vok) {
            tb_error verr;
            int rc = tb_verify(g, &verr);
            if (want_verr)
                check(rc && !strcmp(verr.msg, want_verr), "%s: expected verify error '%s', got %s'%s'", what,
                      want_verr, rc ? "" : "success, ", rc ? verr.msg : "");
            else
                check(!rc, "%s: verify failed: %s", what, verr.msg);
        }
        fuzz_text(text, len, what);
    }
    tb_graph_free(g);
    free(want_err);
    free(want_verr);
    free(want_vok);
    free(canonical);
}

static void run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        check(0, "%s: cannot open", path);
        return;
    }
    char *text = NULL;
    size_t len = 0, cap = 0, got;
    do {
        if (cap - len < 65536) text = realloc(text, cap = cap * 2 + 65536);
        got = fread(text + len, 1, cap - len, f);
        len += got;
    } while (got);
    fclose(f);
    /* split at "// -----" lines */
    size_t start = 0;
    int chunk = 0;
    for (size_t i = 0; i <= len;) {
        const char *nl = i < len ? memchr(text + i, '\n', len - i) : NULL;
        size_t ll = nl ? (size_t)(nl - text - i) : len - i;
        int sep = ll >= 8 && !memcmp(text + i, "// -----", 8);
        if (sep || i >= len) {
            char what[512];
            snprintf(what, sizeof what, "%s#%d", path, chunk++);
            /* an exact-size copy, so reads past the end are caught */
            size_t n = i - start;
            char *c = malloc(n ? n : 1);
            memcpy(c, text + start, n);
            run_chunk(c, n, what);
            free(c);
            if (i >= len) break;
            start = i + ll + 1;
        }
        i += ll + 1;
    }
    free(text);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void run_path(const char *path) {
    DIR *d = opendir(path);
    if (!d) {
        run_file(path);
        return;
    }
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l > 4 && !strcmp(e->d_name + l - 4, ".tir")) {
            names = realloc(names, (n + 1) * sizeof *names);
            names[n] = malloc(strlen(path) + l + 2);
            sprintf(names[n++], "%s/%s", path, e->d_name);
        }
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        run_file(names[i]);
        free(names[i]);
    }
    free(names);
}

/* ---- built-in tests ---------------------------------------------------- */

static void test_float_bits(void) {
    enum { N = 20000 };
    static const uint32_t special32[] = {
        0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x007fffff, 0x00800000, 0x7f7fffff, 0xff7fffff,
        0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fc00001, 0x7f800001, 0xffffffff, 0x7fffffff,
        0x3f800000, 0x3dcccccd, 0x4b000000, 0x4b800000, 0x5a0e1bca, 0x3eaaaaab, 0x33d6bf95, 0x4cbebc20,
    };
    static const uint64_t special64[] = {
        0, UINT64_C(0x8000000000000000), 1, UINT64_C(0x000fffffffffffff), UINT64_C(0x7fefffffffffffff),
        UINT64_C(0x7ff0000000000000), UINT64_C(0xfff0000000000000), UINT64_C(0x7ff8000000000000),
        UINT64_C(0xfff8000000000000), UINT64_C(0x7ff0000000000001), UINT64_C(0xffffffffffffffff),
        UINT64_C(0x3fb999999999999a), UINT64_C(0x3ff0000000000000), UINT64_C(0x4340000000000000),
    };
    uint32_t *b32 = malloc(N * sizeof *b32);
    uint64_t *b64 = malloc(N * sizeof *b64);
    for (int i = 0; i < N; i++) {
        size_t n32 = sizeof special32 / sizeof *special32, n64 = sizeof special64 / sizeof *special64;
        b32[i] = i < (int)n32 ? special32[i] : (uint32_t)rnd();
        b64[i] = i < (int)n64 ? special64[i] : rnd();
        /* plenty of "round" values too */
        if (i % 7 == 3) {
            float f = (float)((int)(rnd() % 2001) - 1000) / (float)(1 << (rnd() % 12));
            memcpy(&b32[i], &f, 4);
            double d = (double)((int)(rnd() % 2001) - 1000) * pow(10.0, (double)(int)(rnd() % 40) - 20);
            memcpy(&b64[i], &d, 8);
        }
    }
    tb_graph *g = tb_graph_new("bits");
    int x = tb_graph_add_input(g, "x", TB_F32, 1, (int64_t[]){N});
    int c32 = tb_graph_add_const(g, "c32", TB_F32, 1, (int64_t[]){N}, b32);
    int c64 = tb_graph_add_const(g, "c64", TB_F64, 1, (int64_t[]){N}, b64);
    g->values[c32].scale = 0.1f;
    g->values[c32].zero_point = -7;
    int n = tb_graph_add_node(g, TB_OP_ADD, "add", 2, (int[]){x, c32}, 1);
    float fl[64];
    memcpy(fl, b32, sizeof fl);
    tb_node_set_floats(g, n, "fs", 64, fl);
    for (int i = 0; i < 24; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%d", i);
        float f;
        memcpy(&f, &special32[i], 4);
        tb_node_set_float(g, n, name, f);
    }
    tb_value t = g->values[c64];
    t.name = "t";
    tb_node_set_tensor(g, n, "t", &t);
    tb_value *y = &g->values[g->nodes[n].outputs[0]];
    y->dtype = TB_F32;
    y->rank = 1;
    y->dims[0] = N;
    tb_graph_mark_output(g, g->nodes[n].outputs[0]);
    tb_graph_mark_output(g, c64);
    free(roundtrip(g, "float bits"));

    /* the shortest form: no shorter %.*e reads back exactly, and it looks like a float */
    size_t len;
    char *text = print_str(g, -1, &len);
    tb_error err;
    tb_graph *g2 = tb_parse_graph(text, len, &err);
    int shortest = g2 != NULL;
    static const char header[] = "%c32 = const f32[20000]{scale = 0.1, zero_point = -7} [";
    const char *s = strstr(text, header);
    check(s != NULL, "float bits: constant header");
    if (s) s += strlen(header) - 1;
    for (int i = 0; s && i < N && shortest; i++) {
        s = strchr(s, i ? ',' : '[') + 1;
        while (*s == ' ') s++;
        size_t l = strcspn(s, ",]");
        float f;
        memcpy(&f, &b32[i], 4);
        if (isnan(f) || isinf(f) || f == 0) continue;
        char buf[64];
        /* count significant digits printed */
        int digits = 0, seen = 0, trailing = 0;
        for (size_t k = 0; k < l && s[k] != 'e'; k++) {
            if (s[k] >= '1' && s[k] <= '9') seen = 1;
            if (seen && s[k] >= '0' && s[k] <= '9') digits++, trailing = s[k] == '0' ? trailing + 1 : 0;
        }
        if (!memchr(s, 'e', l)) digits -= trailing;
        if (digits > 1) {
            snprintf(buf, sizeof buf, "%.*e", digits - 2, (double)f);
            float r = strtof(buf, NULL);
            if (!memcmp(&r, &f, 4) && digits > 1) {
                printf("  not shortest: %.*s (%s reads back)\n", (int)l, s, buf);
                shortest = 0;
            }
        }
        if (!memchr(s, '.', l) && !memchr(s, 'e', l)) {
            printf("  does not look like a float: %.*s\n", (int)l, s);
            shortest = 0;
        }
    }
    check(shortest, "float bits: shortest decimal");
    check(strstr(text, "nan(0x7fc00001)") && strstr(text, "nan(0x7ff0000000000001)") &&
              strstr(text, "f0 = 0.0, f1 = -0.0") && strstr(text, "f10 = nan, f11 = -nan"),
          "float bits: special spellings");
    tb_graph_free(g2);
    free(text);
    tb_graph_free(g);
    free(b32);
    free(b64);
}

static void test_names(void) {
    static const char *names[] = {
        "a b", "q\"uote", "back\\slash", "new\nline", "\x01\x1f\x7f", "utf8-\xc3\xa9", "123", "..", "x.y_Z9",
        "%pct", "@at", "tab\there", "} return", "-1",
    };
    int nn = (int)(sizeof names / sizeof *names);
    tb_graph *g = tb_graph_new("g \"quoted\"\n");
    int prev = tb_graph_add_input(g, names[0], TB_F32, 2, (int64_t[]){2, 3});
    for (int i = 1; i < nn; i++) {
        int n = tb_graph_add_node(g, TB_OP_RELU, names[nn - i], 1, &prev, 1);
        prev = g->nodes[n].outputs[0];
        g->values[prev].name = tb_strdup(g->pool, names[i]);
        g->values[prev].dtype = TB_F32;
        g->values[prev].rank = 2;
        g->values[prev].dims[0] = 2;
        g->values[prev].dims[1] = 3;
        char all[256];
        for (int k = 1; k < 256; k++) all[k - 1] = (char)k;
        all[255] = 0;
        tb_node_set_string(g, n, "s", all);
        tb_node_set_int(g, n, names[i], i); /* odd attribute names */
    }
    tb_node_set_int(g, 0, "inf", 1);
    tb_node_set_int(g, 0, "nan", 2);
    tb_node_set_int(g, 0, "_9", 3);
    tb_graph_mark_output(g, prev);
    char *p = roundtrip(g, "names");
    check(p && strstr(p, "graph @\"g \\\"quoted\\\"\\n\"(%\"a b\": f32[2,3])") && strstr(p, "%123 = ") &&
              strstr(p, "%\"\\x01\\x1f\\x7f\" = ") && strstr(p, "\"inf\" = 1, \"nan\" = 2, _9 = 3"),
          "names: quoting\n%s", p ? p : "");
    free(p);
    tb_graph_free(g);
}

static void test_elided(void) {
    tb_graph *g = tb_graph_new("e");
    float w[100] = {0};
    int c = tb_graph_add_const(g, "w", TB_F32, 2, (int64_t[]){10, 10}, w);
    int s = tb_graph_add_const(g, "s", TB_I64, 1, (int64_t[]){2}, (int64_t[]){10, 10});
    int n = tb_graph_add_node(g, TB_OP_CONSTANTOFSHAPE, "", 1, &s, 1);
    tb_value t = g->values[c];
    tb_node_set_tensor(g, n, "value", &t);
    g->values[g->nodes[n].outputs[0]].dtype = TB_F32;
    g->values[g->nodes[n].outputs[0]].rank = 0;
    tb_graph_mark_output(g, c);
    tb_graph_mark_output(g, g->nodes[n].outputs[0]);
    size_t l1, l2, l3;
    char *full = print_str(g, -1, &l1), *big = print_str(g, 100, &l2), *el = print_str(g, 10, &l3);
    check(l1 == l2 && !memcmp(full, big, l1), "elided: nothing elided at the limit");
    check(strstr(el, "%w = const f32[10,10] [...]") && strstr(el, "tensor<f32[10,10] [...]>") &&
              strstr(el, "%s = const i64[2] [10, 10]") && !strncmp(el, "// ", 3),
          "elided: text\n%s", el);
    tb_error err;
    tb_graph *g2 = tb_parse_graph(el, l3, &err);
    check(!g2 && !strcmp(err.msg, "3:26: elided constant '[...]' (from tb_print_graph_elided) cannot be parsed"),
          "elided: parse error '%s'", err.msg);
    tb_graph_free(g2);
    free(full);
    free(big);
    free(el);
    tb_graph_free(g);
}

/* Dead nodes are skipped; a node without outputs and an empty float list
 * (read back as ints, as documented) print as expected. */
static void test_printer_misc(void) {
    tb_graph *g = tb_graph_new("m");
    int x = tb_graph_add_input(g, "x", TB_F32, 1, (int64_t[]){4});
    int a = tb_graph_add_node(g, TB_OP_RELU, "dead one", 1, &x, 1);
    int b = tb_graph_add_node(g, TB_OP_IDENTITY, "", 1, &x, 0);
    tb_node_set_floats(g, b, "e", 0, NULL);
    g->nodes[a].dead = 1;
    tb_graph_mark_output(g, x);
    size_t l;
    char *p = print_str(g, -1, &l);
    check(!strcmp(p, "graph @m(%x: f32[4]) {\n  Identity(%x) {e = []}\n  return %x\n}\n"), "printer misc:\n%s", p);
    tb_error err;
    tb_graph *g2 = tb_parse_graph(p, l, &err);
    check(g2 && g2->nodes[0].attrs[0].kind == TB_ATTR_INTS, "printer misc: [] reads as ints");
    tb_graph_free(g2);
    free(p);
    tb_graph_free(g);
}

/* ---- verifier ----------------------------------------------------------- */

/* x -> Relu -> Add(r, c) -> Relu -> out, all f32[2,3]. */
static tb_graph *vgraph(void) {
    tb_graph *g = tb_graph_new("v");
    int64_t d[2] = {2, 3};
    int x = tb_graph_add_input(g, "x", TB_F32, 2, d);
    float cd[6] = {1, 2, 3, 4, 5, 6};
    int c = tb_graph_add_const(g, "c", TB_F32, 2, d, cd);
    int n0 = tb_graph_add_node(g, TB_OP_RELU, "r0", 1, &x, 1);
    int r = g->nodes[n0].outputs[0];
    int n1 = tb_graph_add_node(g, TB_OP_ADD, "add", 2, (int[]){r, c}, 1);
    int s = g->nodes[n1].outputs[0];
    int n2 = tb_graph_add_node(g, TB_OP_RELU, "", 1, &s, 1);
    int y = g->nodes[n2].outputs[0];
    for (int v = 0; v < g->n_values; v++) {
        g->values[v].dtype = TB_F32;
        g->values[v].rank = 2;
        memcpy(g->values[v].dims, d, sizeof d);
    }
    tb_graph_mark_output(g, y);
    return g;
}

static void expect_verify(tb_graph *g, const char *want, const char *what) {
    tb_error err;
    int rc = tb_verify(g, &err);
    if (!want)
        check(!rc, "verify %s: unexpected error '%s'", what, err.msg);
    else
        check(rc && strstr(err.msg, want), "verify %s: expected '%s', got '%s'", what, want, rc ? err.msg : "success");
    tb_graph_free(g);
}

static void test_verify(void) {
    tb_graph *g;
    expect_verify(vgraph(), NULL, "valid");

    g = vgraph();
    g->nodes[1].inputs[1] = 99;
    expect_verify(g, "node 'add' (Add): input 1 has an invalid value id 99", "bad input id");

    g = vgraph();
    g->outputs[0] = -2;
    expect_verify(g, "graph output 0 has an invalid value id -2", "bad output id");

    g = vgraph();
    g->nodes[0].op = (tb_op)999;
    expect_verify(g, "invalid op 999", "bad op");

    g = vgraph();
    g->values[3].rank = 9;
    expect_verify(g, "invalid rank 9", "bad rank");

    g = vgraph(); /* Add before the Relu producing its input */
    tb_node tmp = g->nodes[0];
    g->nodes[0] = g->nodes[1];
    g->nodes[1] = tmp;
    g->values[g->nodes[0].outputs[0]].producer = 0;
    g->values[g->nodes[1].outputs[0]].producer = 1;
    expect_verify(g, "node 'add' (Add): input 0 '2' is produced by later node 'r0' (not in topological order)",
                  "order");

    g = vgraph();
    g->nodes[0].dead = 1;
    expect_verify(g, "node 'add' (Add): input 0 '2' is an output of dead node 'r0'", "dead producer");

    g = vgraph(); /* a dead node whose output is still a graph output */
    g->nodes[2].dead = 1;
    expect_verify(g, "graph output '4' is an output of dead node #2", "dead graph output");

    g = vgraph(); /* dead duplicates of a live producer are fine (fusion leaves them) */
    tb_graph_add_node(g, TB_OP_RELU, "old", 1, (int[]){0}, 0);
    g->nodes[3].n_outputs = 1;
    g->nodes[3].outputs[0] = 3;
    g->nodes[3].dead = 1;
    expect_verify(g, NULL, "dead second producer");

    g = vgraph();
    g->values[2].producer = 2;
    expect_verify(g, "node 'r0' (Relu): output 0 '2' records node #2 as its producer", "producer field");

    g = vgraph();
    g->values[3].producer = -1;
    expect_verify(g, "node 'add' (Add): output 0 '3' records no node as its producer", "producer field -1");

    g = vgraph(); /* two live producers */
    g->nodes[2].outputs[0] = 3;
    expect_verify(g, "node #2 (Relu): output 0 '3' is also an output of node 'add'", "two producers");

    g = vgraph();
    g->nodes[0].outputs[0] = 0;
    expect_verify(g, "node 'r0' (Relu): output 0 'x' is a graph input", "output is input");

    g = vgraph();
    g->nodes[0].outputs[0] = 1;
    g->values[1].producer = 0;
    expect_verify(g, "value 'c' is a constant but is produced by a node", "output is constant");

    g = vgraph();
    g->values[3].name = "c";
    expect_verify(g, "value name 'c' is used by values 1 and 3", "duplicate name");

    g = vgraph(); /* a value read with no producer, not an input, no data */
    g->values[1].data = NULL;
    expect_verify(g, "node 'add' (Add): input 1 'c' is not defined (no producer, not a graph input, no data)", "undefined");

    g = vgraph();
    g->values[0].rank = -1;
    expect_verify(g, "node 'r0' (Relu): input 0 'x' has an unknown shape", "unknown shape");

    g = vgraph();
    g->values[1].dtype = TB_DTYPE_NONE;
    expect_verify(g, "constant 'c' has no element type", "const without dtype");

    g = vgraph();
    tb_graph_mark_output(g, tb_graph_add_value(g, "loose", TB_F32));
    expect_verify(g, "graph output 'loose' is not defined (no producer, not a graph input, no data)", "undefined graph output");

    g = vgraph();
    tb_graph_add_input(g, "x2", TB_F32, 0, NULL);
    g->inputs[1] = 0;
    expect_verify(g, "value 'x' is listed twice as a graph input", "input twice");

    /* shapes: the wrong type is reported and left in place */
    g = vgraph();
    g->values[4].dims[1] = 4;
    tb_error err;
    int rc = tb_verify(g, &err);
    check(rc && !strcmp(err.msg, "node #2 (Relu): output 0 has type f32[2,4] but inference gives f32[2,3]") &&
              g->values[4].dims[1] == 4,
          "verify shapes: got '%s'", rc ? err.msg : "success");
    tb_graph_free(g);

    g = vgraph();
    tb_node_set_int(g, 1, "axis", 1);
    g->nodes[1].attrs[0].kind = (tb_attr_kind)42;
    expect_verify(g, "node 'add' (Add): attribute 0 'axis' is malformed", "bad attribute");

    /* verification leaves the graph as it was, though inference normalises
     * Conv's attributes */
    static const char conv[] = "graph @c(%x: f32[1,1,4,4]) {\n"
                               "  %w = const f32[1,1,1,1] [2.0]\n"
                               "  %y = Conv(%x, %w) {auto_pad = \"SAME_UPPER\"} : f32[1,1,4,4]\n"
                               "  return %y\n"
                               "}\n";
    g = tb_parse_graph(conv, sizeof conv - 1, &err);
    check(g != NULL, "verify conv: parse: %s", err.msg);
    if (g) {
        rc = tb_verify(g, &err);
        check(!rc, "verify conv: %s", err.msg);
        char *p = print_str(g, -1, NULL);
        check(!strcmp(p, conv), "verify conv: graph changed:\n%s", p);
        free(p);
        tb_graph_free(g);
    }

    g = vgraph();
    g->values[3].dtype = TB_I64;
    expect_verify(g, "node 'add' (Add): output 0 has type i64[2,3] but inference gives f32[2,3]", "dtype");
}

/* ---- size ----------------------------------------------------------------- */

static void test_big(void) {
    enum { N = 1 << 20, CHAIN = 20000 };
    float *w = malloc(N * sizeof *w);
    for (int i = 0; i < N; i++) {
        uint32_t b = (uint32_t)rnd();
        b = (b & 0x807fffffu) | (uint32_t)(100 + b % 40) << 23;
        memcpy(&w[i], &b, 4);
    }
    tb_graph *g = tb_graph_new("big");
    int x = tb_graph_add_input(g, "x", TB_F32, 1, (int64_t[]){4});
    tb_graph_add_const(g, "w", TB_F32, 2, (int64_t[]){1024, 1024}, w);
    int prev = x;
    for (int i = 0; i < CHAIN; i++) {
        char name[32];
        snprintf(name, sizeof name, "relu_%d", i);
        /* add outputs by name: the fresh names of tb_graph_add_node cost a
         * scan each, which would dominate this test */
        int n = tb_graph_add_node(g, TB_OP_RELU, name, 1, &prev, 0);
        snprintf(name, sizeof name, "v%d", i);
        int v = tb_graph_add_value(g, name, TB_F32);
        g->values[v].rank = 1;
        g->values[v].dims[0] = 4;
        g->values[v].producer = n;
        g->nodes[n].n_outputs = 1;
        g->nodes[n].outputs[0] = v;
        prev = v;
    }
    tb_graph_mark_output(g, prev);
    double t0 = now();
    size_t len;
    char *text = print_str(g, -1, &len);
    double t1 = now();
    tb_error err;
    tb_graph *g2 = tb_parse_graph(text, len, &err);
    double t2 = now();
    check(g2 != NULL, "big: parse: %s", err.msg);
    char why[256] = "";
    check(g2 && same_graph(g, g2, why, sizeof why), "big: graphs differ: %s", why);
    double t3 = now();
    if (g2) check(!tb_verify(g2, &err), "big: verify: %s", err.msg);
    double t4 = now();
    fprintf(stderr, "big: %zu bytes (%d floats, %d nodes): print %.2fs, parse %.2fs, verify %.2fs\n", len, N, CHAIN,
            t1 - t0, t2 - t1, t4 - t3);
    tb_graph_free(g2);
    free(text);
    tb_graph_free(g);
    free(w);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) run_path(argv[i]);
    test_float_bits();
    test_names();
    test_elided();
    test_printer_misc();
    test_verify();
    test_big();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
