/* conv.c - tb_conv_f32: 1-D/2-D grouped convolution (NCHW, depthwise when
 * group == c_in) with bias and a fused clamp.
 *
 * Depthwise convs (one input and one output channel per group) run the
 * direct kernel of conv_depthwise.c. Every other group is one GEMM
 * (gemm_pack.c): y_g[cog, out_plane] = w_g[cog, cig*k_h*k_w] x_g', where
 * x_g' is x_g itself for a 1x1 stride-1 unpadded conv and otherwise its
 * im2col matrix, never stored whole: the GEMM asks for it a panel of at most
 * TB_GEMM_KC rows at a time and pack_im2col builds that panel.
 */
#include "tb_runtime.h"

typedef struct {
    const tb_conv_params *p;
    const float *x; /* the group's first input channel */
} im2col_ctx;

/* The output positions j0 .. j0 + nr of a panel (nr <= 32) as runs along
 * output rows: each run's first panel column, length, and the input row and
 * column of its first window. */
typedef struct {
    int32_t n, ih[32], iw[32];
    int16_t t[32], len[32]; /* at most 32 */
} im2col_runs;

/* Panel columns [a, b) of one row read the channel plane at
 * off + (t - a) * stride_w: the valid part of one run for one window
 * position (kh, kw). */
typedef struct {
    int32_t off;
    int16_t a, b;
} im2col_seg;

/* Segment scratch for up to TB_IM2COL_POS window positions, room for one
 * segment per run (at most 32) each: more than one position lets a whole
 * kernel's positions be worked out once per panel instead of once per row. */
#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
#define TB_IM2COL_SEGS 32
#define TB_IM2COL_POS 8
#else
#define TB_IM2COL_SEGS 128
#define TB_IM2COL_POS 64
#endif

#if !defined(TB_NO_SIMD) && defined(__AVX512F__)
#include <immintrin.h>
#define TB_IM2COL_AVX512 1
#endif

static void find_runs(const tb_conv_params *p, int32_t j0, int32_t nr, im2col_runs *r)
{
    int32_t t = 0;
    r->n = 0;
    while (t < nr && r->n < 32) {
        const int32_t pos = j0 + t;
        const int32_t ow = pos % p->w_out;
        int32_t len = p->w_out - ow;
        if (len > nr - t)
            len = nr - t;
        r->t[r->n] = (int16_t)t;
        r->ih[r->n] = pos / p->w_out * p->stride_h - p->pad_top;
        r->iw[r->n] = ow * p->stride_w - p->pad_left;
        r->len[r->n++] = (int16_t)len;
        t += len;
    }
}

/* The segments of window position kpos = kh * k_w + kw, in column order;
 * returns their count (at most r->n). With stride_w 1 or 2 a run's valid
 * columns need no division. */
static int32_t kpos_segs(const tb_conv_params *p, const im2col_runs *r, int32_t kpos, im2col_seg *seg)
{
    const int32_t dh = kpos / p->k_w * p->dil_h, dw = kpos % p->k_w * p->dil_w;
    int32_t i, n = 0;
    for (i = 0; i < r->n; i++) {
        const int32_t ih = r->ih[i] + dh, iw0 = r->iw[i] + dw, len = r->len[i];
        int32_t lo, hi;
        if (ih < 0 || ih >= p->h_in)
            continue;
        if (p->stride_w == 1) {
            lo = iw0 < 0 ? -iw0 : 0;
            hi = p->w_in - iw0;
        } else if (p->stride_w == 2) {
            /* the ceilings of tb_index_span, as shifts of positive numbers */
            lo = iw0 < 0 ? (1 - iw0) >> 1 : 0;
            hi = iw0 < p->w_in ? (p->w_in - iw0 + 1) >> 1 : 0;
        } else {
            tb_index_span(iw0, p->stride_w, len, p->w_in, &lo, &hi);
        }
        if (hi > len)
            hi = len;
        if (lo >= hi) /* also when lo passes the run in the left padding */
            continue;
        seg[n].off = ih * p->w_in + iw0 + lo * p->stride_w;
        seg[n].a = (int16_t)(r->t[i] + lo);
        seg[n].b = (int16_t)(r->t[i] + hi);
        n++;
    }
    return n;
}

/* Segments of window positions kpos0, kpos0 + 1, ... while room for r->n
 * segments each fits (at least kpos0 itself): position kpos0 + q owns
 * seg[end[q] .. end[q + 1]). Returns the number of positions covered. */
static int32_t fill_segs(const tb_conv_params *p, const im2col_runs *r, int32_t kpos0,
                         im2col_seg *seg, int32_t *end)
{
    const int32_t ksize = p->k_h * p->k_w;
    int32_t q = 0;
    end[0] = 0;
    while (kpos0 + q < ksize && q < TB_IM2COL_POS && (q + 1) * r->n <= TB_IM2COL_SEGS) {
        end[q + 1] = end[q] + kpos_segs(p, r, kpos0 + q, seg + end[q]);
        q++;
    }
    return q;
}

