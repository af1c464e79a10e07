/* qgemm.c - tb_qgemm_core_s8: the blocked, register-tiled int8 GEMM under
 * tb_qconv's folded int8 path, and tb_qconv_gemm, that path for every
 * folded conv that is not depthwise (1x1 and KxK, grouped or not).
 * Integer only: this file is compiled without floating point in a test.
 *
 * y[i, j] = clamp(y_zero + requantize(bias[i] + sum_k a[i * lda + k] * B(k, j)))
 * with a signed (int8) and B unsigned (uint8) bytes. The output is cut into
 * tiles of TB_QGEMM_MR rows (output channels) by TB_QGEMM_NR columns
 * (pixels); a micro-kernel keeps one tile's int32 sums in registers while it
 * walks k four bytes at a time: per step one 32-bit broadcast of 4 weight
 * bytes per row and one load of NR pixels x 4 bytes, the operands of
 * vpdpbusd. B is therefore packed per k block as a panel of [k / 4][NR][4]
 * bytes (k past the end as 0) by the caller's pack function; A is read in
 * place, and only a row's last k % 4 bytes go through a zero-filled word.
 * The requantization (gemmlowp's rounding doubling high multiply and
 * rounding right shift, bit-exact with tb_requantize) is applied as each
 * finished tile is stored: multiplier and shift are per row, folded with
 * the bias and the zero point into per-row constants (rq_row) worked out
 * once per TB_QGEMM_RC rows; the rows are taken TB_QGEMM_RC at a time, each
 * chunk over all the pixels.
 *
 * Stack: the panel (TB_QGEMM_KC * TB_QGEMM_NR bytes: 16 KB on hosts,
 * 1 KB on Cortex-M), one int32 tile (1 KB with AVX-512) and, when k is
 * longer than one panel, the running sums of TB_QGEMM_MC rows (16 KB with
 * AVX-512, 8 KB otherwise, 1 KB on Cortex-M) so that a panel serves those
 * rows before the next k block is packed; the rows' constants (28 bytes a
 * row: 7 KB on hosts, 450 bytes on Cortex-M); with AVX-512 the conv packing
 * adds 2.5 KB of precomputed loads. -DTB_QGEMM_KC=N (a multiple of 4),
 * -DTB_QGEMM_MC=N and -DTB_QGEMM_RC=N (multiples of TB_QGEMM_MR) set the
 * big ones.
 *
 * Micro-kernels: with __AVX512VNNI__, __AVX512BW__ and __AVX512VL__ (unless
 * TB_NO_SIMD), 8 x 32 tiles with vpdpbusd; otherwise plain C that compilers
 * vectorise.
 * Every multiplier is taken to be in [2^30, 2^31), as lowering makes them.
 */
#include "tb_runtime.h"

#include <string.h>

#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
#define TB_QGEMM_SMALL 1
#endif

#if !defined(TB_NO_SIMD) && defined(__AVX512VNNI__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#include <immintrin.h>
#define TB_QGEMM_VNNI 1
#if defined(__AVX512VBMI__)
#define TB_QGEMM_VBMI 1
#endif
#endif

#if defined(TB_QGEMM_SMALL)
#define TB_QGEMM_MR 4
#define TB_QGEMM_NR 4
#else
#define TB_QGEMM_MR 8
#if defined(TB_QGEMM_VNNI)
#define TB_QGEMM_NR 32
#else
#define TB_QGEMM_NR 16
#endif
#endif
#ifndef TB_QGEMM_KC
#if defined(TB_QGEMM_SMALL)
#define TB_QGEMM_KC 256
#else
#define TB_QGEMM_KC (16384 / TB_QGEMM_NR)
#endif
#endif
#ifndef TB_QGEMM_MC
#if defined(TB_QGEMM_SMALL)
#define TB_QGEMM_MC 64
#else
#define TB_QGEMM_MC 128
#endif
#endif

/* Rows whose requantization constants and weight tails are worked out
 * together (28 bytes each, on the stack); a multiple of TB_QGEMM_MR. */
#ifndef TB_QGEMM_RC
#if defined(TB_QGEMM_SMALL)
#define TB_QGEMM_RC 16
#else
#define TB_QGEMM_RC (2 * TB_QGEMM_MC)
#endif
#endif

/* AVX-512 packing: masked loads worked out once per panel, up to this many
 * (16 bytes each) for k_h * k_w taps times the panel's output row segments. */
#define TB_QGEMM_TAP_LOADS 160

#if TB_QGEMM_KC % 4 != 0 || TB_QGEMM_KC < 4 || TB_QGEMM_MC % TB_QGEMM_MR != 0 || TB_QGEMM_RC % TB_QGEMM_MR != 0
#error "TB_QGEMM_KC must be a positive multiple of 4, TB_QGEMM_MC and TB_QGEMM_RC multiples of TB_QGEMM_MR"
#endif

/* A row's requantization folded into one 64-bit step and a 32-bit
 * rounding, for the rows where nothing can overflow (rq_row_of). With
 * x = bias + acc and shift = -e <= 0, tb_requantize is
 * RoundingDivideByPOT(h, e) with h = floor((x m + 2^30) / 2^31), and for
 * e >= 1 that is floor((h + 2^(e-1) - [h < 0]) / 2^e). So with
 *   q = (acc m + add) >> 31, add = bias m + 2^30 + 2^(30+e) + zero 2^(31+e)
 * (no 2^(30+e) for e = 0), q = h + 2^(e-1) + zero 2^e fits int32, h < 0
 * exactly when q < q_neg = 2^(e-1) + zero 2^e (never for e = 0), and
 *   zero + tb_requantize(x) = (q - [q < q_neg]) >> e.
 * zero is y_zero, less 128 for uint8 outputs (act_max > 127), whose bytes
 * then go through int8 saturation and back. */
typedef struct {
    int64_t add;
    int32_t m, q_neg, e;
    int32_t folded; /* 0: the row takes the general path */
} rq_row;

/* Sums of (x + 128) bytes times int8 weights lie in [-32640 k, 32385 k]. */
#define TB_QGEMM_SUM_BOUND 32640

