/* qconv_depthwise.c - tb_qconv_depthwise: tb_qconv's folded int8 path for
 * depthwise convs (group == c_in == c_out, MobileNet's), any kernel size,
 * stride and dilation. Integer only: this file is compiled without floating
 * point in a test.
 *
 * On the folded path the bias already holds bias - (x_zero + 128) sum w, so
 * every output is bias + sum (x + 128) w over its whole window, padding
 * reading x_zero + 128: unsigned bytes times signed bytes, no bounds checks.
 * A channel goes in tiles of a few output rows by a segment of columns
 * (whole rows unless they are very wide). A tile's input rows are staged
 * once as those bytes, split into stride_h row phases (even and odd rows
 * for stride 2) so that output row r, kernel row kh reads row r + kh dil_h /
 * stride_h of phase kh dil_h % stride_h; the staged rows are wq outputs
 * apart, so tap (kh, kw) of output f = r * wq + j is one fixed offset from f
 * for every f: rows of any width, 7 or 112, run as one long vector loop
 * (the columns j >= the segment are computed and dropped), and each tile
 * is requantized while its sums are hot.
 *
 * The plain C loops also split each staged row by column phase (even and
 * odd columns for stride 2) so that every tap is a unit-stride read, with
 * the taps of a kernel row summed in one pass; (x + 128) w fits int16,
 * which lets compilers multiply 16 bits wide. With AVX-512 VBMI and VNNI
 * (unless TB_NO_SIMD), 16 outputs take one byte permute (vpermb: each
 * output's 4 window bytes side by side) and one 4-way dot product
 * (vpdpbusd) per kernel row and 4 taps.
 *
 * 3x3 kernels with dilation 1 across and stride 1 or 2 across (MobileNet's)
 * take AVX-512 paths of their own, without the tiles: flat3_s1 (stride 1,
 * w_out == w_in) runs over the flat plane, rows3 (any other) row by row;
 * both load the int8 rows directly (+128 an xor, x_zero where a window
 * leaves the input), keep the sums in registers, requantize them there
 * (tb_rq_vec_*, the arithmetic of tb_requantize_row) and store 64 outputs
 * at a time.
 *
 * Stack: QDW_TILE int32 sums and QDW_STAGE staged bytes (6 KB on hosts,
 * 1.5 KB on Cortex-M); the AVX-512 3x3 paths about 12 KB (flat3_s1: two
 * channels' QDW_FLAT_STAGE-byte copies and the column mask table).
 */
#include "tb_runtime.h"

#if !defined(TB_NO_SIMD) && defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VBMI__) && \
    defined(__AVX512VNNI__)
#include <immintrin.h>
#define TB_QDW_VNNI 1
#endif

#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
#define QDW_TILE 128
#define QDW_STAGE 1024
#else
#define QDW_TILE 512
#define QDW_STAGE 4096
#endif
#define QDW_SLACK 128 /* read past the staged bytes by the vector loop (for dropped outputs) */

/* One tile: output rows oh0 .. oh0 + rows, columns ow0 .. ow0 + cnt. Each of
 * the stride_h row phases holds m staged rows of wp = wq * stride_w padded
 * columns, each row split into nph column phases (1, or stride_w) of wp / nph
 * bytes: phase (q, ph) starts at buf + (q * nph + ph) * m * wp / nph. */
typedef struct {
    int32_t oh0, rows, ow0, cnt, wq, wp, m, nph;
} qdw_tile;

/* The padded width a segment of cnt outputs reads, a multiple of the stride. */
static int32_t seg_width(const tb_qconv_params *p, int32_t cnt)
{
    const int32_t span = (cnt - 1) * p->stride_w + (p->k_w - 1) * p->dil_w + 1;
    return (span + p->stride_w - 1) / p->stride_w * p->stride_w;
}

/* Staged rows per row phase for a tile of rows output rows. */
static int32_t phase_rows(const tb_qconv_params *p, int32_t rows)
{
    const int32_t rin = (rows - 1) * p->stride_h + (p->k_h - 1) * p->dil_h + 1;
    return (rin + p->stride_h - 1) / p->stride_h;
}

/* d[i] = s[i * step] + 128 for i < n (inside the input). */
static void copy_row(uint8_t *restrict d, const int8_t *restrict s, int32_t n, int32_t step)
{
    int32_t i;
    if (step == 1) {
        for (i = 0; i < n; i++)
            d[i] = (uint8_t)(s[i] + 128);
    } else if (step == 2) {
        for (i = 0; i < n; i++)
            d[i] = (uint8_t)(s[2 * i] + 128);
    } else {
        for (i = 0; i < n; i++)
            d[i] = (uint8_t)(s[(int64_t)i * step] + 128);
    }
}

static void stage(const tb_qconv_params *p, const int8_t *xc, const qdw_tile *t, uint8_t *buf)
{
    const uint8_t pad = (uint8_t)(p->x_zero + 128);
    const int32_t sh = p->stride_h, nph = t->nph, pw = t->wp / nph, plane = t->m * pw;
    const int32_t c0 = t->ow0 * p->stride_w - p->pad_left; /* input column of padded column 0 */
    int32_t q, r, ph, i;
    for (q = 0; q < sh; q++) {
        for (r = 0; r < t->m; r++) {
            const int32_t ih = t->oh0 * sh - p->pad_top + r * sh + q;
            for (ph = 0; ph < nph; ph++) {
                /* element i is input column base + i * nph: inside for i in [lo, hi) */
                const int32_t base = c0 + ph, last = p->w_in - 1 - base;
                uint8_t *d = buf + (int64_t)(q * nph + ph) * plane + (int64_t)r * pw;
                int32_t lo = base >= 0 ? 0 : (-base + nph - 1) / nph;
                int32_t hi = last < 0 ? 0 : (last / nph + 1 < pw ? last / nph + 1 : pw);
                if (ih < 0 || ih >= p->h_in || lo >= hi)
                    lo = hi = pw;
                for (i = 0; i < lo; i++)
                    d[i] = pad;
                if (lo < hi)
                    copy_row(d + lo, xc + (int64_t)ih * p->w_in + base + (int64_t)lo * nph, hi - lo, nph);
                for (i = hi; i < pw; i++)
                    d[i] = pad;
            }
        }
    }
}

