/* conv_depthwise.c - tb_conv_depthwise_f32: the direct kernel for convs with
 * one input and one output channel per group (MobileNet's depthwise convs).
 *
 * A 3x3 kernel (stride 1 or 2, no dilation) computes each output row in one
 * pass, bias, 9 taps and clamp per value, from three zero-padded copies of
 * its input rows (a ring of 3 x TB_DW_ROW floats on the stack, the only
 * scratch; each input row is copied once per channel), so
 * the loop has no bounds checks and compilers vectorise it. With stride 1 and
 * pads of 1 the middle rows of a plane skip the copies: one flat loop over
 * the plane (plane3x3_same). Other kernels, and rows wider than the buffers,
 * build the row in place: the bias, one pass per input row the window
 * touches (unchecked over the interior columns), then the clamp.
 *
 * With __AVX512F__ (unless TB_NO_SIMD) every 3x3 conv without dilation and
 * with stride_w 1 or 2 runs an intrinsics path instead, bias, 9 taps and
 * clamp in registers, with no copies: stride-1 "same" planes as one flat
 * run of 16-wide vectors (7x7 and 14x14 planes fill them too), the edges by
 * masks; other 3x3 convs row by row, stride 2 de-interleaved in registers.
 */
#include "tb_runtime.h"

/* yr[j] += sum_kw wk[kw] * xr[j * s + kw * d - pl] for j in [lo, hi), all taps inside. */
static void row_interior(const tb_conv_params *p, const float *wk, const float *xr, float *yr,
                         int32_t lo, int32_t hi)
{
    const int32_t s = p->stride_w, d = p->dil_w;
    int32_t j, kw;
    if (lo >= hi)
        return;
    if (p->k_w == 3) {
        const float w0 = wk[0], w1 = wk[1], w2 = wk[2];
        /* x0 starts at the first interior column's window: never outside the input */
        const float *restrict x0 = xr + ((int64_t)lo * s - p->pad_left);
        float *restrict yo = yr + lo;
        const int32_t cnt = hi - lo;
        if (s == 1 && d == 1) {
            for (j = 0; j < cnt; j++)
                yo[j] += w0 * x0[j] + w1 * x0[j + 1] + w2 * x0[j + 2];
        } else if (s == 2 && d == 1) {
            for (j = 0; j < cnt; j++)
                yo[j] += w0 * x0[2 * j] + w1 * x0[2 * j + 1] + w2 * x0[2 * j + 2];
        } else {
            for (j = 0; j < cnt; j++)
                yo[j] += w0 * x0[(int64_t)j * s] + w1 * x0[(int64_t)j * s + d] +
                         w2 * x0[(int64_t)j * s + 2 * d];
        }
        return;
    }
    for (kw = 0; kw < p->k_w; kw++) {
        const float wv = wk[kw];
        const float *restrict x0 = xr + ((int64_t)lo * s - p->pad_left + (int64_t)kw * d);
        float *restrict yo = yr + lo;
        for (j = 0; j < hi - lo; j++)
            yo[j] += wv * x0[(int64_t)j * s];
    }
}

/* The same for one border column j: taps outside the input are skipped. */
static void col_border(const tb_conv_params *p, const float *wk, const float *xr, float *yr, int32_t j)
{
    float acc = 0.0f;
    int32_t kw;
    for (kw = 0; kw < p->k_w; kw++) {
        const int32_t iw = j * p->stride_w - p->pad_left + kw * p->dil_w;
        if (iw >= 0 && iw < p->w_in)
            acc += wk[kw] * xr[iw];
    }
    yr[j] += acc;
}

#ifndef TB_DW_ROW
#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
#define TB_DW_ROW 64
#else
#define TB_DW_ROW 256
#endif
#endif

