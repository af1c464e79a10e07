#!/usr/bin/python3
"""int8 quantization experiment: tyboxc --quantize int8 against float and PyTorch, in one run.

usage: /usr/bin/python3 scripts/quant_experiment.py EXPDIR [--tyboxc build/bin/tyboxc]
           [--models build/test/models] [--work DIR] [--runs N] [--skip-latency]

EXPDIR is what scripts/train_fashion_cnn.py wrote (fashion_cnn.onnx trained on
Fashion-MNIST, the 10,000 test images and labels, 500 calibration images from
the training set). --models holds mobilenet_v2.onnx and resnet18.onnx from
test/models/make_models.py (random weights).

Fashion-MNIST CNN: top-1 accuracy on the 10,000 test images of the float
build and of the int8 builds with each calibration method (minmax,
percentile, mse; 500 calibration images), and of PyTorch 1.13 eager
post-training static quantization of the same weights (fbgemm/x86 is not in
Debian's torch: the engine is qnnpack, else onednn; the engine's default
qconfig, which for qnnpack is a per-tensor histogram observer for
activations and per-tensor symmetric min/max weights; calibrated on the same
500 images).

MobileNetV2 and ResNet18 (random weights): top-1 agreement and max error of
the dequantized output, int8 against float, on TEST_SAMPLES N(0,1) inputs,
calibrated on CALIB_SAMPLES other N(0,1) inputs.

For every model: weight bytes (tyboxc --report) int8 / float, and the median
latency of the generated code (-O3 -march=native, one thread: model_run's
timing mode, --runs runs) int8 / float.

Prints markdown tables (the ones in docs/quantization.md).
"""
import argparse
import os
import re
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
METHODS = ("minmax", "percentile", "mse")
CALIB_SAMPLES = 16
TEST_SAMPLES = 16
FAST = "-O3 -march=native"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def compile_model(tyboxc, model, outdir, flags, cflags):
    """tyboxc --harness --report, then make; returns (weight bytes, report)."""
    os.makedirs(os.path.dirname(outdir), exist_ok=True)
    cmd = [tyboxc, model, "-o", outdir, "--report", "--harness"] + flags
    rep = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    subprocess.run(["make", "-s", "-C", outdir, "CFLAGS=" + cflags], check=True)
    return int(re.search(r"^weights: (\d+) bytes", rep, re.M).group(1)), rep


def run(outdir, inputs, n):
    out = os.path.join(outdir, "out.f32")
    subprocess.run([os.path.join(outdir, "model_run"), inputs, out], check=True)
    return np.fromfile(out, "<f4").reshape(n, -1)


def latency(outdir, inputs, runs):
    if not runs:
        return float("nan")
    p = subprocess.run([os.path.join(outdir, "model_run"), inputs, os.path.join(outdir, "t.f32"), str(runs)],
                       check=True, capture_output=True, text=True)
    return float(re.search(r"latency_ms_median ([0-9.]+)", p.stdout).group(1))


def float_ops(report):
    m = re.search(r"^quantize: (\d+ ops? runs? in float.*|every op runs in int8)$", report, re.M)
    return m.group(1) if m else "?"


# ---- PyTorch eager post-training static quantization --------------------------

