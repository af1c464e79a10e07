/* tb_train.h - the kernels a generated trainable tail (tyboxc --train-tail)
 * calls: float dense layers forward and backward, softmax with a class mask,
 * the SGD update, and the index logic of the sample buffer's policies.
 *
 * Plain C99: no malloc, no stdio. A dense layer is y = clamp(W x + b,
 * act_min, act_max) with W row-major [n_out][n_in]; a Relu is act_min = 0,
 * no activation is (-inf, +inf). Batch size 1 throughout.
 *
 *   tb_dense_forward_f32(n_in, n_out, w, b, lo, hi, x, y);
 *   tb_softmax_masked_f32(k, logits, seen, probs);
 *   for (j...) delta[j] = probs[j] - (j == label);      // cross-entropy
 *   tb_dense_backward_f32(n_in, n_out, w, lo, hi, y, delta, delta_in);
 *   tb_dense_sgd_f32(n_in, n_out, w, b, vw, vb, x, delta, lr, mom);
 */
#ifndef TB_TRAIN_H
#define TB_TRAIN_H

#include <stdint.h>

/* y = clamp(W x + b). b may be NULL. */
void tb_dense_forward_f32(int32_t n_in, int32_t n_out, const float *w, const float *b,
                          float act_min, float act_max, const float *x, float *y);

/* probs over the k classes whose seen[j] is non-zero (seen may be NULL: all);
 * the others get probability 0 and take no part in the normalisation. */
void tb_softmax_masked_f32(int32_t k, const float *logits, const uint8_t *seen, float *probs);

/* delta holds dL/dy on entry, dL/dz (z the pre-activation) on return: zero
 * where the clamp was active (y at act_min or act_max). When delta_in is not
 * NULL it receives dL/dx = W^T dL/dz, from W before any update. */
void tb_dense_backward_f32(int32_t n_in, int32_t n_out, const float *w, float act_min, float act_max,
                           const float *y, float *delta, float *delta_in);

/* SGD with momentum (torch.optim.SGD, dampening 0): v = mom * v + g, p -= lr * v,
 * g = dL/dz x^T for W and dL/dz for b. The gradient is applied row by row as
 * it is formed, never stored whole. vw/vb may be NULL when mom == 0. */
void tb_dense_sgd_f32(int32_t n_in, int32_t n_out, float *w, float *b, float *vw, float *vb,
                      const float *x, const float *delta, float lr, float mom);

/* ---- the sample buffer ----------------------------------------------------- */
enum {
    TB_POLICY_FIFO = 0,           /* ring: overwrite the oldest (TyBox) */
    TB_POLICY_RESERVOIR = 1,      /* reservoir sampling: a uniform sample of the stream */
    TB_POLICY_CLASS_BALANCED = 2, /* when full, replace a sample of the most represented class */
    TB_POLICY_LATEST = 3,         /* one entry, the latest sample (TinyOL) */
    TB_POLICY_COUNT = 4
};

/* Buffer bookkeeping, all uint32_t so its size is the same everywhere. */
typedef struct {
    uint32_t capacity; /* entries the storage holds */
    uint32_t count;    /* valid entries: 0..count-1 */
    uint32_t next;     /* fifo: the slot written next */
    uint32_t seen;     /* samples offered since the last reset (reservoir) */
    uint32_t rng;      /* xorshift32 state, never 0 */
} tb_buffer_state;

void tb_buffer_reset(tb_buffer_state *s, uint32_t capacity, uint32_t seed);

/* Where a new sample of class `label` goes: a slot in [0, capacity), or -1
 * when the policy drops it (reservoir). labels[] holds the entries' labels,
 * class_count[] how many entries each class has (updated here, as is count).
 * The caller then writes the sample and labels[slot] = label. */
int32_t tb_buffer_slot(tb_buffer_state *s, int32_t policy, const uint8_t *labels,
                       int32_t *class_count, int32_t n_classes, int32_t label);

/* xorshift32 (Marsaglia 2003): the buffer's deterministic random numbers. */
uint32_t tb_xorshift32(uint32_t *state);

#endif
