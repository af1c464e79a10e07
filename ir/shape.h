/* shape.h - the canonical reading of operator attributes and shape rules.
 *
 * Usage: run tb_infer_shapes(g, &err) first; then the code generator reads a
 * node's resolved parameters here (e.g. tb_slice_resolve(g, n, start, step,
 * &err)), never from raw attributes, so every rule has one definition.
 *
 * After inference, Conv / MaxPool / AveragePool carry explicit kernel_shape,
 * strides, dilations and pads (begins then ends) and no auto_pad; ceil_mode is
 * kept and the output value's dims already account for it. Functions taking a
 * tb_error return 0 or non-zero with err->msg set; the others return 0 / -1.
 * g->opset 0 (unset) is read as opset 17.
 */
#ifndef TYBOXC_SHAPE_H
#define TYBOXC_SHAPE_H

#include "ir.h"

/* Multidirectional (numpy) broadcast of two shapes, aligned on the right:
 * each dim pair must be equal or contain a 1. d_out gets max(ra, rb) dims.
 * Returns 0, or -1 when incompatible (or a rank is outside 0..TB_MAX_RANK). */
int tb_broadcast_shape(int ra, const int64_t *da, int rb, const int64_t *db,
                       int *r_out, int64_t *d_out);

/* Normalises an axis in [-rank, rank-1] (negative counts from the back) into
 * *out. Returns -1 when out of range. Unsqueeze passes the output rank;
 * Flatten (axis in [-r, r]) has its own rule: see tb_flatten_axis. */
int tb_norm_axis(int64_t axis, int rank, int *out);

/* Reads a constant i64 or i32 tensor of rank 0 (one value) or rank 1 into
 * out[0..*n). Returns 0; -1 if the value is not a constant (data == NULL);
 * -2 if it is not an i32/i64 scalar or 1-D tensor (or the id is invalid);
 * -3 if it holds more than max values. */
int tb_const_ints(const tb_graph *g, int value, int64_t *out, int max, int *n);

/* Slice: for every input dim d, start[d] is the first index read, clamped
 * into [0, dims[d]-1] (0 when the output dim is 0), and step[d] the stride
 * (negative walks backwards); unsliced dims get 0 and 1. Output dim d (in the
 * output value) is the element count along d. */
int tb_slice_resolve(tb_graph *g, int node, int64_t start[TB_MAX_RANK],
                     int64_t step[TB_MAX_RANK], tb_error *err);

/* Pad: pads[0..r) are the begin pads and pads[r..2r) the end pads of the
 * input's r dims; *mode is 0 constant, 1 reflect, 2 edge; *value is the fill
 * for constant mode (0 otherwise). Negative pads are rejected (unsupported);
 * reflect needs every pad < its dim, edge needs a non-empty dim. */
int tb_pad_resolve(tb_graph *g, int node, int64_t pads[2 * TB_MAX_RANK], int *mode,
                   double *value, tb_error *err);

/* Clip: the bounds, from attributes (opset < 11) or constant optional inputs
 * (opset >= 11). An absent bound is -FLT_MAX / FLT_MAX (not infinity). */
int tb_clip_resolve(tb_graph *g, int node, float *lo, float *hi, tb_error *err);

/* Split: the normalised axis and the size along it of each of the node's
 * n_outputs outputs (sizes[] must hold n_outputs values). */
int tb_split_resolve(tb_graph *g, int node, int *axis, int64_t *sizes, tb_error *err);

/* Transpose: perm[0..rank) (default: reversed dims); output dim i is input
 * dim perm[i]. */
int tb_transpose_perm(tb_graph *g, int node, int *perm, tb_error *err);

/* ReduceMean and the other Reduce ops: mask[d] = 1 for each reduced input dim (all dims when axes is
 * absent); *keepdims is 0 or 1. */
int tb_reduce_axes(tb_graph *g, int node, int *mask, int *keepdims, tb_error *err);

/* Softmax: the normalised axis. *coerce_2d = 1 when the softmax is taken
 * jointly over dims[axis..rank) (opset < 13 with axis < rank-1: the input is
 * viewed as [prod(dims[:axis]), prod(dims[axis:])]); 0 for a single axis. */
int tb_softmax_axis(tb_graph *g, int node, int *axis, int *coerce_2d, tb_error *err);

