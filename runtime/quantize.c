/* quantize.c - tb_quantize_f32 and tb_dequantize_f32: the float <-> integer
 * conversions at the edges of a quantized graph (QuantizeLinear,
 * DequantizeLinear). The only quantized kernels that use float; the integer
 * ones live in qconv.c and qelementwise.c.
 */
#include <math.h>

#include "tb_runtime.h"

#if !defined(TB_NO_SIMD) && defined(__AVX512F__)
#include <immintrin.h>
#define TB_QUANTIZE_AVX512 1
#endif

#define DT_U8 2
#define DT_I8 3

static int32_t zero_at(const void *zero, int32_t dtype, int32_t a)
{
    if (!zero)
        return 0;
    if (dtype == DT_U8)
        return ((const uint8_t *)zero)[a];
    if (dtype == DT_I8)
        return ((const int8_t *)zero)[a];
    return ((const int32_t *)zero)[a];
}

#if defined(TB_QUANTIZE_AVX512)
/* The loop below on 16 floats at a time, with the same IEEE operations: the
 * division, the rounding in the current mode (rintf), the add, NaN to z, the
 * clamp; the integral result narrowed to bytes. Returns how many it did. */
static int64_t quantize16(const float *x, int64_t count, float s, float z, float lo, float hi, uint8_t *y)
{
    const __m512 vs = _mm512_set1_ps(s), vz = _mm512_set1_ps(z), vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    int64_t i;
    for (i = 0; i + 16 <= count; i += 16) {
        __m512 v = _mm512_add_ps(_mm512_roundscale_ps(_mm512_div_ps(_mm512_loadu_ps(x + i), vs), _MM_FROUND_CUR_DIRECTION), vz);
        v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), vz);
        v = _mm512_min_ps(_mm512_max_ps(v, vlo), vhi);
        _mm_storeu_si128((__m128i *)(void *)(y + i), _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(v)));
    }
    return i;
}
#endif

void tb_quantize_f32(const tb_qlinear_params *p, const float *x, const float *scale, const void *zero,
                     void *y)
{
    const float lo = p->dtype == DT_U8 ? 0.0f : -128.0f, hi = p->dtype == DT_U8 ? 255.0f : 127.0f;
    int64_t o, i, k = 0;
    int32_t a;
    for (o = 0; o < p->outer; o++) {
        for (a = 0; a < p->axis; a++) {
            const float s = scale[a];
            const float z = (float)zero_at(zero, p->dtype, a);
            i = 0;
#if defined(TB_QUANTIZE_AVX512)
            i = quantize16(x + k, p->inner, s, z, lo, hi, (uint8_t *)y + k);
            k += i;
#endif
            for (; i < p->inner; i++, k++) {
                /* ONNX: saturate(rint(x / s) + z), rint rounding half to even
                 * (the default rounding mode); NaN becomes the zero point. */
                float v = rintf(x[k] / s) + z;
                v = v != v ? z : v < lo ? lo : (v > hi ? hi : v);
                if (p->dtype == DT_U8)
                    ((uint8_t *)y)[k] = (uint8_t)v;
                else
                    ((int8_t *)y)[k] = (int8_t)v;
            }
        }
    }
}

void tb_dequantize_f32(const tb_qlinear_params *p, const void *x, const float *scale, const void *zero,
                       float *y)
{
    int64_t o, i, k = 0;
    int32_t a;
    for (o = 0; o < p->outer; o++) {
        for (a = 0; a < p->axis; a++) {
            const float s = scale[a];
            const float z = (float)zero_at(zero, p->dtype, a);
            for (i = 0; i < p->inner; i++, k++)
                y[k] = ((float)zero_at(x, p->dtype, (int32_t)k) - z) * s;
        }
    }
}
