/* convtranspose.c - tb_convtranspose_f32: the transposed (fractionally
 * strided) convolution, as the scatter of every input element through the
 * kernel into a zeroed output.
 */
#include "tb_runtime.h"

void tb_convtranspose_f32(const tb_convtranspose_params *p, const float *x, const float *w, const float *b,
                          float *y)
{
    const int32_t cig = p->c_in / p->group, cog = p->c_out / p->group;
    const int64_t osz = (int64_t)p->h_out * p->w_out, isz = (int64_t)p->h_in * p->w_in;
    int32_t n, ci, co, ih, iw, kh, kw;
    for (n = 0; n < p->n; n++)
        for (co = 0; co < p->c_out; co++) {
            float *yc = y + ((int64_t)n * p->c_out + co) * osz;
            const float bias = b ? b[co] : 0.0f;
            int64_t i;
            for (i = 0; i < osz; i++)
                yc[i] = bias;
        }
    for (n = 0; n < p->n; n++)
        for (ci = 0; ci < p->c_in; ci++) {
            const int32_t grp = ci / cig;
            const float *xc = x + ((int64_t)n * p->c_in + ci) * isz;
            for (co = 0; co < cog; co++) {
                /* w is [c_in, c_out / group, k_h, k_w] */
                const float *wk = w + ((int64_t)ci * cog + co) * p->k_h * p->k_w;
                float *yc = y + ((int64_t)n * p->c_out + grp * cog + co) * osz;
                for (ih = 0; ih < p->h_in; ih++)
                    for (kh = 0; kh < p->k_h; kh++) {
                        const int32_t oh = ih * p->stride_h - p->pad_top + kh * p->dil_h;
                        if (oh < 0 || oh >= p->h_out)
                            continue;
                        for (iw = 0; iw < p->w_in; iw++) {
                            const float xv = xc[(int64_t)ih * p->w_in + iw];
                            for (kw = 0; kw < p->k_w; kw++) {
                                const int32_t ow = iw * p->stride_w - p->pad_left + kw * p->dil_w;
                                if (ow >= 0 && ow < p->w_out)
                                    yc[(int64_t)oh * p->w_out + ow] += xv * wk[kh * p->k_w + kw];
                            }
                        }
                    }
            }
        }
}
