/* normalize.c - per-channel and per-axis normalisations and reductions:
 * tb_batchnorm_f32 (inference BatchNormalization), tb_softmax_f32 (max-
 * subtracted, numerically stable) and tb_reduce_f32 (MEAN/SUM/MAX/MIN over
 * any set of axes, one pass over the input).
 */
#include <math.h>
#include "tb_runtime.h"

void tb_batchnorm_f32(const tb_batchnorm_params *p, const float *x, const float *scale,
                      const float *bias, const float *mean, const float *var, float *y)
{
    int32_t n, c, i;
    for (c = 0; c < p->c; c++) {
        /* (x - mean) / sqrt(var + eps) * scale + bias  ==  x * s + t */
        const float s = scale[c] / sqrtf(var[c] + p->epsilon);
        const float t = bias[c] - mean[c] * s;
        for (n = 0; n < p->n; n++) {
            const int64_t off = ((int64_t)n * p->c + c) * p->inner;
            const float *xr = x + off;
            float *yr = y + off;
            for (i = 0; i < p->inner; i++)
                yr[i] = xr[i] * s + t;
        }
    }
}

/* Each (outer, inner) pair is one softmax over `axis` elements spaced `inner`
 * apart. Reading x[j] before writing y[j] keeps it safe in place. */
void tb_softmax_f32(const tb_softmax_params *p, const float *x, float *y)
{
    const int32_t len = p->axis, st = p->inner;
    int32_t o, i, j;
    if (len <= 0)
        return;
    for (o = 0; o < p->outer; o++) {
        for (i = 0; i < st; i++) {
            const int64_t base = (int64_t)o * len * st + i;
            const float *xr = x + base;
            float *yr = y + base;
            float mx = xr[0], sum = 0.0f, inv;
            for (j = 1; j < len; j++) {
                const float v = xr[(int64_t)j * st];
                mx = v > mx ? v : mx;
            }
            for (j = 0; j < len; j++) {
                const float e = expf(xr[(int64_t)j * st] - mx);
                yr[(int64_t)j * st] = e;
                sum += e;
            }
            inv = 1.0f / sum; /* sum >= 1: the max term contributes exp(0) */
            for (j = 0; j < len; j++)
                yr[(int64_t)j * st] *= inv;
        }
    }
}

/* The one pass of tb_reduce_f32: folds every input element into the output
 * element that out_strides maps it to (SUM for MEAN). */
static void accumulate(const tb_reduce_params *p, const float *x, float *y)
{
    int32_t dims[TB_RT_MAX_RANK], os[TB_RT_MAX_RANK], idx[TB_RT_MAX_RANK];
    int64_t rows = 1, t, o = 0;
    int32_t i, n, s;
    int r = 0, d, op = p->op;

    /* Fold the input shape: drop size-1 dims and merge a dim into the one
     * outside it when the output strides chain (both reduced, stride 0, or
     * both kept and adjacent in the output). The input is dense, so it
     * always chains. */
    for (d = 0; d < p->rank; d++) {
        n = p->dims[d];
        if (n == 0)
            return;
        if (n == 1)
            continue;
        if (r > 0 && os[r - 1] == (int64_t)p->out_strides[d] * n) {
            dims[r - 1] *= n;
            os[r - 1] = p->out_strides[d];
        } else {
            dims[r] = n;
            os[r] = p->out_strides[d];
            r++;
        }
    }
    if (r == 0) {
        dims[0] = 1;
        os[0] = 0;
        r = 1;
    }
    for (d = 0; d < r - 1; d++) {
        idx[d] = 0;
        rows *= dims[d];
    }
    n = dims[r - 1];
    s = os[r - 1];
    for (t = 0; t < rows; t++, x += n) {
        float *yo = y + o;
        if (s == 0) {
            /* the whole input row folds into one output element */
            float acc = yo[0];
            switch (op) {
            case TB_REDUCE_MAX: for (i = 0; i < n; i++) acc = x[i] > acc ? x[i] : acc; break;
            case TB_REDUCE_MIN: for (i = 0; i < n; i++) acc = x[i] < acc ? x[i] : acc; break;
            default: for (i = 0; i < n; i++) acc += x[i]; break;
            }
            yo[0] = acc;
        } else {
            switch (op) {
            case TB_REDUCE_MAX:
                for (i = 0; i < n; i++) {
                    float *q = yo + (int64_t)i * s;
                    *q = x[i] > *q ? x[i] : *q;
                }
                break;
            case TB_REDUCE_MIN:
                for (i = 0; i < n; i++) {
                    float *q = yo + (int64_t)i * s;
                    *q = x[i] < *q ? x[i] : *q;
                }
                break;
            default:
                for (i = 0; i < n; i++)
                    yo[(int64_t)i * s] += x[i];
                break;
            }
        }
        for (d = r - 2; d >= 0; d--) {
            o += os[d];
            if (++idx[d] < dims[d])
                break;
            o -= (int64_t)os[d] * dims[d];
            idx[d] = 0;
        }
    }
}

void tb_reduce_f32(const tb_reduce_params *p, const float *x, float *y)
{
    float init;
    int32_t i;

    switch (p->op) {
    case TB_REDUCE_MAX: init = -INFINITY; break;
    case TB_REDUCE_MIN: init = INFINITY; break;
    default: init = 0.0f; break;
    }
    for (i = 0; i < p->out_count; i++)
        y[i] = init;
    accumulate(p, x, y);
    if (p->op == TB_REDUCE_MEAN && p->reduced > 0) {
        for (i = 0; i < p->out_count; i++)
            y[i] /= (float)p->reduced;
    }
}
