/* test_kernels.c - checks every runtime kernel against a slow, obvious
 * reference (textbook loops in double precision, explicit window and index
 * enumeration) on small deterministic random cases and hand-picked edge
 * cases. Prints one line per failing case, then "N passed, N failed".
 *
 * Build (from the repository root): cc -std=c99 -Iruntime runtime/[a-z]*.c
 *     test/runtime/test_kernels.c -lm
 */
#include <math.h>
#include <float.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tb_runtime.h"

#define MAXN 32768

static int g_pass, g_fail;

/* ---- helpers ---- */

static uint32_t g_rng = 12345u;
static uint32_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 17;
    g_rng ^= g_rng << 5;
    return g_rng;
}
static int irand(int lo, int hi) /* inclusive */
{
    return (int)(lo + (int64_t)(rnd() % (uint64_t)((int64_t)hi - lo + 1))); /* wide ranges too */
}
static float frand(void) /* [-1, 1) */
{
    return (float)((double)(rnd() >> 8) / 8388608.0 - 1.0);
}
static void fill(float *a, int n)
{
    int i;
    for (i = 0; i < n; i++)
        a[i] = frand();
}

/* got vs want with tolerance 1e-5 relative to max(|want|, mag) where mag is
 * the sum of |terms| that produced want (the scale of the rounding error of a
 * float accumulation); a 1e-7 absolute floor covers results near 0. NaN
 * matches NaN, infinities must match exactly. */
static int near(float got, double want, double mag)
{
    double scale;
    if (want != want)
        return got != got;
    if (isinf(want) || isinf(got))
        return (double)got == want;
    scale = fabs(want) > mag ? fabs(want) : mag;
    return fabs((double)got - want) <= 1e-5 * scale + 1e-7;
}

static float X[MAXN], W[MAXN], B[MAXN], C[MAXN], Y[MAXN];
static double R[MAXN], M[MAXN];

/* Y is poisoned before each kernel call; check_f then also verifies that
 * nothing was written past the n outputs. */
#define GUARD 64
#define SENTINEL 12345.678f
static void poison(void)
{
    int i;
    for (i = 0; i < MAXN; i++)
        Y[i] = SENTINEL;
}

/* One case: compares n outputs, prints the first mismatch. */
static void check_f(const char *name, int id, const float *got, const double *want,
                    const double *mag, int n)
{
    int i;
    if (got == Y)
        for (i = n; i < n + GUARD && i < MAXN; i++)
            if (Y[i] != SENTINEL) {
                printf("FAIL %s #%d: wrote past the output at y[%d]\n", name, id, i);
                g_fail++;
                return;
            }
    for (i = 0; i < n; i++) {
        if (!near(got[i], want[i], mag ? mag[i] : 0.0)) {
            printf("FAIL %s #%d: y[%d] = %.9g, want %.9g\n", name, id, i, (double)got[i], want[i]);
            g_fail++;
            return;
        }
    }
    g_pass++;
}

static void check_bytes(const char *name, int id, const void *got, const void *want, int nbytes)
{
    const unsigned char *g = (const unsigned char *)got, *w = (const unsigned char *)want;
    int i;
    for (i = 0; i < nbytes; i++) {
        if (g[i] != w[i]) {
            printf("FAIL %s #%d: byte %d = 0x%02x, want 0x%02x\n", name, id, i, g[i], w[i]);
            g_fail++;
            return;
        }
    }
    g_pass++;
}

static void check_i64(const char *name, int id, const int64_t *got, const int64_t *want, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        if (got[i] != want[i]) {
            printf("FAIL %s #%d: y[%d] = %lld, want %lld\n", name, id, i,
                   (long long)got[i], (long long)want[i]);
            g_fail++;
            return;
        }
    }
    g_pass++;
}

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* dense row-major strides of dims[rank] */
static void dense_strides(int rank, const int32_t *dims, int32_t *st)
{
    int d;
    int32_t s = 1;
    for (d = rank - 1; d >= 0; d--) {
        st[d] = s;
        s *= dims[d];
    }
}

static int32_t prod(int rank, const int32_t *dims)
{
    int32_t n = 1;
    int d;
    for (d = 0; d < rank; d++)
        n *= dims[d];
    return n;
}

static void unravel(int32_t lin, int rank, const int32_t *dims, int32_t *idx)
{
    int d;
    for (d = rank - 1; d >= 0; d--) {
        idx[d] = lin % dims[d];
        lin /= dims[d];
    }
}

/* ---- conv ---- */

static int out_size(int in, int pa, int pb, int k, int s, int dil)
{
    return (in + pa + pb - dil * (k - 1) - 1) / s + 1;
}

static void conv_ref(const tb_conv_params *p, const float *x, const float *w, const float *b)
{
    int cig = p->c_in / p->group, cog = p->c_out / p->group;
    int n, oc, oh, ow, ic, kh, kw, i = 0;
    for (n = 0; n < p->n; n++)
        for (oc = 0; oc < p->c_out; oc++)
            for (oh = 0; oh < p->h_out; oh++)
                for (ow = 0; ow < p->w_out; ow++, i++) {
                    int g = oc / cog;
                    double acc = b ? b[oc] : 0.0, mag = fabs(acc);
                    for (ic = 0; ic < cig; ic++)
                        for (kh = 0; kh < p->k_h; kh++)
                            for (kw = 0; kw < p->k_w; kw++) {
                                int ih = oh * p->stride_h - p->pad_top + kh * p->dil_h;
                                int iw = ow * p->stride_w - p->pad_left + kw * p->dil_w;
                                int c = g * cig + ic;
                                double t;
                                if (ih < 0 || ih >= p->h_in || iw < 0 || iw >= p->w_in)
                                    continue;
                                t = (double)x[((n * p->c_in + c) * p->h_in + ih) * p->w_in + iw] *
                                    w[((oc * cig + ic) * p->k_h + kh) * p->k_w + kw];
                                acc += t;
                                mag += fabs(t);
                            }
                    R[i] = clampd(acc, p->act_min, p->act_max);
                    M[i] = mag;
                }
}

static int g_conv_id;
static void conv_case(int n, int c_in, int h_in, int w_in, int c_out, int k_h, int k_w,
                      int sh, int sw, int dh, int dw, int pt, int pl, int pb, int pr,
                      int group, int bias, float lo, float hi)
{
    tb_conv_params p;
    int nx, nw, ny;
    memset(&p, 0, sizeof p);
    p.n = n; p.c_in = c_in; p.h_in = h_in; p.w_in = w_in; p.c_out = c_out;
    p.k_h = k_h; p.k_w = k_w; p.stride_h = sh; p.stride_w = sw; p.dil_h = dh; p.dil_w = dw;
    p.pad_top = pt; p.pad_left = pl; p.group = group; p.act_min = lo; p.act_max = hi;
    p.h_out = out_size(h_in, pt, pb, k_h, sh, dh);
    p.w_out = out_size(w_in, pl, pr, k_w, sw, dw);
    nx = n * c_in * h_in * w_in;
    nw = c_out * (c_in / group) * k_h * k_w;
    ny = n * c_out * p.h_out * p.w_out;
    if (p.h_out <= 0 || p.w_out <= 0 || nx > MAXN || nw > MAXN || ny > MAXN) {
        printf("FAIL conv #%d: bad test case\n", g_conv_id++);
        g_fail++;
        return;
    }
    fill(X, nx);
    fill(W, nw);
    fill(B, c_out);
    poison();
    tb_conv_f32(&p, X, W, bias ? B : NULL, Y);
    conv_ref(&p, X, W, bias ? B : NULL);
    check_f("conv", g_conv_id++, Y, R, M, ny);
}

static void test_conv(void)
{
    const float INF = INFINITY;
    int t;
    /*        n  ci  h  w co kh kw sh sw dh dw pt pl pb pr  g bias  lo    hi */
    conv_case(2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -INF, INF);  /* same pad */
    conv_case(1, 4, 9, 7, 6, 3, 2, 2, 2, 2, 1, 1, 0, 2, 1, 2, 1, -0.5f, 0.5f); /* groups, dil, asym */
    conv_case(1, 4, 7, 7, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 4, 0, -INF, INF);  /* depthwise, no bias */
    conv_case(2, 2, 5, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 0.0f, 6.0f); /* depth multiplier 3, relu6 */
    conv_case(1, 8, 4, 5, 6, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, -INF, INF);  /* 1x1 fast path */
    conv_case(2, 8, 3, 3, 4, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2, 0, 0.0f, INF);  /* 1x1 grouped, relu */
    conv_case(1, 3, 6, 6, 2, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, -INF, INF);  /* 1x1 strided */
    conv_case(1, 3, 1, 10, 4, 1, 3, 1, 3, 1, 2, 0, 2, 0, 1, 1, 1, -INF, INF); /* 1-D */
    conv_case(1, 2, 3, 3, 3, 2, 2, 1, 1, 1, 1, 3, 3, 3, 3, 1, 1, -INF, INF);  /* windows all padding */
    conv_case(1, 1, 6, 6, 1, 6, 6, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, -INF, INF);  /* kernel = input */
    conv_case(1, 2, 9, 9, 2, 3, 3, 3, 2, 3, 2, 2, 0, 0, 3, 1, 1, -INF, INF);  /* dil 3, stride 3 */
    for (t = 0; t < 40; t++) {
        int group = irand(1, 3), cig = irand(1, 3), cog = irand(1, 3);
        int k_h = irand(1, 4), k_w = irand(1, 4), dh = irand(1, 3), dw = irand(1, 3);
        int h = irand(1, 9), w = irand(1, 9);
        int pt = irand(0, 3), pb = irand(0, 3), pl = irand(0, 3), pr = irand(0, 3);
        int sh = irand(1, 3), sw = irand(1, 3);
        if (h + pt + pb < dh * (k_h - 1) + 1 || w + pl + pr < dw * (k_w - 1) + 1) {
            t--;
            continue;
        }
        conv_case(irand(1, 2), group * cig, h, w, group * cog, k_h, k_w, sh, sw, dh, dw,
                  pt, pl, pb, pr, group, irand(0, 1), t % 3 ? -INF : -0.3f, t % 3 ? INF : 0.4f);
    }
}

/* The blocked GEMM behind conv (gemm_pack.c): channel counts that are not
 * multiples of its 6-row tiles, output planes that are not multiples of its
 * 16/32-column tiles (1, 3, 7, 17, 33 ...), and c_in * k_h * k_w above its
 * 256-row panels, so several k blocks add up into the output. */
static void test_conv_blocked(void)
{
    const float INF = INFINITY;
    static const int sizes[] = {1, 3, 7, 17, 33};
    int i, t;
    /*        n  ci  h   w  co kh kw sh sw dh dw pt pl pb pr  g bias  lo    hi */
    conv_case(1, 33, 17, 17, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -INF, INF); /* 3 k blocks */
    conv_case(1, 64, 9, 11, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0.0f, 6.0f); /* stride 2, relu6 */
    conv_case(1, 300, 7, 7, 7, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, -INF, INF);   /* 1x1, 2 k blocks */
    conv_case(1, 17, 33, 33, 19, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0.0f, INF);  /* 1x1, 35 n tiles */
    conv_case(1, 3, 35, 33, 8, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1, 1, -INF, INF);   /* ResNet stem shape */
    conv_case(1, 16, 13, 15, 12, 3, 3, 1, 1, 2, 3, 2, 3, 2, 3, 1, 1, -INF, INF); /* dilations */
    conv_case(2, 24, 9, 9, 18, 3, 3, 1, 2, 1, 1, 0, 2, 1, 0, 3, 1, -0.2f, 0.3f); /* groups of 8 -> 6 */
    conv_case(1, 40, 5, 40, 6, 5, 1, 1, 3, 1, 1, 2, 0, 2, 0, 1, 1, -INF, INF);   /* 5x1, w stride 3 */
    conv_case(1, 7, 1, 70, 9, 1, 5, 1, 1, 1, 2, 0, 4, 0, 4, 1, 1, -INF, INF);    /* 1-D, rows of 70 */
    for (i = 0; i < 5; i++)
        for (t = 0; t < 5; t++) {
            int c = sizes[i] % 20 + 2, hw = sizes[t]; /* 33 channels only on small planes */
            conv_case(1, c, hw, hw, sizes[(i + t) % 5] % 20 + 1, 3, 3, 1 + t % 2, 1 + t % 2, 1, 1,
                      1, 1, 1, 1, 1, (i + t) % 2, -INF, INF);
            conv_case(1, c, hw, hw + 2, sizes[i] % 20 + 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, -INF, INF);
        }
}

/* The im2col panels of conv.c: rows narrower than a 16-lane half (several
 * runs per panel row), runs that straddle lane 16, stride 2 (even-lane
 * permutes) with padding on both sides and odd widths, stride 3 (the plain
 * path), kernels with more window positions than the segment table holds
 * (9x9: 81, and 1-wide rows: 32 runs x 9 positions), and k blocks that
 * start in the middle of a kernel (c_in * k_h * k_w > 256). */
static void test_conv_im2col(void)
{
    const float INF = INFINITY;
    int t;
    /*        n  ci   h   w co kh kw sh sw dh dw pt pl pb pr  g bias  lo    hi */
    conv_case(1, 40, 9, 3, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -INF, INF);   /* w_out 3, block 2 at kpos 4 */
    conv_case(1, 30, 11, 5, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, -INF, INF);  /* stride 2, w_out 3 */
    conv_case(1, 6, 16, 23, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0, -INF, INF);  /* stride 2, odd width */
    conv_case(1, 4, 20, 20, 3, 9, 9, 1, 1, 1, 1, 4, 4, 4, 4, 1, 1, -INF, INF);  /* 81 positions */
    conv_case(1, 3, 21, 22, 3, 9, 9, 2, 2, 1, 1, 4, 4, 4, 4, 1, 1, -INF, INF);  /* 81 positions, stride 2 */
    conv_case(1, 5, 40, 1, 4, 3, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1, -INF, INF);   /* w 1: 32 runs */
    conv_case(1, 5, 40, 1, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -INF, INF);   /* 32 runs x 9 positions */
    conv_case(1, 5, 70, 2, 4, 3, 3, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, -INF, INF);   /* stride 2, w_out 1 */
    conv_case(1, 3, 12, 40, 4, 3, 3, 1, 2, 1, 2, 1, 2, 1, 2, 1, 1, -INF, INF);  /* stride 2, dilation 2 */
    conv_case(1, 3, 12, 40, 4, 3, 5, 2, 3, 1, 1, 1, 2, 1, 2, 1, 1, -INF, INF);  /* stride 3 */
    conv_case(1, 3, 7, 70, 4, 3, 7, 1, 2, 1, 1, 0, 6, 0, 6, 1, 1, -INF, INF);   /* pads wider than the stride */
    conv_case(1, 3, 30, 30, 5, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1, 1, -INF, INF);  /* stem-like, w_out 15 */
    for (t = 0; t < 60; t++) {
        int w = irand(1, 70), h = irand(1, 8), k_w = irand(1, 7), k_h = irand(1, 3);
        int sw = irand(1, 2), sh = irand(1, 2), dw = irand(1, 2), c_in = irand(1, 40);
        int pl = irand(0, k_w), pr = irand(0, k_w), pt = irand(0, k_h - 1), pb = irand(0, k_h - 1);
        if (h + pt + pb < k_h || w + pl + pr < dw * (k_w - 1) + 1 || c_in * h * w > MAXN) {
            t--;
            continue;
        }
        conv_case(1, c_in, h, w, irand(1, 13), k_h, k_w, sh, sw, 1, dw, pt, pl, pb, pr, 1,
                  irand(0, 1), -INF, INF);
    }
}

/* The direct depthwise kernel (conv_depthwise.c): 3x3 stride 1 and 2 over
 * odd planes (the fused one-pass rows, the border columns, planes too small
 * for an interior), pads 0 to 2, other kernel sizes and dilations. */
static void test_conv_depthwise(void)
{
    const float INF = INFINITY;
    static const int sizes[] = {1, 2, 3, 7, 17, 33};
    int i, s, pad;
    for (i = 0; i < 6; i++)
        for (s = 1; s <= 2; s++)
            for (pad = 0; pad <= 2; pad++) {
                int h = sizes[i] + (pad == 0 ? 2 : 0), w = sizes[(i + s + pad) % 6] + (pad == 0 ? 2 : 0);
                if (w < 3 - 2 * pad)
                    w = 3;
                conv_case(1, 5, h, w, 5, 3, 3, s, s, 1, 1, pad, pad, pad, pad, 5, (i + pad) % 2,
                          pad == 1 ? 0.0f : -INF, pad == 1 ? 6.0f : INF);
            }
    /*        n  ci  h   w  co kh kw sh sw dh dw pt pl pb pr  g bias  lo    hi */
    conv_case(2, 8, 9, 40, 8, 3, 3, 2, 1, 1, 1, 1, 0, 0, 1, 8, 1, -INF, INF);  /* asymmetric pads */
    conv_case(1, 6, 12, 13, 6, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 6, 1, -INF, INF); /* dilation 2 */
    conv_case(1, 4, 11, 11, 4, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2, 4, 1, -INF, INF); /* 5x5 stride 2 */
    conv_case(1, 3, 10, 9, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 3, 1, -INF, INF);  /* stride 3 */
    conv_case(1, 2, 6, 33, 2, 1, 7, 1, 1, 1, 1, 0, 3, 0, 3, 2, 0, -INF, INF);  /* 1x7 */
    conv_case(1, 3, 4, 4, 3, 3, 3, 1, 1, 1, 1, 3, 3, 3, 3, 3, 1, -INF, INF);   /* pads wider than the window */
    /* MobileNetV2's planes (the AVX-512 path: whole planes as flat vectors
     * for stride 1, rows de-interleaved for stride 2), odd sizes near them,
     * rows wider than TB_DW_ROW, a valid 3x3 and pads of 0 / 1 mixed */
    for (i = 0; i < 9; i++) {
        static const int planes[] = {7, 14, 28, 56, 112, 13, 29, 57, 111};
        const int hw = planes[i], c = hw > 64 ? 2 : hw > 20 ? 3 : 5;
        conv_case(1, c, hw, hw, c, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, c, 1, 0.0f, 6.0f);
        conv_case(1, c, hw, hw, c, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, c, i % 2, 0.0f, 6.0f);
    }
    conv_case(1, 2, 5, 300, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, -INF, INF);  /* rows of 300 */
    conv_case(1, 2, 5, 301, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2, 1, -INF, INF);  /* stride 2, rows of 301 */
    conv_case(1, 3, 20, 40, 3, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 3, 1, -INF, INF);  /* valid 3x3 */
    conv_case(1, 3, 21, 37, 3, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 3, 0, -INF, INF);  /* stride 2, pads at the end only */
    conv_case(2, 4, 15, 16, 4, 3, 3, 1, 2, 1, 1, 1, 0, 1, 1, 4, 1, -1.0f, 1.0f); /* stride 1 x 2 */
}

/* ---- gemm / matmul ---- */

static int g_gemm_id;
static void gemm_case(int m, int n, int k, int ta, int tb, float alpha, float beta,
                      int c_kind, float lo, float hi)
{
    tb_gemm_params p;
    int i, j, kk;
    memset(&p, 0, sizeof p);
    p.m = m; p.n = n; p.k = k; p.trans_a = ta; p.trans_b = tb;
    p.alpha = alpha; p.beta = beta; p.act_min = lo; p.act_max = hi;
    /* c_kind: 0 NULL, 1 [m,n], 2 [n] row, 3 [m,1] column, 4 scalar */
    p.c_stride_m = c_kind == 1 ? n : c_kind == 3 ? 1 : 0;
    p.c_stride_n = c_kind == 1 || c_kind == 2 ? 1 : 0;
    fill(X, m * k);
    fill(W, k * n);
    fill(C, m * n);
    poison();
    tb_gemm_f32(&p, X, W, c_kind ? C : NULL, Y);
    for (i = 0; i < m; i++)
        for (j = 0; j < n; j++) {
            double acc = 0, mag = 0, t;
            for (kk = 0; kk < k; kk++) {
                double a = ta ? X[kk * m + i] : X[i * k + kk];
                double b = tb ? W[j * k + kk] : W[kk * n + j];
                acc += a * b;
                mag += fabs(a * b);
            }
            acc *= alpha;
            mag *= fabs(alpha);
            if (c_kind) {
                t = (double)beta * C[i * p.c_stride_m + j * p.c_stride_n];
                acc += t;
                mag += fabs(t);
            }
            R[i * n + j] = clampd(acc, lo, hi);
            M[i * n + j] = mag;
        }
    check_f("gemm", g_gemm_id++, Y, R, M, m * n);
}

