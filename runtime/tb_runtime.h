/* tb_runtime.h - the kernels that generated models call.
 *
 * Plain C99: no malloc, no stdio, no VLAs. The compiler links the same
 * kernels to fold constants and to interpret graphs, so what it computes at
 * compile time is what the device computes.
 *
 * Every kernel has the form
 *     void tb_<kernel>(const tb_<kernel>_params *p, <pointer args...>);
 * The parameter structs are listed once below as X-macros, so the compiler
 * can print them as designated initialisers and the header stays the single
 * description of each kernel:
 *     static const tb_conv_params P3 = {.n = 1, .c_in = 3, ...};
 *     tb_conv_f32(&P3, arena + 0, W3, B3, arena + 3072);
 * I(name) is an int32_t field, F(name) a float, A(name) an int32_t[TB_RT_MAX_RANK].
 * Tensors are dense row-major (NCHW for images). Element counts are int32_t:
 * a microcontroller model never holds 2^31 elements.
 */
#ifndef TB_RUNTIME_H
#define TB_RUNTIME_H

#include <stdint.h>

#define TB_RT_MAX_RANK 8

/* Conv, 1-D or 2-D (1-D runs as H = 1), NCHW, grouped (depthwise: group == c_in).
 * y = clamp(conv(x, w) + b, act_min, act_max). w is [c_out, c_in/group, k_h, k_w];
 * b may be NULL. Out-of-range input positions read as zero. */
#define TB_CONV_PARAMS(I, F, A) \
    I(n) I(c_in) I(h_in) I(w_in) I(c_out) I(h_out) I(w_out) \
    I(k_h) I(k_w) I(stride_h) I(stride_w) I(dil_h) I(dil_w) \
    I(pad_top) I(pad_left) I(group) F(act_min) F(act_max)

/* Gemm: y[m,n] = clamp(alpha * A' B' + beta * C, act_min, act_max), with
 * A' = trans_a ? A^T : A ([m,k]), B' likewise ([k,n]). C (may be NULL) is read
 * as C[i * c_stride_m + j * c_stride_n]: strides 0 broadcast. */
#define TB_GEMM_PARAMS(I, F, A) \
    I(m) I(n) I(k) I(trans_a) I(trans_b) I(c_stride_m) I(c_stride_n) \
    F(alpha) F(beta) F(act_min) F(act_max)

/* MatMul with broadcast batch dims: for each batch index b (row-major over
 * batch_dims[0..batch_rank)), y_b[m,n] = a_b[m,k] b_b[k,n]; the batch offset of
 * a and b is the sum of index*stride over a_batch_strides / b_batch_strides
 * (in elements, 0 for a broadcast dim). */
#define TB_MATMUL_PARAMS(I, F, A) \
    I(m) I(n) I(k) I(batch_rank) A(batch_dims) A(a_batch_strides) A(b_batch_strides)

/* Elementwise binary op with numpy broadcasting: the output has dims[rank];
 * a and b are read at sum(index_d * a_strides_d) (stride 0: broadcast).
 * MAX and MIN keep a NaN in a (Clip with bounds computed at run time).
 * tb_binary_f32 runs ADD..PRELU; tb_binary_i64 runs ADD..MIN.
 * POW: a^b. MOD: remainder with the sign of b (Python, integers only);
 * FMOD: C fmod, the sign of a. PRELU: a < 0 ? a * b : a. */
enum {
    TB_BINARY_ADD, TB_BINARY_SUB, TB_BINARY_MUL, TB_BINARY_DIV, TB_BINARY_MAX, TB_BINARY_MIN,
    TB_BINARY_POW, TB_BINARY_MOD, TB_BINARY_FMOD, TB_BINARY_PRELU,
    /* bool (uint8 0/1) output, any input type; AND/OR/XOR read non-zero as true */
    TB_BINARY_EQ, TB_BINARY_GT, TB_BINARY_LT, TB_BINARY_GE, TB_BINARY_LE,
    TB_BINARY_AND, TB_BINARY_OR, TB_BINARY_XOR
};
#define TB_BINARY_PARAMS(I, F, A) \
    I(op) I(count) I(rank) A(dims) A(a_strides) A(b_strides)

/* The same for any element type: dtype (ONNX code, as in tb_cast) is the type
 * of a and, except for the bool ops, of y; b_dtype is the type of b, which may
 * differ from dtype for POW only. Integer arithmetic wraps; x/0 and x%0 give 0. */
#define TB_BINARY_ANY_PARAMS(I, F, A) \
    I(op) I(dtype) I(b_dtype) I(count) I(rank) A(dims) A(a_strides) A(b_strides)

/* Where: out = cond ? x : y elementwise with broadcasting; cond is bool, x, y
 * and out elem_size-byte elements; strides per operand as in tb_binary. */
#define TB_WHERE_PARAMS(I, F, A) \
    I(elem_size) I(rank) A(dims) A(c_strides) A(x_strides) A(y_strides)

/* Elementwise unary op on count elements; alpha/beta as the op needs them
 * (clip: [alpha, beta]; hard_sigmoid: alpha*x+beta; leaky_relu: alpha). */