/* buf[i] = input column i - pad_left of row ih, 0 outside the input, for i < need. */
static void padded_row(const tb_conv_params *p, const float *xc, int32_t ih, int32_t need, float *buf)
{
    const int32_t pl = p->pad_left;
    int32_t i;
    if (ih < 0 || ih >= p->h_in) {
        for (i = 0; i < need; i++)
            buf[i] = 0.0f;
        return;
    }
    {
        const int32_t lo = pl < need ? pl : need;
        const int32_t end = pl + p->w_in < need ? pl + p->w_in : need;
        for (i = 0; i < lo; i++)
            buf[i] = 0.0f;
        if (end > lo) {
            const float *restrict xr = xc + (int64_t)ih * p->w_in + (lo - pl);
            float *restrict d = buf + lo;
            for (i = 0; i < end - lo; i++)
                d[i] = xr[i];
        }
        for (i = end > lo ? end : lo; i < need; i++)
            buf[i] = 0.0f;
    }
}

typedef struct {
    float row[3][TB_DW_ROW];
    int32_t ih[3]; /* the input row each slot holds, or below -1 - pad_top: none */
} row_ring;

/* The padded copy of input row ih (slot ih mod 3: the copy is made once per
 * channel, however many output rows read it). */
static const float *ring_row(const tb_conv_params *p, const float *xc, int32_t ih, int32_t need,
                             row_ring *ring)
{
    const int32_t slot = (int32_t)(((ih % 3) + 3) % 3);
    if (ring->ih[slot] != ih) {
        padded_row(p, xc, ih, need, ring->row[slot]);
        ring->ih[slot] = ih;
    }
    return ring->row[slot];
}

static void ring_reset(const tb_conv_params *p, row_ring *ring)
{
    ring->ih[0] = ring->ih[1] = ring->ih[2] = -3 - p->pad_top;
}

static void row3x3(const tb_conv_params *p, const float *xc, const float *wc, float bias,
                   int32_t oh, float *yr, row_ring *ring)
{
    const int32_t need = (p->w_out - 1) * p->stride_w + 3, ih0 = oh * p->stride_h - p->pad_top;
    const float w00 = wc[0], w01 = wc[1], w02 = wc[2], w10 = wc[3], w11 = wc[4], w12 = wc[5];
    const float w20 = wc[6], w21 = wc[7], w22 = wc[8], lo_v = p->act_min, hi_v = p->act_max;
    const float *restrict r0 = ring_row(p, xc, ih0, need, ring);
    const float *restrict r1 = ring_row(p, xc, ih0 + 1, need, ring);
    const float *restrict r2 = ring_row(p, xc, ih0 + 2, need, ring);
    float *restrict yo = yr;
    const int32_t cnt = p->w_out;
    int32_t j;
    if (p->stride_w == 1) {
        for (j = 0; j < cnt; j++) {
            float v = bias + w00 * r0[j] + w01 * r0[j + 1] + w02 * r0[j + 2] +
                      w10 * r1[j] + w11 * r1[j + 1] + w12 * r1[j + 2] +
                      w20 * r2[j] + w21 * r2[j + 1] + w22 * r2[j + 2];
            v = v < lo_v ? lo_v : v;
            yo[j] = v > hi_v ? hi_v : v;
        }
    } else {
        for (j = 0; j < cnt; j++) {
            float v = bias + w00 * r0[2 * j] + w01 * r0[2 * j + 1] + w02 * r0[2 * j + 2] +
                      w10 * r1[2 * j] + w11 * r1[2 * j + 1] + w12 * r1[2 * j + 2] +
                      w20 * r2[2 * j] + w21 * r2[2 * j + 1] + w22 * r2[2 * j + 2];
            v = v < lo_v ? lo_v : v;
            yo[j] = v > hi_v ? hi_v : v;
        }
    }
}

/* One channel of a 3x3 stride-1 conv with pads of 1 ("same" output, at least
 * 3x3): rows 1 .. h-2 run as one flat loop over the plane, so short rows (7
 * or 14 wide) still fill whole vectors. The flat loop also writes the first
 * and last column of those rows with taps that wrap into the neighbouring
 * row; they are computed again afterwards (their three input rows are
 * inside), and the first and last rows go through row3x3. */