/* acc[f] = b + the taps of output f < nf, plain C over the phase-split rows. */
static void taps_plain(const tb_qconv_params *p, const int8_t *wc, const qdw_tile *t, const uint8_t *buf,
                       int32_t b, int32_t nf, int32_t *restrict acc)
{
    const int32_t sh = p->stride_h, sw = p->stride_w, plane = t->m * t->wq;
    int32_t kh, kw, f;
    /* tap (kh, kw): row phase kh dil_h % sh, column phase kw dil_w % sw, offset from f */
#define QDW_SRC(kh, kw)                                                                        \
    (buf + (int64_t)((kh) * p->dil_h % sh * sw + (kw) * p->dil_w % sw) * plane +               \
     (int64_t)((kh) * p->dil_h / sh) * t->wq + (kw) * p->dil_w / sw)
    for (f = 0; f < nf; f++)
        acc[f] = b;
    for (kh = 0; kh < p->k_h; kh++) {
        if (p->k_w == 3) {
            const uint8_t *restrict s0 = QDW_SRC(kh, 0), *restrict s1 = QDW_SRC(kh, 1), *restrict s2 = QDW_SRC(kh, 2);
            const int16_t w0 = wc[kh * 3], w1 = wc[kh * 3 + 1], w2 = wc[kh * 3 + 2];
            for (f = 0; f < nf; f++)
                acc[f] += (int32_t)(int16_t)(s0[f] * w0) + (int16_t)(s1[f] * w1) + (int16_t)(s2[f] * w2);
            continue;
        }
        for (kw = 0; kw < p->k_w; kw++) {
            const uint8_t *restrict s = QDW_SRC(kh, kw);
            const int16_t wv = wc[kh * p->k_w + kw];
            for (f = 0; f < nf; f++)
                acc[f] += (int16_t)(s[f] * wv);
        }
    }
#undef QDW_SRC
}

#if defined(TB_QDW_VNNI)
#define QDW_MAX_QUADS 64
/* Whether vpermb's 64-byte window holds 16 outputs' 4 taps, the reads stay
 * within QDW_SLACK past the staged rows and the weight quads fit. */
static int vnni_fits(const tb_qconv_params *p)
{
    const int32_t groups = (p->k_w + 3) / 4;
    return 15 * p->stride_w + 3 * p->dil_w <= 63 && 4 * (groups - 1) * p->dil_w + 64 <= QDW_SLACK &&
           p->k_h * groups <= QDW_MAX_QUADS;
}

/* acc[f] = b + the taps of output f, for f < nf rounded up to 16, over rows
 * without column phases: lane j of a permute holds the bytes of taps 4g ..
 * 4g + 3 of output f + j (weight 0 past k_w). */
static void taps_vnni(const tb_qconv_params *p, const int8_t *wc, const qdw_tile *t, const uint8_t *buf,
                      int32_t b, int32_t nf, int32_t *acc)
{
    const int32_t sh = p->stride_h, sw = p->stride_w, dw = p->dil_w, groups = (p->k_w + 3) / 4;
    const int64_t plane = (int64_t)t->m * t->wp;
    int32_t wq4[QDW_MAX_QUADS], kh, g, k, f;
    int64_t src[QDW_MAX_QUADS]; /* each kernel row's offset (k_h <= QDW_MAX_QUADS) */
    uint8_t idx[64];
    __m512i vidx;
    for (f = 0; f < 16; f++)
        for (k = 0; k < 4; k++)
            idx[4 * f + k] = (uint8_t)(f * sw + k * dw);
    vidx = _mm512_loadu_si512(idx);
    for (kh = 0; kh < p->k_h; kh++) {
        src[kh] = kh * p->dil_h % sh * plane + (int64_t)(kh * p->dil_h / sh) * t->wp;
        for (g = 0; g < groups; g++) {
            uint32_t q = 0;
            for (k = 0; k < 4 && 4 * g + k < p->k_w; k++)
                q |= (uint32_t)(uint8_t)wc[kh * p->k_w + 4 * g + k] << (8 * k);
            wq4[kh * groups + g] = (int32_t)q;
        }
    }
    if (p->k_h == 3 && groups == 1) { /* 3x3: the weights stay in registers */
        const __m512i w0 = _mm512_set1_epi32(wq4[0]), w1 = _mm512_set1_epi32(wq4[1]), w2 = _mm512_set1_epi32(wq4[2]);
        const uint8_t *b0 = buf + src[0], *b1 = buf + src[1], *b2 = buf + src[2];
        for (f = 0; f < nf; f += 16) {
            const int64_t o = (int64_t)f * sw;
            __m512i s = _mm512_set1_epi32(b);
            s = _mm512_dpbusd_epi32(s, _mm512_permutexvar_epi8(vidx, _mm512_loadu_si512(b0 + o)), w0);
            s = _mm512_dpbusd_epi32(s, _mm512_permutexvar_epi8(vidx, _mm512_loadu_si512(b1 + o)), w1);
            s = _mm512_dpbusd_epi32(s, _mm512_permutexvar_epi8(vidx, _mm512_loadu_si512(b2 + o)), w2);
            _mm512_storeu_si512(acc + f, s);
        }
        return;
    }
    for (f = 0; f < nf; f += 16) {
        __m512i s = _mm512_set1_epi32(b);
        for (kh = 0; kh < p->k_h; kh++) {
            const uint8_t *row = buf + src[kh] + (int64_t)f * sw;
            for (g = 0; g < groups; g++) {
                const __m512i v = _mm512_permutexvar_epi8(vidx, _mm512_loadu_si512(row + 4 * g * dw));
                s = _mm512_dpbusd_epi32(s, v, _mm512_set1_epi32(wq4[kh * groups + g]));
            }
        }
        _mm512_storeu_si512(acc + f, s);
    }
}
#endif

