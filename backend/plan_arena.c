/* plan_arena.c - where every tensor lives: storage kinds, aliases, in-place
 * reuse, and offsets in one static arena.
 *
 * 1. Lower every node, before anything is sized by the value count: lowering
 *    may add derived constants (tb_graph_derived_const). Reshape-like nodes alias their input (no copy) unless
 *    their output is a graph output, which must land in the caller's buffer:
 *    those become a plain copy.
 * 2. Storage groups: an alias joins its input's group; an elementwise node
 *    whose input group dies at that node writes in place and joins it too.
 * 3. Each arena group is live from the step that first writes it to the
 *    last step that reads any member. Groups are placed greedily, each at
 *    the lowest 16-byte-aligned offset that overlaps no group live at the
 *    same time (TFLite Micro's GreedyMemoryPlanner), in four orders: by
 *    size, by first use, by size x lifetime, by lifetime. The smallest wins.
 * 4. The lower bound is the largest sum of group sizes live at one step: no
 *    placement can use less, so arena / lower bound measures the plan.
 */
#include "backend.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int find(int *parent, int v) {
    while (parent[v] != v) v = parent[v] = parent[parent[v]];
    return v;
}

static size_t align_up(size_t n) { return (n + TB_ARENA_ALIGN - 1) / TB_ARENA_ALIGN * TB_ARENA_ALIGN; }

/* An alias whose output is a graph output becomes a byte copy. */
static void alias_to_copy(tb_graph *g, int node, tb_lowered *L) {
    tb_node *n = &g->nodes[node];
    tb_call *c = &L->calls[0];
    memset(L, 0, sizeof *L);
    L->alias_input = -1;
    L->n_calls = 1;
    c->kernel = TB_K_copy;
    c->p.copy.elem_size = 1;
    c->p.copy.rank = 1;
    c->p.copy.dims[0] = (int32_t)tb_value_bytes(&g->values[n->outputs[0]]);
    c->p.copy.in_strides[0] = c->p.copy.out_strides[0] = 1;
    c->n_args = 2;
    c->args[0] = n->inputs[0];
    c->args[1] = n->outputs[0];
}

typedef struct {
    int root;
    size_t size;
    int first, last;
} group;

/* Orders tried for the greedy placement; the plan keeps the smallest arena.
 * Ties fall back to the group's first step and root, so plans are stable. */
static int tie(const group *x, const group *y) {
    if (x->first != y->first) return x->first < y->first ? -1 : 1;
    return x->root - y->root;
}

static int by_size_desc(const void *a, const void *b) {
    const group *x = a, *y = b;
    if (x->size != y->size) return x->size < y->size ? 1 : -1;
    return tie(x, y);
}

static int by_first_use(const void *a, const void *b) {
    const group *x = a, *y = b;
    if (x->first != y->first) return x->first < y->first ? -1 : 1;
    if (x->size != y->size) return x->size < y->size ? 1 : -1;
    return x->root - y->root;
}

static int by_area_desc(const void *a, const void *b) {
    const group *x = a, *y = b;
    double ax = (double)x->size * (x->last - x->first + 1), ay = (double)y->size * (y->last - y->first + 1);
    if (ax != ay) return ax < ay ? 1 : -1;
    return tie(x, y);
}

static int by_duration_desc(const void *a, const void *b) {
    const group *x = a, *y = b;
    int dx = x->last - x->first, dy = y->last - y->first;
    if (dx != dy) return dx < dy ? 1 : -1;
    return by_size_desc(a, b);
}

typedef int order_fn(const void *, const void *);
static order_fn *const orders[] = {by_size_desc, by_first_use, by_area_desc, by_duration_desc};

