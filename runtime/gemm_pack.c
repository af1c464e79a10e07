/* gemm_pack.c - tb_gemm_core_f32: the blocked, register-tiled GEMM under the
 * float conv, gemm and matmul kernels.
 *
 * y[i, j] = clamp(bias[i] + sum_k a[i * lda + k] * B(k, j)) for i < m, j < n.
 * The output is cut into tiles of TB_GEMM_MR rows by TB_GEMM_NR columns; a
 * micro-kernel keeps one tile's accumulators in registers while it walks k,
 * reading MR broadcast values of A and one NR-wide row of B per step.
 * B is read in place when its rows are contiguous (1x1 convs, MatMul) or
 * packed TB_GEMM_KC rows at a time into a fixed panel on the stack through the
 * caller's pack function (im2col for KxK convs, transposed B for Gemm). The
 * panel is the only scratch: TB_GEMM_KC * TB_GEMM_NR floats on the stack,
 * never heap memory (16 KB on hosts, 32 KB with AVX-512, 1 KB on Cortex-M;
 * -DTB_GEMM_KC=N, N >= 1, sets it). Rows past m repeat the last row
 * (computed, never stored) so one micro-kernel serves every tile.
 *
 * The plain C micro-kernel is written so that gcc and clang vectorise its
 * fixed NR-wide inner loop; with __AVX512F__ (6 x 32 tiles) or __AVX2__ +
 * __FMA__ (6 x 16), unless TB_NO_SIMD is defined, an intrinsics version
 * replaces it.
 */
#include "tb_runtime.h"

/* Cortex-M: 6 x 4 accumulators fit the 32 single-precision registers of
 * an FPv4/FPv5 unit, and the panel stays at 1 KB of stack. */
#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
#define TB_GEMM_SMALL 1
#endif

#define TB_GEMM_MR 6
#ifndef TB_GEMM_NR
#if !defined(TB_NO_SIMD) && defined(__AVX512F__)
#define TB_GEMM_NR 32
#elif defined(TB_GEMM_SMALL)
#define TB_GEMM_NR 4
#else
#define TB_GEMM_NR 16
#endif
#endif
#ifndef TB_GEMM_KC
#if defined(TB_GEMM_SMALL)
#define TB_GEMM_KC 64
#else
#define TB_GEMM_KC 256
#endif
#endif

/* An intrinsics micro-kernel only where its tile width is TB_GEMM_NR. */
#if !defined(TB_NO_SIMD) && defined(__AVX512F__) && TB_GEMM_NR == 32
#include <immintrin.h>
#define TB_GEMM_AVX512 1
#elif !defined(TB_NO_SIMD) && defined(__AVX2__) && defined(__FMA__) && TB_GEMM_NR == 16
#include <immintrin.h>
#define TB_GEMM_AVX2 1
#endif

/* AVX-512 keeps the tile in registers from y to y (micro_kernel_y); the
 * others keep MR rows of NR floats, tile[r * TB_GEMM_NR + t], read at the
 * start (bias or the sums so far) and written at the end. */
#if defined(TB_GEMM_AVX512)

/* One tile straight from and to y, mr <= 6 rows by nr <= 32 columns: it
 * starts from the bias (first k block) or the sums in y, and is clamped
 * (last k block) and stored without going through the tile buffer. Rows
 * past mr are computed (they repeat the last row of A) into a spare row,
 * never into y; columns past nr are masked off. Same sums in the same order
 * as load_tile + micro_kernel + store_tile. */
