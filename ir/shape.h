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

#endif
