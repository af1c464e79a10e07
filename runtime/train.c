/* train.c - dense forward/backward, masked softmax, SGD and the buffer
 * policies of the trainable tail (tb_train.h). */
#include "tb_train.h"

#include <math.h>

void tb_dense_forward_f32(int32_t n_in, int32_t n_out, const float *w, const float *b,
                          float act_min, float act_max, const float *x, float *y)
{
    int32_t i, j;
    for (j = 0; j < n_out; j++) {
        const float *row = w + (int64_t)j * n_in;
        float acc = b ? b[j] : 0.0f;
        for (i = 0; i < n_in; i++)
            acc += row[i] * x[i];
        y[j] = acc < act_min ? act_min : (acc > act_max ? act_max : acc);
    }
}

void tb_softmax_masked_f32(int32_t k, const float *logits, const uint8_t *seen, float *probs)
{
    int32_t j;
    float max = -INFINITY, sum = 0.0f;
    for (j = 0; j < k; j++)
        if ((!seen || seen[j]) && logits[j] > max)
            max = logits[j];
    for (j = 0; j < k; j++) {
        probs[j] = (!seen || seen[j]) ? expf(logits[j] - max) : 0.0f;
        sum += probs[j];
    }
    /* sum >= 1 when any class is seen (the max term is exp(0)) */
    for (j = 0; j < k; j++)
        probs[j] = sum > 0.0f ? probs[j] / sum : 0.0f;
}

void tb_dense_backward_f32(int32_t n_in, int32_t n_out, const float *w, float act_min, float act_max,
                           const float *y, float *delta, float *delta_in)
{
    int32_t i, j;
    /* A clamped output does not move with z: its gradient is zero there
     * (torch's relu and hardtanh backward agree, also at the boundary). */
    for (j = 0; j < n_out; j++)
        if (!(y[j] > act_min && y[j] < act_max))
            delta[j] = 0.0f;
    if (!delta_in)
        return;
    for (i = 0; i < n_in; i++)
        delta_in[i] = 0.0f;
    for (j = 0; j < n_out; j++) {
        const float *row = w + (int64_t)j * n_in;
        const float d = delta[j];
        if (d == 0.0f)
            continue;
        for (i = 0; i < n_in; i++)
            delta_in[i] += row[i] * d;
    }
}

void tb_dense_sgd_f32(int32_t n_in, int32_t n_out, float *w, float *b, float *vw, float *vb,
                      const float *x, const float *delta, float lr, float mom)
{
    int32_t i, j;
    for (j = 0; j < n_out; j++) {
        float *row = w + (int64_t)j * n_in;
        const float d = delta[j];
        if (vw && mom != 0.0f) {
            float *vrow = vw + (int64_t)j * n_in;
            for (i = 0; i < n_in; i++) {
                vrow[i] = mom * vrow[i] + d * x[i];
                row[i] -= lr * vrow[i];
            }
            if (b) {
                vb[j] = mom * vb[j] + d;
                b[j] -= lr * vb[j];
            }
        } else {
            for (i = 0; i < n_in; i++)
                row[i] -= lr * (d * x[i]);
            if (b)
                b[j] -= lr * d;
        }
    }
}

uint32_t tb_xorshift32(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

void tb_buffer_reset(tb_buffer_state *s, uint32_t capacity, uint32_t seed)
{
    s->capacity = capacity;
    s->count = 0;
    s->next = 0;
    s->seen = 0;
    s->rng = seed ? seed : 2463534242u;
}

/* The slot of the k-th entry (0-based) holding class c. */
static int32_t nth_of_class(const tb_buffer_state *s, const uint8_t *labels, int32_t c, uint32_t k)
{
    uint32_t i;
    for (i = 0; i < s->count; i++)
        if (labels[i] == c && k-- == 0)
            return (int32_t)i;
    return -1;
}

int32_t tb_buffer_slot(tb_buffer_state *s, int32_t policy, const uint8_t *labels,
                       int32_t *class_count, int32_t n_classes, int32_t label)
{
    int32_t slot, c, most;
    if (s->capacity == 0)
        return -1;
    s->seen++;
    if (policy == TB_POLICY_LATEST) {
        slot = 0;
    } else if (s->count < s->capacity) {
        slot = (int32_t)s->count;
        if (policy == TB_POLICY_FIFO)
            s->next = (s->count + 1) % s->capacity;
    } else if (policy == TB_POLICY_FIFO) {
        slot = (int32_t)s->next;
        s->next = (s->next + 1) % s->capacity;
    } else if (policy == TB_POLICY_RESERVOIR) {
        /* keep the new sample with probability capacity / seen */
        uint32_t r = tb_xorshift32(&s->rng) % s->seen;
        if (r >= s->capacity)
            return -1;
        slot = (int32_t)r;
    } else {
        /* class-balanced: the most represented class gives up a random entry
         * (the lowest class number wins a tie) */
        most = 0;
        for (c = 1; c < n_classes; c++)
            if (class_count[c] > class_count[most])
                most = c;
        slot = nth_of_class(s, labels, most, tb_xorshift32(&s->rng) % (uint32_t)class_count[most]);
    }
    if ((uint32_t)slot < s->count) {
        class_count[labels[slot]]--;
    } else {
        s->count = (uint32_t)slot + 1;
    }
    class_count[label]++;
    return slot;
}
