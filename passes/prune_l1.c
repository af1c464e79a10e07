/* prune_l1.c - structured filter pruning by L1 norm (Li et al. 2016).
 *
 * Every regular Conv (group 1, constant weights) produces a set of channels.
 * The pass follows those channels through the graph and finds everything
 * that has one slice per channel: the Conv's own filters and bias, a
 * BatchNormalization's parameters, the weights and bias of a depthwise Conv
 * (whose output stays in the same channel set), per-channel constants of
 * Add/Sub/Mul/Div, the input-channel slices of the next regular Conv, and the
 * rows (or columns) of a Gemm / MatMul after Flatten, where channel c of
 * [N, C, H, W] is features c*H*W .. (c+1)*H*W-1. Elementwise ops, Pad on the
 * spatial axes and the pools just carry the channels along. Removing a
 * channel removes all of those slices, so the graph stays valid and computes
 * what the original computes with that channel's contribution gone.
 *
 * Channel sets joined by Add (residual connections) are pruned as one group:
 * the producers of a group share one ranking, the sum over them of each
 * filter's L1 norm. Concat, Reshape, Split and anything else not listed
 * above block pruning of the channels that reach them, as does reaching a
 * graph output or a graph input; --report says why for each blocked Conv.
 * Depthwise convs are never ranked themselves. A layer keeps >= 1 filter.
 *
 * Options (tyboxc --prune, --prune-layer, --prune-budget, --calib):
 *   prune=RATIO            remove floor(RATIO * C) of the C filters of every
 *                          prunable layer, smallest L1 norm first; RATIO in [0, 1)
 *   prune-layer=NAME=RATIO the same for the layer of Conv node NAME (overrides)
 *   prune-budget=BYTES     then keep removing filters until the f32 weights take
 *                          at most BYTES (K = 1024, M = 1024*1024): each step
 *                          removes the globally least important filter per byte
 *                          it saves, importance being its L1 norm divided by its
 *                          layer's mean filter norm ...
 *   calib=FILE             ... or, with calibration samples (raw float32
 *                          inputs back to back, or a float32 .npy), the filter
 *                          whose layer costs the least measured output error
 *                          per byte saved (see measure_sensitivity).
 *
 * Requires: shapes inferred; best run after fold-batchnorm (so norms are
 * those of the effective filters) and before fuse-activation (either works).
 *
 *   %w1 = const f32[3,1,1,1] [1.0, -0.1, 2.0]
 *   %w2 = const f32[1,3,1,1] [10.0, 20.0, 30.0]
 *   %a = Conv(%x, %w1) {...} : f32[1,3,4,4]
 *   %r = Relu(%a) : f32[1,3,4,4]
 *   %y = Conv(%r, %w2) {...} : f32[1,1,4,4]
 * with prune=0.5 (floor(1.5) = 1 filter goes: the one of norm 0.1) becomes
 *   %w1.pruned = const f32[2,1,1,1] [1.0, 2.0]
 *   %w2.pruned = const f32[1,2,1,1] [10.0, 30.0]
 *   %a = Conv(%x, %w1.pruned) {...} : f32[1,2,4,4]
 *   %r = Relu(%a) : f32[1,2,4,4]
 *   %y = Conv(%r, %w2.pruned) {...} : f32[1,1,4,4]
 */
#include "lower.h"
#include "model_stats.h"
#include "passes.h"
#include "shape.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CALIB_MAX_SAMPLES 256 /* sensitivity is measured on the first ones */
#define SENS_STEPS 10         /* grid of the sensitivity curve: 10%, 20%, ... removed */

/* One constant slice that follows the channels: g->nodes[node].inputs[input]
 * loses, for each removed channel c, indices c*inner .. c*inner+inner-1 of
 * `axis`. A sink is a consumer's slice: zeroing it (instead of removing it)
 * gives exactly the pruned model's output, which is how sensitivity is measured. */
typedef struct {
    int node, input, axis;
    int64_t inner;
    int sink;
} edit;

typedef struct {
    int C;
    int n_src, *src;          /* the regular Convs producing the channels */
    int n_edits, cap_edits;
    edit *edits;
    int n_dw, *dw;            /* depthwise Convs: group follows C */
    int n_add;                /* Add nodes coupling producers */
    char why[320];            /* non-empty: not pruned, because */
    double *score;            /* per channel: summed L1 norm of the filters */
    int *order;               /* channels by score, smallest first */
    double mean_score;
    double ratio;             /* asked for */
    int removed;              /* order[0 .. removed) go */
    int n_grid;               /* sensitivity: err_at[i] with grid[i] removed */
    int grid[SENS_STEPS + 2];
    double err_at[SENS_STEPS + 2];
} space;

typedef struct {
    tb_graph *g;
    int *use_start, *use_node, *use_input; /* consumers of each value (CSR) */
    int *val_space, *node_space;
    int *queue;
    space *sp;
    int n_sp;
} pruner;

static void *scratch(tb_graph *g, size_t n, size_t size) { return tb_alloc(g->pool, (n ? n : 1) * size); }

static void build_uses(pruner *P) {
    tb_graph *g = P->g;
    P->use_start = scratch(g, (size_t)g->n_values + 1, sizeof(int));
    int total = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const tb_node *n = &g->nodes[i];
        if (n->dead) continue;
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] >= 0) P->use_start[n->inputs[k] + 1]++, total++;
    }
    for (int v = 0; v < g->n_values; v++) P->use_start[v + 1] += P->use_start[v];
    P->use_node = scratch(g, (size_t)total, sizeof(int));
    P->use_input = scratch(g, (size_t)total, sizeof(int));
    int *fill = scratch(g, (size_t)g->n_values, sizeof(int));
    for (int i = 0; i < g->n_nodes; i++) {
        const tb_node *n = &g->nodes[i];
        if (n->dead) continue;
        for (int k = 0; k < n->n_inputs; k++) {
            int v = n->inputs[k];
            if (v < 0) continue;
            int at = P->use_start[v] + fill[v]++;
            P->use_node[at] = i;
            P->use_input[at] = k;
        }
    }
}

