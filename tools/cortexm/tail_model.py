"""The Fashion-MNIST CNN with its trainable tail, float and int8, as
scripts/cortexm_size.py and test/cortexm/run_cortexm_tail.py compile it.

    make_onnx(work)                      -> fashion_cnn.onnx from
                                            test/models/make_models.py
    write_stream(path, first, samples)   -> the labelled samples of the
                                            harness's training step
    write_calib(path)                    -> int8 calibration samples
    tyboxc_args(onnx, out, kind, calib)  -> the tyboxc command line

The model is the e2e tests' fashion_cnn (random weights, seed 0). Its inputs
here are N(0,1) from fixed seeds, as in ctest e2e-int8 (test/e2e/
run_quant_e2e.py): 64 calibration samples (seed 11) and, for the training
step, the model's first sample then others (seed 12) with the labels LABELS.
Nothing is downloaded. The tail is what tyboxc --train-tail --memory-budget
BUDGET chooses: the 64 -> 10 Gemm, the feature vector int8 in the int8 build
(docs/incremental.md).
"""
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MODEL = "fashion_cnn"
INPUT_SIZE = 28 * 28
BUDGET = "96K"
CALIB_SAMPLES = 64
CALIB_SEED = 11
STREAM_SEED = 12
LABELS = (3, 7, 3, 1, 0, 9, 5, 2)  # labels of the training step's samples, in order
KINDS = ("float", "int8")


class ModelError(Exception):
    """A step failed; the message is the one-line reason."""


def _run(what, argv, timeout):
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ModelError("%s timed out after %d s" % (what, timeout))
    if proc.returncode != 0:
        lines = (proc.stderr + proc.stdout).strip().splitlines()
        raise ModelError("%s exited %d: %s" % (what, proc.returncode, lines[-1] if lines else "no output"))
    return proc.stdout


def make_onnx(work, timeout=300):
    """WORK/models/fashion_cnn.onnx (and .in.f32, its first inputs); returns
    the two paths."""
    models = os.path.join(work, "models")
    _run("make_models.py", [sys.executable, os.path.join(ROOT, "test", "models", "make_models.py"),
                            models, "--only", MODEL], timeout)
    return os.path.join(models, MODEL + ".onnx"), os.path.join(models, MODEL + ".in.f32")


def write_stream(path, first_inputs, samples):
    """samples records of one uint8 label then 784 float32 (the host
    model_run's --learn STREAM): the first input of first_inputs, then N(0,1)."""
    if not 1 <= samples <= len(LABELS):
        raise ModelError("samples must be 1 to %d" % len(LABELS))
    xs = np.random.default_rng(STREAM_SEED).standard_normal((samples, INPUT_SIZE)).astype("<f4")
    xs[0] = np.fromfile(first_inputs, dtype="<f4", count=INPUT_SIZE)
    with open(path, "wb") as f:
        for label, x in zip(LABELS, xs):
            f.write(bytes([label]) + x.tobytes())


def write_calib(path):
    rng = np.random.default_rng(CALIB_SEED)
    rng.standard_normal((CALIB_SAMPLES, 1, 28, 28)).astype("<f4").tofile(path)


def tyboxc_args(tyboxc, onnx, out_dir, kind, calib=None):
    """tyboxc's command line for the float or int8 build with the tail."""
    argv = [tyboxc, onnx, "-o", out_dir, "--train-tail", "--memory-budget", BUDGET, "--report"]
    if kind == "int8":
        argv += ["--quantize", "int8", "--calib", calib]
    return argv


def compile_model(tyboxc, onnx, out_dir, kind, calib=None, timeout=300):
    """Compile with tyboxc; returns its --report."""
    return _run("tyboxc (%s)" % kind, tyboxc_args(tyboxc, onnx, out_dir, kind, calib), timeout)
