#!/usr/bin/python3
"""Compile whole models with tyboxc and compare their outputs with torch's.

usage: /usr/bin/python3 run_e2e.py --tyboxc BUILD/tools/tyboxc \\
           --models DIR --work DIR [--only NAME] [--runs N]

DIR holds what test/models/make_models.py wrote: NAME.onnx, NAME.in.f32
(samples back to back) and NAME.ref.f32 (torch's outputs). For each model
this runs `tyboxc NAME.onnx -o WORK/NAME --harness`, `make CFLAGS=-O2` (plus
$TYBOXC_TEST_CFLAGS, e.g. sanitizer flags, when set), then
`model_run NAME.in.f32 WORK/NAME/out.f32`, and compares with NAME.ref.f32.

A model passes when max|out - ref| <= 1e-4 * max(1, max|ref|) and the output
has no NaN. max_rel_err is max|out - ref| / max|ref| (normwise, so that
near-zero reference values do not blow it up). With --runs N, model_run is
also timed over N runs and its median latency is printed.

The last line is `N passed, N failed`; exit status 1 if any model failed,
2 on a usage error.
"""
import argparse
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from harness import StepFailure, compile_and_build, die, run_step  # noqa: E402

REL_TOL = 1e-4
CFLAGS = "-O2"
TIMEOUT_COMPILE = 600
TIMEOUT_BUILD = 1800
TIMEOUT_RUN = 600


def find_models(models_dir, only):
    """Sorted names that have NAME.onnx, NAME.in.f32 and NAME.ref.f32."""
    if not os.path.isdir(models_dir):
        die("model folder %s does not exist (run test/models/make_models.py)"
            % models_dir)
    names = sorted(f[:-len(".onnx")] for f in os.listdir(models_dir)
                   if f.endswith(".onnx"))
    names = [n for n in names
             if all(os.path.isfile(os.path.join(models_dir, n + ext))
                    for ext in (".in.f32", ".ref.f32"))]
    if only:
        if only not in names:
            die("no model %s (with .onnx, .in.f32, .ref.f32) in %s"
                % (only, models_dir))
        return [only]
    if not names:
        die("no models in %s" % models_dir)
    return names


def errors(out, ref):
    """(max abs error, max rel error, tolerance) of out against ref."""
    scale = float(np.abs(ref).max()) if ref.size else 0.0
    diff = np.abs(out.astype(np.float64) - ref.astype(np.float64))
    max_abs = float(diff.max()) if diff.size else 0.0
    max_rel = max_abs / scale if scale > 0 else max_abs
    return max_abs, max_rel, REL_TOL * max(1.0, scale)


def check_model(tyboxc, models_dir, work_root, name, runs):
    """Build and run one model; print its line; return True if it passed."""
    base = os.path.join(models_dir, name)
    out_dir = os.path.join(work_root, name)
    print("%s: compiling and building ..." % name, file=sys.stderr, flush=True)
    try:
        shutil.rmtree(out_dir, ignore_errors=True)
        model_run = compile_and_build(tyboxc, os.path.abspath(base + ".onnx"), out_dir,
                                      ["CFLAGS=" + CFLAGS], (TIMEOUT_COMPILE, TIMEOUT_BUILD))
        out_path = os.path.join(out_dir, "out.f32")
        run_step("model_run", [model_run, os.path.abspath(base + ".in.f32"), out_path], TIMEOUT_RUN)
        ref = np.fromfile(base + ".ref.f32", dtype="<f4")
        out = np.fromfile(out_path, dtype="<f4")
        if out.size != ref.size:
            raise StepFailure("model_run wrote %d floats, expected %d"
                               % (out.size, ref.size))
        if np.isnan(out).any():
            raise StepFailure("output has NaN")
        latency = measure_latency(model_run, base, out_dir, runs)
    except StepFailure as e:
        print("%s: FAIL %s" % (name, e), flush=True)
        return False
    max_abs, max_rel, tol = errors(out, ref)
    verdict = "PASS" if max_abs <= tol else "FAIL"
    print("%s: max_abs_err %.3g max_rel_err %.3g (tol %.3g)%s %s"
          % (name, max_abs, max_rel, tol, latency, verdict), flush=True)
    return verdict == "PASS"


def measure_latency(model_run, base, out_dir, runs):
    """' latency_ms_median X' from `model_run IN OUT RUNS`, or ''."""
    if not runs:
        return ""
    proc = run_step("model_run (timed)",
                    [model_run, base + ".in.f32",
                     os.path.join(out_dir, "timed.f32"), str(runs)], TIMEOUT_RUN)
    for line in proc.stdout.splitlines():
        if line.startswith("latency_ms_median"):
            return " " + line.strip()
    raise StepFailure("model_run printed no latency_ms_median line")


def parse_args():
    parser = argparse.ArgumentParser(
        description="Compile the end-to-end models with tyboxc, run them on "
                    "their sample inputs and compare with torch's outputs "
                    "(pass: max abs error <= %g * max(1, max|ref|))." % REL_TOL)
    parser.add_argument("--tyboxc", default=os.environ.get("TYBOXC"),
                        help="path of the tyboxc binary (default: $TYBOXC)")
    parser.add_argument("--models", required=True,
                        help="folder written by test/models/make_models.py")
    parser.add_argument("--work", required=True,
                        help="scratch folder for generated C and binaries")
    parser.add_argument("--only", metavar="NAME", help="run only this model")
    parser.add_argument("--runs", type=int, default=0, metavar="N",
                        help="also print model_run's median latency over N runs")
    args = parser.parse_args()
    if not args.tyboxc:
        parser.error("--tyboxc is required (or set TYBOXC)")
    if args.runs < 0:
        parser.error("--runs must be >= 0")
    return args


def main():
    args = parse_args()
    tyboxc = os.path.abspath(args.tyboxc)
    if not os.access(tyboxc, os.X_OK):
        die("%s is not an executable" % tyboxc)
    names = find_models(args.models, args.only)
    work_root = os.path.abspath(args.work)
    os.makedirs(work_root, exist_ok=True)
    print("tolerance: max abs error <= %g * max(1, max|ref|)" % REL_TOL)
    passed = failed = 0
    for name in names:
        if check_model(tyboxc, args.models, work_root, name, args.runs):
            passed += 1
        else:
            failed += 1
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
