/* qelementwise.c - int8 / uint8 kernels outside the matrix products:
 * tb_qadd (TFLite's rescaled addition; same-shape operands in one flat
 * vectorised loop), tb_qrescale (QLinearConcat's pieces),
 * tb_qmaxpool, tb_qavgpool (average and global average pooling) and tb_lut8
 * (lookup tables such as QLinearSigmoid). Integer only: this file is
 * compiled without floating point in a test.
 */
#include "tb_runtime.h"

#if !defined(TB_NO_SIMD) && defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#include <immintrin.h>
#define TB_QADD_AVX512 1
#endif

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

#if defined(TB_QADD_AVX512)
/* tb_rq_lane without a left shift on 8 values in 64-bit lanes, as
 * q = (v m + add) >> pre, then (q - [q < q_neg]) >> e: h = floor((x m +
 * 2^30) / 2^31) and its RoundingDivideByPOT by 2^e (floor((h + 2^(e-1) -
 * [h < 0]) / 2^e)) folded so that q = h + 2^(e-1) (+ any offset moved into
 * add) and h < 0 exactly when q < q_neg. */
typedef struct {
    __m512i m, add, q_neg;
    __m128i pre, e;
} lane_rq;

static lane_rq lane_rq_of(int32_t m, int32_t e, int64_t add, int32_t pre, int64_t q_neg)
{
    lane_rq c;
    c.m = _mm512_set1_epi64(m), c.add = _mm512_set1_epi64(add), c.q_neg = _mm512_set1_epi64(q_neg);
    c.pre = _mm_cvtsi32_si128(pre), c.e = _mm_cvtsi32_si128(e);
    return c;
}

static inline __m512i lane_rq_apply(const lane_rq *c, __m512i v)
{
    __m512i q = _mm512_sra_epi64(_mm512_add_epi64(_mm512_mul_epi32(v, c->m), c->add), c->pre);
    q = _mm512_mask_sub_epi64(q, _mm512_cmplt_epi64_mask(q, c->q_neg), q, _mm512_set1_epi64(1));
    return _mm512_sra_epi64(q, c->e);
}

/* An operand's step: x = (a - zero) 2^ls (|x| < 2^29), q = floor((x m + 2^30 +
 * 2^(30+e)) / 2^31) = (a m + add) >> (31 - ls) with the constant parts
 * (divisible by 2^ls) in add. */
static lane_rq operand_rq(int32_t m, int32_t shift, int32_t zero, int32_t ls)
{
    const int32_t e = -shift;
    const int64_t c = (INT64_C(1) << 30) + (e > 0 ? INT64_C(1) << (30 + e) : 0);
    return lane_rq_of(m, e, -(int64_t)zero * m + (c >> ls), 31 - ls, e > 0 ? INT64_C(1) << (e - 1) : INT64_MIN);
}

/* The flat QLinearAdd on 8 elements a step, exact as qadd_flat_*: the two
 * operands' steps, their sum's step with the output zero (less 128 for
 * uint8, whose bytes go through int8 saturation and back) folded in, then
 * the clamp. Returns 0, doing nothing, where the constants leave its range
 * (a left shift, a right shift past 20, left_shift past 21). */
