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
 * Stack: QDW_TILE int32 sums and QDW_STAGE staged bytes (6 KB on hosts,
 * 1.5 KB on Cortex-M).
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

void tb_qconv_depthwise(const tb_qconv_params *p, const int8_t *x, const int8_t *w, const int32_t *bias,
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