static rq_row rq_row_of(const tb_qgemm_core *g, int32_t i)
{
    const int32_t *rq = g->rq + (g->per_channel ? 2 * i : 0);
    const int32_t m = rq[0], e = -rq[1], b = g->bias ? g->bias[i] : 0;
    /* |acc| <= 2^29 (so 2 acc fits int32, see requantize_folded16) and
     * |bias + acc| <= 2^30: no int32 wrap in the general path's sum, |h| <=
     * 2^30, and with e <= 20 every 64-bit value stays below 2^62 */
    const int64_t sums = (int64_t)g->k * TB_QGEMM_SUM_BOUND, room = (INT64_C(1) << 30) - sums;
    rq_row r;
    r.add = 0, r.m = m, r.q_neg = r.e = r.folded = 0;
    if (m > 0 && e >= 0 && e <= 20 && sums <= (INT64_C(1) << 29) &&
        (b < 0 ? -(int64_t)b : (int64_t)b) <= room) {
        const int32_t zero = g->y_zero - (g->act_max > 127 ? 128 : 0);
        r.add = (int64_t)b * m + (INT64_C(1) << 30) + (e > 0 ? INT64_C(1) << (30 + e) : 0) +
                (int64_t)zero * (INT64_C(1) << (31 + e));
        r.q_neg = e > 0 ? (1 << (e - 1)) + zero * (1 << e) : INT32_MIN;
        r.e = e, r.folded = 1;
    }
    return r;
}

#if defined(TB_QGEMM_VNNI)
/* One row's requantization constants for the general path, broadcast. */
typedef struct {
    __m512i m, bias, hi_in, lo_in, mask, half, yz, lo, hi;
    __m128i left, right;
} rq_vec;

/* 16 sums of a row to clamped outputs (int32 lanes): the saturating left
 * shift, the 64-bit products of the even and the odd lanes, each (ab +
 * 2^30) >> 31 (tb_srdhm: multipliers are positive), merged back; the
 * rounding right shift (tb_rounding_shift), the zero point and the clamp. */
static __m512i requantize16(const rq_vec *c, __m512i v)
{
    const __m512i nudge = _mm512_set1_epi64(INT64_C(1) << 30);
    __m512i ev, od, thr;
    __mmask16 over, under, up;
    v = _mm512_add_epi32(v, c->bias);
    over = _mm512_cmpgt_epi32_mask(v, c->hi_in), under = _mm512_cmplt_epi32_mask(v, c->lo_in);
    v = _mm512_sll_epi32(v, c->left);
    v = _mm512_mask_mov_epi32(v, over, _mm512_set1_epi32(INT32_MAX));
    v = _mm512_mask_mov_epi32(v, under, _mm512_set1_epi32(INT32_MIN));
    ev = _mm512_add_epi64(_mm512_mul_epi32(v, c->m), nudge);
    od = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(v, 32), c->m), nudge);
    v = _mm512_mask_blend_epi32((__mmask16)0xaaaa, _mm512_srli_epi64(ev, 31), _mm512_slli_epi64(od, 1));
    thr = _mm512_sub_epi32(c->half, _mm512_srai_epi32(v, 31));
    up = _mm512_cmpgt_epi32_mask(_mm512_and_si512(v, c->mask), thr);
    v = _mm512_sra_epi32(v, c->right);
    v = _mm512_mask_add_epi32(v, up, v, _mm512_set1_epi32(1));
    return _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(v, c->yz), c->lo), c->hi);
}

/* 16 sums of a row through its folded step (rq_row), as int8 with
 * saturation. The 64-bit products of the even and the odd lanes are taken
 * of 2 acc and added 2 add, so that q is their high halves, put back in
 * order by one permute; then the 32-bit rounding. */
static inline __m128i requantize_folded16(const rq_row *c, __m512i v)
{
    const __m512i m = _mm512_set1_epi32(c->m), add2 = _mm512_set1_epi64(2 * c->add);
    const __m512i pick_hi = _mm512_setr_epi32(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
    const __m512i v2 = _mm512_add_epi32(v, v);
    const __m512i ev = _mm512_add_epi64(_mm512_mul_epi32(v2, m), add2);
    const __m512i od = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(v2, 32), m), add2);
    __m512i q = _mm512_permutex2var_epi32(ev, pick_hi, od);
    q = _mm512_mask_sub_epi32(q, _mm512_cmplt_epi32_mask(q, _mm512_set1_epi32(c->q_neg)), q, _mm512_set1_epi32(1));
    return _mm512_cvtsepi32_epi8(_mm512_sra_epi32(q, _mm_cvtsi32_si128(c->e)));
}
#else
/* One sum of row c through its folded step: zero + tb_requantize(bias + acc). */
static inline int32_t requantize_folded(const rq_row *c, int32_t acc)
{
    const int32_t q = (int32_t)(((int64_t)acc * c->m + c->add) >> 31);
    return (q - (q < c->q_neg ? 1 : 0)) >> c->e;
}

/* tb_requantize with the shift split into left = max(shift, 0) (as a
 * factor) and right = max(-shift, 0), branch-free so that loops vectorise. */
static int32_t requantize_split(int32_t acc, int32_t m, int64_t left_mul, int32_t right)
{
    const int64_t v = (int64_t)acc * left_mul;
    const int64_t sat = v > INT32_MAX ? INT32_MAX : (v < INT32_MIN ? INT32_MIN : v);
    /* the nudge and truncating division of tb_srdhm: floor((ab + 2^30) / 2^31) */
    const int64_t ab = sat * m;
    const int64_t nudge = ab >= 0 ? (INT64_C(1) << 30) : 1 - (INT64_C(1) << 30);
    const int32_t h = (int32_t)((ab + nudge) / (INT64_C(1) << 31));
    const int32_t mask = (int32_t)((UINT32_C(1) << right) - 1u);
    const int32_t threshold = (mask >> 1) + (h < 0 ? 1 : 0);
    return (h >> right) + ((h & mask) > threshold ? 1 : 0);
}
#endif

#if defined(TB_QGEMM_VNNI)
/* A row's 32 sums (s0: pixels 0-15, s1: 16-31) through its folded step to
 * nr bytes at yr; lo, hi: the clamp and flip the uint8 offset (store_tile),
 * both skipped where they change nothing (the int8 saturation is the clamp). */
