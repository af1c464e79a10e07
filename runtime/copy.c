/* copy.c - kernels that move or convert data without arithmetic on it:
 * tb_copy (strided copy: Transpose, Slice, Expand, Concat, Split, Reshape),
 * tb_gather, tb_pad_f32 (constant / reflect / edge) and tb_cast.
 */
#include <string.h>
#include "tb_runtime.h"

/* Copies one es-byte element; constant sizes let memcpy become a move. */
static void put(char *d, const char *s, int32_t es)
{
    switch (es) {
    case 1: *d = *s; break;
    case 2: memcpy(d, s, 2); break;
    case 4: memcpy(d, s, 4); break;
    case 8: memcpy(d, s, 8); break;
    default: memcpy(d, s, (size_t)es); break;
    }
}

void tb_copy(const tb_copy_params *p, const void *x, void *y)
{
    const int32_t es = p->elem_size;
    int32_t dims[TB_RT_MAX_RANK], si[TB_RT_MAX_RANK], so[TB_RT_MAX_RANK];
    int32_t idx[TB_RT_MAX_RANK];
    const char *xs = (const char *)x + (int64_t)p->in_offset * es;
    char *ys = (char *)y + (int64_t)p->out_offset * es;
    int64_t in = 0, out = 0, rows = 1, t;
    int32_t n, a, b, i;
    int r = 0, d;

    /* Fold the shape: drop size-1 dims, merge a dim into the one outside it
     * when both sides' strides chain (outer == inner stride * inner dim). A
     * dense copy thus becomes a single row. */
    for (d = 0; d < p->rank; d++) {
        n = p->dims[d];
        if (n == 0)
            return;
        if (n == 1)
            continue;
        if (r > 0 && si[r - 1] == (int64_t)p->in_strides[d] * n &&
            so[r - 1] == (int64_t)p->out_strides[d] * n) {
            dims[r - 1] *= n;
            si[r - 1] = p->in_strides[d];
            so[r - 1] = p->out_strides[d];
        } else {
            dims[r] = n;
            si[r] = p->in_strides[d];
            so[r] = p->out_strides[d];
            r++;
        }
    }
    if (r == 0) {
        dims[0] = 1;
        si[0] = so[0] = 1;
        r = 1;
    }
    for (d = 0; d < r - 1; d++) {
        idx[d] = 0;
        rows *= dims[d];
    }
    n = dims[r - 1];
    a = si[r - 1];
    b = so[r - 1];
    for (t = 0; t < rows; t++) {
        const char *src = xs + in * es;
        char *dst = ys + out * es;
        if (a == 1 && b == 1) {
            if (src != dst) /* an in-place no-op copy must not reach memcpy */
                memcpy(dst, src, (size_t)n * (size_t)es);
        } else {
            for (i = 0; i < n; i++)
                put(dst + (int64_t)i * b * es, src + (int64_t)i * a * es, es);
        }
        for (d = r - 2; d >= 0; d--) {
            in += si[d];
            out += so[d];
            if (++idx[d] < dims[d])
                break;
            in -= (int64_t)si[d] * dims[d];
            out -= (int64_t)so[d] * dims[d];
            idx[d] = 0;
        }
    }
}

void tb_gather(const tb_gather_params *p, const void *x, const void *indices, void *y)
{
    const int64_t slice = (int64_t)p->inner * p->elem_size; /* bytes per index */
    const char *xs = (const char *)x;
    char *ys = (char *)y;
    int32_t o, j;

    for (o = 0; o < p->outer; o++) {
        const char *xo = xs + (int64_t)o * p->axis_len * slice;
        for (j = 0; j < p->n_index; j++, ys += slice) {
            int64_t k = p->index_size == 8 ? ((const int64_t *)indices)[j]
                                           : (int64_t)((const int32_t *)indices)[j];
            if (k < 0)
                k += p->axis_len;
            if (k < 0 || k >= p->axis_len)
                memset(ys, 0, (size_t)slice);
            else
                memcpy(ys, xo + k * slice, (size_t)slice);
        }
    }
}

/* Source index along one dim of length n for padded position s (= out index
 * minus pads_begin), or -1 when the pad value is to be written. Reflect
 * mirrors without repeating the edge (numpy 'reflect'), so it is periodic
 * with period 2(n-1); that also covers pads wider than the input. */
static int32_t src_index(int32_t s, int32_t n, int32_t mode)
{
    int32_t per;
    if (s >= 0 && s < n)
        return s;
    if (n <= 0 || mode == TB_PAD_CONSTANT)
        return -1;
    if (mode == TB_PAD_EDGE)
        return s < 0 ? 0 : n - 1;
    if (n == 1)
        return 0;
    per = 2 * (n - 1);
    s %= per;
    if (s < 0)
        s += per;
    return s < n ? s : per - s;
}

