/* round_channels.c - round channel counts up to a multiple of N, exactly.
 *
 * Blocked kernels (and the int8 ones above all) want channel counts that are
 * multiples of a block of N (option channel-multiple, default 8; 1 = off).
 * This pass widens the channels of every depthwise Conv (group == C_in ==
 * C_out: channel multiplier 1) from C to C' = ceil(C / N) * N, and with the
 * option round-all-convs=1 also the output channels of every Conv with
 * group 1. Unlike the PhiNet study, which retrained, it keeps the function:
 * the added channels get zero filters and zero bias, and every reader of
 * those channels gets zero weights for them, so graph outputs do not change.
 *
 *   %e = Conv(%x, %we, %be) {group = 1, ...} : f32[1,58,8,8]
 *   %d = Conv(%e, %wd, %bd) {group = 58, ...} : f32[1,58,8,8]
 *   %c = Concat(%d, %o) {axis = 1} : f32[1,78,8,8]          (%o: 20 channels)
 *   %y = Conv(%c, %wp, %bp) {group = 1, ...} : f32[1,24,8,8]
 * becomes (channel-multiple 8)
 *   %e = Conv(%x, %we.rounded, %be.rounded) {group = 1, ..., channel_block = 8} : f32[1,64,8,8]
 *   %d = Conv(%e, %wd.rounded, %bd.rounded) {group = 64, ..., channel_block = 8} : f32[1,64,8,8]
 *   %c = Concat(%d, %o) {axis = 1} : f32[1,84,8,8]
 *   %y = Conv(%c, %wp.rounded, %bp) {group = 1, ...} : f32[1,24,8,8]
 * where %we.rounded and %wd.rounded have 6 more zero filters, the biases 6
 * more zeros, and %wp.rounded 6 zero input-channel slices at 58..63, between
 * the slices for %d and those for %o (which move from 58..77 to 64..83).
 *
 * A channel group is the set of values that carry the same channels (a
 * depthwise Conv's input and output are in one group: output channel k reads
 * input channel k). It is found with a worklist over producers and users,
 * through the ops that keep channels apart:
 *   - sources (producers whose output channels can simply grow): Conv with
 *     group 1 and constant weights: zero filters, zero bias;
 *   - depthwise Convs: zero filters and bias, group = C';
 *   - per-channel ops: Relu, Clip, LeakyRelu, Sigmoid, HardSigmoid,
 *     HardSwish, Tanh, Abs, Neg, MaxPool, AveragePool, GlobalAveragePool,
 *     GlobalMaxPool, BatchNormalization (added channels: scale 0, bias 0,
 *     mean 0, var 1, so a zero channel stays zero), Flatten at axis 1 and
 *     ReduceMean over spatial axes (a [N,C,1,1] or [N,C,H,W] becomes [N,C]);
 *   - Add, Sub, Mul of same-shape operands: both operands join the group;
 *   - sinks (readers whose input channels can grow): Conv with group 1 and
 *     constant weights gets zero input-channel slices; Gemm (transA = 0)
 *     reading [N, C] gets zero weights for the added features;
 *   - Concat on axis 1: its output is a group of its own, in the same
 *     cluster (below), found the same way from there.
 * Anything else in the cluster (Reshape, Slice, Transpose, Softmax, a
 * Concat on another axis, a broadcast, a grouped Conv, a graph input or
 * output, a constant, a value produced by a Concat other than its group's
 * own) leaves the whole cluster alone, with one report line saying why.
 *
 * Where the channels go: every group maps its C old channels to C' new ones,
 * pos[k] = new index of old channel k, and the channels no k maps to are the
 * added ones. For the seed group (the Conv the search starts from) pos[k] = k
 * and the added channels are appended. A Concat output is its inputs one
 * after the other, each laid out by its own group (an input outside the
 * cluster keeps its channels), so its added channels sit wherever an input's
 * padding lands: Concat(a: 12 -> 16, b: 20) is 36 channels, 12..15 added,
 * b at 16..35. plan() computes that for every Concat of the cluster (Concats
 * of Concats too); every rewrite (weights, BN parameters, Gemm rows) goes
 * through pos, so readers get their zero slices at exactly those places.
 * Groups are rounded one at a time, each on the graph the previous ones left:
 * two widened inputs of one Concat are two clusters, the second seeing the
 * first's zeros as ordinary channels.
 *
 * Why it is exact: the added channels of a source hold clamp(0) (0, or
 * clip_min > 0), and every allowed op maps them to finite values; Concat
 * only moves them; only sinks mix channels, and they multiply the added
 * channels by zero weights. With Conv/Relu/BN/pools/Add/Concat between
 * source and sink they are exactly zero.
 *
 * Each Conv whose output channels were rounded to a multiple of N gets the
 * attribute channel_block = N: the promise that its output channel count is
 * a multiple of N, for lowering to copy into the kernel parameters
 * (docs/passes.md). A depthwise Conv on a Concat output whose new count is
 * not a multiple of N gets no promise (it may seed a group of its own later,
 * which is kept: its input is produced by a Concat).
 * New weights are new constants (old ones may be shared); dce drops the old.
 * Requires static shapes; run after fold-batchnorm so BN has become bias.
 */