static int const_f32(const tb_graph *g, int v) {
    return v >= 0 && g->values[v].data && g->values[v].dtype == TB_F32;
}

static int input_or_none(const tb_node *n, int k) { return k < n->n_inputs ? n->inputs[k] : -1; }

/* A Conv whose filters can be ranked and removed. */
static int regular_conv(const tb_graph *g, const tb_node *n) {
    if (n->op != TB_OP_CONV || tb_node_int(n, "group", 1) != 1) return 0;
    int b = input_or_none(n, 2);
    return const_f32(g, n->inputs[1]) && (b < 0 || const_f32(g, b));
}

/* A depthwise Conv over C channels with one filter each. */
static int depthwise_conv(const tb_graph *g, const tb_node *n, int C) {
    if (n->op != TB_OP_CONV || tb_node_int(n, "group", 1) != C || C < 2) return 0;
    const tb_value *w = &g->values[n->inputs[1]];
    int b = input_or_none(n, 2);
    return const_f32(g, n->inputs[1]) && w->dims[0] == C && w->dims[1] == 1 && (b < 0 || const_f32(g, b));
}

static int block(space *s, const char *fmt, const char *a, const char *b) {
    char tmp[sizeof s->why];
    /* A reason cut short ends in "..." so the report does not read as whole. */
    if (snprintf(tmp, sizeof tmp, fmt, a, b) >= (int)sizeof tmp) memcpy(tmp + sizeof tmp - 4, "...", 4);
    if (!s->why[0]) memcpy(s->why, tmp, sizeof tmp);
    return 1;
}

static void add_edit(pruner *P, space *s, int node, int input, int axis, int64_t inner, int sink) {
    if (s->n_edits == s->cap_edits) {
        int cap = s->cap_edits ? 2 * s->cap_edits : 16;
        edit *e = scratch(P->g, (size_t)cap, sizeof *e);
        if (s->n_edits) memcpy(e, s->edits, (size_t)s->n_edits * sizeof *e);
        s->edits = e;
        s->cap_edits = cap;
    }
    s->edits[s->n_edits++] = (edit){node, input, axis, inner, sink};
}

/* Blocks the space and leaves the (void) function. */
#define STOP(...) do { block(__VA_ARGS__); return; } while (0)

static const char *op_of(const tb_node *n) { return tb_op_name(n->op); }

/* Puts value v into space si (to be visited), or blocks when it cannot be. */
static void enqueue(pruner *P, int si, int v, int *tail) {
    space *s = &P->sp[si];
    if (P->val_space[v] == si) return;
    if (P->val_space[v] >= 0) {
        const space *o = &P->sp[P->val_space[v]];
        block(s, "its channels meet those of '%.100s', which is not pruned: %.180s", P->g->nodes[o->src[0]].name, o->why);
        return;
    }
    P->val_space[v] = si;
    P->queue[(*tail)++] = v;
}

static int is_unary(tb_op op) {
    switch (op) {
    case TB_OP_RELU: case TB_OP_CLIP: case TB_OP_SIGMOID: case TB_OP_HARDSIGMOID: case TB_OP_HARDSWISH:
    case TB_OP_LEAKYRELU: case TB_OP_TANH: case TB_OP_EXP: case TB_OP_LOG: case TB_OP_SQRT: case TB_OP_ABS:
    case TB_OP_NEG: case TB_OP_RECIPROCAL: case TB_OP_IDENTITY: case TB_OP_DROPOUT:
    case TB_OP_MAXPOOL: case TB_OP_AVGPOOL: case TB_OP_GLOBALAVGPOOL: case TB_OP_GLOBALMAXPOOL:
        return 1;
    default: return 0;
    }
}

static int is_binary(tb_op op) {
    return op == TB_OP_ADD || op == TB_OP_SUB || op == TB_OP_MUL || op == TB_OP_DIV;
}

/* Node ni carries the channels of space si from input to output: record its
 * slices and queue its other channel inputs and its output. */