static void test_gemm(void)
{
    const float INF = INFINITY;
    int ta, tb, ck, t;
    for (ta = 0; ta < 2; ta++)
        for (tb = 0; tb < 2; tb++)
            for (ck = 0; ck < 5; ck++)
                gemm_case(5, 7, 6, ta, tb, ck ? 0.5f : 1.0f, ck % 2 ? 1.0f : -2.0f, ck, -INF, INF);
    gemm_case(1, 10, 16, 0, 1, 1.0f, 1.0f, 2, 0.0f, INF);  /* FC layer with relu */
    gemm_case(3, 4, 1, 1, 0, 2.0f, 1.0f, 1, -0.2f, 0.3f); /* k = 1, tight clamp */
    gemm_case(4, 1, 5, 1, 1, 1.0f, 0.0f, 4, -INF, INF);   /* n = 1, beta 0 */
    /* the blocked path (m >= 4, A not transposed): odd tiles, k above 256 */
    for (tb = 0; tb < 2; tb++) {
        gemm_case(7, 33, 17, 0, tb, 1.0f, 1.0f, 2, -INF, INF);
        gemm_case(17, 3, 300, 0, tb, 0.5f, -1.0f, 1, -0.5f, 0.5f);
        gemm_case(33, 65, 9, 0, tb, 1.0f, 1.0f, 3, 0.0f, INF);
        gemm_case(4, 1, 1, 0, tb, 2.0f, 0.0f, 0, -INF, INF);
        gemm_case(1, 40, 520, 0, tb, 1.0f, 1.0f, 2, -INF, INF); /* FC: dot products in lanes */
    }
    for (t = 0; t < 20; t++)
        gemm_case(irand(1, 9), irand(1, 9), irand(1, 9), irand(0, 1), irand(0, 1),
                  frand() * 2, frand() * 2, irand(0, 4), t % 2 ? -INF : -0.5f, t % 2 ? INF : 0.5f);
}

static int g_matmul_id;
/* a_dims / b_dims: batch dims of a and b (1 where broadcast), out batch dims
 * are the max; rank in 0..3 */
static void matmul_case(int m, int n, int k, int rank, const int32_t *a_bd, const int32_t *b_bd)
{
    tb_matmul_params p;
    int32_t ad[TB_RT_MAX_RANK] = {0}, bd[TB_RT_MAX_RANK] = {0};
    int32_t as[TB_RT_MAX_RANK], bs[TB_RT_MAX_RANK];
    int32_t idx[TB_RT_MAX_RANK];
    int d, nb, t, i, j, kk, na, nbb;
    memset(&p, 0, sizeof p);
    p.m = m; p.n = n; p.k = k; p.batch_rank = rank;
    for (d = 0; d < rank; d++) {
        ad[d] = a_bd[d];
        bd[d] = b_bd[d];
        p.batch_dims[d] = a_bd[d] > b_bd[d] ? a_bd[d] : b_bd[d];
    }
    dense_strides(rank, ad, as);
    dense_strides(rank, bd, bs);
    for (d = 0; d < rank; d++) {
        p.a_batch_strides[d] = ad[d] == 1 ? 0 : as[d] * m * k;
        p.b_batch_strides[d] = bd[d] == 1 ? 0 : bs[d] * k * n;
    }
    na = prod(rank, ad) * m * k;
    nbb = prod(rank, bd) * k * n;
    nb = prod(rank, p.batch_dims);
    fill(X, na);
    fill(W, nbb);
    poison();
    tb_matmul_f32(&p, X, W, Y);
    for (t = 0; t < nb; t++) {
        int aoff = 0, boff = 0;
        unravel(t, rank, p.batch_dims, idx);
        for (d = 0; d < rank; d++) {
            aoff += (ad[d] == 1 ? 0 : idx[d]) * as[d];
            boff += (bd[d] == 1 ? 0 : idx[d]) * bs[d];
        }
        aoff *= m * k;
        boff *= k * n;
        for (i = 0; i < m; i++)
            for (j = 0; j < n; j++) {
                double acc = 0, mag = 0;
                for (kk = 0; kk < k; kk++) {
                    double v = (double)X[aoff + i * k + kk] * W[boff + kk * n + j];
                    acc += v;
                    mag += fabs(v);
                }
                R[(t * m + i) * n + j] = acc;
                M[(t * m + i) * n + j] = mag;
            }
    }
    check_f("matmul", g_matmul_id++, Y, R, M, nb * m * n);
}

static void test_matmul(void)
{
    static const int32_t a1[] = {2, 3, 1}, b1[] = {2, 3, 1};
    static const int32_t a2[] = {1, 3}, b2[] = {2, 1};
    static const int32_t a3[] = {4}, b3[] = {1};
    static const int32_t a4[] = {1}, b4[] = {3};
    static const int32_t a5[] = {2, 1, 3}, b5[] = {1, 2, 3};
    matmul_case(3, 4, 5, 0, a1, b1);
    matmul_case(2, 3, 4, 3, a1, b1);
    matmul_case(3, 2, 4, 2, a2, b2);
    matmul_case(1, 5, 3, 1, a3, b3);
    matmul_case(4, 1, 2, 1, a4, b4);
    matmul_case(2, 2, 3, 3, a5, b5);
    matmul_case(1, 1, 7, 2, a2, b2);
    matmul_case(7, 33, 17, 0, a1, b1);   /* the blocked path: odd tiles */
    matmul_case(13, 17, 300, 1, a3, b3); /* k above 256, batch of 4 */
    matmul_case(6, 32, 1, 2, a2, b2);    /* whole tiles, k = 1 */
}

/* ---- binary ---- */

/* Builds broadcast strides for an operand of dims od (1 = broadcast) */
static void bcast_strides(int rank, const int32_t *od, int32_t *st)
{
    int d;
    dense_strides(rank, od, st);
    for (d = 0; d < rank; d++)
        if (od[d] == 1)
            st[d] = 0;
}

static int g_bin_id, g_bini_id;
static void binary_case(int op, int rank, const int32_t *ad, const int32_t *bd, int inplace)
{
    tb_binary_params p;
    int32_t idx[TB_RT_MAX_RANK];
    int d, i, n, na, nb;
    memset(&p, 0, sizeof p);
    p.op = op;
    p.rank = rank;
    for (d = 0; d < rank; d++)
        p.dims[d] = ad[d] > bd[d] ? ad[d] : bd[d];
    bcast_strides(rank, ad, p.a_strides);
    bcast_strides(rank, bd, p.b_strides);
    n = p.count = prod(rank, p.dims);
    na = prod(rank, ad);
    nb = prod(rank, bd);
    fill(X, na);
    fill(W, nb);
    for (i = 0; i < nb; i++) /* keep divisors away from 0 */
        if (op == TB_BINARY_DIV && fabsf(W[i]) < 0.1f)
            W[i] = 0.5f;
    for (i = 0; i < n; i++) {
        double a, b;
        int ao = 0, bo = 0;
        unravel(i, rank, p.dims, idx);
        for (d = 0; d < rank; d++) {
            ao += idx[d] * p.a_strides[d];
            bo += idx[d] * p.b_strides[d];
        }
        a = X[ao];
        b = W[bo];
        R[i] = op == TB_BINARY_ADD ? a + b : op == TB_BINARY_SUB ? a - b
             : op == TB_BINARY_MUL ? a * b : a / b;
    }
    poison();
    if (inplace) { /* y aliases a (same shape as the output) */
        memcpy(Y, X, sizeof(float) * (size_t)na);
        tb_binary_f32(&p, Y, W, Y);
    } else {
        tb_binary_f32(&p, X, W, Y);
    }
    check_f("binary_f32", g_bin_id++, Y, R, NULL, n);
}

static void test_binary(void)
{
    static const int32_t s234[] = {2, 3, 4}, s111[] = {1, 1, 1}, s214[] = {2, 1, 4};
    static const int32_t s131[] = {1, 3, 1}, s134[] = {1, 3, 4}, s211[] = {2, 1, 1};
    static const int32_t s2341[] = {2, 3, 4, 5}, s1311[] = {1, 3, 1, 1}, s1145[] = {1, 1, 4, 5};
    static const int32_t s5[] = {5}, s1[] = {1};
    int op, t, d;
    for (op = 0; op < 4; op++) {
        binary_case(op, 3, s234, s234, 0); /* same shape */
        binary_case(op, 3, s111, s234, 0); /* scalar a */
        binary_case(op, 3, s234, s111, 0); /* scalar b */
        binary_case(op, 3, s214, s131, 0); /* both broadcast */
        binary_case(op, 3, s134, s211, 0);
        binary_case(op, 4, s2341, s1311, 0); /* per-channel */
        binary_case(op, 4, s1145, s2341, 0);
        binary_case(op, 0, s1, s1, 0);       /* rank 0 */
        binary_case(op, 1, s5, s1, 0);
        binary_case(op, 3, s234, s131, 1);   /* in place */
    }
    for (t = 0; t < 20; t++) {
        int32_t ad[TB_RT_MAX_RANK], bd[TB_RT_MAX_RANK];
        int rank = irand(1, 5);
        for (d = 0; d < rank; d++) {
            int n = irand(1, 4), which = irand(0, 3);
            ad[d] = which == 1 ? 1 : n;
            bd[d] = which == 2 ? 1 : n;
        }
        binary_case(irand(0, 3), rank, ad, bd, 0);
    }
}

static void test_binary_i64(void)
{
    static const int64_t a[] = {7, -7, 7, -7, 5, 0, INT64_MIN, INT64_MAX, INT64_MIN, 3, -9, 100};
    static const int64_t b[] = {2, 2, -2, -2, 0, 0, -1, 1, 1, 5, 3, -7};
    tb_binary_params p;
    int64_t y[12], want[12], sb[3] = {10, 20, 30}, sa[2] = {1, 2}, y6[6];
    int i, op;
    memset(&p, 0, sizeof p);
    p.count = 12;
    p.rank = 1;
    p.dims[0] = 12;
    p.a_strides[0] = p.b_strides[0] = 1;
    for (op = 0; op < 4; op++) {
        p.op = op;
        for (i = 0; i < 12; i++) {
            uint64_t ua = (uint64_t)a[i], ub = (uint64_t)b[i];
            switch (op) {
            case TB_BINARY_ADD: want[i] = (int64_t)(ua + ub); break;
            case TB_BINARY_SUB: want[i] = (int64_t)(ua - ub); break;
            case TB_BINARY_MUL: want[i] = (int64_t)(ua * ub); break;
            default:
                /* truncation toward zero; /0 -> 0; INT64_MIN / -1 wraps */
                want[i] = b[i] == 0 ? 0 : b[i] == -1 ? (int64_t)(0 - ua) : a[i] / b[i];
                break;
            }
        }
        tb_binary_i64(&p, a, b, y);
        check_i64("binary_i64", g_bini_id++, y, want, 12);
    }
    /* hand-checked division values */
    p.op = TB_BINARY_DIV;
    tb_binary_i64(&p, a, b, y);
    {
        static const int64_t d[] = {3, -3, -3, 3, 0, 0, INT64_MIN, INT64_MAX, INT64_MIN, 0, -3, -14};
        check_i64("binary_i64", g_bini_id++, y, d, 12);
    }
    /* broadcast [2,1] + [1,3] */
    p.op = TB_BINARY_ADD;
    p.rank = 2;
    p.count = 6;
    p.dims[0] = 2; p.dims[1] = 3;
    p.a_strides[0] = 1; p.a_strides[1] = 0;
    p.b_strides[0] = 0; p.b_strides[1] = 1;
    tb_binary_i64(&p, sa, sb, y6);
    {
        static const int64_t w6[] = {11, 21, 31, 12, 22, 32};
        check_i64("binary_i64", g_bini_id++, y6, w6, 6);
    }
}

/* ---- unary ---- */

static double unary_ref(int op, double x, double al, double be)
{
    switch (op) {
    case TB_UNARY_RELU: return x < 0 ? 0 : x;
    case TB_UNARY_CLIP: return clampd(x, al, be);
    case TB_UNARY_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case TB_UNARY_HARDSIGMOID: return clampd(al * x + be, 0, 1);
    case TB_UNARY_HARDSWISH: return x * clampd(x / 6.0 + 0.5, 0, 1);
    case TB_UNARY_LEAKYRELU: return x < 0 ? al * x : x;
    case TB_UNARY_TANH: return tanh(x);
    case TB_UNARY_EXP: return exp(x);
    case TB_UNARY_LOG: return log(x);
    case TB_UNARY_SQRT: return sqrt(x);
    case TB_UNARY_ABS: return fabs(x);
    case TB_UNARY_NEG: return -x;
    case TB_UNARY_RECIPROCAL: return 1.0 / x;
    case TB_UNARY_ELU: return x < 0 ? al * (exp(x) - 1.0) : x;
    case TB_UNARY_SELU: return x <= 0 ? be * al * (exp(x) - 1.0) : be * x;
    case TB_UNARY_CELU: return (x > 0 ? x : 0) + (al * (exp(x / al) - 1.0) < 0 ? al * (exp(x / al) - 1.0) : 0);
    case TB_UNARY_SOFTPLUS: return log(1.0 + exp(x));
    case TB_UNARY_SOFTSIGN: return x / (1.0 + fabs(x));
    case TB_UNARY_THRESHOLDEDRELU: return x > al ? x : 0;
    case TB_UNARY_ERF: return erf(x);
    case TB_UNARY_GELU: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    case TB_UNARY_GELU_TANH: return 0.5 * x * (1.0 + tanh(sqrt(2.0 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)));
    case TB_UNARY_FLOOR: return floor(x);
    case TB_UNARY_CEIL: return ceil(x);
    case TB_UNARY_ROUND: { /* half to even, by the definition */
        double f = floor(x), d = x - f;
        return d < 0.5 ? f : d > 0.5 ? f + 1 : (fmod(f, 2.0) == 0 ? f : f + 1);
    }
    case TB_UNARY_SIGN: return x > 0 ? 1 : x < 0 ? -1 : x;
    case TB_UNARY_SIN: return sin(x);
    case TB_UNARY_COS: return cos(x);
    case TB_UNARY_TAN: return tan(x);
    case TB_UNARY_ASIN: return asin(x);
    case TB_UNARY_ACOS: return acos(x);
    case TB_UNARY_ATAN: return atan(x);
    case TB_UNARY_SINH: return sinh(x);
    case TB_UNARY_COSH: return cosh(x);
    case TB_UNARY_ASINH: return asinh(x);
    case TB_UNARY_ACOSH: return acosh(x);
    case TB_UNARY_ATANH: return atanh(x);
    default: return al * x; /* SCALE */
    }
}

static void test_unary(void)
{
    static const char *names[] = {"relu", "clip", "sigmoid", "hardsigmoid", "hardswish",
                                  "leakyrelu", "tanh", "exp", "log", "sqrt", "abs", "neg",
                                  "reciprocal", "elu", "selu", "celu", "softplus", "softsign",
                                  "thresholdedrelu", "erf", "gelu", "gelu_tanh", "floor", "ceil",
                                  "round", "sign", "sin", "cos", "tan", "asin", "acos", "atan",
                                  "sinh", "cosh", "asinh", "acosh", "atanh", "scale"};
    static const float halves[] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 0.49999997f, 8388607.5f,
                                   16777216.0f, -0.0f};
    static const float special[] = {0.0f, -0.0f, 1.0f, -1.0f, 3.0f, -3.0f, 2.9999f, -3.0001f,
                                    10.0f, -10.0f, 50.0f, -50.0f, 100.0f, -100.0f, 0.5f, 1e-3f};
    const int ns = (int)(sizeof special / sizeof special[0]);
    tb_unary_params p;
    int op, i, n = 200;
    char name[64];
    for (op = TB_UNARY_RELU; op <= TB_UNARY_SCALE; op++) {
        memset(&p, 0, sizeof p);
        p.op = op;
        p.count = n;
        p.alpha = op == TB_UNARY_CLIP ? -0.25f : op == TB_UNARY_HARDSIGMOID ? 0.2f : 0.1f;
        p.beta = op == TB_UNARY_CLIP ? 0.75f : 0.5f;
        for (i = 0; i < n; i++)
            X[i] = i < ns ? special[i] : frand() * 8.0f;
        if (op == TB_UNARY_LOG || op == TB_UNARY_SQRT) /* real domain, plus 0 and one negative */
            for (i = 0; i < n; i++)
                X[i] = i == 0 ? 0.0f : i == 1 ? -1.0f : fabsf(X[i]) + 1e-3f;
        if (op == TB_UNARY_EXP || op == TB_UNARY_SINH || op == TB_UNARY_COSH)
            for (i = 0; i < n; i++)
                X[i] = i < ns ? special[i] * 0.8f : X[i]; /* exp(80) stays finite in float */
        if (op == TB_UNARY_ASIN || op == TB_UNARY_ACOS || op == TB_UNARY_ATANH)
            for (i = 0; i < n; i++) /* the domain [-1, 1], plus one value outside (NaN) */
                X[i] = i == 0 ? 2.0f : X[i] / 8.0f;
        if (op == TB_UNARY_ACOSH)
            for (i = 0; i < n; i++)
                X[i] = i == 0 ? 0.5f : 1.0f + fabsf(X[i]);
        if (op == TB_UNARY_ROUND)
            for (i = 0; i < (int)(sizeof halves / sizeof halves[0]); i++)
                X[i] = halves[i];
        if (op == TB_UNARY_TAN) /* away from the poles, where float rounding of x dominates */
            for (i = 0; i < n; i++)
                X[i] = X[i] / 8.0f;
        for (i = 0; i < n; i++)
            R[i] = unary_ref(op, X[i], p.alpha, p.beta);
        /* float rounding of exp/recip of tiny inputs: compare the float-rounded reference */
        for (i = 0; i < n; i++)
            R[i] = (double)(float)R[i];
        sprintf(name, "unary_%s", names[op]);
        poison();
        tb_unary_f32(&p, X, Y);
        check_f(name, 0, Y, R, NULL, n);
        poison();
        memcpy(Y, X, sizeof(float) * (size_t)n); /* in place */
        tb_unary_f32(&p, Y, Y);
        check_f(name, 1, Y, R, NULL, n);
    }
}

/* ---- pooling ---- */

static int g_pool_id;
static void pool_case(int is_max, int n, int c, int h, int w, int k_h, int k_w, int sh, int sw,
                      int dh, int dw, int pt, int pl, int pb, int pr, int cip, int ceil_extra)
{
    tb_pool_params p;
    int i = 0, pc, oh, ow, kh, kw, ny;
    memset(&p, 0, sizeof p);
    p.n = n; p.c = c; p.h_in = h; p.w_in = w; p.k_h = k_h; p.k_w = k_w;
    p.stride_h = sh; p.stride_w = sw; p.dil_h = dh; p.dil_w = dw;
    p.pad_top = pt; p.pad_left = pl; p.pad_bottom = pb; p.pad_right = pr;
    p.count_include_pad = cip;
    /* ceil_extra adds one more output (ceil_mode), whose window may run past
     * the padded input */
    p.h_out = out_size(h, pt, pb, k_h, sh, dh) + ceil_extra;
    p.w_out = out_size(w, pl, pr, k_w, sw, dw) + ceil_extra;
    ny = n * c * p.h_out * p.w_out;
    if (p.h_out <= 0 || p.w_out <= 0 || ny > MAXN || n * c * h * w > MAXN) {
        printf("FAIL pool #%d: bad test case\n", g_pool_id++);
        g_fail++;
        return;
    }
    fill(X, n * c * h * w);
    for (pc = 0; pc < n * c; pc++)
        for (oh = 0; oh < p.h_out; oh++)
            for (ow = 0; ow < p.w_out; ow++, i++) {
                double acc = is_max ? -HUGE_VAL : 0.0, mag = 0;
                int cnt_real = 0, cnt_pad = 0;
                for (kh = 0; kh < k_h; kh++)
                    for (kw = 0; kw < k_w; kw++) {
                        int ih = oh * sh - pt + kh * dh, iw = ow * sw - pl + kw * dw;
                        if (ih >= -pt && ih < h + pb && iw >= -pl && iw < w + pr)
                            cnt_pad++;
                        if (ih >= 0 && ih < h && iw >= 0 && iw < w) {
                            double v = X[(pc * h + ih) * w + iw];
                            cnt_real++;
                            if (is_max)
                                acc = v > acc ? v : acc;
                            else
                                acc += v;
                            mag += fabs(v);
                        }
                    }
                if (cnt_real == 0)
                    acc = 0.0;
                else if (!is_max)
                    acc /= cip ? cnt_pad : cnt_real;
                R[i] = acc;
                M[i] = is_max || !cnt_real ? 0 : mag / cnt_real;
            }
    poison();
    (is_max ? tb_maxpool_f32 : tb_avgpool_f32)(&p, X, Y);
    check_f(is_max ? "maxpool" : "avgpool", g_pool_id++, Y, R, M, ny);
}