static void plane3x3_same(const tb_conv_params *p, const float *xc, const float *wc, float bias,
                          float *yc, row_ring *ring)
{
    const int32_t h = p->h_in, w = p->w_in;
    const float w00 = wc[0], w01 = wc[1], w02 = wc[2], w10 = wc[3], w11 = wc[4], w12 = wc[5];
    const float w20 = wc[6], w21 = wc[7], w22 = wc[8], lo_v = p->act_min, hi_v = p->act_max;
    /* flat positions w + 1 .. (h - 1) * w - 2: every tap inside the plane */
    const float *restrict r0 = xc + 0;
    const float *restrict r1 = xc + w;
    const float *restrict r2 = xc + 2 * w;
    float *restrict yo = yc + w + 1;
    const int32_t cnt = (h - 2) * w - 2;
    int32_t j, oh;
    for (j = 0; j < cnt; j++) {
        float v = bias + w00 * r0[j] + w01 * r0[j + 1] + w02 * r0[j + 2] +
                  w10 * r1[j] + w11 * r1[j + 1] + w12 * r1[j + 2] +
                  w20 * r2[j] + w21 * r2[j + 1] + w22 * r2[j + 2];
        v = v < lo_v ? lo_v : v;
        yo[j] = v > hi_v ? hi_v : v;
    }
    for (oh = 1; oh < h - 1; oh++) {
        const float *a = xc + (int64_t)(oh - 1) * w, *m = a + w, *z = m + w;
        float v = bias + w01 * a[0] + w02 * a[1] + w11 * m[0] + w12 * m[1] + w21 * z[0] + w22 * z[1];
        v = v < lo_v ? lo_v : v;
        yc[(int64_t)oh * w] = v > hi_v ? hi_v : v;
        v = bias + w00 * a[w - 2] + w01 * a[w - 1] + w10 * m[w - 2] + w11 * m[w - 1] +
            w20 * z[w - 2] + w21 * z[w - 1];
        v = v < lo_v ? lo_v : v;
        yc[(int64_t)oh * w + w - 1] = v > hi_v ? hi_v : v;
    }
    ring_reset(p, ring);
    row3x3(p, xc, wc, bias, 0, yc, ring);
    row3x3(p, xc, wc, bias, h - 1, yc + (int64_t)(h - 1) * w, ring);
}

#if !defined(TB_NO_SIMD) && defined(__AVX512F__)
#include <immintrin.h>
#define TB_DW_AVX512 1

/* AVX-512: 3x3 kernels (no dilation) with masked loads instead of padded
 * copies or border fix-ups. Masked-off lanes are never read (the loads
 * suppress faults there), so a window may hang past the plane's edges. */

/* The lanes l of a 16-wide vector with 0 <= base + l < len. */
static __mmask16 lanes_in(int64_t base, int64_t len)
{
    const int64_t lo = base < 0 ? -base : 0, hi = len - base > 16 ? 16 : len - base;
    if (lo >= hi)
        return 0;
    return (__mmask16)((((uint32_t)1 << hi) - 1u) & ~(((uint32_t)1 << lo) - 1u));
}

/* One channel of a 3x3 stride-1 conv with pads of 1 and the same output
 * size: the plane as one flat run of 16-wide vectors, so that 7- and
 * 14-wide rows still fill them (a vector spans several rows). A tap one row
 * up or down is masked where it leaves the plane, one column left or right
 * where it would wrap into the neighbouring row: not_first[c] / not_last[c]
 * are the lanes whose column (c + l) mod w is not 0 / not w - 1. */