enum {
    TB_UNARY_RELU, TB_UNARY_CLIP, TB_UNARY_SIGMOID, TB_UNARY_HARDSIGMOID,
    TB_UNARY_HARDSWISH, TB_UNARY_LEAKYRELU, TB_UNARY_TANH, TB_UNARY_EXP,
    TB_UNARY_LOG, TB_UNARY_SQRT, TB_UNARY_ABS, TB_UNARY_NEG, TB_UNARY_RECIPROCAL,
    /* elu/celu/thresholded_relu: alpha; selu: alpha, gamma = beta; scale: alpha * x */
    TB_UNARY_ELU, TB_UNARY_SELU, TB_UNARY_CELU, TB_UNARY_SOFTPLUS, TB_UNARY_SOFTSIGN,
    TB_UNARY_THRESHOLDEDRELU, TB_UNARY_ERF, TB_UNARY_GELU, TB_UNARY_GELU_TANH,
    TB_UNARY_FLOOR, TB_UNARY_CEIL, TB_UNARY_ROUND, TB_UNARY_SIGN,
    TB_UNARY_SIN, TB_UNARY_COS, TB_UNARY_TAN, TB_UNARY_ASIN, TB_UNARY_ACOS, TB_UNARY_ATAN,
    TB_UNARY_SINH, TB_UNARY_COSH, TB_UNARY_ASINH, TB_UNARY_ACOSH, TB_UNARY_ATANH,
    TB_UNARY_SCALE
};
#define TB_UNARY_PARAMS(I, F, A) I(op) I(count) F(alpha) F(beta)

/* Unary ops with a bool (uint8 0/1) output: ISNAN and ISINF read floats
 * (ISINF reports -inf if detect_negative, +inf if detect_positive); NOT reads bool. */
enum { TB_UNARY_BOOL_ISNAN, TB_UNARY_BOOL_ISINF, TB_UNARY_BOOL_NOT };
#define TB_UNARY_BOOL_PARAMS(I, F, A) I(op) I(count) I(detect_negative) I(detect_positive)

/* BatchNormalization (inference): x is [n, c, inner]. */
#define TB_BATCHNORM_PARAMS(I, F, A) I(n) I(c) I(inner) F(epsilon)

/* MaxPool / AveragePool, 2-D NCHW (1-D as H = 1). Window positions outside the
 * input are skipped; average pool divides by the window size clipped to the
 * padded input (count_include_pad = 1) or to the real input (= 0). */
#define TB_POOL_PARAMS(I, F, A) \
    I(n) I(c) I(h_in) I(w_in) I(h_out) I(w_out) I(k_h) I(k_w) \
    I(stride_h) I(stride_w) I(dil_h) I(dil_w) I(pad_top) I(pad_left) \
    I(pad_bottom) I(pad_right) I(count_include_pad)

/* Reduction over any set of axes: the input has dims[rank]; input element at
 * index i goes to output element sum(i_d * out_strides_d) (0 on reduced axes).
 * MEAN divides by `reduced` (the number of inputs per output). */
enum {
    TB_REDUCE_MEAN, TB_REDUCE_SUM, TB_REDUCE_MAX, TB_REDUCE_MIN,
    /* PROD; L1 = sum |x|; L2 = sqrt(sum x^2); SUMSQUARE = sum x^2;
     * LOGSUM = log(sum x); LOGSUMEXP = log(sum exp x) */
    TB_REDUCE_PROD, TB_REDUCE_L1, TB_REDUCE_L2, TB_REDUCE_SUMSQUARE, TB_REDUCE_LOGSUM,
    TB_REDUCE_LOGSUMEXP
};
#define TB_REDUCE_PARAMS(I, F, A) \
    I(op) I(rank) I(out_count) I(reduced) A(dims) A(out_strides)

/* Softmax over the middle axis of x viewed as [outer, axis, inner]; the
 * same params serve tb_logsoftmax_f32 and tb_hardmax_f32 (1 at the first
 * maximum, 0 elsewhere). */
#define TB_SOFTMAX_PARAMS(I, F, A) I(outer) I(axis) I(inner)

/* ArgMax / ArgMin over the middle axis of x viewed as [outer, axis, inner]:
 * y (int64) is [outer, inner]; ties take the first index, or the last with
 * select_last. */
enum { TB_ARG_MAX, TB_ARG_MIN };
#define TB_ARGREDUCE_PARAMS(I, F, A) I(op) I(outer) I(axis) I(inner) I(select_last)

/* InstanceNormalization: x is [n, c, inner]; each (n, c) row is normalised
 * by its own mean and variance, then scaled by scale[c] and shifted by bias[c]. */
#define TB_INSTANCENORM_PARAMS(I, F, A) I(n) I(c) I(inner) F(epsilon)

/* LayerNormalization: x viewed as [outer, inner]; each row is normalised and
 * multiplied elementwise by scale (inner values, broadcast as scale_stride 0 / 1
 * allows only a full row), plus bias (may be NULL). tb_layernorm_stats_f32
 * writes per-row mean (which 0) or 1/sqrt(var + eps) (which 1). */
#define TB_LAYERNORM_PARAMS(I, F, A) I(outer) I(inner) I(which) F(epsilon)

/* LRN across channels: x is [n, c, inner];
 * y = x / (bias + alpha / size * sum of x^2 over channels
 *      [c - floor((size-1)/2), c + ceil((size-1)/2)]) ^ beta. */
#define TB_LRN_PARAMS(I, F, A) I(n) I(c) I(inner) I(size) F(alpha) F(beta) F(bias)