#if defined(TB_QDW_VNNI)
/* ---- 3x3 kernels with dilation 1 across, stride 1 or 2 across, straight
 * from the int8 rows: each kernel row's window is one load (x_zero where it
 * leaves the input), a byte permute lays out each output's 3 taps and +128
 * is an xor; 16 outputs' sums stay in a register from the bias to the
 * requantized bytes, 64 outputs go out in one store. ---- */

/* the helpers below run per block of 16 outputs: inlined whatever the
 * compiler's size limits (GNU C, as every compiler with these intrinsics) */
#define QDW_INLINE static inline __attribute__((always_inline))
#define QDW_PHASES 16       /* column patterns of the flat path kept in a table */
#define QDW_FLAT_STAGE 4096 /* bytes of the flat path's buffer for planes up to 56 x 56 */

static int fast3_fits(const tb_qconv_params *p)
{
    return p->k_h == 3 && p->k_w == 3 && p->dil_w == 1 && (p->stride_w == 1 || p->stride_w == 2);
}

/* Bits [lo, hi) of a 64-bit mask, clipped to [0, 64). */
QDW_INLINE __mmask64 bit_span(int32_t lo, int32_t hi)
{
    uint64_t a;
    if (lo < 0)
        lo = 0;
    if (hi > 64)
        hi = 64;
    if (lo >= hi)
        return 0;
    a = hi == 64 ? ~UINT64_C(0) : (UINT64_C(1) << hi) - 1u;
    return (__mmask64)(a & ~((UINT64_C(1) << lo) - 1u));
}

/* Kernel row kh's taps as a dword (weight 0 in the fourth byte). */
QDW_INLINE __m512i tap_quad(const int8_t *wc, int32_t kh)
{
    return _mm512_set1_epi32((int32_t)((uint32_t)(uint8_t)wc[3 * kh] | (uint32_t)(uint8_t)wc[3 * kh + 1] << 8 |
                                       (uint32_t)(uint8_t)wc[3 * kh + 2] << 16));
}

/* How a channel's sums are requantized: in registers, with the saturating
 * left shift first when the shift is positive (QDW_RQ_LEFT), or by
 * tb_requantize_row's reference loop for the saturating multiplier
 * INT32_MIN (QDW_RQ_REF). The kernels below are instantiated per kind so
 * that the common one carries no test. */
enum { QDW_RQ_PLAIN, QDW_RQ_LEFT, QDW_RQ_REF };

typedef struct {
    const tb_qconv_params *p;
    const int32_t *rc;
    tb_rq_vec rv;
    __m512i w0, w1, w2, b; /* kernel rows as tap dwords, the bias */
    int clamp;             /* [act_min, act_max] narrower than the output type (else the packs saturate) */
    int is_unsigned;       /* uint8 out: act_max > 127 (narrower ranges pack alike either way) */
} qdw_chan;

static int rq_kind(const int32_t *rc)
{
    return rc[0] == INT32_MIN ? QDW_RQ_REF : rc[1] > 0 ? QDW_RQ_LEFT : QDW_RQ_PLAIN;
}

QDW_INLINE void chan_of(qdw_chan *ch, const tb_qconv_params *p, const int8_t *wc, int32_t bias,
                        const int32_t *rc, int kind)
{
    ch->p = p;
    ch->rc = rc;
    ch->rv = tb_rq_vec_of(tb_rq_split_of(rc[0], rc[1]), p->y_zero, p->act_min, p->act_max);
    ch->rv.shifts_left = kind == QDW_RQ_LEFT; /* a constant where this is inlined */
    ch->w0 = tap_quad(wc, 0), ch->w1 = tap_quad(wc, 1), ch->w2 = tap_quad(wc, 2);
    ch->b = _mm512_set1_epi32(bias);
    ch->is_unsigned = p->act_max > 127;
    ch->clamp = ch->is_unsigned ? p->act_min != 0 || p->act_max != 255 : p->act_min != -128 || p->act_max != 127;
}

