/* fold_pad.c - fold a zero constant Pad into the next Conv or pool's pads.
 *
 * Exporters write nn.ZeroPad2d (and TF-style "same" padding) as a Pad node in
 * front of an unpadded Conv. ONNX Conv, MaxPool and AveragePool take explicit
 * begin/end pads per spatial axis, so a Pad that only adds zeros around the
 * spatial axes can move into them, asymmetric pads included: the padded
 * tensor is never materialised, and the arena loses one buffer.
 *
 *   %p = Pad(%x, %pads, %zero) {mode = "constant"} : f32[1,1,31,31]   (pads [0,0,1,1, 0,0,2,2])
 *   %y = Conv(%p, %w) {..., pads = [0, 0, 0, 0]} : f32[1,16,28,28]
 * becomes
 *   %y = Conv(%x, %w) {..., pads = [1, 1, 2, 2]} : f32[1,16,28,28]
 *
 * Pad's pads are [x1_begin, x2_begin, ..., x1_end, x2_end, ...] over all the
 * input's axes; the consumer's pads are the same over its spatial axes only,
 * so spatial axis i takes pads[2 + i] (begin) and pads[r + 2 + i] (end).
 *
 * When it folds (all must hold; otherwise the Pad stays and, with a report
 * stream, one line says why):
 *   - mode "constant", fill value 0 (absent = 0; for quantized inputs the
 *     zero point: see pad_value_is_zero), pads constant and >= 0, nothing on
 *     the batch and channel axes;
 *   - the Pad's output has exactly one user, as the data input of a Conv,
 *     AveragePool or MaxPool, and is not a graph output;
 *   - Conv: always exact (its pads are zeros too).
 *   - AveragePool: Pad-then-pool divides by the window's cells inside the
 *     padded tensor, the explicit zeros included. After the fold those zeros
 *     are pool padding, so count_include_pad must be 1 (the kernel then counts
 *     the window's cells inside [-pad_begin, in + pad_end), the same set).
 *     The pool's own pads are fine when count_include_pad is already 1 (they
 *     were counted zeros as well); with count_include_pad = 0 and pads of its
 *     own, one divisor would have to count the Pad's zeros but not the
 *     pool's: no attribute says that, so the Pad stays.
 *   - MaxPool pads with -inf, the Pad with 0: the same maxima only when every
 *     value is >= 0, i.e. the Pad's input is known non-negative (Relu,
 *     Sigmoid, a Conv/Gemm with clip_min >= 0, Clip with min >= 0, pools of
 *     those, ...). A window wholly in the padding gives 0 in the kernel, which
 *     is also what the explicit zeros gave.
 *   - The consumer's output shape does not change (tb_infer_node checks it:
 *     pool pads must stay below the kernel, and ceil_mode's rule for the last
 *     window looks at the begin pad).
 * Requires canonical Conv/pool attributes (shape inference) and constant pads
 * (run after const-fold, which is where exporter pad arithmetic folds away).
 */
#include "passes.h"
#include "shape.h"

#include <string.h>

/* The Pad's fill (value, as tb_pad_resolve read it) stands for the real
 * number 0 of its input x.
 * f32: value == 0 (-0.0 too: zeros only ever meet multiplications here).
 * Quantized (issue 5, x->scale != 0 with an integer dtype): an element q
 * stands for (q - zero_point) * scale, so the real 0 is q == zero_point. The
 * fold is still exact there because the int8 Conv pads its input with the
 * input zero point ((z - z) * w contributes nothing), and int8 pools clip
 * their windows like the f32 ones. */
static int pad_value_is_zero(const tb_value *x, double value) {
    if (x->scale != 0.0f && x->dtype != TB_F32 && x->dtype != TB_F64) return value == (double)x->zero_point;
    return value == 0.0;
}

/* Whether every element of value v is known to be >= 0 (so zero padding
 * cannot raise a maximum). Looks through a few shape-preserving producers. */
