#!/usr/bin/python3
"""One training step of a generated trainable tail against torch.

usage: train_step.py --tyboxc BIN --work DIR

A small CNN (conv, relu, pool, flatten, dense 32 -> 12 + relu, dense 12 -> 4)
is exported to ONNX and compiled with --train-tail (both dense layers
trainable). A C driver pushes samples, trains, and saves the tail state; the
weights in the blob must agree with torch.optim.SGD run from the same
weights on the same samples, in the same order, to 1e-5. Cases: plain SGD,
momentum 0.9 (several steps, so the velocity matters), --max-classes with a
new class learned and an unseen one masked out of the softmax, and
--train-last-only.
"""
import argparse
import os
import struct
import subprocess
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn

DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include "model.h"

/* usage: driver SAMPLES.f32 EPOCHS STATE.bin LABEL... : pushes sample i with
 * LABEL i, trains EPOCHS passes, writes the state blob. */
int main(int argc, char **argv) {
    static float x[MODEL_INPUT_SIZE];
    static unsigned char blob[1 << 20];
    FILE *f = fopen(argv[1], "rb");
    int i, rc;
    for (i = 4; i < argc; i++) {
        if (fread(x, sizeof x[0], MODEL_INPUT_SIZE, f) != MODEL_INPUT_SIZE) return 3;
        if ((rc = model_push_sample(x, atoi(argv[i]))) != MODEL_OK) { fprintf(stderr, "push %d\n", rc); return 4; }
    }
    fclose(f);
    if (model_train(atoi(argv[2])) != MODEL_OK) return 5;
    size_t n = model_tail_state_size();
    if (model_save_tail(blob, n) != MODEL_OK) return 6;
    f = fopen(argv[3], "wb");
    fwrite(blob, 1, n, f);
    fclose(f);
    return 0;
}
"""


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
        self.fc1 = nn.Linear(32, 12)
        self.fc2 = nn.Linear(12, 4)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(self.features(x))))


def run(argv, **kw):
    proc = subprocess.run(argv, capture_output=True, text=True, **kw)
    if proc.returncode:
        sys.exit("FAIL: %s exited %d: %s" % (argv[0], proc.returncode, (proc.stderr + proc.stdout).strip()[-600:]))
    return proc


def reference(net, xs, labels, epochs, lr, momentum, max_classes, last_only):
    """torch: the tail's layers widened to max_classes (zero rows), classes
    neither pretrained nor pushed masked out with -inf logits."""
    fc1 = nn.Linear(32, 12)
    fc2 = nn.Linear(12, max_classes)
    with torch.no_grad():
        fc1.weight.copy_(net.fc1.weight)
        fc1.bias.copy_(net.fc1.bias)
        fc2.weight.zero_()
        fc2.bias.zero_()
        fc2.weight[:4] = net.fc2.weight
        fc2.bias[:4] = net.fc2.bias
    params = list(fc2.parameters()) if last_only else list(fc1.parameters()) + list(fc2.parameters())
    opt = torch.optim.SGD(params, lr=lr, momentum=momentum)
    seen = torch.zeros(max_classes, dtype=torch.bool)
    seen[:4] = True
    for y in labels:
        seen[y] = True
    mask = torch.where(seen, 0.0, float("-inf"))
    with torch.no_grad():
        feats = [net.features(torch.from_numpy(x[None])) for x in xs]
    for _ in range(epochs):
        for f, y in zip(feats, labels):
            opt.zero_grad()
            logits = fc2(torch.relu(fc1(f))) + mask
            loss = nn.functional.cross_entropy(logits, torch.tensor([y]))
            loss.backward()
            opt.step()
    return fc1, fc2


def parse_blob(blob, max_classes, last_only):
    assert blob[:4] == b"TBT1", blob[:4]
    payload = struct.unpack("<I", blob[8:12])[0]
    assert len(blob) == 16 + payload, (len(blob), payload)
    at = 16
    out = []
    shapes = ([] if last_only else [(12, 32)]) + [(max_classes, 12)]
    for rows, cols in shapes:
        w = np.frombuffer(blob, np.float32, rows * cols, at).reshape(rows, cols)
        at += 4 * rows * cols
        b = np.frombuffer(blob, np.float32, rows, at)
        at += 4 * rows
        out += [w, b]
    seen = np.frombuffer(blob, np.uint8, max_classes, at)
    return out, seen


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tyboxc", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    torch.manual_seed(0)
    net = Net().eval()
    model = os.path.join(args.work, "net.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, torch.zeros(1, 1, 8, 8), model, opset_version=13)
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((3, 1, 8, 8)).astype(np.float32)
    samples = os.path.join(args.work, "samples.f32")
    xs.tofile(samples)

    cases = [  # name, flags, labels, epochs, lr, momentum, max_classes, last_only
        ("sgd", [], [2, 0, 3], 1, 0.1, 0.0, 4, False),
        ("momentum", ["--momentum", "0.9"], [1, 3, 1], 3, 0.05, 0.9, 4, False),
        ("new-class", ["--max-classes", "6"], [4, 1, 4], 2, 0.1, 0.0, 6, False),
        ("last-only", ["--train-last-only", "--momentum", "0.5"], [0, 2, 1], 2, 0.1, 0.5, 4, True),
    ]
    failed = 0
    for name, flags, labels, epochs, lr, mom, K, last_only in cases:
        out = os.path.join(args.work, name)
        run([args.tyboxc, model, "-o", out, "--train-tail", "--buffer", "8", "--lr", str(lr)] + flags)
        with open(os.path.join(out, "driver.c"), "w") as f:
            f.write(DRIVER)
        srcs = sorted(s for s in os.listdir(out) if s.endswith(".c"))
        run(["cc", "-std=c99", "-O1", "-ffp-contract=off", "-Wall", "-Wextra", "-Werror", "-o", "driver"] + srcs + ["-lm"],
            cwd=out)
        state = os.path.join(out, "state.bin")
        run([os.path.join(out, "driver"), samples, str(epochs), state] + [str(y) for y in labels])
        with open(state, "rb") as f:
            got, seen = parse_blob(f.read(), K, last_only)
        fc1, fc2 = reference(net, xs, labels, epochs, lr, mom, K, last_only)
        want = ([] if last_only else [fc1.weight, fc1.bias]) + [fc2.weight, fc2.bias]
        err = max(float(np.abs(g - w.detach().numpy()).max()) for g, w in zip(got, want))
        moved = max(float(np.abs(w.detach().numpy() - w0).max()) for w, w0 in
                    zip([fc2.weight], [np.pad(net.fc2.weight.detach().numpy(), ((0, K - 4), (0, 0)))]))
        want_seen = [1 if j < 4 or j in labels else 0 for j in range(K)]
        ok = err <= 1e-5 and moved > 1e-3 and list(seen) == want_seen
        failed += not ok
        print("%s %s: max |C - torch| = %.3g over %d tensors (weights moved by up to %.3g), seen %s" %
              ("PASS" if ok else "FAIL", name, err, len(want), moved, list(seen)))
    print("%d passed, %d failed" % (len(cases) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
