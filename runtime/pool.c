/* pool.c - tb_maxpool_f32 and tb_avgpool_f32: 2-D NCHW pooling (1-D as H = 1)
 * with strides, dilations and asymmetric padding. Padding is never read: each
 * window is clipped to the real input before the inner loops.
 */
#include "tb_runtime.h"

/* is_max: max pool, else average pool. */
static void pool(const tb_pool_params *p, const float *x, float *y, int is_max)
{
    const int64_t in_plane = (int64_t)p->h_in * p->w_in;
    const int64_t planes = (int64_t)p->n * p->c;
    /* the padded input spans [-pad_top, h_in + pad_bottom) x [-pad_left, w_in + pad_right) */
    const int32_t h_pad = p->h_in + p->pad_top + p->pad_bottom;
    const int32_t w_pad = p->w_in + p->pad_left + p->pad_right;
    int64_t pl;
    int32_t oh, ow, kh, kw;

    for (pl = 0; pl < planes; pl++) {
        const float *xp = x + pl * in_plane;
        for (oh = 0; oh < p->h_out; oh++) {
            const int32_t ih0 = oh * p->stride_h - p->pad_top;
            int32_t kh_lo, kh_hi;
            tb_index_span(ih0, p->dil_h, p->k_h, p->h_in, &kh_lo, &kh_hi);
            for (ow = 0; ow < p->w_out; ow++) {
                const int32_t iw0 = ow * p->stride_w - p->pad_left;
                int32_t kw_lo, kw_hi, cnt;
                float acc;
                tb_index_span(iw0, p->dil_w, p->k_w, p->w_in, &kw_lo, &kw_hi);
                if (kh_lo >= kh_hi || kw_lo >= kw_hi) {
                    *y++ = 0.0f; /* window entirely in padding: no value to take */
                    continue;
                }
                acc = is_max ? xp[(int64_t)(ih0 + kh_lo * p->dil_h) * p->w_in +
                                  iw0 + kw_lo * p->dil_w]
                             : 0.0f;
                for (kh = kh_lo; kh < kh_hi; kh++) {
                    const float *xr = xp + (int64_t)(ih0 + kh * p->dil_h) * p->w_in;
                    for (kw = kw_lo; kw < kw_hi; kw++) {
                        const float v = xr[iw0 + kw * p->dil_w];
                        if (is_max)
                            acc = v > acc ? v : acc;
                        else
                            acc += v;
                    }
                }
                if (!is_max) {
                    if (p->count_include_pad) {
                        int32_t h_lo, h_hi, w_lo, w_hi;
                        tb_index_span(ih0 + p->pad_top, p->dil_h, p->k_h, h_pad, &h_lo, &h_hi);
                        tb_index_span(iw0 + p->pad_left, p->dil_w, p->k_w, w_pad, &w_lo, &w_hi);
                        cnt = (h_hi - h_lo) * (w_hi - w_lo);
                    } else {
                        cnt = (kh_hi - kh_lo) * (kw_hi - kw_lo);
                    }
                    acc /= (float)cnt;
                }
                *y++ = acc;
            }
        }
    }
}

void tb_maxpool_f32(const tb_pool_params *p, const float *x, float *y)
{
    pool(p, x, y, 1);
}

void tb_avgpool_f32(const tb_pool_params *p, const float *x, float *y)
{
    pool(p, x, y, 0);
}
