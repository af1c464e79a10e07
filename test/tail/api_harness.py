#!/usr/bin/python3
"""The generated tail's API and the --learn/--eval harness, end to end.

usage: api_harness.py --tyboxc BIN --work DIR

test/tail/split.tir (relu, flatten, dense 32-16-8-3) is compiled twice with
--train-tail: 'model' (--max-classes 4, momentum) and 'other' (no momentum,
another layout). A C driver checks every return code of the API, that a
saved state restores the exact predictions, and that each damaged blob is
refused with its code without touching the tail. Then the harness:
`model_run IN OUT` must give numpy's softmax probabilities, and
`model_run --learn --eval` must print step 0 at numpy's accuracy of the
pretrained weights, a line every K records, and learn the stream.
"""
import argparse
import os
import re
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TIR = os.path.join(HERE, "split.tir")

DRIVER = r"""
#include <stdio.h>
#include <string.h>
#include "model.h"
#include "other.h"

static int pass, fail;
#define CHECK(c, what) do { if (c) pass++; else { fail++; printf("FAIL line %d: %s\n", __LINE__, what); } } while (0)

static float x[MODEL_INPUT_SIZE], probe[MODEL_INPUT_SIZE];
static unsigned char blob[1 << 16], saved[1 << 16], other_blob[1 << 16];

static void fill(float *v, int n, unsigned seed) {
    int i;
    for (i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        v[i] = (float)((seed >> 16) % 2001) / 1000.0f - 1.0f;
    }
}

int main(void) {
    float p0[MODEL_NUM_CLASSES], p1[MODEL_NUM_CLASSES], p2[MODEL_NUM_CLASSES];
    size_t n = model_tail_state_size();
    int i, c0;
    fill(probe, MODEL_INPUT_SIZE, 99);

    CHECK(MODEL_RAM_BYTES == MODEL_RAM_ARENA_BYTES + MODEL_RAM_FEATURE_BYTES + MODEL_RAM_TAIL_WEIGHT_BYTES +
          MODEL_RAM_MOMENTUM_BYTES + MODEL_RAM_SCRATCH_BYTES + MODEL_RAM_BUFFER_BYTES + MODEL_RAM_STATE_BYTES,
          "RAM parts add up");
    CHECK(MODEL_RAM_BYTES <= MODEL_MEMORY_BUDGET, "RAM within the budget");
    CHECK(MODEL_RAM_BUFFER_BYTES == MODEL_BUFFER_CAPACITY * MODEL_BUFFER_ENTRY_BYTES, "buffer bytes");
    CHECK(MODEL_NUM_CLASSES == 4 && MODEL_PRETRAINED_CLASSES == 3, "class counts");

    /* class 3 is not known yet: masked out */
    c0 = model_predict(probe, p0);
    CHECK(c0 >= 0 && c0 < 3 && p0[3] == 0.0f, "an unseen class has probability 0");
    CHECK(model_push_sample(x, -1) == MODEL_ERR_LABEL, "label -1");
    CHECK(model_push_sample(x, 4) == MODEL_ERR_LABEL, "label 4 >= max classes");
    CHECK(model_push_sample(NULL, 0) == MODEL_ERR_ARG, "NULL sample");
    CHECK(model_buffer_count() == 0, "refused samples are not stored");
    CHECK(model_set_lr(-1.0f) == MODEL_ERR_ARG && model_set_momentum(1.0f) == MODEL_ERR_ARG &&
          model_set_epochs(-1) == MODEL_ERR_ARG && model_set_policy(4) == MODEL_ERR_ARG, "bad settings refused");
    CHECK(model_set_lr(0.05f) == MODEL_OK && model_get_lr() == 0.05f, "set lr");
    CHECK(model_set_momentum(0.8f) == MODEL_OK && model_get_momentum() == 0.8f, "set momentum");
    CHECK(model_set_epochs(2) == MODEL_OK && model_get_epochs() == 2, "set epochs");
    CHECK(other_set_momentum(0.5f) == OTHER_ERR_ARG && other_set_momentum(0.0f) == OTHER_OK,
          "momentum needs its buffers from compile time");
    CHECK(model_train(-1) == MODEL_ERR_ARG, "negative epochs");

    for (i = 0; i < 12; i++) {
        fill(x, MODEL_INPUT_SIZE, (unsigned)i + 1);
        CHECK(model_learn(x, i % 4) == MODEL_OK, "learn");
    }
    CHECK(model_buffer_count() == (MODEL_BUFFER_CAPACITY < 12 ? MODEL_BUFFER_CAPACITY : 12), "buffer count");
    model_predict(probe, p1);
    CHECK(p1[3] > 0.0f, "class 3 joined the softmax");
    CHECK(memcmp(p0, p1, sizeof p0) != 0, "learning changed the prediction");

    CHECK(model_save_tail(blob, n - 1) == MODEL_ERR_SIZE, "save into a short buffer");
    CHECK(model_save_tail(NULL, n) == MODEL_ERR_ARG, "save into NULL");
    CHECK(model_save_tail(blob, n) == MODEL_OK, "save");
    memcpy(saved, blob, n);
    model_reset_tail();
    model_predict(probe, p2);
    CHECK(memcmp(p0, p2, sizeof p0) == 0, "reset restores the pretrained tail");
    CHECK(model_load_tail(blob, n) == MODEL_OK, "load");
    model_predict(probe, p2);
    CHECK(memcmp(p1, p2, sizeof p1) == 0, "load restores the learned predictions exactly");

    /* damaged blobs: refused, and the tail stays as it is */
    CHECK(model_load_tail(blob, n - 1) == MODEL_ERR_SIZE, "short blob");
    CHECK(model_load_tail(blob, 10) == MODEL_ERR_SIZE, "shorter than the header");
    CHECK(model_load_tail(NULL, n) == MODEL_ERR_ARG, "NULL blob");
    blob[0] = 'X';
    CHECK(model_load_tail(blob, n) == MODEL_ERR_FORMAT, "bad magic");
    memcpy(blob, saved, n);
    blob[5] ^= 1;
    CHECK(model_load_tail(blob, n) == MODEL_ERR_MODEL, "layout of another model");
    memcpy(blob, saved, n);
    blob[n - 7] ^= 0x10;
    CHECK(model_load_tail(blob, n) == MODEL_ERR_CORRUPT, "flipped payload bit");
    CHECK(other_save_tail(other_blob, other_tail_state_size()) == OTHER_OK, "save the other model");
    CHECK(model_load_tail(other_blob, other_tail_state_size()) == MODEL_ERR_MODEL, "state of another model");
    CHECK(other_load_tail(saved, n) == OTHER_ERR_MODEL, "and the other way round");
    model_predict(probe, p2);
    CHECK(memcmp(p1, p2, sizeof p1) == 0, "failed loads changed nothing");

    /* policies at run time */
    CHECK(model_set_policy(MODEL_POLICY_LATEST) == MODEL_OK && model_buffer_count() == 0, "a new policy empties the buffer");
    for (i = 0; i < 3; i++) model_push_sample(x, i);
    CHECK(model_buffer_count() == 1, "latest keeps one sample");
    CHECK(model_set_policy(MODEL_POLICY_RESERVOIR) == MODEL_OK, "reservoir");
    {
        int dropped = 0;
        for (i = 0; i < 200; i++) dropped += model_push_sample(x, i % 4) == MODEL_DROPPED;
        CHECK(dropped > 0 && model_buffer_count() == MODEL_BUFFER_CAPACITY, "reservoir drops once full");
    }
    printf("%d passed, %d failed\n", pass, fail);
    return fail != 0;
}
"""