#if defined(TB_IM2COL_AVX512)
/* One 16-lane half of a 32-wide panel row, filled from one segment: a
 * masked load (stride_w 1) or, for stride_w 2, two masked loads of the 32
 * floats from off and a permute that keeps the even ones. Masked-off lanes
 * are never read, so off may point outside the input. */
typedef struct {
    int32_t off;        /* plane offset that the half's lane 0 reads */
    uint32_t load_mask; /* the floats from off that are read */
    __mmask16 lanes;    /* the half's lanes that the segment fills */
} im2col_half;

/* The segments of positions [0, npos) as half entries, each half padded
 * with empty entries (no lanes, nothing read) to the same count, *width, so
 * that the row loops run a fixed number of times: position q owns
 * ent[2 q * width .. (2 q + 1) * width) for lanes 0..15 and the next width
 * entries for lanes 16..31. */
static void half_entries(const im2col_seg *seg, const int32_t *end, int32_t npos, int32_t sw,
                         im2col_half *ent, int32_t *width)
{
    int32_t q, h, i, w = 1; /* at least 1: the row loop prefetches from entry 0 */
    for (q = 0; q < npos; q++)
        for (h = 0; h < 32; h += 16) {
            int32_t n = 0;
            for (i = end[q]; i < end[q + 1]; i++)
                n += seg[i].a < h + 16 && seg[i].b > h;
            w = n > w ? n : w;
        }
    for (q = 0; q < npos; q++)
        for (h = 0; h < 32; h += 16) {
            im2col_half *e = ent + (2 * q + h / 16) * w;
            int32_t n = 0;
            for (i = end[q]; i < end[q + 1]; i++) {
                /* the segment's lanes in this half, from 0 */
                const int32_t a = (seg[i].a > h ? seg[i].a : h) - h;
                const int32_t b = (seg[i].b < h + 16 ? seg[i].b : h + 16) - h;
                if (a >= b)
                    continue;
                e[n].off = seg[i].off + (h - seg[i].a) * sw;
                e[n].lanes = (__mmask16)(((1u << b) - 1u) & ~((1u << a) - 1u));
                /* stride 2: lane t reads float 2 t, the span 2 a .. 2 b - 2 */
                e[n].load_mask = sw == 1 ? e[n].lanes : ((1u << (2 * b - 1)) - 1u) & ~((1u << (2 * a)) - 1u);
                n++;
            }
            for (; n < w; n++) {
                e[n].off = 0;
                e[n].lanes = 0;
                e[n].load_mask = 0;
            }
        }
    *width = w;
}

/* pack_im2col for 32-wide panels and stride_w 1 or 2: each panel row is
 * two stores of vectors built from a few masked loads. */
static void pack_rows_avx512(const im2col_ctx *ctx, const im2col_runs *runs, int32_t k0, int32_t kc,
                             float *panel)
{
    const tb_conv_params *p = ctx->p;
    const int64_t in_plane = (int64_t)p->h_in * p->w_in;
    const int32_t ksize = p->k_h * p->k_w;
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    im2col_seg seg[TB_IM2COL_SEGS];
    im2col_half ent[2 * TB_IM2COL_SEGS];
    int32_t end[TB_IM2COL_POS + 1];
    int32_t kk, ic = k0 / ksize, kpos = k0 % ksize, pos0 = 0, npos = 0, width = 0;
    for (kk = 0; kk < kc; kk++) {
        const float *xc = ctx->x + ic * in_plane;
        __m512 v0 = _mm512_setzero_ps(), v1 = _mm512_setzero_ps();
        const im2col_half *e0, *e1;
        int32_t i;
        if (kpos < pos0 || kpos >= pos0 + npos) {
            pos0 = kpos;
            npos = fill_segs(p, runs, kpos, seg, end);
            half_entries(seg, end, npos, p->stride_w, ent, &width);
        }
        e0 = ent + 2 * (kpos - pos0) * width;
        e1 = e0 + width;
        /* the same position in the channel after next: L2 latency hides behind two channels' rows */
        _mm_prefetch((const char *)(xc + 2 * in_plane + e0[0].off + 16), _MM_HINT_T0);
        _mm_prefetch((const char *)(xc + 2 * in_plane + e1[width - 1].off + 16), _MM_HINT_T0);
        if (p->stride_w == 1) {
            for (i = 0; i < width; i++) {
                v0 = _mm512_mask_loadu_ps(v0, e0[i].lanes, xc + e0[i].off);
                v1 = _mm512_mask_loadu_ps(v1, e1[i].lanes, xc + e1[i].off);
            }
        } else {
            for (i = 0; i < width; i++) {
                const float *s0 = xc + e0[i].off, *s1 = xc + e1[i].off;
                v0 = _mm512_mask_mov_ps(v0, e0[i].lanes,
                                        _mm512_permutex2var_ps(_mm512_maskz_loadu_ps((__mmask16)e0[i].load_mask, s0), even,
                                                               _mm512_maskz_loadu_ps((__mmask16)(e0[i].load_mask >> 16), s0 + 16)));
                v1 = _mm512_mask_mov_ps(v1, e1[i].lanes,
                                        _mm512_permutex2var_ps(_mm512_maskz_loadu_ps((__mmask16)e1[i].load_mask, s1), even,
                                                               _mm512_maskz_loadu_ps((__mmask16)(e1[i].load_mask >> 16), s1 + 16)));
            }
        }
        _mm512_storeu_ps(panel + (int64_t)kk * 32, v0);
        _mm512_storeu_ps(panel + (int64_t)kk * 32 + 16, v1);
        if (++kpos == ksize) {
            kpos = 0;
            ic++;
        }
    }
}
#endif