static int qadd_flat_avx512(const tb_qadd_params *p, const void *a, const void *b, void *y)
{
    const int u8 = p->dtype == DT_U8, low = u8 ? 128 : 0, ls = p->left_shift;
    const int32_t ey = -p->y_shift, zero = p->y_zero - low;
    lane_rq ra, rb, ry;
    __m128i lo, hi, flip;
    int64_t i;
    if (p->a_shift > 0 || p->b_shift > 0 || p->y_shift > 0 || p->a_shift < -20 || p->b_shift < -20 ||
        p->y_shift < -20 || ls < 0 || ls > 21 || p->a_mult <= 0 || p->b_mult <= 0 || p->y_mult <= 0)
        return 0;
    /* |a - a_zero| <= 255: |x| < 2^29, each operand's result too, their sum
     * fits int32 and the output step's 64-bit values stay below 2^61 */
    ra = operand_rq(p->a_mult, p->a_shift, p->a_zero, ls);
    rb = operand_rq(p->b_mult, p->b_shift, p->b_zero, ls);
    ry = lane_rq_of(p->y_mult, ey,
                    (INT64_C(1) << 30) + (ey > 0 ? INT64_C(1) << (30 + ey) : 0) + (int64_t)zero * (INT64_C(1) << (31 + ey)),
                    31, ey > 0 ? (INT64_C(1) << (ey - 1)) + (int64_t)zero * (INT64_C(1) << ey) : INT64_MIN);
    lo = _mm_set1_epi8((char)(p->act_min - low)), hi = _mm_set1_epi8((char)(p->act_max - low));
    flip = _mm_set1_epi8((char)low);
    for (i = 0; i < p->count; i += 8) {
        const __mmask16 keep = p->count - i >= 8 ? 0xff : (__mmask16)((1u << (p->count - i)) - 1u);
        const __m128i ba = _mm_maskz_loadu_epi8(keep, (const uint8_t *)a + i);
        const __m128i bb = _mm_maskz_loadu_epi8(keep, (const uint8_t *)b + i);
        const __m512i va = u8 ? _mm512_cvtepu8_epi64(ba) : _mm512_cvtepi8_epi64(ba);
        const __m512i vb = u8 ? _mm512_cvtepu8_epi64(bb) : _mm512_cvtepi8_epi64(bb);
        const __m512i s = _mm512_add_epi64(lane_rq_apply(&ra, va), lane_rq_apply(&rb, vb));
        __m128i out = _mm512_cvtsepi64_epi8(lane_rq_apply(&ry, s));
        out = _mm_xor_si128(_mm_min_epi8(_mm_max_epi8(out, lo), hi), flip);
        _mm_mask_storeu_epi8((uint8_t *)y + i, keep, out);
    }
    return 1;
}
#endif

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
#if defined(TB_QADD_AVX512)
        if (qadd_flat_avx512(p, a, b, y))
            return;
#endif
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

/* ---- pooling: windows clipped to the real input as in pool.c ----
 * The interior columns of an output row (windows that need no clipping
 * along W) are computed one window position (kh, kw) at a time across the
 * row, in byte loops compilers vectorise (sums in int32 chunks for the
 * average); border columns, rows of windows in padding and everything else
 * one output at a time. A window that is the whole plane (global pooling)
 * is one flat loop over the plane. Integer results: the paths agree exactly. */

#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
#define QPOOL_CHUNK 32 /* int32 sums of the interior columns on the stack */
#else
#define QPOOL_CHUNK 256
#endif

#if defined(TB_QADD_AVX512)
/* The row loops for stride 1 and 2 on whole rows at once: compilers leave
 * short rows (a 28-wide plane pooled by 2) to their scalar tails, these
 * take any n in masked steps. Stride 2: the even bytes are the low halves
 * of 16-bit lanes (vpmovwb); the odd byte past the last one is not read.
 * set: y[i] = x[i * step], else y[i] = max(y[i], x[i * step]). */
static void row_max_avx512(void *y, const void *x, int32_t step, int32_t n, int u8, int set)
{
    uint8_t *yb = (uint8_t *)y;
    const uint8_t *xb = (const uint8_t *)x;
    int32_t i;
    if (step == 1) {
        for (i = 0; i < n; i += 64) {
            const __mmask64 k = n - i >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << (n - i)) - 1u;
            __m512i v = _mm512_maskz_loadu_epi8(k, xb + i);
            if (!set) {
                const __m512i o = _mm512_maskz_loadu_epi8(k, yb + i);
                v = u8 ? _mm512_max_epu8(v, o) : _mm512_max_epi8(v, o);
            }
            _mm512_mask_storeu_epi8(yb + i, k, v);
        }
        return;
    }
    for (i = 0; i < n; i += 32) {
        const int32_t m = n - i >= 32 ? 32 : n - i;
        const __mmask64 kx = ((__mmask64)1 << (2 * m - 1)) - 1u; /* 2m - 1 bytes */
        const __mmask32 ky = m == 32 ? ~(__mmask32)0 : ((__mmask32)1 << m) - 1u;
        __m256i v = _mm512_cvtepi16_epi8(_mm512_maskz_loadu_epi8(kx, xb + 2 * (int64_t)i));
        if (!set) {
            const __m256i o = _mm256_maskz_loadu_epi8(ky, yb + i);
            v = u8 ? _mm256_max_epu8(v, o) : _mm256_max_epi8(v, o);
        }
        _mm256_mask_storeu_epi8(yb + i, ky, v);
    }
}
#define ROW_MAX_FAST(y, x, step, n, u8, set)            \
    if ((step) <= 2) {                                  \
        row_max_avx512(y, x, step, n, u8, set);         \
        return;                                         \
    }