static void micro_kernel_y(int32_t kc, const float *const *a, const float *b, int64_t ldb,
                           const tb_gemm_core *g, int32_t i0, int32_t mr, int32_t j0, int32_t nr,
                           int first, int last)
{
    const __mmask16 m0 = nr >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << nr) - 1u);
    const __mmask16 m1 = nr >= 32 ? (__mmask16)0xffff : nr <= 16 ? (__mmask16)0 : (__mmask16)((1u << (nr - 16)) - 1u);
    float spare[TB_GEMM_NR];
    float *y[TB_GEMM_MR];
    __m512 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
    int32_t k, r;
    for (r = 0; r < TB_GEMM_MR; r++)
        y[r] = r < mr ? g->y + (int64_t)(i0 + r) * g->ldy + j0 : spare;
    if (first) {
        float bias[TB_GEMM_MR];
        for (r = 0; r < TB_GEMM_MR; r++)
            bias[r] = g->bias ? g->bias[i0 + (r < mr ? r : mr - 1)] : 0.0f;
        c00 = c01 = _mm512_set1_ps(bias[0]);
        c10 = c11 = _mm512_set1_ps(bias[1]);
        c20 = c21 = _mm512_set1_ps(bias[2]);
        c30 = c31 = _mm512_set1_ps(bias[3]);
        c40 = c41 = _mm512_set1_ps(bias[4]);
        c50 = c51 = _mm512_set1_ps(bias[5]);
    } else {
        if (mr < TB_GEMM_MR) {
            _mm512_storeu_ps(spare, _mm512_setzero_ps());
            _mm512_storeu_ps(spare + 16, _mm512_setzero_ps());
        }
        c00 = _mm512_maskz_loadu_ps(m0, y[0]); c01 = _mm512_maskz_loadu_ps(m1, y[0] + 16);
        c10 = _mm512_maskz_loadu_ps(m0, y[1]); c11 = _mm512_maskz_loadu_ps(m1, y[1] + 16);
        c20 = _mm512_maskz_loadu_ps(m0, y[2]); c21 = _mm512_maskz_loadu_ps(m1, y[2] + 16);
        c30 = _mm512_maskz_loadu_ps(m0, y[3]); c31 = _mm512_maskz_loadu_ps(m1, y[3] + 16);
        c40 = _mm512_maskz_loadu_ps(m0, y[4]); c41 = _mm512_maskz_loadu_ps(m1, y[4] + 16);
        c50 = _mm512_maskz_loadu_ps(m0, y[5]); c51 = _mm512_maskz_loadu_ps(m1, y[5] + 16);
    }
    /* a last tile of at most 16 columns: the right half's sums are never stored */
    for (k = 0; nr <= 16 && k < kc; k++) {
        const __m512 b0 = _mm512_loadu_ps(b);
        c00 = _mm512_fmadd_ps(_mm512_set1_ps(a0[k]), b0, c00);
        c10 = _mm512_fmadd_ps(_mm512_set1_ps(a1[k]), b0, c10);
        c20 = _mm512_fmadd_ps(_mm512_set1_ps(a2[k]), b0, c20);
        c30 = _mm512_fmadd_ps(_mm512_set1_ps(a3[k]), b0, c30);
        c40 = _mm512_fmadd_ps(_mm512_set1_ps(a4[k]), b0, c40);
        c50 = _mm512_fmadd_ps(_mm512_set1_ps(a5[k]), b0, c50);
        b += ldb;
    }
    for (k = 0; nr > 16 && k < kc; k++) {
        const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        __m512 av;
        av = _mm512_set1_ps(a0[k]); c00 = _mm512_fmadd_ps(av, b0, c00); c01 = _mm512_fmadd_ps(av, b1, c01);
        av = _mm512_set1_ps(a1[k]); c10 = _mm512_fmadd_ps(av, b0, c10); c11 = _mm512_fmadd_ps(av, b1, c11);
        av = _mm512_set1_ps(a2[k]); c20 = _mm512_fmadd_ps(av, b0, c20); c21 = _mm512_fmadd_ps(av, b1, c21);
        av = _mm512_set1_ps(a3[k]); c30 = _mm512_fmadd_ps(av, b0, c30); c31 = _mm512_fmadd_ps(av, b1, c31);
        av = _mm512_set1_ps(a4[k]); c40 = _mm512_fmadd_ps(av, b0, c40); c41 = _mm512_fmadd_ps(av, b1, c41);
        av = _mm512_set1_ps(a5[k]); c50 = _mm512_fmadd_ps(av, b0, c50); c51 = _mm512_fmadd_ps(av, b1, c51);
        b += ldb;
    }
    if (last) {
        const __m512 lo = _mm512_set1_ps(g->act_min), hi = _mm512_set1_ps(g->act_max);
        c00 = _mm512_min_ps(_mm512_max_ps(c00, lo), hi); c01 = _mm512_min_ps(_mm512_max_ps(c01, lo), hi);
        c10 = _mm512_min_ps(_mm512_max_ps(c10, lo), hi); c11 = _mm512_min_ps(_mm512_max_ps(c11, lo), hi);
        c20 = _mm512_min_ps(_mm512_max_ps(c20, lo), hi); c21 = _mm512_min_ps(_mm512_max_ps(c21, lo), hi);
        c30 = _mm512_min_ps(_mm512_max_ps(c30, lo), hi); c31 = _mm512_min_ps(_mm512_max_ps(c31, lo), hi);
        c40 = _mm512_min_ps(_mm512_max_ps(c40, lo), hi); c41 = _mm512_min_ps(_mm512_max_ps(c41, lo), hi);
        c50 = _mm512_min_ps(_mm512_max_ps(c50, lo), hi); c51 = _mm512_min_ps(_mm512_max_ps(c51, lo), hi);
    }
    if (nr == TB_GEMM_NR) {
        _mm512_storeu_ps(y[0], c00); _mm512_storeu_ps(y[0] + 16, c01);
        _mm512_storeu_ps(y[1], c10); _mm512_storeu_ps(y[1] + 16, c11);
        _mm512_storeu_ps(y[2], c20); _mm512_storeu_ps(y[2] + 16, c21);
        _mm512_storeu_ps(y[3], c30); _mm512_storeu_ps(y[3] + 16, c31);
        _mm512_storeu_ps(y[4], c40); _mm512_storeu_ps(y[4] + 16, c41);
        _mm512_storeu_ps(y[5], c50); _mm512_storeu_ps(y[5] + 16, c51);
    } else {
        _mm512_mask_storeu_ps(y[0], m0, c00); _mm512_mask_storeu_ps(y[0] + 16, m1, c01);
        _mm512_mask_storeu_ps(y[1], m0, c10); _mm512_mask_storeu_ps(y[1] + 16, m1, c11);
        _mm512_mask_storeu_ps(y[2], m0, c20); _mm512_mask_storeu_ps(y[2] + 16, m1, c21);
        _mm512_mask_storeu_ps(y[3], m0, c30); _mm512_mask_storeu_ps(y[3] + 16, m1, c31);
        _mm512_mask_storeu_ps(y[4], m0, c40); _mm512_mask_storeu_ps(y[4] + 16, m1, c41);
        _mm512_mask_storeu_ps(y[5], m0, c50); _mm512_mask_storeu_ps(y[5] + 16, m1, c51);
    }
}