def torch_ptq_accuracy(onnx_path, calib, images, labels):
    """The trained weights, read back from the ONNX file into FashionCNN,
    quantized by torch.ao.quantization (prepare, calibrate, convert)."""
    import onnx
    import torch
    import torch.nn as nn
    from onnx import numpy_helper
    sys.path.insert(0, os.path.join(ROOT, "test", "models"))
    from make_models import FashionCNN

    torch.set_num_threads(1)
    engines = torch.backends.quantized.supported_engines
    engine = "qnnpack" if "qnnpack" in engines else "onednn"
    torch.backends.quantized.engine = engine
    model = FashionCNN().eval()
    inits = {i.name: numpy_helper.to_array(i) for i in onnx.load(onnx_path).graph.initializer}
    state = model.state_dict()
    wanted = [k for k in state if not k.endswith("num_batches_tracked")]
    missing = [k for k in wanted if k not in inits]
    if missing:
        raise SystemExit("error: %s lacks %s" % (onnx_path, ", ".join(missing)))
    model.load_state_dict({k: torch.from_numpy(np.array(inits[k])).reshape(state[k].shape) for k in wanted},
                          strict=False)

    class Quantizable(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.quant, self.dequant, self.m = torch.ao.quantization.QuantStub(), torch.ao.quantization.DeQuantStub(), m

        def forward(self, x):
            return self.dequant(self.m(self.quant(x)))

    q = Quantizable(model).eval()
    torch.ao.quantization.fuse_modules(
        q.m, [["block1.1", "block1.2", "block1.3"], ["block2.0", "block2.1", "block2.2"], ["head.1", "head.2"]],
        inplace=True)
    q.qconfig = torch.ao.quantization.get_default_qconfig(engine)
    prepared = torch.ao.quantization.prepare(q)
    with torch.no_grad():
        for i in range(0, len(calib), 100):
            prepared(torch.from_numpy(calib[i:i + 100]))
    converted = torch.ao.quantization.convert(prepared)
    with torch.no_grad():
        pred = np.concatenate([converted(torch.from_numpy(images[i:i + 500])).argmax(1).numpy()
                               for i in range(0, len(images), 500)])
        fpred = np.concatenate([model(torch.from_numpy(images[i:i + 500])).argmax(1).numpy()
                                for i in range(0, len(images), 500)])
    return float((pred == labels).mean()), float((fpred == labels).mean()), engine


# ---- the experiment --------------------------------------------------------------

def fashion(args, work):
    exp = os.path.abspath(args.expdir)
    onnx_path = os.path.join(exp, "fashion_cnn.onnx")
    images, calib = os.path.join(exp, "test_images.f32"), os.path.join(exp, "calib_images.f32")
    labels = np.fromfile(os.path.join(exp, "test_labels.u8"), np.uint8)
    n = len(labels)
    rows = []
    for name, flags in [("float", [])] + [("int8 " + m, ["--quantize", "int8", "--calib", calib, "--calib-method", m])
                                          for m in METHODS]:
        log("fashion_cnn: %s ..." % name)
        d = os.path.join(work, "fashion", name.replace(" ", "_"))
        wbytes, rep = compile_model(args.tyboxc, onnx_path, d, flags, FAST)
        acc = float((run(d, images, n).argmax(1) == labels).mean())
        rows.append({"name": name, "acc": acc, "weights": wbytes, "ms": latency(d, images, args.runs),
                     "float_ops": float_ops(rep) if flags else ""})
    log("fashion_cnn: PyTorch eager PTQ ...")
    x = np.fromfile(images, "<f4").reshape(n, 1, 28, 28)
    c = np.fromfile(calib, "<f4").reshape(-1, 1, 28, 28)
    t_acc, t_float, engine = torch_ptq_accuracy(onnx_path, c, x, labels)
    return rows, (t_acc, t_float, engine)


def random_model(args, work, name):
    onnx_path = os.path.join(os.path.abspath(args.models), name + ".onnx")
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    calib, test = os.path.join(d, "calib.f32"), os.path.join(d, "test.f32")
    np.random.default_rng(21).standard_normal((CALIB_SAMPLES, 3, 224, 224)).astype("<f4").tofile(calib)
    np.random.default_rng(22).standard_normal((TEST_SAMPLES, 3, 224, 224)).astype("<f4").tofile(test)
    log("%s: float ..." % name)
    fw, _ = compile_model(args.tyboxc, onnx_path, os.path.join(d, "float"), [], FAST)
    f = run(os.path.join(d, "float"), test, TEST_SAMPLES).astype(np.float64)
    f_ms = latency(os.path.join(d, "float"), test, args.runs)
    rows = []
    for m in args.methods.split(","):
        log("%s: int8 %s ..." % (name, m))
        qd = os.path.join(d, "int8_" + m)
        qw, rep = compile_model(args.tyboxc, onnx_path, qd, ["--quantize", "int8", "--calib", calib,
                                                            "--calib-method", m], FAST)
        q = run(qd, test, TEST_SAMPLES).astype(np.float64)
        rows.append({"method": m, "top1": float((q.argmax(1) == f.argmax(1)).mean()),
                     "max_err": float(np.abs(q - f).max() / np.abs(f).max()),
                     "weights": (fw, qw), "ms": (f_ms, latency(qd, test, args.runs)), "float_ops": float_ops(rep)})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("expdir")
    ap.add_argument("--tyboxc", default=os.path.join(ROOT, "build", "bin", "tyboxc"))
    ap.add_argument("--models", default=os.path.join(ROOT, "build", "test", "models"))
    ap.add_argument("--work", default=None)
    ap.add_argument("--runs", type=int, default=20, help="timed runs per model (0: no latency)")
    ap.add_argument("--methods", default="minmax",
                    help="calibration methods for MobileNetV2 and ResNet18, comma-separated (Fashion-MNIST: all)")
    ap.add_argument("--only", choices=("fashion", "mobilenet_v2", "resnet18"), action="append",
                    help="run only this part (repeatable)")
    args = ap.parse_args()
    args.tyboxc = os.path.abspath(args.tyboxc)
    work = os.path.abspath(args.work or os.path.join(args.expdir, "quant-work"))
    os.makedirs(work, exist_ok=True)
    start = time.time()

    parts = args.only or ("fashion", "mobilenet_v2", "resnet18")
    if "fashion" in parts:
        print_fashion(*fashion(args, work))
    for name in ("mobilenet_v2", "resnet18"):
        if name in parts:
            print_random(name, random_model(args, work, name))
    log("done in %.0f s" % (time.time() - start))


def print_fashion(rows, torch_figures):
    t_acc, t_float, engine = torch_figures
    fl = rows[0]
    print("## Fashion-MNIST CNN (10,000 test images, calibration on 500 training images)\n")
    print("| build | top-1 | vs float | weight bytes | int8 / float | latency ms | int8 / float | ops in float |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| tyboxc %s | %.2f%% | %+.2f | %d | %.3f | %.4f | %.2f | %s |"
              % (r["name"], 100 * r["acc"], 100 * (r["acc"] - fl["acc"]), r["weights"],
                 r["weights"] / fl["weights"], r["ms"], r["ms"] / fl["ms"], r["float_ops"]))
    print("| PyTorch float (eager) | %.2f%% | %+.2f | | | | | |" % (100 * t_float, 100 * (t_float - fl["acc"])))
    print("| PyTorch eager PTQ (%s) | %.2f%% | %+.2f | | | | | |" % (engine, 100 * t_acc, 100 * (t_acc - fl["acc"])))
    sys.stdout.flush()


def print_random(name, rs):
    print("\n## %s (random weights, %d test / %d calibration samples of N(0,1))\n"
          % (name, TEST_SAMPLES, CALIB_SAMPLES))
    print("| method | top-1 agreement | max err / max abs float | weight bytes float -> int8 | int8 / float "
          "| latency ms float -> int8 | int8 / float | ops in float |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rs:
        (fw, qw), (fm, qm) = r["weights"], r["ms"]
        print("| %s | %.3f | %.4f | %d -> %d | %.3f | %.2f -> %.2f | %.2f | %s |"
              % (r["method"], r["top1"], r["max_err"], fw, qw, qw / fw, fm, qm, qm / fm, r["float_ops"]))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