static inline void store_row_folded(const rq_row *c, __m512i s0, __m512i s1, __m256i lo, __m256i hi,
                                    __m256i flip, uint8_t *yr, int32_t nr)
{
    __m256i out = _mm256_inserti128_si256(_mm256_castsi128_si256(requantize_folded16(c, s0)),
                                          requantize_folded16(c, s1), 1);
    if (_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, _mm256_set1_epi8(-128))) != -1 ||
        _mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, _mm256_set1_epi8(127))) != -1)
        out = _mm256_min_epi8(_mm256_max_epi8(out, lo), hi);
    if (!_mm256_testz_si256(flip, flip))
        out = _mm256_xor_si256(out, flip);
    if (nr == TB_QGEMM_NR)
        _mm256_storeu_si256((__m256i *)(void *)yr, out);
    else
        _mm256_mask_storeu_epi8(yr, (__mmask32)((UINT64_C(1) << nr) - 1u), out);
}
#endif

/* Row i's nr sums tr (plus the bias) to bytes at yr, the general way: any
 * shift, any bias (rows that rq_row_of leaves out). */
static void store_row_general(const tb_qgemm_core *g, int32_t i, const int32_t *tr, uint8_t *yr, int32_t nr)
{
    const int32_t *rq = g->rq + (g->per_channel ? 2 * i : 0);
    const int32_t m = rq[0], left = rq[1] > 0 ? rq[1] : 0, right = rq[1] < 0 ? -rq[1] : 0;
    const int32_t b = g->bias ? g->bias[i] : 0, yz = g->y_zero, lo = g->act_min, hi = g->act_max;
#if defined(TB_QGEMM_VNNI)
    rq_vec c;
    __m256i out;
    c.m = _mm512_set1_epi32(m), c.bias = _mm512_set1_epi32(b);
    c.hi_in = _mm512_set1_epi32(INT32_MAX >> left), c.lo_in = _mm512_set1_epi32(INT32_MIN >> left);
    c.mask = _mm512_set1_epi32((int32_t)((UINT32_C(1) << right) - 1u));
    c.half = _mm512_set1_epi32((int32_t)((UINT32_C(1) << right) - 1u) >> 1);
    c.yz = _mm512_set1_epi32(yz), c.lo = _mm512_set1_epi32(lo), c.hi = _mm512_set1_epi32(hi);
    c.left = _mm_cvtsi32_si128(left), c.right = _mm_cvtsi32_si128(right);
    out = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm512_cvtepi32_epi8(requantize16(&c, _mm512_loadu_si512(tr)))),
        _mm512_cvtepi32_epi8(requantize16(&c, _mm512_loadu_si512(tr + 16))), 1);
    _mm256_mask_storeu_epi8(yr, (__mmask32)((UINT64_C(1) << nr) - 1u), out);
#else
    const int64_t left_mul = (int64_t)1 << left;
    int32_t t;
    for (t = 0; t < nr; t++) {
        const int32_t v = yz + requantize_split(b + tr[t], m, left_mul, right);
        yr[t] = (uint8_t)(v < lo ? lo : (v > hi ? hi : v));
    }
#endif
}

/* Rows r < mr, columns t < nr of a finished tile (plus the bias) to y as
 * int8 / uint8 bytes; rr: the rows' folded constants. */
static void store_tile(const tb_qgemm_core *g, const rq_row *rr, const int32_t *tile, int32_t i0, int32_t mr,
                       int32_t j0, int32_t nr)
{
    /* uint8 outputs (act_max > 127) go through int8 saturation 128 lower */
    const int32_t lo = g->act_min, hi = g->act_max, low = hi > 127 ? 128 : 0;
    int32_t r;
    for (r = 0; r < mr; r++) {
        const int32_t *tr = tile + r * TB_QGEMM_NR;
        uint8_t *yr = (uint8_t *)g->y + (int64_t)(i0 + r) * g->ldy + j0;
        if (!rr[r].folded) {
            store_row_general(g, i0 + r, tr, yr, nr);
        } else {
#if defined(TB_QGEMM_VNNI)
            /* the row's 32 outputs as bytes in one register, one store */
            store_row_folded(rr + r, _mm512_loadu_si512(tr), _mm512_loadu_si512(tr + 16),
                             _mm256_set1_epi8((char)(lo - low)), _mm256_set1_epi8((char)(hi - low)),
                             _mm256_set1_epi8((char)low), yr, nr);
#else
            const rq_row c = rr[r];
            int32_t t;
            for (t = 0; t < nr; t++) {
                const int32_t v = requantize_folded(&c, tr[t]) + low;
                yr[t] = (uint8_t)(v < lo ? lo : (v > hi ? hi : v));
            }
#endif
        }
    }
}

/* Where a finished tile goes: rows i0 .. i0 + mr - 1 and columns j0 .. j0 +
 * nr - 1 of y, rr the folded constants of row i0 on. */
typedef struct {
    const tb_qgemm_core *g;
    const rq_row *rr;
    int32_t i0, mr, j0, nr;
} tile_dst;

/* tile[r * NR + t] (r < MR, t < NR) += row r of a . panel column t over nq
 * groups of 4 bytes read at a[r] + 4 q, then one more group from tail[r]
 * when tail is not NULL; the sums start from 0 unless accumulate. With dst
 * (the tile's last k block) the tile is stored to y instead: with AVX-512
 * straight from the registers when all its rows take the folded step. */
#if defined(TB_QGEMM_VNNI)

/* 4 weight bytes as one 32-bit word, in memory order (any alignment). */
static int32_t load4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void micro_kernel(int32_t nq, const int8_t *const *a, const int32_t *tail, const uint8_t *b,
                         int32_t *tile, int accumulate, const tile_dst *dst)
{
    __m512i c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
    const int8_t *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5], *a6 = a[6],
                 *a7 = a[7];
    int32_t q;
    if (accumulate) {
        c00 = _mm512_loadu_si512(tile + 0), c01 = _mm512_loadu_si512(tile + 16);
        c10 = _mm512_loadu_si512(tile + 32), c11 = _mm512_loadu_si512(tile + 48);
        c20 = _mm512_loadu_si512(tile + 64), c21 = _mm512_loadu_si512(tile + 80);
        c30 = _mm512_loadu_si512(tile + 96), c31 = _mm512_loadu_si512(tile + 112);
        c40 = _mm512_loadu_si512(tile + 128), c41 = _mm512_loadu_si512(tile + 144);
        c50 = _mm512_loadu_si512(tile + 160), c51 = _mm512_loadu_si512(tile + 176);
        c60 = _mm512_loadu_si512(tile + 192), c61 = _mm512_loadu_si512(tile + 208);
        c70 = _mm512_loadu_si512(tile + 224), c71 = _mm512_loadu_si512(tile + 240);
    } else {
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = _mm512_setzero_si512();
        c40 = c41 = c50 = c51 = c60 = c61 = c70 = c71 = _mm512_setzero_si512();
    }