static void plane3x3_flat_avx512(const tb_conv_params *p, const float *xc, const float *wc,
                                 float bias, float *yc, const __mmask16 *not_first,
                                 const __mmask16 *not_last)
{
    const int32_t w = p->w_in;
    const int64_t hw = (int64_t)p->h_in * w;
    const __m512 w00 = _mm512_set1_ps(wc[0]), w01 = _mm512_set1_ps(wc[1]), w02 = _mm512_set1_ps(wc[2]);
    const __m512 w10 = _mm512_set1_ps(wc[3]), w11 = _mm512_set1_ps(wc[4]), w12 = _mm512_set1_ps(wc[5]);
    const __m512 w20 = _mm512_set1_ps(wc[6]), w21 = _mm512_set1_ps(wc[7]), w22 = _mm512_set1_ps(wc[8]);
    const __m512 bv = _mm512_set1_ps(bias), lo_v = _mm512_set1_ps(p->act_min), hi_v = _mm512_set1_ps(p->act_max);
    /* Vectors at q in [w + 1, hw - w - 16] read only inside the plane: plain
     * loads there, the columns that wrap masked off in the FMA itself. */
    const int64_t inner_lo = (int64_t)w + 1, inner_hi = hw - w - 16;
    int64_t q;
    int32_t col = 0; /* q mod w */
    for (q = 0; q < hw; q += 16) {
        const __mmask16 l = not_first[col], r = not_last[col];
        const float *x0 = xc + (q - w), *x1 = xc + q, *x2 = xc + (q + w);
        __m512 acc = bv;
        if (q >= inner_lo && q <= inner_hi) {
            acc = _mm512_mask3_fmadd_ps(w00, _mm512_loadu_ps(x0 - 1), acc, l);
            acc = _mm512_fmadd_ps(w01, _mm512_loadu_ps(x0), acc);
            acc = _mm512_mask3_fmadd_ps(w02, _mm512_loadu_ps(x0 + 1), acc, r);
            acc = _mm512_mask3_fmadd_ps(w10, _mm512_loadu_ps(x1 - 1), acc, l);
            acc = _mm512_fmadd_ps(w11, _mm512_loadu_ps(x1), acc);
            acc = _mm512_mask3_fmadd_ps(w12, _mm512_loadu_ps(x1 + 1), acc, r);
            acc = _mm512_mask3_fmadd_ps(w20, _mm512_loadu_ps(x2 - 1), acc, l);
            acc = _mm512_fmadd_ps(w21, _mm512_loadu_ps(x2), acc);
            acc = _mm512_mask3_fmadd_ps(w22, _mm512_loadu_ps(x2 + 1), acc, r);
            acc = _mm512_min_ps(_mm512_max_ps(acc, lo_v), hi_v);
            _mm512_storeu_ps(yc + q, acc);
        } else {
            const __mmask16 up = lanes_in(q - w, hw), mid = lanes_in(q, hw), down = lanes_in(q + w, hw);
            acc = _mm512_fmadd_ps(w00, _mm512_maskz_loadu_ps(up & l, x0 - 1), acc);
            acc = _mm512_fmadd_ps(w01, _mm512_maskz_loadu_ps(up, x0), acc);
            acc = _mm512_fmadd_ps(w02, _mm512_maskz_loadu_ps(up & r, x0 + 1), acc);
            acc = _mm512_fmadd_ps(w10, _mm512_maskz_loadu_ps(mid & l, x1 - 1), acc);
            acc = _mm512_fmadd_ps(w11, _mm512_maskz_loadu_ps(mid, x1), acc);
            acc = _mm512_fmadd_ps(w12, _mm512_maskz_loadu_ps(mid & r, x1 + 1), acc);
            acc = _mm512_fmadd_ps(w20, _mm512_maskz_loadu_ps(down & l, x2 - 1), acc);
            acc = _mm512_fmadd_ps(w21, _mm512_maskz_loadu_ps(down, x2), acc);
            acc = _mm512_fmadd_ps(w22, _mm512_maskz_loadu_ps(down & r, x2 + 1), acc);
            acc = _mm512_min_ps(_mm512_max_ps(acc, lo_v), hi_v);
            _mm512_mask_storeu_ps(yc + q, mid, acc);
        }
        col += 16;
        while (col >= w)
            col -= w;
    }
}

/* One channel of any other 3x3 conv with stride_w 1 or 2, row by row in
 * 16-wide chunks. Taps outside the input are masked off; rows outside it
 * are skipped. Stride 2 loads 32 consecutive inputs twice (at the first
 * tap's column and two columns on) and de-interleaves them into the even
 * (taps 0 and 2) and odd (tap 1) columns. */
