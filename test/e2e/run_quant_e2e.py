#!/usr/bin/python3
"""Quantize whole models with tyboxc --quantize int8 and compare with float.

usage: /usr/bin/python3 run_quant_e2e.py --tyboxc BUILD/bin/tyboxc \\
           --models DIR --work DIR [--only NAME]

DIR holds NAME.onnx from test/models/make_models.py. For each model in
BOUNDS this writes CALIB calibration samples and TEST other samples, N(0,1)
from fixed seeds, compiles the model twice (float, and --quantize int8
--calib), builds both with `make CFLAGS=-O2`, runs both on the test samples
and compares the int8 model's (dequantized) output with the float model's
(the float build matches torch to 1e-4, test e2e-models):
    top1     the fraction of samples whose argmax agrees;
    max_err  max |int8 - float| / max |float| over all outputs.
A model passes when top1 >= its bound and max_err <= its bound. The bounds are
the figures measured when the test was written (docs/quantization.md) with a
margin, tight enough that a wrong scale, zero point or rounding fails them.

The last line is `N passed, N failed`; exit status 1 if any model failed.
"""
import argparse
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from harness import StepFailure, die, run_step  # noqa: E402

# name -> (input shape, calibration samples, test samples, min top1, max max_err)
# Measured with the default calibration method (minmax) when written:
# fashion_cnn top1 0.975, max_err 0.0146; mobilenet_v2 top1 1.000, max_err 0.0198
# (percentile: 0.970 / 0.0149 and 1.000 / 0.0186).
BOUNDS = {
    "fashion_cnn": ((1, 1, 28, 28), 64, 200, 0.95, 0.04),
    "mobilenet_v2": ((1, 3, 224, 224), 8, 8, 0.75, 0.05),
}
CFLAGS = "-O2"
TIMEOUT = 1800


def write_samples(path, shape, n, seed):
    rng = np.random.default_rng(seed)
    rng.standard_normal((n,) + shape[1:]).astype("<f4").tofile(path)


def build(tyboxc, onnx_path, out_dir, flags):
    shutil.rmtree(out_dir, ignore_errors=True)
    run_step("tyboxc", [tyboxc, onnx_path, "-o", out_dir, "--harness"] + flags, TIMEOUT)
    run_step("make", ["make", "-C", out_dir, "CFLAGS=" + CFLAGS], TIMEOUT)
    return os.path.join(out_dir, "model_run")


def check_model(tyboxc, models, work, name):
    shape, n_calib, n_test, min_top1, max_err_bound = BOUNDS[name]
    onnx_path = os.path.abspath(os.path.join(models, name + ".onnx"))
    if not os.path.isfile(onnx_path):
        die("no %s (run test/models/make_models.py)" % onnx_path)
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    calib, test = os.path.join(d, "calib.f32"), os.path.join(d, "test.f32")
    write_samples(calib, shape, n_calib, 11)
    write_samples(test, shape, n_test, 12)
    print("%s: compiling and building ..." % name, file=sys.stderr, flush=True)
    try:
        outs = {}
        for kind, flags in (("float", []), ("int8", ["--quantize", "int8", "--calib", calib])):
            model_run = build(tyboxc, onnx_path, os.path.join(d, kind), flags)
            out = os.path.join(d, kind + ".out.f32")
            run_step("model_run", [model_run, test, out], TIMEOUT)
            outs[kind] = np.fromfile(out, "<f4").reshape(n_test, -1)
    except StepFailure as e:
        print("%s: FAIL %s" % (name, e), flush=True)
        return False
    f, q = outs["float"].astype(np.float64), outs["int8"].astype(np.float64)
    if not np.isfinite(q).all():
        print("%s: FAIL int8 output has NaN or Inf" % name, flush=True)
        return False
    top1 = float((f.argmax(1) == q.argmax(1)).mean())
    max_err = float(np.abs(q - f).max() / np.abs(f).max())
    ok = top1 >= min_top1 and max_err <= max_err_bound
    print("%s: top1_agreement %.4f (>= %.2f) max_err %.4f (<= %.2f) over %d samples %s"
          % (name, top1, min_top1, max_err, max_err_bound, n_test, "PASS" if ok else "FAIL"), flush=True)
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tyboxc", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--only", choices=sorted(BOUNDS))
    args = ap.parse_args()
    tyboxc = os.path.abspath(args.tyboxc)
    if not os.access(tyboxc, os.X_OK):
        die("%s is not an executable" % tyboxc)
    work = os.path.abspath(args.work)
    passed = failed = 0
    for name in [args.only] if args.only else sorted(BOUNDS):
        if check_model(tyboxc, args.models, work, name):
            passed += 1
        else:
            failed += 1
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