#elif defined(TB_GEMM_AVX2)

static void micro_kernel(int32_t kc, const float *const *a, const float *b, int64_t ldb, float *tile)
{
    __m256 c00 = _mm256_loadu_ps(tile + 0), c01 = _mm256_loadu_ps(tile + 8);
    __m256 c10 = _mm256_loadu_ps(tile + 16), c11 = _mm256_loadu_ps(tile + 24);
    __m256 c20 = _mm256_loadu_ps(tile + 32), c21 = _mm256_loadu_ps(tile + 40);
    __m256 c30 = _mm256_loadu_ps(tile + 48), c31 = _mm256_loadu_ps(tile + 56);
    __m256 c40 = _mm256_loadu_ps(tile + 64), c41 = _mm256_loadu_ps(tile + 72);
    __m256 c50 = _mm256_loadu_ps(tile + 80), c51 = _mm256_loadu_ps(tile + 88);
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
    int32_t k;
    for (k = 0; k < kc; k++) {
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        __m256 av;
        av = _mm256_broadcast_ss(a0 + k); c00 = _mm256_fmadd_ps(av, b0, c00); c01 = _mm256_fmadd_ps(av, b1, c01);
        av = _mm256_broadcast_ss(a1 + k); c10 = _mm256_fmadd_ps(av, b0, c10); c11 = _mm256_fmadd_ps(av, b1, c11);
        av = _mm256_broadcast_ss(a2 + k); c20 = _mm256_fmadd_ps(av, b0, c20); c21 = _mm256_fmadd_ps(av, b1, c21);
        av = _mm256_broadcast_ss(a3 + k); c30 = _mm256_fmadd_ps(av, b0, c30); c31 = _mm256_fmadd_ps(av, b1, c31);
        av = _mm256_broadcast_ss(a4 + k); c40 = _mm256_fmadd_ps(av, b0, c40); c41 = _mm256_fmadd_ps(av, b1, c41);
        av = _mm256_broadcast_ss(a5 + k); c50 = _mm256_fmadd_ps(av, b0, c50); c51 = _mm256_fmadd_ps(av, b1, c51);
        b += ldb;
    }
    _mm256_storeu_ps(tile + 0, c00);  _mm256_storeu_ps(tile + 8, c01);
    _mm256_storeu_ps(tile + 16, c10); _mm256_storeu_ps(tile + 24, c11);
    _mm256_storeu_ps(tile + 32, c20); _mm256_storeu_ps(tile + 40, c21);
    _mm256_storeu_ps(tile + 48, c30); _mm256_storeu_ps(tile + 56, c31);
    _mm256_storeu_ps(tile + 64, c40); _mm256_storeu_ps(tile + 72, c41);
    _mm256_storeu_ps(tile + 80, c50); _mm256_storeu_ps(tile + 88, c51);
}