/* A random pooling window: h <= max_h by w <= max_w, kernel 1..4, dilation
 * 1..2, each pad below the kernel size, drawn again until the padded input
 * holds one window. */
typedef struct {
    int h, w, k_h, k_w, dh, dw, pt, pl, pb, pr;
} pool_geometry;

static pool_geometry random_pool_geometry(int max_h, int max_w)
{
    pool_geometry q;
    do {
        q.k_h = irand(1, 4), q.k_w = irand(1, 4), q.dh = irand(1, 2), q.dw = irand(1, 2);
        q.h = irand(1, max_h), q.w = irand(1, max_w);
        q.pt = irand(0, q.k_h - 1), q.pb = irand(0, q.k_h - 1), q.pl = irand(0, q.k_w - 1), q.pr = irand(0, q.k_w - 1);
    } while (q.h + q.pt + q.pb < q.dh * (q.k_h - 1) + 1 || q.w + q.pl + q.pr < q.dw * (q.k_w - 1) + 1);
    return q;
}

static void test_pool(void)
{
    int mx, cip, t;
    for (mx = 0; mx < 2; mx++)
        for (cip = 0; cip < 2; cip++) {
            /*           n  c  h  w kh kw sh sw dh dw pt pl pb pr */
            pool_case(mx, 1, 2, 8, 8, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, cip, 0);
            pool_case(mx, 2, 3, 7, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, cip, 0);
            pool_case(mx, 1, 2, 7, 6, 3, 2, 2, 1, 1, 1, 2, 0, 1, 1, cip, 0);  /* asym pads */
            pool_case(mx, 1, 1, 9, 9, 3, 3, 1, 2, 2, 3, 2, 3, 1, 2, cip, 0);  /* dilation */
            pool_case(mx, 1, 2, 6, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, cip, 1);  /* ceil mode */
            pool_case(mx, 1, 2, 5, 5, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, cip, 1);  /* ceil, no pad */
            pool_case(mx, 1, 3, 1, 12, 1, 3, 1, 2, 1, 1, 0, 1, 0, 1, cip, 0); /* 1-D */
            pool_case(mx, 1, 2, 4, 4, 4, 4, 1, 1, 1, 1, 0, 0, 0, 0, cip, 0);  /* global */
            pool_case(mx, 1, 1, 3, 3, 2, 2, 1, 1, 1, 1, 3, 3, 3, 3, cip, 0);  /* windows all padding */
        }
    for (t = 0; t < 40; t++) {
        pool_geometry q = random_pool_geometry(9, 9);
        pool_case(t % 2, irand(1, 2), irand(1, 3), q.h, q.w, q.k_h, q.k_w, irand(1, 3), irand(1, 3),
                  q.dh, q.dw, q.pt, q.pl, q.pb, q.pr, irand(0, 1), irand(0, 1));
    }
}

/* Pooling on rows wide enough for interior columns (computed across
 * outputs, pool.c) next to clipped border columns, compared bit for bit
 * with a plain float loop over each window in the same order: max from the
 * first value by v > acc ? v : acc (so NaNs and signed zeros land the same
 * way in both), averages summed from 0 and divided by the count. */
static void pool_exact_case(int is_max, int c, int h, int w, int k_h, int k_w, int sh, int sw,
                            int dh, int dw, int pt, int pl, int pb, int pr, int cip)
{
    static float want[MAXN];
    tb_pool_params p;
    int i = 0, pc, oh, ow, kh, kw, ny;
    memset(&p, 0, sizeof p);
    p.n = 1; p.c = c; p.h_in = h; p.w_in = w; p.k_h = k_h; p.k_w = k_w;
    p.stride_h = sh; p.stride_w = sw; p.dil_h = dh; p.dil_w = dw;
    p.pad_top = pt; p.pad_left = pl; p.pad_bottom = pb; p.pad_right = pr;
    p.count_include_pad = cip;
    p.h_out = out_size(h, pt, pb, k_h, sh, dh);
    p.w_out = out_size(w, pl, pr, k_w, sw, dw);
    ny = c * p.h_out * p.w_out;
    if (p.h_out <= 0 || p.w_out <= 0 || ny > MAXN || c * h * w > MAXN) {
        printf("FAIL pool exact #%d: bad test case\n", g_pool_id++);
        g_fail++;
        return;
    }
    fill(X, c * h * w);
    for (i = 0; i < c * h * w; i++) /* NaNs and zeros of both signs, small values collide */
        X[i] = i % 13 == 5 ? NAN : i % 7 == 3 ? 0.0f : i % 7 == 4 ? -0.0f : (float)(int)(X[i] * 4.0f);
    i = 0;
    for (pc = 0; pc < c; pc++)
        for (oh = 0; oh < p.h_out; oh++)
            for (ow = 0; ow < p.w_out; ow++, i++) {
                float acc = 0.0f;
                int cnt = 0, cnt_pad = 0;
                for (kh = 0; kh < k_h; kh++)
                    for (kw = 0; kw < k_w; kw++) {
                        int ih = oh * sh - pt + kh * dh, iw = ow * sw - pl + kw * dw;
                        float v;
                        if (ih >= -pt && ih < h + pb && iw >= -pl && iw < w + pr)
                            cnt_pad++;
                        if (ih < 0 || ih >= h || iw < 0 || iw >= w)
                            continue;
                        v = X[(pc * h + ih) * w + iw];
                        if (is_max)
                            acc = cnt == 0 || v > acc ? v : acc;
                        else
                            acc += v;
                        cnt++;
                    }
                if (!is_max && cnt)
                    acc /= (float)(cip ? cnt_pad : cnt);
                want[i] = acc;
            }
    poison();
    (is_max ? tb_maxpool_f32 : tb_avgpool_f32)(&p, X, Y);
    for (i = 0; i < ny && memcmp(&Y[i], &want[i], sizeof(float)) == 0; i++)
        ;
    if (i < ny) {
        printf("FAIL pool exact #%d: y[%d] = %.9g, want %.9g\n", g_pool_id, i, (double)Y[i], (double)want[i]);
        g_fail++;
    } else if (Y[ny] != SENTINEL) {
        printf("FAIL pool exact #%d: wrote past the output\n", g_pool_id);
        g_fail++;
    } else {
        g_pass++;
    }
    g_pool_id++;
}

static void test_pool_exact(void)
{
    int mx, cip, t;
    for (mx = 0; mx < 2; mx++)
        for (cip = 0; cip < 2; cip++) {
            /*                    c   h   w kh kw sh sw dh dw pt pl pb pr */
            pool_exact_case(mx, 3, 20, 41, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, cip); /* ResNet's 3x3 s2 p1 */
            pool_exact_case(mx, 2, 9, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, cip);  /* stride 1 */
            pool_exact_case(mx, 2, 9, 50, 2, 4, 2, 3, 1, 1, 0, 2, 1, 3, cip);  /* stride 3, asym pads */
            pool_exact_case(mx, 2, 11, 45, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, cip); /* dilation 2 */
            pool_exact_case(mx, 1, 5, 37, 5, 5, 1, 2, 1, 1, 2, 2, 2, 2, cip);  /* 5x5, no interior rows */
            pool_exact_case(mx, 2, 4, 33, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, cip);  /* no padding */
        }
    for (t = 0; t < 40; t++) {
        pool_geometry q = random_pool_geometry(12, 60);
        pool_exact_case(t % 2, irand(1, 3), q.h, q.w, q.k_h, q.k_w, irand(1, 3), irand(1, 3), q.dh, q.dw,
                        q.pt, q.pl, q.pb, q.pr, irand(0, 1));
    }
}

/* ---- batchnorm / softmax / reduce ---- */

static void test_batchnorm(void)
{
    static const int shapes[][3] = {{2, 3, 5}, {1, 4, 1}, {3, 1, 7}, {1, 8, 16}};
    tb_batchnorm_params p;
    float sc[8], bi[8], me[8], va[8];
    int s, n, c, i, k = 0;
    for (s = 0; s < 4; s++) {
        memset(&p, 0, sizeof p);
        p.n = shapes[s][0]; p.c = shapes[s][1]; p.inner = shapes[s][2];
        p.epsilon = s == 1 ? 1e-3f : 1e-5f;
        fill(X, p.n * p.c * p.inner);
        for (c = 0; c < p.c; c++) {
            sc[c] = frand() * 2;
            bi[c] = frand();
            me[c] = frand();
            va[c] = fabsf(frand()) + (c == 0 ? 0.0f : 0.1f); /* var may be ~0 */
        }
        for (n = 0, k = 0; n < p.n; n++)
            for (c = 0; c < p.c; c++)
                for (i = 0; i < p.inner; i++, k++) {
                    double sd = sqrt((double)va[c] + p.epsilon);
                    double a = ((double)X[k] - me[c]) / sd * sc[c];
                    R[k] = a + bi[c];
                    M[k] = (fabs((double)X[k]) + fabs((double)me[c])) / sd * fabs((double)sc[c]) +
                           fabs((double)bi[c]);
                }
        poison();
        tb_batchnorm_f32(&p, X, sc, bi, me, va, Y);
        check_f("batchnorm", s, Y, R, M, k);
    }
}

static void test_softmax(void)
{
    static const int shapes[][3] = {{1, 10, 1}, {3, 5, 1}, {2, 4, 3}, {1, 1, 6}, {2, 7, 5}};
    tb_softmax_params p;
    int s, o, a, i, n;
    for (s = 0; s < 7; s++) {
        const int *sh = shapes[s < 5 ? s : s - 5];
        memset(&p, 0, sizeof p);
        p.outer = sh[0]; p.axis = sh[1]; p.inner = sh[2];
        n = p.outer * p.axis * p.inner;
        fill(X, n);
        if (s == 5) /* huge logits: exp would overflow without subtracting the max */
            for (i = 0; i < n; i++)
                X[i] = X[i] * 100.0f + 1000.0f;
        if (s == 6)
            for (i = 0; i < n; i++)
                X[i] = X[i] * 100.0f - 1000.0f;
        for (o = 0; o < p.outer; o++)
            for (i = 0; i < p.inner; i++) {
                double mx = -HUGE_VAL, sum = 0;
                for (a = 0; a < p.axis; a++) {
                    double v = X[(o * p.axis + a) * p.inner + i];
                    mx = v > mx ? v : mx;
                }
                for (a = 0; a < p.axis; a++)
                    sum += exp(X[(o * p.axis + a) * p.inner + i] - mx);
                for (a = 0; a < p.axis; a++) {
                    int k = (o * p.axis + a) * p.inner + i;
                    R[k] = exp(X[k] - mx) / sum;
                }
            }
        poison();
        tb_softmax_f32(&p, X, Y);
        check_f("softmax", s, Y, R, NULL, n);
        poison();
        memcpy(Y, X, sizeof(float) * (size_t)n);
        tb_softmax_f32(&p, Y, Y); /* in place */
        check_f("softmax_inplace", s, Y, R, NULL, n);
    }
}

static int g_reduce_id;
/* mask bit d set: axis d reduced */
static void reduce_case(int op, int rank, const int32_t *dims, unsigned mask)
{
    tb_reduce_params p;
    int32_t od[TB_RT_MAX_RANK] = {0}, ost[TB_RT_MAX_RANK], idx[TB_RT_MAX_RANK];
    int d, i, n, no;
    memset(&p, 0, sizeof p);
    p.op = op;
    p.rank = rank;
    p.reduced = 1;
    for (d = 0; d < rank; d++) {
        p.dims[d] = dims[d];
        od[d] = (mask >> d) & 1 ? 1 : dims[d];
        if ((mask >> d) & 1)
            p.reduced *= dims[d];
    }
    dense_strides(rank, od, ost);
    for (d = 0; d < rank; d++)
        p.out_strides[d] = (mask >> d) & 1 ? 0 : ost[d];
    no = p.out_count = prod(rank, od);
    n = prod(rank, dims);
    fill(X, n);
    if (op == TB_REDUCE_LOGSUM) /* a positive sum */
        for (i = 0; i < n; i++)
            X[i] = fabsf(X[i]) + 0.01f;
    for (i = 0; i < no; i++) {
        R[i] = op == TB_REDUCE_MAX ? -HUGE_VAL : op == TB_REDUCE_MIN ? HUGE_VAL : op == TB_REDUCE_PROD ? 1.0 : 0.0;
        M[i] = 0;
    }
    /* every input element, by explicit multi-index, to its output element */
    for (i = 0; i < n; i++) {
        int o = 0;
        double v = X[i];
        unravel(i, rank, dims, idx);
        for (d = 0; d < rank; d++)
            o += (mask >> d) & 1 ? 0 : idx[d] * ost[d];
        if (op == TB_REDUCE_MAX)
            R[o] = v > R[o] ? v : R[o];
        else if (op == TB_REDUCE_MIN)
            R[o] = v < R[o] ? v : R[o];
        else if (op == TB_REDUCE_PROD)
            R[o] *= v;
        else if (op == TB_REDUCE_L1)
            R[o] += fabs(v);
        else if (op == TB_REDUCE_L2 || op == TB_REDUCE_SUMSQUARE)
            R[o] += v * v;
        else if (op == TB_REDUCE_LOGSUMEXP)
            R[o] += exp(v);
        else
            R[o] += v;
        M[o] += op == TB_REDUCE_LOGSUMEXP ? exp(v) : op == TB_REDUCE_L2 || op == TB_REDUCE_SUMSQUARE ? v * v : fabs(v);
    }
    if (op == TB_REDUCE_PROD)
        for (i = 0; i < no; i++)
            M[i] = fabs(R[i]);
    if (op == TB_REDUCE_L2)
        for (i = 0; i < no; i++) {
            R[i] = sqrt(R[i]);
            M[i] = sqrt(M[i]);
        }
    if (op == TB_REDUCE_LOGSUM || op == TB_REDUCE_LOGSUMEXP)
        for (i = 0; i < no; i++) {
            /* d log(s) = ds / s: the sum's relative error becomes absolute */
            M[i] = M[i] / fabs(R[i]) + fabs(log(fabs(R[i])));
            R[i] = log(R[i]);
        }
    if (op == TB_REDUCE_MEAN)
        for (i = 0; i < no; i++) {
            R[i] /= p.reduced;
            M[i] /= p.reduced;
        }
    poison();
    tb_reduce_f32(&p, X, Y);
    check_f("reduce", g_reduce_id++, Y, R, M, no);
}

static void test_reduce(void)
{
    static const int32_t d234[] = {2, 3, 4}, d2315[] = {2, 3, 1, 5}, d1[] = {1};
    static const int32_t d7[] = {7}, d3333[] = {3, 3, 3, 3};
    int op, t, d;
    for (op = 0; op <= TB_REDUCE_LOGSUMEXP; op++) {
        reduce_case(op, 3, d234, 2u);   /* middle axis */
        reduce_case(op, 3, d234, 5u);   /* outer + inner */
        reduce_case(op, 3, d234, 7u);   /* all */
        reduce_case(op, 3, d234, 4u);   /* last */
        reduce_case(op, 3, d234, 1u);   /* first */
        reduce_case(op, 3, d234, 0u);   /* none */
        reduce_case(op, 4, d2315, 12u); /* global pool style, with a size-1 axis */
        reduce_case(op, 4, d3333, 10u); /* alternating */
        reduce_case(op, 1, d7, 1u);
        reduce_case(op, 0, d1, 0u);     /* rank 0 */
    }
    for (t = 0; t < 20; t++) {
        int32_t dims[TB_RT_MAX_RANK];
        int rank = irand(1, 5);
        for (d = 0; d < rank; d++)
            dims[d] = irand(1, 4);
        reduce_case(irand(0, TB_REDUCE_LOGSUMEXP), rank, dims, rnd() & ((1u << rank) - 1));
    }
}

/* ---- the kernels added for the wider operator set ---- */

/* tb_binary_any against the obvious per-element formula on integers,
 * including the wrap, division-by-zero and sign-of-remainder corners. */
static int64_t ref_int(int op, int64_t u, int64_t v)
{
    int64_t r;
    switch (op) {
    case TB_BINARY_ADD: return u + v;
    case TB_BINARY_SUB: return u - v;
    case TB_BINARY_MUL: return u * v;
    case TB_BINARY_DIV: return v == 0 ? 0 : u / v;
    case TB_BINARY_MAX: return u > v ? u : v;
    case TB_BINARY_MIN: return u < v ? u : v;
    case TB_BINARY_FMOD: return v == 0 ? 0 : u % v;
    case TB_BINARY_MOD:
        if (v == 0) return 0;
        r = u % v;
        return r != 0 && ((r < 0) != (v < 0)) ? r + v : r;
    case TB_BINARY_PRELU: return u < 0 ? u * v : u;
    case TB_BINARY_EQ: return u == v;
    case TB_BINARY_GT: return u > v;
    case TB_BINARY_LT: return u < v;
    case TB_BINARY_GE: return u >= v;
    case TB_BINARY_LE: return u <= v;
    case TB_BINARY_AND: return u && v;
    case TB_BINARY_OR: return u || v;
    case TB_BINARY_XOR: return !u != !v;
    default: { /* POW with a small non-negative exponent */
        int64_t p = 1, k;
        for (k = 0; k < v; k++) p *= u;
        return p;
    }
    }
}

static void test_binary_any(void)
{
    static const int types[] = {3, 5, 6, 7, 2};  /* i8 i16 i32 i64 u8 */
    int ti, op, i, n = 60, id = 0;
    tb_binary_any_params p;
    int64_t a[64], b[64];
    for (ti = 0; ti < 5; ti++) {
        const int t = types[ti];
        for (op = TB_BINARY_ADD; op <= TB_BINARY_XOR; op++) {
            unsigned char ab[512], bb[512], yb[512], wb[512];
            int es = t == 3 || t == 2 ? 1 : t == 5 ? 2 : t == 6 ? 4 : 8, oes;
            memset(&p, 0, sizeof p);
            p.op = op;
            p.dtype = p.b_dtype = t;
            p.count = n;
            p.rank = 1;
            p.dims[0] = n;
            p.a_strides[0] = p.b_strides[0] = 1;
            for (i = 0; i < n; i++) {
                a[i] = irand(t == 2 ? 0 : -9, 9);
                b[i] = op == TB_BINARY_POW ? irand(0, 3) : irand(t == 2 ? 0 : -4, 4);
                if (op >= TB_BINARY_AND) {
                    a[i] = a[i] > 0;
                    b[i] = b[i] > 0;
                }
            }
            oes = op >= TB_BINARY_EQ ? 1 : es;
            for (i = 0; i < n; i++) {
                int64_t w = ref_int(op, a[i], b[i]);
                /* little-endian truncation into the element, as the kernel stores */
                memcpy(ab + i * es, &a[i], (size_t)es);
                memcpy(bb + i * es, &b[i], (size_t)es);
                memcpy(wb + i * oes, &w, (size_t)oes);
            }
            if (t == 2 && (op == TB_BINARY_SUB || op == TB_BINARY_PRELU))
                continue; /* the int64 reference of a negative difference is not the u8 one */
            tb_binary_any(&p, ab, bb, yb);
            check_bytes("binary_any", id++, yb, wb, n * oes);
        }
    }
    /* float32 MOD / FMOD / POW with an int64 exponent / comparison on NaN */
    {
        float af[4] = {-7.5f, 7.5f, -7.5f, NAN}, bf[4] = {2.0f, -2.0f, -2.0f, 1.0f}, yf[4];
        int64_t e[4] = {2, 3, 0, 1};
        uint8_t yb[4];
        static const uint8_t want_gt[4] = {0, 1, 0, 0};
        double wm[4] = {0.5, -0.5, -1.5, NAN}, wf[4] = {-1.5, 1.5, -1.5, NAN};
        double wp[4] = {56.25, 421.875, 1.0, NAN};
        memset(&p, 0, sizeof p);
        p.dtype = p.b_dtype = 1;
        p.count = 4;
        p.rank = 1;
        p.dims[0] = 4;
        p.a_strides[0] = p.b_strides[0] = 1;
        p.op = TB_BINARY_MOD;
        tb_binary_any(&p, af, bf, yf);
        check_f("binary_any_f32_mod", 0, yf, wm, NULL, 4);
        p.op = TB_BINARY_FMOD;
        tb_binary_any(&p, af, bf, yf);
        check_f("binary_any_f32_fmod", 0, yf, wf, NULL, 4);
        p.op = TB_BINARY_GT;
        tb_binary_any(&p, af, bf, yb);
        check_bytes("binary_any_f32_gt", 0, yb, want_gt, 4);
        p.op = TB_BINARY_POW;
        p.b_dtype = 7;
        tb_binary_any(&p, af, e, yf);
        check_f("binary_any_f32_pow_i64", 0, yf, wp, NULL, 4);
    }
}