static int non_negative(tb_graph *g, int v, int depth) {
    tb_value *x = &g->values[v];
    if (depth > 16) return 0;
    if (x->data) {
        if (x->dtype != TB_F32) return 0;
        const float *d = x->data;
        for (int64_t i = 0; i < tb_value_numel(x); i++)
            if (!(d[i] >= 0.0f)) return 0;
        return 1;
    }
    if (x->producer < 0) return 0;
    tb_node *p = &g->nodes[x->producer];
    switch (p->op) {
    case TB_OP_RELU:
    case TB_OP_SIGMOID:
    case TB_OP_HARDSIGMOID:
    case TB_OP_SOFTMAX:
    case TB_OP_ABS:
    case TB_OP_EXP:
        return 1;
    case TB_OP_CONV:
    case TB_OP_GEMM:
        /* the fused clamp (fuse-activation) acts last */
        return tb_node_float(p, "clip_min", -1.0f) >= 0.0f;
    case TB_OP_CLIP: {
        float lo, hi;
        tb_error e;
        for (int k = 1; k < p->n_inputs; k++)
            if (p->inputs[k] >= 0 && !g->values[p->inputs[k]].data) return 0;
        if (tb_clip_resolve(g, x->producer, &lo, &hi, &e)) return 0;
        return lo >= 0.0f || non_negative(g, p->inputs[0], depth + 1);
    }
    case TB_OP_MAXPOOL:
    case TB_OP_AVGPOOL:
    case TB_OP_GLOBALAVGPOOL:
    case TB_OP_GLOBALMAXPOOL:
    case TB_OP_FLATTEN:
    case TB_OP_RESHAPE:
    case TB_OP_TRANSPOSE:
    case TB_OP_SQUEEZE:
    case TB_OP_UNSQUEEZE:
    case TB_OP_IDENTITY:
        return non_negative(g, p->inputs[0], depth + 1);
    case TB_OP_ADD:
    case TB_OP_MUL:
    case TB_OP_CONCAT:
        for (int k = 0; k < p->n_inputs; k++)
            if (p->inputs[k] >= 0 && !non_negative(g, p->inputs[k], depth + 1)) return 0;
        return 1;
    default:
        return 0;
    }
}

/* A node's name for the report: its ONNX name, else its first output's. */
static const char *label(const tb_graph *g, const tb_node *n) {
    return n->name && *n->name ? n->name : g->values[n->outputs[0]].name;
}

/* Why Pad node i cannot fold into a consumer (a static string or buf), or
 * NULL when it can; *user gets the consumer. */
static const char *check_pad(tb_graph *g, int i, int64_t pads[2 * TB_MAX_RANK], int *user, char *buf,
                             size_t cap) {
    tb_node *n = &g->nodes[i];
    tb_value *x = &g->values[n->inputs[0]];
    int y = n->outputs[0];
    /* tb_pad_resolve insists on constants: say so before asking it. */
    for (int k = 1; k < n->n_inputs && k < 3; k++)
        if (n->inputs[k] >= 0 && !g->values[n->inputs[k]].data)
            return k == 1 ? "pads are not constant" : "pad value is not constant";
    if (n->n_inputs > 3 && n->inputs[3] >= 0) return "has an 'axes' input";
    int mode;
    double value;
    tb_error e;
    if (tb_pad_resolve(g, i, pads, &mode, &value, &e)) {
        snprintf(buf, cap, "%s", e.msg);
        return buf;
    }
    if (mode == 1) return "reflect mode";
    if (mode == 2) return "edge mode";
    if (!pad_value_is_zero(x, value)) {
        snprintf(buf, cap, "pad value %g is not zero", value);
        return buf;
    }
    int r = x->rank;
    if (r != 3 && r != 4) return "input is not N, C and 1 or 2 spatial axes";
    for (int d = 0; d < 2 * r; d++)
        if (pads[d] < 0) return "negative pads";
    if (pads[0] || pads[1] || pads[r] || pads[r + 1]) return "pads the batch or channel axis";
    if (tb_value_is_graph_output(g, y)) return "its output is a graph output";
    int uses = tb_value_use_count(g, y);
    if (uses != 1) {
        snprintf(buf, cap, "its output has %d users", uses);
        return buf;
    }
    *user = tb_value_single_user(g, y);
    tb_node *u = &g->nodes[*user];
    if (u->op != TB_OP_CONV && u->op != TB_OP_AVGPOOL && u->op != TB_OP_MAXPOOL) {
        snprintf(buf, cap, "feeds a %s, not a Conv or pool", tb_op_name(u->op));
        return buf;
    }
    if (u->inputs[0] != y) return "feeds a Conv's weights, not its data";
    int64_t up[4];
    if (tb_node_ints(u, "pads", up, 4) != 2 * (r - 2)) return "the consumer has no canonical pads (run shape inference)";
    if (u->op == TB_OP_AVGPOOL && tb_node_int(u, "count_include_pad", 0) == 0)
        for (int d = 0; d < 2 * (r - 2); d++)
            if (up[d]) return "AveragePool has pads of its own and count_include_pad = 0";
    if (u->op == TB_OP_MAXPOOL && !non_negative(g, n->inputs[0], 0))
        return "MaxPool pads with -inf and the Pad's input may be negative";
    return NULL;
}