/* Strided copy of elem_size-byte elements: for every index i over dims[rank],
 * y[out_offset + sum(i_d * out_strides_d)] = x[in_offset + sum(i_d * in_strides_d)]
 * (offsets and strides in elements). Serves Transpose, Slice, Expand, Concat
 * and Split (one call per input / output), and plain copies. */
#define TB_COPY_PARAMS(I, F, A) \
    I(elem_size) I(rank) I(in_offset) I(out_offset) A(dims) A(in_strides) A(out_strides)

/* Gather along one axis: x viewed as [outer, axis_len, inner] elements of
 * elem_size bytes; indices (int32 or int64 per index_size, negative counts
 * from the end) select n_index slices; y is [outer, n_index, inner]. An index
 * out of range writes zeros (the compiler checks constant indices). */
#define TB_GATHER_PARAMS(I, F, A) \
    I(elem_size) I(outer) I(axis_len) I(inner) I(n_index) I(index_size)

/* GatherElements along one axis: indices and y have dims[rank]; x has
 * x_axis_len elements along axis and the row-major x_strides. y[i] = x[i with i_axis replaced
 * by indices[i]] (negative counts from the end; out of range writes zeros). */
#define TB_GATHER_ELEMENTS_PARAMS(I, F, A) \
    I(elem_size) I(index_size) I(rank) I(axis) I(x_axis_len) A(dims) A(x_strides)

/* Trilu: x is [batch, rows, cols] elements of elem_size bytes; keeps the
 * elements with j - i >= k (upper) or j - i <= k (lower), zeroes the rest.
 * k comes from the optional int64 k pointer when not NULL, else from p->k. */
#define TB_TRILU_PARAMS(I, F, A) I(elem_size) I(batch) I(rows) I(cols) I(k) I(upper)

/* Pad, float: y has out_dims; y[i] = x[i - pads_begin] inside the input,
 * otherwise by mode: 0 constant (value), 1 reflect, 2 edge. */
enum { TB_PAD_CONSTANT, TB_PAD_REFLECT, TB_PAD_EDGE };
#define TB_PAD_PARAMS(I, F, A) \
    I(mode) I(rank) A(in_dims) A(out_dims) A(pads_begin) F(value)

/* Cast between element types (codes are ONNX TensorProto data types:
 * 1 float, 2 uint8, 3 int8, 5 int16, 6 int32, 7 int64, 9 bool, 11 double).
 * Float to integer truncates toward zero, as C and numpy astype do. */
#define TB_CAST_PARAMS(I, F, A) I(count) I(from) I(to)

/* ---- quantized kernels (issue 5): TFLite / gemmlowp integer arithmetic ----
 * Element type codes are ONNX's: 2 uint8, 3 int8, 6 int32. A real multiplier
 * M > 0 is stored as a 32-bit fixed-point multiplier m in [2^30, 2^31) and a
 * shift, M = m * 2^(shift - 31); per output channel the requantization data is
 * int32_t rq[c][2] = {m, shift} (one row when per tensor). act_min / act_max
 * are the output's clamp in its integer domain (a fused Relu / Clip, or the
 * dtype's range). The integer kernels (qconv.c, qconv_depthwise.c,
 * qrequantize.c, qelementwise.c) use no float at all; quantize.c holds the
 * float <-> integer conversions. */

/* QLinearConv / ConvInteger, 1-D or 2-D (H = 1), NCHW, grouped: acc = bias[oc]
 * + sum (x - x_zero) * (w - w_zero) over the window (padding contributes 0,
 * i.e. reads x_zero); y = clamp(y_zero + requantize(acc, rq[oc or 0]),
 * act_min, act_max), or y = acc (int32) when y_dtype is 6 (rq unused).
 * folded = 1 is the int8 fast path (x and w int8, w_zero 0, y requantized,
 * c_in / group * k_h * k_w <= TB_QCONV_FOLD_MAX_K): bias is then never NULL
 * and holds bias[oc] - (x_zero + 128) * sum w[oc] (computed at compile
 * time), so that acc = bias[oc] + sum (x + 128) * w over the window with
 * padding reading x_zero: unsigned x signed byte dot products. */
#define TB_QCONV_PARAMS(I, F, A) \
    I(n) I(c_in) I(h_in) I(w_in) I(c_out) I(h_out) I(w_out) \
    I(k_h) I(k_w) I(stride_h) I(stride_w) I(dil_h) I(dil_w) \
    I(pad_top) I(pad_left) I(group) I(x_dtype) I(w_dtype) I(y_dtype) \
    I(x_zero) I(w_zero) I(y_zero) I(act_min) I(act_max) I(per_channel) I(folded)

/* The folded path's largest window c_in / group * k_h * k_w: its sums of
 * (x + 128) * w stay far inside int32 (|.| <= 2^28), and lowering checks
 * that the folded bias leaves them that room. */
#define TB_QCONV_FOLD_MAX_K 8192

/* QLinearMatMul / QGemm / MatMulInteger: for each batch index (as in
 * tb_matmul_f32), y[i,j] from acc = c[i * c_stride_m + j * c_stride_n] (c may
 * be NULL) + sum_k (a[i * a_stride_m + k * a_stride_k] - a_zero) *
 * (b[k * b_stride_k + j * b_stride_n] - b_zero), requantized with rq[j] when
 * per_channel else rq[0], as in tb_qconv (y_dtype 6: y = acc). */