/* Gather: the normalised axis of input 0. */
int tb_gather_axis(tb_graph *g, int node, int *axis, tb_error *err);

/* Flatten: the normalised axis in [0, rank]: output [prod(dims[:axis]),
 * prod(dims[axis:])]. */
int tb_flatten_axis(tb_graph *g, int node, int *axis, tb_error *err);

/* Concat: the normalised axis shared by all inputs. */
int tb_concat_axis(tb_graph *g, int node, int *axis, tb_error *err);

/* ArgMax / ArgMin: the normalised axis, keepdims and select_last_index (0
 * before opset 12). */
int tb_arg_axis(tb_graph *g, int node, int *axis, int *keepdims, int *select_last, tb_error *err);

/* LayerNormalization: the normalised axis; dims[axis..rank) are normalised
 * together and Scale / B hold exactly that many values. */
int tb_layernorm_axis(tb_graph *g, int node, int *axis, tb_error *err);

/* Tile: repeats[0..rank), from the constant 'repeats' input. */
int tb_tile_repeats(tb_graph *g, int node, int64_t *repeats, tb_error *err);

/* DepthToSpace / SpaceToDepth: blocksize; *crd = 1 for DepthToSpace mode CRD. */
int tb_blocksize(tb_graph *g, int node, int64_t *bs, int *crd, tb_error *err);

/* GatherElements: the normalised axis. */
int tb_gatherelements_axis(tb_graph *g, int node, int *axis, tb_error *err);

/* ---- ops3 ------------------------------------------------------------------ */

/* Resize / Upsample: the interpolation (mode 0 nearest, 1 linear, 2 cubic),
 * coordinate transform (coord 0 half_pixel, 1 pytorch_half_pixel, 2
 * align_corners, 3 asymmetric, 4 tf_half_pixel_for_nn, 5 tf_crop_and_resize),
 * rounding (nearest 0 round_prefer_floor, 1 round_prefer_ceil, 2 floor, 3
 * ceil, 4 floor or ceil when downsampling: Resize-10 and Upsample), the codes
 * of tb_runtime.h's TB_RESIZE_*; per input dim the scale (given, or output /
 * input when sizes are given), roi (starts then ends, 0 and 1 unless
 * tf_crop_and_resize) and output size. Only the last two axes may change. */
typedef struct {
    int mode, coord, nearest, exclude_outside;
    float cubic_a, extrapolation;
    float scales[TB_MAX_RANK], roi[2 * TB_MAX_RANK];
    int64_t out[TB_MAX_RANK];
} tb_resize_info;
int tb_resize_resolve(tb_graph *g, int node, tb_resize_info *r, tb_error *err);

/* PRelu before opset 7 with a 1-D slope of the channel count (that numpy
 * broadcasting would not align with axis 1): the slope is per channel. */
int tb_prelu_per_channel(tb_graph *g, int node);

/* MeanVarianceNormalization: mask[d] = 1 for each normalised axis. */
int tb_mvn_axes(tb_graph *g, int node, int *mask, tb_error *err);

/* TopK: the normalised axis, k (attribute before opset 10, else the constant
 * K input) and largest. */
int tb_topk_resolve(tb_graph *g, int node, int *axis, int64_t *k, int *largest, tb_error *err);

/* Einsum (one or two operands) as a contraction: the index space dims[rank],
 * the first out_rank indices being the output's dims; strides[op][i] is how
 * far operand op moves per step of index i (summed over repeated labels, 0
 * where it does not use the index or broadcasts). */
typedef struct {
    int rank, out_rank;
    int64_t dims[TB_MAX_RANK];
    int64_t strides[2][TB_MAX_RANK];
} tb_einsum_info;
int tb_einsum_resolve(tb_graph *g, int node, tb_einsum_info *e, tb_error *err);

/* LSTM / GRU / RNN: cell (0 RNN, 1 GRU, 2 LSTM, tb_runtime.h's TB_RNN_*),
 * sizes, direction (0 forward, 1 reverse, 2 bidirectional; dirs 1 or 2),
 * layout, clip (0: none) and linear_before_reset. Only the default
 * activations are supported. */
typedef struct {
    int cell, dirs, direction, layout, linear_before_reset;
    int64_t seq, batch, input, hidden;
    float clip;
} tb_rnn_info;
int tb_rnn_resolve(tb_graph *g, int node, tb_rnn_info *r, tb_error *err);

#endif
