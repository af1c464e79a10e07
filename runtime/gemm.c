/* gemm.c - tb_gemm_f32 (ONNX Gemm: optional transposes, alpha/beta, broadcast
 * C, fused clamp) and tb_matmul_f32 (ONNX MatMul with broadcast batch dims).
 * Gemm and MatMul run the blocked GEMM of gemm_pack.c for at least
 * TB_GEMM_MIN_M rows; thinner products (batch-1 fully connected layers) are
 * rows of B scaled and added (i-k-j), so the sums vectorise across outputs
 * and stay in plain k order. Lowering stores a constant transB operand
 * transposed, so only a run-time transB (packed into panels as a transposed
 * copy) or a transposed A (dot products) takes another path.
 */
#include "tb_runtime.h"

#include <math.h>

#define TB_GEMM_MIN_M 4

/* B'(k, j) = b[j * ldb + k] (Gemm's transB): the panel is a transposed copy. */
typedef struct {
    const float *b;
    int32_t ldb;
} trans_ctx;

static void pack_trans(const void *vctx, int32_t k0, int32_t kc, int32_t j0, int32_t nr,
                       float *panel, int32_t ldp)
{
    const trans_ctx *ctx = (const trans_ctx *)vctx;
    const float *src = ctx->b + (int64_t)j0 * ctx->ldb + k0;
    int32_t kk, t;
    /* panel rows in order (contiguous writes), each reading nr rows of b */
    for (kk = 0; kk < kc; kk++) {
        float *restrict d = panel + (int64_t)kk * ldp;
        for (t = 0; t < nr; t++)
            d[t] = src[(int64_t)t * ctx->ldb + kk];
        for (t = nr; t < ldp; t++)
            d[t] = 0.0f;
    }
}

/* y[m,n] = A[m,k] B[k,n] for contiguous row-major A, B, y. */
static void mm(int32_t m, int32_t n, int32_t k, const float *a, const float *b, float *y)
{
    int32_t i, kk, j;
    if (m >= TB_GEMM_MIN_M) {
        tb_gemm_core gc;
        gc.m = m, gc.n = n, gc.k = k;
        gc.a = a, gc.lda = k;
        gc.b = b, gc.ldb = n;
        gc.pack = 0, gc.ctx = 0, gc.bias = 0;
        gc.y = y, gc.ldy = n;
        gc.act_min = -INFINITY, gc.act_max = INFINITY;
        tb_gemm_core_f32(&gc);
        return;
    }
    for (i = 0; i < m; i++) {
        const float *ar = a + (int64_t)i * k;
        float *restrict yr = y + (int64_t)i * n;
        for (j = 0; j < n; j++)
            yr[j] = 0.0f;
        for (kk = 0; kk < k; kk++) {
            const float av = ar[kk];
            const float *restrict br = b + (int64_t)kk * n;
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

    if (!p->trans_a && !p->trans_b) {
        /* B read in place (fully connected layers too: lowering stores their
         * constant transB weights transposed); fewer than TB_GEMM_MIN_M rows
         * stream B's rows once instead of filling a tile of repeated rows */
        mm(m, n, k, a, b, y);
    } else if (!p->trans_a) {
        /* y = A' B' first, blocked; alpha, C and the clamp below */
        trans_ctx ctx;
        tb_gemm_core gc;
        ctx.b = b, ctx.ldb = k;
        gc.m = m, gc.n = n, gc.k = k;
        gc.a = a, gc.lda = k;
        gc.b = p->trans_b ? 0 : b, gc.ldb = n;
        gc.pack = pack_trans, gc.ctx = &ctx, gc.bias = 0;
        gc.y = y, gc.ldy = n;
        gc.act_min = -INFINITY, gc.act_max = INFINITY;
        tb_gemm_core_f32(&gc);
    } else {
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
        }
    }
    for (i = 0; i < m; i++) {
        float *yr = y + (int64_t)i * n;
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
