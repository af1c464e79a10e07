/* elementwise.c - broadcasting binary ops (tb_binary_f32, tb_binary_i64) and
 * unary activations / math (tb_unary_f32). Binary ops first fold the shape
 * into as few dims as possible, so same-shape and scalar operands become one
 * flat row with strides 1 or 0 and run through tight loops.
 */
#include <math.h>
#include "tb_runtime.h"

/* One output row of n elements; a and b advance by sa / sb elements. ctx
 * is the kernel's params. */
typedef void (*row_fn)(const void *ctx, const void *a, int32_t sa, const void *b,
                       int32_t sb, void *y, int32_t n);

/* The four stride cases of one row, EXPR combining u (from a) and v (from b). */
#define ROW(T, EXPR) ROW3(T, T, T, EXPR)
#define ROW3(TA, TB, TY, EXPR)                                               \
    do {                                                                     \
        typedef TA T_a;                                                      \
        typedef TB T_b;                                                      \
        const T_a *A_ = (const T_a *)a;                                      \
        const T_b *B_ = (const T_b *)b;                                      \
        TY *Y_ = (TY *)y;                                                    \
        int32_t i;                                                           \
        if (sa == 1 && sb == 1) {                                            \
            for (i = 0; i < n; i++) { T_a u = A_[i]; T_b v = B_[i]; Y_[i] = EXPR; } \
        } else if (sa == 0 && sb == 1) {                                     \
            const T_a u = A_[0];                                             \
            for (i = 0; i < n; i++) { T_b v = B_[i]; Y_[i] = EXPR; }         \
        } else if (sa == 1 && sb == 0) {                                     \
            const T_b v = B_[0];                                             \
            for (i = 0; i < n; i++) { T_a u = A_[i]; Y_[i] = EXPR; }         \
        } else {                                                             \
            for (i = 0; i < n; i++) {                                        \
                T_a u = A_[(int64_t)i * sa];                                 \
                T_b v = B_[(int64_t)i * sb];                                 \
                Y_[i] = EXPR;                                                \
            }                                                                \
        }                                                                    \
    } while (0)

/* The rows of tb_binary_any (any dtype: shape arithmetic, masks, rare
 * types): one strided loop. Ten types times every op in the four stride
 * cases of ROW3 made this file take 20 s to compile at -O3 -march=native;
 * the float and int64 rows above, the hot ones, keep all four. */
#define ROW_ANY(T, EXPR) ROW3_ANY(T, T, T, EXPR)
#define ROW3_ANY(TA, TB, TY, EXPR)                                           \
    do {                                                                     \
        typedef TA T_a;                                                      \
        typedef TB T_b;                                                      \
        const T_a *A_ = (const T_a *)a;                                      \
        const T_b *B_ = (const T_b *)b;                                      \
        TY *Y_ = (TY *)y;                                                    \
        int32_t i;                                                           \
        for (i = 0; i < n; i++) {                                            \
            T_a u = A_[(int64_t)i * sa];                                     \
            T_b v = B_[(int64_t)i * sb];                                     \
            Y_[i] = EXPR;                                                    \
        }                                                                    \
    } while (0)

/* PRelu's a < 0 test leaves NaN (and -0) as they are, as numpy's where does. */
static void row_f32(const void *ctx, const void *a, int32_t sa, const void *b,
                    int32_t sb, void *y, int32_t n)
{
    switch (((const tb_binary_params *)ctx)->op) {
    case TB_BINARY_ADD: ROW(float, u + v); break;
    case TB_BINARY_SUB: ROW(float, u - v); break;
    case TB_BINARY_MUL: ROW(float, u * v); break;
    case TB_BINARY_DIV: ROW(float, u / v); break;
    case TB_BINARY_MAX: ROW(float, v > u ? v : u); break;
    case TB_BINARY_MIN: ROW(float, v < u ? v : u); break;
    case TB_BINARY_POW: ROW(float, powf(u, v)); break;
    case TB_BINARY_FMOD: ROW(float, fmodf(u, v)); break;
    case TB_BINARY_PRELU: ROW(float, u < 0.0f ? u * v : u); break;
    default: break;
    }
}

/* Integer overflow is UB in C, so ADD/SUB/MUL wrap through uint64_t like
 * numpy does. DIV truncates toward zero; x/0 gives 0 and x/-1 is a wrapping
 * negation (INT64_MIN / -1 would trap). */
#define WRAP(OP) ((int64_t)((uint64_t)u OP (uint64_t)v))
#define IDIV (v == 0 ? 0 : v == -1 ? (int64_t)(0u - (uint64_t)u) : u / v)