#else
#define ROW_MAX_FAST(y, x, step, n, u8, set)
#endif

/* Output columns [*ow_lo, *ow_hi) whose windows lie inside the row: iw0 >=
 * 0 and the last tap before w_in. */
static void interior_columns(const tb_qpool_params *p, int32_t *ow_lo, int32_t *ow_hi)
{
    const int32_t last = p->w_in - 1 + p->pad_left - (p->k_w - 1) * p->dil_w;
    int32_t l = (p->pad_left + p->stride_w - 1) / p->stride_w, h = last >= 0 ? last / p->stride_w + 1 : 0;
    l = l < p->w_out ? l : p->w_out;
    h = h < p->w_out ? h : p->w_out;
    *ow_lo = l;
    *ow_hi = h > l ? h : l;
}

/* Whether the one window is the whole plane, every tap inside it. */
static int is_global(const tb_qpool_params *p)
{
    return p->h_out == 1 && p->w_out == 1 && p->k_h == p->h_in && p->k_w == p->w_in && p->pad_top == 0 &&
           p->pad_left == 0 && (p->dil_h == 1 || p->k_h == 1) && (p->dil_w == 1 || p->k_w == 1);
}

/* The average's output from the window sum and its count. */
static int32_t avg_out(const tb_qpool_params *p, const int32_t *rq, int32_t acc, int32_t cnt, int32_t lo,
                       int32_t hi)
{
    const int32_t v = p->y_zero + tb_requantize(acc, rq[2 * (cnt - p->rq_first)], rq[2 * (cnt - p->rq_first) + 1]);
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Per element type T: row_max y[i] = max(y[i], x[i * step]), row_set y[i] =
 * x[i * step], row_sum acc[i] += x[i * step] (stride 1 and 2 get loops of
 * their own: even elements), plane_max / plane_sum over n bytes (the sum
 * modulo 2^32, exact wherever the int32 window sum is), border_out one
 * output clipped in both directions (or in padding), then the pool. */
#define DEFINE_QPOOL(S, T, U8)                                                                      \
static void row_max_##S(T *restrict y, const T *restrict x, int32_t step, int32_t n)              \
{                                                                                                 \
    int32_t i;                                                                                    \
    ROW_MAX_FAST(y, x, step, n, U8, 0)                                                            \
    if (step == 1)                                                                                \
        for (i = 0; i < n; i++)                                                                   \
            y[i] = x[i] > y[i] ? x[i] : y[i];                                                     \
    else if (step == 2)                                                                           \
        for (i = 0; i < n; i++)                                                                   \
            y[i] = x[2 * i] > y[i] ? x[2 * i] : y[i];                                             \
    else                                                                                          \
        for (i = 0; i < n; i++)                                                                   \
            y[i] = x[(int64_t)i * step] > y[i] ? x[(int64_t)i * step] : y[i];                     \
}                                                                                                 \
                                                                                                  \
static void row_set_##S(T *restrict y, const T *restrict x, int32_t step, int32_t n)              \
{                                                                                                 \
    int32_t i;                                                                                    \
    ROW_MAX_FAST(y, x, step, n, U8, 1)                                                            \
    if (step == 1)                                                                                \
        for (i = 0; i < n; i++)                                                                   \
            y[i] = x[i];                                                                          \
    else                                                                                          \
        for (i = 0; i < n; i++)                                                                   \
            y[i] = x[(int64_t)i * step];                                                          \
}                                                                                                 \
                                                                                                  \
static void row_sum_##S(int32_t *restrict acc, const T *restrict x, int32_t step, int32_t n)      \
{                                                                                                 \
    int32_t i;                                                                                    \
    if (step == 1)                                                                                \
        for (i = 0; i < n; i++)                                                                   \
            acc[i] += x[i];                                                                       \
    else if (step == 2)                                                                           \
        for (i = 0; i < n; i++)                                                                   \
            acc[i] += x[2 * i];                                                                   \
    else                                                                                          \
        for (i = 0; i < n; i++)                                                                   \
            acc[i] += x[(int64_t)i * step];                                                       \
}                                                                                                 \
                                                                                                  \
static int32_t plane_max_##S(const T *restrict x, int64_t n)                                      \
{                                                                                                 \
    T m = x[0];                                                                                   \
    int64_t i;                                                                                    \
    for (i = 1; i < n; i++)                                                                       \
        m = x[i] > m ? x[i] : m;                                                                  \
    return m;                                                                                     \
}                                                                                                 \
                                                                                                  \
static uint32_t plane_sum_##S(const T *restrict x, int64_t n)                                     \
{                                                                                                 \
    uint32_t s = 0;                                                                               \
    int64_t i;                                                                                    \
    for (i = 0; i < n; i++)                                                                       \
        s += (uint32_t)(int32_t)x[i];                                                             \
    return s;                                                                                     \
}                                                                                                 \
                                                                                                  \
static int32_t border_out_##S(const tb_qpool_params *p, const T *xp, const int32_t *rq, int32_t ih0, \
                              int32_t kh_lo, int32_t kh_hi, int32_t cnt_h, int32_t ow, int is_max,  \
                              int32_t lo, int32_t hi)                                              \
{                                                                                                 \
    const int32_t iw0 = ow * p->stride_w - p->pad_left;                                           \
    int32_t kh, kw, kw_lo, kw_hi, acc = is_max ? lo : 0, cnt_w;                                   \
    tb_index_span(iw0, p->dil_w, p->k_w, p->w_in, &kw_lo, &kw_hi);                                \
    if (kh_lo >= kh_hi || kw_lo >= kw_hi)                                                         \
        return is_max ? lo : p->y_zero; /* window entirely in padding (ceil_mode): the zero point */ \
    for (kh = kh_lo; kh < kh_hi; kh++) {                                                          \
        const T *xr = xp + (int64_t)(ih0 + kh * p->dil_h) * p->w_in + iw0;                        \
        for (kw = kw_lo; kw < kw_hi; kw++) {                                                      \
            const int32_t v = xr[kw * p->dil_w];                                                  \
            if (is_max)                                                                           \
                acc = v > acc ? v : acc;                                                          \
            else                                                                                  \
                acc += v - p->x_zero; /* padded positions read x_zero: they add 0 */             \
        }                                                                                         \
    }                                                                                             \
    if (is_max)                                                                                   \
        return acc;                                                                               \
    cnt_w = kw_hi - kw_lo;                                                                        \
    if (p->count_include_pad) {                                                                   \
        int32_t w_lo, w_hi;                                                                       \
        tb_index_span(iw0 + p->pad_left, p->dil_w, p->k_w, p->w_in + p->pad_left + p->pad_right,  \
                      &w_lo, &w_hi);                                                              \
        cnt_w = w_hi - w_lo;                                                                      \
    }                                                                                             \
    return avg_out(p, rq, acc, cnt_h * cnt_w, lo, hi);                                            \
}                                                                                                 \
                                                                                                  \
