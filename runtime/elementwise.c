/* elementwise.c - broadcasting binary ops (tb_binary_f32, tb_binary_i64) and
 * unary activations / math (tb_unary_f32). Binary ops first fold the shape
 * into as few dims as possible, so same-shape and scalar operands become one
 * flat row with strides 1 or 0 and run through tight loops.
 */
#include <math.h>
#include "tb_runtime.h"

/* One output row of n elements; a and b advance by sa / sb elements. */
typedef void (*row_fn)(int32_t op, const void *a, int32_t sa, const void *b,
                       int32_t sb, void *y, int32_t n);

/* The four stride cases of one row, EXPR combining u (from a) and v (from b). */
#define ROW(T, EXPR)                                                         \
    do {                                                                     \
        const T *A_ = (const T *)a, *B_ = (const T *)b;                      \
        T *Y_ = (T *)y;                                                      \
        int32_t i;                                                           \
        if (sa == 1 && sb == 1) {                                            \
            for (i = 0; i < n; i++) { T u = A_[i], v = B_[i]; Y_[i] = EXPR; } \
        } else if (sa == 0 && sb == 1) {                                     \
            const T u = A_[0];                                               \
            for (i = 0; i < n; i++) { T v = B_[i]; Y_[i] = EXPR; }           \
        } else if (sa == 1 && sb == 0) {                                     \
            const T v = B_[0];                                               \
            for (i = 0; i < n; i++) { T u = A_[i]; Y_[i] = EXPR; }           \
        } else {                                                             \
            for (i = 0; i < n; i++) {                                        \
                T u = A_[(int64_t)i * sa], v = B_[(int64_t)i * sb];          \
                Y_[i] = EXPR;                                                \
            }                                                                \
        }                                                                    \
    } while (0)

static void row_f32(int32_t op, const void *a, int32_t sa, const void *b,
                    int32_t sb, void *y, int32_t n)
{
    switch (op) {
    case TB_BINARY_ADD: ROW(float, u + v); break;
    case TB_BINARY_SUB: ROW(float, u - v); break;
    case TB_BINARY_MUL: ROW(float, u * v); break;
    case TB_BINARY_DIV: ROW(float, u / v); break;
    case TB_BINARY_MAX: ROW(float, v > u ? v : u); break;
    case TB_BINARY_MIN: ROW(float, v < u ? v : u); break;
    default: break;
    }
}

/* Integer overflow is UB in C, so ADD/SUB/MUL wrap through uint64_t like
 * numpy does. DIV truncates toward zero; x/0 gives 0 and x/-1 is a wrapping
 * negation (INT64_MIN / -1 would trap). */
#define WRAP(OP) ((int64_t)((uint64_t)u OP (uint64_t)v))
#define IDIV (v == 0 ? 0 : v == -1 ? (int64_t)(0u - (uint64_t)u) : u / v)

static void row_i64(int32_t op, const void *a, int32_t sa, const void *b,
                    int32_t sb, void *y, int32_t n)
{
    switch (op) {
    case TB_BINARY_ADD: ROW(int64_t, WRAP(+)); break;
    case TB_BINARY_SUB: ROW(int64_t, WRAP(-)); break;
    case TB_BINARY_MUL: ROW(int64_t, WRAP(*)); break;
    case TB_BINARY_DIV: ROW(int64_t, IDIV); break;
    case TB_BINARY_MAX: ROW(int64_t, v > u ? v : u); break;
    case TB_BINARY_MIN: ROW(int64_t, v < u ? v : u); break;
    default: break;
    }
}

/* Walks the broadcast output row by row. Size-1 dims are dropped and a dim
 * is merged into the one outside it when both operands' strides chain
 * (outer stride == inner stride * inner dim); the output is dense, so it
 * always chains. */