static int by_offset(const void *a, const void *b) {
    const size_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* Greedy first fit in the given order: each group goes to the lowest
 * aligned offset that overlaps no placed group live at the same time. */
static size_t place(group *gs, int n, order_fn *order, size_t *offsets) {
    qsort(gs, (size_t)n, sizeof *gs, order);
    size_t (*busy)[2] = malloc((size_t)(n ? n : 1) * sizeof *busy);
    if (!busy) tb_die(__FILE__, __LINE__, "out of memory");
    size_t arena = 0;
    for (int i = 0; i < n; i++) {
        int nb = 0;
        for (int j = 0; j < i; j++)
            if (gs[j].first <= gs[i].last && gs[i].first <= gs[j].last) {
                busy[nb][0] = offsets[gs[j].root];
                busy[nb][1] = offsets[gs[j].root] + gs[j].size;
                nb++;
            }
        qsort(busy, (size_t)nb, sizeof *busy, by_offset);
        size_t at = 0;
        for (int j = 0; j < nb; j++) {
            if (busy[j][0] >= at + gs[i].size) break;
            if (busy[j][1] > at) at = align_up(busy[j][1]);
        }
        offsets[gs[i].root] = at;
        if (at + gs[i].size > arena) arena = at + gs[i].size;
    }
    free(busy);
    return arena;
}

/* Tries every order and keeps the smallest arena in offsets. */
static size_t place_best(group *gs, int n, int n_values, size_t *offsets) {
    size_t *trial = malloc(((size_t)n_values + 1) * sizeof *trial);
    if (!trial) tb_die(__FILE__, __LINE__, "out of memory");
    size_t best = SIZE_MAX;
    for (size_t k = 0; k < sizeof orders / sizeof orders[0]; k++) {
        size_t arena = place(gs, n, orders[k], trial);
        if (arena < best) {
            best = arena;
            for (int i = 0; i < n; i++) offsets[gs[i].root] = trial[gs[i].root];
        }
    }
    free(trial);
    return n ? best : 0;
}

int tb_plan_graph(tb_graph *g, tb_plan *plan, tb_error *err) {
    memset(plan, 0, sizeof *plan);
    int nn = g->n_nodes;
    plan->n_nodes = nn;
    plan->lowered = calloc((size_t)nn + 1, sizeof *plan->lowered);
    if (!plan->lowered) tb_die(__FILE__, __LINE__, "out of memory");
    /* 1. lower first: lowering may add values (derived constants) */
    for (int i = 0; i < nn; i++) {
        if (g->nodes[i].dead) continue;
        if (tb_lower_node(g, i, &plan->lowered[i], err)) {
            tb_plan_free(plan);
            return 1;
        }
    }
    int nv = g->n_values;
    plan->n_values = nv;
    plan->store = calloc((size_t)nv + 1, sizeof *plan->store);
    int *parent = malloc(((size_t)nv + 1) * sizeof *parent);
    int *last_use = malloc(((size_t)nv + 1) * sizeof *last_use);
    size_t *offsets = calloc((size_t)nv + 1, sizeof *offsets);
    group *gs = malloc(((size_t)nv + 1) * sizeof *gs);
    if (!plan->store || !parent || !last_use || !offsets || !gs)
        tb_die(__FILE__, __LINE__, "out of memory");

    for (int v = 0; v < nv; v++) parent[v] = v, last_use[v] = -1;
    for (int k = 0; k < g->n_outputs; k++) last_use[g->outputs[k]] = nn;

    /* aliases join their input's group */
    for (int i = 0; i < nn; i++) {
        tb_node *n = &g->nodes[i];
        if (n->dead) continue;
        tb_lowered *L = &plan->lowered[i];
        if (L->alias_input >= 0) {
            if (tb_value_is_graph_output(g, n->outputs[0])) alias_to_copy(g, i, L);
            else parent[n->outputs[0]] = find(parent, L->alias_input);
        }
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] >= 0 && last_use[n->inputs[k]] < i) last_use[n->inputs[k]] = i;
    }

    /* group last use = max over members */
    int *group_last = malloc(((size_t)nv + 1) * sizeof *group_last);
    if (!group_last) tb_die(__FILE__, __LINE__, "out of memory");
    for (int v = 0; v < nv; v++) group_last[v] = -1;
    for (int v = 0; v < nv; v++) {
        int r = find(parent, v);
        if (last_use[v] > group_last[r]) group_last[r] = last_use[v];
    }

    /* storage kind of each root */
    for (int v = 0; v < nv; v++) plan->store[v].kind = TB_STORE_NONE;
    for (int k = g->n_inputs - 1; k >= 0; k--) {
        plan->store[g->inputs[k]].kind = TB_STORE_INPUT;
        plan->store[g->inputs[k]].index = k;
    }
    for (int k = g->n_outputs - 1; k >= 0; k--) {
        int v = g->outputs[k];
        tb_value *val = &g->values[v];
        /* An output that is a constant, an input or an alias is copied at the end. */
        if (val->data || tb_value_is_graph_input(g, v) || find(parent, v) != v) continue;
        plan->store[v].kind = TB_STORE_OUTPUT;
        plan->store[v].index = k;
    }
    for (int v = 0; v < nv; v++) {
        if (g->values[v].data) plan->store[v].kind = TB_STORE_CONST;
        else if (plan->store[v].kind == TB_STORE_NONE && find(parent, v) == v && g->values[v].producer >= 0)
            plan->store[v].kind = TB_STORE_ARENA;
    }

    /* 2. in place: an elementwise node whose input group dies here takes it over */
    for (int i = 0; i < nn; i++) {
        tb_lowered *L = &plan->lowered[i];
        if (g->nodes[i].dead || !L->in_place_ok || L->n_calls != 1) continue;
        tb_call *c = &L->calls[0];
        int a = find(parent, c->args[0]), y = c->args[c->n_args - 1];
        if (a == y || find(parent, y) != y) continue;
        if (plan->store[a].kind != TB_STORE_ARENA || plan->store[y].kind != TB_STORE_ARENA) continue;
        if (group_last[a] != i || tb_value_bytes(&g->values[a]) != tb_value_bytes(&g->values[y])) continue;
        /* the other operand must not share a's bytes either */
        int other_shares = 0;
        for (int k = 1; k < c->n_args - 1; k++)
            if (c->args[k] >= 0 && find(parent, c->args[k]) == a) other_shares = 1;
        if (other_shares) continue;
        parent[y] = a;
        plan->store[y].kind = TB_STORE_NONE;
        group_last[a] = group_last[y];
    }

    /* 3. live ranges and placement of arena groups */
    int ng = 0;
    for (int v = 0; v < nv; v++) {
        if (plan->store[v].kind != TB_STORE_ARENA) continue;
        size_t size = 0;
        for (int u = 0; u < nv; u++)
            if (find(parent, u) == v && tb_value_bytes(&g->values[u]) > size) size = tb_value_bytes(&g->values[u]);
        int first = g->values[v].producer;
        int last = group_last[v] < first ? first : group_last[v];
        gs[ng++] = (group){v, align_up(size ? size : 1), first, last};
        plan->store[v].first = first;
        plan->store[v].last = last;
        plan->store[v].size = size;
    }
    /* 4. lower bound before sorting changes nothing it needs */
    for (int s = 0; s < nn; s++) {
        size_t live = 0;
        for (int i = 0; i < ng; i++)
            if (gs[i].first <= s && s <= gs[i].last) live += gs[i].size;
        if (live > plan->lower_bound) plan->lower_bound = live;
    }
    plan->arena_bytes = place_best(gs, ng, nv, offsets);

    for (int v = 0; v < nv; v++) {
        int r = find(parent, v);
        tb_storage *s = &plan->store[v];
        s->root = r;
        if (r != v) {
            s->kind = plan->store[r].kind;
            s->index = plan->store[r].index;
        }
        s->offset = offsets[r];
        s->first = plan->store[r].first;
        s->last = plan->store[r].last;
    }
    /* Weights: constants a kernel call or a graph output reads. A constant
     * only shape inference read (Reshape's shape, ReduceSum's axes) is not
     * emitted: the generated code would never touch it. */
    char *read_by_code = calloc((size_t)nv + 1, 1);
    if (!read_by_code) tb_die(__FILE__, __LINE__, "out of memory");
    for (int i = 0; i < nn; i++)
        for (int c = 0; !g->nodes[i].dead && c < plan->lowered[i].n_calls; c++)
            for (int k = 0; k < plan->lowered[i].calls[c].n_args; k++)
                if (plan->lowered[i].calls[c].args[k] >= 0)
                    read_by_code[plan->store[plan->lowered[i].calls[c].args[k]].root] = 1;
    for (int k = 0; k < g->n_outputs; k++) read_by_code[plan->store[g->outputs[k]].root] = 1;
    for (int v = 0; v < nv; v++) {
        if (plan->store[v].kind != TB_STORE_CONST) continue;
        if (!read_by_code[v]) {
            plan->store[v].kind = TB_STORE_NONE;
            continue;
        }
        plan->store[v].index = plan->n_weights++;
        plan->weight_bytes += tb_value_bytes(&g->values[v]);
    }
    free(read_by_code);
    free(group_last);
    free(parent);
    free(last_use);
    free(offsets);
    free(gs);
    return 0;
}