/* The sums s[0 .. nb) (16 outputs each) requantized into y[0 .. n), n <= 16 nb. */
QDW_INLINE void store_sums(const __m512i *s, int32_t nb, const qdw_chan *ch, int kind, uint8_t *y, int32_t n)
{
    /* the packs interleave 4 dwords of each vector per 128-bit lane: dword 4 L + b of
     * the bytes holds vector b's outputs 4 L .. 4 L + 3 */
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    __m512i r[4], b01, b23, bytes;
    int32_t k;
    if (kind == QDW_RQ_REF) {
        int32_t t[64];
        for (k = 0; k < nb; k++)
            _mm512_storeu_si512(t + 16 * k, s[k]);
        tb_requantize_row(t, n, 0, ch->rc, ch->p->y_zero, ch->p->act_min, ch->p->act_max, y);
        return;
    }
    for (k = 0; k < 4; k++) {
        r[k] = _mm512_setzero_si512();
        if (k < nb)
            r[k] = ch->clamp ? tb_rq_vec_apply(s[k], &ch->rv) : tb_rq_vec_scale(s[k], &ch->rv);
    }
    if (nb == 1) { /* one vector: narrowed in a register (saturating if not clamped), then stored */
        const __m128i v = ch->clamp         ? _mm512_cvtepi32_epi8(r[0])
                          : ch->is_unsigned ? _mm512_cvtusepi32_epi8(_mm512_max_epi32(r[0], _mm512_setzero_si512()))
                                            : _mm512_cvtsepi32_epi8(r[0]);
        if (n == 16)
            _mm_storeu_si128((__m128i *)(void *)y, v);
        else
            _mm_mask_storeu_epi8(y, (__mmask16)((1u << n) - 1u), v);
        return;
    }
    b01 = _mm512_packs_epi32(r[0], r[1]);
    b23 = _mm512_packs_epi32(r[2], r[3]);
    bytes = ch->is_unsigned ? _mm512_packus_epi16(b01, b23) : _mm512_packs_epi16(b01, b23);
    bytes = _mm512_permutexvar_epi32(order, bytes);
    if (n == 64)
        _mm512_storeu_si512(y, bytes);
    else
        _mm512_mask_storeu_epi8(y, bit_span(0, n), bytes);
}

/* For outputs at columns col (16 lanes): the permuted window bytes u become
 * (u & keep_and) ^ keep_xor, that is u + 128, or x_zero + 128 where tap kw
 * falls outside the row: its column col + d[kw] outside [0, w). */
QDW_INLINE void keep_of(__m512i col, int32_t w, const int32_t *d, uint8_t pad, __m512i *keep_and, __m512i *keep_xor)
{
    __m512i a = _mm512_set1_epi32(-1), x = _mm512_set1_epi32((int32_t)0x80808080u);
    int32_t kw;
    for (kw = 0; kw < 3; kw++) {
        const __mmask16 out = _mm512_cmplt_epi32_mask(col, _mm512_set1_epi32(-d[kw])) |
                              _mm512_cmpge_epi32_mask(col, _mm512_set1_epi32(w - d[kw]));
        const __m512i clear = _mm512_set1_epi32((int32_t)~(0xFFu << 8 * kw));
        a = _mm512_mask_and_epi32(a, out, a, clear);
        x = _mm512_mask_mov_epi32(
            x, out, _mm512_or_si512(_mm512_and_si512(x, clear), _mm512_set1_epi32((int32_t)((uint32_t)pad << 8 * kw))));
    }
    *keep_and = a;
    *keep_xor = x;
}

/* The layer constants of the flat path: output f = oh w + ow (w = w_in =
 * w_out) reads kernel row kh's taps in one window at f + off[kh]; tap kw is
 * column ow + d[kw] of its input row. */
typedef struct {
    int32_t wd, hw, nout, period, off[3], d[3];
    int32_t in_lo, in_hi; /* blocks f0 in [in_lo, in_hi] read only inside the plane */
    int staged;           /* the plane is copied into a buffer with x_zero around it */
    uint8_t pad;
    __m256i padz;
    __m512i vidx, col0, step;
    const __m512i *tab_and, *tab_xor;
} flat3_layer;

/* The sums of the 16 outputs from f0. checked: some window may leave the
 * plane. */
QDW_INLINE __m512i flat3_sum(const flat3_layer *L, const qdw_chan *ch, const int8_t *xc, int32_t f0, int checked,
                             int32_t *ph, __m512i *col)
{
    __m512i ka, kx, u[3], s;
    int32_t kh;
    if (L->period <= QDW_PHASES) {
        ka = L->tab_and[*ph], kx = L->tab_xor[*ph];
        if (++*ph == L->period)
            *ph = 0;
    } else {
        keep_of(*col, L->wd, L->d, L->pad, &ka, &kx);
        *col = _mm512_add_epi32(*col, L->step);
        *col = _mm512_mask_sub_epi32(*col, _mm512_cmpge_epi32_mask(*col, _mm512_set1_epi32(L->wd)), *col,
                                     _mm512_set1_epi32(L->wd));
    }
    for (kh = 0; kh < 3; kh++) {
        const int32_t at = f0 + L->off[kh];
        __m512i v;
        if (!checked || (at >= 0 && at + 32 <= L->hw))
            v = _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(const void *)(xc + at)));
        else
            v = _mm512_castsi256_si512(
                _mm256_mask_loadu_epi8(L->padz, (__mmask32)bit_span(-at, L->hw - at), xc + at));
        u[kh] = _mm512_ternarylogic_epi32(_mm512_permutexvar_epi8(L->vidx, v), ka, kx, 0x6A); /* (u & ka) ^ kx */
    }
    s = _mm512_dpbusd_epi32(ch->b, u[0], ch->w0);
    s = _mm512_dpbusd_epi32(s, u[1], ch->w1);
    return _mm512_dpbusd_epi32(s, u[2], ch->w2);
}