#include "passes.h"
#include "shape.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* What a node does (flags). A Conv's output channels follow the group of its
 * output, its input channels the group of its input 0. */
enum {
    R_OUT = 1,     /* Conv: output channels grow (zero filters, zero bias) */
    R_IN = 2,      /* Conv: input channels grow (zero input slices) */
    R_GROUP = 4,   /* depthwise Conv: group = C' */
    R_BN = 8,      /* BatchNormalization: parameters grow (0, 0, 0, 1) */
    R_GEMM = 16,   /* Gemm: features of input A grow (zero weights) */
    R_CONCAT = 32, /* Concat on axis 1: nothing to rewrite, its output is a group */
};

/* Values that carry the same channels, and where they go. */
typedef struct {
    int64_t c, c2;      /* channels now and after rounding */
    int64_t *pos;       /* old channel k becomes channel pos[k]; NULL until planned */
    int concat;         /* node id of the Concat whose output this is, -1 for the seed group */
} group;

/* The seed group (groups[0]) and every Concat output group reached from it:
 * widened all together or not at all. */
typedef struct {
    group *groups;
    int n_groups;
    int *gid;           /* per value id: its group, -1 if none */
    int *list, n;       /* member values, in discovery order (the worklist) */
    int *role;          /* per node id: R_* */
    char why[256];      /* first reason the cluster cannot be widened; "" if none */
} cluster;

static int const_f32(const tb_graph *g, int v) {
    return v >= 0 && g->values[v].data && g->values[v].dtype == TB_F32;
}

/* A node's name for the report: its ONNX name, else its first output's. */
static const char *label(const tb_graph *g, const tb_node *n) {
    return n->name && *n->name ? n->name : g->values[n->outputs[0]].name;
}

/* Depthwise with channel multiplier 1: group == C_in == C_out, w [C,1,kh,kw]. */
static int is_depthwise(const tb_graph *g, const tb_node *n) {
    if (n->op != TB_OP_CONV) return 0;
    const tb_value *x = &g->values[n->inputs[0]], *w = &g->values[n->inputs[1]];
    int64_t grp = tb_node_int(n, "group", 1);
    return grp > 1 && x->dims[1] == grp && w->dims[0] == grp && w->dims[1] == 1;
}

static int conv_consts(const tb_graph *g, const tb_node *n) {
    return const_f32(g, n->inputs[1]) && (n->n_inputs < 3 || n->inputs[2] < 0 || const_f32(g, n->inputs[2]));
}

