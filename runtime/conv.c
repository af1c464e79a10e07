/* conv.c - tb_conv_f32: 1-D/2-D grouped convolution (NCHW, depthwise when
 * group == c_in) with bias and a fused clamp. A 1x1 stride-1 unpadded conv
 * runs as a per-group GEMM over the whole H*W plane.
 */
#include "tb_runtime.h"

static void clamp_plane(float *y, int64_t cnt, float lo, float hi)
{
    int64_t i;
    for (i = 0; i < cnt; i++) {
        float v = y[i];
        y[i] = v < lo ? lo : (v > hi ? hi : v);
    }
}

void tb_conv_f32(const tb_conv_params *p, const float *x, const float *w,
                 const float *b, float *y)
{
    const int32_t cig = p->c_in / p->group;   /* input channels per group */
    const int32_t cog = p->c_out / p->group;  /* output channels per group */
    const int64_t in_plane = (int64_t)p->h_in * p->w_in;
    const int64_t out_plane = (int64_t)p->h_out * p->w_out;
    const int64_t ksize = (int64_t)p->k_h * p->k_w;
    const int pointwise = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 &&
                          p->stride_w == 1 && p->pad_top == 0 && p->pad_left == 0 &&
                          p->h_out == p->h_in && p->w_out == p->w_in;
    int32_t n, g, oc, ic, kh, kw, oh;

    for (n = 0; n < p->n; n++) {
        for (g = 0; g < p->group; g++) {
            const float *xg = x + ((int64_t)n * p->c_in + (int64_t)g * cig) * in_plane;
            for (oc = g * cog; oc < (g + 1) * cog; oc++) {
                float *yp = y + ((int64_t)n * p->c_out + oc) * out_plane;
                const float *wo = w + (int64_t)oc * cig * ksize;
                const float bias = b ? b[oc] : 0.0f;
                int64_t i;
                for (i = 0; i < out_plane; i++)
                    yp[i] = bias;

                if (pointwise) {
                    /* y[oc, :] += w[oc, ic] * x[ic, :] over the flat plane */
                    for (ic = 0; ic < cig; ic++) {
                        const float wv = wo[ic];
                        const float *xp = xg + (int64_t)ic * in_plane;
                        for (i = 0; i < out_plane; i++)
                            yp[i] += wv * xp[i];
                    }
                } else {
                    for (ic = 0; ic < cig; ic++) {
                        const float *xp = xg + (int64_t)ic * in_plane;
                        const float *wk = wo + (int64_t)ic * ksize;
                        for (kh = 0; kh < p->k_h; kh++) {
                            /* output rows whose input row for this kh is real */
                            int32_t oh_lo, oh_hi;
                            tb_index_span(kh * p->dil_h - p->pad_top, p->stride_h, p->h_out,
                                 p->h_in, &oh_lo, &oh_hi);
                            for (kw = 0; kw < p->k_w; kw++) {
                                const float wv = wk[kh * p->k_w + kw];
                                const int32_t iw0 = kw * p->dil_w - p->pad_left;
                                int32_t ow_lo, ow_hi;
                                tb_index_span(iw0, p->stride_w, p->w_out, p->w_in, &ow_lo, &ow_hi);
                                if (ow_lo >= ow_hi)
                                    continue;
                                for (oh = oh_lo; oh < oh_hi; oh++) {
                                    const int32_t ih = oh * p->stride_h + kh * p->dil_h - p->pad_top;
                                    /* start at the first valid column so no pointer
                                     * is ever formed outside the input */
                                    const float *xr = xp + ((int64_t)ih * p->w_in + iw0 +
                                                             (int64_t)ow_lo * p->stride_w);
                                    float *yr = yp + (int64_t)oh * p->w_out + ow_lo;
                                    const int32_t cnt = ow_hi - ow_lo;
                                    int32_t j;
                                    if (p->stride_w == 1) {
                                        for (j = 0; j < cnt; j++)
                                            yr[j] += wv * xr[j];
                                    } else {
                                        for (j = 0; j < cnt; j++)
                                            yr[j] += wv * xr[(int64_t)j * p->stride_w];
                                    }
                                }
                            }
                        }
                    }
                }
                clamp_plane(yp, out_plane, p->act_min, p->act_max);
            }
        }
    }
}
