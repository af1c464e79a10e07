/* tail_split.c - the split of --train-tail: which dense layers at the end of
 * the model stay float and trainable (phi_c), where the feature vector psi is,
 * and the exact RAM of every part.
 *
 * Candidates: a tail starting at dense layer i of the final dense chain, for
 * every i. psi is layer i's input. The automatic split takes the longest tail
 * whose trainable weights, momentum, training scratch, the extractor's planned
 * arena and --min-buffer entries fit the budget together (TyBox always split at
 * the Flatten; a first dense layer of 1568x64 floats does not fit 96K). With no
 * candidate fitting, the shortest tail is taken with what buffer still fits,
 * and only when not even one entry fits does the compile fail.
 *
 *   %f = Flatten(%p) : f32[1,1568]
 *   %h = Gemm(%f, %w1, %b1) {clip_min = 0.0, transB = 1} : f32[1,64]
 *   %y = Gemm(%h, %w2, %b2) {transB = 1} : f32[1,10]
 *   return %y
 * with --memory-budget 96K becomes the extractor
 *   %h = Gemm(%f, %w1, %b1) {clip_min = 0.0, transB = 1} : f32[1,64]
 *   return %h
 * and a trainable tail of one layer 64 -> 10, psi = %h.
 */
#include "tail_split.h"
#include "passes.h"
#include "tb_train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const policy_names[TB_POLICY_COUNT] = {"fifo", "reservoir", "class-balanced", "latest"};

tb_tail_options tb_tail_default_options(void) {
    return (tb_tail_options){.min_buffer = 64, .policy = TB_POLICY_FIFO, .lr = 0.01f, .epochs = 1};
}

int tb_tail_policy_from_name(const char *name) {
    for (int k = 0; k < TB_POLICY_COUNT; k++)
        if (!strcmp(name, policy_names[k])) return k;
    return -1;
}

const char *tb_tail_policy_name(int policy) {
    return policy >= 0 && policy < TB_POLICY_COUNT ? policy_names[policy] : "?";
}

/* ---- the dense chain ------------------------------------------------------- */

typedef struct {
    int node;          /* the Gemm or MatMul */
    int in, out;       /* the layer's input and its (activated) output value */
    int n_in, n_out;
    float act_min, act_max;
    const float *w;    /* the constant as stored */
    int w_transposed;  /* w is [n_out][n_in] (Gemm transB = 1) rather than [n_in][n_out] */
    float alpha, beta;
    const float *b;    /* NULL: no bias */
    int b_len;         /* 1 (broadcast) or n_out */
} dense;

static int const_f32(const tb_graph *g, int v) {
    return v >= 0 && g->values[v].data && g->values[v].dtype == TB_F32;
}

/* A [1, n] float input: batch 1, what the tail trains on. */
static int row_vector(const tb_graph *g, int v) {
    const tb_value *x = &g->values[v];
    return x->dtype == TB_F32 && x->rank == 2 && x->dims[0] == 1;
}

static int bias_ok(const tb_graph *g, int v, int n_out, int *len) {
    if (!const_f32(g, v)) return 0;
    int64_t n = tb_value_numel(&g->values[v]);
    if (n != 1 && n != n_out) return 0;
    *len = (int)n;
    return 1;
}

/* The dense layer computing value v, or 0. A layer's intermediate values must
 * have no other reader: the cut would otherwise leave them without producer. */
