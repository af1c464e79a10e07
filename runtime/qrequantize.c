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

/* bias + acc[0..16) (lanes of k only) -> clamped values, in 32-bit lanes */
static inline __m512i rq16(__m512i x, const tb_rq_split *r, int32_t y_zero, int32_t lo, int32_t hi)
{
    const __m512i m = _mm512_set1_epi32(r->m), nudge = _mm512_set1_epi64(INT64_C(1) << 30);
    __m512i s = x, ev, od, h, q;
    __mmask16 up;
    if (r->left) {
        s = _mm512_sll_epi32(x, _mm_cvtsi32_si128(r->left));
        s = _mm512_mask_mov_epi32(s, _mm512_cmpgt_epi32_mask(x, _mm512_set1_epi32(r->sat_hi)),
                                  _mm512_set1_epi32(INT32_MAX));
        s = _mm512_mask_mov_epi32(s, _mm512_cmplt_epi32_mask(x, _mm512_set1_epi32(r->sat_lo)),
                                  _mm512_set1_epi32(INT32_MIN));
    }
    /* even lanes: the result in the low half of each 64-bit product; odd: in the high half */
    ev = _mm512_srli_epi64(_mm512_add_epi64(_mm512_mul_epi32(s, m), nudge), 31);
    od = _mm512_slli_epi64(_mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(s, 32), m), nudge), 1);
    h = _mm512_mask_blend_epi32(0xAAAA, ev, od);
    q = _mm512_sra_epi32(h, _mm_cvtsi32_si128(r->right));
    up = _mm512_cmpgt_epi32_mask(_mm512_and_si512(h, _mm512_set1_epi32(r->mask)),
                                 _mm512_add_epi32(_mm512_set1_epi32(r->half), _mm512_srli_epi32(h, 31)));
    q = _mm512_mask_add_epi32(q, up, q, _mm512_set1_epi32(1));
    q = _mm512_add_epi32(q, _mm512_set1_epi32(y_zero));
    return _mm512_min_epi32(_mm512_max_epi32(q, _mm512_set1_epi32(lo)), _mm512_set1_epi32(hi));
}

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
#if defined(TB_RQ_AVX512)
    {
        const __m512i b = _mm512_set1_epi32(bias);
        for (; j + 16 <= count; j += 16)
            _mm_storeu_si128((__m128i *)(void *)(y + j),
                             _mm512_cvtepi32_epi8(rq16(_mm512_add_epi32(_mm512_loadu_si512(acc + j), b), &r,
                                                       y_zero, lo, hi)));
        if (j < count) {
            const __mmask16 k = (__mmask16)((1u << (count - j)) - 1u);
            _mm512_mask_cvtepi32_storeu_epi8(
                y + j, k, rq16(_mm512_add_epi32(_mm512_maskz_loadu_epi32(k, acc + j), b), &r, y_zero, lo, hi));
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
