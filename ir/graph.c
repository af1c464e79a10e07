/* graph.c - building and editing the graph IR: pool, values, nodes, attributes. */
#include "ir.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- pool: a list of blocks, freed together --------------------------- */
struct tb_pool {
    struct block *head;
};
struct block {
    struct block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

tb_pool *tb_pool_new(void) {
    tb_pool *p = calloc(1, sizeof *p);
    if (!p) tb_die(__FILE__, __LINE__, "out of memory");
    return p;
}

void tb_pool_free(tb_pool *p) {
    if (!p) return;
    for (struct block *b = p->head, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(p);
}

void *tb_alloc(tb_pool *p, size_t n) {
    n = (n + 15) & ~(size_t)15;
    struct block *b = p->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        b = malloc(sizeof *b + cap);
        if (!b) tb_die(__FILE__, __LINE__, "out of memory");
        b->cap = cap;
        b->used = 0;
        /* A large one-off allocation goes behind the current block so the
         * current block's free space is not wasted. */
        if (p->head && n > 65536) {
            b->next = p->head->next;
            p->head->next = b;
        } else {
            b->next = p->head;
            p->head = b;
        }
    }
    void *r = b->data + b->used;
    b->used += n;
    memset(r, 0, n);
    return r;
}

char *tb_strndup(tb_pool *p, const char *s, size_t n) {
    char *r = tb_alloc(p, n + 1);
    memcpy(r, s, n);
    r[n] = 0;
    return r;
}

char *tb_strdup(tb_pool *p, const char *s) { return tb_strndup(p, s, strlen(s)); }

/* ---- dtypes and ops --------------------------------------------------- */
static const struct {
    const char *name, *ctype;
    int onnx;
    size_t size;
} dtypes[TB_DTYPE_COUNT] = {
    [TB_DTYPE_NONE] = {"none", "void", 0, 0},
#define DTYPE(id, text, onnx, size, ctype) [TB_##id] = {text, #ctype, onnx, size},
#include "dtypes.def"
#undef DTYPE
};

const char *tb_dtype_name(tb_dtype t) { return dtypes[t].name; }
const char *tb_dtype_ctype(tb_dtype t) { return dtypes[t].ctype; }
size_t tb_dtype_size(tb_dtype t) { return dtypes[t].size; }

tb_dtype tb_dtype_from_onnx(int onnx_type) {
    for (int t = 1; t < TB_DTYPE_COUNT; t++)
        if (dtypes[t].onnx == onnx_type) return (tb_dtype)t;
    return TB_DTYPE_NONE;
}

int tb_dtype_onnx(tb_dtype t) { return dtypes[t].onnx; }

tb_dtype tb_dtype_from_name(const char *s, size_t len) {
    for (int t = 1; t < TB_DTYPE_COUNT; t++)
        if (strlen(dtypes[t].name) == len && !memcmp(dtypes[t].name, s, len)) return (tb_dtype)t;
    return TB_DTYPE_NONE;
}

static const char *const op_names[TB_OP_COUNT] = {
    [TB_OP_NONE] = "none",
#define OP(id, onnx, stem) [TB_OP_##id] = onnx,
#include "ops.def"
#undef OP
};

const char *tb_op_name(tb_op op) { return op_names[op]; }

tb_op tb_op_from_name(const char *s, size_t len) {
    for (int op = 1; op < TB_OP_COUNT; op++)
        if (strlen(op_names[op]) == len && !memcmp(op_names[op], s, len)) return (tb_op)op;
    return TB_OP_NONE;
}

/* ---- diagnostics ------------------------------------------------------ */
int tb_error_set(tb_error *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return 1;
}

int tb_node_verror(tb_error *err, const char *name, const char *op_type, const char *fmt, va_list ap) {
    int k = snprintf(err->msg, sizeof err->msg, "node '%s' (%s): ", name, op_type);
    if (k >= 0 && (size_t)k < sizeof err->msg) vsnprintf(err->msg + k, sizeof err->msg - (size_t)k, fmt, ap);
    return 1;
}

int tb_node_error(tb_error *err, const tb_node *n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    tb_node_verror(err, n->name, tb_op_name(n->op), fmt, ap);
    va_end(ap);
    return 1;
}

_Noreturn void tb_die(const char *file, int line, const char *what) {
    fprintf(stderr, "%s:%d: internal error: %s\n", file, line, what);
    abort();
}

/* ---- graph ------------------------------------------------------------ */
tb_graph *tb_graph_new(const char *name) {
    tb_pool *pool = tb_pool_new();
    tb_graph *g = tb_alloc(pool, sizeof *g);
    g->pool = pool;
    g->name = tb_strdup(pool, name ? name : "graph");
    return g;
}

void tb_graph_free(tb_graph *g) {
    if (!g) return;
    free(g->values);
    free(g->nodes);
    free(g->inputs);
    free(g->outputs);
    tb_pool_free(g->pool);
}

static void *grow(void *arr, int *cap, int need, size_t elem) {
    if (need <= *cap) return arr;
    int c = *cap ? *cap * 2 : 16;
    while (c < need) c *= 2;
    void *r = realloc(arr, (size_t)c * elem);
    if (!r) tb_die(__FILE__, __LINE__, "out of memory");
    memset((char *)r + (size_t)*cap * elem, 0, (size_t)(c - *cap) * elem);
    *cap = c;
    return r;
}

int tb_graph_add_value(tb_graph *g, const char *name, tb_dtype dtype) {
    g->values = grow(g->values, &g->cap_values, g->n_values + 1, sizeof *g->values);
    int id = g->n_values++;
    tb_value *v = &g->values[id];
    memset(v, 0, sizeof *v);
    if (name && *name) {
        v->name = tb_strdup(g->pool, name);
    } else {
        /* ONNX names can be digits too ("2"): step around any taken name. */
        char buf[32];
        snprintf(buf, sizeof buf, "%d", id);
        for (int k = 1; tb_graph_find_value(g, buf) >= 0; k++) snprintf(buf, sizeof buf, "%d_%d", id, k);
        v->name = tb_strdup(g->pool, buf);
    }
    v->dtype = dtype;
    v->rank = -1;
    v->producer = -1;
    return id;
}

static int add_shaped(tb_graph *g, const char *name, tb_dtype dtype, int rank, const int64_t *dims) {
    TB_ASSERT(rank >= 0 && rank <= TB_MAX_RANK);
    int id = tb_graph_add_value(g, name, dtype);
    tb_value *v = &g->values[id];
    v->rank = rank;
    for (int i = 0; i < rank; i++) v->dims[i] = dims[i];
    return id;
}

int tb_graph_add_input(tb_graph *g, const char *name, tb_dtype dtype, int rank, const int64_t *dims) {
    int id = add_shaped(g, name, dtype, rank, dims);
    g->inputs = realloc(g->inputs, (size_t)(g->n_inputs + 1) * sizeof *g->inputs);
    if (!g->inputs) tb_die(__FILE__, __LINE__, "out of memory");
    g->inputs[g->n_inputs++] = id;
    return id;
}

int tb_graph_add_const(tb_graph *g, const char *name, tb_dtype dtype, int rank,
                       const int64_t *dims, const void *data) {
    int id = add_shaped(g, name, dtype, rank, dims);
    tb_value *v = &g->values[id];
    size_t bytes = tb_value_bytes(v);
    v->data = tb_alloc(g->pool, bytes ? bytes : 1);
    if (data && bytes) memcpy(v->data, data, bytes);
    return id;
}

int tb_graph_derived_const(tb_graph *g, int owner, const char *suffix, tb_dtype dtype, int rank,
                           const int64_t *dims, const void *data) {
    TB_ASSERT(owner >= 0 && owner < g->n_values && rank >= 0 && rank <= TB_MAX_RANK);
    const char *base = g->values[owner].name ? g->values[owner].name : "";
    size_t len = strlen(base) + strlen(suffix) + 24;
    char *name = tb_alloc(g->pool, len);
    snprintf(name, len, "%s.%s", base, suffix);
    for (int k = 1;; k++) {
        int id = tb_graph_find_value(g, name);
        if (id < 0) return tb_graph_add_const(g, name, dtype, rank, dims, data);
        tb_value *v = &g->values[id];
        int same = v->data && v->producer < 0 && v->dtype == dtype && v->rank == rank;
        for (int i = 0; same && i < rank; i++) same = v->dims[i] == dims[i];
        if (same) {
            /* Found again: refresh the data (the operands may have changed since). */
            if (tb_value_bytes(v)) memcpy(v->data, data, tb_value_bytes(v));
            return id;
        }
        /* The name is taken by something else: try "<owner>.<suffix>.<k>". */
        snprintf(name, len, "%s.%s.%d", base, suffix, k);
    }
}

int tb_graph_add_node(tb_graph *g, tb_op op, const char *name, int n_inputs,
                      const int *inputs, int n_outputs) {
    TB_ASSERT(n_inputs <= TB_MAX_IO && n_outputs <= TB_MAX_IO);
    g->nodes = grow(g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof *g->nodes);
    int id = g->n_nodes++;
    tb_node *n = &g->nodes[id];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->name = tb_strdup(g->pool, name ? name : "");
    n->n_inputs = n_inputs;
    for (int i = 0; i < n_inputs; i++) n->inputs[i] = inputs[i];
    n->n_outputs = n_outputs;
    for (int i = 0; i < n_outputs; i++) {
        int v = tb_graph_add_value(g, NULL, TB_DTYPE_NONE);
        g->nodes[id].outputs[i] = v;
        g->values[v].producer = id;
    }
    return id;
}

void tb_graph_mark_output(tb_graph *g, int value) {
    g->outputs = realloc(g->outputs, (size_t)(g->n_outputs + 1) * sizeof *g->outputs);
    if (!g->outputs) tb_die(__FILE__, __LINE__, "out of memory");
    g->outputs[g->n_outputs++] = value;
}

int tb_graph_find_value(const tb_graph *g, const char *name) {
    for (int i = 0; i < g->n_values; i++)
        if (g->values[i].name && !strcmp(g->values[i].name, name)) return i;
    return -1;
}

void tb_graph_replace_uses(tb_graph *g, int from, int to) {
    for (int i = 0; i < g->n_nodes; i++) {
        tb_node *n = &g->nodes[i];
        if (n->dead) continue;
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] == from) n->inputs[k] = to;
    }
    for (int k = 0; k < g->n_outputs; k++)
        if (g->outputs[k] == from) g->outputs[k] = to;
}