/* pack_im2col for any panel width and stride: each panel row is zeroed,
 * then its segments copied, in loops that compilers vectorise. */
static void pack_rows_plain(const im2col_ctx *ctx, const im2col_runs *runs, int32_t k0, int32_t kc,
                            float *panel, int32_t ldp)
{
    const tb_conv_params *p = ctx->p;
    const int64_t in_plane = (int64_t)p->h_in * p->w_in;
    const int32_t ksize = p->k_h * p->k_w;
    im2col_seg seg[TB_IM2COL_SEGS];
    int32_t end[TB_IM2COL_POS + 1];
    int32_t kk, ic = k0 / ksize, kpos = k0 % ksize, pos0 = 0, npos = 0;
    for (kk = 0; kk < kc; kk++) {
        const float *xc = ctx->x + ic * in_plane;
        float *restrict dst = panel + (int64_t)kk * ldp;
        int32_t i, u;
        if (kpos < pos0 || kpos >= pos0 + npos) {
            pos0 = kpos;
            npos = fill_segs(p, runs, kpos, seg, end);
        }
        for (u = 0; u < ldp; u++)
            dst[u] = 0.0f;
        for (i = end[kpos - pos0]; i < end[kpos - pos0 + 1]; i++) {
            const float *restrict src = xc + seg[i].off;
            float *restrict d = dst + seg[i].a;
            const int32_t len = seg[i].b - seg[i].a;
            if (p->stride_w == 1)
                for (u = 0; u < len; u++)
                    d[u] = src[u];
            else
                for (u = 0; u < len; u++)
                    d[u] = src[(int64_t)u * p->stride_w];
        }
        if (++kpos == ksize) {
            kpos = 0;
            ic++;
        }
    }
}

/* panel[kk * ldp + t] = x at the input position that output position j0 + t
 * reads for the row k0 + kk = (ic * k_h + kh) * k_w + kw, 0 in the padding
 * and for t >= nr. The rows are walked with running (ic, kh * k_w + kw)
 * counters; the segments of the window positions are worked out once per
 * panel (or once per few rows when they do not all fit). */
static void pack_im2col(const void *vctx, int32_t k0, int32_t kc, int32_t j0, int32_t nr,
                        float *panel, int32_t ldp)
{
    const im2col_ctx *ctx = (const im2col_ctx *)vctx;
    im2col_runs runs;
    find_runs(ctx->p, j0, nr, &runs);
#if defined(TB_IM2COL_AVX512)
    if (ldp == 32 && ctx->p->stride_w <= 2) {
        pack_rows_avx512(ctx, &runs, k0, kc, panel);
        return;
    }
#endif
    pack_rows_plain(ctx, &runs, k0, kc, panel, ldp);
}

void tb_conv_f32(const tb_conv_params *p, const float *x, const float *w,
                 const float *b, float *y)
{
    const int32_t cig = p->c_in / p->group;   /* input channels per group */
    const int32_t cog = p->c_out / p->group;  /* output channels per group */
    const int64_t in_plane = (int64_t)p->h_in * p->w_in;
    const int64_t out_plane = (int64_t)p->h_out * p->w_out;
    const int32_t ksize = p->k_h * p->k_w;
    const int pointwise = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 &&
                          p->stride_w == 1 && p->pad_top == 0 && p->pad_left == 0 &&
                          p->h_out == p->h_in && p->w_out == p->w_in;
    int32_t n, g;

    if (cig == 1 && cog == 1) {
        tb_conv_depthwise_f32(p, x, w, b, y);
        return;
    }
    for (n = 0; n < p->n; n++) {
        for (g = 0; g < p->group; g++) {
            im2col_ctx ctx;
            tb_gemm_core gc;
            ctx.p = p;
            ctx.x = x + ((int64_t)n * p->c_in + (int64_t)g * cig) * in_plane;
            gc.m = cog;
            gc.n = (int32_t)out_plane;
            gc.k = cig * ksize;
            gc.a = w + (int64_t)g * cog * cig * ksize;
            gc.lda = cig * ksize;
            gc.b = pointwise ? ctx.x : 0;
            gc.ldb = (int32_t)in_plane;
            gc.pack = pack_im2col;
            gc.ctx = &ctx;
            gc.bias = b ? b + (int64_t)g * cog : 0;
            gc.y = y + ((int64_t)n * p->c_out + (int64_t)g * cog) * out_plane;
            gc.ldy = (int32_t)out_plane;
            gc.act_min = p->act_min;
            gc.act_max = p->act_max;
            tb_gemm_core_f32(&gc);
        }
    }
}
