/* qconv.c - tb_qconv and tb_qmatmul: int8 / uint8 convolution and matrix
 * products with int32 accumulation and gemmlowp requantization (or a raw
 * int32 output for ConvInteger / MatMulInteger). Integer only: this file is
 * compiled without floating point in a test.
 *
 * Both accumulate TILE outputs of one row at a time in an int32 array on the
 * stack, walking the operands in memory order; each of the four element-type
 * pairs (x, w) gets its own copy of the loops so the inner loop has no
 * type dispatch.
 *
 * The folded int8 path (p->folded, see TB_QCONV_PARAMS) is the fast one:
 * the x zero point is already in the bias, so every output is a plain dot
 * product of unsigned (x + 128) bytes with signed weight bytes. Depthwise
 * convs on that path go to tb_qconv_depthwise (qconv_depthwise.c), the
 * others to the blocked int8 GEMM (tb_qconv_gemm, qgemm.c); both say their
 * own stack use. int8 products with b_zero 0 and b read along k (QGemm's
 * classifier weights) take int16 dot products (4 KiB of stack).
 */
#include "tb_runtime.h"

#define TILE 64
#define DT_U8 2
#define DT_I8 3
#define DT_I32 6

/* acc -> the output element i (requantized, or raw int32). */
static void store(void *y, int64_t i, int32_t acc, int32_t y_dtype, const int32_t *rq, int32_t y_zero,
                  int32_t lo, int32_t hi)
{
    int32_t v;
    if (y_dtype == DT_I32) {
        ((int32_t *)y)[i] = acc;
        return;
    }
    v = y_zero + tb_requantize(acc, rq[0], rq[1]);
    v = v < lo ? lo : (v > hi ? hi : v);
    if (y_dtype == DT_U8)
        ((uint8_t *)y)[i] = (uint8_t)v;
    else
        ((int8_t *)y)[i] = (int8_t)v;
}

/* One output row segment of a convolution: acc[0..cnt) for output columns
 * ow0.. of output row oh, channel oc. */