void tb_graph_forward_value(tb_graph *g, int from, int to) {
    tb_graph_replace_uses(g, from, to);
    const char *name = g->values[to].name;
    g->values[to].name = g->values[from].name;
    g->values[from].name = name;
}

int tb_value_is_graph_output(const tb_graph *g, int value) {
    for (int k = 0; k < g->n_outputs; k++)
        if (g->outputs[k] == value) return 1;
    return 0;
}

int tb_value_is_graph_input(const tb_graph *g, int value) {
    for (int k = 0; k < g->n_inputs; k++)
        if (g->inputs[k] == value) return 1;
    return 0;
}

int tb_value_use_count(const tb_graph *g, int value) {
    int uses = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const tb_node *n = &g->nodes[i];
        if (n->dead) continue;
        for (int k = 0; k < n->n_inputs; k++) uses += n->inputs[k] == value;
    }
    for (int k = 0; k < g->n_outputs; k++) uses += g->outputs[k] == value;
    return uses;
}

int tb_value_single_user(const tb_graph *g, int value) {
    if (tb_value_use_count(g, value) != 1 || tb_value_is_graph_output(g, value)) return -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const tb_node *n = &g->nodes[i];
        if (n->dead) continue;
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] == value) return i;
    }
    return -1;
}

void tb_graph_compact(tb_graph *g) {
    int *value_map = malloc((size_t)(g->n_values ? g->n_values : 1) * sizeof *value_map);
    int *node_map = malloc((size_t)(g->n_nodes ? g->n_nodes : 1) * sizeof *node_map);
    if (!value_map || !node_map) tb_die(__FILE__, __LINE__, "out of memory");
    /* A value survives when a live node, a graph input or a graph output refers to it. */
    char *used = calloc((size_t)g->n_values + 1, 1);
    if (!used) tb_die(__FILE__, __LINE__, "out of memory");
    for (int i = 0; i < g->n_nodes; i++) {
        tb_node *n = &g->nodes[i];
        if (n->dead) continue;
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] >= 0) used[n->inputs[k]] = 1;
        for (int k = 0; k < n->n_outputs; k++) used[n->outputs[k]] = 1;
    }
    for (int k = 0; k < g->n_inputs; k++) used[g->inputs[k]] = 1;
    for (int k = 0; k < g->n_outputs; k++) used[g->outputs[k]] = 1;

    int nn = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        node_map[i] = g->nodes[i].dead ? -1 : nn;
        if (!g->nodes[i].dead) g->nodes[nn++] = g->nodes[i];
    }
    g->n_nodes = nn;
    int nv = 0;
    for (int i = 0; i < g->n_values; i++) {
        value_map[i] = used[i] ? nv : -1;
        if (used[i]) g->values[nv++] = g->values[i];
    }
    g->n_values = nv;
    for (int i = 0; i < nv; i++) {
        tb_value *v = &g->values[i];
        if (v->producer >= 0) v->producer = node_map[v->producer];
    }
    for (int i = 0; i < nn; i++) {
        tb_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] >= 0) n->inputs[k] = value_map[n->inputs[k]];
        for (int k = 0; k < n->n_outputs; k++) n->outputs[k] = value_map[n->outputs[k]];
    }
    for (int k = 0; k < g->n_inputs; k++) g->inputs[k] = value_map[g->inputs[k]];
    for (int k = 0; k < g->n_outputs; k++) g->outputs[k] = value_map[g->outputs[k]];
    free(used);
    free(value_map);
    free(node_map);
}