#define TB_QMATMUL_PARAMS(I, F, A) \
    I(m) I(n) I(k) I(a_stride_m) I(a_stride_k) I(b_stride_k) I(b_stride_n) \
    I(c_stride_m) I(c_stride_n) I(a_dtype) I(b_dtype) I(y_dtype) \
    I(a_zero) I(b_zero) I(y_zero) I(act_min) I(act_max) I(per_channel) \
    I(batch_rank) A(batch_dims) A(a_batch_strides) A(b_batch_strides)

/* QLinearAdd with numpy broadcasting (strides as in tb_binary_f32), TFLite's
 * scheme: each input is centred, shifted left by left_shift (20) and rescaled
 * to a common scale (a_mult/a_shift, b_mult/b_shift: s_in / (2 max(s_a, s_b)));
 * the sum is rescaled to the output (y_mult/y_shift: 2 max(s_a, s_b) /
 * (2^left_shift s_y)), offset by y_zero and clamped. */
#define TB_QADD_PARAMS(I, F, A) \
    I(dtype) I(count) I(rank) I(left_shift) I(a_zero) I(b_zero) I(y_zero) \
    I(a_mult) I(a_shift) I(b_mult) I(b_shift) I(y_mult) I(y_shift) I(act_min) I(act_max) \
    A(dims) A(a_strides) A(b_strides)

/* Rescale a block, for QLinearConcat: x is [outer, inner]; y[o * y_inner +
 * y_offset + i] = clamp(y_zero + requantize(x[o * inner + i] - x_zero, mult,
 * shift)) over the dtype's range (the fixed-point multiplier where TFLite's
 * reference concatenation uses float). */
#define TB_QRESCALE_PARAMS(I, F, A) \
    I(dtype) I(outer) I(inner) I(y_inner) I(y_offset) I(x_zero) I(y_zero) I(mult) I(shift)

/* MaxPool on int8 / uint8 (tb_qmaxpool: dtype only) and QLinearAveragePool /
 * QLinearGlobalAveragePool (tb_qavgpool): geometry as tb_pool_params; a window
 * of cnt elements (clipped as in tb_avgpool_f32) gives y = clamp(y_zero +
 * requantize(sum (x - x_zero), rq[cnt - rq_first])): rq holds s_x / (cnt s_y)
 * for every count from rq_first to k_h * k_w, so the division is exact. */
#define TB_QPOOL_PARAMS(I, F, A) \
    I(n) I(c) I(h_in) I(w_in) I(h_out) I(w_out) I(k_h) I(k_w) \
    I(stride_h) I(stride_w) I(dil_h) I(dil_w) I(pad_top) I(pad_left) \
    I(pad_bottom) I(pad_right) I(count_include_pad) I(dtype) I(x_zero) I(y_zero) I(rq_first)

/* Lookup table on int8 / uint8: y[i] = table[x[i] as a uint8 bit pattern]
 * (QLinearSigmoid; the 256 entries are computed at compile time). */
#define TB_LUT_PARAMS(I, F, A) I(count)

/* QuantizeLinear (tb_quantize_f32: y = saturate(round_half_even(x / scale) +
 * zero)) and DequantizeLinear (tb_dequantize_f32: y = (x - zero) * scale), x
 * viewed as [outer, axis, inner] with scale / zero per axis index (axis = 1
 * per tensor). dtype: the integer side's type (2, 3; or 6 to dequantize);
 * zero may be NULL (0). */
#define TB_QLINEAR_PARAMS(I, F, A) I(outer) I(axis) I(inner) I(dtype)
/* ---- ops3: resampling, transposed convolution, recurrent, selection ---- */

/* Resize / Upsample over the last two axes of x viewed as [outer, h_in, w_in]
 * (1-D inputs run with h = 1). Each output element takes its source
 * coordinate by `coord` (scale_* and roi_* as ONNX defines them), then
 * nearest (rounded by `nearest`), linear or cubic (cubic_a, exclude_outside)
 * interpolation with clamped indices; tf_crop_and_resize writes
 * extrapolation outside the input. */
enum { TB_RESIZE_NEAREST, TB_RESIZE_LINEAR, TB_RESIZE_CUBIC };
enum {
    TB_RESIZE_HALF_PIXEL, TB_RESIZE_PYTORCH_HALF_PIXEL, TB_RESIZE_ALIGN_CORNERS, TB_RESIZE_ASYMMETRIC,
    TB_RESIZE_TF_HALF_PIXEL_FOR_NN, TB_RESIZE_TF_CROP_AND_RESIZE
};
/* SIMPLE (Resize-10, Upsample): floor, or ceil when downsampling. */
enum { TB_RESIZE_ROUND_PREFER_FLOOR, TB_RESIZE_ROUND_PREFER_CEIL, TB_RESIZE_FLOOR, TB_RESIZE_CEIL, TB_RESIZE_SIMPLE };
#define TB_RESIZE_PARAMS(I, F, A) \
    I(outer) I(h_in) I(w_in) I(h_out) I(w_out) I(mode) I(coord) I(nearest) I(exclude_outside) \
    F(scale_h) F(scale_w) F(cubic_a) F(roi_h0) F(roi_h1) F(roi_w0) F(roi_w1) F(extrapolation)

/* ConvTranspose, 1-D or 2-D (1-D runs as H = 1), NCHW, grouped: w is
 * [c_in, c_out/group, k_h, k_w]; input (ih, iw) reaches output
 * (ih*stride_h - pad_top + kh*dil_h, ...) when that lies inside y. b may be NULL. */