void tb_pad_f32(const tb_pad_params *p, const float *x, float *y)
{
    const int r = p->rank > 0 ? p->rank : 1;
    int32_t idx[TB_RT_MAX_RANK];
    int64_t rows = 1, t;
    int32_t n_out, n_in, pb, lo, hi, j, k;
    int d;

    if (p->rank <= 0) {
        y[0] = x[0];
        return;
    }
    for (d = 0; d < r; d++) {
        if (p->out_dims[d] == 0)
            return;
        idx[d] = 0;
    }
    for (d = 0; d < r - 1; d++)
        rows *= p->out_dims[d];
    n_out = p->out_dims[r - 1];
    n_in = p->in_dims[r - 1];
    pb = p->pads_begin[r - 1];
    /* output columns [lo, hi) copy the input row directly */
    lo = pb < 0 ? 0 : (pb < n_out ? pb : n_out);
    hi = (int64_t)pb + n_in < n_out ? pb + n_in : n_out;
    if (hi < lo)
        hi = lo;

    for (t = 0; t < rows; t++, y += n_out) {
        /* offset of the source row, or -1 if this row is all pad value */
        int64_t off = 0;
        const float *xr;
        for (d = 0; d < r - 1; d++) {
            const int32_t s = src_index(idx[d] - p->pads_begin[d], p->in_dims[d], p->mode);
            if (s < 0) {
                off = -1;
                break;
            }
            off = off * p->in_dims[d] + s;
        }
        if (off < 0 || n_in <= 0) {
            for (j = 0; j < n_out; j++)
                y[j] = p->value;
        } else {
            xr = x + off * n_in;
            for (j = 0; j < lo; j++) {
                k = src_index(j - pb, n_in, p->mode);
                y[j] = k < 0 ? p->value : xr[k];
            }
            for (j = lo; j < hi; j++)
                y[j] = xr[j - pb];
            for (j = hi; j < n_out; j++) {
                k = src_index(j - pb, n_in, p->mode);
                y[j] = k < 0 ? p->value : xr[k];
            }
        }
        for (d = r - 2; d >= 0; d--) {
            if (++idx[d] < p->out_dims[d])
                break;
            idx[d] = 0;
        }
    }
}

/* ---- cast ---- */

enum {
    T_FLOAT = 1, T_UINT8 = 2, T_INT8 = 3, T_UINT16 = 4, T_INT16 = 5, T_INT32 = 6,
    T_INT64 = 7, T_BOOL = 9, T_DOUBLE = 11, T_UINT32 = 12, T_UINT64 = 13
};

static int32_t type_size(int32_t t)
{
    switch (t) {
    case T_UINT8: case T_INT8: case T_BOOL: return 1;
    case T_UINT16: case T_INT16: return 2;
    case T_FLOAT: case T_INT32: case T_UINT32: return 4;
    case T_INT64: case T_DOUBLE: case T_UINT64: return 8;
    default: return 0;
    }
}

/* A source value: a floating one in f, or an integer in i (uint64 sources
 * keep their bit pattern in i, flagged by u). */
typedef struct {
    int is_float, u;
    double f;
    int64_t i;
} value;

static value load(const char *s, int32_t t)
{
    value v;
    v.is_float = 0;
    v.u = 0;
    v.f = 0.0;
    v.i = 0;
    switch (t) {
    case T_FLOAT: { float f; memcpy(&f, s, 4); v.f = (double)f; v.is_float = 1; break; }
    case T_DOUBLE: memcpy(&v.f, s, 8); v.is_float = 1; break;
    case T_UINT8: case T_BOOL: v.i = *(const uint8_t *)s; break;
    case T_INT8: v.i = *(const int8_t *)s; break;
    case T_UINT16: { uint16_t q; memcpy(&q, s, 2); v.i = q; break; }
    case T_INT16: { int16_t q; memcpy(&q, s, 2); v.i = q; break; }
    case T_UINT32: { uint32_t q; memcpy(&q, s, 4); v.i = q; break; }
    case T_INT32: { int32_t q; memcpy(&q, s, 4); v.i = q; break; }
    case T_INT64: memcpy(&v.i, s, 8); break;
    case T_UINT64: memcpy(&v.i, s, 8); v.u = 1; break;
    default: break;
    }
    return v;
}

/* Float to an integer type t as a 64-bit pattern. Converting a float whose
 * integral part does not fit is UB in C, so clamp to t's range first (NaN
 * becomes 0); the cast then truncates toward zero. The int64/uint64 bounds
 * 2^63 and 2^64 are exact doubles, the 2^63-1 / 2^64-1 maxima are not, hence
 * the >= tests against them. */
static uint64_t float_to_int(double f, int32_t t)
{
    double lo, hi;
    if (f != f)
        return 0;
    switch (t) {
    case T_INT64:
        if (f >= 9223372036854775808.0)
            return (uint64_t)INT64_MAX;
        if (f < -9223372036854775808.0)
            return (uint64_t)INT64_MIN;
        return (uint64_t)(int64_t)f;
    case T_UINT64:
        if (f >= 18446744073709551616.0)
            return UINT64_MAX;
        return f < 0.0 ? 0 : (uint64_t)f;
    case T_UINT8: lo = 0.0; hi = 255.0; break;
    case T_INT8: lo = -128.0; hi = 127.0; break;
    case T_UINT16: lo = 0.0; hi = 65535.0; break;
    case T_INT16: lo = -32768.0; hi = 32767.0; break;
    case T_UINT32: lo = 0.0; hi = 4294967295.0; break;
    default: lo = -2147483648.0; hi = 2147483647.0; break; /* T_INT32 */
    }
    f = f < lo ? lo : (f > hi ? hi : f);
    return (uint64_t)(int64_t)f;
}

