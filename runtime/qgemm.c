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
 * finished tile is stored: multiplier and shift are per row.
 *
 * Stack: the panel (TB_QGEMM_KC * TB_QGEMM_NR bytes: 16 KB on hosts,
 * 1 KB on Cortex-M), one int32 tile (1 KB with AVX-512) and, when k is
 * longer than one panel, the running sums of TB_QGEMM_MC rows (16 KB with
 * AVX-512, 8 KB otherwise, 1 KB on Cortex-M) so that a panel serves those
 * rows before the next k block is packed; with AVX-512 the conv packing
 * adds 2.5 KB of precomputed loads. -DTB_QGEMM_KC=N (a multiple of 4) and
 * -DTB_QGEMM_MC=N (a multiple of TB_QGEMM_MR) set the two big ones.
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

/* AVX-512 packing: masked loads worked out once per panel, up to this many
 * (16 bytes each) for k_h * k_w taps times the panel's output row segments. */
#define TB_QGEMM_TAP_LOADS 160

#if TB_QGEMM_KC % 4 != 0 || TB_QGEMM_KC < 4 || TB_QGEMM_MC % TB_QGEMM_MR != 0
#error "TB_QGEMM_KC must be a positive multiple of 4 and TB_QGEMM_MC a multiple of TB_QGEMM_MR"
#endif

/* tile[r * NR + t] (r < MR, t < NR) += row r of a . panel column t over nq
 * groups of 4 bytes read at a[r] + 4 q, then one more group from tail[r]
 * when tail is not NULL; the sums start from 0 unless accumulate. */
#if defined(TB_QGEMM_VNNI)

/* 4 weight bytes as one 32-bit word, in memory order (any alignment). */
static int32_t load4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void micro_kernel(int32_t nq, const int8_t *const *a, const int32_t *tail, const uint8_t *b,
                         int32_t *tile, int accumulate)
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
    _mm512_storeu_si512(tile + 0, c00), _mm512_storeu_si512(tile + 16, c01);
    _mm512_storeu_si512(tile + 32, c10), _mm512_storeu_si512(tile + 48, c11);
    _mm512_storeu_si512(tile + 64, c20), _mm512_storeu_si512(tile + 80, c21);
    _mm512_storeu_si512(tile + 96, c30), _mm512_storeu_si512(tile + 112, c31);
    _mm512_storeu_si512(tile + 128, c40), _mm512_storeu_si512(tile + 144, c41);
    _mm512_storeu_si512(tile + 160, c50), _mm512_storeu_si512(tile + 176, c51);
    _mm512_storeu_si512(tile + 192, c60), _mm512_storeu_si512(tile + 208, c61);
    _mm512_storeu_si512(tile + 224, c70), _mm512_storeu_si512(tile + 240, c71);
}

#else

/* One group of 4 k: row r's weight bytes w[0..3] times panel column t. */
#define TB_QGEMM_DOT4(c, w)                                                                         \
    for (t = 0; t < TB_QGEMM_NR; t++)                                                               \
    c[t] += (w)[0] * bq[4 * t] + (w)[1] * bq[4 * t + 1] + (w)[2] * bq[4 * t + 2] + (w)[3] * bq[4 * t + 3]

/* Named accumulator rows (not a 2-D array) and one NR-wide loop per row:
 * the form in which gcc and clang keep the tile in vector registers. */
static void micro_kernel(int32_t nq, const int8_t *const *a, const int32_t *tail, const uint8_t *b,
                         int32_t *tile, int accumulate)
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
}
#undef TB_QGEMM_DOT4

#endif

#if defined(TB_QGEMM_VNNI)
/* One row's requantization constants, broadcast. */
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
#else
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

/* Rows r < mr, columns t < nr of a finished tile (plus the bias) to y as
 * int8 / uint8 bytes. */