static int match_dense(const tb_graph *g, int v, dense *d) {
    memset(d, 0, sizeof *d);
    d->out = v;
    d->act_min = -INFINITY, d->act_max = INFINITY;
    d->alpha = d->beta = 1.0f;
    int p = g->values[v].producer;
    if (p < 0) return 0;
    const tb_node *n = &g->nodes[p];
    if (n->op == TB_OP_RELU) {
        d->act_min = 0.0f;
        v = n->inputs[0];
        if (tb_value_use_count(g, v) != 1 || (p = g->values[v].producer) < 0) return 0;
        n = &g->nodes[p];
    }
    if (n->op == TB_OP_GEMM) {
        int a = n->inputs[0], b = n->inputs[1], c = n->n_inputs > 2 ? n->inputs[2] : -1;
        if (tb_node_int(n, "transA", 0) || !row_vector(g, a) || !const_f32(g, b) || g->values[b].rank != 2) return 0;
        d->node = p, d->in = a;
        d->w = g->values[b].data;
        d->w_transposed = (int)tb_node_int(n, "transB", 0);
        d->n_in = (int)g->values[a].dims[1];
        d->n_out = (int)g->values[n->outputs[0]].dims[1];
        d->alpha = tb_node_float(n, "alpha", 1.0f);
        d->beta = tb_node_float(n, "beta", 1.0f);
        if (c >= 0 && !bias_ok(g, c, d->n_out, &d->b_len)) return 0;
        d->b = c >= 0 ? g->values[c].data : NULL;
        float lo = tb_node_float(n, "clip_min", -INFINITY), hi = tb_node_float(n, "clip_max", INFINITY);
        if (lo > d->act_min) d->act_min = lo;
        if (hi < d->act_max) d->act_max = hi;
        return 1;
    }
    /* MatMul(x, W[n_in, n_out]) + bias, in either operand order of the Add */
    if (n->op != TB_OP_ADD) return 0;
    int k = const_f32(g, n->inputs[1]) ? 1 : 0;
    int mm = n->inputs[1 - k], bias = n->inputs[k];
    if (tb_value_use_count(g, mm) != 1 || (p = g->values[mm].producer) < 0) return 0;
    const tb_node *m = &g->nodes[p];
    if (m->op != TB_OP_MATMUL || !row_vector(g, m->inputs[0]) || !const_f32(g, m->inputs[1]) ||
        g->values[m->inputs[1]].rank != 2 || !row_vector(g, n->outputs[0]))
        return 0;
    d->node = p, d->in = m->inputs[0];
    d->w = g->values[m->inputs[1]].data;
    d->n_in = (int)g->values[d->in].dims[1];
    d->n_out = (int)g->values[mm].dims[1];
    if (!bias_ok(g, bias, d->n_out, &d->b_len)) return 0;
    d->b = g->values[bias].data;
    return 1;
}

/* The longest chain of dense layers ending at the single graph output (past a
 * final (Log)Softmax), first layer first; returns its length (0: none). */
static int find_chain(const tb_graph *g, dense *chain) {
    int v = g->outputs[0];
    int p = g->values[v].producer;
    if (p >= 0 && (g->nodes[p].op == TB_OP_SOFTMAX || g->nodes[p].op == TB_OP_LOGSOFTMAX) &&
        row_vector(g, g->nodes[p].inputs[0]))
        v = g->nodes[p].inputs[0];
    dense rev[TB_TAIL_MAX_LAYERS];
    int n = 0;
    while (n < TB_TAIL_MAX_LAYERS && match_dense(g, v, &rev[n])) {
        if (n && tb_value_use_count(g, rev[n].out) != 1) break;
        v = rev[n++].in;
    }
    for (int l = 0; l < n; l++) chain[l] = rev[n - 1 - l];
    return n;
}

const char *tb_tail_longest_feature(const tb_graph *g) {
    dense chain[TB_TAIL_MAX_LAYERS];
    if (g->n_outputs != 1 || !find_chain(g, chain)) return NULL;
    return g->values[chain[0].in].name;
}

/* ---- RAM of one candidate ---------------------------------------------------- */

typedef struct {
    int first;             /* first tail layer (index into the chain) */
    int psi;               /* value the extractor outputs */
    int int8;
    size_t arena, feature_bytes, weights, momentum, scratch, state, entry_bytes;
    size_t fixed;          /* everything but the buffer */
} candidate;

/* The planned arena of g cut at value psi, on a copy of the graph's arrays
 * (names, attributes and constants are shared, never written). */