#define TB_QGEMM_STEP(W0, W1, W2, W3, W4, W5, W6, W7)                                              \
    do {                                                                                            \
        const __m512i b0 = _mm512_loadu_si512(b), b1 = _mm512_loadu_si512(b + 64);                  \
        __m512i w;                                                                                  \
        w = _mm512_set1_epi32(W0); c00 = _mm512_dpbusd_epi32(c00, b0, w); c01 = _mm512_dpbusd_epi32(c01, b1, w); \
        w = _mm512_set1_epi32(W1); c10 = _mm512_dpbusd_epi32(c10, b0, w); c11 = _mm512_dpbusd_epi32(c11, b1, w); \
        w = _mm512_set1_epi32(W2); c20 = _mm512_dpbusd_epi32(c20, b0, w); c21 = _mm512_dpbusd_epi32(c21, b1, w); \
        w = _mm512_set1_epi32(W3); c30 = _mm512_dpbusd_epi32(c30, b0, w); c31 = _mm512_dpbusd_epi32(c31, b1, w); \
        w = _mm512_set1_epi32(W4); c40 = _mm512_dpbusd_epi32(c40, b0, w); c41 = _mm512_dpbusd_epi32(c41, b1, w); \
        w = _mm512_set1_epi32(W5); c50 = _mm512_dpbusd_epi32(c50, b0, w); c51 = _mm512_dpbusd_epi32(c51, b1, w); \
        w = _mm512_set1_epi32(W6); c60 = _mm512_dpbusd_epi32(c60, b0, w); c61 = _mm512_dpbusd_epi32(c61, b1, w); \
        w = _mm512_set1_epi32(W7); c70 = _mm512_dpbusd_epi32(c70, b0, w); c71 = _mm512_dpbusd_epi32(c71, b1, w); \
        b += 4 * TB_QGEMM_NR;                                                                       \
    } while (0)
    for (q = 0; q < nq; q++) {
        const int32_t o = 4 * q;
        TB_QGEMM_STEP(load4(a0 + o), load4(a1 + o), load4(a2 + o), load4(a3 + o), load4(a4 + o), load4(a5 + o),
                      load4(a6 + o), load4(a7 + o));
    }
    if (tail)
        TB_QGEMM_STEP(tail[0], tail[1], tail[2], tail[3], tail[4], tail[5], tail[6], tail[7]);
#undef TB_QGEMM_STEP
    if (dst) {
        const int32_t mr = dst->mr, hi = dst->g->act_max, low = hi > 127 ? 128 : 0;
        const __m256i vlo = _mm256_set1_epi8((char)(dst->g->act_min - low)), vhi = _mm256_set1_epi8((char)(hi - low));
        const __m256i flip = _mm256_set1_epi8((char)low);
        const rq_row *rr = dst->rr;
        uint8_t *y = (uint8_t *)dst->g->y + (int64_t)dst->i0 * dst->g->ldy + dst->j0;
        const int64_t ldy = dst->g->ldy;
        int32_t r, fast = 1;
        for (r = 0; r < mr; r++)
            fast &= rr[r].folded;
        if (fast) {
            store_row_folded(rr, c00, c01, vlo, vhi, flip, y, dst->nr);
#define TB_QGEMM_ROW(R, S0, S1)                                                                     \
    if (R < mr)                                                                                     \
    store_row_folded(rr + R, S0, S1, vlo, vhi, flip, y + R * ldy, dst->nr)
            TB_QGEMM_ROW(1, c10, c11);
            TB_QGEMM_ROW(2, c20, c21);
            TB_QGEMM_ROW(3, c30, c31);
            TB_QGEMM_ROW(4, c40, c41);
            TB_QGEMM_ROW(5, c50, c51);
            TB_QGEMM_ROW(6, c60, c61);
            TB_QGEMM_ROW(7, c70, c71);
#undef TB_QGEMM_ROW
            return;
        }
    }
    _mm512_storeu_si512(tile + 0, c00), _mm512_storeu_si512(tile + 16, c01);
    _mm512_storeu_si512(tile + 32, c10), _mm512_storeu_si512(tile + 48, c11);
    _mm512_storeu_si512(tile + 64, c20), _mm512_storeu_si512(tile + 80, c21);
    _mm512_storeu_si512(tile + 96, c30), _mm512_storeu_si512(tile + 112, c31);
    _mm512_storeu_si512(tile + 128, c40), _mm512_storeu_si512(tile + 144, c41);
    _mm512_storeu_si512(tile + 160, c50), _mm512_storeu_si512(tile + 176, c51);
    _mm512_storeu_si512(tile + 192, c60), _mm512_storeu_si512(tile + 208, c61);
    _mm512_storeu_si512(tile + 224, c70), _mm512_storeu_si512(tile + 240, c71);
    if (dst)
        store_tile(dst->g, dst->rr, tile, dst->i0, dst->mr, dst->j0, dst->nr);
}

#else

/* One group of 4 k: row r's weight bytes w[0..3] times panel column t. */
#define TB_QGEMM_DOT4(c, w)                                                                         \
    for (t = 0; t < TB_QGEMM_NR; t++)                                                               \
    c[t] += (w)[0] * bq[4 * t] + (w)[1] * bq[4 * t + 1] + (w)[2] * bq[4 * t + 2] + (w)[3] * bq[4 * t + 3]

/* Named accumulator rows (not a 2-D array) and one NR-wide loop per row:
 * the form in which gcc and clang keep the tile in vector registers. */
