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

/* The largest of len elements spaced st apart (len >= 1): subtracting it
 * keeps every exp() argument <= 0 in (log-)softmax. */
static float strided_max(const float *x, int32_t len, int32_t st)
{
    float mx = x[0];
    int32_t j;
    for (j = 1; j < len; j++) {
        const float v = x[(int64_t)j * st];
        mx = v > mx ? v : mx;
    }
    return mx;
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
            float mx = strided_max(xr, len, st), sum = 0.0f, inv;
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
            case TB_REDUCE_PROD: for (i = 0; i < n; i++) acc *= x[i]; break;
            case TB_REDUCE_L1: for (i = 0; i < n; i++) acc += fabsf(x[i]); break;
            case TB_REDUCE_L2:
            case TB_REDUCE_SUMSQUARE: for (i = 0; i < n; i++) acc += x[i] * x[i]; break;
            case TB_REDUCE_LOGSUMEXP: for (i = 0; i < n; i++) acc += expf(x[i]); break;
            default: for (i = 0; i < n; i++) acc += x[i]; break;
            }
            yo[0] = acc;
        } else {
#define SCATTER(STEP)                                 \
    for (i = 0; i < n; i++) {                         \
        float *q = yo + (int64_t)i * s;               \
        const float v = x[i];                         \
        STEP;                                         \
    }
            switch (op) {
            case TB_REDUCE_MAX: SCATTER(*q = v > *q ? v : *q) break;
            case TB_REDUCE_MIN: SCATTER(*q = v < *q ? v : *q) break;
            case TB_REDUCE_PROD: SCATTER(*q *= v) break;
            case TB_REDUCE_L1: SCATTER(*q += fabsf(v)) break;
            case TB_REDUCE_L2:
            case TB_REDUCE_SUMSQUARE: SCATTER(*q += v * v) break;
            case TB_REDUCE_LOGSUMEXP: SCATTER(*q += expf(v)) break;
            default: SCATTER(*q += v) break;
            }
#undef SCATTER
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
    case TB_REDUCE_PROD: init = 1.0f; break;
    default: init = 0.0f; break;
    }
    /* An empty reduction leaves the identity: 0 for sums (so LOGSUM and
     * LOGSUMEXP give log(0) = -inf), 1 for PROD, -inf / +inf for MAX / MIN. */
    for (i = 0; i < p->out_count; i++)
        y[i] = init;
    accumulate(p, x, y);
    switch (p->op) {
    case TB_REDUCE_MEAN:
        if (p->reduced > 0) {
            for (i = 0; i < p->out_count; i++)
                y[i] /= (float)p->reduced;
        }
        break;
    case TB_REDUCE_L2:
        for (i = 0; i < p->out_count; i++)
            y[i] = sqrtf(y[i]);
        break;
    /* LOGSUMEXP sums exp(x) directly (no max subtraction, which would need
     * a second buffer): exact for |x| < 88, overflowing to +inf beyond, as
     * the ONNX reference's log(sum(exp(x))) does. */
    case TB_REDUCE_LOGSUM:
    case TB_REDUCE_LOGSUMEXP:
        for (i = 0; i < p->out_count; i++)
            y[i] = logf(y[i]);
        break;
    default: break;
    }
}

/* log(softmax(x)) as (x - max) - log(sum exp(x - max)): no division and no
 * log of a tiny softmax value, so large negative logits stay finite. */
void tb_logsoftmax_f32(const tb_softmax_params *p, const float *x, float *y)
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
            float mx = strided_max(xr, len, st), sum = 0.0f, lse;
            for (j = 0; j < len; j++)
                sum += expf(xr[(int64_t)j * st] - mx);
            lse = logf(sum);
            for (j = 0; j < len; j++)
                yr[(int64_t)j * st] = (xr[(int64_t)j * st] - mx) - lse;
        }
    }
}

/* Hardmax: 1 at the first maximum of each row, 0 elsewhere (the index is
 * found before anything is written, so it runs in place). */
void tb_hardmax_f32(const tb_softmax_params *p, const float *x, float *y)
{
    const int32_t len = p->axis, st = p->inner;
    int32_t o, i, j, best;
    for (o = 0; o < p->outer; o++) {
        for (i = 0; i < st; i++) {
            const int64_t base = (int64_t)o * len * st + i;
            best = 0;
            for (j = 1; j < len; j++)
                if (x[base + (int64_t)j * st] > x[base + (int64_t)best * st])
                    best = j;
            for (j = 0; j < len; j++)
                y[base + (int64_t)j * st] = j == best ? 1.0f : 0.0f;
        }
    }
}