static int cut_arena(const tb_graph *g, int psi, size_t *arena, tb_error *err) {
    tb_graph c = *g;
    c.values = malloc((size_t)g->n_values * sizeof *c.values + 1);
    c.nodes = malloc((size_t)g->n_nodes * sizeof *c.nodes + 1);
    c.inputs = malloc((size_t)g->n_inputs * sizeof *c.inputs + 1);
    c.outputs = malloc(sizeof *c.outputs);
    if (!c.values || !c.nodes || !c.inputs || !c.outputs) tb_die(__FILE__, __LINE__, "out of memory");
    memcpy(c.values, g->values, (size_t)g->n_values * sizeof *c.values);
    memcpy(c.nodes, g->nodes, (size_t)g->n_nodes * sizeof *c.nodes);
    memcpy(c.inputs, g->inputs, (size_t)g->n_inputs * sizeof *c.inputs);
    /* Lowering may add derived constants (requantization data): the copy's
     * arrays grow by realloc from their real sizes. */
    c.cap_values = g->n_values;
    c.cap_nodes = g->n_nodes;
    c.outputs[0] = psi;
    c.n_outputs = 1;
    tb_pass_context ctx = {0};
    tb_plan plan;
    int rc = tb_pass_dce(&c, &ctx, err);
    if (!rc) {
        tb_graph_compact(&c);
        rc = tb_plan_graph(&c, &plan, err);
    }
    if (!rc) {
        *arena = plan.arena_bytes;
        tb_plan_free(&plan);
    }
    free(c.values);
    free(c.nodes);
    free(c.inputs);
    free(c.outputs);
    return rc;
}

/* The int8 value a DequantizeLinear at psi reads, or -1 (float psi). The op
 * may not exist in this build: it is looked up by name. */
static int dequantized_from(const tb_graph *g, int psi) {
    tb_op dq = tb_op_from_name("DequantizeLinear", strlen("DequantizeLinear"));
    int p = g->values[psi].producer;
    if (dq == TB_OP_NONE || p < 0 || g->nodes[p].op != dq) return -1;
    int q = g->nodes[p].inputs[0];
    return g->values[q].dtype == TB_I8 ? q : -1;
}

static size_t f32s(size_t n) { return n * sizeof(float); }

static int candidate_at(const tb_graph *g, const dense *chain, int n, int first, int K, const tb_tail_options *o,
                        candidate *c, tb_error *err) {
    memset(c, 0, sizeof *c);
    c->first = first;
    c->psi = chain[first].in;
    int q = dequantized_from(g, c->psi);
    if (q >= 0) c->psi = q, c->int8 = 1;
    if (cut_arena(g, c->psi, &c->arena, err)) return 1;
    size_t F = (size_t)chain[first].n_in, esize = c->int8 ? 1 : sizeof(float);
    int learn_from = o->train_last_only ? n - 1 : first;
    size_t widest = 0;
    for (int l = first; l < n; l++) {
        size_t out = (size_t)(l == n - 1 ? K : chain[l].n_out);
        c->scratch += f32s(out); /* the layer's activation, kept for backprop */
        if (l < learn_from) continue;
        c->weights += f32s(out * (size_t)chain[l].n_in + out);
        if (out > widest) widest = out;
    }
    if (o->momentum != 0.0f) c->momentum = c->weights;
    /* probabilities; one delta vector, two when it flows back through a layer;
     * a float copy of an int8 psi (a float psi is read in place) */
    c->scratch += f32s((size_t)K) + f32s(widest) * (n - learn_from > 1 ? 2 : 1) + (c->int8 ? f32s(F) : 0);
    c->feature_bytes = F * esize;
    /* buffer bookkeeping (tb_buffer_state), the settings (lr, momentum,
     * epochs, policy, initialised), per-class counts and seen flags */
    c->state = 5 * sizeof(uint32_t) + 5 * 4 + (size_t)K * (sizeof(int32_t) + 1);
    c->entry_bytes = F * esize + 1;
    c->fixed = c->arena + c->feature_bytes + c->weights + c->momentum + c->scratch + c->state;
    return 0;
}