static void join_node(pruner *P, int si, int ni, int *tail) {
    tb_graph *g = P->g;
    space *s = &P->sp[si];
    if (P->node_space[ni] == si) return;
    P->node_space[ni] = si;
    tb_node *n = &g->nodes[ni];
    int C = s->C;
    for (int k = 1; k < n->n_outputs; k++)
        if (n->outputs[k] >= 0 && tb_value_use_count(g, n->outputs[k]))
            STOP(s, "'%s' (%s) has a second output in use", n->name, op_of(n));
    if (is_unary(n->op)) {
        for (int k = 1; k < n->n_inputs; k++) /* Clip bounds */
            if (n->inputs[k] >= 0 && !g->values[n->inputs[k]].data)
                STOP(s, "'%s' (%s) has non-constant parameters", n->name, op_of(n));
        enqueue(P, si, n->inputs[0], tail);
    } else if (n->op == TB_OP_BATCHNORM) {
        for (int k = 1; k < 5; k++) {
            if (!const_f32(g, input_or_none(n, k)))
                STOP(s, "'%s' (%s) has non-constant parameters", n->name, op_of(n));
            add_edit(P, s, ni, k, 0, 1, 0);
        }
        enqueue(P, si, n->inputs[0], tail);
    } else if (n->op == TB_OP_PAD) {
        int64_t pads[2 * TB_MAX_RANK];
        int mode, r = g->values[n->inputs[0]].rank;
        double value;
        tb_error e;
        if (tb_pad_resolve(g, ni, pads, &mode, &value, &e) || mode != 0 || pads[0] || pads[1] || pads[r] || pads[r + 1])
            STOP(s, "'%s' (%s) pads the channel axis or is not a constant pad", n->name, op_of(n));
        enqueue(P, si, n->inputs[0], tail);
    } else if (n->op == TB_OP_CONV && depthwise_conv(g, n, C)) {
        add_edit(P, s, ni, 1, 0, 1, 0);
        if (input_or_none(n, 2) >= 0) add_edit(P, s, ni, 2, 0, 1, 0);
        s->dw[s->n_dw++] = ni;
        enqueue(P, si, n->inputs[0], tail);
    } else if (is_binary(n->op)) {
        int r = g->values[n->outputs[0]].rank, live = 0;
        for (int k = 0; k < 2; k++) {
            const tb_value *v = &g->values[n->inputs[k]];
            if (!v->data) {
                if (v->rank != r || v->dims[1] != C)
                    STOP(s, "'%s' (%s) broadcasts the channel axis", n->name, op_of(n));
                enqueue(P, si, n->inputs[k], tail);
                live++;
                continue;
            }
            /* A constant operand, aligned on the right: it either spans the
             * channel axis (and loses the pruned slices) or broadcasts over it. */
            int axis = 1 - (r - v->rank);
            if (axis < 0 || v->dims[axis] == 1) continue;
            if (v->dims[axis] != C || v->dtype != TB_F32)
                STOP(s, "'%s' (%s) has a constant that does not follow the channels", n->name, op_of(n));
            add_edit(P, s, ni, k, axis, 1, 0);
        }
        if (live == 2 && n->op == TB_OP_ADD) s->n_add++;
    } else if (n->op == TB_OP_CONCAT) {
        STOP(s, "its channels reach '%s' (Concat): channels coupled by Concat are left alone%s", n->name, "");
    } else {
        STOP(s, "its channels reach '%s' (%s), which prune-l1 does not handle", n->name, op_of(n));
    }
    enqueue(P, si, n->outputs[0], tail);
}

/* A Flatten of the channels: every user of its output must be a Gemm or
 * MatMul with constant weights, whose rows for the pruned features go. */
static void flatten_sink(pruner *P, int si, int ni, int v) {
    tb_graph *g = P->g;
    space *s = &P->sp[si];
    tb_node *n = &g->nodes[ni];
    int axis;
    tb_error e;
    if (tb_flatten_axis(g, ni, &axis, &e) || axis != 1)
        STOP(s, "'%s' (%s) does not flatten from the channel axis", n->name, op_of(n));
    int f = n->outputs[0];
    if (tb_value_is_graph_output(g, f))
        STOP(s, "its channels reach the graph output '%s'", g->values[f].name, "");
    int64_t inner = 1;
    for (int d = 2; d < g->values[v].rank; d++) inner *= g->values[v].dims[d];
    for (int u = P->use_start[f]; u < P->use_start[f + 1]; u++) {
        int mi = P->use_node[u];
        const tb_node *m = &g->nodes[mi];
        int b = input_or_none(m, 1);
        if (P->use_input[u] != 0 || !const_f32(g, b) || g->values[b].rank != 2)
            STOP(s, "the flattened channels reach '%s' (%s), not the data input of a Gemm/MatMul with constant weights", m->name, op_of(m));
        if (m->op == TB_OP_GEMM && !tb_node_int(m, "transA", 0))
            add_edit(P, s, mi, 1, tb_node_int(m, "transB", 0) ? 1 : 0, inner, 1);
        else if (m->op == TB_OP_MATMUL)
            add_edit(P, s, mi, 1, 0, inner, 1);
        else
            STOP(s, "the flattened channels reach '%s' (%s), not the data input of a Gemm/MatMul with constant weights", m->name, op_of(m));
    }
}

/* Finds the whole channel set that conv `ci` produces (space si). */
static void explore(pruner *P, int si, int ci) {
    tb_graph *g = P->g;
    space *s = &P->sp[si];
    tb_node *c0 = &g->nodes[ci];
    s->C = (int)g->values[c0->outputs[0]].dims[1];
    s->src = scratch(g, (size_t)g->n_nodes, sizeof(int));
    s->dw = scratch(g, (size_t)g->n_nodes, sizeof(int));
    int head = 0, tail = 0;
    enqueue(P, si, c0->outputs[0], &tail);
    while (head < tail && !s->why[0]) {
        int v = P->queue[head++];
        const tb_value *val = &g->values[v];
        if (val->rank < 2 || val->dims[1] != s->C || val->dtype != TB_F32)
            STOP(s, "'%s' does not hold the channels on axis 1", val->name, "");
        if (tb_value_is_graph_output(g, v))
            STOP(s, "its channels reach the graph output '%s'", val->name, "");
        int p = val->producer;
        if (p < 0) STOP(s, "its channels meet '%s', a graph input or constant", val->name, "");
        tb_node *pn = &g->nodes[p];
        if (pn->op == TB_OP_CONV && tb_node_int(pn, "group", 1) == 1 && pn->outputs[0] == v) {
            if (!regular_conv(g, pn))
                STOP(s, "its channels meet '%s' (Conv), whose weights or bias are not constant", pn->name, "");
            int seen = 0;
            for (int k = 0; k < s->n_src; k++) seen |= s->src[k] == p;
            if (!seen) {
                s->src[s->n_src++] = p;
                add_edit(P, s, p, 1, 0, 1, 0);
                if (input_or_none(pn, 2) >= 0) add_edit(P, s, p, 2, 0, 1, 0);
            }
        } else {
            join_node(P, si, p, &tail);
        }
        for (int u = P->use_start[v]; u < P->use_start[v + 1] && !s->why[0]; u++) {
            int ni = P->use_node[u], k = P->use_input[u];
            tb_node *n = &g->nodes[ni];
            if (n->op == TB_OP_CONV && k == 0 && tb_node_int(n, "group", 1) == 1) {
                if (!const_f32(g, n->inputs[1]))
                    block(s, "its channels reach '%s' (Conv), whose weights are not constant", n->name, "");
                else
                    add_edit(P, s, ni, 1, 1, 1, 1);
            } else if (n->op == TB_OP_FLATTEN) {
                flatten_sink(P, si, ni, v);
            } else if (k == 0 || is_binary(n->op) || !(is_unary(n->op) || n->op == TB_OP_BATCHNORM || n->op == TB_OP_PAD || n->op == TB_OP_CONV)) {
                join_node(P, si, ni, &tail);
            } else {
                block(s, "its channels are input %s of '%s', which prune-l1 does not slice", k == 1 ? "1" : "2+", n->name);
            }
        }
    }
}