static void plane3x3_rows_avx512(const tb_conv_params *p, const float *xc, const float *wc,
                                 float bias, float *yc)
{
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512 bv = _mm512_set1_ps(bias), lo_v = _mm512_set1_ps(p->act_min), hi_v = _mm512_set1_ps(p->act_max);
    const int32_t s = p->stride_w, w_in = p->w_in;
    __m512 wv[9];
    int32_t oh, j0, kh;
    for (kh = 0; kh < 9; kh++)
        wv[kh] = _mm512_set1_ps(wc[kh]);
    for (oh = 0; oh < p->h_out; oh++) {
        const int32_t ih0 = oh * p->stride_h - p->pad_top;
        float *yr = yc + (int64_t)oh * p->w_out;
        for (j0 = 0; j0 < p->w_out; j0 += 16) {
            const int64_t base = (int64_t)j0 * s - p->pad_left; /* input column of tap 0, lane 0 */
            /* the same column masks for the three rows: at 0, 1, 2 (stride 1) or
             * 0, 16, 2, 18 (stride 2) columns from base */
            const __mmask16 m0 = lanes_in(base, w_in), m1 = lanes_in(base + (s == 1 ? 1 : 16), w_in);
            const __mmask16 m2 = lanes_in(base + 2, w_in), m3 = lanes_in(base + 18, w_in);
            const int inner = base >= 0 && base + 34 <= w_in; /* stride 2: no mask needed */
            __m512 acc = bv;
            for (kh = 0; kh < 3; kh++) {
                const int32_t ih = ih0 + kh;
                const float *xr = xc + (int64_t)ih * w_in + base;
                const __m512 *wk = wv + 3 * kh;
                if (ih < 0 || ih >= p->h_in)
                    continue;
                if (s == 1) {
                    acc = _mm512_fmadd_ps(wk[0], _mm512_maskz_loadu_ps(m0, xr), acc);
                    acc = _mm512_fmadd_ps(wk[1], _mm512_maskz_loadu_ps(m1, xr + 1), acc);
                    acc = _mm512_fmadd_ps(wk[2], _mm512_maskz_loadu_ps(m2, xr + 2), acc);
                } else if (inner) {
                    const __m512 a0 = _mm512_loadu_ps(xr), a1 = _mm512_loadu_ps(xr + 16);
                    const __m512 b0 = _mm512_loadu_ps(xr + 2), b1 = _mm512_loadu_ps(xr + 18);
                    acc = _mm512_fmadd_ps(wk[0], _mm512_permutex2var_ps(a0, even, a1), acc);
                    acc = _mm512_fmadd_ps(wk[1], _mm512_permutex2var_ps(a0, odd, a1), acc);
                    acc = _mm512_fmadd_ps(wk[2], _mm512_permutex2var_ps(b0, even, b1), acc);
                } else {
                    const __m512 a0 = _mm512_maskz_loadu_ps(m0, xr), a1 = _mm512_maskz_loadu_ps(m1, xr + 16);
                    const __m512 b0 = _mm512_maskz_loadu_ps(m2, xr + 2), b1 = _mm512_maskz_loadu_ps(m3, xr + 18);
                    acc = _mm512_fmadd_ps(wk[0], _mm512_permutex2var_ps(a0, even, a1), acc);
                    acc = _mm512_fmadd_ps(wk[1], _mm512_permutex2var_ps(a0, odd, a1), acc);
                    acc = _mm512_fmadd_ps(wk[2], _mm512_permutex2var_ps(b0, even, b1), acc);
                }
            }
            acc = _mm512_min_ps(_mm512_max_ps(acc, lo_v), hi_v);
            _mm512_mask_storeu_ps(yr + j0, lanes_in(j0, p->w_out), acc);
        }
    }
}

/* The 3x3 convs the AVX-512 path takes; returns 0 for the others. */
static int depthwise3x3_avx512(const tb_conv_params *p, const float *x, const float *w,
                               const float *b, float *y)
{
    const int64_t in_plane = (int64_t)p->h_in * p->w_in;
    const int64_t out_plane = (int64_t)p->h_out * p->w_out;
    const int flat = p->stride_h == 1 && p->stride_w == 1 && p->pad_top == 1 && p->pad_left == 1 &&
                     p->h_out == p->h_in && p->w_out == p->w_in && p->w_in <= TB_DW_ROW;
    __mmask16 not_first[TB_DW_ROW], not_last[TB_DW_ROW];
    int32_t n, c;
    if (p->k_h != 3 || p->k_w != 3 || p->dil_h != 1 || p->dil_w != 1 ||
        (p->stride_w != 1 && p->stride_w != 2))
        return 0;
    if (flat) {
        int32_t col, l;
        for (col = 0; col < p->w_in; col++) {
            uint32_t first = 0, last = 0;
            for (l = 0; l < 16; l++) {
                const int32_t ow = (col + l) % p->w_in;
                first |= (uint32_t)(ow != 0) << l;
                last |= (uint32_t)(ow != p->w_in - 1) << l;
            }
            not_first[col] = (__mmask16)first;
            not_last[col] = (__mmask16)last;
        }
    }
    for (n = 0; n < p->n; n++)
        for (c = 0; c < p->c_out; c++) {
            const float *xc = x + ((int64_t)n * p->c_in + c) * in_plane;
            float *yc = y + ((int64_t)n * p->c_out + c) * out_plane;
            const float bias = b ? b[c] : 0.0f;
            if (flat)
                plane3x3_flat_avx512(p, xc, w + (int64_t)c * 9, bias, yc, not_first, not_last);
            else
                plane3x3_rows_avx512(p, xc, w + (int64_t)c * 9, bias, yc);
        }
    return 1;
}
#endif