#define TB_CONVTRANSPOSE_PARAMS(I, F, A) \
    I(n) I(c_in) I(h_in) I(w_in) I(c_out) I(h_out) I(w_out) \
    I(k_h) I(k_w) I(stride_h) I(stride_w) I(dil_h) I(dil_w) I(pad_top) I(pad_left) I(group)

/* MeanVarianceNormalization: x has dims[rank]; mean and variance over the
 * dims with mask[d] = 1, y = (x - mean) / (sqrt(variance) + 1e-9). */
#define TB_MVN_PARAMS(I, F, A) I(rank) A(dims) A(mask)

/* TopK along the middle axis of x viewed as [outer, axis, inner]: values and
 * int64 indices are [outer, k, inner], best first (largest or smallest; ties
 * take the lower index first). */
#define TB_TOPK_PARAMS(I, F, A) I(outer) I(axis) I(inner) I(k) I(largest)

/* Einsum as one contraction: over the index space dims[rank], the first
 * out_rank indices address y (row-major), the others are summed;
 * a[sum i_d * a_strides_d] * b[sum i_d * b_strides_d] (b may be NULL: one
 * operand). Elements are float, or double when is_f64. */
#define TB_CONTRACT_PARAMS(I, F, A) I(is_f64) I(rank) I(out_rank) A(dims) A(a_strides) A(b_strides)

/* LSTM / GRU / RNN layer (cell), default activations. x is [seq, batch,
 * input] (layout 0) or [batch, seq, input] (layout 1); w, r, b, peep as ONNX
 * lays them out per direction; direction 0 forward, 1 reverse, 2 both (dirs
 * = 2). y ([seq, dirs, batch, hidden] or [batch, seq, dirs, hidden]) is
 * required; y_h ([dirs, batch, hidden] or [batch, dirs, hidden]) is required
 * for a GRU with linear_before_reset = 0, y_c for an LSTM. seq_lens (int32,
 * may be NULL) shortens each batch entry; the rest of y is zero. clip > 0
 * clamps gate inputs. b, seq_lens, h0, c0 and peep may be NULL. */
enum { TB_RNN_RNN, TB_RNN_GRU, TB_RNN_LSTM };
#define TB_RNN_PARAMS(I, F, A) \
    I(cell) I(seq) I(batch) I(input) I(hidden) I(dirs) I(direction) I(layout) I(linear_before_reset) F(clip)

/* ---- struct definitions from the lists above ---- */
#define TB_RT_FIELD_I(name) int32_t name;
#define TB_RT_FIELD_F(name) float name;
#define TB_RT_FIELD_A(name) int32_t name[TB_RT_MAX_RANK];
#define TB_RT_STRUCT(LIST) struct { LIST(TB_RT_FIELD_I, TB_RT_FIELD_F, TB_RT_FIELD_A) }
typedef TB_RT_STRUCT(TB_CONV_PARAMS) tb_conv_params;
typedef TB_RT_STRUCT(TB_GEMM_PARAMS) tb_gemm_params;
typedef TB_RT_STRUCT(TB_MATMUL_PARAMS) tb_matmul_params;
typedef TB_RT_STRUCT(TB_BINARY_PARAMS) tb_binary_params;
typedef TB_RT_STRUCT(TB_UNARY_PARAMS) tb_unary_params;
typedef TB_RT_STRUCT(TB_BATCHNORM_PARAMS) tb_batchnorm_params;
typedef TB_RT_STRUCT(TB_POOL_PARAMS) tb_pool_params;
typedef TB_RT_STRUCT(TB_REDUCE_PARAMS) tb_reduce_params;
typedef TB_RT_STRUCT(TB_SOFTMAX_PARAMS) tb_softmax_params;
typedef TB_RT_STRUCT(TB_COPY_PARAMS) tb_copy_params;
typedef TB_RT_STRUCT(TB_GATHER_PARAMS) tb_gather_params;
typedef TB_RT_STRUCT(TB_PAD_PARAMS) tb_pad_params;
typedef TB_RT_STRUCT(TB_CAST_PARAMS) tb_cast_params;
typedef TB_RT_STRUCT(TB_BINARY_ANY_PARAMS) tb_binary_any_params;
typedef TB_RT_STRUCT(TB_WHERE_PARAMS) tb_where_params;
typedef TB_RT_STRUCT(TB_UNARY_BOOL_PARAMS) tb_unary_bool_params;
typedef TB_RT_STRUCT(TB_ARGREDUCE_PARAMS) tb_argreduce_params;
typedef TB_RT_STRUCT(TB_INSTANCENORM_PARAMS) tb_instancenorm_params;
typedef TB_RT_STRUCT(TB_LAYERNORM_PARAMS) tb_layernorm_params;
typedef TB_RT_STRUCT(TB_LRN_PARAMS) tb_lrn_params;
typedef TB_RT_STRUCT(TB_GATHER_ELEMENTS_PARAMS) tb_gather_elements_params;
typedef TB_RT_STRUCT(TB_TRILU_PARAMS) tb_trilu_params;
typedef TB_RT_STRUCT(TB_QCONV_PARAMS) tb_qconv_params;
typedef TB_RT_STRUCT(TB_QMATMUL_PARAMS) tb_qmatmul_params;
typedef TB_RT_STRUCT(TB_QADD_PARAMS) tb_qadd_params;
typedef TB_RT_STRUCT(TB_QRESCALE_PARAMS) tb_qrescale_params;
typedef TB_RT_STRUCT(TB_QPOOL_PARAMS) tb_qpool_params;
typedef TB_RT_STRUCT(TB_LUT_PARAMS) tb_lut_params;
typedef TB_RT_STRUCT(TB_QLINEAR_PARAMS) tb_qlinear_params;
typedef TB_RT_STRUCT(TB_RESIZE_PARAMS) tb_resize_params;
typedef TB_RT_STRUCT(TB_CONVTRANSPOSE_PARAMS) tb_convtranspose_params;
typedef TB_RT_STRUCT(TB_MVN_PARAMS) tb_mvn_params;
typedef TB_RT_STRUCT(TB_TOPK_PARAMS) tb_topk_params;
typedef TB_RT_STRUCT(TB_CONTRACT_PARAMS) tb_contract_params;
typedef TB_RT_STRUCT(TB_RNN_PARAMS) tb_rnn_params;