/* ArgMax / ArgMin. A NaN never compares greater or smaller, so it is chosen
 * only when it is the first element (onnxruntime behaves the same way). */
void tb_argreduce_f32(const tb_argreduce_params *p, const float *x, int64_t *y)
{
    const int32_t len = p->axis, st = p->inner;
    int32_t o, i, j, best;
    for (o = 0; o < p->outer; o++) {
        for (i = 0; i < st; i++) {
            const float *xr = x + (int64_t)o * len * st + i;
            float bv = xr[0];
            best = 0;
            for (j = 1; j < len; j++) {
                const float v = xr[(int64_t)j * st];
                const int better = p->op == TB_ARG_MAX ? (p->select_last ? v >= bv : v > bv)
                                                       : (p->select_last ? v <= bv : v < bv);
                if (better) {
                    bv = v;
                    best = j;
                }
            }
            y[(int64_t)o * st + i] = best;
        }
    }
}

/* Mean and variance of n floats, in double: a two-pass over a row keeps the
 * variance non-negative and accurate when the mean is large. */
static void moments(const float *x, int32_t n, double *mean, double *var)
{
    double m = 0.0, v = 0.0;
    int32_t i;
    for (i = 0; i < n; i++)
        m += x[i];
    m = n > 0 ? m / n : 0.0;
    for (i = 0; i < n; i++)
        v += ((double)x[i] - m) * ((double)x[i] - m);
    *mean = m;
    *var = n > 0 ? v / n : 0.0;
}

void tb_instancenorm_f32(const tb_instancenorm_params *p, const float *x, const float *scale,
                         const float *bias, float *y)
{
    int32_t n, c, i;
    for (n = 0; n < p->n; n++) {
        for (c = 0; c < p->c; c++) {
            const int64_t off = ((int64_t)n * p->c + c) * p->inner;
            double m, v;
            float s, t;
            moments(x + off, p->inner, &m, &v);
            s = (float)(scale[c] / sqrt(v + p->epsilon));
            t = (float)(bias[c] - m * s);
            for (i = 0; i < p->inner; i++)
                y[off + i] = x[off + i] * s + t;
        }
    }
}

void tb_layernorm_f32(const tb_layernorm_params *p, const float *x, const float *scale,
                      const float *bias, float *y)
{
    int32_t o, i;
    for (o = 0; o < p->outer; o++) {
        const int64_t off = (int64_t)o * p->inner;
        double m, v, inv;
        moments(x + off, p->inner, &m, &v);
        inv = 1.0 / sqrt(v + p->epsilon);
        for (i = 0; i < p->inner; i++) {
            const float z = (float)(((double)x[off + i] - m) * inv);
            y[off + i] = z * scale[i] + (bias ? bias[i] : 0.0f);
        }
    }
}

void tb_layernorm_stats_f32(const tb_layernorm_params *p, const float *x, float *y)
{
    int32_t o;
    for (o = 0; o < p->outer; o++) {
        double m, v;
        moments(x + (int64_t)o * p->inner, p->inner, &m, &v);
        y[o] = p->which == 0 ? (float)m : (float)(1.0 / sqrt(v + p->epsilon));
    }
}

/* LRN reads only x, so it must not run in place (each output needs its
 * neighbours' inputs). */
void tb_lrn_f32(const tb_lrn_params *p, const float *x, float *y)
{
    const int32_t lo_off = (p->size - 1) / 2, hi_off = p->size - 1 - lo_off;
    int32_t n, c, i, k;
    for (n = 0; n < p->n; n++) {
        for (c = 0; c < p->c; c++) {
            const int32_t lo = c - lo_off < 0 ? 0 : c - lo_off;
            const int32_t hi = c + hi_off > p->c - 1 ? p->c - 1 : c + hi_off;
            for (i = 0; i < p->inner; i++) {
                double sq = 0.0;
                for (k = lo; k <= hi; k++) {
                    const double v = x[((int64_t)n * p->c + k) * p->inner + i];
                    sq += v * v;
                }
                {
                    const int64_t at = ((int64_t)n * p->c + c) * p->inner + i;
                    y[at] = (float)(x[at] / pow(p->bias + p->alpha / p->size * sq, p->beta));
                }
            }
        }
    }
}
