#!/usr/bin/python3
"""The int8 buffer of the trainable tail: psi = DequantizeLinear(q int8).

usage: int8_buffer.py --tyboxc BIN --work DIR

A hand-made ONNX graph relu -> flatten -> QuantizeLinear -> DequantizeLinear
-> Gemm 32 -> 3 stands for an int8 feature extractor (issue 5's quantize
pass ends phi_f with a DequantizeLinear at psi). The extractor must output
the int8 q, the buffer store it as int8, and every read dequantize it as
x = (q - zero_point) * scale: the weights after training must equal numpy's
SGD on the dequantized features to 1e-5.

Exits 77 (ctest: skipped) when this tyboxc has no QuantizeLinear /
DequantizeLinear (the int8 issue is not merged yet).
"""
import argparse
import os
import re
import struct
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SCALE, ZP = 0.05, 3

DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include "model.h"

/* driver SAMPLES.f32 EPOCHS STATE.bin FEATURES.i8 LABEL... */
int main(int argc, char **argv) {
    static float x[MODEL_INPUT_SIZE];
    static model_feature_t q[MODEL_FEATURE_SIZE];
    static unsigned char blob[1 << 16];
    FILE *f = fopen(argv[1], "rb"), *fq = fopen(argv[4], "wb");
    int i;
    if (!MODEL_FEATURE_INT8) return 7;
    for (i = 5; i < argc; i++) {
        if (fread(x, sizeof x[0], MODEL_INPUT_SIZE, f) != MODEL_INPUT_SIZE) return 3;
        model_run(x, q);
        fwrite(q, 1, sizeof q, fq);
        if (model_push_sample(x, atoi(argv[i])) != MODEL_OK) return 4;
    }
    fclose(f);
    fclose(fq);
    if (model_train(atoi(argv[2])) != MODEL_OK) return 5;
    if (model_save_tail(blob, model_tail_state_size()) != MODEL_OK) return 6;
    f = fopen(argv[3], "wb");
    fwrite(blob, 1, model_tail_state_size(), f);
    fclose(f);
    return 0;
}
"""


def run(argv, **kw):
    proc = subprocess.run(argv, capture_output=True, text=True, **kw)
    if proc.returncode:
        sys.exit("FAIL: %s exited %d: %s" % (argv[0], proc.returncode, (proc.stderr + proc.stdout).strip()[-600:]))
    return proc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tyboxc", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    ops = run([args.tyboxc, "--list-ops"]).stdout.split()
    if "DequantizeLinear" not in ops or "QuantizeLinear" not in ops:
        print("SKIP: this tyboxc has no QuantizeLinear/DequantizeLinear yet (issue 5, int8); "
              "the int8 buffer path cannot be reached")
        return 77
    os.makedirs(args.work, exist_ok=True)
    rng = np.random.default_rng(5)
    w = rng.uniform(-0.5, 0.5, (3, 32)).astype(np.float32)
    b = rng.uniform(-0.1, 0.1, 3).astype(np.float32)
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="relu"),
        helper.make_node("Flatten", ["r"], ["f"], name="flatten", axis=1),
        helper.make_node("QuantizeLinear", ["f", "s", "zp"], ["q"], name="quant"),
        helper.make_node("DequantizeLinear", ["q", "s", "zp"], ["psi"], name="dequant"),
        helper.make_node("Gemm", ["psi", "w", "b"], ["y"], name="fc", transB=1),
    ]
    inits = [numpy_helper.from_array(np.array(SCALE, np.float32), "s"),
             numpy_helper.from_array(np.array(ZP, np.int8), "zp"),
             numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")]
    graph = helper.make_graph(nodes, "int8_tail", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], inits)
    model = os.path.join(args.work, "int8_tail.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), model)

    out = os.path.join(args.work, "out")
    rep = run([args.tyboxc, model, "-o", out, "--train-tail", "--buffer", "4", "--lr", "0.1", "--report"]).stdout
    ok_report = "(i8[1,32], dequantized on every read)" in rep and re.search(r"memory: buffer +132 bytes \(4 x 33\)", rep) is not None
    with open(os.path.join(out, "driver.c"), "w") as f:
        f.write(DRIVER)
    srcs = sorted(s for s in os.listdir(out) if s.endswith(".c"))
    run(["cc", "-std=c99", "-O1", "-ffp-contract=off", "-Wall", "-Wextra", "-Werror", "-o", "driver"] + srcs + ["-lm"],
        cwd=out)
    xs = rng.standard_normal((3, 1, 2, 4, 4)).astype(np.float32)
    labels = [2, 0, 1]
    samples = os.path.join(args.work, "samples.f32")
    xs.tofile(samples)
    state, feats = os.path.join(out, "state.bin"), os.path.join(out, "q.i8")
    run([os.path.join(out, "driver"), samples, "2", state, feats] + [str(y) for y in labels])

    q_want = np.clip(np.rint(np.maximum(xs.reshape(3, -1), 0) / np.float32(SCALE)) + ZP, -128, 127).astype(np.int8)
    q_got = np.fromfile(feats, np.int8).reshape(3, 32)
    psi = (q_want.astype(np.float32) - ZP) * np.float32(SCALE)
    W, B = w.astype(np.float64), b.astype(np.float64)
    for _ in range(2):
        for x, y in zip(psi.astype(np.float64), labels):
            z = W @ x + B
            p = np.exp(z - z.max())
            p /= p.sum()
            d = p - np.eye(3)[y]
            W -= 0.1 * np.outer(d, x)
            B -= 0.1 * d
    blob = open(state, "rb").read()
    assert blob[:4] == b"TBT1" and struct.unpack("<I", blob[8:12])[0] == 4 * (96 + 3) + 3
    got_w = np.frombuffer(blob, np.float32, 96, 16).reshape(3, 32)
    got_b = np.frombuffer(blob, np.float32, 3, 16 + 4 * 96)
    err = max(float(np.abs(got_w - W).max()), float(np.abs(got_b - B).max()))
    ok = ok_report and (q_got == q_want).all() and err <= 1e-5
    print("%s int8 buffer: report %s, q %s, max |C - numpy| = %.3g" %
          ("PASS" if ok else "FAIL", "ok" if ok_report else "wrong:\n" + rep,
           "equal" if (q_got == q_want).all() else "differs", err))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