/* ---- kernels ---- */
void tb_conv_f32(const tb_conv_params *p, const float *x, const float *w, const float *b, float *y);
/* tb_conv_f32 for group == c_in == c_out (one channel per group); conv_depthwise.c */
void tb_conv_depthwise_f32(const tb_conv_params *p, const float *x, const float *w, const float *b,
                           float *y);
void tb_gemm_f32(const tb_gemm_params *p, const float *a, const float *b, const float *c, float *y);
void tb_matmul_f32(const tb_matmul_params *p, const float *a, const float *b, float *y);
void tb_binary_f32(const tb_binary_params *p, const float *a, const float *b, float *y);
void tb_binary_i64(const tb_binary_params *p, const int64_t *a, const int64_t *b, int64_t *y);
void tb_unary_f32(const tb_unary_params *p, const float *x, float *y);
void tb_batchnorm_f32(const tb_batchnorm_params *p, const float *x, const float *scale,
                      const float *bias, const float *mean, const float *var, float *y);
void tb_maxpool_f32(const tb_pool_params *p, const float *x, float *y);
void tb_avgpool_f32(const tb_pool_params *p, const float *x, float *y);
void tb_reduce_f32(const tb_reduce_params *p, const float *x, float *y);
void tb_softmax_f32(const tb_softmax_params *p, const float *x, float *y);
void tb_copy(const tb_copy_params *p, const void *x, void *y);
void tb_gather(const tb_gather_params *p, const void *x, const void *indices, void *y);
void tb_pad_f32(const tb_pad_params *p, const float *x, float *y);
void tb_cast(const tb_cast_params *p, const void *x, void *y);
void tb_binary_any(const tb_binary_any_params *p, const void *a, const void *b, void *y);
void tb_where(const tb_where_params *p, const uint8_t *cond, const void *x, const void *y, void *out);
void tb_unary_bool(const tb_unary_bool_params *p, const void *x, uint8_t *y);
void tb_logsoftmax_f32(const tb_softmax_params *p, const float *x, float *y);
void tb_hardmax_f32(const tb_softmax_params *p, const float *x, float *y);
void tb_argreduce_f32(const tb_argreduce_params *p, const float *x, int64_t *y);
void tb_instancenorm_f32(const tb_instancenorm_params *p, const float *x, const float *scale,
                         const float *bias, float *y);
void tb_layernorm_f32(const tb_layernorm_params *p, const float *x, const float *scale,
                      const float *bias, float *y);
void tb_layernorm_stats_f32(const tb_layernorm_params *p, const float *x, float *y);
void tb_lrn_f32(const tb_lrn_params *p, const float *x, float *y);
void tb_gather_elements(const tb_gather_elements_params *p, const void *x, const void *indices, void *y);
void tb_trilu(const tb_trilu_params *p, const void *x, const int64_t *k, void *y);
void tb_resize_f32(const tb_resize_params *p, const float *x, float *y);
void tb_convtranspose_f32(const tb_convtranspose_params *p, const float *x, const float *w, const float *b,
                          float *y);
void tb_mvn_f32(const tb_mvn_params *p, const float *x, float *y);
void tb_topk_f32(const tb_topk_params *p, const float *x, float *values, int64_t *indices);
void tb_contract(const tb_contract_params *p, const void *a, const void *b, void *y);
void tb_rnn_f32(const tb_rnn_params *p, const float *x, const float *w, const float *r, const float *b,
                const int32_t *seq_lens, const float *h0, const float *c0, const float *peep, float *y,
                float *y_h, float *y_c);

void tb_qconv(const tb_qconv_params *p, const void *x, const void *w, const int32_t *bias,
              const int32_t *rq, void *y);
/* tb_qconv's folded path for depthwise convs (group == c_in == c_out),
 * qconv_depthwise.c */
void tb_qconv_depthwise(const tb_qconv_params *p, const int8_t *x, const int8_t *w, const int32_t *bias,
                        const int32_t *rq, void *y);
void tb_qmatmul(const tb_qmatmul_params *p, const void *a, const void *b, const int32_t *c,
                const int32_t *rq, void *y);
