/* qelementwise.c - int8 / uint8 kernels outside the matrix products:
 * tb_qadd (TFLite's rescaled addition; same-shape operands in one flat
 * vectorised loop), tb_qrescale (QLinearConcat's pieces),
 * tb_qmaxpool, tb_qavgpool (average and global average pooling) and tb_lut8
 * (lookup tables such as QLinearSigmoid). Integer only: this file is
 * compiled without floating point in a test.
 */
#include "tb_runtime.h"

#define DT_U8 2

static int32_t load(const void *x, int64_t i, int32_t dtype)
{
    return dtype == DT_U8 ? (int32_t)((const uint8_t *)x)[i] : (int32_t)((const int8_t *)x)[i];
}

/* Stores v clamped to [lo, hi] (itself within the dtype's range). */
static void put(void *y, int64_t i, int32_t v, int32_t dtype, int32_t lo, int32_t hi)
{
    v = v < lo ? lo : (v > hi ? hi : v);
    if (dtype == DT_U8)
        ((uint8_t *)y)[i] = (uint8_t)v;
    else
        ((int8_t *)y)[i] = (int8_t)v;
}

static int32_t qmin(int32_t dtype)
{
    return dtype == DT_U8 ? 0 : -128;
}

static int32_t qmax(int32_t dtype)
{
    return dtype == DT_U8 ? 255 : 127;
}

/* tb_qadd on operands of the output's shape (residual adds): one flat loop
 * per element type, every constant in a local. */
#define DEFINE_QADD_FLAT(NAME, T)                                                                 \
static void NAME(const tb_qadd_params *p, const T *restrict a, const T *restrict b, T *restrict y) \
{                                                                                                 \
    const tb_rq_split ra = tb_rq_split_of(p->a_mult, p->a_shift), rb = tb_rq_split_of(p->b_mult, p->b_shift); \
    const tb_rq_split ry = tb_rq_split_of(p->y_mult, p->y_shift);                                       \
    const int32_t az = p->a_zero, bz = p->b_zero, yz = p->y_zero, lo = p->act_min, hi = p->act_max; \
    const int32_t ls = p->left_shift;                                                             \
    int64_t i;                                                                                    \
    for (i = 0; i < p->count; i++) {                                                              \
        const int32_t sa = tb_rq_lane(((int32_t)a[i] - az) * (1 << ls), ra);                          \
        const int32_t sb = tb_rq_lane(((int32_t)b[i] - bz) * (1 << ls), rb);                          \
        const int32_t v = yz + tb_rq_lane(sa + sb, ry);                                               \
        y[i] = (T)(v < lo ? lo : (v > hi ? hi : v));                                               \
    }                                                                                             \
}

DEFINE_QADD_FLAT(qadd_flat_i8, int8_t)
DEFINE_QADD_FLAT(qadd_flat_u8, uint8_t)

/* Whether a and b are both laid out as the output (dense, no broadcast). */
static int qadd_same_shape(const tb_qadd_params *p)
{
    int64_t st = 1;
    int32_t d;
    for (d = p->rank - 1; d >= 0; d--) {
        if (p->dims[d] != 1 && (p->a_strides[d] != st || p->b_strides[d] != st))
            return 0;
        st *= p->dims[d];
    }
    return 1;
}

void tb_qadd(const tb_qadd_params *p, const void *a, const void *b, void *y)
{
    int32_t idx[TB_RT_MAX_RANK], d;
    int64_t ao = 0, bo = 0, i;
    if (p->a_mult != INT32_MIN && p->b_mult != INT32_MIN && p->y_mult != INT32_MIN && qadd_same_shape(p)) {
        if (p->dtype == DT_U8)
            qadd_flat_u8(p, (const uint8_t *)a, (const uint8_t *)b, (uint8_t *)y);
        else
            qadd_flat_i8(p, (const int8_t *)a, (const int8_t *)b, (int8_t *)y);
        return;
    }
    for (d = 0; d < p->rank; d++)
        idx[d] = 0;
    for (i = 0; i < p->count; i++) {
        const int32_t sa = (load(a, ao, p->dtype) - p->a_zero) * (1 << p->left_shift);
        const int32_t sb = (load(b, bo, p->dtype) - p->b_zero) * (1 << p->left_shift);
        const int32_t ra = tb_requantize(sa, p->a_mult, p->a_shift);
        const int32_t rb = tb_requantize(sb, p->b_mult, p->b_shift);
        put(y, i, p->y_zero + tb_requantize(ra + rb, p->y_mult, p->y_shift), p->dtype, p->act_min,
            p->act_max);
        /* next index, row-major, moving the operand offsets along */
        for (d = p->rank - 1; d >= 0; d--) {
            ao += p->a_strides[d];
            bo += p->b_strides[d];
            if (++idx[d] < p->dims[d])
                break;
            ao -= (int64_t)p->a_strides[d] * p->dims[d];
            bo -= (int64_t)p->b_strides[d] * p->dims[d];
            idx[d] = 0;
        }
    }
}