static int per_channel_unary(tb_op op) {
    switch (op) {
    case TB_OP_RELU: case TB_OP_CLIP: case TB_OP_LEAKYRELU: case TB_OP_SIGMOID: case TB_OP_HARDSIGMOID:
    case TB_OP_HARDSWISH: case TB_OP_TANH: case TB_OP_ABS: case TB_OP_NEG: case TB_OP_MAXPOOL:
    case TB_OP_AVGPOOL: case TB_OP_GLOBALAVGPOOL: case TB_OP_GLOBALMAXPOOL:
        return 1;
    default:
        return 0;
    }
}

static void __attribute__((format(printf, 2, 3))) fail(cluster *s, const char *fmt, ...) {
    if (s->why[0]) return; /* the first reason is the one reported */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->why, sizeof s->why, fmt, ap);
    va_end(ap);
}

/* Value v joins group k. */
static void push(tb_graph *g, cluster *s, int k, int v) {
    if (v < 0 || s->gid[v] == k) return;
    tb_value *x = &g->values[v];
    if (s->gid[v] >= 0) { fail(s, "the channels of '%s' would be placed two ways", x->name); return; }
    s->gid[v] = k;
    s->list[s->n++] = v;
    if (x->dtype != TB_F32 || x->rank < 2 || x->dims[1] != s->groups[k].c) fail(s, "the channels of '%s' change", x->name);
    else if (tb_value_is_graph_input(g, v)) fail(s, "it reaches the graph input '%s'", x->name);
    else if (tb_value_is_graph_output(g, v)) fail(s, "it reaches the graph output '%s'", x->name);
    else if (x->data || x->producer < 0) fail(s, "it reaches the constant '%s'", x->name);
}

/* Same shape as the node's output: no broadcasting over the channels. */
static int same_shape_operands(const tb_graph *g, const tb_node *n) {
    const tb_value *y = &g->values[n->outputs[0]];
    for (int k = 0; k < 2; k++) {
        const tb_value *a = &g->values[n->inputs[k]];
        if (a->rank != y->rank || memcmp(a->dims, y->dims, sizeof a->dims)) return 0;
    }
    return 1;
}

/* Flatten at axis 1 and ReduceMean over other axes than N and C keep the
 * channel axis at 1 (the channel count itself is checked on the output). */
static int keeps_channel_axis(tb_graph *g, int node) {
    tb_node *n = &g->nodes[node];
    tb_error e;
    if (n->op == TB_OP_FLATTEN) {
        int axis;
        return !tb_flatten_axis(g, node, &axis, &e) && axis == 1;
    }
    if (n->op == TB_OP_REDUCEMEAN) {
        int mask[TB_MAX_RANK], keep;
        return !tb_reduce_axes(g, node, mask, &keep, &e) && !mask[0] && !mask[1];
    }
    return 0;
}

/* The producer p of a member value of group k. */
static void visit_producer(tb_graph *g, cluster *s, int p, int k) {
    tb_node *n = &g->nodes[p];
    if (p == s->groups[k].concat) return; /* the group's own Concat: its inputs keep their groups */
    if (n->op == TB_OP_CONV) {
        if (!conv_consts(g, n)) { fail(s, "the Conv '%s' has weights that are not constants", label(g, n)); return; }
        if (is_depthwise(g, n)) {
            s->role[p] |= R_OUT | R_GROUP;
            push(g, s, k, n->inputs[0]);
        } else if (tb_node_int(n, "group", 1) == 1) {
            s->role[p] |= R_OUT;
        } else {
            fail(s, "the grouped Conv '%s' is not depthwise with multiplier 1", label(g, n));
        }
    } else if (per_channel_unary(n->op) || keeps_channel_axis(g, p)) {
        push(g, s, k, n->inputs[0]);
    } else if (n->op == TB_OP_BATCHNORM && n->n_outputs == 1) {
        for (int i = 1; i < 5; i++)
            if (!const_f32(g, n->inputs[i])) {
                fail(s, "'%s' has parameters that are not constants", label(g, n));
                return;
            }
        s->role[p] |= R_BN;
        push(g, s, k, n->inputs[0]);
    } else if ((n->op == TB_OP_ADD || n->op == TB_OP_SUB || n->op == TB_OP_MUL) && same_shape_operands(g, n)) {
        push(g, s, k, n->inputs[0]);
        push(g, s, k, n->inputs[1]);
    } else {
        fail(s, "it is produced by the %s '%s'", tb_op_name(n->op), label(g, n));
    }
}

