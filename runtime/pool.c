/* pool.c - tb_maxpool_f32 and tb_avgpool_f32: 2-D NCHW pooling (1-D as H = 1)
 * with strides, dilations and asymmetric padding. Padding is never read: each
 * window is clipped to the real input before the inner loops.
 *
 * The interior columns of an output row (windows that need no clipping
 * along W) are computed a whole window row and column (kh, kw) at a time
 * across the outputs, in loops that compilers vectorise; every output still
 * takes its window's values in the same order as the border outputs (row by
 * row, left to right, max by v > acc ? v : acc from the first value, sums
 * from 0), so the results do not depend on which path computed them.
 */
#include "tb_runtime.h"

/* y[i] = max(y[i], x[i * step]) for i < n, as v > acc ? v : acc (a NaN in
 * x is skipped, a NaN in y kept). Stride 1 and 2 get loops of their own. */
static void row_max(float *restrict y, const float *restrict x, int32_t step, int32_t n)
{
    int32_t i;
    if (step == 1)
        for (i = 0; i < n; i++)
            y[i] = x[i] > y[i] ? x[i] : y[i];
    else if (step == 2)
        for (i = 0; i < n; i++)
            y[i] = x[2 * i] > y[i] ? x[2 * i] : y[i];
    else
        for (i = 0; i < n; i++)
            y[i] = x[(int64_t)i * step] > y[i] ? x[(int64_t)i * step] : y[i];
}

/* y[i] += x[i * step] for i < n, or y[i] = x[i * step] if set. */
static void row_add(float *restrict y, const float *restrict x, int32_t step, int32_t n, int set)
{
    int32_t i;
    if (set)
        for (i = 0; i < n; i++)
            y[i] = x[(int64_t)i * step];
    else if (step == 1)
        for (i = 0; i < n; i++)
            y[i] += x[i];
    else if (step == 2)
        for (i = 0; i < n; i++)
            y[i] += x[2 * i];
    else
        for (i = 0; i < n; i++)
            y[i] += x[(int64_t)i * step];
}

/* Output column ow of a row whose window rows are [kh_lo, kh_hi) (not
 * empty), from ih0, clipped along W; cnt_h: the rows an average counts. */
static float border_output(const tb_pool_params *p, const float *xp, int32_t ih0, int32_t kh_lo,
                           int32_t kh_hi, int32_t cnt_h, int32_t ow, int is_max)
{
    const int32_t iw0 = ow * p->stride_w - p->pad_left;
    int32_t kh, kw, kw_lo, kw_hi;
    float acc;
    tb_index_span(iw0, p->dil_w, p->k_w, p->w_in, &kw_lo, &kw_hi);
    if (kw_lo >= kw_hi)
        return 0.0f; /* window entirely in padding: no value to take */
    acc = is_max ? xp[(int64_t)(ih0 + kh_lo * p->dil_h) * p->w_in + iw0 + kw_lo * p->dil_w] : 0.0f;
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
        int32_t cnt_w = kw_hi - kw_lo;
        if (p->count_include_pad) {
            const int32_t w_pad = p->w_in + p->pad_left + p->pad_right;
            int32_t w_lo, w_hi;
            tb_index_span(iw0 + p->pad_left, p->dil_w, p->k_w, w_pad, &w_lo, &w_hi);
            cnt_w = w_hi - w_lo;
        }
        acc /= (float)(cnt_h * cnt_w);
    }
    return acc;
}

/* is_max: max pool, else average pool. */
static void pool(const tb_pool_params *p, const float *x, float *y, int is_max)
{
    const int64_t in_plane = (int64_t)p->h_in * p->w_in;
    const int64_t planes = (int64_t)p->n * p->c;
    /* the padded input spans [-pad_top, h_in + pad_bottom) x [-pad_left, w_in + pad_right) */
    const int32_t h_pad = p->h_in + p->pad_top + p->pad_bottom;
    /* interior columns [ow_lo, ow_hi): iw0 >= 0 and the last tap inside the row */
    const int32_t last_tap = (p->k_w - 1) * p->dil_w;
    int32_t ow_lo = (p->pad_left + p->stride_w - 1) / p->stride_w, ow_hi = 0;
    int64_t pl;
    int32_t oh, ow, kh, kw;

    if (p->w_in - 1 + p->pad_left - last_tap >= 0)
        ow_hi = (p->w_in - 1 + p->pad_left - last_tap) / p->stride_w + 1;
    if (ow_lo > p->w_out)
        ow_lo = p->w_out;
    if (ow_hi > p->w_out)
        ow_hi = p->w_out;
    if (ow_hi < ow_lo)
        ow_hi = ow_lo;
    for (pl = 0; pl < planes; pl++) {
        const float *xp = x + pl * in_plane;
        for (oh = 0; oh < p->h_out; oh++, y += p->w_out) {
            const int32_t ih0 = oh * p->stride_h - p->pad_top;
            int32_t kh_lo, kh_hi, cnt_h;
            tb_index_span(ih0, p->dil_h, p->k_h, p->h_in, &kh_lo, &kh_hi);
            if (kh_lo >= kh_hi) {
                for (ow = 0; ow < p->w_out; ow++)
                    y[ow] = 0.0f; /* windows entirely in padding: no value to take */
                continue;
            }
            cnt_h = kh_hi - kh_lo;
            if (!is_max && p->count_include_pad) {
                int32_t h_lo, h_hi;
                tb_index_span(ih0 + p->pad_top, p->dil_h, p->k_h, h_pad, &h_lo, &h_hi);
                cnt_h = h_hi - h_lo;
            }
            if (ow_hi > ow_lo) {
                const int32_t n = ow_hi - ow_lo;
                const float *x0 = xp + (int64_t)ow_lo * p->stride_w - p->pad_left;
                for (kh = kh_lo; kh < kh_hi; kh++) {
                    const float *xr = x0 + (int64_t)(ih0 + kh * p->dil_h) * p->w_in;
                    for (kw = 0; kw < p->k_w; kw++) {
                        const int first = kh == kh_lo && kw == 0;
                        if (is_max && !first)
                            row_max(y + ow_lo, xr + kw * p->dil_w, p->stride_w, n);
                        else if (is_max)
                            row_add(y + ow_lo, xr, p->stride_w, n, 1);
                        else {
                            if (first)
                                for (ow = ow_lo; ow < ow_hi; ow++)
                                    y[ow] = 0.0f;
                            row_add(y + ow_lo, xr + kw * p->dil_w, p->stride_w, n, 0);
                        }
                    }
                }
                if (!is_max)
                    for (ow = ow_lo; ow < ow_hi; ow++)
                        y[ow] /= (float)(cnt_h * p->k_w);
            }
            for (ow = 0; ow < ow_lo; ow++)
                y[ow] = border_output(p, xp, ih0, kh_lo, kh_hi, cnt_h, ow, is_max);
            for (ow = ow_hi; ow < p->w_out; ow++)
                y[ow] = border_output(p, xp, ih0, kh_lo, kh_hi, cnt_h, ow, is_max);
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