static void test_where(void)
{
    /* cond [2,1] broadcast over x [1,3] and y [2,3] */
    static const uint8_t cond[2] = {1, 0};
    static const float x[3] = {1, 2, 3}, y[6] = {10, 20, 30, 40, 50, 60};
    static const double want[6] = {1, 2, 3, 40, 50, 60};
    tb_where_params p;
    memset(&p, 0, sizeof p);
    p.elem_size = 4;
    p.rank = 2;
    p.dims[0] = 2, p.dims[1] = 3;
    p.c_strides[0] = 1, p.c_strides[1] = 0;
    p.x_strides[0] = 0, p.x_strides[1] = 1;
    p.y_strides[0] = 3, p.y_strides[1] = 1;
    poison();
    tb_where(&p, cond, x, y, Y);
    check_f("where", 0, Y, want, NULL, 6);
}

static void test_unary_bool(void)
{
    static const float x[6] = {0.0f, NAN, INFINITY, -INFINITY, 1.0f, -FLT_MAX};
    static const uint8_t w_nan[6] = {0, 1, 0, 0, 0, 0}, w_inf[6] = {0, 0, 1, 1, 0, 0};
    static const uint8_t w_pos[6] = {0, 0, 1, 0, 0, 0}, b[3] = {0, 1, 0}, w_not[3] = {1, 0, 1};
    uint8_t y[6];
    tb_unary_bool_params p;
    memset(&p, 0, sizeof p);
    p.count = 6;
    p.op = TB_UNARY_BOOL_ISNAN;
    tb_unary_bool(&p, x, y);
    check_bytes("isnan", 0, y, w_nan, 6);
    p.op = TB_UNARY_BOOL_ISINF;
    p.detect_negative = p.detect_positive = 1;
    tb_unary_bool(&p, x, y);
    check_bytes("isinf", 0, y, w_inf, 6);
    p.detect_negative = 0;
    tb_unary_bool(&p, x, y);
    check_bytes("isinf", 1, y, w_pos, 6);
    p.op = TB_UNARY_BOOL_NOT;
    p.count = 3;
    tb_unary_bool(&p, b, y);
    check_bytes("not", 0, y, w_not, 3);
}

/* LogSoftmax, Hardmax and ArgMax/ArgMin over the middle axis of [2, 5, 3]. */
static void test_axis_kernels(void)
{
    tb_softmax_params p;
    tb_argreduce_params q;
    int o, i, j, n = 30, op, last;
    int64_t yi[16], wi[16];
    p.outer = 2, p.axis = 5, p.inner = 3;
    fill(X, n);
    X[3] = X[0] = 0.75f; /* a tie at j = 0 and 1 in column 0 */
    for (o = 0; o < 2; o++)
        for (i = 0; i < 3; i++) {
            double mx = -HUGE_VAL, sum = 0;
            int best = 0;
            for (j = 0; j < 5; j++) {
                double v = X[(o * 5 + j) * 3 + i];
                if (v > mx) mx = v, best = j;
            }
            for (j = 0; j < 5; j++)
                sum += exp(X[(o * 5 + j) * 3 + i] - mx);
            for (j = 0; j < 5; j++) {
                R[(o * 5 + j) * 3 + i] = X[(o * 5 + j) * 3 + i] - mx - log(sum);
                M[(o * 5 + j) * 3 + i] = j == best;
            }
        }
    poison();
    tb_logsoftmax_f32(&p, X, Y);
    check_f("logsoftmax", 0, Y, R, NULL, n);
    poison();
    tb_hardmax_f32(&p, X, Y);
    check_f("hardmax", 0, Y, M, NULL, n);
    for (op = TB_ARG_MAX; op <= TB_ARG_MIN; op++)
        for (last = 0; last <= 1; last++) {
            q.op = op, q.outer = 2, q.axis = 5, q.inner = 3, q.select_last = last;
            for (o = 0; o < 2; o++)
                for (i = 0; i < 3; i++) {
                    int best = 0;
                    for (j = 1; j < 5; j++) {
                        float v = X[(o * 5 + j) * 3 + i], bv = X[(o * 5 + best) * 3 + i];
                        if (op == TB_ARG_MAX ? (v > bv || (last && v == bv)) : (v < bv || (last && v == bv)))
                            best = j;
                    }
                    wi[o * 3 + i] = best;
                }
            tb_argreduce_f32(&q, X, yi);
            check_i64("argreduce", op * 2 + last, yi, wi, 6);
        }
}

static void test_norms(void)
{
    tb_instancenorm_params ip;
    tb_layernorm_params lp;
    tb_lrn_params rp;
    int n, c, i, k, nn = 2, cc = 3, inner = 7;
    float scale[8], bias[8];
    fill(X, nn * cc * inner);
    fill(scale, 8);
    fill(bias, 8);
    for (n = 0; n < nn; n++)
        for (c = 0; c < cc; c++) {
            const float *x = X + (n * cc + c) * inner;
            double m = 0, v = 0;
            for (i = 0; i < inner; i++) m += x[i];
            m /= inner;
            for (i = 0; i < inner; i++) v += (x[i] - m) * (x[i] - m);
            v /= inner;
            for (i = 0; i < inner; i++) {
                R[(n * cc + c) * inner + i] = (x[i] - m) / sqrt(v + 1e-5) * scale[c] + bias[c];
                M[(n * cc + c) * inner + i] = 4.0;
            }
        }
    ip.n = nn, ip.c = cc, ip.inner = inner, ip.epsilon = 1e-5f;
    poison();
    tb_instancenorm_f32(&ip, X, scale, bias, Y);
    check_f("instancenorm", 0, Y, R, M, nn * cc * inner);
    /* layer norm over rows of 7 (6 rows), scale/bias per element of the row */
    for (n = 0; n < 6; n++) {
        const float *x = X + n * inner;
        double m = 0, v = 0;
        for (i = 0; i < inner; i++) m += x[i];
        m /= inner;
        for (i = 0; i < inner; i++) v += (x[i] - m) * (x[i] - m);
        v /= inner;
        for (i = 0; i < inner; i++)
            R[n * inner + i] = (x[i] - m) / sqrt(v + 1e-5) * scale[i] + bias[i];
        M[100 + n] = m;
        M[200 + n] = 1.0 / sqrt(v + 1e-5);
    }
    lp.outer = 6, lp.inner = inner, lp.epsilon = 1e-5f, lp.which = 0;
    poison();
    tb_layernorm_f32(&lp, X, scale, bias, Y);
    for (i = 0; i < 42; i++) M[i] = 4.0;
    check_f("layernorm", 0, Y, R, M, 42);
    poison();
    tb_layernorm_stats_f32(&lp, X, Y);
    check_f("layernorm_mean", 0, Y, M + 100, NULL, 6);
    lp.which = 1;
    poison();
    tb_layernorm_stats_f32(&lp, X, Y);
    check_f("layernorm_invstd", 0, Y, M + 200, NULL, 6);
    /* LRN, size 3 (one channel each side) over [2, 3, 7] */
    rp.n = nn, rp.c = cc, rp.inner = inner, rp.size = 3, rp.alpha = 0.5f, rp.beta = 0.75f, rp.bias = 1.0f;
    for (n = 0; n < nn; n++)
        for (c = 0; c < cc; c++)
            for (i = 0; i < inner; i++) {
                double sq = 0;
                for (k = c - 1; k <= c + 1; k++)
                    if (k >= 0 && k < cc) sq += (double)X[(n * cc + k) * inner + i] * X[(n * cc + k) * inner + i];
                R[(n * cc + c) * inner + i] = X[(n * cc + c) * inner + i] / pow(1.0 + 0.5 / 3 * sq, 0.75);
            }
    poison();
    tb_lrn_f32(&rp, X, Y);
    check_f("lrn", 0, Y, R, NULL, nn * cc * inner);
}

static void test_gather_elements_trilu(void)
{
    /* x [3, 2] gathered along axis 0 by indices [2, 2] (one negative) */
    static const float x[6] = {1, 2, 3, 4, 5, 6};
    static const int64_t idx[4] = {2, 0, -1, 1};
    static const double want[4] = {5, 2, 5, 4};
    static const double tri_u[12] = {1, 2, 3, 4, 5, 6, 7, 8, 0, 10, 11, 12};
    static const double tri_l[12] = {1, 2, 0, 0, 5, 6, 7, 0, 9, 10, 11, 12};
    tb_gather_elements_params p;
    tb_trilu_params t;
    int64_t k = -1;
    int i;
    memset(&p, 0, sizeof p);
    p.elem_size = 4, p.index_size = 8, p.rank = 2, p.axis = 0, p.x_axis_len = 3;
    p.dims[0] = 2, p.dims[1] = 2;
    p.x_strides[0] = 2, p.x_strides[1] = 1;
    poison();
    tb_gather_elements(&p, x, idx, Y);
    check_f("gather_elements", 0, Y, want, NULL, 4);
    for (i = 0; i < 12; i++) X[i] = (float)(i + 1);
    t.elem_size = 4, t.batch = 1, t.rows = 3, t.cols = 4, t.k = 0, t.upper = 1;
    poison();
    tb_trilu(&t, X, &k, Y); /* k = -1 from the pointer */
    check_f("trilu", 0, Y, tri_u, NULL, 12);
    t.upper = 0, t.k = 1;
    poison();
    tb_trilu(&t, X, NULL, Y);
    check_f("trilu", 1, Y, tri_l, NULL, 12);
}

/* ---- copy / gather / pad / cast ---- */

static int g_copy_id;
/* Copies with the given strides; the reference walks every index explicitly.
 * x holds bytes 0..; y starts filled with 0xEE so stray writes show. */
static void copy_case(int es, int rank, const int32_t *dims, const int32_t *in_st, int in_off,
                      const int32_t *out_st, int out_off, int y_bytes)
{
    static unsigned char xb[MAXN], yb[MAXN], rb[MAXN];
    tb_copy_params p;
    int32_t idx[TB_RT_MAX_RANK];
    int d, i, n;
    memset(&p, 0, sizeof p);
    p.elem_size = es;
    p.rank = rank;
    p.in_offset = in_off;
    p.out_offset = out_off;
    for (d = 0; d < rank; d++) {
        p.dims[d] = dims[d];
        p.in_strides[d] = in_st[d];
        p.out_strides[d] = out_st[d];
    }
    for (i = 0; i < MAXN; i++)
        xb[i] = (unsigned char)(rnd() & 0xff);
    memset(yb, 0xEE, (size_t)y_bytes + GUARD);
    memset(rb, 0xEE, (size_t)y_bytes + GUARD);
    n = prod(rank, dims);
    for (i = 0; i < n; i++) {
        int io = in_off, oo = out_off;
        unravel(i, rank, dims, idx);
        for (d = 0; d < rank; d++) {
            io += idx[d] * in_st[d];
            oo += idx[d] * out_st[d];
        }
        memcpy(rb + oo * es, xb + io * es, (size_t)es);
    }
    tb_copy(&p, xb, yb);
    check_bytes("copy", g_copy_id++, yb, rb, y_bytes + GUARD);
}

static void test_copy(void)
{
    int32_t dims[TB_RT_MAX_RANK], is[TB_RT_MAX_RANK], os[TB_RT_MAX_RANK], src[TB_RT_MAX_RANK];
    static const int sizes[] = {1, 2, 4, 8, 3};
    int e, t, d;
    for (e = 0; e < 5; e++) {
        int es = sizes[e];
        /* plain dense copy of [2,3,4] */
        dims[0] = 2; dims[1] = 3; dims[2] = 4;
        dense_strides(3, dims, is);
        copy_case(es, 3, dims, is, 0, is, 0, 24 * es);
        /* transpose [2,3,4] -> [4,2,3]: iterate output dims, read permuted */
        src[0] = 2; src[1] = 3; src[2] = 4;
        dense_strides(3, src, is);
        dims[0] = 4; dims[1] = 2; dims[2] = 3;
        {
            int32_t ist[3];
            ist[0] = is[2]; ist[1] = is[0]; ist[2] = is[1];
            dense_strides(3, dims, os);
            copy_case(es, 3, dims, ist, 0, os, 0, 24 * es);
        }
        /* slice x[1:3, ::-2, 1:] of [3,5,4] (negative stride, offset) */
        src[0] = 3; src[1] = 5; src[2] = 4;
        dense_strides(3, src, is);
        dims[0] = 2; dims[1] = 3; dims[2] = 3;
        {
            int32_t ist[3];
            ist[0] = is[0]; ist[1] = -2 * is[1]; ist[2] = is[2];
            dense_strides(3, dims, os);
            copy_case(es, 3, dims, ist, 1 * is[0] + 4 * is[1] + 1, os, 0, 18 * es);
        }
        /* expand [3,1] -> [2,3,4] (stride 0) */
        dims[0] = 2; dims[1] = 3; dims[2] = 4;
        is[0] = 0; is[1] = 1; is[2] = 0;
        dense_strides(3, dims, os);
        copy_case(es, 3, dims, is, 0, os, 0, 24 * es);
        /* concat: [2,3] into columns 2..4 of a [2,6] output */
        dims[0] = 2; dims[1] = 3;
        is[0] = 3; is[1] = 1;
        os[0] = 6; os[1] = 1;
        copy_case(es, 2, dims, is, 0, os, 2, 12 * es);
        /* rank 0: one element at offsets */
        copy_case(es, 0, dims, is, 5, os, 3, 8 * es);
    }
    /* random permutations of random shapes */
    for (t = 0; t < 20; t++) {
        int rank = irand(1, 6), perm[TB_RT_MAX_RANK], i;
        int32_t ist[TB_RT_MAX_RANK];
        for (d = 0; d < rank; d++) {
            src[d] = irand(1, 4);
            perm[d] = d;
        }
        for (d = rank - 1; d > 0; d--) {
            int j = irand(0, d), tmp = perm[d];
            perm[d] = perm[j];
            perm[j] = tmp;
        }
        dense_strides(rank, src, is);
        for (d = 0; d < rank; d++) {
            dims[d] = src[perm[d]];
            ist[d] = is[perm[d]];
        }
        dense_strides(rank, dims, os);
        i = prod(rank, dims);
        copy_case(sizes[t % 5], rank, dims, ist, 0, os, 0, i * sizes[t % 5]);
    }
}

static void test_gather(void)
{
    /* out-of-range indices last, so an overlong zero fill shows */
    static const int32_t i32[] = {2, -1, 0, 5, -4, 3, -5};
    static const int64_t i64[] = {-3, 1, 4, 0, -6};
    tb_gather_params p;
    static float xf[60], yf[200], rf[200];
    static int64_t xl[60], yl[200], rl[200];
    int o, j, k, in, axis_len, inner, outer, cs, isz;
    for (k = 0; k < 60; k++) {
        xf[k] = frand();
        xl[k] = (int64_t)rnd() * 1000003 - 7;
    }
    for (cs = 0; cs < 6; cs++) {
        const int shapes[3][3] = {{1, 4, 5}, {3, 4, 5}, {12, 4, 1}};
        outer = shapes[cs % 3][0];
        axis_len = shapes[cs % 3][1];
        inner = shapes[cs % 3][2];
        for (isz = 4; isz <= 8; isz += 4) {
            const int n_index = isz == 4 ? 7 : 5;
            memset(&p, 0, sizeof p);
            p.outer = outer; p.axis_len = axis_len; p.inner = inner;
            p.n_index = n_index; p.index_size = isz;
            p.elem_size = cs < 3 ? 4 : 8;
            memset(yf, 0x5A, sizeof yf); /* the tails beyond k stay equal */
            memset(rf, 0x5A, sizeof rf);
            memset(yl, 0x5A, sizeof yl);
            memset(rl, 0x5A, sizeof rl);
            for (o = 0, k = 0; o < outer; o++)
                for (j = 0; j < n_index; j++) {
                    int64_t ix = isz == 4 ? i32[j] : i64[j];
                    if (ix < 0)
                        ix += axis_len;
                    for (in = 0; in < inner; in++, k++) {
                        int ok = ix >= 0 && ix < axis_len;
                        int src = (o * axis_len + (int)ix) * inner + in;
                        rf[k] = ok ? xf[src] : 0.0f;
                        rl[k] = ok ? xl[src] : 0;
                    }
                }
            if (cs < 3) {
                tb_gather(&p, xf, isz == 4 ? (const void *)i32 : (const void *)i64, yf);
                check_bytes("gather", cs * 2 + isz / 8, yf, rf, (int)sizeof yf);
            } else {
                tb_gather(&p, xl, isz == 4 ? (const void *)i32 : (const void *)i64, yl);
                check_bytes("gather", cs * 2 + isz / 8, yl, rl, (int)sizeof yl);
            }
        }
    }
}

/* numpy-style index for pad position s in a dim of length n: reflect bounces
 * off both ends (edge not repeated) until inside; edge clamps */
static int pad_src(int s, int n, int mode)
{
    if (s >= 0 && s < n)
        return s;
    if (mode == TB_PAD_CONSTANT)
        return -1;
    if (mode == TB_PAD_EDGE)
        return s < 0 ? 0 : n - 1;
    if (n == 1)
        return 0;
    while (s < 0 || s >= n) {
        if (s < 0)
            s = -s;
        if (s >= n)
            s = 2 * (n - 1) - s;
    }
    return s;
}

static int g_pad_id;
static void pad_case(int mode, int rank, const int32_t *in_dims, const int32_t *pb, const int32_t *pe)
{
    tb_pad_params p;
    int32_t idx[TB_RT_MAX_RANK], ist[TB_RT_MAX_RANK];
    int d, i, n, nin;
    memset(&p, 0, sizeof p);
    p.mode = mode;
    p.rank = rank;
    p.value = 2.5f;
    for (d = 0; d < rank; d++) {
        p.in_dims[d] = in_dims[d];
        p.pads_begin[d] = pb[d];
        p.out_dims[d] = in_dims[d] + pb[d] + pe[d];
    }
    nin = prod(rank, in_dims);
    n = prod(rank, p.out_dims);
    dense_strides(rank, in_dims, ist);
    fill(X, nin);
    for (i = 0; i < n; i++) {
        int off = 0, out = 0;
        unravel(i, rank, p.out_dims, idx);
        for (d = 0; d < rank; d++) {
            int s = pad_src(idx[d] - pb[d], in_dims[d], mode);
            if (s < 0)
                out = 1;
            off += s * ist[d];
        }
        R[i] = out ? p.value : X[off];
    }
    poison();
    tb_pad_f32(&p, X, Y);
    check_f("pad", g_pad_id++, Y, R, NULL, n);
}

static void test_pad(void)
{
    static const int32_t d23[] = {2, 3}, z2[] = {0, 0}, p11[] = {1, 1}, p12[] = {1, 2};
    static const int32_t d4[] = {4}, p0[] = {0}, p3[] = {3}, p7[] = {7}, p9[] = {9};
    static const int32_t d1[] = {1}, p2[] = {2};
    static const int32_t d1234[] = {1, 2, 3, 4}, pA[] = {0, 0, 1, 1}, pB[] = {0, 1, 2, 1};
    static const int32_t d34[] = {3, 4}, pn[] = {-1, 1}, pm[] = {2, -2};
    static const int32_t pc[] = {0, 1}, pd[] = {0, -2}, pe[] = {0, 5}, pf[] = {0, -6};
    int mode, t, d;
    for (mode = 0; mode < 3; mode++) {
        pad_case(mode, 2, d23, p11, p11);
        pad_case(mode, 2, d23, p12, z2);
        pad_case(mode, 1, d4, p3, p3);     /* reflect limit: pad = n-1 */
        pad_case(mode, 1, d4, p7, p9);     /* pads wider than the input */
        pad_case(mode, 1, d4, p0, p0);
        pad_case(mode, 1, d1, p2, p3);     /* single element */
        pad_case(mode, 4, d1234, pA, pB);  /* NCHW spatial pad */
        pad_case(mode, 4, d1234, pB, pA);
        pad_case(mode, 0, d1, p0, p0);     /* rank 0 */
    }
    /* negative pads crop (constant mode) */
    pad_case(TB_PAD_CONSTANT, 2, d34, pn, pm);
    pad_case(TB_PAD_CONSTANT, 2, d34, pm, pn);
    pad_case(TB_PAD_CONSTANT, 2, d34, pc, pd); /* row cropped at its end */
    pad_case(TB_PAD_CONSTANT, 2, d34, pe, pf); /* begin pad past the whole output */
    for (t = 0; t < 30; t++) {
        int32_t dims[TB_RT_MAX_RANK], b[TB_RT_MAX_RANK], e[TB_RT_MAX_RANK];
        int rank = irand(1, 4);
        for (d = 0; d < rank; d++) {
            dims[d] = irand(1, 5);
            b[d] = irand(0, rank > 2 ? 2 : 6);
            e[d] = irand(0, rank > 2 ? 2 : 6);
        }
        pad_case(t % 3, rank, dims, b, e);
    }
}