/* The n outputs from f0 in nb blocks of 16. */
QDW_INLINE void flat3_super(const flat3_layer *L, const qdw_chan *ch, const int8_t *xc, uint8_t *yc, int32_t f0,
                            int32_t n, int32_t nb, int checked, int kind, int32_t *ph, __m512i *col)
{
    __m512i s[4];
    int32_t k;
    for (k = 0; k < 4; k++)
        s[k] = k < nb ? flat3_sum(L, ch, xc, f0 + 16 * k, checked, ph, col) : _mm512_setzero_si512();
    store_sums(s, nb, ch, kind, yc + f0, n);
}

/* flat3_super for the outputs from f0 (up to 64), nb a constant in each call. */
QDW_INLINE void flat3_edge(const flat3_layer *L, const qdw_chan *ch, const int8_t *xc, uint8_t *yc, int32_t f0,
                           int checked, int kind, int32_t *ph, __m512i *col)
{
    const int32_t n = L->nout - f0 < 64 ? L->nout - f0 : 64;
    switch ((n + 15) / 16) {
    case 1: flat3_super(L, ch, xc, yc, f0, n, 1, checked, kind, ph, col); break;
    case 2: flat3_super(L, ch, xc, yc, f0, n, 2, checked, kind, ph, col); break;
    case 3: flat3_super(L, ch, xc, yc, f0, n, 3, checked, kind, ph, col); break;
    default: flat3_super(L, ch, xc, yc, f0, n, 4, checked, kind, ph, col); break;
    }
}

QDW_INLINE void flat3_channel(const flat3_layer *L, const tb_qconv_params *p, const int8_t *xc, const int8_t *wc,
                              int32_t bias, const int32_t *rc, uint8_t *yc, int kind)
{
    qdw_chan ch;
    __m512i col = L->col0;
    int32_t f0 = 0, ph = 0;
    chan_of(&ch, p, wc, bias, rc, kind);
    if (L->staged) { /* xc has x_zero around the plane: no window leaves the buffer */
        for (; f0 + 64 <= L->nout; f0 += 64)
            flat3_super(L, &ch, xc, yc, f0, 64, 4, 0, kind, &ph, &col);
        if (f0 < L->nout)
            flat3_edge(L, &ch, xc, yc, f0, 0, kind, &ph, &col);
        return;
    }
    for (; f0 < L->nout && f0 < L->in_lo; f0 += 64)
        flat3_edge(L, &ch, xc, yc, f0, 1, kind, &ph, &col);
    for (; f0 + 48 <= L->in_hi && f0 + 64 <= L->nout; f0 += 64)
        flat3_super(L, &ch, xc, yc, f0, 64, 4, 0, kind, &ph, &col);
    for (; f0 < L->nout; f0 += 64)
        flat3_edge(L, &ch, xc, yc, f0, 1, kind, &ph, &col);
}

/* flat3_channel with the channel's requantization kind a constant. */
static void flat3_dispatch(const flat3_layer *L, const tb_qconv_params *p, const int8_t *xc, const int8_t *wc,
                           int32_t bias, const int32_t *rc, uint8_t *yc)
{
    switch (rq_kind(rc)) {
    case QDW_RQ_PLAIN: flat3_channel(L, p, xc, wc, bias, rc, yc, QDW_RQ_PLAIN); break;
    case QDW_RQ_LEFT: flat3_channel(L, p, xc, wc, bias, rc, yc, QDW_RQ_LEFT); break;
    default: flat3_channel(L, p, xc, wc, bias, rc, yc, QDW_RQ_REF); break;
    }
}

/* The columns of the first block, the step to the next block and, when the
 * pattern repeats soon, the keep masks of every block in a table. */
static void flat3_tables(flat3_layer *L, __m512i *tab_and, __m512i *tab_xor)
{
    int32_t cols[16], g = 16, j;
    for (L->period = L->wd; L->period % 2 == 0 && g > 1;) /* wd / gcd(wd, 16) */
        L->period /= 2, g /= 2;
    for (j = 0; j < 16; j++)
        cols[j] = j % L->wd;
    L->col0 = _mm512_loadu_si512(cols);
    L->step = _mm512_set1_epi32(16 % L->wd);
    L->tab_and = tab_and, L->tab_xor = tab_xor;
    if (L->period <= QDW_PHASES) {
        __m512i col = L->col0;
        for (j = 0; j < L->period; j++) {
            keep_of(col, L->wd, L->d, L->pad, &tab_and[j], &tab_xor[j]);
            col = _mm512_add_epi32(col, L->step);
            col = _mm512_mask_sub_epi32(col, _mm512_cmpge_epi32_mask(col, _mm512_set1_epi32(L->wd)), col,
                                        _mm512_set1_epi32(L->wd));
        }
    }
}

/* d[0 .. n) = s[0 .. n). */
static void copy_plane(int8_t *d, const int8_t *s, int32_t n)
{
    int32_t j;
    for (j = 0; j < n; j += 64) {
        const __mmask64 k = bit_span(0, n - j);
        _mm512_mask_storeu_epi8(d + j, k, _mm512_maskz_loadu_epi8(k, s + j));
    }
}

/* Stride 1 with w_out == w_in: output f of the flat plane (row-major) reads
 * input f + (kh - pad_top) w_in + kw - pad_left for every f, so 16 outputs
 * are 16 consecutive flat positions whatever the width: 7 or 112. Reads
 * outside the plane load x_zero (planes up to QDW_FLAT_STAGE bytes are
 * copied into a buffer with x_zero around them; larger ones use masked
 * loads at their edges); taps that wrap to a neighbouring row are replaced
 * by the keep masks of the outputs' columns. */