static void micro_kernel(int32_t nq, const int8_t *const *a, const int32_t *tail, const uint8_t *b,
                         int32_t *tile, int accumulate, const tile_dst *dst)
{
    int32_t c0[TB_QGEMM_NR], c1[TB_QGEMM_NR], c2[TB_QGEMM_NR], c3[TB_QGEMM_NR];
#if TB_QGEMM_MR == 8
    int32_t c4[TB_QGEMM_NR], c5[TB_QGEMM_NR], c6[TB_QGEMM_NR], c7[TB_QGEMM_NR];
#endif
    int8_t tw[TB_QGEMM_MR][4];
    int32_t q, t, r;
    for (t = 0; t < TB_QGEMM_NR; t++) {
        c0[t] = accumulate ? tile[t] : 0;
        c1[t] = accumulate ? tile[TB_QGEMM_NR + t] : 0;
        c2[t] = accumulate ? tile[2 * TB_QGEMM_NR + t] : 0;
        c3[t] = accumulate ? tile[3 * TB_QGEMM_NR + t] : 0;
#if TB_QGEMM_MR == 8
        c4[t] = accumulate ? tile[4 * TB_QGEMM_NR + t] : 0;
        c5[t] = accumulate ? tile[5 * TB_QGEMM_NR + t] : 0;
        c6[t] = accumulate ? tile[6 * TB_QGEMM_NR + t] : 0;
        c7[t] = accumulate ? tile[7 * TB_QGEMM_NR + t] : 0;
#endif
    }
    if (tail)
        for (r = 0; r < TB_QGEMM_MR; r++)
            memcpy(tw[r], tail + r, 4);
    for (q = 0; q < nq + (tail ? 1 : 0); q++) {
        const uint8_t *restrict bq = b + (int64_t)q * 4 * TB_QGEMM_NR;
        const int32_t o = 4 * q;
        const int8_t *w0 = q < nq ? a[0] + o : tw[0], *w1 = q < nq ? a[1] + o : tw[1];
        const int8_t *w2 = q < nq ? a[2] + o : tw[2], *w3 = q < nq ? a[3] + o : tw[3];
        TB_QGEMM_DOT4(c0, w0);
        TB_QGEMM_DOT4(c1, w1);
        TB_QGEMM_DOT4(c2, w2);
        TB_QGEMM_DOT4(c3, w3);
#if TB_QGEMM_MR == 8
        {
            const int8_t *w4 = q < nq ? a[4] + o : tw[4], *w5 = q < nq ? a[5] + o : tw[5];
            const int8_t *w6 = q < nq ? a[6] + o : tw[6], *w7 = q < nq ? a[7] + o : tw[7];
            TB_QGEMM_DOT4(c4, w4);
            TB_QGEMM_DOT4(c5, w5);
            TB_QGEMM_DOT4(c6, w6);
            TB_QGEMM_DOT4(c7, w7);
        }
#endif
    }
    for (t = 0; t < TB_QGEMM_NR; t++) {
        tile[t] = c0[t];
        tile[TB_QGEMM_NR + t] = c1[t];
        tile[2 * TB_QGEMM_NR + t] = c2[t];
        tile[3 * TB_QGEMM_NR + t] = c3[t];
#if TB_QGEMM_MR == 8
        tile[4 * TB_QGEMM_NR + t] = c4[t];
        tile[5 * TB_QGEMM_NR + t] = c5[t];
        tile[6 * TB_QGEMM_NR + t] = c6[t];
        tile[7 * TB_QGEMM_NR + t] = c7[t];
#endif
    }
    if (dst)
        store_tile(dst->g, dst->rr, tile, dst->i0, dst->mr, dst->j0, dst->nr);
}
#undef TB_QGEMM_DOT4

#endif

void tb_qgemm_core_s8(const tb_qgemm_core *g)
{
    uint8_t panel[TB_QGEMM_KC * TB_QGEMM_NR];
    int32_t tile[TB_QGEMM_MR * TB_QGEMM_NR];
    int32_t sums[TB_QGEMM_MC * TB_QGEMM_NR];
    rq_row rrows[TB_QGEMM_RC];
    /* a row's last k % 4 weight bytes (only the last k block has them) as
     * one zero-filled word, made once per row: bytes stored and read back as
     * a word stall store forwarding; the rows past the chunk read 0 */
    int32_t tails[TB_QGEMM_RC + TB_QGEMM_MR];
    const int8_t *rows[TB_QGEMM_MR];
    /* one k block: every row block of a row chunk uses the panel at once;
     * more: the rows go MC at a time, their running sums kept in sums */
    const int blocked = g->k > TB_QGEMM_KC;
    int32_t i0c, j0, ic, k0, i0, r;
    for (i0c = 0; i0c < g->m; i0c += TB_QGEMM_RC) {
        const int32_t rc = g->m - i0c < TB_QGEMM_RC ? g->m - i0c : TB_QGEMM_RC;
        const int32_t mc = blocked ? TB_QGEMM_MC : rc;
        for (r = 0; r < rc; r++)
            rrows[r] = rq_row_of(g, i0c + r);
        for (r = 0; r < rc + TB_QGEMM_MR; r++) {
            int8_t w4[4] = {0, 0, 0, 0};
            if (r < rc)
                memcpy(w4, g->a + (int64_t)(i0c + r) * g->lda + (g->k - g->k % 4), (size_t)(g->k % 4));
            memcpy(tails + r, w4, 4);
        }
        for (j0 = 0; j0 < g->n; j0 += TB_QGEMM_NR) {
            const int32_t nr = g->n - j0 < TB_QGEMM_NR ? g->n - j0 : TB_QGEMM_NR;
            for (ic = i0c; ic < i0c + rc; ic += mc) {
                const int32_t mcn = i0c + rc - ic < mc ? i0c + rc - ic : mc;
                for (k0 = 0; k0 < g->k || k0 == 0; k0 += TB_QGEMM_KC) {
                    const int32_t kc = g->k - k0 < TB_QGEMM_KC ? g->k - k0 : TB_QGEMM_KC;
                    const int last = k0 + kc >= g->k;
                    if (kc > 0)
                        g->pack(g->ctx, k0, kc, j0, nr, panel);
                    for (i0 = ic; i0 < ic + mcn; i0 += TB_QGEMM_MR) {
                        const int32_t mr = ic + mcn - i0 < TB_QGEMM_MR ? ic + mcn - i0 : TB_QGEMM_MR;
                        int32_t *tl = blocked ? sums + (int64_t)(i0 - ic) * TB_QGEMM_NR : tile;
                        tile_dst dst;
                        /* rows past m repeat the last one (computed, never stored) */
                        for (r = 0; r < TB_QGEMM_MR; r++)
                            rows[r] = g->a + (int64_t)(i0 + (r < mr ? r : mr - 1)) * g->lda + k0;
                        dst.g = g, dst.rr = rrows + (i0 - i0c), dst.i0 = i0, dst.mr = mr, dst.j0 = j0, dst.nr = nr;
                        micro_kernel(kc / 4, rows, kc % 4 ? tails + (i0 - i0c) : 0, panel, tl, k0 > 0,
                                     last ? &dst : 0);
                    }
                }
            }
        }
    }
}