/* Entries left for the buffer by a budget, 0 when none fits. */
static long entries_left(const candidate *c, size_t budget) {
    return budget < c->fixed ? 0 : (long)((budget - c->fixed) / c->entry_bytes);
}

static const char *node_label(const tb_graph *g, int node) {
    return g->nodes[node].name && *g->nodes[node].name ? g->nodes[node].name : g->values[g->nodes[node].outputs[0]].name;
}

/* The chain layer whose input is the value, or node/tensor named by --split. */
static int forced_first(const tb_graph *g, const dense *chain, int n, const char *name, tb_error *err) {
    int v = tb_graph_find_value(g, name);
    if (v < 0)
        for (int i = 0; i < g->n_nodes; i++)
            if (!g->nodes[i].dead && g->nodes[i].name && !strcmp(g->nodes[i].name, name)) v = g->nodes[i].outputs[0];
    if (v < 0) return tb_error_set(err, "--split '%s': no node or tensor of that name", name), -1;
    for (int l = 0; l < n; l++)
        if (chain[l].in == v) return l;
    /* psi dequantized from int8: the int8 value names the split too */
    for (int l = 0; l < n; l++)
        if (dequantized_from(g, chain[l].in) == v) return l;
    tb_error_set(err, "--split '%s': the tail after it is not a chain of dense layers (Gemm, MatMul + Add, Relu) "
                 "ending at the output; the candidates are:", name);
    for (int l = 0; l < n; l++) {
        size_t len = strlen(err->msg);
        snprintf(err->msg + len, sizeof err->msg - len, " '%s'", g->values[chain[l].in].name);
    }
    if (!n) strncat(err->msg, " none", sizeof err->msg - strlen(err->msg) - 1);
    return -1;
}

static void print_candidate_need(FILE *out, const candidate *c, long entries) {
    fprintf(out, "arena %zu + feature %zu + weights %zu + momentum %zu + scratch %zu + state %zu = %zu bytes, "
                 "plus %ld buffer entries of %zu bytes = %zu bytes",
            c->arena, c->feature_bytes, c->weights, c->momentum, c->scratch, c->state, c->fixed, entries,
            c->entry_bytes, c->fixed + (size_t)entries * c->entry_bytes);
}