/* Node u reads value v of group k as input i. */
static void visit_user(tb_graph *g, cluster *s, int u, int i, int k) {
    tb_node *n = &g->nodes[u];
    if (n->op == TB_OP_CONV && i == 0) {
        if (!conv_consts(g, n)) { fail(s, "the Conv '%s' has weights that are not constants", label(g, n)); return; }
        if (is_depthwise(g, n)) {
            s->role[u] |= R_OUT | R_GROUP;
            push(g, s, k, n->outputs[0]);
        } else if (tb_node_int(n, "group", 1) == 1) {
            s->role[u] |= R_IN;
        } else {
            fail(s, "the grouped Conv '%s' is not depthwise with multiplier 1", label(g, n));
        }
    } else if (n->op == TB_OP_GEMM && i == 0) {
        if (!const_f32(g, n->inputs[1]) || tb_node_int(n, "transA", 0) || g->values[n->inputs[0]].rank != 2) {
            fail(s, "the Gemm '%s' has non-constant weights or transA", label(g, n));
            return;
        }
        s->role[u] |= R_GEMM;
    } else if (i == 0 && (per_channel_unary(n->op) || keeps_channel_axis(g, u))) {
        push(g, s, k, n->outputs[0]);
    } else if (i == 0 && n->op == TB_OP_BATCHNORM && n->n_outputs == 1) {
        visit_producer(g, s, u, k); /* same checks, from the output side */
        push(g, s, k, n->outputs[0]);
    } else if ((n->op == TB_OP_ADD || n->op == TB_OP_SUB || n->op == TB_OP_MUL) && same_shape_operands(g, n)) {
        push(g, s, k, n->inputs[1 - i]);
        push(g, s, k, n->outputs[0]);
    } else if (n->op == TB_OP_CONCAT) {
        int axis = -1;
        tb_error e;
        if (tb_concat_axis(g, u, &axis, &e) || axis != 1) {
            fail(s, "it is read by the Concat '%s' on axis %d, not the channels", label(g, n), axis);
            return;
        }
        /* The output is a group of its own (first visit through any input). */
        s->role[u] |= R_CONCAT;
        int y = n->outputs[0];
        if (s->gid[y] < 0) {
            s->groups[s->n_groups] = (group){.c = g->values[y].dims[1], .concat = u};
            push(g, s, s->n_groups++, y);
        }
    } else {
        fail(s, "it is read by the %s '%s'", tb_op_name(n->op), label(g, n));
    }
}

static void analyse(tb_graph *g, cluster *s, int seed) {
    push(g, s, 0, seed);
    for (int j = 0; j < s->n; j++) {
        int v = s->list[j], k = s->gid[v];
        tb_value *x = &g->values[v];
        if (x->producer >= 0 && !x->data) visit_producer(g, s, x->producer, k);
        for (int u = 0; u < g->n_nodes; u++) {
            tb_node *n = &g->nodes[u];
            if (n->dead) continue;
            for (int i = 0; i < n->n_inputs; i++)
                if (n->inputs[i] == v) visit_user(g, s, u, i, k);
        }
    }
}

/* Where the channels go. The seed group's C channels stay in place and the
 * new ones are appended (pos[k] = k, C' = ceil(C / N) * N). A Concat output
 * is its inputs one after the other, each input laid out as its group says
 * (an input outside the cluster keeps its channels):
 *   Concat(a: 12 -> 16, b: 20): pos = 0..11 for a, 16..35 for b; 36 channels,
 *   12..15 the new ones.
 * A Concat is planned once all its inputs are; returns 1 if some never are. */