void tb_conv_depthwise_f32(const tb_conv_params *p, const float *x, const float *w,
                           const float *b, float *y)
{
    const int64_t in_plane = (int64_t)p->h_in * p->w_in;
    const int64_t out_plane = (int64_t)p->h_out * p->w_out;
    const int32_t ksize = p->k_h * p->k_w;
    const int fused = p->k_h == 3 && p->k_w == 3 && p->dil_h == 1 && p->dil_w == 1 &&
                      (p->stride_w == 1 || p->stride_w == 2) &&
                      (p->w_out - 1) * p->stride_w + 3 <= TB_DW_ROW;
    const int same = fused && p->stride_h == 1 && p->stride_w == 1 && p->pad_top == 1 &&
                     p->pad_left == 1 && p->h_out == p->h_in && p->w_out == p->w_in &&
                     p->h_in >= 3 && p->w_in >= 3;
    row_ring ring;
    int32_t lo, hi, n, c, oh, kh, j;

#if defined(TB_DW_AVX512)
    if (depthwise3x3_avx512(p, x, w, b, y))
        return;
#endif

    /* interior columns: j * s - pl >= 0 and j * s - pl + (k_w - 1) * d <= w_in - 1 */
    {
        const int32_t s = p->stride_w, span = (p->k_w - 1) * p->dil_w;
        lo = p->pad_left > 0 ? (p->pad_left + s - 1) / s : 0;
        hi = p->w_in - 1 - span + p->pad_left >= 0 ? (p->w_in - 1 - span + p->pad_left) / s + 1 : 0;
        if (hi > p->w_out)
            hi = p->w_out;
        if (lo > hi)
            lo = hi;
    }
    for (n = 0; n < p->n; n++) {
        for (c = 0; c < p->c_out; c++) {
            const float *xc = x + ((int64_t)n * p->c_in + c) * in_plane;
            const float *wc = w + (int64_t)c * ksize;
            float *yc = y + ((int64_t)n * p->c_out + c) * out_plane;
            const float bias = b ? b[c] : 0.0f;
            if (same) {
                plane3x3_same(p, xc, wc, bias, yc, &ring);
                continue;
            }
            ring_reset(p, &ring);
            for (oh = 0; oh < p->h_out; oh++) {
                float *restrict yr = yc + (int64_t)oh * p->w_out;
                const int32_t ih0 = oh * p->stride_h - p->pad_top;
                if (fused) {
                    row3x3(p, xc, wc, bias, oh, yr, &ring);
                    continue;
                }
                for (j = 0; j < p->w_out; j++)
                    yr[j] = bias;
                for (kh = 0; kh < p->k_h; kh++) {
                    const int32_t ih = ih0 + kh * p->dil_h;
                    const float *xr, *wk = wc + kh * p->k_w;
                    if (ih < 0 || ih >= p->h_in)
                        continue;
                    xr = xc + (int64_t)ih * p->w_in;
                    for (j = 0; j < lo; j++)
                        col_border(p, wk, xr, yr, j);
                    row_interior(p, wk, xr, yr, lo, hi);
                    for (j = hi; j < p->w_out; j++)
                        col_border(p, wk, xr, yr, j);
                }
                for (j = 0; j < p->w_out; j++) {
                    const float v = yr[j];
                    yr[j] = v < p->act_min ? p->act_min : (v > p->act_max ? p->act_max : v);
                }
            }
        }
    }
}