int tb_tail_split(tb_graph *g, const tb_tail_options *o, tb_tail *t, tb_plan *plan, FILE *report, tb_error *err) {
    memset(t, 0, sizeof *t);
    t->opt = *o;
    if (g->n_outputs != 1 || g->n_inputs != 1)
        return tb_error_set(err, "--train-tail needs a model with one input and one output (this one has %d and %d)",
                            g->n_inputs, g->n_outputs);
    if (g->values[g->inputs[0]].dtype != TB_F32) return tb_error_set(err, "--train-tail needs a float32 input");

    dense chain[TB_TAIL_MAX_LAYERS];
    int n = find_chain(g, chain);
    if (!n)
        return tb_error_set(err, "--train-tail: the model does not end in a dense layer (Gemm, or MatMul + Add, "
                            "on a [1, N] input, with constant weights): nothing to train");
    if (chain[0].in == g->inputs[0] && n == 1 && !o->split)
        return tb_error_set(err, "--train-tail: the whole model is one dense layer; there is no feature extractor");

    int n_classes = chain[n - 1].n_out;
    int K = o->max_classes ? o->max_classes : n_classes;
    if (K < n_classes)
        return tb_error_set(err, "--max-classes %d is below the model's %d output classes", K, n_classes);
    if (K > 256) return tb_error_set(err, "--max-classes %d: labels are stored in one byte (at most 256)", K);

    /* choose */
    int first = -1;
    candidate c;
    int min_entries = o->policy == TB_POLICY_LATEST && !o->buffer ? 1 : (o->buffer ? o->buffer : o->min_buffer);
    if (min_entries < 1) min_entries = 1;
    if (o->split) {
        if ((first = forced_first(g, chain, n, o->split, err)) < 0) return 1;
        if (candidate_at(g, chain, n, first, K, o, &c, err)) return 1;
    } else {
        for (int l = 0; l < n && first < 0; l++) {
            if (chain[l].in == g->inputs[0]) continue;
            if (candidate_at(g, chain, n, l, K, o, &c, err)) return 1;
            if (!o->budget || entries_left(&c, o->budget) >= min_entries) first = l;
        }
        /* none fits with the minimum buffer: the shortest tail with what fits */
        if (first < 0) first = n - 1;
    }
    if (report) {
        fprintf(report, "tail: %d dense layer%s after '%s' can train; budget %zu bytes, buffer policy %s\n", n,
                n > 1 ? "s" : "", g->values[chain[0].in].name, o->budget, tb_tail_policy_name(o->policy));
    }
    /* why each layer went where it went */
    for (int l = 0; l < n; l++) {
        candidate cl;
        int learn_from = o->train_last_only ? n - 1 : first;
        if (report) {
            fprintf(report, "tail:   '%s' (%s %d -> %d%s): ", node_label(g, chain[l].node),
                    tb_op_name(g->nodes[chain[l].node].op), chain[l].n_in, l == n - 1 ? K : chain[l].n_out,
                    chain[l].act_min == 0.0f && chain[l].act_max == INFINITY ? ", relu"
                    : isfinite(chain[l].act_min) || isfinite(chain[l].act_max) ? ", clamp" : "");
            if (l >= learn_from) {
                fputs("trainable\n", report);
            } else if (l >= first) {
                fputs("in the tail, frozen (--train-last-only)\n", report);
            } else if (o->split) {
                fprintf(report, "feature extractor (--split '%s')\n", o->split);
            } else if (chain[l].in == g->inputs[0]) {
                fputs("feature extractor (its input is the model's input)\n", report);
            } else {
                if (candidate_at(g, chain, n, l, K, o, &cl, err)) return 1;
                fputs("feature extractor: a tail from here needs ", report);
                print_candidate_need(report, &cl, min_entries);
                fputs(", over the budget\n", report);
            }
        }
    }

    /* size the buffer */
    long cap = o->buffer ? o->buffer : (o->policy == TB_POLICY_LATEST ? 1 : (o->budget ? entries_left(&c, o->budget) : o->min_buffer));
    if (o->budget && (cap < 1 || c.fixed + (size_t)cap * c.entry_bytes > o->budget)) {
        tb_error_set(err, "--memory-budget %zu does not fit the tail after '%s': %zu bytes before the buffer "
                     "(arena %zu, feature %zu, weights %zu, momentum %zu, scratch %zu, state %zu) and %ld %s of %zu bytes",
                     o->budget, g->values[chain[first].in].name, c.fixed, c.arena, c.feature_bytes, c.weights,
                     c.momentum, c.scratch, c.state, cap < 1 ? 1 : cap, cap > 1 ? "buffer entries" : "buffer entry",
                     c.entry_bytes);
        return 1;
    }

    /* the tail, weights normalised to [n_out][n_in] with alpha and beta applied */
    t->n_layers = n - first;
    t->n_classes = n_classes;
    t->max_classes = K;
    t->feature_size = chain[first].n_in;
    t->feature_int8 = c.int8;
    t->input_size = (int)tb_value_numel(&g->values[g->inputs[0]]);
    for (int l = first; l < n; l++) {
        const dense *d = &chain[l];
        tb_tail_layer *L = &t->layers[l - first];
        int rows = l == n - 1 ? K : d->n_out;
        L->name = strdup(node_label(g, d->node));
        L->op = tb_op_name(g->nodes[d->node].op);
        L->n_in = d->n_in, L->n_out = rows;
        L->act_min = d->act_min, L->act_max = d->act_max;
        L->trainable = l >= (o->train_last_only ? n - 1 : first);
        L->w = calloc((size_t)rows * d->n_in + 1, sizeof *L->w);
        L->b = calloc((size_t)rows + 1, sizeof *L->b);
        if (!L->name || !L->w || !L->b) tb_die(__FILE__, __LINE__, "out of memory");
        for (int j = 0; j < d->n_out; j++) {
            for (int i = 0; i < d->n_in; i++)
                L->w[(size_t)j * d->n_in + i] =
                    d->alpha * (d->w_transposed ? d->w[(size_t)j * d->n_in + i] : d->w[(size_t)i * d->n_out + j]);
            if (d->b) L->b[j] = d->beta * d->b[d->b_len == 1 ? 0 : j];
        }
    }
    if (c.int8) {
        const tb_value *q = &g->values[c.psi];
        t->scale = q->scale, t->zero_point = q->zero_point;
        if (t->scale == 0.0f) {
            /* the DequantizeLinear's own constant scale / zero point */
            const tb_node *dq = &g->nodes[g->values[chain[first].in].producer];
            if (dq->n_inputs > 1 && const_f32(g, dq->inputs[1])) t->scale = *(const float *)g->values[dq->inputs[1]].data;
            if (dq->n_inputs > 2 && dq->inputs[2] >= 0 && g->values[dq->inputs[2]].data)
                t->zero_point = *(const int8_t *)g->values[dq->inputs[2]].data;
        }
        if (t->scale == 0.0f) return tb_error_set(err, "the int8 feature '%s' has no scale", q->name);
    }
    t->arena = c.arena, t->feature_bytes = c.feature_bytes, t->weights = c.weights, t->momentum = c.momentum;
    t->scratch = c.scratch, t->state = c.state, t->entry_bytes = c.entry_bytes;
    t->capacity = (int)cap;
    t->buffer = (size_t)cap * c.entry_bytes;
    t->total = c.fixed + t->buffer;

    /* cut: the graph now computes psi */
    t->feature = strdup(g->values[c.psi].name);
    if (!t->feature) tb_die(__FILE__, __LINE__, "out of memory");
    g->outputs[0] = c.psi;
    tb_pass_context ctx = {0};
    if (tb_pass_dce(g, &ctx, err)) return 1;
    tb_graph_compact(g);
    if (tb_plan_graph(g, plan, err)) return 1;
    TB_ASSERT(plan->arena_bytes == t->arena);
    if (report) {
        fprintf(report, "tail: split at '%s' (%s[1,%d]%s); buffer %d entries%s\n", t->feature,
                c.int8 ? "i8" : "f32", t->feature_size, c.int8 ? ", dequantized on every read" : "", t->capacity,
                !o->split && o->budget && cap < o->min_buffer && o->policy != TB_POLICY_LATEST && !o->buffer
                    ? " (below --min-buffer: no longer tail fits)" : "");
        tb_tail_print_memory(report, t);
    }
    return 0;
}

void tb_tail_print_memory(FILE *out, const tb_tail *t) {
    fprintf(out, "memory: arena          %8zu bytes\n", t->arena);
    fprintf(out, "memory: feature        %8zu bytes\n", t->feature_bytes);
    fprintf(out, "memory: tail weights   %8zu bytes\n", t->weights);
    fprintf(out, "memory: momentum       %8zu bytes\n", t->momentum);
    fprintf(out, "memory: train scratch  %8zu bytes\n", t->scratch);
    fprintf(out, "memory: buffer         %8zu bytes (%d x %zu)\n", t->buffer, t->capacity, t->entry_bytes);
    fprintf(out, "memory: policy state   %8zu bytes\n", t->state);
    if (t->opt.budget)
        fprintf(out, "memory: total          %8zu bytes of %zu (%zu free)\n", t->total, t->opt.budget, t->opt.budget - t->total);
    else
        fprintf(out, "memory: total          %8zu bytes\n", t->total);
}

void tb_tail_free(tb_tail *t) {
    for (int l = 0; l < t->n_layers; l++) {
        free((void *)t->layers[l].name);
        free(t->layers[l].w);
        free(t->layers[l].b);
    }
    free((void *)t->feature);
    memset(t, 0, sizeof *t);
}