static int plan(tb_graph *g, cluster *s) {
    group *a = &s->groups[0];
    a->pos = tb_alloc(g->pool, (size_t)a->c * sizeof *a->pos);
    for (int64_t k = 0; k < a->c; k++) a->pos[k] = k;
    for (int progress = 1; progress;) {
        progress = 0;
        for (int d = 1; d < s->n_groups; d++) {
            group *cat = &s->groups[d];
            const tb_node *n = &g->nodes[cat->concat];
            int ready = !cat->pos;
            for (int i = 0; i < n->n_inputs && ready; i++)
                ready = s->gid[n->inputs[i]] < 0 || s->groups[s->gid[n->inputs[i]]].pos;
            if (!ready) continue;
            cat->pos = tb_alloc(g->pool, (size_t)cat->c * sizeof *cat->pos);
            int64_t old = 0, now = 0;
            for (int i = 0; i < n->n_inputs; i++) {
                int64_t c = g->values[n->inputs[i]].dims[1];
                const group *in = s->gid[n->inputs[i]] >= 0 ? &s->groups[s->gid[n->inputs[i]]] : NULL;
                for (int64_t k = 0; k < c; k++) cat->pos[old + k] = now + (in ? in->pos[k] : k);
                old += c;
                now += in ? in->c2 : c;
            }
            cat->c2 = now;
            progress = 1;
        }
    }
    for (int d = 1; d < s->n_groups; d++)
        if (!s->groups[d].pos) {
            fail(s, "the Concats '%s' and others depend on each other", label(g, &g->nodes[s->groups[d].concat]));
            return 1;
        }
    return 0;
}

/* A new constant named base.rounded (base.rounded2, ... when taken). */
static int add_const(tb_graph *g, const char *base, int rank, const int64_t *dims, const float *data) {
    char name[300];
    snprintf(name, sizeof name, "%s.rounded", base);
    for (int k = 2; tb_graph_find_value(g, name) >= 0; k++) snprintf(name, sizeof name, "%s.rounded%d", base, k);
    return tb_graph_add_const(g, name, TB_F32, rank, dims, data);
}

/* The constant v [d0, d1, rest] (rank 1 and 2 too) copied into a new
 * [n0, n1, rest]: entry (i, j) moves to (p0[i], p1[j]) (a NULL map keeps the
 * index). Rows that get no old row are filled with fill, the other new
 * entries with 0. Returns the new constant. */
static int widen(tb_graph *g, int v, int64_t n0, const int64_t *p0, int64_t n1, const int64_t *p1, float fill) {
    tb_value *x = &g->values[v];
    int rank = x->rank;
    int64_t d0 = x->dims[0], d1 = rank > 1 ? x->dims[1] : 1, inner = 1;
    for (int i = 2; i < rank; i++) inner *= x->dims[i];
    if (rank < 2) n1 = 1;
    float *out = tb_alloc(g->pool, (size_t)(n0 * n1 * inner) * sizeof *out);
    char *old_row = tb_alloc(g->pool, (size_t)n0);
    for (int64_t i = 0; i < d0; i++) old_row[p0 ? p0[i] : i] = 1;
    for (int64_t i = 0; i < n0; i++)
        for (int64_t e = 0; !old_row[i] && e < n1 * inner; e++) out[i * n1 * inner + e] = fill;
    const float *in = x->data;
    for (int64_t i = 0; i < d0; i++)
        for (int64_t j = 0; j < d1; j++)
            memcpy(&out[((p0 ? p0[i] : i) * n1 + (p1 ? p1[j] : j)) * inner], &in[(i * d1 + j) * inner],
                   (size_t)inner * sizeof *out);
    int64_t dims[TB_MAX_RANK];
    memcpy(dims, x->dims, sizeof dims);
    dims[0] = n0;
    if (rank > 1) dims[1] = n1;
    char base[256];
    snprintf(base, sizeof base, "%s", x->name);
    char *suffix = strstr(base, ".rounded"); /* widened again: w.rounded2, not w.rounded.rounded */
    if (suffix && suffix[strspn(suffix + 8, "0123456789") + 8] == 0) *suffix = 0;
    return add_const(g, base, rank, dims, out);
}