void tb_qadd(const tb_qadd_params *p, const void *a, const void *b, void *y);
void tb_qrescale(const tb_qrescale_params *p, const void *x, void *y);
void tb_qmaxpool(const tb_qpool_params *p, const void *x, void *y);
void tb_qavgpool(const tb_qpool_params *p, const void *x, const int32_t *rq, void *y);
void tb_lut8(const tb_lut_params *p, const void *x, const uint8_t *table, void *y);
void tb_quantize_f32(const tb_qlinear_params *p, const float *x, const float *scale, const void *zero,
                     void *y);
void tb_dequantize_f32(const tb_qlinear_params *p, const void *x, const float *scale, const void *zero,
                       float *y);

/* ---- requantization helpers (gemmlowp semantics), shared by the kernels
 * and their tests ---- */

/* SaturatingRoundingDoublingHighMul: a * b / 2^31 rounded to nearest (the
 * nudge then a truncating division: ties go toward +infinity), saturating
 * the one overflow INT32_MIN * INT32_MIN. */
static inline int32_t tb_srdhm(int32_t a, int32_t b)
{
    int64_t ab = (int64_t)a * b;
    int64_t nudge = ab >= 0 ? (INT64_C(1) << 30) : 1 - (INT64_C(1) << 30);
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    return (int32_t)((ab + nudge) / (INT64_C(1) << 31)); /* C division truncates */
}

/* RoundingDivideByPOT: x / 2^exponent (exponent in [0, 31]), ties away from
 * zero. Assumes >> of a negative int32 is arithmetic, as on every target gcc
 * and clang support. */
static inline int32_t tb_rounding_shift(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)((UINT32_C(1) << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* acc * M with M = multiplier * 2^(shift - 31), shift in [-31, 30] (TFLite's
 * MultiplyByQuantizedMultiplier). For shift > 0 the left shift saturates to
 * the int32 range instead of overflowing. */
static inline int32_t tb_requantize(int32_t acc, int32_t multiplier, int32_t shift)
{
    if (shift > 0) {
        int64_t v = (int64_t)acc * ((int64_t)1 << shift);
        acc = v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
        return tb_srdhm(acc, multiplier);
    }
    return tb_rounding_shift(tb_srdhm(acc, multiplier), -shift);
}

/* tb_requantize(., m, shift) for m != INT32_MIN with its constants split
 * out, branch-free, so that loops over it vectorise in 32-bit lanes (the
 * requantization rows of qrequantize.c, the flat QLinearAdd): with that
 * multiplier the doubling high product is exactly (x m + 2^30) >> 31. */
typedef struct {
    int32_t m, left, right;
    int32_t sat_hi, sat_lo; /* x above / below these saturates when shifted left */
    int32_t mask, half;     /* the RoundingDivideByPOT remainder mask and mask >> 1 */
} tb_rq_split;

static inline tb_rq_split tb_rq_split_of(int32_t m, int32_t shift)
{
    tb_rq_split r;
    r.m = m;
    r.left = shift > 0 ? shift : 0;
    r.right = shift < 0 ? -shift : 0;
    r.sat_hi = INT32_MAX >> r.left;
    r.sat_lo = INT32_MIN >> r.left; /* arithmetic, as tb_rounding_shift assumes */
    r.mask = (int32_t)((UINT32_C(1) << r.right) - 1u);
    r.half = r.mask >> 1;
    return r;
}

static inline int32_t tb_rq_lane(int32_t x, tb_rq_split r)
{
    int32_t s = (int32_t)((uint32_t)x << r.left), h;
    s = x > r.sat_hi ? INT32_MAX : (x < r.sat_lo ? INT32_MIN : s);
    h = (int32_t)(((int64_t)s * r.m + (INT64_C(1) << 30)) >> 31);
    return (h >> r.right) + ((h & r.mask) > r.half + (int32_t)((uint32_t)h >> 31) ? 1 : 0);
}

#if !defined(TB_NO_SIMD) && defined(__AVX512F__)
#include <immintrin.h>
#if defined(__GNUC__) /* gcc, clang: these run per 16 sums in kernels' inner loops */
#define TB_RQ_VEC_INLINE static inline __attribute__((always_inline))
#else
#define TB_RQ_VEC_INLINE static inline
#endif
/* y_zero + tb_rq_lane(x, r) on 16 int32 lanes (r.m != INT32_MIN), the
 * same arithmetic, for kernels that requantize their sums in registers:
 * tb_rq_vec_of broadcasts the constants once (a channel), then
 * tb_rq_vec_scale per 16 sums, tb_rq_vec_apply with the clamp to [lo, hi].
 * The doubling high product of the even lanes lands in the low half of each
 * 64-bit product, of the odd lanes in the high half. */
typedef struct {
    __m512i m, nudge, sat_hi, sat_lo, mask, half, y_zero, lo, hi;
    __m128i left, right;
    int32_t shifts_left;
} tb_rq_vec;

TB_RQ_VEC_INLINE tb_rq_vec tb_rq_vec_of(tb_rq_split r, int32_t y_zero, int32_t lo, int32_t hi)
{
    tb_rq_vec v;
    v.m = _mm512_set1_epi32(r.m);
    v.nudge = _mm512_set1_epi64(INT64_C(1) << 30);
    v.sat_hi = _mm512_set1_epi32(r.sat_hi);
    v.sat_lo = _mm512_set1_epi32(r.sat_lo);
    v.mask = _mm512_set1_epi32(r.mask);
    v.half = _mm512_set1_epi32(r.half);
    v.y_zero = _mm512_set1_epi32(y_zero);
    v.lo = _mm512_set1_epi32(lo);
    v.hi = _mm512_set1_epi32(hi);
    v.left = _mm_cvtsi32_si128(r.left);
    v.right = _mm_cvtsi32_si128(r.right);
    v.shifts_left = r.left != 0;
    return v;
}

TB_RQ_VEC_INLINE __m512i tb_rq_vec_scale(__m512i x, const tb_rq_vec *c)
{
    __m512i s = x, ev, od, h, q;
    __mmask16 up;
    if (c->shifts_left) {
        s = _mm512_sll_epi32(x, c->left);
        s = _mm512_mask_mov_epi32(s, _mm512_cmpgt_epi32_mask(x, c->sat_hi), _mm512_set1_epi32(INT32_MAX));
        s = _mm512_mask_mov_epi32(s, _mm512_cmplt_epi32_mask(x, c->sat_lo), _mm512_set1_epi32(INT32_MIN));
    }
    ev = _mm512_srli_epi64(_mm512_add_epi64(_mm512_mul_epi32(s, c->m), c->nudge), 31);
    od = _mm512_slli_epi64(_mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(s, 32), c->m), c->nudge), 1);
    h = _mm512_mask_blend_epi32(0xAAAA, ev, od);
    q = _mm512_sra_epi32(h, c->right);
    up = _mm512_cmpgt_epi32_mask(_mm512_and_si512(h, c->mask), _mm512_add_epi32(c->half, _mm512_srli_epi32(h, 31)));
    q = _mm512_mask_add_epi32(q, up, q, _mm512_set1_epi32(1));
    return _mm512_add_epi32(q, c->y_zero);
}