/* ---- ranking ------------------------------------------------------------ */

static const double *sort_key;
static int by_score(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    if (sort_key[x] != sort_key[y]) return sort_key[x] < sort_key[y] ? -1 : 1;
    return x - y; /* ties: the lower channel goes first */
}

static void rank_filters(tb_graph *g, space *s) {
    s->score = scratch(g, (size_t)s->C, sizeof(double));
    s->order = scratch(g, (size_t)s->C, sizeof(int));
    for (int k = 0; k < s->n_src; k++) {
        const tb_value *w = &g->values[g->nodes[s->src[k]].inputs[1]];
        const float *d = w->data;
        int64_t per = tb_value_numel(w) / s->C;
        for (int c = 0; c < s->C; c++)
            for (int64_t i = 0; i < per; i++) s->score[c] += fabs((double)d[c * per + i]);
    }
    double sum = 0;
    for (int c = 0; c < s->C; c++) s->order[c] = c, sum += s->score[c];
    s->mean_score = sum / s->C;
    sort_key = s->score;
    qsort(s->order, (size_t)s->C, sizeof(int), by_score);
}

/* ---- weight bytes as a function of the filters kept ---------------------- */

/* The constant slots that pruning edits; bytes are f32 weight bytes. */
typedef struct {
    int node, input;
    int64_t bytes0;
    int n;
    int sp[4];
} slot;

typedef struct {
    int n_slots;
    slot *slots;
    int64_t fixed; /* bytes of the f32 weights no pruning touches */
} bytes_model;

static void build_bytes_model(pruner *P, bytes_model *B) {
    tb_graph *g = P->g;
    int cap = 0;
    for (int i = 0; i < P->n_sp; i++) cap += P->sp[i].why[0] ? 0 : P->sp[i].n_edits;
    B->slots = scratch(g, (size_t)cap, sizeof(slot));
    B->n_slots = 0;
    for (int i = 0; i < P->n_sp; i++) {
        const space *s = &P->sp[i];
        if (s->why[0]) continue;
        for (int e = 0; e < s->n_edits; e++) {
            const edit *ed = &s->edits[e];
            int k = 0;
            while (k < B->n_slots && (B->slots[k].node != ed->node || B->slots[k].input != ed->input)) k++;
            if (k == B->n_slots) {
                B->slots[k] = (slot){ed->node, ed->input, (int64_t)tb_value_bytes(&g->values[g->nodes[ed->node].inputs[ed->input]]), 0, {0}};
                B->n_slots++;
            }
            if (B->slots[k].n < 4) B->slots[k].sp[B->slots[k].n++] = i;
        }
    }
    B->fixed = tb_graph_float_weight_bytes(g);
    /* The edited constants are counted per slot below (a constant shared by
     * two edited slots would become two constants). */
    unsigned char *seen = calloc((size_t)g->n_values + 1, 1);
    TB_ASSERT(seen);
    for (int k = 0; k < B->n_slots; k++) {
        int v = g->nodes[B->slots[k].node].inputs[B->slots[k].input];
        if (!seen[v]) B->fixed -= B->slots[k].bytes0, seen[v] = 1;
    }
    free(seen);
}

/* Total f32 weight bytes with every space at C - removed filters (minus
 * `extra` more for space `which`, when which >= 0). */
static double bytes_with(const pruner *P, const bytes_model *B, int which, int extra) {
    double total = (double)B->fixed;
    for (int k = 0; k < B->n_slots; k++) {
        double b = (double)B->slots[k].bytes0;
        for (int j = 0; j < B->slots[k].n; j++) {
            const space *s = &P->sp[B->slots[k].sp[j]];
            b *= (double)(s->C - s->removed - (B->slots[k].sp[j] == which ? extra : 0)) / s->C;
        }
        total += b;
    }
    return total;
}

/* ---- sensitivity on calibration samples ----------------------------------- */

typedef struct {
    int n, numel;       /* samples, floats per sample */
    float *x;
    int64_t out_numel;  /* floats of all graph outputs */
    float *ref;
    void **ptr;         /* per value: its buffer */
    unsigned char *owned;
} calib;