void tb_plan_free(tb_plan *plan) {
    free(plan->store);
    free(plan->lowered);
    memset(plan, 0, sizeof *plan);
}

void tb_print_plan_report(FILE *out, const tb_graph *g, const tb_plan *plan, int full) {
    int nodes = 0;
    for (int i = 0; i < g->n_nodes; i++) nodes += !g->nodes[i].dead;
    fprintf(out, "nodes: %d\n", nodes);
    fprintf(out, "weights: %zu bytes in %d arrays\n", plan->weight_bytes, plan->n_weights);
    fprintf(out, "arena: %zu bytes (lower bound %zu bytes, ratio %.3f)\n", plan->arena_bytes,
            plan->lower_bound, plan->lower_bound ? (double)plan->arena_bytes / (double)plan->lower_bound : 1.0);
    if (!full) return;
    fprintf(out, "%-10s %-10s %-6s %-6s %s\n", "offset", "bytes", "first", "last", "tensor");
    for (int v = 0; v < plan->n_values; v++) {
        const tb_storage *s = &plan->store[v];
        if (s->kind != TB_STORE_ARENA) continue;
        if (s->root == v)
            fprintf(out, "%-10zu %-10zu %-6d %-6d %s\n", s->offset, s->size, s->first, s->last, g->values[v].name);
        else
            fprintf(out, "%-10zu %-10s %-6s %-6s %s (shares %s)\n", s->offset, "", "", "", g->values[v].name,
                    g->values[s->root].name);
    }
}