static void store_tile(const tb_qgemm_core *g, const int32_t *tile, int32_t i0, int32_t mr, int32_t j0,
                       int32_t nr)
{
    int32_t r;
    for (r = 0; r < mr; r++) {
        const int32_t i = i0 + r;
        const int32_t *rq = g->rq + (g->per_channel ? 2 * i : 0);
        const int32_t m = rq[0], right = rq[1] < 0 ? -rq[1] : 0;
        const int32_t b = g->bias ? g->bias[i] : 0, yz = g->y_zero, lo = g->act_min, hi = g->act_max;
        const int32_t *tr = tile + r * TB_QGEMM_NR;
        uint8_t *yr = (uint8_t *)g->y + (int64_t)i * g->ldy + j0;
#if defined(TB_QGEMM_VNNI)
        /* the row's 32 outputs as bytes in one register, one store */
        const int32_t left = rq[1] > 0 ? rq[1] : 0;
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
        if (nr == TB_QGEMM_NR)
            _mm256_storeu_si256((__m256i *)(void *)yr, out);
        else
            _mm256_mask_storeu_epi8(yr, (__mmask32)((UINT64_C(1) << nr) - 1u), out);
#else
        const int64_t left_mul = (int64_t)1 << (rq[1] > 0 ? rq[1] : 0);
        int32_t t;
        for (t = 0; t < nr; t++) {
            const int32_t v = yz + requantize_split(b + tr[t], m, left_mul, right);
            yr[t] = (uint8_t)(v < lo ? lo : (v > hi ? hi : v));
        }
#endif
    }
}

void tb_qgemm_core_s8(const tb_qgemm_core *g)
{
    uint8_t panel[TB_QGEMM_KC * TB_QGEMM_NR];
    int32_t tile[TB_QGEMM_MR * TB_QGEMM_NR];
    int32_t sums[TB_QGEMM_MC * TB_QGEMM_NR];
    int32_t tail[TB_QGEMM_MR];
    const int8_t *rows[TB_QGEMM_MR];
    /* one k block: every row block uses the panel at once; more: the rows
     * go MC at a time, their running sums kept in sums */
    const int blocked = g->k > TB_QGEMM_KC;
    const int32_t mc = blocked ? TB_QGEMM_MC : g->m;
    int32_t j0, ic, k0, i0, r;
    for (j0 = 0; j0 < g->n; j0 += TB_QGEMM_NR) {
        const int32_t nr = g->n - j0 < TB_QGEMM_NR ? g->n - j0 : TB_QGEMM_NR;
        for (ic = 0; ic < g->m; ic += mc) {
            const int32_t mcn = g->m - ic < mc ? g->m - ic : mc;
            for (k0 = 0; k0 < g->k || k0 == 0; k0 += TB_QGEMM_KC) {
                const int32_t kc = g->k - k0 < TB_QGEMM_KC ? g->k - k0 : TB_QGEMM_KC;
                const int last = k0 + kc >= g->k, has_tail = kc % 4 != 0;
                if (kc > 0)
                    g->pack(g->ctx, k0, kc, j0, nr, panel);
                for (i0 = ic; i0 < ic + mcn; i0 += TB_QGEMM_MR) {
                    const int32_t mr = ic + mcn - i0 < TB_QGEMM_MR ? ic + mcn - i0 : TB_QGEMM_MR;
                    int32_t *tl = blocked ? sums + (int64_t)(i0 - ic) * TB_QGEMM_NR : tile;
                    /* rows past m repeat the last one (computed, never stored) */
                    for (r = 0; r < TB_QGEMM_MR; r++)
                        rows[r] = g->a + (int64_t)(i0 + (r < mr ? r : mr - 1)) * g->lda + k0;
                    if (has_tail) {
                        const int32_t full = kc - kc % 4;
                        for (r = 0; r < TB_QGEMM_MR; r++) {
                            int8_t w4[4] = {0, 0, 0, 0};
                            memcpy(w4, rows[r] + full, (size_t)(kc % 4));
                            memcpy(tail + r, w4, 4);
                        }
                    }
                    micro_kernel(kc / 4, rows, has_tail ? tail : 0, panel, tl, k0 > 0);
                    if (last)
                        store_tile(g, tl, i0, mr, j0, nr);
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
