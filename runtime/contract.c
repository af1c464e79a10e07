/* contract.c - tb_contract: a one- or two-operand tensor contraction
 * (Einsum). The index space is dims[0..rank): the first out_rank indices
 * walk y in row-major order, the rest are summed over. Operands are read
 * at sum(index_d * strides_d): a label repeated in one operand (a diagonal)
 * adds its strides, a broadcast dim has stride 0. Elements are float, or
 * double with is_f64; sums run in double.
 */
#include "tb_runtime.h"

static double load(const void *x, int64_t i, int32_t is_f64)
{
    return is_f64 ? ((const double *)x)[i] : (double)((const float *)x)[i];
}

void tb_contract(const tb_contract_params *p, const void *a, const void *b, void *y)
{
    int64_t out_count = 1, sum_count = 1, o, s;
    int d;
    for (d = 0; d < p->out_rank; d++)
        out_count *= p->dims[d];
    for (d = p->out_rank; d < p->rank; d++)
        sum_count *= p->dims[d];
    for (o = 0; o < out_count; o++) {
        int64_t ao = 0, bo = 0, t = o;
        double acc = 0;
        for (d = p->out_rank - 1; d >= 0; d--) {
            const int64_t i = t % p->dims[d];
            t /= p->dims[d];
            ao += i * p->a_strides[d];
            bo += i * p->b_strides[d];
        }
        for (s = 0; s < sum_count; s++) {
            int64_t as = ao, bs = bo, u = s;
            for (d = p->rank - 1; d >= p->out_rank; d--) {
                const int64_t i = u % p->dims[d];
                u /= p->dims[d];
                as += i * p->a_strides[d];
                bs += i * p->b_strides[d];
            }
            acc += b ? load(a, as, p->is_f64) * load(b, bs, p->is_f64) : load(a, as, p->is_f64);
        }
        if (p->is_f64)
            ((double *)y)[o] = acc;
        else
            ((float *)y)[o] = (float)acc;
    }
}