/* ---- tb_qconv's folded path on the GEMM ----
 * Per image and group: A = the group's weights [cog][kk] (kk = c_in / group
 * * k_h * k_w in [ic][kh][kw] order), B(k, pixel) = the window byte x + 128
 * (padding x_zero + 128), y = the group's output planes. A panel's group of
 * four k is built from four rows of NR window bytes: a row points into x
 * where its NR bytes lie there in order (1x1 stride-1 convs, and KxK rows
 * inside the image), else it is gathered into a stack row, one output row's
 * segment of the panel's pixels at a time. */

typedef struct {
    const tb_qconv_params *p;
    const int8_t *xg; /* the group's first input channel of the image */
    int32_t pointwise;
} conv_pack_ctx;

/* Pixels t .. t + cnt - 1 of a panel: output row oh, columns ow .. */
typedef struct {
    int32_t t, cnt, oh, ow;
} segment;

/* The span of segment s's pixels i whose tap (kh, kw) lies inside the
 * input: [*lo, *hi) (empty when *lo >= *hi); *base: the input column of
 * pixel 0 of the segment, in row *ih. */
static void tap_span(const tb_qconv_params *p, int32_t kh, int32_t kw, const segment *s, int32_t *ih,
                     int32_t *base, int32_t *lo, int32_t *hi)
{
    const int32_t sw = p->stride_w, b = s->ow * sw + kw * p->dil_w - p->pad_left, last = p->w_in - 1 - b;
    *ih = s->oh * p->stride_h + kh * p->dil_h - p->pad_top;
    *base = b;
    if (*ih < 0 || *ih >= p->h_in || last < 0) {
        *lo = *hi = 0;
    } else if (sw == 1) { /* no division in the common cases */
        *lo = b < 0 ? -b : 0;
        *hi = last + 1 < s->cnt ? last + 1 : s->cnt;
    } else if (sw == 2) {
        *lo = b < 0 ? (1 - b) >> 1 : 0;
        *hi = (last >> 1) + 1 < s->cnt ? (last >> 1) + 1 : s->cnt;
    } else {
        *lo = b < 0 ? (-b + sw - 1) / sw : 0;
        *hi = last / sw + 1 < s->cnt ? last / sw + 1 : s->cnt;
    }
}

/* row[s->t + i] = the input byte under tap (kh, kw) of segment s's pixel
 * i, or x_zero in the padding (i < cnt). xc: the input channel. */
static void gather_segment(const tb_qconv_params *p, const int8_t *xc, int32_t kh, int32_t kw, const segment *s,
                           int8_t *row)
{
    const int8_t pad = (int8_t)p->x_zero;
    int8_t *dst = row + s->t;
    int32_t ih, base, lo, hi, i;
    const int8_t *src;
    tap_span(p, kh, kw, s, &ih, &base, &lo, &hi);
    if (lo >= hi)
        lo = hi = s->cnt;
    src = xc + (int64_t)ih * p->w_in + base;
    for (i = 0; i < lo; i++)
        dst[i] = pad;
    if (p->stride_w == 1)
        for (i = lo; i < hi; i++)
            dst[i] = src[i];
    else
        for (i = lo; i < hi; i++)
            dst[i] = src[(int64_t)i * p->stride_w];
    for (i = hi; i < s->cnt; i++)
        dst[i] = pad;
}

#if defined(TB_QGEMM_VNNI)

/* One masked load of a tap's window row: lanes keep (bits of bytes) read
 * the input channel at byte offset off + lane; the others keep the padding.
 * A panel's loads are worked out once per tap and segment (tap_loads). */
typedef struct {
    int64_t off;
    uint64_t keep;
} tap_load;

/* Per tap (kh, kw) and segment s: loads[tap * ns + s]. Stride 1: the
 * segment's bytes land in their pixels' 8-bit lanes; stride 2: in the low
 * bytes of 16-bit lanes (the even bytes of 64). */
static void tap_loads(const tb_qconv_params *p, const segment *seg, int32_t ns, tap_load *loads)
{
    const int32_t sw = p->stride_w;
    int32_t kh, kw, s, ih, base, lo, hi;
    tap_load *e = loads;
    for (kh = 0; kh < p->k_h; kh++)
        for (kw = 0; kw < p->k_w; kw++)
            for (s = 0; s < ns; s++, e++) {
                const int32_t t = seg[s].t;
                tap_span(p, kh, kw, seg + s, &ih, &base, &lo, &hi);
                e->off = (int64_t)ih * p->w_in + base - (int64_t)t * sw;
                e->keep = 0;
                if (lo < hi) {
                    const int32_t a = sw * (t + lo), b = sw * (t + hi); /* bytes [a, b) */
                    e->keep = (b == 64 ? ~UINT64_C(0) : (UINT64_C(1) << b) - 1u) & ~((UINT64_C(1) << a) - 1u);
                    if (sw == 2)
                        e->keep &= UINT64_C(0x5555555555555555);
                }
            }
}

/* The 32 window bytes (int8 x, padding x_zero) of one tap of input channel
 * ic for the panel's pixels j0 .. j0 + nr - 1, the rest x_zero, in a
 * register. Strides 1 and 2 take the tap's precomputed loads e[0 .. ns)
 * (lanes outside a load's mask are neither read nor faulted in); without
 * them (e NULL) the segments seg[0 .. ns) are gathered into a row. */