static void binary(const tb_binary_params *p, const char *a, const char *b,
                   char *y, int32_t es, row_fn row)
{
    int32_t dims[TB_RT_MAX_RANK], sa[TB_RT_MAX_RANK], sb[TB_RT_MAX_RANK];
    int32_t idx[TB_RT_MAX_RANK];
    int64_t a_off = 0, b_off = 0, y_off = 0, rows = 1, t;
    int r = 0, d;

    for (d = 0; d < p->rank; d++) {
        const int32_t n = p->dims[d];
        if (n == 0)
            return;
        if (n == 1)
            continue;
        if (r > 0 && sa[r - 1] == (int64_t)p->a_strides[d] * n &&
            sb[r - 1] == (int64_t)p->b_strides[d] * n) {
            dims[r - 1] *= n;
            sa[r - 1] = p->a_strides[d];
            sb[r - 1] = p->b_strides[d];
        } else {
            dims[r] = n;
            sa[r] = p->a_strides[d];
            sb[r] = p->b_strides[d];
            r++;
        }
    }
    if (r == 0) {
        dims[0] = 1;
        sa[0] = sb[0] = 0;
        r = 1;
    }
    for (d = 0; d < r - 1; d++) {
        idx[d] = 0;
        rows *= dims[d];
    }
    for (t = 0; t < rows; t++) {
        row(p->op, a + a_off * es, sa[r - 1], b + b_off * es, sb[r - 1],
            y + y_off * es, dims[r - 1]);
        y_off += dims[r - 1];
        for (d = r - 2; d >= 0; d--) {
            a_off += sa[d];
            b_off += sb[d];
            if (++idx[d] < dims[d])
                break;
            a_off -= (int64_t)sa[d] * dims[d];
            b_off -= (int64_t)sb[d] * dims[d];
            idx[d] = 0;
        }
    }
}

void tb_binary_f32(const tb_binary_params *p, const float *a, const float *b, float *y)
{
    binary(p, (const char *)a, (const char *)b, (char *)y, (int32_t)sizeof(float), row_f32);
}

void tb_binary_i64(const tb_binary_params *p, const int64_t *a, const int64_t *b, int64_t *y)
{
    binary(p, (const char *)a, (const char *)b, (char *)y, (int32_t)sizeof(int64_t), row_i64);
}

#define MAP(EXPR)                           \
    do {                                    \
        for (i = 0; i < n; i++) {           \
            const float v = x[i];           \
            y[i] = EXPR;                    \
        }                                   \
    } while (0)

/* min(hi, max(lo, v)) written with comparisons: NaN passes through. */
#define CLAMP(v, lo, hi) ((v) < (lo) ? (lo) : ((v) > (hi) ? (hi) : (v)))

void tb_unary_f32(const tb_unary_params *p, const float *x, float *y)
{
    const int32_t n = p->count;
    const float al = p->alpha, be = p->beta;
    int32_t i;

    switch (p->op) {
    case TB_UNARY_RELU:        MAP(v < 0.0f ? 0.0f : v); break;
    case TB_UNARY_CLIP:        MAP(CLAMP(v, al, be)); break;
    case TB_UNARY_SIGMOID:     MAP(1.0f / (1.0f + expf(-v))); break;
    case TB_UNARY_HARDSIGMOID: MAP(CLAMP(al * v + be, 0.0f, 1.0f)); break;
    case TB_UNARY_HARDSWISH:   MAP(v * CLAMP(v * (1.0f / 6.0f) + 0.5f, 0.0f, 1.0f)); break;
    case TB_UNARY_LEAKYRELU:   MAP(v < 0.0f ? al * v : v); break;
    case TB_UNARY_TANH:        MAP(tanhf(v)); break;
    case TB_UNARY_EXP:         MAP(expf(v)); break;
    case TB_UNARY_LOG:         MAP(logf(v)); break;
    case TB_UNARY_SQRT:        MAP(sqrtf(v)); break;
    case TB_UNARY_ABS:         MAP(fabsf(v)); break;
    case TB_UNARY_NEG:         MAP(-v); break;
    case TB_UNARY_RECIPROCAL:  MAP(1.0f / v); break;
    default: break;
    }
}