static void test_cast(void)
{
    tb_cast_params p;
    int id = 0;
    memset(&p, 0, sizeof p);
#define CAST(FROM, TO, FT, TT, N, SRC, WANT)                                   \
    do {                                                                       \
        static const FT s_[N] = SRC;                                           \
        static const TT w_[N] = WANT;                                          \
        TT y_[N];                                                              \
        memset(y_, 0x5A, sizeof y_);                                           \
        p.count = N; p.from = FROM; p.to = TO;                                 \
        tb_cast(&p, s_, y_);                                                   \
        check_bytes("cast", id++, y_, w_, (int)sizeof y_);                     \
    } while (0)
#define L(...) {__VA_ARGS__}
    /* float -> integers: truncation toward zero, clamp, NaN -> 0 */
    CAST(1, 6, float, int32_t, 9, L(-1.7f, 1.7f, -0.5f, 2.5f, 1e10f, -1e10f, NAN, INFINITY, -INFINITY),
         L(-1, 1, 0, 2, INT32_MAX, INT32_MIN, 0, INT32_MAX, INT32_MIN));
    CAST(1, 7, float, int64_t, 7, L(-1.7f, 123456.75f, -3e9f, 1e30f, -1e30f, NAN, -0.0f),
         L(-1, 123456, -3000000000LL, INT64_MAX, INT64_MIN, 0, 0));
    CAST(1, 2, float, uint8_t, 8, L(-3.5f, -0.9f, 2.9f, 255.9f, 300.0f, NAN, 128.0f, 0.0f),
         L(0, 0, 2, 255, 255, 0, 128, 0));
    CAST(1, 3, float, int8_t, 6, L(-3.5f, -128.7f, 127.9f, 200.0f, -1000.0f, NAN),
         L(-3, -128, 127, 127, -128, 0));
    CAST(1, 4, float, uint16_t, 4, L(-1.0f, 65535.5f, 70000.0f, 1234.9f), L(0, 65535, 65535, 1234));
    CAST(1, 5, float, int16_t, 4, L(-32769.0f, 32767.9f, -7.9f, 40000.0f), L(-32768, 32767, -7, 32767));
    CAST(1, 12, float, uint32_t, 4, L(-5.0f, 4e9f, 5e9f, 3.99f), L(0, 4000000000u, UINT32_MAX, 3));
    CAST(1, 13, float, uint64_t, 4, L(-5.0f, 13835058055282163712.0f, 1e20f, NAN),
         L(0, 13835058055282163712ull, UINT64_MAX, 0));
    CAST(11, 7, double, int64_t, 5, L(-2.9, 9.3e18, -9.3e18, 9007199254740993.0, -9223372036854775808.0),
         L(-2, INT64_MAX, INT64_MIN, 9007199254740992LL, INT64_MIN));
    /* to bool: x != 0 (NaN is nonzero) */
    CAST(1, 9, float, uint8_t, 6, L(0.0f, -0.0f, 0.1f, -2.0f, NAN, INFINITY), L(0, 0, 1, 1, 1, 1));
    CAST(7, 9, int64_t, uint8_t, 4, L(0, 256, -1, 1), L(0, 1, 1, 1));
    /* integer narrowing wraps modulo 2^bits */
    CAST(7, 6, int64_t, int32_t, 4, L(1, -1, 4294967297LL, 2147483648LL), L(1, -1, 1, INT32_MIN));
    CAST(6, 2, int32_t, uint8_t, 4, L(-1, 256, 300, 255), L(255, 0, 44, 255));
    CAST(6, 3, int32_t, int8_t, 3, L(200, -129, 127), L(-56, 127, 127));
    CAST(7, 13, int64_t, uint64_t, 2, L(-1, 5), L(UINT64_MAX, 5));
    /* widening and to float */
    CAST(3, 7, int8_t, int64_t, 3, L(-128, 0, 127), L(-128, 0, 127));
    CAST(2, 6, uint8_t, int32_t, 2, L(255, 7), L(255, 7));
    CAST(12, 7, uint32_t, int64_t, 1, L(4000000000u), L(4000000000LL));
    CAST(6, 1, int32_t, float, 4, L(-7, 16777217, 0, 2147483647), L(-7.0f, 16777216.0f, 0.0f, 2147483648.0f));
    CAST(7, 1, int64_t, float, 2, L(-9007199254740993LL, 36028797018963969LL),
         L(-9007199254740992.0f, 36028797018963968.0f));
    /* 2^53 + 2^29 + 1 rounds up in one step; via double it would tie-round down */
    CAST(7, 1, int64_t, float, 1, L(9007199791611905LL), L(9007200328482816.0f));
    CAST(13, 11, uint64_t, double, 2, L(UINT64_MAX, 3), L(18446744073709551616.0, 3.0));
    CAST(9, 1, uint8_t, float, 2, L(1, 0), L(1.0f, 0.0f));
    CAST(5, 1, int16_t, float, 2, L(-32768, 5), L(-32768.0f, 5.0f));
    CAST(4, 6, uint16_t, int32_t, 1, L(65535), L(65535));
    CAST(1, 11, float, double, 3, L(0.1f, -2.5f, INFINITY), L((double)0.1f, -2.5, HUGE_VAL));
    CAST(11, 1, double, float, 3, L(0.1, -2.5, 1e300), L(0.1f, -2.5f, INFINITY));
    CAST(1, 1, float, float, 2, L(1.5f, -0.0f), L(1.5f, -0.0f)); /* same type */
#undef CAST
#undef L
}

/* ---- quantized kernels (issue 5) ----
 * The requantization helpers are checked against exact 128-bit integer and
 * long double arithmetic; every kernel against a textbook loop that reads
 * padding as the zero point, for int8 and uint8, per tensor and per channel,
 * with multipliers below and above 1 and outputs saturating at both ends. */

__extension__ typedef __int128 i128;

/* round(num / 2^e), ties away from zero (RoundingDivideByPOT), exactly (e >= 0). */
static i128 div_pot_away(i128 num, int e)
{
    i128 d = (i128)1 << e, q, r;
    int neg = num < 0;
    if (neg)
        num = -num;
    q = num / d;
    r = num - q * d;
    if (2 * r >= d)
        q++;
    return neg ? -q : q;
}

/* floor(a * b / 2^31 + 1/2): gemmlowp's nudge and truncating division round
 * to nearest with ties toward +infinity (-0.5 -> 0, 0.5 -> 1). */
static int32_t ref_srdhm(int32_t a, int32_t b)
{
    i128 num, d = (i128)1 << 31, q;
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    num = (i128)a * b + ((i128)1 << 30);
    q = num / d;
    if (q * d > num) /* floor, not truncation */
        q--;
    return (int32_t)q;
}

/* The gemmlowp two-step definition, in exact arithmetic. */
static int32_t ref_requantize(int32_t acc, int32_t m, int32_t shift)
{
    i128 v = acc;
    if (shift > 0) {
        v *= (i128)1 << shift;
        if (v > INT32_MAX)
            v = INT32_MAX;
        if (v < INT32_MIN)
            v = INT32_MIN;
        return ref_srdhm((int32_t)v, m);
    }
    return (int32_t)div_pot_away(ref_srdhm(acc, m), -shift);
}

/* A random multiplier m in [2^30, 2^31) and shift in [lo, hi]. */
static void rand_rq(int32_t *rq, int lo, int hi)
{
    rq[0] = (int32_t)(0x40000000u + (rnd() & 0x3fffffffu));
    rq[1] = irand(lo, hi);
}

static int32_t rand_acc(void)
{
    switch (irand(0, 3)) {
    case 0: return irand(-300, 300);
    case 1: return (int32_t)rnd();
    case 2: return irand(-100000, 100000);
    default: return irand(0, 1) ? INT32_MIN + irand(0, 3) : INT32_MAX - irand(0, 3);
    }
}

static void check_ints(const char *name, int id, const int32_t *got, const int32_t *want, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        if (got[i] != want[i]) {
            printf("FAIL %s #%d: y[%d] = %d, want %d\n", name, id, i, (int)got[i], (int)want[i]);
            g_fail++;
            return;
        }
    }
    g_pass++;
}

static void test_requant_helpers(void)
{
    int i, bad_srdhm = 0, bad_shift = 0, bad_rq = 0, bad_single = 0, ties = 0;
    /* hand-picked: the saturating corner, exact ties of the nudge and of the shift */
    if (tb_srdhm(INT32_MIN, INT32_MIN) != INT32_MAX) bad_srdhm++;
    if (tb_srdhm(1, 1 << 30) != 1 || tb_srdhm(-1, 1 << 30) != 0 || tb_srdhm(-3, 1 << 30) != -1) bad_srdhm++; /* ties up */
    if (tb_rounding_shift(5, 1) != 3 || tb_rounding_shift(-5, 1) != -3 || tb_rounding_shift(-4, 1) != -2 ||
        tb_rounding_shift(7, 0) != 7 || tb_rounding_shift(INT32_MIN, 31) != -1 ||
        tb_rounding_shift(INT32_MAX, 31) != 1)
        bad_shift++;
    /* M = 1 (m = 2^30, shift 1) is the identity; M = 2 (m = 2^30, shift 2)
     * doubles, and the saturated left shift (x4) keeps the sign: +-2^30 */
    if (tb_requantize(-12345, 1 << 30, 1) != -12345 || tb_requantize(-12345, 1 << 30, 2) != -24690 ||
        tb_requantize(INT32_MAX / 2 + 7, 1 << 30, 2) != 1 << 30 ||
        tb_requantize(INT32_MIN / 2 - 7, 1 << 30, 2) != -(1 << 30))
        bad_rq++;
    for (i = 0; i < 200000; i++) {
        int32_t a = rand_acc(), b = (int32_t)rnd(), e = irand(0, 31), rq[2];
        long double single;
        int32_t got;
        if (tb_srdhm(a, b) != ref_srdhm(a, b)) bad_srdhm++;
        if ((i128)tb_rounding_shift(a, e) != div_pot_away(a, e)) bad_shift++;
        rand_rq(rq, -31, 30);
        got = tb_requantize(a, rq[0], rq[1]);
        if (got != ref_requantize(a, rq[0], rq[1])) bad_rq++;
        /* against one rounding of acc * M (long double holds acc * m exactly):
         * equal, except by one where the first rounding made an exact tie */
        if (rq[1] <= 0) {
            long double v = ldexpl((long double)a * rq[0], rq[1] - 31);
            single = v < 0 ? -floorl(-v + 0.5L) : floorl(v + 0.5L);
            if ((long double)got != single) {
                int32_t s1 = ref_srdhm(a, rq[0]);
                int tie = -rq[1] > 0 && (s1 & ((1 << -rq[1]) - 1)) == (1 << (-rq[1] - 1));
                if (tie && fabsl((long double)got - single) == 1.0L)
                    ties++;
                else
                    bad_single++;
            }
        }
    }
    printf("requant: %d double-rounding ties in 200000 random cases\n", ties);
    g_pass += 4;
    if (bad_srdhm) printf("FAIL tb_srdhm: %d mismatches\n", bad_srdhm), g_fail++, g_pass--;
    if (bad_shift) printf("FAIL tb_rounding_shift: %d mismatches\n", bad_shift), g_fail++, g_pass--;
    if (bad_rq) printf("FAIL tb_requantize: %d mismatches\n", bad_rq), g_fail++, g_pass--;
    if (bad_single) printf("FAIL tb_requantize vs round(acc*M): %d mismatches\n", bad_single), g_fail++, g_pass--;
}

/* int8 / uint8 / int32 buffers of the quantized tests */
static uint8_t QX[MAXN], QW[MAXN], QB[MAXN], QY[MAXN * 4];
static int32_t QBIAS[4096], QRQ[8192], QGOT[MAXN], QWANT[MAXN];
static int g_saturated_lo, g_saturated_hi;

static int32_t ld8(const uint8_t *buf, int64_t i, int dt)
{
    return dt == 2 ? (int32_t)buf[i] : (int32_t)(int8_t)buf[i];
}

static void fill8(uint8_t *buf, int n)
{
    int i;
    for (i = 0; i < n; i++)
        buf[i] = (uint8_t)rnd();
}

/* The kernel output (QY as dt) into QGOT. */
static void read_out(int dt, int n)
{
    int i;
    for (i = 0; i < n; i++)
        QGOT[i] = dt == 6 ? ((int32_t *)(void *)QY)[i] : ld8(QY, i, dt);
}

static int32_t ref_out(int32_t acc, const int32_t *rq, int dt, int32_t yz, int32_t lo, int32_t hi)
{
    int32_t v;
    if (dt == 6)
        return acc;
    v = yz + ref_requantize(acc, rq[0], rq[1]);
    if (v <= lo) g_saturated_lo++, v = lo;
    if (v >= hi) g_saturated_hi++, v = hi;
    return v;
}

/* A random zero point of element type dt (2: uint8, else int8). */
static int32_t rand_zero(int dt)
{
    return dt == 2 ? irand(0, 255) : irand(-128, 127);
}

static void rand_act(int dt, int32_t *lo, int32_t *hi)
{
    int32_t a = dt == 2 ? 0 : -128, b = dt == 2 ? 255 : 127;
    *lo = a, *hi = b;
    if (irand(0, 2) == 0) { /* a fused clamp inside the range */
        *lo = irand(a, a + 60);
        *hi = irand(b - 60, b);
    }
}

/* tb_requantize_row against ref_requantize: random and extreme accumulators
 * (bias + acc reaching INT32_MIN and INT32_MAX), multipliers with positive
 * and negative shifts (and a few outside [2^30, 2^31), INT32_MIN among
 * them), rows of every length around the vector widths, starting at odd
 * addresses, int8 and uint8 ranges; nothing written past the row. */
static void test_requantize_row(void)
{
    static int32_t acc[200];
    static uint8_t out[200 + GUARD];
    int id, bad = 0, bad_guard = 0;
    for (id = 0; id < 3000 && !bad; id++) {
        const int32_t cnt = irand(1, 150), off = irand(0, 7), dt = irand(2, 3), bias = irand(-5000, 5000);
        int32_t rq[2], yz, lo, hi, j;
        rand_rq(rq, id % 4 == 0 ? 1 : -31, id % 4 == 0 ? 30 : 3);
        if (id % 50 == 1) rq[0] = INT32_MIN;
        else if (id % 50 == 2) rq[0] = (int32_t)rnd(); /* any sign and size */
        else if (id % 50 == 3) rq[0] = irand(0, 3);
        else if (id % 10 == 5) rq[0] = 1 << 30, rq[1] = -irand(0, 12); /* small sums below: rounding ties */
        yz = rand_zero(dt);
        rand_act(dt, &lo, &hi);
        for (j = 0; j < cnt; j++) {
            /* bias + acc stays an int32, reaching both ends as far as acc
             * (an int32 too) lets it: [INT32_MIN, INT32_MAX] + bias */
            const int64_t sum = (int64_t)rand_acc() + bias;
            const int64_t top = (int64_t)INT32_MAX + (bias < 0 ? bias : 0);
            const int64_t bottom = (int64_t)INT32_MIN + (bias > 0 ? bias : 0);
            acc[off + j] = (int32_t)((sum > top ? top : sum < bottom ? bottom : sum) - bias);
            if (id % 10 == 5) acc[off + j] = irand(-20000, 20000);
        }
        memset(out, 0xa5, sizeof out);
        tb_requantize_row(acc + off, cnt, bias, rq, yz, lo, hi, out + off);
        for (j = 0; j < cnt && !bad; j++) {
            /* + yz wraps in 32 bits, as the kernel defines it */
            int32_t want = (int32_t)((uint32_t)yz + (uint32_t)ref_requantize(bias + acc[off + j], rq[0], rq[1]));
            want = want < lo ? lo : want > hi ? hi : want;
            if (ld8(out, off + j, dt) != want) {
                printf("FAIL requantize_row #%d: y[%d] = %d, want %d (acc %d, m %d, shift %d)\n", id, (int)j,
                       (int)ld8(out, off + j, dt), (int)want, (int)(bias + acc[off + j]), (int)rq[0], (int)rq[1]);
                bad++;
            }
        }
        for (j = 0; j < off; j++)
            if (out[j] != 0xa5) bad_guard++;
        for (j = off + cnt; j < (int32_t)sizeof out; j++)
            if (out[j] != 0xa5) bad_guard++;
    }
    if (bad_guard) printf("FAIL requantize_row: %d bytes written outside the row\n", bad_guard);
    if (bad || bad_guard) g_fail++; else g_pass++;
}

/* tb_qconv's folded int8 path takes bias - (x_zero + 128) * sum w per channel
 * (what lowering computes) in QFOLD. */
static int32_t QFOLD[4096];

static void fold_bias(const tb_qconv_params *p, int use_bias)
{
    const int32_t kk = p->c_in / p->group * p->k_h * p->k_w;
    int32_t oc, k;
    for (oc = 0; oc < p->c_out; oc++) {
        int32_t sum = 0;
        for (k = 0; k < kk; k++)
            sum += (int8_t)QW[oc * kk + k];
        QFOLD[oc] = (use_bias ? QBIAS[oc] : 0) - (p->x_zero + 128) * sum;
    }
}