static __m256i window_vec(const conv_pack_ctx *c, const segment *seg, const tap_load *e, int32_t ns, int32_t ic,
                          int32_t kh, int32_t kw, int32_t j0, int32_t nr)
{
    const tb_qconv_params *p = c->p;
    const int8_t *xc = c->xg + (int64_t)ic * p->h_in * p->w_in;
    const uintptr_t xa = (uintptr_t)xc;
    const __m256i pad = _mm256_set1_epi8((char)p->x_zero);
    int32_t s;
    if (c->pointwise)
        return nr == TB_QGEMM_NR ? _mm256_loadu_si256((const __m256i *)(const void *)(xc + j0))
                                 : _mm256_mask_loadu_epi8(pad, (__mmask32)((UINT64_C(1) << nr) - 1u), xc + j0);
    if (e && p->stride_w == 1) {
        __m256i v = pad;
        for (s = 0; s < ns; s++)
            v = _mm256_mask_loadu_epi8(v, (__mmask32)e[s].keep, (const void *)(xa + (uintptr_t)e[s].off));
        return v;
    }
    if (e && p->stride_w == 2) {
        __m512i v = _mm512_set1_epi16((int16_t)(uint8_t)p->x_zero);
        for (s = 0; s < ns; s++)
            v = _mm512_mask_loadu_epi8(v, e[s].keep, (const void *)(xa + (uintptr_t)e[s].off));
        return _mm512_cvtepi16_epi8(v);
    }
    {
        int8_t row[TB_QGEMM_NR];
        int32_t t;
        for (s = 0; s < ns; s++)
            gather_segment(p, xc, kh, kw, seg + s, row);
        for (t = nr; t < TB_QGEMM_NR; t++)
            row[t] = (int8_t)p->x_zero;
        return _mm256_loadu_si256((const __m256i *)(const void *)row);
    }
}

/* panel[(q * NR + t) * 4 + b] = row b at pixel t, + 128: bytes, then byte
 * pairs, interleaved within 128-bit lanes; the lanes put back in order last. */
static void interleave4(__m256i r0, __m256i r1, __m256i r2, __m256i r3, uint8_t *dst)
{
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    __m256i lo01, hi01, lo23, hi23, q0, q1, q2, q3;
    r0 = _mm256_xor_si256(r0, flip), r1 = _mm256_xor_si256(r1, flip);
    r2 = _mm256_xor_si256(r2, flip), r3 = _mm256_xor_si256(r3, flip);
    lo01 = _mm256_unpacklo_epi8(r0, r1), hi01 = _mm256_unpackhi_epi8(r0, r1);
    lo23 = _mm256_unpacklo_epi8(r2, r3), hi23 = _mm256_unpackhi_epi8(r2, r3);
    q0 = _mm256_unpacklo_epi16(lo01, lo23), q1 = _mm256_unpackhi_epi16(lo01, lo23);
    q2 = _mm256_unpacklo_epi16(hi01, hi23), q3 = _mm256_unpackhi_epi16(hi01, hi23);
    _mm256_storeu_si256((__m256i *)(void *)dst, _mm256_permute2x128_si256(q0, q1, 0x20));
    _mm256_storeu_si256((__m256i *)(void *)(dst + 32), _mm256_permute2x128_si256(q2, q3, 0x20));
    _mm256_storeu_si256((__m256i *)(void *)(dst + 64), _mm256_permute2x128_si256(q0, q1, 0x31));
    _mm256_storeu_si256((__m256i *)(void *)(dst + 96), _mm256_permute2x128_si256(q2, q3, 0x31));
}

#else

/* The NR window bytes (int8 x, padding x_zero) of tap (ic, kh, kw) for the
 * panel's pixels j0 .. j0 + nr - 1 (segments seg[0 .. ns)), the rest
 * x_zero: a pointer into x or into row. */
static const int8_t *window_row(const conv_pack_ctx *c, const segment *seg, int32_t ns, int32_t ic, int32_t kh,
                                int32_t kw, int32_t j0, int32_t nr, int8_t *row)
{
    const tb_qconv_params *p = c->p;
    const int8_t *xc = c->xg + (int64_t)ic * p->h_in * p->w_in;
    int32_t s, t;
    if (c->pointwise && nr == TB_QGEMM_NR)
        return xc + j0;
    if (c->pointwise) {
        for (t = 0; t < nr; t++)
            row[t] = xc[j0 + t];
    } else {
        if (ns == 1 && nr == TB_QGEMM_NR && p->stride_w == 1) {
            const int32_t ih = seg->oh * p->stride_h + kh * p->dil_h - p->pad_top;
            const int32_t iw = seg->ow + kw * p->dil_w - p->pad_left;
            if (ih >= 0 && ih < p->h_in && iw >= 0 && iw + TB_QGEMM_NR <= p->w_in)
                return xc + (int64_t)ih * p->w_in + iw;
        }
        for (s = 0; s < ns; s++)
            gather_segment(p, xc, kh, kw, seg + s, row);
    }
    for (t = nr; t < TB_QGEMM_NR; t++)
        row[t] = (int8_t)p->x_zero;
    return row;
}

/* panel[(q * NR + t) * 4 + b] = row b at pixel t, + 128. */
static void interleave4(const int8_t *restrict s0, const int8_t *restrict s1, const int8_t *restrict s2,
                        const int8_t *restrict s3, uint8_t *dst)
{
    int32_t t;
    for (t = 0; t < TB_QGEMM_NR; t++) {
        dst[4 * t] = (uint8_t)(s0[t] + 128);
        dst[4 * t + 1] = (uint8_t)(s1[t] + 128);
        dst[4 * t + 2] = (uint8_t)(s2[t] + 128);
        dst[4 * t + 3] = (uint8_t)(s3[t] + 128);
    }
}

#endif

#if defined(TB_QGEMM_VBMI)
/* The panel of a 1x1 stride-1 conv: k rows are input channels, each NR
 * pixels in order at x + j0. Per group of four channels the four rows go
 * into two registers (+128), and one two-source byte permute (vpermt2b) per
 * 16 pixels interleaves them; pixels past nr are read as 0 (any value). */