/* Reads raw float32 samples or a little-endian float32 .npy. */
static int load_calib(tb_graph *g, const char *path, calib *cb, tb_error *err) {
    if (g->n_inputs != 1 || g->values[g->inputs[0]].dtype != TB_F32)
        return tb_error_set(err, "prune-l1: calib needs a graph with one f32 input");
    FILE *f = fopen(path, "rb");
    if (!f) return tb_error_set(err, "prune-l1: cannot read calib file '%s'", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(size > 0 ? (size_t)size : 1);
    TB_ASSERT(buf);
    size_t got = fread(buf, 1, (size_t)(size > 0 ? size : 0), f);
    fclose(f);
    size_t off = 0;
    if (got >= 10 && !memcmp(buf, "\x93NUMPY", 6)) {
        size_t hl = buf[6] == 1 ? (size_t)(unsigned char)buf[8] | (size_t)(unsigned char)buf[9] << 8
                                : (got >= 12 ? (size_t)(unsigned char)buf[8] | (size_t)(unsigned char)buf[9] << 8 |
                                                   (size_t)(unsigned char)buf[10] << 16 | (size_t)(unsigned char)buf[11] << 24 : got);
        off = (buf[6] == 1 ? 10 : 12) + hl;
        char head[512] = {0};
        memcpy(head, buf, off < got && off < sizeof head - 1 ? off : (got < sizeof head - 1 ? got : sizeof head - 1));
        for (size_t i = 0; i < sizeof head - 1; i++) if (!head[i]) head[i] = ' ';
        if (off > got || !strstr(head, "'<f4'") || strstr(head, "'fortran_order': True")) {
            free(buf);
            return tb_error_set(err, "prune-l1: calib file '%s' is not a float32 C-order .npy", path);
        }
    }
    cb->numel = (int)tb_value_numel(&g->values[g->inputs[0]]);
    size_t per = (size_t)cb->numel * sizeof(float);
    if (got - off < per || (got - off) % per) {
        free(buf);
        return tb_error_set(err, "prune-l1: calib file '%s' holds %zu bytes of samples, not a multiple of one input (%zu bytes)",
                            path, got - off, per);
    }
    cb->n = (int)((got - off) / per);
    if (cb->n > CALIB_MAX_SAMPLES) cb->n = CALIB_MAX_SAMPLES;
    cb->x = malloc((size_t)cb->n * per);
    TB_ASSERT(cb->x);
    memcpy(cb->x, buf + off, (size_t)cb->n * per);
    free(buf);
    return 0;
}

/* Runs the graph on sample i; the outputs go to out (all graph outputs in order). */
static int run_sample(tb_graph *g, calib *cb, int i, float *out, tb_error *err) {
    memcpy(cb->ptr[g->inputs[0]], cb->x + (size_t)i * cb->numel, (size_t)cb->numel * sizeof(float));
    for (int ni = 0; ni < g->n_nodes; ni++)
        if (!g->nodes[ni].dead && tb_interp_node(g, ni, cb->ptr, err)) return 1;
    for (int k = 0; k < g->n_outputs; k++) {
        const tb_value *v = &g->values[g->outputs[k]];
        int64_t n = tb_value_numel(v);
        if (v->dtype == TB_F32) memcpy(out, cb->ptr[g->outputs[k]], (size_t)n * sizeof(float));
        out += n;
    }
    return 0;
}

/* Relative squared error of the outputs over the samples against the reference. */
static int output_error(tb_graph *g, calib *cb, double *rel, tb_error *err) {
    float *y = malloc((size_t)(cb->out_numel ? cb->out_numel : 1) * sizeof(float));
    TB_ASSERT(y);
    double num = 0, den = 0;
    for (int i = 0; i < cb->n; i++) {
        if (run_sample(g, cb, i, y, err)) return free(y), 1;
        const float *r = cb->ref + (size_t)i * cb->out_numel;
        for (int64_t j = 0; j < cb->out_numel; j++) num += (double)(y[j] - r[j]) * (y[j] - r[j]), den += (double)r[j] * r[j];
    }
    free(y);
    *rel = den > 0 ? num / den : num;
    return 0;
}

/* For each prunable layer, the output error of the float graph when its
 * smallest 10%, 20%, ... 90% and all but one filters are gone (others
 * intact). Removing a channel is simulated by zeroing its slices in the
 * consumers (the sink slices), which gives exactly the pruned output. */
static int measure_sensitivity(pruner *P, calib *cb, tb_error *err) {
    tb_graph *g = P->g;
    /* Lowering in tb_interp_node may add derived constants: the arrays cover
     * the values there are now, and nothing past nv is ever looked up. */
    const int nv = g->n_values;
    cb->ptr = calloc((size_t)nv, sizeof(void *));
    cb->owned = calloc((size_t)nv, 1);
    TB_ASSERT(cb->ptr && cb->owned);
    for (int v = 0; v < nv; v++) {
        if (g->values[v].data) { cb->ptr[v] = g->values[v].data; continue; }
        if (g->values[v].rank < 0) continue;
        cb->ptr[v] = calloc(tb_value_bytes(&g->values[v]) + 16, 1);
        cb->owned[v] = 1;
        TB_ASSERT(cb->ptr[v]);
    }
    cb->out_numel = 0;
    for (int k = 0; k < g->n_outputs; k++) cb->out_numel += tb_value_numel(&g->values[g->outputs[k]]);
    cb->ref = malloc((size_t)cb->n * (size_t)(cb->out_numel ? cb->out_numel : 1) * sizeof(float));
    TB_ASSERT(cb->ref);
    int rc = 0;
    for (int i = 0; i < cb->n && !rc; i++) rc = run_sample(g, cb, i, cb->ref + (size_t)i * cb->out_numel, err);
    for (int si = 0; si < P->n_sp && !rc; si++) {
        space *s = &P->sp[si];
        if (s->why[0]) continue;
        s->n_grid = 0;
        s->grid[s->n_grid] = 0, s->err_at[s->n_grid++] = 0;
        for (int j = 1; j <= SENS_STEPS && !rc; j++) {
            int m = j == SENS_STEPS ? s->C - 1 : (int)((int64_t)j * s->C / SENS_STEPS);
            if (m > s->C - 1) m = s->C - 1;
            if (m <= s->grid[s->n_grid - 1]) continue;
            /* Zero the sink slices of channels order[0..m): each sink
             * constant gets a zeroed copy for the run, then its own back. */
            int *sv = malloc((size_t)s->n_edits * sizeof *sv);
            void **orig = malloc((size_t)s->n_edits * sizeof *orig);
            TB_ASSERT(sv && orig);
            int n_saved = 0;
            for (int e = 0; e < s->n_edits; e++) {
                const edit *ed = &s->edits[e];
                if (!ed->sink) continue;
                int v = g->nodes[ed->node].inputs[ed->input];
                const tb_value *w = &g->values[v];
                float *z = malloc(tb_value_bytes(w));
                TB_ASSERT(z);
                memcpy(z, cb->ptr[v], tb_value_bytes(w));
                int64_t outer = 1, after = 1;
                for (int d = 0; d < ed->axis; d++) outer *= w->dims[d];
                for (int d = ed->axis + 1; d < w->rank; d++) after *= w->dims[d];
                for (int q = 0; q < m; q++)
                    for (int64_t o = 0; o < outer; o++)
                        memset(z + (o * w->dims[ed->axis] + s->order[q] * ed->inner) * after, 0,
                               (size_t)(ed->inner * after) * sizeof(float));
                sv[n_saved] = v, orig[n_saved++] = cb->ptr[v];
                cb->ptr[v] = z;
            }
            double e_rel = 0;
            rc = output_error(g, cb, &e_rel, err);
            while (n_saved-- > 0) {
                free(cb->ptr[sv[n_saved]]);
                cb->ptr[sv[n_saved]] = orig[n_saved];
            }
            free(sv), free(orig);
            /* Keep the curve non-decreasing: more removed never counts as better. */
            if (e_rel < s->err_at[s->n_grid - 1]) e_rel = s->err_at[s->n_grid - 1];
            s->grid[s->n_grid] = m, s->err_at[s->n_grid++] = e_rel;
        }
    }
    for (int v = 0; v < nv; v++)
        if (cb->owned[v]) free(cb->ptr[v]);
    free(cb->ptr), free(cb->owned), free(cb->ref), free(cb->x);
    return rc;
}

/* The measured error with m filters removed, linear between grid points. */
static double err_removed(const space *s, int m) {
    for (int i = 1; i < s->n_grid; i++)
        if (m <= s->grid[i]) {
            double t = (double)(m - s->grid[i - 1]) / (s->grid[i] - s->grid[i - 1]);
            return s->err_at[i - 1] + t * (s->err_at[i] - s->err_at[i - 1]);
        }
    return s->err_at[s->n_grid - 1];
}

/* ---- options -------------------------------------------------------------- */

static int parse_ratio(const char *text, const char *what, double *out, tb_error *err) {
    char *end;
    double r = strtod(text, &end);
    if (end == text || *end || !(r >= 0 && r < 1))
        return tb_error_set(err, "prune-l1: %s '%s' must be a number in [0, 1)", what, text);
    *out = r;
    return 0;
}

static int parse_bytes(const char *text, double *out, tb_error *err) {
    char *end;
    double b = strtod(text, &end);
    if (end != text && (*end == 'K' || *end == 'k')) b *= 1024, end++;
    else if (end != text && (*end == 'M' || *end == 'm')) b *= 1024 * 1024, end++;
    if (end == text || *end || !(b > 0))
        return tb_error_set(err, "prune-l1: prune-budget '%s' is not a byte count (e.g. 60000, 64K, 1.5M)", text);
    *out = b;
    return 0;
}

/* Removes floor(ratio * C) filters, C - 1 at most. */
static int ratio_count(double ratio, int C) {
    int m = (int)floor(ratio * C + 1e-9);
    return m > C - 1 ? C - 1 : m;
}

/* ---- applying the decision ------------------------------------------------ */

/* A copy of constant v keeping, along each listed axis, only the kept indices. */
static void slice_slot(tb_graph *g, int node, int input, const space *sp, const int *which, int n) {
    int v = g->nodes[node].inputs[input];
    const tb_value *w = &g->values[v];
    int rank = w->rank;
    int64_t dims[TB_MAX_RANK];
    memcpy(dims, w->dims, sizeof dims);
    float *cur = malloc(tb_value_bytes(w) + 4);
    TB_ASSERT(cur);
    memcpy(cur, w->data, tb_value_bytes(w));
    for (int j = 0; j < n; j++) {
        const space *s = &sp[which[2 * j]];
        const edit *ed = &s->edits[which[2 * j + 1]];
        int keep = s->C - s->removed;
        /* Kept channels in their original order. */
        unsigned char *gone = calloc((size_t)s->C, 1);
        TB_ASSERT(gone);
        for (int q = 0; q < s->removed; q++) gone[s->order[q]] = 1;
        int64_t outer = 1, after = 1;
        for (int d = 0; d < ed->axis; d++) outer *= dims[d];
        for (int d = ed->axis + 1; d < rank; d++) after *= dims[d];
        int64_t D = dims[ed->axis], nD = (int64_t)keep * ed->inner;
        TB_ASSERT(D == (int64_t)s->C * ed->inner);
        float *next = malloc((size_t)(outer * nD * after) * sizeof(float) + 4);
        TB_ASSERT(next);
        float *o = next;
        for (int64_t a = 0; a < outer; a++)
            for (int c = 0; c < s->C; c++) {
                if (gone[c]) continue;
                size_t run = (size_t)(ed->inner * after);
                memcpy(o, cur + (a * D + c * ed->inner) * after, run * sizeof(float));
                o += run;
            }
        free(gone);
        free(cur);
        cur = next;
        dims[ed->axis] = nD;
    }
    char name[512];
    snprintf(name, sizeof name, "%s.pruned", w->name);
    for (int k = 2; tb_graph_find_value(g, name) >= 0; k++) snprintf(name, sizeof name, "%s.pruned%d", w->name, k);
    int nv = tb_graph_add_const(g, name, TB_F32, rank, dims, cur);
    free(cur);
    g->nodes[node].inputs[input] = nv;
}

static void apply(pruner *P) {
    tb_graph *g = P->g;
    /* Group the edits by constant slot: a Conv may lose filters (axis 0)
     * and input channels (axis 1) at once. */
    int total = 0;
    for (int i = 0; i < P->n_sp; i++)
        if (!P->sp[i].why[0] && P->sp[i].removed) total += P->sp[i].n_edits;
    int *which = scratch(g, (size_t)total * 2, sizeof(int));
    unsigned char *done = scratch(g, (size_t)total, 1);
    int *flat = scratch(g, (size_t)total * 2, sizeof(int));
    int n = 0;
    for (int i = 0; i < P->n_sp; i++)
        if (!P->sp[i].why[0] && P->sp[i].removed)
            for (int e = 0; e < P->sp[i].n_edits; e++) flat[2 * n] = i, flat[2 * n + 1] = e, n++;
    for (int a = 0; a < n; a++) {
        if (done[a]) continue;
        const edit *ea = &P->sp[flat[2 * a]].edits[flat[2 * a + 1]];
        int m = 0;
        for (int b = a; b < n; b++) {
            const edit *eb = &P->sp[flat[2 * b]].edits[flat[2 * b + 1]];
            if (done[b] || eb->node != ea->node || eb->input != ea->input) continue;
            done[b] = 1;
            which[2 * m] = flat[2 * b], which[2 * m + 1] = flat[2 * b + 1];
            m++;
        }
        slice_slot(g, ea->node, ea->input, P->sp, which, m);
    }
    for (int i = 0; i < P->n_sp; i++) {
        const space *s = &P->sp[i];
        if (s->why[0] || !s->removed) continue;
        for (int k = 0; k < s->n_dw; k++) tb_node_set_int(g, s->dw[k], "group", s->C - s->removed);
    }
}

/* ---- the pass -------------------------------------------------------------- */

static void report(FILE *out, pruner *P, const int64_t *params0, const int64_t *macs0,
                   int64_t tp0, int64_t tm0, int64_t wb0) {
    tb_graph *g = P->g;
    fprintf(out, "prune-l1: channels joined by Add are pruned as one group (summed L1 norm); Concat blocks pruning\n");
    fprintf(out, "prune-l1: %-40s %15s %21s %25s  %s\n", "layer", "filters", "params", "MACs", "group");
    for (int i = 0; i < P->n_sp; i++) {
        const space *s = &P->sp[i];
        for (int k = 0; k < s->n_src; k++) {
            int ni = s->src[k];
            char f[32], p[48], m[64];
            snprintf(f, sizeof f, "%d -> %d", s->C, s->why[0] ? s->C : s->C - s->removed);
            snprintf(p, sizeof p, "%lld -> %lld", (long long)params0[ni], (long long)tb_node_params(g, ni));
            snprintf(m, sizeof m, "%lld -> %lld", (long long)macs0[ni], (long long)tb_node_macs(g, ni));
            fprintf(out, "prune-l1: %-40s %15s %21s %25s", g->nodes[ni].name, f, p, m);
            if (s->n_src > 1) fprintf(out, "  Add group of %d (led by '%s')", s->n_src, g->nodes[s->src[0]].name);
            fputc('\n', out);
        }
        if (s->why[0]) fprintf(out, "prune-l1: '%s' not pruned: %s\n", g->nodes[s->src[0]].name, s->why);
    }
    fprintf(out, "prune-l1: total params %lld -> %lld, MACs %lld -> %lld, f32 weight bytes %lld -> %lld\n",
            (long long)tp0, (long long)tb_graph_params(g), (long long)tm0, (long long)tb_graph_macs(g),
            (long long)wb0, (long long)tb_graph_float_weight_bytes(g));
}

int tb_pass_prune_l1(tb_graph *g, tb_pass_context *ctx, tb_error *err) {
    double ratio = 0, budget = 0;
    const char *calib_path = tb_pass_option(ctx, "calib", NULL);
    const char *text = tb_pass_option(ctx, "prune", NULL);
    if (text && parse_ratio(text, "prune ratio", &ratio, err)) return 1;
    text = tb_pass_option(ctx, "prune-budget", NULL);
    if (text && parse_bytes(text, &budget, err)) return 1;
    const char *layers[TB_MAX_PASS_OPTIONS];
    int n_layers = tb_pass_options(ctx, "prune-layer", layers, TB_MAX_PASS_OPTIONS);
    const char *layer_name[TB_MAX_PASS_OPTIONS];
    size_t layer_len[TB_MAX_PASS_OPTIONS];
    double layer_ratio[TB_MAX_PASS_OPTIONS];
    for (int k = 0; k < n_layers; k++) {
        const char *eq = strrchr(layers[k], '=');
        if (!eq || eq == layers[k])
            return tb_error_set(err, "prune-l1: prune-layer '%s' must be NAME=RATIO", layers[k]);
        layer_name[k] = layers[k], layer_len[k] = (size_t)(eq - layers[k]);
        if (parse_ratio(eq + 1, "prune-layer ratio", &layer_ratio[k], err)) return 1;
        int found = -1;
        for (int i = 0; i < g->n_nodes && found < 0; i++)
            if (!g->nodes[i].dead && strlen(g->nodes[i].name) == layer_len[k] && !strncmp(g->nodes[i].name, layers[k], layer_len[k])) found = i;
        if (found < 0) return tb_error_set(err, "prune-l1: prune-layer: no node named '%.*s'", (int)layer_len[k], layers[k]);
        if (g->nodes[found].op != TB_OP_CONV)
            return tb_error_set(err, "prune-l1: prune-layer: node '%.*s' is a %s, not a Conv", (int)layer_len[k], layers[k], op_of(&g->nodes[found]));
    }

    pruner P = {.g = g};
    build_uses(&P);
    P.val_space = scratch(g, (size_t)g->n_values, sizeof(int));
    P.node_space = scratch(g, (size_t)g->n_nodes, sizeof(int));
    P.queue = scratch(g, (size_t)g->n_values, sizeof(int));
    P.sp = scratch(g, (size_t)g->n_nodes, sizeof(space));
    for (int v = 0; v < g->n_values; v++) P.val_space[v] = -1;
    for (int i = 0; i < g->n_nodes; i++) P.node_space[i] = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        tb_node *n = &g->nodes[i];
        if (n->dead || n->op != TB_OP_CONV || tb_node_int(n, "group", 1) != 1) continue;
        if (P.val_space[n->outputs[0]] >= 0) continue; /* found with another producer of its group */
        int si = P.n_sp++;
        explore(&P, si, i);
        space *s = &P.sp[si];
        if (!s->n_src) s->src[s->n_src++] = i; /* blocked before it was recorded */
        if (!s->why[0] && s->C < 2) block(s, "it has a single filter, which it keeps", "", "");
    }

    /* Ratios: the global one, or the last prune-layer naming a producer. */
    for (int si = 0; si < P.n_sp; si++) {
        space *s = &P.sp[si];
        s->ratio = ratio;
        for (int k = 0; k < n_layers; k++)
            for (int j = 0; j < s->n_src; j++) {
                const char *nm = g->nodes[s->src[j]].name;
                if (strlen(nm) == layer_len[k] && !strncmp(nm, layer_name[k], layer_len[k])) s->ratio = layer_ratio[k];
            }
        if (s->why[0]) continue;
        rank_filters(g, s);
        s->removed = ratio_count(s->ratio, s->C);
    }

    if (budget > 0) {
        bytes_model B;
        build_bytes_model(&P, &B);
        double now = bytes_with(&P, &B, -1, 0);
        int *saved = scratch(g, (size_t)P.n_sp, sizeof(int));
        for (int si = 0; si < P.n_sp; si++) saved[si] = P.sp[si].removed, P.sp[si].removed = P.sp[si].why[0] ? 0 : P.sp[si].C - 1;
        double least = bytes_with(&P, &B, -1, 0);
        for (int si = 0; si < P.n_sp; si++) P.sp[si].removed = saved[si];
        if (budget < least)
            return tb_error_set(err, "prune-l1: prune-budget %.0f bytes is below the smallest size pruning can reach (%.0f bytes of f32 weights with every prunable layer at one filter)", budget, least);
        if (calib_path && now > budget) {
            calib cb = {0};
            if (load_calib(g, calib_path, &cb, err) || measure_sensitivity(&P, &cb, err)) return 1;
            if (ctx->report) fprintf(ctx->report, "prune-l1: sensitivity measured on %d calibration samples\n", cb.n);
        }
        while (now > budget) {
            int best = -1;
            double best_cost = 0, best_l1 = 0;
            for (int si = 0; si < P.n_sp; si++) {
                space *s = &P.sp[si];
                if (s->why[0] || s->removed >= s->C - 1) continue;
                double l1 = s->mean_score > 0 ? s->score[s->order[s->removed]] / s->mean_score : 0;
                /* Importance per byte the filter saves: the normalised L1
                 * norm, or with calibration the measured error it adds. */
                double saves = now - bytes_with(&P, &B, si, 1);
                double cost = l1 / (saves > 0 ? saves : 1e-30);
                if (calib_path) cost = (err_removed(s, s->removed + 1) - err_removed(s, s->removed)) / (saves > 0 ? saves : 1e-30);
                if (best < 0 || cost < best_cost || (cost == best_cost && l1 < best_l1)) best = si, best_cost = cost, best_l1 = l1;
            }
            if (best < 0) break;
            P.sp[best].removed++;
            now = bytes_with(&P, &B, -1, 0);
        }
    } else if (calib_path && ctx->report) {
        fprintf(ctx->report, "prune-l1: calib is only used with prune-budget\n");
    }

    /* Before/after figures for the report; the graph outputs must keep their shapes. */
    int64_t *params0 = scratch(g, (size_t)g->n_nodes, sizeof(int64_t));
    int64_t *macs0 = scratch(g, (size_t)g->n_nodes, sizeof(int64_t));
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i].dead) params0[i] = tb_node_params(g, i), macs0[i] = tb_node_macs(g, i);
    int64_t tp0 = tb_graph_params(g), tm0 = tb_graph_macs(g), wb0 = tb_graph_float_weight_bytes(g);
    int64_t *out_dims = scratch(g, (size_t)g->n_outputs * TB_MAX_RANK, sizeof(int64_t));
    for (int k = 0; k < g->n_outputs; k++) memcpy(out_dims + k * TB_MAX_RANK, g->values[g->outputs[k]].dims, TB_MAX_RANK * sizeof(int64_t));

    apply(&P);
    if (tb_infer_shapes(g, err)) return 1;
    for (int k = 0; k < g->n_outputs; k++)
        TB_ASSERT(!memcmp(out_dims + k * TB_MAX_RANK, g->values[g->outputs[k]].dims, TB_MAX_RANK * sizeof(int64_t)));
    if (ctx->report) report(ctx->report, &P, params0, macs0, tp0, tm0, wb0);
    return 0;
}
