/* qrequantize.c - tb_requantize_row: an int32 row requantized to int8 or
 * uint8, the store at the end of the int8 conv kernels. Integer only: this
 * file is compiled without floating point in a test.
 *
 * Each value is tb_requantize (gemmlowp's saturating left shift,
 * SaturatingRoundingDoublingHighMul and RoundingDivideByPOT) done in 32-bit
 * lanes: with a multiplier other than INT32_MIN the doubling high product
 * is exactly (x * m + 2^30) >> 31 (its one saturating case cannot occur),
 * a 32 x 32 -> 64-bit multiply of each lane. The plain C loop is written so
 * that gcc and clang vectorise it; with __AVX512F__ or __AVX2__, unless
 * TB_NO_SIMD is defined, an intrinsics loop multiplies the even and odd
 * lanes separately (vpmuldq) and narrows with one truncating store. Both
 * give the exact reference results.
 */
#include "tb_runtime.h"

#if !defined(TB_NO_SIMD) && defined(__AVX512F__)
#include <immintrin.h>
#define TB_RQ_AVX512 1
#if defined(__AVX512BW__) && defined(__AVX512VL__)
#define TB_RQ_FOLDED 1
#endif
#elif !defined(TB_NO_SIMD) && defined(__AVX2__)
#include <immintrin.h>
#define TB_RQ_AVX2 1
#endif

/* y[j] = clamp(y_zero + tb_requantize(bias + acc[j], r->m, shift)) for j <
 * count, branch-free, every constant in a local so that the loop vectorises. */
static void rq_plain(const int32_t *restrict acc, int32_t count, int32_t bias, const tb_rq_split *r,
                     int32_t y_zero, int32_t lo, int32_t hi, uint8_t *restrict y)
{
    const tb_rq_split c = *r; /* a local copy, so that the loop vectorises */
    int32_t j;
    for (j = 0; j < count; j++) {
        /* adding y_zero wraps in 32 bits, as in the vector lanes (only a
         * multiplier lowering never makes can get near INT32_MAX here) */
        const int32_t v = (int32_t)((uint32_t)y_zero + (uint32_t)tb_rq_lane(bias + acc[j], c));
        y[j] = (uint8_t)(v < lo ? lo : (v > hi ? hi : v));
    }
}

#if defined(TB_RQ_AVX512)

#if defined(TB_RQ_FOLDED)
/* For shift = -e in [-20, -1] and m > 0: y_zero + tb_requantize(x) folded
 * into one 64-bit step per lane, exact for every int32 x: with p = x m,
 * h = floor((p + 2^30) / 2^31) is negative exactly when p < -2^30, and
 * RoundingDivideByPOT(h, e) + zero = floor((p + 2^30 + 2^(30+e) + zero
 * 2^(31+e) - [h < 0] 2^31) / 2^(31+e)) (|p| < 2^62, no overflow). zero is
 * y_zero, less 128 for uint8 rows (hi > 127), which then go through int8
 * saturation and back; the result is the 16 clamped bytes. */
typedef struct {
    __m512i m, add;
    __m128i shift, lo, hi, flip;
} rq_folded;

static rq_folded rq_folded_of(int32_t m, int32_t e, int32_t y_zero, int32_t lo, int32_t hi)
{
    const int32_t low = hi > 127 ? 128 : 0;
    rq_folded c;
    c.m = _mm512_set1_epi32(m);
    c.add = _mm512_set1_epi64((INT64_C(1) << 30) + (INT64_C(1) << (30 + e)) +
                              (int64_t)(y_zero - low) * (INT64_C(1) << (31 + e)));
    c.shift = _mm_cvtsi32_si128(31 + e);
    c.lo = _mm_set1_epi8((char)(lo - low)), c.hi = _mm_set1_epi8((char)(hi - low)), c.flip = _mm_set1_epi8((char)low);
    return c;
}

static inline __m128i rq16_folded(__m512i x, const rq_folded *c)
{
    const __m512i below = _mm512_set1_epi64(-(INT64_C(1) << 30)), two31 = _mm512_set1_epi64(INT64_C(1) << 31);
    const __m512i pick = _mm512_setr_epi32(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
    __m512i ev = _mm512_mul_epi32(x, c->m), od = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), c->m);
    const __mmask8 ne = _mm512_cmplt_epi64_mask(ev, below), no = _mm512_cmplt_epi64_mask(od, below);
    __m128i out;
    ev = _mm512_add_epi64(ev, c->add), od = _mm512_add_epi64(od, c->add);
    ev = _mm512_sra_epi64(_mm512_mask_sub_epi64(ev, ne, ev, two31), c->shift);
    od = _mm512_sra_epi64(_mm512_mask_sub_epi64(od, no, od, two31), c->shift);
    out = _mm512_cvtsepi32_epi8(_mm512_permutex2var_epi32(ev, pick, od));
    return _mm_xor_si128(_mm_min_epi8(_mm_max_epi8(out, c->lo), c->hi), c->flip);
}
#endif