static void rewrite(tb_graph *g, cluster *s, int n_nodes, int64_t block) {
    for (int i = 0; i < n_nodes; i++) {
        int r = s->role[i];
        tb_node *n = &g->nodes[i];
        if (!r) continue;
        int gi = s->gid[n->inputs[0]], go = s->gid[n->outputs[0]];
        const group *in = gi >= 0 ? &s->groups[gi] : NULL, *out = go >= 0 ? &s->groups[go] : NULL;
        if (n->op == TB_OP_CONV) {
            /* w [C_out, C_in / group, kh, kw]: rows follow the output, columns the input. */
            const tb_value *w = &g->values[n->inputs[1]];
            int wid = widen(g, n->inputs[1], r & R_OUT ? out->c2 : w->dims[0], r & R_OUT ? out->pos : NULL,
                            r & R_IN ? in->c2 : w->dims[1], r & R_IN ? in->pos : NULL, 0.0f);
            n = &g->nodes[i];
            n->inputs[1] = wid;
            if ((r & R_OUT) && n->n_inputs > 2 && n->inputs[2] >= 0) {
                int bid = widen(g, n->inputs[2], out->c2, out->pos, 1, NULL, 0.0f);
                g->nodes[i].inputs[2] = bid;
            }
            if (r & R_GROUP) tb_node_set_int(g, i, "group", out->c2);
            /* A Concat output need not be a multiple of N: no promise then. */
            if ((r & R_OUT) && out->c2 % block == 0) tb_node_set_int(g, i, "channel_block", block);
        } else if (n->op == TB_OP_BATCHNORM) {
            /* x' = (x - 0) / sqrt(1 + eps) * 0 + 0: an added channel stays 0. */
            static const float fills[5] = {0, 0.0f, 0.0f, 0.0f, 1.0f};
            for (int k = 1; k < 5; k++) {
                int id = widen(g, g->nodes[i].inputs[k], out->c2, out->pos, 1, NULL, fills[k]);
                g->nodes[i].inputs[k] = id;
            }
        } else if (n->op == TB_OP_GEMM) {
            /* A [N, C'] times B: transB ? B [M, C'] (new columns) : B [C', M] (new rows). */
            const tb_value *b = &g->values[n->inputs[1]];
            int wid = tb_node_int(n, "transB", 0) ? widen(g, n->inputs[1], b->dims[0], NULL, in->c2, in->pos, 0.0f)
                                                  : widen(g, n->inputs[1], in->c2, in->pos, b->dims[1], NULL, 0.0f);
            g->nodes[i].inputs[1] = wid;
        }
    }
}

/* Re-infers, in order, every node that reads or writes a cluster member. */
static int reinfer(tb_graph *g, cluster *s, int n_nodes, tb_error *err) {
    for (int i = 0; i < n_nodes; i++) {
        tb_node *n = &g->nodes[i];
        if (n->dead) continue;
        int touched = s->role[i] != 0;
        for (int k = 0; k < n->n_inputs && !touched; k++) touched = n->inputs[k] >= 0 && s->gid[n->inputs[k]] >= 0;
        for (int k = 0; k < n->n_outputs && !touched; k++) touched = n->outputs[k] >= 0 && s->gid[n->outputs[k]] >= 0;
        if (!touched) continue;
        /* A value outside the cluster (a sink's output) must keep its shape. */
        int64_t before[TB_MAX_IO][TB_MAX_RANK];
        for (int k = 0; k < n->n_outputs; k++)
            if (n->outputs[k] >= 0) memcpy(before[k], g->values[n->outputs[k]].dims, sizeof before[k]);
        if (tb_infer_node(g, i, err)) return 1;
        n = &g->nodes[i];
        for (int k = 0; k < n->n_outputs; k++) {
            int v = n->outputs[k];
            if (v >= 0 && s->gid[v] < 0 && memcmp(before[k], g->values[v].dims, sizeof before[k]))
                return tb_node_error(err, n, "round-channels: internal error: the shape of '%s' changed",
                                     g->values[v].name);
        }
    }
    return 0;
}