static void flat3_s1(const tb_qconv_params *p, const int8_t *x, const int8_t *w, const int32_t *bias,
                     const int32_t *rq, uint8_t *y)
{
    flat3_layer L;
    __m512i tab_and[QDW_PHASES], tab_xor[QDW_PHASES];
    __m512i stage_buf[2][QDW_FLAT_STAGE / 64]; /* x_zero, the plane at pre, x_zero: two channels' */
    int32_t q, nq = p->n * p->c_out, j, kh, pre, end;
    uint8_t idx[64];
    L.wd = p->w_in, L.hw = p->h_in * p->w_in, L.nout = p->h_out * p->w_in;
    L.pad = (uint8_t)(p->x_zero + 128);
    L.padz = _mm256_set1_epi8((char)p->x_zero);
    for (j = 0; j < 64; j++)
        idx[j] = (uint8_t)(j / 4 + j % 4);
    L.vidx = _mm512_loadu_si512(idx);
    for (kh = 0; kh < 3; kh++) {
        L.d[kh] = kh - p->pad_left;
        L.off[kh] = (kh - p->pad_top) * L.wd - p->pad_left;
    }
    L.in_lo = -L.off[0];
    L.in_hi = L.hw - 32 - L.off[2];
    flat3_tables(&L, tab_and, tab_xor);
    /* staged: the windows of the last 64 outputs end by round64(nout) + 16 + off[2] */
    pre = (L.in_lo + 63) / 64 * 64;
    end = (L.nout + 63) / 64 * 64 + 16 + L.off[2];
    L.staged = L.in_lo >= 0 && (int64_t)pre + (L.hw > end ? L.hw : end) <= QDW_FLAT_STAGE;
    if (L.staged) {
        for (j = 0; j < QDW_FLAT_STAGE / 64; j++)
            stage_buf[0][j] = stage_buf[1][j] = _mm512_set1_epi8((char)p->x_zero);
        copy_plane((int8_t *)(void *)stage_buf[0] + pre, x, L.hw);
    }
    /* channels in order q = n c_out + c (c_in == c_out); a staged plane is
     * copied one channel ahead, so that its stores are done when it is read */
    for (q = 0; q < nq; q++) {
        const int32_t c = q % p->c_out;
        const int8_t *xc = x + (int64_t)q * L.hw;
        if (L.staged) {
            if (q + 1 < nq)
                copy_plane((int8_t *)(void *)stage_buf[(q + 1) % 2] + pre, xc + L.hw, L.hw);
            xc = (const int8_t *)(const void *)stage_buf[q % 2] + pre;
        }
        flat3_dispatch(&L, p, xc, w + (int64_t)c * 9, bias[c], rq + (p->per_channel ? 2 * c : 0),
                       y + (int64_t)q * L.nout);
    }
}

/* The layer constants of rows3. */
#define QDW_ROW_MASKS 64 /* column masks kept for rows up to 1024 outputs */
typedef struct {
    const tb_qconv_params *p;
    int32_t sw, pl, w_in, w_out;
    int pair;         /* rows of up to 8 outputs: two output rows a block, one in each half of the register */
    __m512i vidx, padz;
    __mmask64 cmask[QDW_ROW_MASKS]; /* block b's input columns inside the row */
} rows3_layer;

/* The window of input row row (0: outside the input) for block b. */
QDW_INLINE __m512i rows3_window(const rows3_layer *L, const int8_t *row, int32_t b)
{
    const int32_t c0 = 16 * b * L->sw - L->pl; /* input column of the block's first tap */
    if (!row)
        return L->padz;
    return _mm512_mask_loadu_epi8(L->padz, b < QDW_ROW_MASKS ? L->cmask[b] : bit_span(-c0, L->w_in - c0), row + c0);
}

/* Outputs 16 b0 .. 16 b0 + n of one output row (kernel rows row[], 0 where
 * outside the input), in nb blocks of 16, into y. */
QDW_INLINE void rows3_super(const rows3_layer *L, const qdw_chan *ch, const int8_t *const *row, int32_t b0,
                            uint8_t *y, int32_t n, int32_t nb, int kind)
{
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __m512i s[4];
    int32_t k, kh;
    for (k = 0; k < 4; k++) {
        __m512i v[3];
        s[k] = _mm512_setzero_si512();
        if (k >= nb)
            continue;
        for (kh = 0; kh < 3; kh++)
            v[kh] = _mm512_permutexvar_epi8(L->vidx, _mm512_xor_si512(rows3_window(L, row[kh], b0 + k), flip));
        s[k] = _mm512_dpbusd_epi32(ch->b, v[0], ch->w0);
        s[k] = _mm512_dpbusd_epi32(s[k], v[1], ch->w1);
        s[k] = _mm512_dpbusd_epi32(s[k], v[2], ch->w2);
    }
    store_sums(s, nb, ch, kind, y, n);
}

/* Kernel row kh's input rows for output row oh (0 outside the input). */
QDW_INLINE const int8_t *rows3_row(const tb_qconv_params *p, const int8_t *xc, int32_t oh, int32_t kh)
{
    const int32_t ih = oh * p->stride_h - p->pad_top + kh * p->dil_h;
    return ih >= 0 && ih < p->h_in ? xc + (int64_t)ih * p->w_in : 0;
}