#elif defined(TB_RQ_AVX2)

static inline __m256i rq8(__m256i x, const tb_rq_split *r, int32_t y_zero, int32_t lo, int32_t hi)
{
    const __m256i m = _mm256_set1_epi32(r->m), nudge = _mm256_set1_epi64x(INT64_C(1) << 30);
    __m256i s = x, ev, od, h, q, up;
    if (r->left) {
        s = _mm256_sll_epi32(x, _mm_cvtsi32_si128(r->left));
        s = _mm256_blendv_epi8(s, _mm256_set1_epi32(INT32_MAX), _mm256_cmpgt_epi32(x, _mm256_set1_epi32(r->sat_hi)));
        s = _mm256_blendv_epi8(s, _mm256_set1_epi32(INT32_MIN), _mm256_cmpgt_epi32(_mm256_set1_epi32(r->sat_lo), x));
    }
    ev = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(s, m), nudge), 31);
    od = _mm256_slli_epi64(_mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(s, 32), m), nudge), 1);
    h = _mm256_blend_epi32(ev, od, 0xAA);
    q = _mm256_sra_epi32(h, _mm_cvtsi32_si128(r->right));
    up = _mm256_cmpgt_epi32(_mm256_and_si256(h, _mm256_set1_epi32(r->mask)),
                            _mm256_add_epi32(_mm256_set1_epi32(r->half), _mm256_srli_epi32(h, 31)));
    q = _mm256_sub_epi32(q, up); /* up is -1 where the remainder rounds away */
    q = _mm256_add_epi32(q, _mm256_set1_epi32(y_zero));
    return _mm256_min_epi32(_mm256_max_epi32(q, _mm256_set1_epi32(lo)), _mm256_set1_epi32(hi));
}

/* The low byte of each lane into y[0..8). */
static inline void store8(uint8_t *y, __m256i v)
{
    const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                          0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    v = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(v, pick), _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1));
    _mm_storel_epi64((__m128i *)(void *)y, _mm256_castsi256_si128(v));
}

#endif

void tb_requantize_row(const int32_t *acc, int32_t count, int32_t bias, const int32_t *rq, int32_t y_zero,
                       int32_t lo, int32_t hi, uint8_t *y)
{
    const tb_rq_split r = tb_rq_split_of(rq[0], rq[1]);
    int32_t j = 0;
    if (rq[0] == INT32_MIN) { /* the doubling high product's saturating case: the reference */
        for (; j < count; j++) {
            const int32_t v = (int32_t)((uint32_t)y_zero + (uint32_t)tb_requantize(bias + acc[j], rq[0], rq[1]));
            y[j] = (uint8_t)(v < lo ? lo : (v > hi ? hi : v));
        }
        return;
    }
#if defined(TB_RQ_FOLDED)
    if (rq[0] > 0 && rq[1] <= -1 && rq[1] >= -20) {
        const rq_folded c = rq_folded_of(rq[0], -rq[1], y_zero, lo, hi);
        const __m512i b = _mm512_set1_epi32(bias);
        for (; j + 16 <= count; j += 16)
            _mm_storeu_si128((__m128i *)(void *)(y + j),
                             rq16_folded(_mm512_add_epi32(_mm512_loadu_si512(acc + j), b), &c));
        if (j < count) {
            const __mmask16 k = (__mmask16)((1u << (count - j)) - 1u);
            _mm_mask_storeu_epi8(y + j, k, rq16_folded(_mm512_add_epi32(_mm512_maskz_loadu_epi32(k, acc + j), b), &c));
        }
        return;
    }
#endif
#if defined(TB_RQ_AVX512)
    {
        /* the 16-lane requantization the kernels share (tb_runtime.h) */
        const __m512i b = _mm512_set1_epi32(bias);
        const tb_rq_vec v = tb_rq_vec_of(r, y_zero, lo, hi);
        for (; j + 16 <= count; j += 16)
            _mm_storeu_si128((__m128i *)(void *)(y + j),
                             _mm512_cvtepi32_epi8(tb_rq_vec_apply(_mm512_add_epi32(_mm512_loadu_si512(acc + j), b), &v)));
        if (j < count) {
            const __mmask16 k = (__mmask16)((1u << (count - j)) - 1u);
            _mm512_mask_cvtepi32_storeu_epi8(
                y + j, k, tb_rq_vec_apply(_mm512_add_epi32(_mm512_maskz_loadu_epi32(k, acc + j), b), &v));
            j = count;
        }
    }
#elif defined(TB_RQ_AVX2)
    {
        const __m256i b = _mm256_set1_epi32(bias);
        for (; j + 8 <= count; j += 8)
            store8(y + j, rq8(_mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(const void *)(acc + j)), b),
                              &r, y_zero, lo, hi));
    }
#endif
    rq_plain(acc + j, count - j, bias, &r, y_zero, lo, hi, y + j);
}