static void test_qconv(void)
{
    int id;
    for (id = 0; id < 300; id++) {
        tb_qconv_params p;
        int sp = irand(0, 4) == 0 ? 1 : 2, kind = id >= 270 ? 5 : id >= 240 ? 4 : irand(0, 3);
        int32_t cig, oc, n, oh, ow, ic, kh, kw, yz;
        int nout, use_bias;
        memset(&p, 0, sizeof p);
        p.n = irand(1, 2);
        p.group = 1;
        p.c_in = irand(1, 5);
        if (kind == 0) { /* depthwise, with a channel multiplier sometimes */
            p.group = p.c_in;
            p.c_out = p.c_in * irand(1, 2);
        } else if (kind == 1 && p.c_in % 2 == 0) {
            p.group = 2;
            p.c_out = 2 * irand(1, 3);
        } else if (kind == 4) { /* wide windows: the folded path's tile shrinks below 8 pixels */
            p.n = 1;
            p.c_in = irand(100, 500);
            p.group = irand(0, 1) ? 1 : 2;
            p.c_in -= p.c_in % p.group;
            p.c_out = p.group * irand(1, 3);
        } else if (kind == 5) { /* depthwise on long rows: the folded path's 16-wide chunks */
            p.group = p.c_out = p.c_in;
        } else {
            p.c_out = irand(1, 6);
        }
        p.h_in = sp == 1 ? 1 : irand(1, 7);
        p.w_in = kind == 5 ? irand(16, 80) : irand(1, 9);
        p.k_h = sp == 1 ? 1 : irand(1, 3);
        p.k_w = irand(1, 3);
        if (kind == 3) p.k_h = p.k_w = 1; /* pointwise (fast path when unpadded, stride 1) */
        p.stride_h = sp == 1 ? 1 : irand(1, 2);
        p.stride_w = irand(1, 2);
        p.dil_h = sp == 1 ? 1 : irand(1, 2);
        p.dil_w = irand(1, 2);
        p.pad_top = sp == 1 ? 0 : irand(0, 2);
        p.pad_left = irand(0, 2);
        if (kind == 3 && irand(0, 1)) p.stride_h = p.stride_w = 1, p.pad_top = p.pad_left = 0, p.dil_h = p.dil_w = 1;
        {
            int32_t eh = (p.k_h - 1) * p.dil_h + 1, ew = (p.k_w - 1) * p.dil_w + 1;
            int32_t pb = sp == 1 ? 0 : irand(0, 2), pr = irand(0, 2);
            if (p.h_in + p.pad_top + pb < eh) pb = eh - p.h_in - p.pad_top;
            if (p.w_in + p.pad_left + pr < ew) pr = ew - p.w_in - p.pad_left;
            p.h_out = (p.h_in + p.pad_top + pb - eh) / p.stride_h + 1;
            p.w_out = (p.w_in + p.pad_left + pr - ew) / p.stride_w + 1;
        }
        p.x_dtype = irand(2, 3);
        p.w_dtype = irand(0, 2) ? p.x_dtype : 5 - p.x_dtype;
        p.y_dtype = irand(0, 5) == 0 ? 6 : irand(2, 3);
        p.x_zero = rand_zero(p.x_dtype);
        p.w_zero = irand(0, 1) ? 0 : rand_zero(p.w_dtype);
        if (kind >= 4) /* the folded path's cases */
            p.x_dtype = p.w_dtype = 3, p.w_zero = 0, p.y_dtype = irand(2, 3), p.x_zero = irand(-128, 127);
        p.y_zero = rand_zero(p.y_dtype);
        rand_act(p.y_dtype, &p.act_min, &p.act_max);
        p.per_channel = irand(0, 1);
        cig = p.c_in / p.group;
        fill8(QX, p.n * p.c_in * p.h_in * p.w_in);
        fill8(QW, p.c_out * cig * p.k_h * p.k_w);
        for (oc = 0; oc < p.c_out; oc++) {
            QBIAS[oc] = irand(-20000, 20000);
            /* M around 2^-8 .. 2^2: M >= 1 (shift > 0) included */
            rand_rq(QRQ + 2 * oc, -12, 2);
        }
        nout = p.n * p.c_out * p.h_out * p.w_out;
        memset(QY, 0xa5, (size_t)nout * 4 + GUARD);
        use_bias = irand(0, 3) != 0;
        p.folded = p.x_dtype == 3 && p.w_dtype == 3 && p.w_zero == 0 && p.y_dtype != 6 &&
                   p.c_in / p.group * p.k_h * p.k_w <= TB_QCONV_FOLD_MAX_K && irand(0, 3) != 0;
        if (p.folded) {
            fold_bias(&p, use_bias);
            tb_qconv(&p, QX, QW, QFOLD, QRQ, QY);
        } else {
            tb_qconv(&p, QX, QW, use_bias ? QBIAS : NULL, QRQ, QY);
        }
        /* the reference: a direct sum that reads padding as x_zero */
        yz = p.y_zero;
        for (n = 0; n < p.n; n++)
            for (oc = 0; oc < p.c_out; oc++)
                for (oh = 0; oh < p.h_out; oh++)
                    for (ow = 0; ow < p.w_out; ow++) {
                        int32_t g = oc / (p.c_out / p.group), acc = use_bias ? QBIAS[oc] : 0;
                        for (ic = 0; ic < cig; ic++)
                            for (kh = 0; kh < p.k_h; kh++)
                                for (kw = 0; kw < p.k_w; kw++) {
                                    int32_t ih = oh * p.stride_h + kh * p.dil_h - p.pad_top;
                                    int32_t iw = ow * p.stride_w + kw * p.dil_w - p.pad_left;
                                    int32_t c = g * cig + ic;
                                    int32_t xv = (ih < 0 || ih >= p.h_in || iw < 0 || iw >= p.w_in)
                                                     ? p.x_zero
                                                     : ld8(QX, ((n * p.c_in + c) * p.h_in + ih) * p.w_in + iw, p.x_dtype);
                                    int32_t wv = ld8(QW, ((oc * cig + ic) * p.k_h + kh) * p.k_w + kw, p.w_dtype);
                                    acc += (xv - p.x_zero) * (wv - p.w_zero);
                                }
                        QWANT[((n * p.c_out + oc) * p.h_out + oh) * p.w_out + ow] = ref_out(
                            acc, QRQ + (p.per_channel ? 2 * oc : 0), p.y_dtype, yz, p.act_min, p.act_max);
                    }
        read_out(p.y_dtype, nout);
        check_ints("qconv", id, QGOT, QWANT, nout);
        if (QY[(p.y_dtype == 6 ? 4 : 1) * nout] != 0xa5) printf("FAIL qconv #%d: wrote past the output\n", id), g_fail++;
    }
}

/* One depthwise case of the shape in p (n, channels, input, kernel,
 * strides, dilations, pad_top / pad_left set; pb, pr: bottom and right
 * padding) with random data, zero points, clamp and requantization; flags:
 * QDW_T_SATURATING gives channel 0 the multiplier INT32_MIN, QDW_T_FULL the
 * output type's whole range as the clamp. Checked against the direct sum
 * reading padding as x_zero, and for writes past the output. */
#define QDW_T_SATURATING 1
#define QDW_T_FULL 2
static void qdw_case(tb_qconv_params *p, int32_t pb, int32_t pr, int id, int flags)
{
    const int32_t eh = (p->k_h - 1) * p->dil_h + 1, ew = (p->k_w - 1) * p->dil_w + 1;
    int32_t c, oh, ow, kh, kw, nout, b;
    p->h_out = (p->h_in + p->pad_top + pb - eh) / p->stride_h + 1;
    p->w_out = (p->w_in + p->pad_left + pr - ew) / p->stride_w + 1;
    p->x_dtype = p->w_dtype = 3, p->y_dtype = irand(2, 3), p->folded = 1;
    p->x_zero = irand(-128, 127);
    p->y_zero = rand_zero(p->y_dtype);
    rand_act(p->y_dtype, &p->act_min, &p->act_max);
    if (flags & QDW_T_FULL)
        p->act_min = p->y_dtype == 2 ? 0 : -128, p->act_max = p->y_dtype == 2 ? 255 : 127;
    fill8(QX, p->n * p->c_in * p->h_in * p->w_in);
    fill8(QW, p->c_out * p->k_h * p->k_w);
    for (c = 0; c < p->c_out; c++) {
        QBIAS[c] = irand(-20000, 20000);
        rand_rq(QRQ + 2 * c, p->k_w > 100 ? -14 : -12, p->k_w > 100 ? -12 : 2);
    }
    if (flags & QDW_T_SATURATING)
        QRQ[0] = INT32_MIN, QRQ[1] = irand(-14, -8);
    nout = p->n * p->c_out * p->h_out * p->w_out;
    memset(QY, 0xa5, (size_t)nout + GUARD);
    fold_bias(p, 1);
    tb_qconv(p, QX, QW, QFOLD, QRQ, QY);
    for (b = 0; b < p->n; b++)
        for (c = 0; c < p->c_out; c++)
            for (oh = 0; oh < p->h_out; oh++)
                for (ow = 0; ow < p->w_out; ow++) {
                    const uint8_t *xc = QX + (int64_t)(b * p->c_in + c) * p->h_in * p->w_in;
                    int32_t acc = QBIAS[c];
                    for (kh = 0; kh < p->k_h; kh++)
                        for (kw = 0; kw < p->k_w; kw++) {
                            int32_t ih = oh * p->stride_h + kh * p->dil_h - p->pad_top;
                            int32_t iw = ow * p->stride_w + kw * p->dil_w - p->pad_left;
                            if (ih >= 0 && ih < p->h_in && iw >= 0 && iw < p->w_in)
                                acc += ((int8_t)xc[ih * p->w_in + iw] - p->x_zero) *
                                       (int8_t)QW[(c * p->k_h + kh) * p->k_w + kw];
                        }
                    QWANT[((b * p->c_out + c) * p->h_out + oh) * p->w_out + ow] = ref_out(
                        acc, QRQ + (p->per_channel ? 2 * c : 0), p->y_dtype, p->y_zero, p->act_min, p->act_max);
                }
    read_out(p->y_dtype, nout);
    check_ints("qconv_depthwise", id, QGOT, QWANT, nout);
    if (QY[nout] != 0xa5) printf("FAIL qconv_depthwise #%d: wrote past the output\n", id), g_fail++;
}

/* tb_qconv's depthwise kernel (folded int8 path) on MobileNet-like and odd
 * shapes: 3x3 strides 1 and 2 with pads 0 to 2, 5x5, dilation, widths 7,
 * 14, 56 and 113, rows wider than its staging (column segments), windows
 * too wide for it (direct sums), tall kernels, per channel and per tensor,
 * int8 and uint8 out; against the direct sum reading padding as x_zero. */
static void test_qconv_depthwise(void)
{
    static const int32_t widths[] = {7, 14, 56, 113};
    int id;
    for (id = 0; id < 160; id++) {
        tb_qconv_params p;
        int32_t eh, ew, pb, pr;
        memset(&p, 0, sizeof p);
        p.n = 1;
        p.c_in = p.c_out = p.group = irand(1, 4);
        p.k_h = p.k_w = id % 5 == 4 ? 5 : 3;
        p.stride_h = p.stride_w = irand(1, 2);
        p.dil_h = p.dil_w = id % 7 == 6 ? 2 : 1;
        p.w_in = widths[id % 4];
        p.h_in = p.w_in > 56 ? irand(3, 9) : irand(3, p.w_in);
        p.pad_top = p.pad_left = irand(0, 2);
        if (id % 3 == 2) p.stride_w = 3 - p.stride_h, p.dil_h = 1; /* unequal strides and dilations */
        if (id >= 150) { /* wide: column segments (150..154), window past the staging (155..159) */
            p.c_in = p.c_out = p.group = 1;
            p.k_h = id < 155 ? 3 : 1, p.k_w = id < 155 ? 3 : 4500;
            p.h_in = id < 155 ? 4 : 1, p.w_in = id < 155 ? 3000 + id : 4600;
            p.pad_top = 0;
        }
        if (id == 149) { /* a tall kernel: more kernel rows than the vector path takes */
            p.c_in = p.c_out = p.group = 2;
            p.k_h = 70, p.k_w = 1, p.h_in = 75, p.w_in = 9, p.stride_h = 1, p.dil_h = 1, p.pad_top = 1;
        }
        eh = (p.k_h - 1) * p.dil_h + 1, ew = (p.k_w - 1) * p.dil_w + 1;
        pb = irand(0, 2), pr = irand(0, 2);
        if (p.h_in + p.pad_top + pb < eh) pb = eh - p.h_in - p.pad_top;
        if (p.w_in + p.pad_left + pr < ew) pr = ew - p.w_in - p.pad_left;
        p.per_channel = irand(0, 1);
        qdw_case(&p, pb, pr, id, 0);
    }
}

/* The 3x3 vector paths of the depthwise kernel (AVX-512 builds; the same
 * cases check the plain path elsewhere): stride 1 keeping the width (flat
 * path: planes staged in its buffer or read in place, widths whose column
 * pattern is tabled or not, 7x7 to 75x75, pads 0 to 2 on either side,
 * heights changed by the padding), any other 3x3 row by row (stride 2, rows
 * of up to 8 outputs paired, one to several 64-output groups, rows past the
 * column mask table, stride 1 narrowing the width, unequal strides, a
 * dilated height), over two images, every requantization kind (right and
 * left shifts, the saturating multiplier, clamped or the whole range, int8
 * and uint8 out), per channel and per tensor. */
static void test_qconv_depthwise_3x3(void)
{
    /* h_in, w_in, stride_h, stride_w, dil_h, pad_top, pad_left, pad_bottom, pad_right */
    static const int32_t shapes[][9] = {
        {7, 7, 1, 1, 1, 1, 1, 1, 1},        {14, 14, 1, 1, 1, 1, 1, 1, 1},   {28, 28, 1, 1, 1, 1, 1, 1, 1},
        {56, 56, 1, 1, 1, 1, 1, 1, 1},      {75, 75, 1, 1, 1, 1, 1, 1, 1},   {9, 113, 1, 1, 1, 1, 1, 1, 1},
        {40, 113, 1, 1, 1, 1, 1, 1, 1},     {5, 17, 1, 1, 1, 0, 0, 2, 2},    {6, 11, 1, 1, 1, 2, 2, 0, 0},
        {8, 13, 1, 1, 1, 0, 1, 0, 1},       {3, 3, 1, 1, 1, 1, 1, 1, 1},     {1, 1, 1, 1, 1, 1, 1, 1, 1},
        {10, 64, 1, 1, 1, 2, 1, 2, 1},      {12, 33, 1, 1, 1, 1, 0, 2, 2},  {4, 200, 1, 1, 1, 1, 1, 1, 1},
        {14, 14, 2, 2, 1, 1, 1, 1, 1},      {15, 15, 2, 2, 1, 1, 1, 1, 1},   {13, 16, 2, 2, 1, 0, 0, 1, 1},
        {28, 28, 2, 2, 1, 1, 1, 1, 1},      {56, 56, 2, 2, 1, 1, 1, 1, 1},   {9, 112, 2, 2, 1, 1, 1, 1, 1},
        {5, 129, 2, 2, 1, 1, 1, 1, 1},      {3, 130, 2, 2, 1, 0, 2, 0, 2},  {3, 2100, 2, 2, 1, 1, 1, 1, 1},
        {2, 2, 2, 2, 1, 1, 1, 1, 1},        {17, 9, 2, 2, 1, 2, 2, 2, 2},   {11, 34, 1, 1, 1, 0, 0, 0, 0},
        {9, 70, 1, 1, 1, 1, 0, 1, 0},       {12, 21, 1, 2, 1, 1, 1, 1, 1},   {12, 21, 2, 1, 1, 1, 1, 1, 1},
        {13, 30, 1, 1, 2, 2, 1, 2, 1},      {8, 16, 2, 1, 1, 0, 1, 1, 0},
    };
    const int ns = (int)(sizeof shapes / sizeof shapes[0]);
    int id;
    for (id = 0; id < 4 * ns; id++) {
        const int32_t *sh = shapes[id % ns];
        tb_qconv_params p;
        memset(&p, 0, sizeof p);
        p.n = id % 3 == 1 ? 2 : 1;
        p.c_in = p.c_out = p.group = sh[0] * sh[1] > 4000 ? 1 : irand(1, 5);
        p.k_h = p.k_w = 3;
        p.h_in = sh[0], p.w_in = sh[1], p.stride_h = sh[2], p.stride_w = sh[3], p.dil_h = sh[4], p.dil_w = 1;
        p.pad_top = sh[5], p.pad_left = sh[6];
        p.per_channel = id / ns % 2;
        qdw_case(&p, sh[7], sh[8], 1000 + id, (id / ns == 1 ? QDW_T_FULL : 0) | (id / ns == 3 ? QDW_T_SATURATING : 0));
    }
}

/* tb_qconv's folded path on the int8 GEMM (qgemm.c, tb_qconv_gemm) against
 * a direct sum: window sizes k around the panel's groups of 4 bytes (odd,
 * not a multiple of 4) and past one k block (512 bytes, 256 on Cortex-M),
 * channel counts around the tile's rows (8) and past the rows that share
 * one k block (128), pixel counts around the tile width (16 or 32) with
 * rows that lie inside the image or not, strides, pads, dilations, groups,
 * per-channel and per-tensor multipliers over the whole shift range, fused
 * clamps, and bytes all at -128 / 127 for the largest sums. */
static int8_t GX[1 << 17], GW[1 << 18];
static int32_t GBIAS[1024], GFOLD[1024], GRQ[2048], GWANT[1 << 16], GGOT[1 << 16];
static uint8_t GY[(1 << 16) + GUARD];

static int8_t extreme8(void)
{
    return (int8_t)(irand(0, 1) ? 127 : -128);
}

static void test_qconv_gemm(void)
{
    int id;
    for (id = 0; id < 400; id++) {
        tb_qconv_params p;
        const int kind = id % 6, extreme = kind == 5 || irand(0, 9) == 0;
        int32_t cig, cog, kk, oc, n, oh, ow, ic, kh, kw, i, nout, nx, nw;
        memset(&p, 0, sizeof p);
        p.n = irand(1, 2);
        p.group = 1;
        p.k_h = p.k_w = 1, p.stride_h = p.stride_w = 1, p.dil_h = p.dil_w = 1;
        if (kind == 0) { /* 1x1 stride 1 unpadded: pointwise packing */
            p.c_in = irand(1, 40), p.c_out = irand(1, 40);
            p.h_in = irand(1, 12), p.w_in = irand(1, 12);
        } else if (kind == 1 || kind == 5) { /* KxK */
            p.c_in = irand(1, 9), p.c_out = irand(1, 26);
            p.h_in = irand(1, 9), p.w_in = irand(1, 12);
            p.k_h = irand(1, 5), p.k_w = irand(1, 5);
            p.stride_h = irand(1, 2), p.stride_w = irand(1, 3);
            p.dil_h = irand(1, 2), p.dil_w = irand(1, 2);
            p.pad_top = irand(0, 2), p.pad_left = irand(0, 2);
        } else if (kind == 2) { /* long rows: windows inside the image and across its edges */
            p.n = 1;
            p.c_in = irand(1, 6), p.c_out = irand(1, 20);
            p.h_in = irand(1, 4), p.w_in = irand(30, 90);
            p.k_h = irand(1, 3), p.k_w = irand(1, 3);
            p.stride_w = irand(0, 3) ? 1 : 2;
            p.pad_top = irand(0, 1), p.pad_left = irand(0, 1);
        } else if (kind == 3) { /* grouped, 1x1 or 3x3 */
            p.group = irand(2, 4);
            p.c_in = p.group * irand(1, 6), p.c_out = p.group * irand(1, 12);
            p.h_in = irand(1, 8), p.w_in = irand(1, 8);
            p.k_h = p.k_w = irand(0, 1) ? 1 : 3;
            p.pad_top = p.pad_left = p.k_h / 2;
        } else { /* k past one block, c_out past the rows of one block */
            p.n = 1;
            p.k_h = p.k_w = irand(0, 1) ? 1 : 3;
            p.c_in = irand(0, 1) ? irand(500, 1100) / (p.k_h * p.k_w) : irand(1, 120);
            p.c_out = irand(0, 2) ? irand(100, 140) : irand(1, 20);
            if (id % 12 == 4) /* past the rows whose requantization is set up together (256) */
                p.c_in = irand(1, 50), p.c_out = irand(250, 530);
            p.h_in = irand(1, 6), p.w_in = irand(1, 8);
            p.pad_top = p.pad_left = p.k_h / 2;
        }
        {
            int32_t eh = (p.k_h - 1) * p.dil_h + 1, ew = (p.k_w - 1) * p.dil_w + 1;
            int32_t pb = p.pad_top ? irand(0, 2) : 0, pr = p.pad_left ? irand(0, 2) : 0;
            if (p.h_in + p.pad_top + pb < eh) pb = eh - p.h_in - p.pad_top;
            if (p.w_in + p.pad_left + pr < ew) pr = ew - p.w_in - p.pad_left;
            p.h_out = (p.h_in + p.pad_top + pb - eh) / p.stride_h + 1;
            p.w_out = (p.w_in + p.pad_left + pr - ew) / p.stride_w + 1;
        }
        cig = p.c_in / p.group, cog = p.c_out / p.group, kk = cig * p.k_h * p.k_w;
        p.x_dtype = p.w_dtype = 3, p.w_zero = 0, p.folded = 1;
        p.y_dtype = irand(2, 3);
        p.x_zero = extreme ? extreme8() : irand(-128, 127);
        p.y_zero = rand_zero(p.y_dtype);
        rand_act(p.y_dtype, &p.act_min, &p.act_max);
        p.per_channel = irand(0, 1);
        nx = p.n * p.c_in * p.h_in * p.w_in, nw = p.c_out * kk;
        nout = p.n * p.c_out * p.h_out * p.w_out;
        if (nx > (int)sizeof GX || nw > (int)sizeof GW || nout > (1 << 16) || p.c_out > 1024) {
            printf("FAIL qconv_gemm #%d: case too large for the test buffers\n", id), g_fail++;
            continue;
        }
        for (i = 0; i < nx; i++) GX[i] = extreme ? extreme8() : (int8_t)rnd();
        for (i = 0; i < nw; i++) GW[i] = extreme ? extreme8() : (int8_t)rnd();
        for (oc = 0; oc < p.c_out; oc++) {
            int64_t sum = 0;
            int wide = irand(0, 1);
            /* a wide bias and any shift reach every branch of the requantization */
            GBIAS[oc] = wide ? irand(-(1 << 30), 1 << 30) : irand(-20000, 20000);
            rand_rq(GRQ + 2 * oc, wide ? -31 : -12, wide ? 30 : 2);
            for (i = 0; i < kk; i++) sum += GW[oc * kk + i];
            GFOLD[oc] = (int32_t)(GBIAS[oc] - (int64_t)(p.x_zero + 128) * sum);
        }
        memset(GY, 0xa5, (size_t)nout + GUARD);
        tb_qconv(&p, GX, GW, GFOLD, GRQ, GY);
        for (n = 0; n < p.n; n++)
            for (oc = 0; oc < p.c_out; oc++)
                for (oh = 0; oh < p.h_out; oh++)
                    for (ow = 0; ow < p.w_out; ow++) {
                        int32_t g = oc / cog;
                        int64_t acc = GBIAS[oc];
                        for (ic = 0; ic < cig; ic++)
                            for (kh = 0; kh < p.k_h; kh++)
                                for (kw = 0; kw < p.k_w; kw++) {
                                    int32_t ih = oh * p.stride_h + kh * p.dil_h - p.pad_top;
                                    int32_t iw = ow * p.stride_w + kw * p.dil_w - p.pad_left;
                                    int32_t xv = (ih < 0 || ih >= p.h_in || iw < 0 || iw >= p.w_in)
                                                     ? p.x_zero
                                                     : GX[((n * p.c_in + g * cig + ic) * p.h_in + ih) * p.w_in + iw];
                                    acc += (int64_t)(xv - p.x_zero) * GW[((oc * cig + ic) * p.k_h + kh) * p.k_w + kw];
                                }
                        GWANT[((n * p.c_out + oc) * p.h_out + oh) * p.w_out + ow] =
                            ref_out((int32_t)acc, GRQ + (p.per_channel ? 2 * oc : 0), p.y_dtype, p.y_zero,
                                    p.act_min, p.act_max);
                    }
        for (i = 0; i < nout; i++)
            GGOT[i] = ld8(GY, i, p.y_dtype);
        check_ints("qconv_gemm", id, GGOT, GWANT, nout);
        for (i = nout; i < nout + GUARD; i++)
            if (GY[i] != 0xa5) {
                printf("FAIL qconv_gemm #%d: wrote past the output\n", id), g_fail++;
                break;
            }
    }
}