#define DEFINE_QCONV(NAME, XT, WT)                                                               \
static void NAME(const tb_qconv_params *p, const XT *x, const WT *w, const int32_t *bias,         \
                 const int32_t *rq, void *y)                                                      \
{                                                                                                 \
    const int32_t cig = p->c_in / p->group, cog = p->c_out / p->group;                             \
    const int32_t ksize = p->k_h * p->k_w, xz = p->x_zero, wz = p->w_zero;                         \
    /* a 1x1 stride-1 unpadded conv is one long row over the whole plane */                       \
    const int pointwise = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&     \
                          p->pad_top == 0 && p->pad_left == 0 && p->h_out == p->h_in &&              \
                          p->w_out == p->w_in;                                                     \
    const int32_t h_in = pointwise ? 1 : p->h_in, w_in = pointwise ? p->h_in * p->w_in : p->w_in;   \
    const int32_t h_out = pointwise ? 1 : p->h_out;                                                \
    const int32_t w_out = pointwise ? p->h_out * p->w_out : p->w_out;                               \
    const int64_t in_plane = (int64_t)p->h_in * p->w_in, out_plane = (int64_t)p->h_out * p->w_out;  \
    int32_t acc[TILE];                                                                            \
    int32_t n, oc, oh, ow0, ic, kh, kw, j;                                                        \
    for (n = 0; n < p->n; n++) {                                                                  \
        for (oc = 0; oc < p->c_out; oc++) {                                                       \
            const int32_t g = oc / cog;                                                           \
            const XT *xg = x + ((int64_t)n * p->c_in + (int64_t)g * cig) * in_plane;              \
            const WT *wo = w + (int64_t)oc * cig * ksize;                                         \
            const int32_t *r = rq ? rq + (p->per_channel ? 2 * oc : 0) : 0;                        \
            const int64_t ybase = ((int64_t)n * p->c_out + oc) * out_plane;                        \
            for (oh = 0; oh < h_out; oh++) {                                                      \
                for (ow0 = 0; ow0 < w_out; ow0 += TILE) {                                         \
                    const int32_t cnt = w_out - ow0 < TILE ? w_out - ow0 : TILE;                  \
                    for (j = 0; j < cnt; j++)                                                     \
                        acc[j] = bias ? bias[oc] : 0;                                             \
                    for (ic = 0; ic < cig; ic++) {                                                \
                        const XT *xp = xg + (int64_t)ic * in_plane;                               \
                        const WT *wk = wo + (int64_t)ic * ksize;                                  \
                        for (kh = 0; kh < p->k_h; kh++) {                                         \
                            const int32_t ih = oh * p->stride_h + kh * p->dil_h - p->pad_top;     \
                            if (ih < 0 || ih >= h_in)                                             \
                                continue; /* padding: (x_zero - x_zero) * w = 0 */                \
                            for (kw = 0; kw < p->k_w; kw++) {                                     \
                                const int32_t wv = (int32_t)wk[kh * p->k_w + kw] - wz;            \
                                const int32_t iw0 = kw * p->dil_w - p->pad_left;                  \
                                int32_t lo, hi;                                                   \
                                const XT *xr;                                                     \
                                tb_index_span(iw0 + ow0 * p->stride_w, p->stride_w, cnt, w_in,    \
                                              &lo, &hi);                                          \
                                if (lo >= hi)                                                     \
                                    continue;                                                     \
                                xr = xp + (int64_t)ih * w_in + iw0 + (int64_t)(ow0 + lo) * p->stride_w; \
                                if (p->stride_w == 1) {                                           \
                                    for (j = lo; j < hi; j++)                                     \
                                        acc[j] += ((int32_t)xr[j - lo] - xz) * wv;                \
                                } else {                                                          \
                                    for (j = lo; j < hi; j++)                                     \
                                        acc[j] += ((int32_t)xr[(int64_t)(j - lo) * p->stride_w] - xz) * wv; \
                                }                                                                 \
                            }                                                                     \
                        }                                                                         \
                    }                                                                             \
                    for (j = 0; j < cnt; j++)                                                     \
                        store(y, ybase + (int64_t)oh * w_out + ow0 + j, acc[j], p->y_dtype, r,    \
                              p->y_zero, p->act_min, p->act_max);                                 \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
    }                                                                                             \
}

DEFINE_QCONV(qconv_i8_i8, int8_t, int8_t)
DEFINE_QCONV(qconv_u8_u8, uint8_t, uint8_t)
DEFINE_QCONV(qconv_u8_i8, uint8_t, int8_t)
DEFINE_QCONV(qconv_i8_u8, int8_t, uint8_t)

void tb_qconv(const tb_qconv_params *p, const void *x, const void *w, const int32_t *bias,
              const int32_t *rq, void *y)
{
    if (p->folded && p->group == p->c_in && p->group == p->c_out)
        tb_qconv_depthwise(p, (const int8_t *)x, (const int8_t *)w, bias, rq, y);
    else if (p->folded)
        tb_qconv_gemm(p, (const int8_t *)x, (const int8_t *)w, bias, rq, y);
    else if (p->x_dtype == DT_I8 && p->w_dtype == DT_I8)
        qconv_i8_i8(p, (const int8_t *)x, (const int8_t *)w, bias, rq, y);
    else if (p->x_dtype == DT_U8 && p->w_dtype == DT_U8)
        qconv_u8_u8(p, (const uint8_t *)x, (const uint8_t *)w, bias, rq, y);
    else if (p->x_dtype == DT_U8)
        qconv_u8_i8(p, (const uint8_t *)x, (const int8_t *)w, bias, rq, y);
    else
        qconv_i8_u8(p, (const int8_t *)x, (const uint8_t *)w, bias, rq, y);
}

/* One matrix product of the batch. With b read along k in memory order
 * (b_stride_k == 1, e.g. QGemm's transB weights) each output is a dot
 * product; otherwise TILE outputs of a row accumulate together. */
#define DEFINE_QMATMUL(NAME, AT, BT)                                                             \
static void NAME(const tb_qmatmul_params *p, const AT *a, const BT *b, const int32_t *c,          \
                 const int32_t *rq, void *y)                                                      \
{                                                                                                 \
    const int32_t az = p->a_zero, bz = p->b_zero;                                                 \
    int32_t acc[TILE];                                                                            \
    int32_t i, j0, j, k;                                                                          \
    for (i = 0; i < p->m; i++) {                                                                  \
        const AT *ar = a + (int64_t)i * p->a_stride_m;                                            \
        for (j0 = 0; j0 < p->n; j0 += TILE) {                                                     \
            const int32_t cnt = p->n - j0 < TILE ? p->n - j0 : TILE;                              \
            for (j = 0; j < cnt; j++)                                                             \
                acc[j] = c ? c[(int64_t)i * p->c_stride_m + (int64_t)(j0 + j) * p->c_stride_n] : 0; \
            if (p->b_stride_k == 1) {                                                             \
                for (j = 0; j < cnt; j++) {                                                       \
                    const BT *bc = b + (int64_t)(j0 + j) * p->b_stride_n;                         \
                    int32_t s = 0;                                                                \
                    for (k = 0; k < p->k; k++)                                                    \
                        s += ((int32_t)ar[(int64_t)k * p->a_stride_k] - az) * ((int32_t)bc[k] - bz); \
                    acc[j] += s;                                                                  \
                }                                                                                 \
            } else {                                                                              \
                for (k = 0; k < p->k; k++) {                                                      \
                    const int32_t av = (int32_t)ar[(int64_t)k * p->a_stride_k] - az;              \
                    const BT *br = b + (int64_t)k * p->b_stride_k + (int64_t)j0 * p->b_stride_n;  \
                    if (p->b_stride_n == 1) {                                                     \
                        for (j = 0; j < cnt; j++)                                                 \
                            acc[j] += av * ((int32_t)br[j] - bz);                                 \
                    } else {                                                                      \
                        for (j = 0; j < cnt; j++)                                                 \
                            acc[j] += av * ((int32_t)br[(int64_t)j * p->b_stride_n] - bz);        \
                    }                                                                             \
                }                                                                                 \
            }                                                                                     \
            for (j = 0; j < cnt; j++)                                                             \
                store(y, (int64_t)i * p->n + j0 + j, acc[j], p->y_dtype,                          \
                      rq ? rq + (p->per_channel ? 2 * (j0 + j) : 0) : 0, p->y_zero, p->act_min,    \
                      p->act_max);                                                                \
        }                                                                                         \
    }                                                                                             \
}

DEFINE_QMATMUL(qmatmul_i8_i8, int8_t, int8_t)
DEFINE_QMATMUL(qmatmul_u8_u8, uint8_t, uint8_t)
DEFINE_QMATMUL(qmatmul_u8_i8, uint8_t, int8_t)
DEFINE_QMATMUL(qmatmul_i8_u8, int8_t, uint8_t)

/* The int8 x int8 product with b_zero 0 and b read along k in memory order
 * (QGemm's transB weights, the classifier): a row of (a - a_zero), which
 * fits int16, is staged QMM_CHUNK values at a time on the stack, and four
 * columns at a time are int16 dot products (vpdpwssd and the like). */
#define QMM_CHUNK 2048

static void dot16_4(const int16_t *restrict a, const int8_t *restrict b0, const int8_t *restrict b1,
                    const int8_t *restrict b2, const int8_t *restrict b3, int32_t len, int32_t *acc)
{
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, k;
    for (k = 0; k < len; k++) {
        s0 += a[k] * (int16_t)b0[k];
        s1 += a[k] * (int16_t)b1[k];
        s2 += a[k] * (int16_t)b2[k];
        s3 += a[k] * (int16_t)b3[k];
    }
    acc[0] += s0, acc[1] += s1, acc[2] += s2, acc[3] += s3;
}

static void qmatmul_i8_dot(const tb_qmatmul_params *p, const int8_t *a, const int8_t *b, const int32_t *c,
                           const int32_t *rq, void *y)
{
    int16_t a16[QMM_CHUNK];
    int32_t acc[TILE];
    int32_t i, j0, j, k0, k;
    for (i = 0; i < p->m; i++) {
        const int8_t *ar = a + (int64_t)i * p->a_stride_m;
        for (j0 = 0; j0 < p->n; j0 += TILE) {
            const int32_t cnt = p->n - j0 < TILE ? p->n - j0 : TILE;
            for (j = 0; j < cnt; j++)
                acc[j] = c ? c[(int64_t)i * p->c_stride_m + (int64_t)(j0 + j) * p->c_stride_n] : 0;
            for (k0 = 0; k0 < p->k; k0 += QMM_CHUNK) {
                const int32_t len = p->k - k0 < QMM_CHUNK ? p->k - k0 : QMM_CHUNK;
                const int8_t *bk = b + (int64_t)j0 * p->b_stride_n + k0;
                for (k = 0; k < len; k++)
                    a16[k] = (int16_t)(ar[(int64_t)(k0 + k) * p->a_stride_k] - p->a_zero);
                for (j = 0; j + 4 <= cnt; j += 4)
                    dot16_4(a16, bk + (int64_t)j * p->b_stride_n, bk + (int64_t)(j + 1) * p->b_stride_n,
                            bk + (int64_t)(j + 2) * p->b_stride_n, bk + (int64_t)(j + 3) * p->b_stride_n, len,
                            acc + j);
                for (; j < cnt; j++) {
                    const int8_t *bc = bk + (int64_t)j * p->b_stride_n;
                    int32_t sum = 0;
                    for (k = 0; k < len; k++)
                        sum += a16[k] * (int16_t)bc[k];
                    acc[j] += sum;
                }
            }
            for (j = 0; j < cnt; j++)
                store(y, (int64_t)i * p->n + j0 + j, acc[j], p->y_dtype,
                      rq + (p->per_channel ? 2 * (j0 + j) : 0), p->y_zero, p->act_min, p->act_max);
        }
    }
}

static int32_t elem_size(int32_t dtype)
{
    return dtype == DT_I32 ? 4 : 1;
}

void tb_qmatmul(const tb_qmatmul_params *p, const void *a, const void *b, const int32_t *c,
                const int32_t *rq, void *y)
{
    int64_t batches = 1, t;
    int32_t d, idx[TB_RT_MAX_RANK];
    const int32_t ys = elem_size(p->y_dtype);
    for (d = 0; d < p->batch_rank; d++) {
        batches *= p->batch_dims[d];
        idx[d] = 0;
    }
    for (t = 0; t < batches; t++) {
        int64_t ao = 0, bo = 0;
        const uint8_t *ap, *bp;
        uint8_t *yp = (uint8_t *)y + t * (int64_t)p->m * p->n * ys;
        for (d = 0; d < p->batch_rank; d++) {
            ao += (int64_t)idx[d] * p->a_batch_strides[d];
            bo += (int64_t)idx[d] * p->b_batch_strides[d];
        }
        ap = (const uint8_t *)a + ao; /* int8 and uint8 elements are one byte */
        bp = (const uint8_t *)b + bo;
        if (p->a_dtype == DT_I8 && p->b_dtype == DT_I8 && p->b_zero == 0 && p->b_stride_k == 1 &&
            p->y_dtype != DT_I32)
            qmatmul_i8_dot(p, (const int8_t *)ap, (const int8_t *)bp, c, rq, yp);
        else if (p->a_dtype == DT_I8 && p->b_dtype == DT_I8)
            qmatmul_i8_i8(p, (const int8_t *)ap, (const int8_t *)bp, c, rq, yp);
        else if (p->a_dtype == DT_U8 && p->b_dtype == DT_U8)
            qmatmul_u8_u8(p, ap, bp, c, rq, yp);
        else if (p->a_dtype == DT_U8)
            qmatmul_u8_i8(p, ap, (const int8_t *)bp, c, rq, yp);
        else
            qmatmul_i8_u8(p, (const int8_t *)ap, bp, c, rq, yp);
        for (d = p->batch_rank - 1; d >= 0; d--) {
            if (++idx[d] < p->batch_dims[d])
                break;
            idx[d] = 0;
        }
    }
}