static void pack_pointwise(const conv_pack_ctx *c, int32_t k0, int32_t kc, int32_t j0, int32_t nr, uint8_t *panel)
{
    const int64_t plane = (int64_t)c->p->h_in * c->p->w_in;
    const int8_t *x = c->xg + (int64_t)k0 * plane + j0;
    const __mmask32 keep = (__mmask32)(nr == TB_QGEMM_NR ? ~UINT64_C(0) : (UINT64_C(1) << nr) - 1u);
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    /* output byte 4 t + b of half h is row b's pixel 16 h + t: rows 0, 1
     * at bytes 0 and 32 of the first register, rows 2, 3 of the second */
    __m512i pick_lo, pick_hi;
    uint8_t idx[2][64];
    int32_t q, t, b;
    for (t = 0; t < 16; t++)
        for (b = 0; b < 4; b++)
            idx[0][4 * t + b] = (uint8_t)(32 * b + t), idx[1][4 * t + b] = (uint8_t)(32 * b + 16 + t);
    pick_lo = _mm512_loadu_si512(idx[0]), pick_hi = _mm512_loadu_si512(idx[1]);
    for (q = 0; 4 * q < kc; q++, x += 4 * plane, panel += 4 * TB_QGEMM_NR) {
        __m256i r[4];
        __m512i r01, r23;
        for (b = 0; b < 4; b++)
            r[b] = 4 * q + b < kc ? _mm256_maskz_loadu_epi8(keep, x + b * plane)
                                  : _mm256_set1_epi8(-128); /* k rows past kc: 0 once flipped */
        r01 = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(r[0]), r[1], 1), flip);
        r23 = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(r[2]), r[3], 1), flip);
        _mm512_storeu_si512(panel, _mm512_permutex2var_epi8(r01, pick_lo, r23));
        _mm512_storeu_si512(panel + 64, _mm512_permutex2var_epi8(r01, pick_hi, r23));
    }
}
#endif

static void pack_windows(const void *ctx, int32_t k0, int32_t kc, int32_t j0, int32_t nr, uint8_t *panel)
{
    const conv_pack_ctx *c = (const conv_pack_ctx *)ctx;
    const tb_qconv_params *p = c->p;
    segment seg[TB_QGEMM_NR];
#if defined(TB_QGEMM_VNNI)
    __m256i rows[4];
    const __m256i none = _mm256_set1_epi8(-128); /* k rows past the window: -128 packs to 0 */
    tap_load loads[TB_QGEMM_TAP_LOADS];
    int tabled;
#else
    int8_t bufs[4][TB_QGEMM_NR], none[TB_QGEMM_NR];
    const int8_t *rows[4];
#endif
    /* the tap of k row k0, stepped along with k */
    int32_t ic = k0 / (p->k_h * p->k_w), kh = k0 / p->k_w % p->k_h, kw = k0 % p->k_w;
    int32_t ns = 0, t = 0, q, b;
#if defined(TB_QGEMM_VBMI)
    if (c->pointwise) {
        pack_pointwise(c, k0, kc, j0, nr, panel);
        return;
    }
#endif
#if !defined(TB_QGEMM_VNNI)
    memset(none, -128, sizeof none);
#endif
    while (!c->pointwise && t < nr) {
        seg[ns].t = t, seg[ns].oh = (j0 + t) / p->w_out, seg[ns].ow = (j0 + t) % p->w_out;
        seg[ns].cnt = p->w_out - seg[ns].ow < nr - t ? p->w_out - seg[ns].ow : nr - t;
        t += seg[ns++].cnt;
    }
#if defined(TB_QGEMM_VNNI)
    tabled = (p->stride_w == 1 || p->stride_w == 2) && p->k_h * p->k_w * ns <= TB_QGEMM_TAP_LOADS;
    if (tabled)
        tap_loads(p, seg, ns, loads);
#endif
    for (q = 0; q < (kc + 3) / 4; q++) {
        for (b = 0; b < 4; b++) {
            if (4 * q + b >= kc) {
                rows[b] = none;
                continue;
            }
#if defined(TB_QGEMM_VNNI)
            rows[b] = window_vec(c, seg, tabled ? loads + (kh * p->k_w + kw) * ns : 0, ns, ic, kh, kw, j0, nr);
#else
            rows[b] = window_row(c, seg, ns, ic, kh, kw, j0, nr, bufs[b]);
#endif
            if (++kw == p->k_w) {
                kw = 0;
                if (++kh == p->k_h)
                    kh = 0, ic++;
            }
        }
        interleave4(rows[0], rows[1], rows[2], rows[3], panel + (int64_t)q * 4 * TB_QGEMM_NR);
    }
}

void tb_qconv_gemm(const tb_qconv_params *p, const int8_t *x, const int8_t *w, const int32_t *bias,
                   const int32_t *rq, void *y)
{
    const int32_t cig = p->c_in / p->group, cog = p->c_out / p->group, kk = cig * p->k_h * p->k_w;
    const int64_t in_plane = (int64_t)p->h_in * p->w_in, out_plane = (int64_t)p->h_out * p->w_out;
    conv_pack_ctx c;
    tb_qgemm_core g;
    int32_t n, gr;
    c.p = p;
    c.pointwise = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_top == 0 &&
                  p->pad_left == 0 && p->h_out == p->h_in && p->w_out == p->w_in;
    g.m = cog, g.n = (int32_t)out_plane, g.k = kk, g.lda = kk, g.ldy = out_plane;
    g.pack = pack_windows, g.ctx = &c;
    g.y_zero = p->y_zero, g.act_min = p->act_min, g.act_max = p->act_max, g.per_channel = p->per_channel;
    for (n = 0; n < p->n; n++)
        for (gr = 0; gr < p->group; gr++) {
            c.xg = x + ((int64_t)n * p->c_in + (int64_t)gr * cig) * in_plane;
            g.a = w + (int64_t)gr * cog * kk;
            g.bias = bias ? bias + gr * cog : 0;
            g.rq = rq + (p->per_channel ? 2 * gr * cog : 0);
            g.y = (uint8_t *)y + ((int64_t)n * p->c_out + (int64_t)gr * cog) * out_plane;
            tb_qgemm_core_s8(&g);
        }
}