/* One channel of rows3. */
QDW_INLINE void rows3_channel(const rows3_layer *L, const int8_t *xc, const int8_t *wc, int32_t bias,
                              const int32_t *rc, uint8_t *yc, int kind)
{
    const tb_qconv_params *p = L->p;
    const int32_t h_out = p->h_out, w_out = L->w_out;
    const __m256i flip = _mm256_set1_epi8((char)0x80), padz = _mm512_castsi512_si256(L->padz);
    qdw_chan ch;
    int32_t oh, ow0, kh;
    chan_of(&ch, p, wc, bias, rc, kind);
    if (L->pair) { /* output rows oh and oh + 1 in the low and high halves */
        const __mmask32 in = (__mmask32)L->cmask[0];
        for (oh = 0; oh < h_out; oh += 2) {
            __m512i s = ch.b, v;
            for (kh = 0; kh < 3; kh++) {
                const int8_t *r0 = rows3_row(p, xc, oh, kh), *r1 = oh + 1 < h_out ? rows3_row(p, xc, oh + 1, kh) : 0;
                const __m256i a = r0 ? _mm256_mask_loadu_epi8(padz, in, r0 - L->pl) : padz;
                const __m256i b = r1 ? _mm256_mask_loadu_epi8(padz, in, r1 - L->pl) : padz;
                v = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_xor_si256(a, flip)), _mm256_xor_si256(b, flip), 1);
                s = _mm512_dpbusd_epi32(s, _mm512_permutexvar_epi8(L->vidx, v),
                                        kh == 0 ? ch.w0 : kh == 1 ? ch.w1 : ch.w2);
            }
            store_sums(&s, 1, &ch, kind, yc + (int64_t)oh * w_out, (oh + 1 < h_out ? 2 : 1) * w_out);
        }
        return;
    }
    for (oh = 0; oh < h_out; oh++) {
        const int8_t *row[3];
        for (kh = 0; kh < 3; kh++)
            row[kh] = rows3_row(p, xc, oh, kh);
        for (ow0 = 0; ow0 < w_out; ow0 += 64) {
            const int32_t n = w_out - ow0 < 64 ? w_out - ow0 : 64;
            uint8_t *yr = yc + (int64_t)oh * w_out + ow0;
            switch ((n + 15) / 16) {
            case 1: rows3_super(L, &ch, row, ow0 / 16, yr, n, 1, kind); break;
            case 2: rows3_super(L, &ch, row, ow0 / 16, yr, n, 2, kind); break;
            case 3: rows3_super(L, &ch, row, ow0 / 16, yr, n, 3, kind); break;
            default: rows3_super(L, &ch, row, ow0 / 16, yr, n, 4, kind); break;
            }
        }
    }
}

/* Any other 3x3 with dilation 1 across (stride 1 or 2 across; any stride
 * and dilation down): up to 64 outputs of one output row, each 16 of them
 * one masked load of each kernel row's input row (x_zero outside); rows of
 * up to 8 outputs two at a time. */
static void rows3(const tb_qconv_params *p, const int8_t *x, const int8_t *w, const int32_t *bias,
                  const int32_t *rq, uint8_t *y)
{
    const int64_t in_plane = (int64_t)p->h_in * p->w_in, out_plane = (int64_t)p->h_out * p->w_out;
    rows3_layer L;
    uint8_t idx[64];
    int32_t n, c, j;
    L.p = p, L.sw = p->stride_w, L.pl = p->pad_left, L.w_in = p->w_in, L.w_out = p->w_out;
    L.pair = p->w_out <= 8; /* a row's window: (w_out - 1) stride + 3 <= 17 bytes of a 32-byte half */
    L.padz = _mm512_set1_epi8((char)p->x_zero);
    for (j = 0; j < 64; j++) { /* lane j / 4, tap j % 4 (the fourth has weight 0) */
        const int32_t lane = j / 4;
        if (L.pair)
            idx[j] = (uint8_t)(lane < p->w_out ? lane * L.sw + j % 4
                                               : lane < 2 * p->w_out ? 32 + (lane - p->w_out) * L.sw + j % 4 : 0);
        else
            idx[j] = (uint8_t)(lane * L.sw + j % 4);
    }
    L.vidx = _mm512_loadu_si512(idx);
    for (j = 0; j < QDW_ROW_MASKS; j++) {
        const int32_t c0 = 16 * j * L.sw - L.pl;
        L.cmask[j] = bit_span(-c0, L.w_in - c0);
    }
    for (n = 0; n < p->n; n++)
        for (c = 0; c < p->c_out; c++) {
            const int8_t *xc = x + ((int64_t)n * p->c_in + c) * in_plane, *wc = w + (int64_t)c * 9;
            const int32_t *rc = rq + (p->per_channel ? 2 * c : 0);
            uint8_t *yc = y + ((int64_t)n * p->c_out + c) * out_plane;
            switch (rq_kind(rc)) {
            case QDW_RQ_PLAIN: rows3_channel(&L, xc, wc, bias[c], rc, yc, QDW_RQ_PLAIN); break;
            case QDW_RQ_LEFT: rows3_channel(&L, xc, wc, bias[c], rc, yc, QDW_RQ_LEFT); break;
            default: rows3_channel(&L, xc, wc, bias[c], rc, yc, QDW_RQ_REF); break;
            }
        }
}
#endif

/* Every output by its own window sum: kernels too tall or wide for the
 * staging buffer. */