int tb_pass_round_channels(tb_graph *g, tb_pass_context *ctx, tb_error *err) {
    const char *opt = tb_pass_option(ctx, "channel-multiple", "8");
    char *end;
    long block = strtol(opt, &end, 10);
    if (*end || end == opt || block < 1 || block > 4096)
        return tb_error_set(err, "round-channels: channel-multiple must be an integer in 1..4096, got '%s'", opt);
    const char *all_opt = tb_pass_option(ctx, "round-all-convs", NULL);
    int all = all_opt && strcmp(all_opt, "0") != 0;
    if (block == 1) return 0;
    int n_nodes = g->n_nodes; /* this pass adds values, never nodes */
    char *done = tb_alloc(g->pool, (size_t)n_nodes + 1);
    int n_concats = 0; /* a cluster has at most one group per Concat, plus the seed group */
    for (int i = 0; i < n_nodes; i++) n_concats += g->nodes[i].op == TB_OP_CONCAT;
    for (int i = 0; i < n_nodes; i++) {
        tb_node *n = &g->nodes[i];
        if (n->dead || n->op != TB_OP_CONV || done[i]) continue;
        int dw = is_depthwise(g, n);
        if (!dw && !(all && tb_node_int(n, "group", 1) == 1)) continue;
        tb_value *y = &g->values[n->outputs[0]];
        if (y->rank < 2 || y->dims[1] % block == 0) continue;
        cluster s = {0};
        s.groups = tb_alloc(g->pool, ((size_t)n_concats + 1) * sizeof *s.groups);
        s.groups[0] = (group){.c = y->dims[1], .c2 = (y->dims[1] + block - 1) / block * block, .concat = -1};
        s.n_groups = 1;
        s.gid = tb_alloc(g->pool, (size_t)g->n_values * sizeof *s.gid);
        for (int v = 0; v < g->n_values; v++) s.gid[v] = -1;
        s.list = tb_alloc(g->pool, (size_t)g->n_values * sizeof *s.list);
        s.role = tb_alloc(g->pool, (size_t)n_nodes * sizeof *s.role);
        analyse(g, &s, n->outputs[0]);
        /* Every seed in the seed group is answered now, whichever way (a
         * depthwise Conv on a Concat output is a seed of its own later). */
        for (int k = 0; k < n_nodes; k++)
            if ((s.role[k] & R_OUT) && s.gid[g->nodes[k].outputs[0]] == 0) done[k] = 1;
        n = &g->nodes[i];
        if (!s.why[0]) plan(g, &s);
        if (s.why[0]) {
            if (ctx->report)
                fprintf(ctx->report, "round-channels: kept '%s' (%lld channels): %s\n", label(g, n),
                        (long long)s.groups[0].c, s.why);
            continue;
        }
        rewrite(g, &s, n_nodes, block);
        if (reinfer(g, &s, n_nodes, err)) return 1;
        if (ctx->report) {
            int outs = 0, ins = 0;
            for (int k = 0; k < n_nodes; k++) {
                outs += (s.role[k] & R_OUT) != 0;
                ins += (s.role[k] & (R_IN | R_GEMM)) != 0;
            }
            fprintf(ctx->report, "round-channels: '%s' %lld -> %lld channels (%d convs widened, %d readers get zero slices",
                    label(g, &g->nodes[i]), (long long)s.groups[0].c, (long long)s.groups[0].c2, outs, ins);
            for (int d = 1; d < s.n_groups; d++)
                fprintf(ctx->report, "%s'%s' %lld -> %lld", d == 1 ? "; through Concat " : ", ",
                        label(g, &g->nodes[s.groups[d].concat]), (long long)s.groups[d].c, (long long)s.groups[d].c2);
            fprintf(ctx->report, ")\n");
        }
    }
    return 0;
}