/* The GEMM's folded requantization (qgemm.c, rq_row) at its exact edges:
 * a 1x1 conv of one input channel whose 256 pixels hold every byte, weights
 * +-1 and +-2, small biases, multipliers 2^30 (and next to it) and shifts 0
 * to -14, so that the sums cross every rounding tie, the sign change of the
 * doubling high product and the clamps; pixel counts past a tile or not. */
static void test_qconv_gemm_ties(void)
{
    int id;
    for (id = 0; id < 120; id++) {
        tb_qconv_params p;
        const int32_t mults[4] = {1 << 30, (1 << 30) + 1, INT32_MAX, (1 << 30) + (1 << 29)};
        int32_t oc, i, nout, npix;
        memset(&p, 0, sizeof p);
        p.n = 1, p.group = 1, p.c_in = 1, p.c_out = irand(1, 20);
        p.k_h = p.k_w = 1, p.stride_h = p.stride_w = 1, p.dil_h = p.dil_w = 1;
        p.h_in = p.h_out = 1, p.w_in = p.w_out = npix = id % 2 ? 256 : irand(1, 256);
        p.x_dtype = p.w_dtype = 3, p.folded = 1, p.per_channel = 1;
        p.x_zero = -128; /* B = x + 128, the folded bias is the bias */
        p.y_dtype = irand(2, 3);
        p.y_zero = rand_zero(p.y_dtype);
        rand_act(p.y_dtype, &p.act_min, &p.act_max);
        for (i = 0; i < npix; i++) GX[i] = (int8_t)(npix == 256 ? i - 128 : irand(-128, 127));
        for (oc = 0; oc < p.c_out; oc++) {
            const int32_t w = irand(0, 1) ? irand(1, 2) : -irand(1, 2);
            GW[oc] = (int8_t)w;
            GBIAS[oc] = irand(-600, 600);
            GRQ[2 * oc] = mults[irand(0, 3)];
            GRQ[2 * oc + 1] = -irand(0, 14);
            for (i = 0; i < npix; i++)
                GWANT[oc * npix + i] = ref_out(GBIAS[oc] + w * (GX[i] + 128), GRQ + 2 * oc, p.y_dtype, p.y_zero,
                                               p.act_min, p.act_max);
        }
        nout = p.c_out * npix;
        memset(GY, 0xa5, (size_t)nout + GUARD);
        tb_qconv(&p, GX, GW, GBIAS, GRQ, GY);
        for (i = 0; i < nout; i++)
            GGOT[i] = ld8(GY, i, p.y_dtype);
        check_ints("qconv_gemm_ties", id, GGOT, GWANT, nout);
        if (GY[nout] != 0xa5) printf("FAIL qconv_gemm_ties #%d: wrote past the output\n", id), g_fail++;
    }
}

static void test_qmatmul(void)
{
    int id;
    for (id = 0; id < 200; id++) {
        tb_qmatmul_params p;
        int32_t i, j, k, t, nb, ta, tbt, use_c, bcast;
        memset(&p, 0, sizeof p);
        p.m = irand(1, 7);
        p.n = irand(1, 70); /* past one TILE of 64 sometimes */
        p.k = irand(1, 40);
        if (id % 8 == 1) /* k past the VNNI dot path's 64-byte steps, with a tail */
            p.n = irand(1, 40), p.k = irand(60, 200);
        if (id % 8 == 0) /* long rows: past the int8 dot path's QMM_CHUNK (2048) */
            p.m = irand(1, 2), p.n = irand(1, 12), p.k = irand(2000, 2600);
        ta = irand(0, 1);
        tbt = irand(0, 1);
        p.a_stride_m = ta ? 1 : p.k, p.a_stride_k = ta ? p.m : 1;
        p.b_stride_k = tbt ? 1 : p.n, p.b_stride_n = tbt ? p.k : 1;
        use_c = irand(0, 2);
        p.c_stride_m = use_c == 1 ? p.n : 0; /* [M, N] or a row [N] broadcast */
        p.c_stride_n = 1;
        p.a_dtype = irand(2, 3);
        p.b_dtype = irand(0, 2) ? p.a_dtype : 5 - p.a_dtype;
        p.y_dtype = irand(0, 5) == 0 ? 6 : irand(2, 3);
        /* int8 a with a_zero -128 (as quantize makes it): the unsigned-byte dot path */
        p.a_zero = p.a_dtype == 2 ? irand(0, 255) : (irand(0, 2) == 0 ? -128 : irand(-128, 127));
        p.b_zero = irand(0, 1) ? 0 : rand_zero(p.b_dtype);
        p.y_zero = rand_zero(p.y_dtype);
        rand_act(p.y_dtype, &p.act_min, &p.act_max);
        p.per_channel = irand(0, 1);
        /* a batch of 1 to 3, b broadcast over it (stride 0) sometimes */
        nb = irand(1, 3);
        if (p.k > 512) /* the long rows fill QW (MAXN) with a batch of one */
            nb = 1;
        bcast = irand(0, 1);
        p.batch_rank = nb > 1 ? 1 : 0;
        p.batch_dims[0] = nb;
        p.a_batch_strides[0] = p.m * p.k;
        p.b_batch_strides[0] = bcast ? 0 : p.k * p.n;
        fill8(QX, nb * p.m * p.k);
        fill8(QW, nb * p.k * p.n);
        for (j = 0; j < p.m * p.n; j++) QBIAS[j] = irand(-30000, 30000);
        for (j = 0; j < p.n; j++) rand_rq(QRQ + 2 * j, -14, 1);
        memset(QY, 0xa5, (size_t)nb * p.m * p.n * 4 + GUARD);
        tb_qmatmul(&p, QX, QW, use_c ? QBIAS : NULL, QRQ, QY);
        for (t = 0; t < nb; t++)
            for (i = 0; i < p.m; i++)
                for (j = 0; j < p.n; j++) {
                    int32_t acc = use_c ? QBIAS[i * p.c_stride_m + j] : 0;
                    for (k = 0; k < p.k; k++) {
                        int32_t av = ld8(QX, t * p.m * p.k + (ta ? k * p.m + i : i * p.k + k), p.a_dtype);
                        int32_t bv = ld8(QW, (bcast ? 0 : t * p.k * p.n) + (tbt ? j * p.k + k : k * p.n + j), p.b_dtype);
                        acc += (av - p.a_zero) * (bv - p.b_zero);
                    }
                    QWANT[(t * p.m + i) * p.n + j] =
                        ref_out(acc, QRQ + (p.per_channel ? 2 * j : 0), p.y_dtype, p.y_zero, p.act_min, p.act_max);
                }
        read_out(p.y_dtype, nb * p.m * p.n);
        check_ints("qmatmul", id, QGOT, QWANT, nb * p.m * p.n);
    }
}

/* real multiplier -> {m, shift}, the lowering's rule (frexp, m rounded) */
static void to_rq(double M, int32_t *rq)
{
    int e;
    double f = frexp(M, &e);
    int64_t m = (int64_t)floor(f * 2147483648.0 + 0.5);
    if (m == (INT64_C(1) << 31)) m /= 2, e++;
    rq[0] = (int32_t)m;
    rq[1] = e;
}

static void test_qadd(void)
{
    int id;
    for (id = 0; id < 120; id++) {
        tb_qadd_params p;
        double sa = 0.01 + 0.2 * (rnd() % 1000) / 1000.0, sb = 0.01 + 0.2 * (rnd() % 1000) / 1000.0;
        double sy = 0.02 + 0.3 * (rnd() % 1000) / 1000.0, twice = 2 * (sa > sb ? sa : sb);
        int32_t ad[2], bd[2], d, i, j;
        memset(&p, 0, sizeof p);
        p.dtype = irand(2, 3);
        p.rank = 2;
        p.dims[0] = irand(1, 5), p.dims[1] = irand(1, 6);
        /* b broadcast along one axis or none */
        ad[0] = p.dims[0], ad[1] = p.dims[1];
        bd[0] = irand(0, 2) == 0 ? 1 : p.dims[0];
        bd[1] = irand(0, 2) == 0 ? 1 : p.dims[1];
        p.a_strides[0] = ad[1], p.a_strides[1] = 1;
        p.b_strides[0] = bd[0] == 1 ? 0 : bd[1], p.b_strides[1] = bd[1] == 1 ? 0 : 1;
        p.count = p.dims[0] * p.dims[1];
        p.left_shift = 20;
        to_rq(sa / twice, &p.a_mult);
        to_rq(sb / twice, &p.b_mult);
        to_rq(twice / ((1 << 20) * sy), &p.y_mult);
        p.a_zero = rand_zero(p.dtype);
        p.b_zero = rand_zero(p.dtype);
        p.y_zero = rand_zero(p.dtype);
        rand_act(p.dtype, &p.act_min, &p.act_max);
        fill8(QX, p.count);
        fill8(QW, p.count);
        tb_qadd(&p, QX, QW, QY);
        for (i = 0; i < p.dims[0]; i++)
            for (j = 0; j < p.dims[1]; j++) {
                int32_t a = ld8(QX, i * ad[1] + j, p.dtype);
                int32_t b = ld8(QW, (bd[0] == 1 ? 0 : i) * bd[1] + (bd[1] == 1 ? 0 : j), p.dtype);
                int32_t ra = ref_requantize((a - p.a_zero) * (1 << 20), p.a_mult, p.a_shift);
                int32_t rb = ref_requantize((b - p.b_zero) * (1 << 20), p.b_mult, p.b_shift);
                int32_t v = p.y_zero + ref_requantize(ra + rb, p.y_mult, p.y_shift);
                /* and close to the real-valued sum (within one step) */
                double real = ((a - p.a_zero) * sa + (b - p.b_zero) * sb) / sy + p.y_zero;
                if (fabs(v - real) > 1.0) printf("FAIL qadd #%d: %d far from %.3f\n", id, (int)v, real), g_fail++;
                QWANT[i * p.dims[1] + j] = v < p.act_min ? p.act_min : v > p.act_max ? p.act_max : v;
            }
        (void)d;
        read_out(p.dtype, p.count);
        check_ints("qadd", id, QGOT, QWANT, p.count);
    }
}

/* tb_qadd's flat path (operands of the output's shape, as MobileNet's
 * residual adds): long rank-3 tensors, a size-1 axis, random multipliers
 * (left shifts included) against the reference arithmetic. */
static void test_qadd_flat(void)
{
    int id;
    for (id = 0; id < 60; id++) {
        tb_qadd_params p;
        int32_t i, rqa[2], rqb[2], rqy[2];
        memset(&p, 0, sizeof p);
        p.dtype = irand(2, 3);
        p.rank = 3;
        p.dims[0] = irand(1, 24), p.dims[1] = id % 5 == 0 ? 1 : irand(1, 30), p.dims[2] = irand(1, 40);
        dense_strides(3, p.dims, p.a_strides);
        dense_strides(3, p.dims, p.b_strides);
        if (p.dims[1] == 1) p.b_strides[1] = 0; /* a size-1 axis: its stride is never used */
        p.count = p.dims[0] * p.dims[1] * p.dims[2];
        p.left_shift = irand(0, 1) ? 20 : irand(0, 8);
        rand_rq(rqa, -12, 1);
        rand_rq(rqb, -12, 1);
        rand_rq(rqy, -22, 3);
        p.a_mult = rqa[0], p.a_shift = rqa[1], p.b_mult = rqb[0], p.b_shift = rqb[1];
        if (id % 4 == 1) /* multipliers 2^30: the rounding ties */
            p.a_mult = p.b_mult = rqy[0] = 1 << 30;
        p.y_mult = rqy[0], p.y_shift = rqy[1];
        p.a_zero = rand_zero(p.dtype);
        p.b_zero = rand_zero(p.dtype);
        p.y_zero = rand_zero(p.dtype);
        rand_act(p.dtype, &p.act_min, &p.act_max);
        fill8(QX, p.count);
        fill8(QW, p.count);
        memset(QY, 0xa5, (size_t)p.count + GUARD);
        tb_qadd(&p, QX, QW, QY);
        for (i = 0; i < p.count; i++) {
            int32_t ra = ref_requantize((ld8(QX, i, p.dtype) - p.a_zero) * (1 << p.left_shift), p.a_mult, p.a_shift);
            int32_t rb = ref_requantize((ld8(QW, i, p.dtype) - p.b_zero) * (1 << p.left_shift), p.b_mult, p.b_shift);
            QWANT[i] = ref_out(ra + rb, rqy, p.dtype, p.y_zero, p.act_min, p.act_max);
        }
        read_out(p.dtype, p.count);
        check_ints("qadd_flat", id, QGOT, QWANT, p.count);
        if (QY[p.count] != 0xa5) printf("FAIL qadd_flat #%d: wrote past the output\n", id), g_fail++;
    }
}

static void test_qrescale_lut(void)
{
    int id, i, o;
    for (id = 0; id < 60; id++) {
        tb_qrescale_params p;
        tb_lut_params lp;
        double M = 0.05 + 3.0 * (rnd() % 1000) / 1000.0; /* below and above 1 */
        memset(&p, 0, sizeof p);
        p.dtype = irand(2, 3);
        p.outer = irand(1, 4);
        p.inner = irand(1, 10);
        p.y_offset = irand(0, 5);
        p.y_inner = p.inner + p.y_offset + irand(0, 3);
        p.x_zero = rand_zero(p.dtype);
        p.y_zero = rand_zero(p.dtype);
        to_rq(M, &p.mult);
        fill8(QX, p.outer * p.inner);
        memset(QY, 0x5a, (size_t)(p.outer * p.y_inner));
        tb_qrescale(&p, QX, QY);
        for (o = 0; o < p.outer; o++)
            for (i = 0; i < p.y_inner; i++) {
                int32_t v;
                if (i < p.y_offset || i >= p.y_offset + p.inner) {
                    v = ld8((const uint8_t *)"\x5a", 0, p.dtype); /* untouched */
                } else {
                    v = p.y_zero + ref_requantize(ld8(QX, o * p.inner + i - p.y_offset, p.dtype) - p.x_zero,
                                                  p.mult, p.shift);
                    if (v < (p.dtype == 2 ? 0 : -128)) g_saturated_lo++, v = p.dtype == 2 ? 0 : -128;
                    if (v > (p.dtype == 2 ? 255 : 127)) g_saturated_hi++, v = p.dtype == 2 ? 255 : 127;
                }
                QWANT[o * p.y_inner + i] = v;
            }
        read_out(p.dtype, p.outer * p.y_inner);
        check_ints("qrescale", id, QGOT, QWANT, p.outer * p.y_inner);
        /* lookup table: every byte value once, in a random order */
        lp.count = 256 + irand(0, 100);
        fill8(QB, 256);
        fill8(QX, lp.count);
        tb_lut8(&lp, QX, QB, QY);
        for (i = 0; i < lp.count; i++) QWANT[i] = QB[QX[i]];
        for (i = 0; i < lp.count; i++) QGOT[i] = QY[i];
        check_ints("lut8", id, QGOT, QWANT, lp.count);
    }
}

/* Runs tb_qmaxpool / tb_qavgpool on random QX with the requantization
 * constants in QRQ and compares every byte with a direct window walk. */
static void check_qpool(const tb_qpool_params *pp, int is_max, const char *name, int id)
{
    const tb_qpool_params p = *pp;
    const int32_t lo = p.dtype == 2 ? 0 : -128, hi = p.dtype == 2 ? 255 : 127;
    int32_t pl, oh, ow, kh, kw, nout = p.n * p.c * p.h_out * p.w_out;
    if (p.n * p.c * p.h_in * p.w_in > MAXN || nout + 64 > MAXN) { /* a case too big for the buffers */
        printf("FAIL %s #%d: %d inputs, %d outputs exceed the test buffers\n", name, id,
               p.n * p.c * p.h_in * p.w_in, nout);
        g_fail++;
        return;
    }
    fill8(QX, p.n * p.c * p.h_in * p.w_in);
    memset(QY, 0x5a, (size_t)nout + 64);
    if (is_max) tb_qmaxpool(&p, QX, QY);
    else tb_qavgpool(&p, QX, QRQ, QY);
    for (pl = 0; pl < p.n * p.c; pl++)
        for (oh = 0; oh < p.h_out; oh++)
            for (ow = 0; ow < p.w_out; ow++) {
                int32_t acc = is_max ? -1000 : 0, cnt = 0, real = 0, v;
                for (kh = 0; kh < p.k_h; kh++)
                    for (kw = 0; kw < p.k_w; kw++) {
                        int32_t ih = oh * p.stride_h + kh * p.dil_h - p.pad_top;
                        int32_t iw = ow * p.stride_w + kw * p.dil_w - p.pad_left;
                        int inside = ih >= 0 && ih < p.h_in && iw >= 0 && iw < p.w_in;
                        int in_pad = ih < p.h_in + p.pad_bottom && iw < p.w_in + p.pad_right;
                        int32_t xv = inside ? ld8(QX, (pl * p.h_in + ih) * p.w_in + iw, p.dtype) : p.x_zero;
                        if (inside) real++;
                        if (inside || (p.count_include_pad && in_pad)) {
                            cnt++;
                            if (is_max) { if (inside && xv > acc) acc = xv; }
                            else acc += xv - p.x_zero; /* padding reads the zero point */
                        }
                    }
                if (real == 0) v = is_max ? lo : p.y_zero; /* window entirely in padding */
                else if (is_max) v = acc;
                else {
                    if (!p.count_include_pad) cnt = real;
                    v = p.y_zero + ref_requantize(acc, QRQ[2 * (cnt - p.rq_first)], QRQ[2 * (cnt - p.rq_first) + 1]);
                    if (v < lo) v = lo;
                    if (v > hi) v = hi;
                }
                QWANT[(pl * p.h_out + oh) * p.w_out + ow] = v;
            }
    read_out(p.dtype, nout);
    check_ints(name, id, QGOT, QWANT, nout);
    for (ow = nout; ow < nout + 64; ow++)
        if (QY[ow] != 0x5a) { printf("FAIL %s #%d: wrote past the output\n", name, id); g_fail++; break; }
}

/* QRQ for window counts [rq_first, cnt_max]: random scales (above and below
 * 1), sometimes the multiplier INT32_MIN. */
static void qpool_rq(tb_qpool_params *p, int32_t cnt_max)
{
    double sx = 0.02 + 0.1 * (rnd() % 1000) / 1000.0, sy = 0.02 + 0.1 * (rnd() % 1000) / 1000.0;
    int32_t c;
    for (c = p->rq_first; c <= cnt_max; c++) {
        to_rq(sx / (c * sy), QRQ + 2 * (c - p->rq_first));
        if (irand(0, 15) == 0) QRQ[2 * (c - p->rq_first)] = INT32_MIN, QRQ[2 * (c - p->rq_first) + 1] = -irand(0, 12);
    }
}