static void channel_direct(const tb_qconv_params *p, const int8_t *xc, const int8_t *wc, int32_t b,
                           const int32_t *rc, uint8_t *yc)
{
    int32_t oh, ow, kh, kw, acc;
    for (oh = 0; oh < p->h_out; oh++)
        for (ow = 0; ow < p->w_out; ow++) {
            acc = b;
            for (kh = 0; kh < p->k_h; kh++)
                for (kw = 0; kw < p->k_w; kw++) {
                    const int32_t ih = oh * p->stride_h + kh * p->dil_h - p->pad_top;
                    const int32_t iw = ow * p->stride_w + kw * p->dil_w - p->pad_left;
                    const int32_t u = ih < 0 || ih >= p->h_in || iw < 0 || iw >= p->w_in
                                          ? p->x_zero + 128
                                          : xc[(int64_t)ih * p->w_in + iw] + 128;
                    acc += u * wc[kh * p->k_w + kw];
                }
            tb_requantize_row(&acc, 1, 0, rc, p->y_zero, p->act_min, p->act_max, yc + (int64_t)oh * p->w_out + ow);
        }
}

/* Bytes staged for a tile of rows output rows of padded width wp. */
static int64_t stage_bytes(const tb_qconv_params *p, int32_t rows, int32_t wp)
{
    return (int64_t)p->stride_h * phase_rows(p, rows) * wp;
}

/* The staged tiles (any kernel, stride and dilation; every 3x3 in the plain
 * C build). */
static void tiles(const tb_qconv_params *p, const int8_t *x, const int8_t *w, const int32_t *bias,
                  const int32_t *rq, void *y)
{
    const int32_t ksize = p->k_h * p->k_w;
    const int64_t in_plane = (int64_t)p->h_in * p->w_in, out_plane = (int64_t)p->h_out * p->w_out;
    int32_t acc[QDW_TILE + 16];
    uint8_t buf[QDW_STAGE + QDW_SLACK];
    int32_t seg, max_rows, n, c, r, j, nph = p->stride_w;
    qdw_tile t;
#if defined(TB_QDW_VNNI)
    const int vnni = vnni_fits(p);
    if (vnni)
        nph = 1;
    for (j = 0; j < QDW_SLACK; j++) /* defined bytes for the reads past the staged rows */
        buf[QDW_STAGE + j] = 0;
#endif
    /* the widest segment of output columns whose rows fit (one output row
     * a tile), then the most output rows a tile of it holds */
    seg = p->w_out < QDW_TILE ? p->w_out : QDW_TILE;
    while (seg > 0 && (stage_bytes(p, 1, seg_width(p, seg)) > QDW_STAGE || seg_width(p, seg) / p->stride_w > QDW_TILE))
        seg = seg / 2;
    max_rows = seg > 0 ? QDW_TILE / (seg_width(p, seg) / p->stride_w) : 0;
    if (max_rows > p->h_out)
        max_rows = p->h_out;
    while (max_rows > 1 && stage_bytes(p, max_rows, seg_width(p, seg)) > QDW_STAGE)
        max_rows--;
    for (n = 0; n < p->n; n++) {
        for (c = 0; c < p->c_out; c++) {
            const int8_t *xc = x + ((int64_t)n * p->c_in + c) * in_plane;
            const int8_t *wc = w + (int64_t)c * ksize;
            const int32_t *rc = rq + (p->per_channel ? 2 * c : 0);
            uint8_t *yc = (uint8_t *)y + ((int64_t)n * p->c_out + c) * out_plane;
            if (seg == 0) {
                channel_direct(p, xc, wc, bias[c], rc, yc);
                continue;
            }
            for (t.ow0 = 0; t.ow0 < p->w_out; t.ow0 += seg) {
                t.cnt = p->w_out - t.ow0 < seg ? p->w_out - t.ow0 : seg;
                t.wp = seg_width(p, t.cnt);
                t.wq = t.wp / p->stride_w;
                t.nph = nph;
                for (t.oh0 = 0; t.oh0 < p->h_out; t.oh0 += t.rows) {
                    int32_t nf;
                    t.rows = p->h_out - t.oh0 < max_rows ? p->h_out - t.oh0 : max_rows;
                    t.m = phase_rows(p, t.rows);
                    nf = (t.rows - 1) * t.wq + t.cnt; /* the last row's extra columns would read past */
                    stage(p, xc, &t, buf);
#if defined(TB_QDW_VNNI)
                    if (vnni)
                        taps_vnni(p, wc, &t, buf, bias[c], nf, acc);
                    else
#endif
                        taps_plain(p, wc, &t, buf, bias[c], nf, acc);
                    if (t.cnt == p->w_out) { /* whole rows: drop the extra columns, one requantization */
                        for (r = 1; r < t.rows; r++)
                            for (j = 0; j < t.cnt; j++)
                                acc[r * t.cnt + j] = acc[r * t.wq + j];
                        tb_requantize_row(acc, t.rows * t.cnt, 0, rc, p->y_zero, p->act_min, p->act_max,
                                          yc + (int64_t)t.oh0 * p->w_out);
                    } else {
                        for (r = 0; r < t.rows; r++)
                            tb_requantize_row(acc + r * t.wq, t.cnt, 0, rc, p->y_zero, p->act_min, p->act_max,
                                              yc + (int64_t)(t.oh0 + r) * p->w_out + t.ow0);
                    }
                }
            }
        }
    }
}

void tb_qconv_depthwise(const tb_qconv_params *p, const int8_t *x, const int8_t *w, const int32_t *bias,
                        const int32_t *rq, void *y)
{
#if defined(TB_QDW_VNNI)
    if (fast3_fits(p)) {
        if (p->stride_w == 1 && p->stride_h == 1 && p->dil_h == 1 && p->w_out == p->w_in)
            flat3_s1(p, x, w, bias, rq, (uint8_t *)y);
        else
            rows3(p, x, w, bias, rq, (uint8_t *)y);
        return;
    }
#endif
    tiles(p, x, w, bias, rq, y);
}