void tb_qrescale(const tb_qrescale_params *p, const void *x, void *y)
{
    const int32_t lo = qmin(p->dtype), hi = qmax(p->dtype);
    int64_t o, i;
    for (o = 0; o < p->outer; o++) {
        const int64_t xo = o * p->inner, yo = o * p->y_inner + p->y_offset;
        for (i = 0; i < p->inner; i++)
            put(y, yo + i, p->y_zero + tb_requantize(load(x, xo + i, p->dtype) - p->x_zero, p->mult, p->shift),
                p->dtype, lo, hi);
    }
}

/* Windows are clipped to the real input as in pool.c; is_max: max pool. */
static void qpool(const tb_qpool_params *p, const void *x, const int32_t *rq, void *y, int is_max)
{
    const int64_t in_plane = (int64_t)p->h_in * p->w_in;
    const int64_t planes = (int64_t)p->n * p->c;
    const int32_t h_pad = p->h_in + p->pad_top + p->pad_bottom;
    const int32_t w_pad = p->w_in + p->pad_left + p->pad_right;
    const int32_t lo = qmin(p->dtype), hi = qmax(p->dtype);
    int64_t pl, yi = 0;
    int32_t oh, ow, kh, kw;

    for (pl = 0; pl < planes; pl++) {
        const int64_t xp = pl * in_plane;
        for (oh = 0; oh < p->h_out; oh++) {
            const int32_t ih0 = oh * p->stride_h - p->pad_top;
            int32_t kh_lo, kh_hi;
            tb_index_span(ih0, p->dil_h, p->k_h, p->h_in, &kh_lo, &kh_hi);
            for (ow = 0; ow < p->w_out; ow++, yi++) {
                const int32_t iw0 = ow * p->stride_w - p->pad_left;
                int32_t kw_lo, kw_hi, cnt, acc;
                tb_index_span(iw0, p->dil_w, p->k_w, p->w_in, &kw_lo, &kw_hi);
                if (kh_lo >= kh_hi || kw_lo >= kw_hi) {
                    /* window entirely in padding (ceil_mode): the zero point */
                    put(y, yi, is_max ? lo : p->y_zero, p->dtype, lo, hi);
                    continue;
                }
                acc = is_max ? lo : 0;
                for (kh = kh_lo; kh < kh_hi; kh++) {
                    const int64_t xr = xp + (int64_t)(ih0 + kh * p->dil_h) * p->w_in;
                    for (kw = kw_lo; kw < kw_hi; kw++) {
                        const int32_t v = load(x, xr + iw0 + kw * p->dil_w, p->dtype);
                        if (is_max)
                            acc = v > acc ? v : acc;
                        else
                            acc += v - p->x_zero;
                    }
                }
                if (is_max) {
                    put(y, yi, acc, p->dtype, lo, hi);
                    continue;
                }
                if (p->count_include_pad) {
                    int32_t h_lo, h_hi, w_lo, w_hi;
                    tb_index_span(ih0 + p->pad_top, p->dil_h, p->k_h, h_pad, &h_lo, &h_hi);
                    tb_index_span(iw0 + p->pad_left, p->dil_w, p->k_w, w_pad, &w_lo, &w_hi);
                    cnt = (h_hi - h_lo) * (w_hi - w_lo);
                } else {
                    cnt = (kh_hi - kh_lo) * (kw_hi - kw_lo);
                }
                /* padded positions read x_zero: they add 0 to acc */
                put(y, yi, p->y_zero + tb_requantize(acc, rq[2 * (cnt - p->rq_first)],
                                                     rq[2 * (cnt - p->rq_first) + 1]),
                    p->dtype, lo, hi);
            }
        }
    }
}

void tb_qmaxpool(const tb_qpool_params *p, const void *x, void *y)
{
    qpool(p, x, 0, y, 1);
}

void tb_qavgpool(const tb_qpool_params *p, const void *x, const int32_t *rq, void *y)
{
    qpool(p, x, rq, y, 0);
}

void tb_lut8(const tb_lut_params *p, const void *x, const uint8_t *table, void *y)
{
    const uint8_t *xb = (const uint8_t *)x; /* int8 or uint8: the same bytes */
    uint8_t *yb = (uint8_t *)y;
    int32_t i;
    for (i = 0; i < p->count; i++)
        yb[i] = table[xb[i]];
}