static void qpool_##S(const tb_qpool_params *p, const T *x, const int32_t *rq, T *y, int is_max)  \
{                                                                                                 \
    const int64_t in_plane = (int64_t)p->h_in * p->w_in, planes = (int64_t)p->n * p->c;           \
    const int32_t h_pad = p->h_in + p->pad_top + p->pad_bottom;                                   \
    const int32_t lo = qmin(p->dtype), hi = qmax(p->dtype);                                       \
    int32_t ow_lo, ow_hi, oh, ow, kh, kw;                                                         \
    int64_t pl;                                                                                   \
    if (is_global(p)) {                                                                           \
        const int32_t cnt = (int32_t)in_plane;                                                    \
        for (pl = 0; pl < planes; pl++) {                                                         \
            const T *xp = x + pl * in_plane;                                                      \
            if (is_max)                                                                           \
                y[pl] = (T)plane_max_##S(xp, in_plane);                                           \
            else                                                                                  \
                y[pl] = (T)avg_out(p, rq, (int32_t)(plane_sum_##S(xp, in_plane) -                 \
                                                    (uint32_t)cnt * (uint32_t)p->x_zero),         \
                                   cnt, lo, hi);                                                  \
        }                                                                                         \
        return;                                                                                   \
    }                                                                                             \
    interior_columns(p, &ow_lo, &ow_hi);                                                          \
    for (pl = 0; pl < planes; pl++) {                                                             \
        const T *xp = x + pl * in_plane;                                                          \
        for (oh = 0; oh < p->h_out; oh++, y += p->w_out) {                                        \
            const int32_t ih0 = oh * p->stride_h - p->pad_top;                                    \
            int32_t kh_lo, kh_hi, cnt_h;                                                          \
            tb_index_span(ih0, p->dil_h, p->k_h, p->h_in, &kh_lo, &kh_hi);                        \
            cnt_h = kh_hi - kh_lo;                                                                \
            if (!is_max && p->count_include_pad) {                                                \
                int32_t h_lo, h_hi;                                                               \
                tb_index_span(ih0 + p->pad_top, p->dil_h, p->k_h, h_pad, &h_lo, &h_hi);           \
                cnt_h = h_hi - h_lo;                                                              \
            }                                                                                     \
            if (kh_lo < kh_hi && ow_hi > ow_lo) {                                                 \
                const T *x0 = xp + (int64_t)ow_lo * p->stride_w - p->pad_left;                    \
                if (is_max) {                                                                     \
                    const int32_t n = ow_hi - ow_lo;                                              \
                    for (kh = kh_lo; kh < kh_hi; kh++) {                                          \
                        const T *xr = x0 + (int64_t)(ih0 + kh * p->dil_h) * p->w_in;              \
                        for (kw = 0; kw < p->k_w; kw++) {                                         \
                            if (kh == kh_lo && kw == 0)                                           \
                                row_set_##S(y + ow_lo, xr, p->stride_w, n);                        \
                            else                                                                  \
                                row_max_##S(y + ow_lo, xr + kw * p->dil_w, p->stride_w, n);       \
                        }                                                                         \
                    }                                                                             \
                } else {                                                                          \
                    /* every interior window reads (kh_hi - kh_lo) k_w real values */             \
                    const int32_t cnt = cnt_h * p->k_w, zsum = (kh_hi - kh_lo) * p->k_w * p->x_zero; \
                    const int32_t m = rq[2 * (cnt - p->rq_first)], sh = rq[2 * (cnt - p->rq_first) + 1]; \
                    const tb_rq_split r = tb_rq_split_of(m, sh);                                  \
                    int32_t acc[QPOOL_CHUNK], c0, i;                                              \
                    for (c0 = ow_lo; c0 < ow_hi; c0 += QPOOL_CHUNK) {                             \
                        const int32_t n = ow_hi - c0 < QPOOL_CHUNK ? ow_hi - c0 : QPOOL_CHUNK;    \
                        for (i = 0; i < n; i++)                                                   \
                            acc[i] = -zsum;                                                       \
                        for (kh = kh_lo; kh < kh_hi; kh++) {                                      \
                            const T *xr = x0 + (int64_t)(c0 - ow_lo) * p->stride_w +              \
                                          (int64_t)(ih0 + kh * p->dil_h) * p->w_in;               \
                            for (kw = 0; kw < p->k_w; kw++)                                       \
                                row_sum_##S(acc, xr + kw * p->dil_w, p->stride_w, n);             \
                        }                                                                         \
                        if (m != INT32_MIN) {                                                     \
                            for (i = 0; i < n; i++) {                                             \
                                const int32_t v = p->y_zero + tb_rq_lane(acc[i], r);              \
                                y[c0 + i] = (T)(v < lo ? lo : (v > hi ? hi : v));                 \
                            }                                                                     \
                        } else {                                                                  \
                            for (i = 0; i < n; i++)                                               \
                                y[c0 + i] = (T)avg_out(p, rq, acc[i], cnt, lo, hi);               \
                        }                                                                         \
                    }                                                                             \
                }                                                                                 \
                for (ow = 0; ow < ow_lo; ow++)                                                    \
                    y[ow] = (T)border_out_##S(p, xp, rq, ih0, kh_lo, kh_hi, cnt_h, ow, is_max, lo, hi); \
                for (ow = ow_hi; ow < p->w_out; ow++)                                             \
                    y[ow] = (T)border_out_##S(p, xp, rq, ih0, kh_lo, kh_hi, cnt_h, ow, is_max, lo, hi); \
            } else {                                                                              \
                for (ow = 0; ow < p->w_out; ow++)                                                 \
                    y[ow] = (T)border_out_##S(p, xp, rq, ih0, kh_lo, kh_hi, cnt_h, ow, is_max, lo, hi); \
            }                                                                                     \
        }                                                                                         \
    }                                                                                             \
}

DEFINE_QPOOL(i8, int8_t, 0)
DEFINE_QPOOL(u8, uint8_t, 1)

static void qpool(const tb_qpool_params *p, const void *x, const int32_t *rq, void *y, int is_max)
{
    if (p->dtype == DT_U8)
        qpool_u8(p, (const uint8_t *)x, rq, (uint8_t *)y, is_max);
    else
        qpool_i8(p, (const int8_t *)x, rq, (int8_t *)y, is_max);
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