int tb_pass_fold_pad(tb_graph *g, tb_pass_context *ctx, tb_error *err) {
    (void)err;
    for (int i = 0; i < g->n_nodes; i++) {
        tb_node *n = &g->nodes[i];
        if (n->dead || n->op != TB_OP_PAD) continue;
        int64_t pads[2 * TB_MAX_RANK];
        int user = -1;
        char buf[sizeof(tb_error) + 64];
        const char *why = check_pad(g, i, pads, &user, buf, sizeof buf);
        if (why) {
            if (ctx->report) fprintf(ctx->report, "fold-pad: kept '%s': %s\n", label(g, n), why);
            continue;
        }
        tb_node *u = &g->nodes[user];
        int r = g->values[n->inputs[0]].rank, nsp = r - 2;
        int64_t old_pads[4], new_pads[4];
        tb_node_ints(u, "pads", old_pads, 4);
        for (int d = 0; d < nsp; d++) {
            new_pads[d] = old_pads[d] + pads[2 + d];
            new_pads[nsp + d] = old_pads[nsp + d] + pads[r + 2 + d];
        }
        /* Try it; put everything back if the output shape would change. */
        tb_value *y = &g->values[u->outputs[0]];
        int64_t old_dims[TB_MAX_RANK];
        memcpy(old_dims, y->dims, sizeof old_dims);
        int had_cip = tb_node_attr(u, "count_include_pad") != NULL;
        int64_t old_cip = tb_node_int(u, "count_include_pad", 0);
        tb_node_set_ints(g, user, "pads", 2 * nsp, new_pads);
        if (u->op == TB_OP_AVGPOOL) tb_node_set_int(g, user, "count_include_pad", 1);
        g->nodes[user].inputs[0] = n->inputs[0];
        tb_error e;
        int bad = tb_infer_node(g, user, &e);
        y = &g->values[g->nodes[user].outputs[0]];
        if (!bad && memcmp(old_dims, y->dims, sizeof old_dims)) {
            bad = 1;
            snprintf(e.msg, sizeof e.msg, "the output shape would change");
        }
        if (bad) {
            u = &g->nodes[user];
            u->inputs[0] = n->outputs[0];
            tb_node_set_ints(g, user, "pads", 2 * nsp, old_pads);
            if (had_cip) tb_node_set_int(g, user, "count_include_pad", old_cip);
            else tb_node_remove_attr(g, user, "count_include_pad");
            memcpy(y->dims, old_dims, sizeof old_dims);
            if (ctx->report) fprintf(ctx->report, "fold-pad: kept '%s': folding into '%s' fails: %s\n",
                                     label(g, n), label(g, &g->nodes[user]), e.msg);
            continue;
        }
        n->dead = 1;
        if (ctx->report) fprintf(ctx->report, "fold-pad: folded '%s' into '%s'\n", label(g, n),
                                     label(g, &g->nodes[user]));
    }
    return 0;
}