#else

/* Six named accumulator rows (not a 2-D array) and one NR-wide loop per k:
 * the form in which gcc and clang keep the tile in vector registers. */
static void micro_kernel(int32_t kc, const float *const *a, const float *b, int64_t ldb, float *tile)
{
    float c0[TB_GEMM_NR], c1[TB_GEMM_NR], c2[TB_GEMM_NR], c3[TB_GEMM_NR], c4[TB_GEMM_NR], c5[TB_GEMM_NR];
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
    int32_t k, t;
    for (t = 0; t < TB_GEMM_NR; t++) {
        c0[t] = tile[t];
        c1[t] = tile[TB_GEMM_NR + t];
        c2[t] = tile[2 * TB_GEMM_NR + t];
        c3[t] = tile[3 * TB_GEMM_NR + t];
        c4[t] = tile[4 * TB_GEMM_NR + t];
        c5[t] = tile[5 * TB_GEMM_NR + t];
    }
    for (k = 0; k < kc; k++) {
        const float *restrict bk = b + (int64_t)k * ldb;
        const float v0 = a0[k], v1 = a1[k], v2 = a2[k], v3 = a3[k], v4 = a4[k], v5 = a5[k];
        for (t = 0; t < TB_GEMM_NR; t++) {
            const float bv = bk[t];
            c0[t] += v0 * bv;
            c1[t] += v1 * bv;
            c2[t] += v2 * bv;
            c3[t] += v3 * bv;
            c4[t] += v4 * bv;
            c5[t] += v5 * bv;
        }
    }
    for (t = 0; t < TB_GEMM_NR; t++) {
        tile[t] = c0[t];
        tile[TB_GEMM_NR + t] = c1[t];
        tile[2 * TB_GEMM_NR + t] = c2[t];
        tile[3 * TB_GEMM_NR + t] = c3[t];
        tile[4 * TB_GEMM_NR + t] = c4[t];
        tile[5 * TB_GEMM_NR + t] = c5[t];
    }
}

#endif

/* The tile a k block starts from: the bias on the first block, else the
 * sums so far, so every output is summed in plain k order (zero terms, such
 * as channels added by round-channels, leave it bit for bit unchanged). */