static void test_qpool(void)
{
    static const int32_t global_hw[][2] = {{1, 1}, {7, 7}, {1, 300}, {14, 14}, {3, 5}, {32, 40}, {2, 129}};
    int id, g;
    for (id = 0; id < 600; id++) {
        tb_qpool_params p;
        int is_max = irand(0, 1), global = irand(0, 5) == 0, wide = irand(0, 3) == 0;
        int32_t eff_h, eff_w;
        memset(&p, 0, sizeof p);
        p.n = irand(1, 2), p.c = irand(1, 3);
        p.h_in = irand(1, 7), p.w_in = wide ? irand(60, 600) : irand(1, 40);
        p.k_h = irand(1, 3), p.k_w = irand(1, 3);
        p.stride_h = irand(1, 3), p.stride_w = irand(1, 3);
        p.dil_h = irand(0, 3) == 0 ? 2 : 1, p.dil_w = irand(0, 3) == 0 ? irand(2, 3) : 1;
        eff_h = (p.k_h - 1) * p.dil_h + 1, eff_w = (p.k_w - 1) * p.dil_w + 1;
        p.pad_top = irand(0, p.k_h - 1), p.pad_left = irand(0, p.k_w - 1);
        p.pad_bottom = irand(0, p.k_h - 1), p.pad_right = irand(0, p.k_w - 1);
        if (p.h_in + p.pad_top + p.pad_bottom < eff_h) p.pad_bottom += eff_h - (p.h_in + p.pad_top + p.pad_bottom);
        if (p.w_in + p.pad_left + p.pad_right < eff_w) p.pad_right += eff_w - (p.w_in + p.pad_left + p.pad_right);
        if (global) {
            p.h_in = irand(1, 9), p.w_in = wide ? irand(60, 600) : irand(1, 12);
            p.k_h = p.h_in, p.k_w = p.w_in, p.stride_h = irand(1, 2), p.stride_w = irand(1, 2);
            p.dil_h = p.dil_w = 1, eff_h = p.k_h, eff_w = p.k_w;
            p.pad_top = p.pad_left = 0, p.pad_bottom = irand(0, 1), p.pad_right = irand(0, 1);
        }
        p.h_out = (p.h_in + p.pad_top + p.pad_bottom - eff_h) / p.stride_h + 1;
        p.w_out = (p.w_in + p.pad_left + p.pad_right - eff_w) / p.stride_w + 1;
        if (global) p.h_out = p.w_out = 1;
        else if (irand(0, 3) == 0) /* ceil_mode: last windows reaching past the padding, or all in it */
            p.h_out += irand(0, 2), p.w_out += irand(0, 2);
        if (p.n * p.c * p.h_in * p.w_in > MAXN / 2 || p.n * p.c * p.h_out * p.w_out > MAXN / 2) p.n = p.c = 1;
        p.count_include_pad = irand(0, 1);
        p.dtype = irand(2, 3);
        p.x_zero = rand_zero(p.dtype);
        p.y_zero = rand_zero(p.dtype);
        p.rq_first = global && irand(0, 1) ? p.k_h * p.k_w : 1;
        qpool_rq(&p, p.k_h * p.k_w);
        check_qpool(&p, is_max, is_max ? (global ? "qmaxpool(global)" : "qmaxpool")
                                       : (global ? "qavgpool(global)" : "qavgpool"), id);
    }
    /* global average / max pools of MobileNet / ResNet-like shapes */
    for (g = 0; g < (int)(sizeof global_hw / sizeof global_hw[0]); g++)
        for (id = 0; id < 8; id++) {
            tb_qpool_params p;
            memset(&p, 0, sizeof p);
            p.n = 1, p.c = irand(1, 5);
            p.h_in = p.k_h = global_hw[g][0], p.w_in = p.k_w = global_hw[g][1];
            p.h_out = p.w_out = p.stride_h = p.stride_w = p.dil_h = p.dil_w = 1;
            p.count_include_pad = id & 1;
            p.dtype = 2 + (id >> 1 & 1);
            p.x_zero = id < 4 ? (p.dtype == 2 ? 0 : -128) : rand_zero(p.dtype);
            p.y_zero = rand_zero(p.dtype);
            p.rq_first = p.k_h * p.k_w;
            qpool_rq(&p, p.rq_first);
            check_qpool(&p, id == 7, id == 7 ? "qmaxpool(global)" : "qavgpool(global)", g * 8 + id);
        }
    /* the fast max pool paths by name: 2x2 / 3x3 stride 2 on 28 and 112 wide
     * planes (Fashion CNN, ResNet), no column without clipping (w_in 2, k 3) */
    for (id = 0; id < 12; id++) {
        tb_qpool_params p;
        memset(&p, 0, sizeof p);
        p.n = 1, p.c = 2, p.dil_h = p.dil_w = 1, p.dtype = 2 + (id & 1); /* 2 x 112 x 112 < MAXN */
        p.k_h = p.k_w = id < 4 ? 2 : 3, p.stride_h = p.stride_w = 2;
        p.h_in = p.w_in = id < 4 ? 28 : id < 8 ? 112 : 2;
        p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = id < 4 ? 0 : 1;
        p.h_out = (p.h_in + 2 * p.pad_top - p.k_h) / 2 + 1, p.w_out = (p.w_in + 2 * p.pad_left - p.k_w) / 2 + 1;
        p.count_include_pad = id >> 1 & 1;
        p.x_zero = p.dtype == 2 ? 3 : -5, p.y_zero = p.dtype == 2 ? 7 : 2, p.rq_first = 1;
        qpool_rq(&p, p.k_h * p.k_w);
        check_qpool(&p, irand(0, 1), "qpool(named)", id);
    }
}

static void test_quantize(void)
{
    int id, i, a, o;
    for (id = 0; id < 60; id++) {
        tb_qlinear_params p;
        float sc[8];
        uint8_t zp[8];
        int32_t zi[8];
        int has_zero = irand(0, 3) != 0;
        /* inner past 16: the vector loop (AVX-512) and its scalar tail */
        p.outer = irand(1, 3), p.axis = irand(1, 4), p.inner = id % 3 ? irand(1, 6) : irand(14, 70);
        p.dtype = irand(2, 3);
        for (a = 0; a < p.axis; a++) {
            sc[a] = 0.01f + 0.1f * (float)(rnd() % 1000) / 1000.0f;
            zi[a] = has_zero ? rand_zero(p.dtype) : 0;
            zp[a] = (uint8_t)zi[a];
        }
        for (i = 0; i < p.outer * p.axis * p.inner; i++) {
            X[i] = frand() * 20.0f;
            if (i % 7 == 3) X[i] = (float)irand(-40, 40) * 0.5f * sc[(i / p.inner) % p.axis]; /* exact ties */
            if (i % 23 == 5) X[i] = irand(0, 1) ? 1e30f : -1e30f;
            if (i % 29 == 7) X[i] = irand(0, 1) ? INFINITY : -INFINITY;
            if (i % 31 == 11) X[i] = NAN; /* the zero point */
        }
        tb_quantize_f32(&p, X, sc, has_zero ? zp : NULL, QY);
        i = 0;
        for (o = 0; o < p.outer; o++)
            for (a = 0; a < p.axis; a++) {
                int j;
                for (j = 0; j < p.inner; j++, i++) {
                    /* round half to even of the float quotient, then saturate */
                    double q = (double)(X[i] / sc[a]), r = floor(q), v;
                    if (q - r > 0.5 || (q - r == 0.5 && fmod(r, 2.0) != 0)) r += 1;
                    v = clampd(r + zi[a], p.dtype == 2 ? 0 : -128, p.dtype == 2 ? 255 : 127);
                    if (X[i] != X[i]) v = zi[a];
                    QWANT[i] = (int32_t)v;
                }
            }
        read_out(p.dtype, i);
        check_ints("quantize", id, QGOT, QWANT, i);
        /* and back */
        p.dtype = irand(0, 3) == 0 ? 6 : p.dtype;
        if (p.dtype == 6)
            for (i = 0; i < p.outer * p.axis * p.inner; i++) ((int32_t *)(void *)QX)[i] = irand(-100000, 100000);
        else
            memcpy(QX, QY, (size_t)(p.outer * p.axis * p.inner));
        poison();
        tb_dequantize_f32(&p, QX, sc, p.dtype == 6 ? NULL : (has_zero ? zp : NULL), Y);
        i = 0;
        for (o = 0; o < p.outer; o++)
            for (a = 0; a < p.axis; a++) {
                int j;
                for (j = 0; j < p.inner; j++, i++) {
                    int32_t q = p.dtype == 6 ? ((int32_t *)(void *)QX)[i] : ld8(QX, i, p.dtype);
                    int32_t z = p.dtype == 6 || !has_zero ? 0 : zi[a];
                    R[i] = (double)((float)(q - z) * sc[a]);
                }
            }
        check_f("dequantize", id, Y, R, NULL, i);
    }
}

static void test_quantized(void)
{
    test_requant_helpers();
    test_requantize_row();
    g_saturated_lo = g_saturated_hi = 0;
    test_qconv();
    test_qconv_depthwise();
    test_qconv_depthwise_3x3();
    test_qconv_gemm();
    test_qconv_gemm_ties();
    test_qmatmul();
    test_qadd();
    test_qadd_flat();
    test_qrescale_lut();
    test_qpool();
    test_quantize();
    /* the random cases must have reached both ends of the output range */
    if (g_saturated_lo < 10 || g_saturated_hi < 10) {
        printf("FAIL quantized: saturation not exercised (%d low, %d high)\n", g_saturated_lo, g_saturated_hi);
        g_fail++;
    } else {
        g_pass++;
    }
}

/* ---- ops3 kernels ---- */

/* ConvTranspose against its gather form: y[oh, ow] sums x[ih, iw] * w[kh, kw]
 * over ih*s - pad + kh*dil == oh, enumerated from the output side. */
static void test_convtranspose(void)
{
    int id;
    for (id = 0; id < 40; id++) {
        tb_convtranspose_params p;
        int n, co, oh, ow, ci, kh, kw, ih, iw, cnt;
        memset(&p, 0, sizeof p);
        p.group = irand(1, 2);
        p.n = irand(1, 2);
        p.c_in = p.group * irand(1, 2);
        p.c_out = p.group * irand(1, 3);
        p.h_in = irand(1, 4), p.w_in = irand(1, 5);
        p.k_h = irand(1, 3), p.k_w = irand(1, 3);
        p.stride_h = irand(1, 3), p.stride_w = irand(1, 3);
        p.dil_h = irand(1, 2), p.dil_w = irand(1, 2);
        p.pad_top = irand(-1, 1), p.pad_left = irand(0, 2);
        p.h_out = irand(1, 9), p.w_out = irand(1, 9);
        fill(X, p.n * p.c_in * p.h_in * p.w_in);
        fill(W, p.c_in * (p.c_out / p.group) * p.k_h * p.k_w);
        fill(B, p.c_out);
        cnt = 0;
        for (n = 0; n < p.n; n++)
            for (co = 0; co < p.c_out; co++)
                for (oh = 0; oh < p.h_out; oh++)
                    for (ow = 0; ow < p.w_out; ow++) {
                        const int g = co / (p.c_out / p.group), cog = p.c_out / p.group, cig = p.c_in / p.group;
                        double acc = B[co], mag = fabs(B[co]);
                        for (ci = g * cig; ci < (g + 1) * cig; ci++)
                            for (kh = 0; kh < p.k_h; kh++)
                                for (kw = 0; kw < p.k_w; kw++) {
                                    const int th = oh + p.pad_top - kh * p.dil_h, tw = ow + p.pad_left - kw * p.dil_w;
                                    double t;
                                    if (th < 0 || tw < 0 || th % p.stride_h || tw % p.stride_w)
                                        continue;
                                    ih = th / p.stride_h, iw = tw / p.stride_w;
                                    if (ih >= p.h_in || iw >= p.w_in)
                                        continue;
                                    t = (double)X[((n * p.c_in + ci) * p.h_in + ih) * p.w_in + iw] *
                                        W[((ci * cog + co % cog) * p.k_h + kh) * p.k_w + kw];
                                    acc += t;
                                    mag += fabs(t);
                                }
                        R[cnt] = acc, M[cnt] = mag, cnt++;
                    }
        poison();
        tb_convtranspose_f32(&p, X, W, id % 3 ? B : NULL, Y);
        if (id % 3 == 0) {
            int i;
            for (i = 0; i < cnt; i++)
                R[i] -= B[(i / (p.h_out * p.w_out)) % p.c_out];
        }
        check_f("convtranspose", id, Y, R, M, cnt);
    }
}

/* Resize, linear with align_corners and nearest asymmetric floor, against
 * the closed forms; cubic at integer coordinates reproduces x. */
static void test_resize(void)
{
    int id;
    for (id = 0; id < 20; id++) {
        tb_resize_params p;
        int o, i, j, cnt = 0;
        memset(&p, 0, sizeof p);
        p.outer = irand(1, 3), p.h_in = irand(1, 4), p.w_in = irand(1, 4);
        p.h_out = irand(1, 7), p.w_out = irand(1, 7);
        p.scale_h = (float)p.h_out / p.h_in, p.scale_w = (float)p.w_out / p.w_in;
        p.mode = id % 2 ? TB_RESIZE_LINEAR : TB_RESIZE_NEAREST;
        p.coord = id % 2 ? TB_RESIZE_ALIGN_CORNERS : TB_RESIZE_ASYMMETRIC;
        p.nearest = TB_RESIZE_FLOOR;
        fill(X, p.outer * p.h_in * p.w_in);
        for (o = 0; o < p.outer; o++)
            for (i = 0; i < p.h_out; i++)
                for (j = 0; j < p.w_out; j++) {
                    const float *xo = X + o * p.h_in * p.w_in;
                    double v;
                    if (id % 2) {
                        double ch = p.h_out > 1 ? (double)i * (p.h_in - 1) / (p.h_out - 1) : 0;
                        double cw = p.w_out > 1 ? (double)j * (p.w_in - 1) / (p.w_out - 1) : 0;
                        int h0 = (int)floor(ch), w0 = (int)floor(cw);
                        int h1 = h0 + 1 < p.h_in ? h0 + 1 : h0, w1 = w0 + 1 < p.w_in ? w0 + 1 : w0;
                        double th = ch - h0, tw = cw - w0;
                        v = (1 - th) * ((1 - tw) * xo[h0 * p.w_in + w0] + tw * xo[h0 * p.w_in + w1]) +
                            th * ((1 - tw) * xo[h1 * p.w_in + w0] + tw * xo[h1 * p.w_in + w1]);
                    } else {
                        int hi = (int)floor(i / (double)p.scale_h), wi = (int)floor(j / (double)p.scale_w);
                        hi = hi < p.h_in ? hi : p.h_in - 1, wi = wi < p.w_in ? wi : p.w_in - 1;
                        v = xo[hi * p.w_in + wi];
                    }
                    R[cnt] = v, M[cnt] = 2.0, cnt++;
                }
        poison();
        tb_resize_f32(&p, X, Y);
        check_f("resize", id, Y, R, M, cnt);
    }
    {
        /* cubic, scale 1, half_pixel: every coordinate is an integer */
        tb_resize_params p;
        int i;
        memset(&p, 0, sizeof p);
        p.outer = 2, p.h_in = p.h_out = 3, p.w_in = p.w_out = 4;
        p.scale_h = p.scale_w = 1.0f, p.mode = TB_RESIZE_CUBIC, p.cubic_a = -0.75f;
        fill(X, 24);
        for (i = 0; i < 24; i++)
            R[i] = X[i], M[i] = 1.0;
        poison();
        tb_resize_f32(&p, X, Y);
        check_f("resize cubic identity", 0, Y, R, M, 24);
    }
}

/* MVN against two-pass mean / variance in double. */
static void test_mvn(void)
{
    int id;
    for (id = 0; id < 10; id++) {
        tb_mvn_params p;
        int32_t st[TB_RT_MAX_RANK];
        int d, i, j, count = 1, total = 1;
        memset(&p, 0, sizeof p);
        p.rank = irand(1, 4);
        for (d = 0; d < p.rank; d++) {
            p.dims[d] = irand(1, 4);
            p.mask[d] = irand(0, 1);
            total *= p.dims[d];
            if (p.mask[d])
                count *= p.dims[d];
        }
        dense_strides(p.rank, p.dims, st);
        fill(X, total);
        for (i = 0; i < total; i++) {
            double mean = 0, var = 0;
            for (j = 0; j < total; j++) {
                int same = 1;
                for (d = 0; d < p.rank; d++)
                    if (!p.mask[d] && (i / st[d]) % p.dims[d] != (j / st[d]) % p.dims[d])
                        same = 0;
                if (same)
                    mean += X[j];
            }
            mean /= count;
            for (j = 0; j < total; j++) {
                int same = 1;
                for (d = 0; d < p.rank; d++)
                    if (!p.mask[d] && (i / st[d]) % p.dims[d] != (j / st[d]) % p.dims[d])
                        same = 0;
                if (same)
                    var += (X[j] - mean) * (X[j] - mean);
            }
            var /= count;
            R[i] = (X[i] - mean) / (sqrt(var) + 1e-9);
            M[i] = 1e-3 + fabs(R[i]) * 10;
        }
        poison();
        tb_mvn_f32(&p, X, Y);
        check_f("mvn", id, Y, R, M, total);
    }
}

/* TopK against a stable selection sort, with ties. */
static void test_topk(void)
{
    static int64_t idx[MAXN], want_i[MAXN];
    int id;
    for (id = 0; id < 20; id++) {
        tb_topk_params p;
        int o, i, r, j, used[16];
        p.outer = irand(1, 3), p.axis = irand(1, 8), p.inner = irand(1, 3);
        p.k = irand(0, p.axis), p.largest = id % 2;
        for (i = 0; i < p.outer * p.axis * p.inner; i++)
            X[i] = (float)irand(-3, 3); /* many ties */
        for (o = 0; o < p.outer; o++)
            for (i = 0; i < p.inner; i++) {
                for (j = 0; j < p.axis; j++)
                    used[j] = 0;
                for (r = 0; r < p.k; r++) {
                    int best = -1;
                    for (j = 0; j < p.axis; j++) {
                        float v = X[(o * p.axis + j) * p.inner + i];
                        if (used[j])
                            continue;
                        if (best < 0 || (p.largest ? v > X[(o * p.axis + best) * p.inner + i]
                                                   : v < X[(o * p.axis + best) * p.inner + i]))
                            best = j;
                    }
                    used[best] = 1;
                    R[(o * p.k + r) * p.inner + i] = X[(o * p.axis + best) * p.inner + i];
                    want_i[(o * p.k + r) * p.inner + i] = best;
                }
            }
        poison();
        tb_topk_f32(&p, X, Y, idx);
        check_f("topk values", id, Y, R, NULL, p.outer * p.k * p.inner);
        check_i64("topk indices", id, idx, want_i, p.outer * p.k * p.inner);
    }
}

/* Contraction as a batched matmul with a transposed operand, and as a
 * diagonal sum (one operand). */
static void test_contract(void)
{
    int id;
    for (id = 0; id < 10; id++) {
        tb_contract_params p;
        int bb, i, j, k, nb = irand(1, 3), m = irand(1, 4), n = irand(1, 4), kk = irand(1, 5);
        memset(&p, 0, sizeof p);
        /* y[b, i, j] = sum_k a[b, i, k] * b[b, j, k]  ("bik,bjk->bij") */
        p.rank = 4, p.out_rank = 3;
        p.dims[0] = nb, p.dims[1] = m, p.dims[2] = n, p.dims[3] = kk;
        p.a_strides[0] = m * kk, p.a_strides[1] = kk, p.a_strides[3] = 1;
        p.b_strides[0] = n * kk, p.b_strides[2] = kk, p.b_strides[3] = 1;
        fill(X, nb * m * kk);
        fill(W, nb * n * kk);
        for (bb = 0; bb < nb; bb++)
            for (i = 0; i < m; i++)
                for (j = 0; j < n; j++) {
                    double acc = 0, mag = 0;
                    for (k = 0; k < kk; k++) {
                        double t = (double)X[(bb * m + i) * kk + k] * W[(bb * n + j) * kk + k];
                        acc += t, mag += fabs(t);
                    }
                    R[(bb * m + i) * n + j] = acc, M[(bb * m + i) * n + j] = mag;
                }
        poison();
        tb_contract(&p, X, W, Y);
        check_f("contract bik,bjk->bij", id, Y, R, M, nb * m * n);
    }
    {
        /* "ii->" : the trace of a 3x3 matrix, one operand */
        tb_contract_params p;
        memset(&p, 0, sizeof p);
        p.rank = 1, p.out_rank = 0, p.dims[0] = 3, p.a_strides[0] = 4;
        fill(X, 9);
        R[0] = (double)X[0] + X[4] + X[8];
        M[0] = fabs(X[0]) + fabs(X[4]) + fabs(X[8]);
        poison();
        tb_contract(&p, X, NULL, Y);
        check_f("contract ii->", 0, Y, R, M, 1);
    }
}

int main(void)
{
    test_conv();
    test_conv_blocked();
    test_conv_im2col();
    test_conv_depthwise();
    test_gemm();
    test_matmul();
    test_binary();
    test_binary_i64();
    test_unary();
    test_pool();
    test_pool_exact();
    test_batchnorm();
    test_softmax();
    test_reduce();
    test_copy();
    test_gather();
    test_pad();
    test_cast();
    test_binary_any();
    test_where();
    test_unary_bool();
    test_axis_kernels();
    test_norms();
    test_gather_elements_trilu();
    test_quantized();
    test_convtranspose();
    test_resize();
    test_mvn();
    test_topk();
    test_contract();
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail != 0;
}