int64_t tb_value_numel(const tb_value *v) {
    if (v->rank < 0) return -1;
    int64_t n = 1;
    for (int i = 0; i < v->rank; i++) n *= v->dims[i];
    return n;
}

size_t tb_value_bytes(const tb_value *v) {
    int64_t n = tb_value_numel(v);
    return n < 0 ? 0 : (size_t)n * tb_dtype_size(v->dtype);
}

/* ---- attributes ------------------------------------------------------- */
const tb_attr *tb_node_attr(const tb_node *n, const char *name) {
    for (int i = 0; i < n->n_attrs; i++)
        if (!strcmp(n->attrs[i].name, name)) return &n->attrs[i];
    return NULL;
}

int64_t tb_node_int(const tb_node *n, const char *name, int64_t dflt) {
    const tb_attr *a = tb_node_attr(n, name);
    return a && a->kind == TB_ATTR_INT ? a->i : dflt;
}

float tb_node_float(const tb_node *n, const char *name, float dflt) {
    const tb_attr *a = tb_node_attr(n, name);
    if (a && a->kind == TB_ATTR_FLOAT) return a->f;
    if (a && a->kind == TB_ATTR_INT) return (float)a->i;
    return dflt;
}

const char *tb_node_string(const tb_node *n, const char *name, const char *dflt) {
    const tb_attr *a = tb_node_attr(n, name);
    return a && a->kind == TB_ATTR_STRING ? a->s : dflt;
}

