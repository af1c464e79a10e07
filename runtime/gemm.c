/* gemm.c - tb_gemm_f32 (ONNX Gemm: optional transposes, alpha/beta, broadcast
 * C, fused clamp) and tb_matmul_f32 (ONNX MatMul with broadcast batch dims).
 * Loops run i-k-j so the innermost loop walks a row of B and of y.
 */
#include "tb_runtime.h"

/* y[m,n] = A[m,k] B[k,n] for contiguous row-major A, B, y. */
static void mm(int32_t m, int32_t n, int32_t k, const float *a, const float *b, float *y)
{
    int32_t i, kk, j;
    for (i = 0; i < m; i++) {
        const float *ar = a + (int64_t)i * k;
        float *yr = y + (int64_t)i * n;
        for (j = 0; j < n; j++)
            yr[j] = 0.0f;
        for (kk = 0; kk < k; kk++) {
            const float av = ar[kk];
            const float *br = b + (int64_t)kk * n;
            for (j = 0; j < n; j++)
                yr[j] += av * br[j];
        }
    }
}

void tb_gemm_f32(const tb_gemm_params *p, const float *a, const float *b,
                 const float *c, float *y)
{
    const int32_t m = p->m, n = p->n, k = p->k;
    /* A'[i,kk] = a[i * a_si + kk * a_sk]: stored [m,k], or [k,m] when transposed */
    const int64_t a_si = p->trans_a ? 1 : k;
    const int64_t a_sk = p->trans_a ? m : 1;
    int32_t i, j, kk;

    for (i = 0; i < m; i++) {
        const float *ar = a + i * a_si;
        float *yr = y + (int64_t)i * n;
        if (p->trans_b) {
            /* B stored [n,k]: a row of it is a column of B', so take dot products */
            for (j = 0; j < n; j++) {
                const float *br = b + (int64_t)j * k;
                float acc = 0.0f;
                for (kk = 0; kk < k; kk++)
                    acc += ar[kk * a_sk] * br[kk];
                yr[j] = acc;
            }
        } else {
            for (j = 0; j < n; j++)
                yr[j] = 0.0f;
            for (kk = 0; kk < k; kk++) {
                const float av = ar[kk * a_sk];
                const float *br = b + (int64_t)kk * n;
                for (j = 0; j < n; j++)
                    yr[j] += av * br[j];
            }
        }
        for (j = 0; j < n; j++) {
            float v = p->alpha * yr[j];
            if (c)
                v += p->beta * c[(int64_t)i * p->c_stride_m + (int64_t)j * p->c_stride_n];
            yr[j] = v < p->act_min ? p->act_min : (v > p->act_max ? p->act_max : v);
        }
    }
}

void tb_matmul_f32(const tb_matmul_params *p, const float *a, const float *b, float *y)
{
    const int64_t y_size = (int64_t)p->m * p->n;
    int32_t idx[TB_RT_MAX_RANK];
    int64_t a_off = 0, b_off = 0, batches = 1, t;
    int d;

    for (d = 0; d < p->batch_rank; d++) {
        idx[d] = 0;
        batches *= p->batch_dims[d];
    }
    for (t = 0; t < batches; t++) {
        mm(p->m, p->n, p->k, a + a_off, b + b_off, y + t * y_size);
        /* advance the batch counter, moving the a/b offsets with it */
        for (d = p->batch_rank - 1; d >= 0; d--) {
            a_off += p->a_batch_strides[d];
            b_off += p->b_batch_strides[d];
            if (++idx[d] < p->batch_dims[d])
                break;
            a_off -= (int64_t)p->a_batch_strides[d] * p->batch_dims[d];
            b_off -= (int64_t)p->b_batch_strides[d] * p->batch_dims[d];
            idx[d] = 0;
        }
    }
}