static void store(char *d, int32_t t, value v)
{
    uint64_t q;
    switch (t) {
    case T_FLOAT: {
        /* integers convert straight to float: via double could round twice */
        float g = v.is_float ? (float)v.f : v.u ? (float)(uint64_t)v.i : (float)v.i;
        memcpy(d, &g, 4);
        return;
    }
    case T_DOUBLE: {
        double f = v.is_float ? v.f : v.u ? (double)(uint64_t)v.i : (double)v.i;
        memcpy(d, &f, 8);
        return;
    }
    case T_BOOL:
        *(uint8_t *)d = (uint8_t)(v.is_float ? v.f != 0.0 : v.i != 0);
        return;
    default:
        break;
    }
    /* integer targets: float sources clamp, integer sources wrap modulo
     * 2^bits (numpy astype does the same) */
    q = v.is_float ? float_to_int(v.f, t) : (uint64_t)v.i;
    switch (t) {
    case T_UINT8: *(uint8_t *)d = (uint8_t)q; break;
    case T_INT8: *(int8_t *)d = (int8_t)(uint8_t)q; break;
    case T_UINT16: { uint16_t r = (uint16_t)q; memcpy(d, &r, 2); break; }
    case T_INT16: { int16_t r = (int16_t)(uint16_t)q; memcpy(d, &r, 2); break; }
    case T_UINT32: { uint32_t r = (uint32_t)q; memcpy(d, &r, 4); break; }
    case T_INT32: { int32_t r = (int32_t)(uint32_t)q; memcpy(d, &r, 4); break; }
    case T_INT64: case T_UINT64: memcpy(d, &q, 8); break;
    default: break;
    }
}

void tb_cast(const tb_cast_params *p, const void *x, void *y)
{
    const int32_t fs = type_size(p->from), ts = type_size(p->to);
    const char *s = (const char *)x;
    char *d = (char *)y;
    int32_t i;

    if (fs == 0 || ts == 0)
        return; /* unsupported type (float16, string, ...): the compiler rejects it */
    if (p->from == p->to) {
        if (s != d)
            memcpy(d, s, (size_t)p->count * (size_t)fs);
        return;
    }
    for (i = 0; i < p->count; i++, s += fs, d += ts)
        store(d, p->to, load(s, p->from));
}

/* GatherElements: walks y (= indices' shape) with an odometer; the source
 * offset is the output index with the axis coordinate replaced. */
void tb_gather_elements(const tb_gather_elements_params *p, const void *x, const void *indices, void *y)
{
    const int32_t es = p->elem_size;
    int32_t idx[TB_RT_MAX_RANK];
    int64_t total = 1, t;
    const int32_t *xs = p->x_strides;
    const char *xb = (const char *)x;
    char *yb = (char *)y;
    int d;

    for (d = 0; d < p->rank; d++) {
        idx[d] = 0;
        total *= p->dims[d];
    }
    for (t = 0; t < total; t++) {
        int64_t k = p->index_size == 8 ? ((const int64_t *)indices)[t] : ((const int32_t *)indices)[t];
        int64_t off = 0;
        if (k < 0)
            k += p->x_axis_len;
        for (d = 0; d < p->rank; d++)
            off += (d == p->axis ? k : (int64_t)idx[d]) * xs[d];
        if (k < 0 || k >= p->x_axis_len) {
            int32_t b;
            for (b = 0; b < es; b++)
                yb[t * es + b] = 0;
        } else {
            put(yb + t * es, xb + off * es, es);
        }
        for (d = p->rank - 1; d >= 0; d--) {
            if (++idx[d] < p->dims[d])
                break;
            idx[d] = 0;
        }
    }
}

void tb_trilu(const tb_trilu_params *p, const void *x, const int64_t *k, void *y)
{
    const int32_t es = p->elem_size;
    const int64_t kk = k ? k[0] : p->k;
    const char *xb = (const char *)x;
    char *yb = (char *)y;
    int32_t b, i, j, e;
    for (b = 0; b < p->batch; b++) {
        for (i = 0; i < p->rows; i++) {
            for (j = 0; j < p->cols; j++) {
                const int64_t at = (((int64_t)b * p->rows + i) * p->cols + j) * es;
                const int64_t diff = (int64_t)j - i;
                const int keep = p->upper ? diff >= kk : diff <= kk;
                if (keep)
                    put(yb + at, xb + at, es);
                else
                    for (e = 0; e < es; e++)
                        yb[at + e] = 0;
            }
        }
    }
}