static void load_tile(const tb_gemm_core *g, float *tile, int32_t i0, int32_t mr,
                      int32_t j0, int32_t nr, int first)
{
    int32_t r, t;
    for (r = 0; r < TB_GEMM_MR; r++) {
        const int32_t i = i0 + (r < mr ? r : mr - 1);
        const float *yr = g->y + (int64_t)i * g->ldy + j0;
        const float bias = g->bias ? g->bias[i] : 0.0f;
        float *tr = tile + r * TB_GEMM_NR;
        for (t = 0; t < TB_GEMM_NR; t++)
            tr[t] = first ? bias : (t < nr ? yr[t] : 0.0f);
    }
}

/* Writes a tile back to y; the last k block applies the clamp. */
static void store_tile(const tb_gemm_core *g, const float *tile, int32_t i0, int32_t mr,
                       int32_t j0, int32_t nr, int last)
{
    int32_t r, t;
    for (r = 0; r < mr; r++) {
        float *restrict yr = g->y + (int64_t)(i0 + r) * g->ldy + j0;
        const float *tr = tile + r * TB_GEMM_NR;
        if (last)
            for (t = 0; t < nr; t++) {
                const float v = tr[t];
                yr[t] = v < g->act_min ? g->act_min : (v > g->act_max ? g->act_max : v);
            }
        else
            for (t = 0; t < nr; t++)
                yr[t] = tr[t];
    }
}

void tb_gemm_core_f32(const tb_gemm_core *g)
{
    float panel[TB_GEMM_KC * TB_GEMM_NR];
    float tile[TB_GEMM_MR * TB_GEMM_NR];
    const float *rows[TB_GEMM_MR];
    int32_t j0, k0, i0, r;

    if (g->k <= 0) {
        /* nothing to sum: the bias alone, clamped */
        for (i0 = 0; i0 < g->m; i0++)
            for (j0 = 0; j0 < g->n; j0 += TB_GEMM_NR) {
                const int32_t nr = g->n - j0 < TB_GEMM_NR ? g->n - j0 : TB_GEMM_NR;
                load_tile(g, tile, i0, 1, j0, nr, 1);
                store_tile(g, tile, i0, 1, j0, nr, 1);
            }
        return;
    }

    for (j0 = 0; j0 < g->n; j0 += TB_GEMM_NR) {
        const int32_t nr = g->n - j0 < TB_GEMM_NR ? g->n - j0 : TB_GEMM_NR;
        for (k0 = 0; k0 < g->k; k0 += TB_GEMM_KC) {
            const int32_t kc = g->k - k0 < TB_GEMM_KC ? g->k - k0 : TB_GEMM_KC;
            const float *bp = panel;
            int64_t ldb = TB_GEMM_NR;
            if (g->b && nr == TB_GEMM_NR) {
                bp = g->b + (int64_t)k0 * g->ldb + j0;
                ldb = g->ldb;
            } else if (g->b) {
                /* a last, narrow column tile: copy it and zero the rest */
                int32_t kk, t;
                for (kk = 0; kk < kc; kk++) {
                    const float *src = g->b + (int64_t)(k0 + kk) * g->ldb + j0;
                    for (t = 0; t < TB_GEMM_NR; t++)
                        panel[kk * TB_GEMM_NR + t] = t < nr ? src[t] : 0.0f;
                }
            } else {
                g->pack(g->ctx, k0, kc, j0, nr, panel, TB_GEMM_NR);
            }
            for (i0 = 0; i0 < g->m; i0 += TB_GEMM_MR) {
                const int32_t mr = g->m - i0 < TB_GEMM_MR ? g->m - i0 : TB_GEMM_MR;
                for (r = 0; r < TB_GEMM_MR; r++)
                    rows[r] = g->a + (int64_t)(i0 + (r < mr ? r : mr - 1)) * g->lda + k0;
#if defined(TB_GEMM_AVX512)
                micro_kernel_y(kc, rows, bp, ldb, g, i0, mr, j0, nr, k0 == 0, k0 + kc == g->k);
#else
                load_tile(g, tile, i0, mr, j0, nr, k0 == 0);
                micro_kernel(kc, rows, bp, ldb, tile);
                store_tile(g, tile, i0, mr, j0, nr, k0 + kc == g->k);
#endif
            }
        }
    }
}
