/* mvn.c - tb_mvn_f32: MeanVarianceNormalization, y = (x - mean) / (std + 1e-9)
 * with mean and variance over the masked axes (ONNX's function body). Each
 * group of kept indices is walked three times; no buffer is needed.
 */
#include <math.h>
#include "tb_runtime.h"

/* Offset of the i-th element (row-major over dims[0..n)) with strides st. */
static int64_t offset_of(int64_t i, int n, const int32_t *dims, const int64_t *st)
{
    int64_t off = 0;
    int d;
    for (d = n - 1; d >= 0; d--) {
        off += (i % dims[d]) * st[d];
        i /= dims[d];
    }
    return off;
}

void tb_mvn_f32(const tb_mvn_params *p, const float *x, float *y)
{
    int32_t kd[TB_RT_MAX_RANK], rd[TB_RT_MAX_RANK];
    int64_t ks[TB_RT_MAX_RANK], rs[TB_RT_MAX_RANK], acc = 1, groups = 1, count = 1, gi, ri;
    int nk = 0, nr = 0, d;
    for (d = p->rank - 1; d >= 0; d--) {
        if (p->mask[d]) {
            rd[nr] = p->dims[d], rs[nr] = acc, nr++;
            count *= p->dims[d];
        } else {
            kd[nk] = p->dims[d], ks[nk] = acc, nk++;
            groups *= p->dims[d];
        }
        acc *= p->dims[d];
    }
    /* The lists were built from the last dim: reverse them to row-major. */
    for (d = 0; d < nk / 2; d++) {
        int32_t t = kd[d]; int64_t u = ks[d];
        kd[d] = kd[nk - 1 - d], ks[d] = ks[nk - 1 - d], kd[nk - 1 - d] = t, ks[nk - 1 - d] = u;
    }
    for (d = 0; d < nr / 2; d++) {
        int32_t t = rd[d]; int64_t u = rs[d];
        rd[d] = rd[nr - 1 - d], rs[d] = rs[nr - 1 - d], rd[nr - 1 - d] = t, rs[nr - 1 - d] = u;
    }
    if (count == 0)
        return;
    for (gi = 0; gi < groups; gi++) {
        const int64_t base = offset_of(gi, nk, kd, ks);
        double sum = 0, sq = 0, mean, var;
        float inv_std, m;
        for (ri = 0; ri < count; ri++) {
            const double v = x[base + offset_of(ri, nr, rd, rs)];
            sum += v;
            sq += v * v;
        }
        mean = sum / (double)count;
        var = sq / (double)count - mean * mean;
        inv_std = (float)(1.0 / (sqrt(var > 0 ? var : 0) + 1e-9));
        m = (float)mean;
        for (ri = 0; ri < count; ri++) {
            const int64_t o = base + offset_of(ri, nr, rd, rs);
            y[o] = (x[o] - m) * inv_std;
        }
    }
}
