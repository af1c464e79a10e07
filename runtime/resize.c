/* resize.c - tb_resize_f32: Resize / Upsample over the last two axes
 * (nearest, linear, cubic), one output element at a time from its source
 * coordinate, so no buffer beyond x and y is needed.
 */
#include <math.h>
#include "tb_runtime.h"

/* Source coordinate of output index o along one axis (ONNX
 * coordinate_transformation_mode); double keeps x.5 ties exact. As in ONNX's
 * reference, the resized length in these formulas is len_in * scale, not
 * rounded to the output size. */
static double source_coord(const tb_resize_params *p, int32_t o, int32_t len_in, float scale, float roi_lo,
                           float roi_hi)
{
    const double s = (double)scale, len_out = (double)len_in * s;
    switch (p->coord) {
    case TB_RESIZE_PYTORCH_HALF_PIXEL:
        return len_out > 1 ? (o + 0.5) / s - 0.5 : 0.0;
    case TB_RESIZE_ALIGN_CORNERS:
        return len_out > 1 ? (double)o * (len_in - 1) / (len_out - 1) : 0.0;
    case TB_RESIZE_ASYMMETRIC:
        return o / s;
    case TB_RESIZE_TF_HALF_PIXEL_FOR_NN:
        return (o + 0.5) / s;
    case TB_RESIZE_TF_CROP_AND_RESIZE:
        if (len_out > 1)
            return roi_lo * (double)(len_in - 1) + o * (double)(roi_hi - roi_lo) * (len_in - 1) / (len_out - 1);
        return 0.5 * (roi_lo + roi_hi) * (len_in - 1);
    default: /* TB_RESIZE_HALF_PIXEL */
        return (o + 0.5) / s - 0.5;
    }
}

static int32_t clamp_index(int64_t i, int32_t len)
{
    return (int32_t)(i < 0 ? 0 : i >= len ? len - 1 : i);
}

/* The nearest source index by nearest_mode, clamped into the input. */
static int32_t nearest_index(const tb_resize_params *p, double c, int32_t len_in, int down)
{
    double f = floor(c), r;
    switch (p->nearest) {
    case TB_RESIZE_ROUND_PREFER_CEIL: r = c - f >= 0.5 ? f + 1 : f; break;
    case TB_RESIZE_FLOOR: r = f; break;
    case TB_RESIZE_CEIL: r = ceil(c); break;
    case TB_RESIZE_SIMPLE: r = down ? ceil(c) : f; break;
    default: r = c - f > 0.5 ? f + 1 : f; break; /* ROUND_PREFER_FLOOR */
    }
    return clamp_index((int64_t)r, len_in);
}

/* Up to 4 taps (index, weight) for one axis; returns the count, or 0 when
 * the coordinate lies outside the input for tf_crop_and_resize. */
static int taps(const tb_resize_params *p, double c, int32_t len_in, float scale, int32_t *idx, float *w)
{
    double f, t;
    int k, n;
    if (p->coord == TB_RESIZE_TF_CROP_AND_RESIZE && (c < 0 || c > len_in - 1))
        return 0;
    if (p->mode == TB_RESIZE_NEAREST) {
        idx[0] = nearest_index(p, c, len_in, scale < 1.0f);
        w[0] = 1.0f;
        return 1;
    }
    f = floor(c);
    t = c - f;
    if (p->mode == TB_RESIZE_LINEAR) {
        idx[0] = clamp_index((int64_t)f, len_in);
        idx[1] = clamp_index((int64_t)f + 1, len_in);
        w[0] = (float)(1.0 - t);
        w[1] = (float)t;
        return 2;
    } else {
        const double a = p->cubic_a;
        double cw[4], sum = 0;
        const double u = t + 1, v = 1 - t, z = 2 - t;
        cw[0] = ((a * u - 5 * a) * u + 8 * a) * u - 4 * a;
        cw[1] = ((a + 2) * t - (a + 3)) * t * t + 1;
        cw[2] = ((a + 2) * v - (a + 3)) * v * v + 1;
        cw[3] = ((a * z - 5 * a) * z + 8 * a) * z - 4 * a;
        n = 0;
        for (k = 0; k < 4; k++) {
            const int64_t i = (int64_t)f - 1 + k;
            if (p->exclude_outside && (i < 0 || i >= len_in))
                cw[k] = 0;
            sum += cw[k];
        }
        for (k = 0; k < 4; k++) {
            idx[n] = clamp_index((int64_t)f - 1 + k, len_in);
            w[n] = (float)(p->exclude_outside && sum != 0 ? cw[k] / sum : cw[k]);
            n++;
        }
        return n;
    }
}

void tb_resize_f32(const tb_resize_params *p, const float *x, float *y)
{
    int32_t o, i, j, a, b;
    for (i = 0; i < p->h_out; i++) {
        int32_t hi[4], wi[4];
        float hw[4], ww[4];
        const double ch = source_coord(p, i, p->h_in, p->scale_h, p->roi_h0, p->roi_h1);
        const int nh = taps(p, ch, p->h_in, p->scale_h, hi, hw);
        for (j = 0; j < p->w_out; j++) {
            const double cw = source_coord(p, j, p->w_in, p->scale_w, p->roi_w0, p->roi_w1);
            const int nw = nh ? taps(p, cw, p->w_in, p->scale_w, wi, ww) : 0;
            for (o = 0; o < p->outer; o++) {
                const float *xo = x + (int64_t)o * p->h_in * p->w_in;
                float acc = 0.0f;
                if (!nw) {
                    acc = p->extrapolation;
                } else {
                    for (a = 0; a < nh; a++) {
                        float row = 0.0f;
                        for (b = 0; b < nw; b++)
                            row += ww[b] * xo[(int64_t)hi[a] * p->w_in + wi[b]];
                        acc += hw[a] * row;
                    }
                }
                y[((int64_t)o * p->h_out + i) * p->w_out + j] = acc;
            }
        }
    }
}