int tb_node_ints(const tb_node *n, const char *name, int64_t *out, int max) {
    const tb_attr *a = tb_node_attr(n, name);
    if (!a || a->kind != TB_ATTR_INTS) return -1;
    for (int i = 0; i < a->n && i < max; i++) out[i] = a->ints[i];
    return a->n;
}

/* Returns the attribute slot for name, appended if new (attrs stay in insertion order). */
static tb_attr *attr_slot(tb_graph *g, int node, const char *name) {
    tb_node *n = &g->nodes[node];
    for (int i = 0; i < n->n_attrs; i++)
        if (!strcmp(n->attrs[i].name, name)) {
            memset(&n->attrs[i], 0, sizeof n->attrs[i]);
            n->attrs[i].name = tb_strdup(g->pool, name);
            return &n->attrs[i];
        }
    tb_attr *a = tb_alloc(g->pool, (size_t)(n->n_attrs + 1) * sizeof *a);
    if (n->n_attrs) memcpy(a, n->attrs, (size_t)n->n_attrs * sizeof *a);
    n->attrs = a;
    tb_attr *s = &a[n->n_attrs++];
    s->name = tb_strdup(g->pool, name);
    return s;
}

void tb_node_set_int(tb_graph *g, int node, const char *name, int64_t v) {
    tb_attr *a = attr_slot(g, node, name);
    a->kind = TB_ATTR_INT;
    a->i = v;
}

void tb_node_set_float(tb_graph *g, int node, const char *name, float v) {
    tb_attr *a = attr_slot(g, node, name);
    a->kind = TB_ATTR_FLOAT;
    a->f = v;
}

void tb_node_set_string(tb_graph *g, int node, const char *name, const char *s) {
    tb_attr *a = attr_slot(g, node, name);
    a->kind = TB_ATTR_STRING;
    a->s = tb_strdup(g->pool, s);
}

void tb_node_set_ints(tb_graph *g, int node, const char *name, int n, const int64_t *v) {
    tb_attr *a = attr_slot(g, node, name);
    a->kind = TB_ATTR_INTS;
    a->n = n;
    a->ints = tb_alloc(g->pool, (size_t)(n ? n : 1) * sizeof *a->ints);
    if (n) memcpy(a->ints, v, (size_t)n * sizeof *v);
}

void tb_node_set_floats(tb_graph *g, int node, const char *name, int n, const float *v) {
    tb_attr *a = attr_slot(g, node, name);
    a->kind = TB_ATTR_FLOATS;
    a->n = n;
    a->floats = tb_alloc(g->pool, (size_t)(n ? n : 1) * sizeof *a->floats);
    if (n) memcpy(a->floats, v, (size_t)n * sizeof *v);
}

void tb_node_set_tensor(tb_graph *g, int node, const char *name, const tb_value *t) {
    tb_attr *a = attr_slot(g, node, name);
    a->kind = TB_ATTR_TENSOR;
    a->t = tb_alloc(g->pool, sizeof *a->t);
    *a->t = *t;
    a->t->name = tb_strdup(g->pool, t->name ? t->name : "");
    size_t bytes = tb_value_bytes(t);
    a->t->data = tb_alloc(g->pool, bytes ? bytes : 1);
    if (bytes) memcpy(a->t->data, t->data, bytes);
}

void tb_node_remove_attr(tb_graph *g, int node, const char *name) {
    tb_node *n = &g->nodes[node];
    for (int i = 0; i < n->n_attrs; i++)
        if (!strcmp(n->attrs[i].name, name)) {
            memmove(&n->attrs[i], &n->attrs[i + 1], (size_t)(n->n_attrs - i - 1) * sizeof *n->attrs);
            n->n_attrs--;
            return;
        }
}
