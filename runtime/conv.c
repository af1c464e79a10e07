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

/* panel[kk * ldp + t] = x at the input position that output position j0 + t
 * reads for the row k0 + kk = (ic * k_h + kh) * k_w + kw, 0 in the padding.
 * The rows are walked with running (ic, kh, kw) counters, and with stride_w 1
 * a run's valid columns need no division. */
static void pack_im2col(const void *vctx, int32_t k0, int32_t kc, int32_t j0, int32_t nr,
                        float *panel, int32_t ldp)
{
    const im2col_ctx *ctx = (const im2col_ctx *)vctx;
    const tb_conv_params *p = ctx->p;
    const int64_t in_plane = (int64_t)p->h_in * p->w_in;
    const int32_t ksize = p->k_h * p->k_w;
    /* the output positions j0 .. j0 + nr (nr <= 32) as runs along output
     * rows: the input row and column of each run's first window */
    int32_t run_ih[32], run_iw[32], run_len[32], n_runs = 0, t = 0;
    int32_t kk, ic = k0 / ksize, kh = (k0 % ksize) / p->k_w, kw = k0 % p->k_w;
    while (t < nr && n_runs < 32) {
        const int32_t pos = j0 + t;
        const int32_t ow = pos % p->w_out;
        int32_t len = p->w_out - ow;
        if (len > nr - t)
            len = nr - t;
        run_ih[n_runs] = pos / p->w_out * p->stride_h - p->pad_top;
        run_iw[n_runs] = ow * p->stride_w - p->pad_left;
        run_len[n_runs++] = len;
        t += len;
    }
    for (kk = 0; kk < kc; kk++) {
        const float *xc = ctx->x + ic * in_plane;
        const int32_t dh = kh * p->dil_h, dw = kw * p->dil_w;
        float *restrict dst = panel + (int64_t)kk * ldp;
        int32_t r, u;
        for (r = 0, t = 0; r < n_runs; t += run_len[r], r++) {
            const int32_t ih = run_ih[r] + dh, iw0 = run_iw[r] + dw, len = run_len[r];
            int32_t lo, hi;
            float *restrict d = dst + t;
            if (ih < 0 || ih >= p->h_in) {
                for (u = 0; u < len; u++)
                    d[u] = 0.0f;
                continue;
            }
            if (p->stride_w == 1) {
                lo = iw0 < 0 ? -iw0 : 0;
                hi = p->w_in - iw0;
            } else {
                tb_index_span(iw0, p->stride_w, len, p->w_in, &lo, &hi);
            }
            /* lo may pass the run when it lies in the left padding */
            if (lo > len)
                lo = len;
            if (hi > len)
                hi = len;
            if (hi < lo)
                hi = lo;
            for (u = 0; u < lo; u++)
                d[u] = 0.0f;
            if (hi > lo) {
                /* start at the first valid column: no pointer outside the input */
                const float *restrict xr = xc + (int64_t)ih * p->w_in + iw0 + (int64_t)lo * p->stride_w;
                if (p->stride_w == 1)
                    for (u = lo; u < hi; u++)
                        d[u] = xr[u - lo];
                else
                    for (u = lo; u < hi; u++)
                        d[u] = xr[(int64_t)(u - lo) * p->stride_w];
            }
            for (u = hi; u < len; u++)
                d[u] = 0.0f;
        }
        for (u = nr; u < ldp; u++)
            dst[u] = 0.0f;
        if (++kw == p->k_w) {
            kw = 0;
            if (++kh == p->k_h) {
                kh = 0;
                ic++;
            }
        }
    }
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
