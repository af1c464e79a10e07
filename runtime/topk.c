/* topk.c - tb_topk_f32: the k largest (or smallest) elements along an axis,
 * sorted, with their int64 indices. Selection by repeated scans, each taking
 * the best element ranked after the previous pick (value, then lower index
 * first), so no buffer is needed: O(k * axis) per row.
 */
#include "tb_runtime.h"

/* Does (va, ia) rank before (vb, ib)? */
static int ranks_before(float va, int32_t ia, float vb, int32_t ib, int32_t largest)
{
    if (va != vb)
        return largest ? va > vb : va < vb;
    return ia < ib;
}

void tb_topk_f32(const tb_topk_params *p, const float *x, float *values, int64_t *indices)
{
    int32_t o, i, r, j;
    for (o = 0; o < p->outer; o++)
        for (i = 0; i < p->inner; i++) {
            const float *xr = x + (int64_t)o * p->axis * p->inner + i;
            float prev_v = 0.0f;
            int32_t prev_i = -1;
            for (r = 0; r < p->k; r++) {
                int32_t best = -1;
                for (j = 0; j < p->axis; j++) {
                    const float v = xr[(int64_t)j * p->inner];
                    if (prev_i >= 0 && !ranks_before(prev_v, prev_i, v, j, p->largest))
                        continue;
                    if (best < 0 || ranks_before(v, j, xr[(int64_t)best * p->inner], best, p->largest))
                        best = j;
                }
                prev_i = best;
                prev_v = xr[(int64_t)best * p->inner];
                values[((int64_t)o * p->k + r) * p->inner + i] = prev_v;
                indices[((int64_t)o * p->k + r) * p->inner + i] = best;
            }
        }
}