static void row_i64(const void *ctx, const void *a, int32_t sa, const void *b,
                    int32_t sb, void *y, int32_t n)
{
    switch (((const tb_binary_params *)ctx)->op) {
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
static void binary(const tb_binary_params *p, const void *ctx, const char *a, int32_t esa,
                   const char *b, int32_t esb, char *y, int32_t esy, row_fn row)
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
        row(ctx, a + a_off * esa, sa[r - 1], b + b_off * esb, sb[r - 1],
            y + y_off * esy, dims[r - 1]);
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
    binary(p, p, (const char *)a, 4, (const char *)b, 4, (char *)y, 4, row_f32);
}

void tb_binary_i64(const tb_binary_params *p, const int64_t *a, const int64_t *b, int64_t *y)
{
    binary(p, p, (const char *)a, 8, (const char *)b, 8, (char *)y, 8, row_i64);
}

/* ---- tb_binary_any: every op on every element type ---------------------- */

static int32_t type_size(int32_t t)
{
    switch (t) {
    case 2: case 3: case 9: return 1;
    case 4: case 5: return 2;
    case 1: case 6: case 12: return 4;
    default: return 8;
    }
}

/* Element i of a buffer of ONNX type t, as a double (POW's exponent). */
static double load_f64(int32_t t, const void *p, int64_t i)
{
    switch (t) {
    case 1: return ((const float *)p)[i];
    case 2: return ((const uint8_t *)p)[i];
    case 3: return ((const int8_t *)p)[i];
    case 4: return ((const uint16_t *)p)[i];
    case 5: return ((const int16_t *)p)[i];
    case 6: return ((const int32_t *)p)[i];
    case 7: return (double)((const int64_t *)p)[i];
    case 9: return ((const uint8_t *)p)[i];
    case 11: return ((const double *)p)[i];
    case 12: return ((const uint32_t *)p)[i];
    case 13: return (double)((const uint64_t *)p)[i];
    default: return 0.0;
    }
}

static int is_int_type(int32_t t) { return t != 1 && t != 11; }

/* Integer power by squaring, wrapping like the other integer ops. A negative
 * exponent gives the truncated real result: 1 / b^-e is 0 unless |b| == 1. */
static int64_t ipow(int64_t b, int64_t e)
{
    uint64_t r = 1, x = (uint64_t)b;
    if (e < 0)
        return b == 1 ? 1 : b == -1 ? ((e & 1) ? -1 : 1) : 0;
    while (e) {
        if (e & 1)
            r *= x;
        x *= x;
        e >>= 1;
    }
    return (int64_t)r;
}

/* A double result into an integer type: NaN and values beyond int64 (whose
 * conversion is undefined in C) give 0; the rest truncate toward zero and
 * wrap into the narrower type. */
static int64_t f64_to_i64(double d)
{
    return d > -9.2e18 && d < 9.2e18 ? (int64_t)d : 0;
}

#define CMP_OPS(T)                                                             \
    case TB_BINARY_EQ: ROW3_ANY(T, T, uint8_t, (uint8_t)(u == v)); break;          \
    case TB_BINARY_GT: ROW3_ANY(T, T, uint8_t, (uint8_t)(u > v)); break;           \
    case TB_BINARY_LT: ROW3_ANY(T, T, uint8_t, (uint8_t)(u < v)); break;           \
    case TB_BINARY_GE: ROW3_ANY(T, T, uint8_t, (uint8_t)(u >= v)); break;          \
    case TB_BINARY_LE: ROW3_ANY(T, T, uint8_t, (uint8_t)(u <= v)); break;          \
    case TB_BINARY_AND: ROW3_ANY(T, T, uint8_t, (uint8_t)(u != 0 && v != 0)); break; \
    case TB_BINARY_OR: ROW3_ANY(T, T, uint8_t, (uint8_t)(u != 0 || v != 0)); break; \
    case TB_BINARY_XOR: ROW3_ANY(T, T, uint8_t, (uint8_t)((u != 0) != (v != 0))); break;

/* POW with an exponent of any type b_dtype: integer ** integer is exact
 * (wrapping), anything else goes through double pow. */
#define POW_ROW(T, IS_INT)                                                     \
    do {                                                                       \
        const T *A_ = (const T *)a;                                            \
        T *Y_ = (T *)y;                                                        \
        int32_t i;                                                             \
        for (i = 0; i < n; i++) {                                              \
            const double u = (double)A_[(int64_t)i * sa];                      \
            const double v = load_f64(p->b_dtype, b, (int64_t)i * sb);         \
            if (IS_INT && is_int_type(p->b_dtype))                             \
                Y_[i] = (T)ipow((int64_t)A_[(int64_t)i * sa], (int64_t)v);     \
            else if (IS_INT)                                                   \
                Y_[i] = (T)f64_to_i64(pow(u, v));                              \
            else                                                               \
                Y_[i] = (T)pow(u, v);                                          \
        }                                                                      \
    } while (0)

/* Floats: MOD (sign of b) is computed as fmod corrected toward b's sign;
 * NaN compares false in every comparison, as in numpy. */
#define FLOAT_ROWS(NAME, T)                                                    \
    static void NAME(const void *ctx, const void *a, int32_t sa, const void *b, \
                     int32_t sb, void *y, int32_t n)                           \
    {                                                                          \
        const tb_binary_any_params *p = (const tb_binary_any_params *)ctx;     \
        switch (p->op) {                                                       \
        case TB_BINARY_ADD: ROW_ANY(T, u + v); break;                              \
        case TB_BINARY_SUB: ROW_ANY(T, u - v); break;                              \
        case TB_BINARY_MUL: ROW_ANY(T, u * v); break;                              \
        case TB_BINARY_DIV: ROW_ANY(T, u / v); break;                              \
        case TB_BINARY_MAX: ROW_ANY(T, v > u ? v : u); break;                      \
        case TB_BINARY_MIN: ROW_ANY(T, v < u ? v : u); break;                      \
        case TB_BINARY_POW: POW_ROW(T, 0); break;                              \
        case TB_BINARY_FMOD: ROW_ANY(T, (T)fmod((double)u, (double)v)); break;     \
        case TB_BINARY_MOD: ROW_ANY(T, (T)fmod_floor((double)u, (double)v)); break; \
        case TB_BINARY_PRELU: ROW_ANY(T, u < 0 ? u * v : u); break;                \
        CMP_OPS(T)                                                             \
        default: break;                                                        \
        }                                                                      \
    }

static double fmod_floor(double u, double v)
{
    double r = fmod(u, v);
    return r != 0.0 && ((r < 0.0) != (v < 0.0)) ? r + v : r;
}

/* Signed integers: + - * wrap through uint64_t (overflow of a signed type is
 * undefined in C; the conversion back to T is the usual two's complement
 * truncation). Division and remainder by 0 give 0 and by -1 avoid the
 * INT_MIN / -1 trap. MOD takes the sign of b, FMOD (C %) the sign of a. */
#define WRAPT(T, OP) ((T)(int64_t)((uint64_t)(int64_t)u OP (uint64_t)(int64_t)v))
#define SDIV(T) (v == 0 ? (T)0 : v == -1 ? (T)(int64_t)(0u - (uint64_t)(int64_t)u) : (T)(u / v))
#define SFMOD(T) (v == 0 || v == -1 ? (T)0 : (T)(u % v))
#define SMOD(T) (v == 0 || v == -1 ? (T)0 : (T)((u % v) != 0 && ((u % v) < 0) != (v < 0) ? u % v + v : u % v))
#define SIGNED_ROWS(NAME, T)                                                   \
    static void NAME(const void *ctx, const void *a, int32_t sa, const void *b, \
                     int32_t sb, void *y, int32_t n)                           \
    {                                                                          \
        const tb_binary_any_params *p = (const tb_binary_any_params *)ctx;     \
        switch (p->op) {                                                       \
        case TB_BINARY_ADD: ROW_ANY(T, WRAPT(T, +)); break;                        \
        case TB_BINARY_SUB: ROW_ANY(T, WRAPT(T, -)); break;                        \
        case TB_BINARY_MUL: ROW_ANY(T, WRAPT(T, *)); break;                        \
        case TB_BINARY_DIV: ROW_ANY(T, SDIV(T)); break;                            \
        case TB_BINARY_MAX: ROW_ANY(T, v > u ? v : u); break;                      \
        case TB_BINARY_MIN: ROW_ANY(T, v < u ? v : u); break;                      \
        case TB_BINARY_POW: POW_ROW(T, 1); break;                              \
        case TB_BINARY_FMOD: ROW_ANY(T, SFMOD(T)); break;                          \
        case TB_BINARY_MOD: ROW_ANY(T, SMOD(T)); break;                            \
        case TB_BINARY_PRELU: ROW_ANY(T, u < 0 ? WRAPT(T, *) : u); break;          \
        CMP_OPS(T)                                                             \
        default: break;                                                        \
        }                                                                      \
    }

/* Unsigned integers (and bool): arithmetic is modular already. */
#define UNSIGNED_ROWS(NAME, T)                                                 \
    static void NAME(const void *ctx, const void *a, int32_t sa, const void *b, \
                     int32_t sb, void *y, int32_t n)                           \
    {                                                                          \
        const tb_binary_any_params *p = (const tb_binary_any_params *)ctx;     \
        switch (p->op) {                                                       \
        case TB_BINARY_ADD: ROW_ANY(T, (T)((uint64_t)u + v)); break;               \
        case TB_BINARY_SUB: ROW_ANY(T, (T)((uint64_t)u - v)); break;               \
        case TB_BINARY_MUL: ROW_ANY(T, (T)((uint64_t)u * v)); break;               \
        case TB_BINARY_DIV: ROW_ANY(T, v == 0 ? (T)0 : (T)(u / v)); break;         \
        case TB_BINARY_MAX: ROW_ANY(T, v > u ? v : u); break;                      \
        case TB_BINARY_MIN: ROW_ANY(T, v < u ? v : u); break;                      \
        case TB_BINARY_POW: POW_ROW(T, 1); break;                              \
        case TB_BINARY_FMOD:                                                   \
        case TB_BINARY_MOD: ROW_ANY(T, v == 0 ? (T)0 : (T)(u % v)); break;         \
        case TB_BINARY_PRELU: ROW_ANY(T, ((void)v, u)); break;                                \
        CMP_OPS(T)                                                             \
        default: break;                                                        \
        }                                                                      \
    }

FLOAT_ROWS(rows_f32, float)
FLOAT_ROWS(rows_f64, double)
SIGNED_ROWS(rows_i8, int8_t)
SIGNED_ROWS(rows_i16, int16_t)
SIGNED_ROWS(rows_i32, int32_t)
SIGNED_ROWS(rows_i64, int64_t)
UNSIGNED_ROWS(rows_u8, uint8_t)
UNSIGNED_ROWS(rows_u16, uint16_t)
UNSIGNED_ROWS(rows_u32, uint32_t)
UNSIGNED_ROWS(rows_u64, uint64_t)

void tb_binary_any(const tb_binary_any_params *p, const void *a, const void *b, void *y)
{
    tb_binary_params q;
    row_fn row;
    int32_t d, es = type_size(p->dtype);
    switch (p->dtype) {
    case 1: row = rows_f32; break;
    case 11: row = rows_f64; break;
    case 3: row = rows_i8; break;
    case 5: row = rows_i16; break;
    case 6: row = rows_i32; break;
    case 7: row = rows_i64; break;
    case 2: case 9: row = rows_u8; break;
    case 4: row = rows_u16; break;
    case 12: row = rows_u32; break;
    case 13: row = rows_u64; break;
    default: return;
    }
    q.op = p->op;
    q.count = p->count;
    q.rank = p->rank;
    for (d = 0; d < TB_RT_MAX_RANK; d++) {
        q.dims[d] = p->dims[d];
        q.a_strides[d] = p->a_strides[d];
        q.b_strides[d] = p->b_strides[d];
    }
    binary(&q, p, (const char *)a, es, (const char *)b, type_size(p->b_dtype), (char *)y,
           p->op >= TB_BINARY_EQ ? 1 : es, row);
}

/* ---- tb_where: a plain odometer over the output, three strided reads ---- */

void tb_where(const tb_where_params *p, const uint8_t *cond, const void *x, const void *y, void *out)
{
    const int32_t es = p->elem_size;
    int32_t idx[TB_RT_MAX_RANK];
    int64_t oc = 0, ox = 0, oy = 0, t, total = 1;
    const char *xs = (const char *)x, *ys = (const char *)y;
    char *os = (char *)out;
    int d, k;

    for (d = 0; d < p->rank; d++) {
        idx[d] = 0;
        total *= p->dims[d];
    }
    for (t = 0; t < total; t++) {
        const char *src = cond[oc] ? xs + ox * es : ys + oy * es;
        char *dst = os + t * es;
        for (k = 0; k < es; k++)
            dst[k] = src[k];
        for (d = p->rank - 1; d >= 0; d--) {
            oc += p->c_strides[d];
            ox += p->x_strides[d];
            oy += p->y_strides[d];
            if (++idx[d] < p->dims[d])
                break;
            oc -= (int64_t)p->c_strides[d] * p->dims[d];
            ox -= (int64_t)p->x_strides[d] * p->dims[d];
            oy -= (int64_t)p->y_strides[d] * p->dims[d];
            idx[d] = 0;
        }
    }
}

#define MAP(EXPR)                           \
    do {                                    \
        for (i = 0; i < n; i++) {           \
            const float v = x[i];           \
            y[i] = EXPR;                    \
        }                                   \
    } while (0)

/* Round half to even (ONNX Round, numpy round) without depending on the
 * current rounding mode as rintf does. v - floorf(v) is exact for every
 * float; |v| >= 2^23 is already an integer (d == 0); NaN fails every
 * comparison and passes through; +-inf give NaN in d and stay +-inf. */
static float round_half_even(float v)
{
    float r = floorf(v), d = v - r;
    if (d > 0.5f || (d == 0.5f && fmodf(r, 2.0f) != 0.0f))
        r += 1.0f;
    return copysignf(r, v); /* -0.5 rounds to -0, as numpy's round */
}

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
    /* expm1f keeps the precision of small negative inputs. */
    case TB_UNARY_ELU:         MAP(v < 0.0f ? al * expm1f(v) : v); break;
    case TB_UNARY_SELU:        MAP(v <= 0.0f ? be * (al * expm1f(v)) : be * v); break;
    case TB_UNARY_CELU:        MAP(v < 0.0f ? al * expm1f(v / al) : v); break;
    /* log(1 + e^v) without overflow for large v: v + log1p(e^-v). */
    case TB_UNARY_SOFTPLUS:    MAP(v > 0.0f ? v + log1pf(expf(-v)) : log1pf(expf(v))); break;
    case TB_UNARY_SOFTSIGN:    MAP(v / (1.0f + fabsf(v))); break;
    case TB_UNARY_THRESHOLDEDRELU: MAP(v > al ? v : 0.0f); break;
    case TB_UNARY_ERF:         MAP(erff(v)); break;
    case TB_UNARY_GELU:        MAP(0.5f * v * (1.0f + erff(v * 0.70710678118654752f))); break;
    case TB_UNARY_GELU_TANH:
        MAP(0.5f * v * (1.0f + tanhf(0.79788456080286536f * (v + 0.044715f * v * v * v))));
        break;
    case TB_UNARY_FLOOR:       MAP(floorf(v)); break;
    case TB_UNARY_CEIL:        MAP(ceilf(v)); break;
    case TB_UNARY_ROUND:       MAP(round_half_even(v)); break;
    /* sign keeps 0, -0 and NaN as they are */
    case TB_UNARY_SIGN:        MAP(v > 0.0f ? 1.0f : v < 0.0f ? -1.0f : v); break;
    case TB_UNARY_SIN:         MAP(sinf(v)); break;
    case TB_UNARY_COS:         MAP(cosf(v)); break;
    case TB_UNARY_TAN:         MAP(tanf(v)); break;
    case TB_UNARY_ASIN:        MAP(asinf(v)); break;
    case TB_UNARY_ACOS:        MAP(acosf(v)); break;
    case TB_UNARY_ATAN:        MAP(atanf(v)); break;
    case TB_UNARY_SINH:        MAP(sinhf(v)); break;
    case TB_UNARY_COSH:        MAP(coshf(v)); break;
    case TB_UNARY_ASINH:       MAP(asinhf(v)); break;
    case TB_UNARY_ACOSH:       MAP(acoshf(v)); break;
    case TB_UNARY_ATANH:       MAP(atanhf(v)); break;
    case TB_UNARY_SCALE:       MAP(al * v); break;
    default: break;
    }
}

void tb_unary_bool(const tb_unary_bool_params *p, const void *x, uint8_t *y)
{
    const float *xf = (const float *)x;
    const uint8_t *xb = (const uint8_t *)x;
    int32_t i;
    for (i = 0; i < p->count; i++) {
        switch (p->op) {
        /* v != v is the portable NaN test; isnan/isinf are macros on float too. */
        case TB_UNARY_BOOL_ISNAN: y[i] = (uint8_t)(xf[i] != xf[i]); break;
        case TB_UNARY_BOOL_ISINF:
            y[i] = (uint8_t)((p->detect_positive && xf[i] == INFINITY) ||
                             (p->detect_negative && xf[i] == -INFINITY));
            break;
        case TB_UNARY_BOOL_NOT: y[i] = (uint8_t)(xb[i] == 0); break;
        default: y[i] = 0; break;
        }
    }
}
