/* recurrent.c - tb_rnn_f32: LSTM, GRU and simple RNN layers (ONNX gate
 * order, default activations: sigmoid for gates, tanh otherwise), forward,
 * reverse or both directions, one time step after the other.
 *
 * No buffer beyond the outputs: step t reads h(t-1) from y (or h0 / zeros
 * at the first step) and writes h(t) into y, unit by unit; the LSTM cell
 * state lives in y_c, and the GRU's r (.) h(t-1) vector in y_h, which gets
 * the final h at the end.
 */
#include <math.h>
#include "tb_runtime.h"

static float sigmoid(float v) { return 1.0f / (1.0f + expf(-v)); }

static float clipped(const tb_rnn_params *p, float v)
{
    if (p->clip > 0)
        return v < -p->clip ? -p->clip : v > p->clip ? p->clip : v;
    return v;
}

/* Row `row` of a [rows, n] matrix dotted with v[0..n) (v NULL: zeros). */
static float dot(const float *m, int32_t row, int32_t n, const float *v)
{
    const float *mr = m + (int64_t)row * n;
    float acc = 0.0f;
    int32_t k;
    if (!v)
        return 0.0f;
    for (k = 0; k < n; k++)
        acc += mr[k] * v[k];
    return acc;
}

/* Offsets of the [dirs, batch, hidden] states and of one time step of x / y. */
static int64_t state_at(const tb_rnn_params *p, int32_t d, int32_t b)
{
    return (p->layout ? (int64_t)b * p->dirs + d : (int64_t)d * p->batch + b) * p->hidden;
}
static int64_t x_at(const tb_rnn_params *p, int32_t t, int32_t b)
{
    return (p->layout ? (int64_t)b * p->seq + t : (int64_t)t * p->batch + b) * p->input;
}
static int64_t y_at(const tb_rnn_params *p, int32_t t, int32_t d, int32_t b)
{
    return (p->layout ? ((int64_t)b * p->seq + t) * p->dirs + d : ((int64_t)t * p->dirs + d) * p->batch + b) *
           p->hidden;
}

void tb_rnn_f32(const tb_rnn_params *p, const float *x, const float *w, const float *r, const float *b,
                const int32_t *seq_lens, const float *h0, const float *c0, const float *peep, float *y,
                float *y_h, float *y_c)
{
    const int32_t H = p->hidden, I = p->input, G = p->cell == TB_RNN_LSTM ? 4 : p->cell == TB_RNN_GRU ? 3 : 1;
    int32_t d, bi, s, j, k;
    for (d = 0; d < p->dirs; d++) {
        const int reverse = p->direction == 1 || d == 1;
        const float *wd = w + (int64_t)d * G * H * I, *rd = r + (int64_t)d * G * H * H;
        const float *wb = b ? b + (int64_t)d * 2 * G * H : 0, *rb = b ? wb + G * H : 0;
        const float *pd = peep ? peep + (int64_t)d * 3 * H : 0;
        for (bi = 0; bi < p->batch; bi++) {
            int32_t len = seq_lens ? seq_lens[bi] : p->seq, t;
            const float *hp = h0 ? h0 + state_at(p, d, bi) : 0;
            float *c = y_c ? y_c + state_at(p, d, bi) : 0, *scratch = y_h ? y_h + state_at(p, d, bi) : 0;
            len = len < 0 ? 0 : len > p->seq ? p->seq : len;
            if (c)
                for (j = 0; j < H; j++)
                    c[j] = c0 ? c0[state_at(p, d, bi) + j] : 0.0f;
            for (s = 0; s < len; s++) {
                const float *xt;
                float *ht;
                t = reverse ? len - 1 - s : s;
                xt = x + x_at(p, t, bi);
                ht = y + y_at(p, t, d, bi);
                if (p->cell == TB_RNN_GRU && !p->linear_before_reset && hp)
                    /* r (.) h(t-1), needed whole by every unit's candidate */
                    for (k = 0; k < H; k++) {
                        const float rg = sigmoid(clipped(p, dot(wd, H + k, I, xt) + dot(rd, H + k, H, hp) +
                                                                (b ? wb[H + k] + rb[H + k] : 0.0f)));
                        scratch[k] = hp ? rg * hp[k] : 0.0f;
                    }
                for (j = 0; j < H; j++) {
                    const float hprev = hp ? hp[j] : 0.0f;
#define GATE(gi) (dot(wd, (gi) * H + j, I, xt) + dot(rd, (gi) * H + j, H, hp) + \
                  (b ? wb[(gi) * H + j] + rb[(gi) * H + j] : 0.0f))
                    if (p->cell == TB_RNN_LSTM) {
                        /* gates i, o, f, c; peepholes i, o, f */
                        const float cp = c[j];
                        const float ig = sigmoid(clipped(p, GATE(0) + (pd ? pd[j] * cp : 0.0f)));
                        const float fg = sigmoid(clipped(p, GATE(2) + (pd ? pd[2 * H + j] * cp : 0.0f)));
                        const float cg = tanhf(clipped(p, GATE(3)));
                        const float cn = fg * cp + ig * cg;
                        const float og = sigmoid(clipped(p, GATE(1) + (pd ? pd[H + j] * cn : 0.0f)));
                        c[j] = cn;
                        ht[j] = og * tanhf(cn);
                    } else if (p->cell == TB_RNN_GRU) {
                        /* gates z, r, h */
                        const float zg = sigmoid(clipped(p, GATE(0)));
                        float hg;
                        if (p->linear_before_reset) {
                            const float rg = sigmoid(clipped(p, GATE(1)));
                            hg = dot(wd, 2 * H + j, I, xt) + (b ? wb[2 * H + j] : 0.0f) +
                                 rg * (dot(rd, 2 * H + j, H, hp) + (b ? rb[2 * H + j] : 0.0f));
                        } else {
                            hg = dot(wd, 2 * H + j, I, xt) + dot(rd, 2 * H + j, H, hp ? scratch : 0) +
                                 (b ? wb[2 * H + j] + rb[2 * H + j] : 0.0f);
                        }
                        hg = tanhf(clipped(p, hg));
                        ht[j] = (1.0f - zg) * hg + zg * hprev;
                    } else {
                        ht[j] = tanhf(clipped(p, GATE(0)));
                    }
#undef GATE
                }
                hp = ht;
            }
            /* Steps past this batch entry's length read as zeros in y. */
            for (s = len; s < p->seq; s++)
                for (j = 0; j < H; j++)
                    y[y_at(p, s, d, bi) + j] = 0.0f;
            if (y_h)
                for (j = 0; j < H; j++)
                    y_h[state_at(p, d, bi) + j] = hp ? hp[j] : 0.0f;
        }
    }
}