def run(argv, ok=True, **kw):
    proc = subprocess.run(argv, capture_output=True, text=True, **kw)
    if ok and proc.returncode:
        sys.exit("FAIL: %s exited %d: %s" % (" ".join(argv[:2]), proc.returncode, (proc.stderr + proc.stdout).strip()[-800:]))
    return proc


def tir_weights():
    """The constants of split.tir, by name."""
    consts = {}
    for m in re.finditer(r"%(\w+) = const f32\[([\d,]+)\] \[([^\]]*)\]", open(TIR).read()):
        shape = [int(d) for d in m.group(2).split(",")]
        consts[m.group(1)] = np.array([float(v) for v in m.group(3).split(",")], np.float32).reshape(shape)
    return consts


def reference_logits(c, xs):
    h = np.maximum(xs.reshape(len(xs), -1), 0)
    h = np.maximum(h @ c["w1"].T + c["b1"], 0)
    h = np.maximum(h @ c["w2"].T + c["b2"], 0)
    return h @ c["w3"].T + c["b3"]


def write_records(path, labels, xs):
    with open(path, "wb") as f:
        for y, x in zip(labels, xs):
            f.write(bytes([int(y)]))
            f.write(x.astype("<f4").tobytes())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tyboxc", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    failed = []

    # ---- the API (save/load round trip, error codes, settings) ----
    api = os.path.join(args.work, "api")
    run([args.tyboxc, TIR, "-o", api, "--train-tail", "--max-classes", "4", "--momentum", "0.5",
         "--memory-budget", "4000", "--split", "h1", "--lr", "0.1"])
    run([args.tyboxc, TIR, "-o", api, "--name", "other", "--train-tail", "--buffer", "4"])
    with open(os.path.join(api, "driver.c"), "w") as f:
        f.write(DRIVER)
    srcs = sorted(s for s in os.listdir(api) if s.endswith(".c"))
    run(["cc", "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-o", "driver"] + srcs + ["-lm"], cwd=api)
    proc = run([os.path.join(api, "driver")], ok=False)
    print(proc.stdout.strip())
    if proc.returncode:
        failed.append("api")

    # ---- the harness ----
    c = tir_weights()
    rng = np.random.default_rng(7)
    xs = rng.standard_normal((700, 1, 2, 4, 4)).astype(np.float32)
    # a teacher the pretrained tail does not match: labels from a random linear map
    teacher = rng.standard_normal((32, 3)).astype(np.float32)
    labels = (np.maximum(xs.reshape(700, -1), 0) @ teacher).argmax(1)
    stream, test = os.path.join(args.work, "stream.bin"), os.path.join(args.work, "test.bin")
    write_records(stream, labels[:500], xs[:500])
    write_records(test, labels[500:], xs[500:])
    out = os.path.join(args.work, "harness")
    run([args.tyboxc, TIR, "-o", out, "--train-tail", "--harness", "--buffer", "32", "--lr", "0.05", "--epochs", "1"])
    run(["make", "-s", "-C", out, "CFLAGS=-O2 -Wall -Wextra -Werror"])  # gnu mode: math.h declares y0, j0, ...
    run(["cc", "-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "model_tail.c", "main.c"], cwd=out)
    model_run = os.path.join(out, "model_run")

    # inference mode: probabilities of the pretrained model
    inp, outp = os.path.join(args.work, "in.f32"), os.path.join(args.work, "out.f32")
    xs[:20].tofile(inp)
    run([model_run, inp, outp])
    got = np.fromfile(outp, np.float32).reshape(20, 3)
    logits = reference_logits(c, xs[:20])
    want = np.exp(logits - logits.max(1, keepdims=True))
    want /= want.sum(1, keepdims=True)
    err = float(np.abs(got - want).max())
    print("%s predict: max |probs - numpy| = %.3g" % ("PASS" if err < 1e-5 else "FAIL", err))
    if err >= 1e-5:
        failed.append("predict")

    proc = run([model_run, "--learn", stream, "--eval", test, "--every", "100"])
    lines = proc.stdout.strip().splitlines()
    steps = [int(l.split()[1]) for l in lines]
    accs = [float(l.split()[3]) for l in lines]
    acc0 = float((reference_logits(c, xs[500:]).argmax(1) == labels[500:]).mean())
    ok = (all(re.fullmatch(r"step \d+ accuracy \d\.\d{4}", l) for l in lines) and steps == [0, 100, 200, 300, 400, 500]
          and abs(accs[0] - acc0) < 1e-4 and accs[-1] > accs[0] + 0.2)
    print("%s learn/eval: steps %s, accuracy %s (numpy at step 0: %.4f)" % ("PASS" if ok else "FAIL", steps, accs, acc0))
    if not ok:
        failed.append("learn")
    # the end of the stream is printed once even off the K grid
    proc = run([model_run, "--learn", stream, "--eval", test, "--every", "150", "--policy", "reservoir", "--lr", "0.02"])
    steps = [int(l.split()[1]) for l in proc.stdout.split("\n") if l]
    ok = steps == [0, 150, 300, 450, 500]
    print("%s every 150: steps %s" % ("PASS" if ok else "FAIL", steps))
    if not ok:
        failed.append("every")
    # a label the tail cannot hold: a clear error, exit 1
    bad = os.path.join(args.work, "bad.bin")
    write_records(bad, [1, 7], xs[:2])
    proc = run([model_run, "--learn", bad, "--eval", test], ok=False)
    ok = proc.returncode == 1 and "error: record 2: label 7" in proc.stderr
    print("%s bad label: exit %d, %s" % ("PASS" if ok else "FAIL", proc.returncode, proc.stderr.strip()))
    if not ok:
        failed.append("bad-label")
    proc = run([model_run, "--learn", stream, "--eval", test, "--policy", "bogus"], ok=False)
    ok = proc.returncode == 2 and "bad value 'bogus' for --policy" in proc.stderr
    print("%s bad policy: exit %d" % ("PASS" if ok else "FAIL", proc.returncode))
    if not ok:
        failed.append("bad-policy")
    print("%d failed%s" % (len(failed), ": " + ", ".join(failed) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