TB_RQ_VEC_INLINE __m512i tb_rq_vec_apply(__m512i x, const tb_rq_vec *c)
{
    return _mm512_min_epi32(_mm512_max_epi32(tb_rq_vec_scale(x, c), c->lo), c->hi);
}
#endif

/* y[i] = clamp(y_zero + tb_requantize(bias + acc[i], rq[0], rq[1]), lo, hi)
 * for i < count, stored as a byte: int8 or uint8 alike, [lo, hi] being
 * within the type's range (qrequantize.c, vectorised). */
void tb_requantize_row(const int32_t *acc, int32_t count, int32_t bias, const int32_t *rq, int32_t y_zero,
                       int32_t lo, int32_t hi, uint8_t *y);

/* The blocked GEMM under the conv, gemm and matmul kernels (gemm_pack.c):
 * y[i * ldy + j] = clamp(bias[i] + sum_k a[i * lda + k] * B(k, j), act_min, act_max)
 * for i < m, j < n (bias may be NULL). B(k, j) is b[k * ldb + j] when b is not
 * NULL; otherwise pack(ctx, k0, kc, j0, nr, panel, ldp) must write
 * panel[kk * ldp + t] = B(k0 + kk, j0 + t) for kk < kc, t < nr and 0 for
 * nr <= t < ldp. */
typedef void tb_gemm_pack_fn(const void *ctx, int32_t k0, int32_t kc, int32_t j0, int32_t nr,
                             float *panel, int32_t ldp);
typedef struct {
    int32_t m, n, k, lda, ldb, ldy;
    const float *a, *b, *bias;
    tb_gemm_pack_fn *pack;
    const void *ctx;
    float *y;
    float act_min, act_max;
} tb_gemm_core;
void tb_gemm_core_f32(const tb_gemm_core *g);

/* The blocked int8 GEMM under tb_qconv's folded path (qgemm.c):
 * y[i * ldy + j] = clamp(y_zero + requantize(bias[i] + sum_k a[i * lda + k] * B(k, j),
 * rq[i or 0]), act_min, act_max) as int8 / uint8 bytes, for i < m, j < n (bias
 * may be NULL; multipliers in [2^30, 2^31)). a is int8, B unsigned bytes:
 * pack(ctx, k0, kc, j0, nr, panel) must write, for q < (kc + 3) / 4 and t <
 * TB_QGEMM_NR, panel[(q * TB_QGEMM_NR + t) * 4 + b] = B(k0 + 4 q + b, j0 + t),
 * 0 where 4 q + b >= kc (t >= nr: any value). TB_QGEMM_NR is qgemm.c's
 * tile width, so only qgemm.c packs. */
typedef void tb_qgemm_pack_fn(const void *ctx, int32_t k0, int32_t kc, int32_t j0, int32_t nr,
                              uint8_t *panel);
typedef struct {
    int32_t m, n, k, lda;
    int64_t ldy;
    const int8_t *a;
    const int32_t *bias, *rq;
    int32_t per_channel, y_zero, act_min, act_max;
    tb_qgemm_pack_fn *pack;
    const void *ctx;
    void *y;
} tb_qgemm_core;
void tb_qgemm_core_s8(const tb_qgemm_core *g);
/* tb_qconv for p->folded convs that are not depthwise, on tb_qgemm_core_s8. */
void tb_qconv_gemm(const tb_qconv_params *p, const int8_t *x, const int8_t *w, const int32_t *bias,
                   const int32_t *rq, void *y);

/* Shared by the window kernels: the indices t in [0, cnt) with
 * 0 <= base + t * step < len (step > 0), as [*lo, *hi), empty if *lo >= *hi. */
void tb_index_span(int32_t base, int32_t step, int32_t cnt, int32_t len, int32_t *lo, int32_t *hi);

#endif
