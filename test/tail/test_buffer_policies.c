/* test_buffer_policies.c - the index logic of the tail's sample buffer
 * (runtime/train.c): which slot each policy gives a new sample, and the
 * bookkeeping (count, per-class counts) it keeps. Prints one line per failed
 * check, then "N passed, N failed".
 */
#include <stdio.h>
#include <string.h>
#include "tb_train.h"

static int g_pass, g_fail;

#define CHECK(cond, ...) \
    do { \
        if (cond) g_pass++; \
        else { g_fail++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } \
    } while (0)

#define NC 8

typedef struct {
    tb_buffer_state s;
    uint8_t labels[256];
    int32_t class_count[NC];
} buffer;

static int32_t push(buffer *b, int policy, int label) {
    int32_t slot = tb_buffer_slot(&b->s, policy, b->labels, b->class_count, NC, label);
    if (slot >= 0) b->labels[slot] = (uint8_t)label;
    return slot;
}

static void init(buffer *b, uint32_t cap) {
    memset(b, 0, sizeof *b);
    tb_buffer_reset(&b->s, cap, 1);
}

/* class_count[] must be the histogram of labels[0..count-1]. */
static int counts_consistent(const buffer *b) {
    int32_t h[NC] = {0};
    for (uint32_t i = 0; i < b->s.count; i++) h[b->labels[i]]++;
    return !memcmp(h, b->class_count, sizeof h);
}

static void test_xorshift(void) {
    uint32_t st = 1;
    /* 1 ^ 1<<13 = 8193; >>17 leaves it; 8193 ^ 8193<<5 = 270369 */
    CHECK(tb_xorshift32(&st) == 270369u && st == 270369u, "xorshift32(1) = %u", st);
    buffer b;
    init(&b, 4);
    CHECK(b.s.rng != 0 && b.s.count == 0 && b.s.capacity == 4, "reset");
    tb_buffer_reset(&b.s, 4, 0);
    CHECK(b.s.rng != 0, "a zero seed would stick xorshift at 0");
}

static void test_fifo(void) {
    buffer b;
    init(&b, 3);
    int32_t want[] = {0, 1, 2, 0, 1, 2, 0};
    for (int i = 0; i < 7; i++) {
        int32_t slot = push(&b, TB_POLICY_FIFO, i % NC);
        CHECK(slot == want[i], "fifo push %d: slot %d, want %d", i, slot, want[i]);
    }
    CHECK(b.s.count == 3, "fifo count %u", b.s.count);
    /* the three newest (4, 5, 6) are in the buffer */
    CHECK(b.labels[0] == 6 && b.labels[1] == 4 && b.labels[2] == 5, "fifo keeps the newest");
    CHECK(counts_consistent(&b), "fifo class counts");
}

static void test_latest(void) {
    buffer b;
    init(&b, 5);
    for (int i = 0; i < 4; i++) {
        int32_t slot = push(&b, TB_POLICY_LATEST, i);
        CHECK(slot == 0, "latest push %d: slot %d", i, slot);
    }
    CHECK(b.s.count == 1 && b.labels[0] == 3, "latest keeps one entry, the last");
    CHECK(counts_consistent(&b), "latest class counts");
}

static void test_reservoir(void) {
    buffer b;
    enum { CAP = 100, N = 20000 };
    init(&b, CAP);
    int dropped = 0, bad_slot = 0;
    for (int i = 0; i < N; i++) {
        /* label: which quarter of the stream the sample came from */
        int32_t slot = push(&b, TB_POLICY_RESERVOIR, i * 4 / N);
        if (i < CAP && slot != i) bad_slot = 1;
        if (slot < -1 || slot >= CAP) bad_slot = 1;
        dropped += slot < 0;
    }
    CHECK(!bad_slot, "reservoir fills slots in order, then stays in range");
    CHECK(b.s.count == CAP && b.s.seen == N, "reservoir count %u seen %u", b.s.count, b.s.seen);
    /* kept with probability CAP / seen: about CAP * ln(N / CAP) = 530 replacements */
    int kept = N - CAP - dropped;
    CHECK(kept > 430 && kept < 630, "reservoir kept %d of the later samples, expected about 530", kept);
    /* a uniform sample of the stream: each quarter holds about a quarter */
    for (int q = 0; q < 4; q++)
        CHECK(b.class_count[q] >= 12 && b.class_count[q] <= 40, "reservoir quarter %d holds %d of 100", q,
              b.class_count[q]);
    CHECK(counts_consistent(&b), "reservoir class counts");
    /* deterministic: the same seed, the same buffer */
    buffer c;
    init(&c, CAP);
    for (int i = 0; i < N; i++) push(&c, TB_POLICY_RESERVOIR, i * 4 / N);
    CHECK(!memcmp(b.labels, c.labels, CAP), "reservoir is deterministic for a seed");
}

static void test_class_balanced(void) {
    buffer b;
    init(&b, 6);
    int fill[] = {0, 0, 0, 0, 1, 2};
    for (int i = 0; i < 6; i++) CHECK(push(&b, TB_POLICY_CLASS_BALANCED, fill[i]) == i, "balanced fill %d", i);
    /* full, counts 4,1,1: each new sample evicts one of the most represented
     * class, the lowest class number on a tie */
    struct { int label, evicted; int32_t counts[4]; } steps[] = {
        {3, 0, {3, 1, 1, 1}},
        {1, 0, {2, 2, 1, 1}},
        {1, 0, {1, 3, 1, 1}},
        {2, 1, {1, 2, 2, 1}},
        {2, 1, {1, 1, 3, 1}},
    };
    for (int k = 0; k < 5; k++) {
        uint8_t before[6];
        memcpy(before, b.labels, 6);
        int32_t slot = push(&b, TB_POLICY_CLASS_BALANCED, steps[k].label);
        CHECK(slot >= 0 && slot < 6 && before[slot] == steps[k].evicted, "balanced step %d: evicted class %d, want %d",
              k, slot >= 0 && slot < 6 ? before[slot] : -1, steps[k].evicted);
        CHECK(!memcmp(b.class_count, steps[k].counts, sizeof steps[k].counts), "balanced step %d: counts %d %d %d %d",
              k, b.class_count[0], b.class_count[1], b.class_count[2], b.class_count[3]);
        CHECK(counts_consistent(&b), "balanced step %d class counts", k);
    }
    CHECK(b.s.count == 6, "balanced count %u", b.s.count);
}

static void test_empty(void) {
    buffer b;
    init(&b, 0);
    CHECK(push(&b, TB_POLICY_FIFO, 1) == -1 && b.s.count == 0, "a buffer of capacity 0 takes nothing");
}

int main(void) {
    test_xorshift();
    test_fifo();
    test_latest();
    test_reservoir();
    test_class_balanced();
    test_empty();
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail != 0;
}
