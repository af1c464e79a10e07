#!/usr/bin/python3
"""Benchmark tyboxc against ONNX Runtime and PyTorch eager, single threaded.

usage: /usr/bin/python3 bench/run_bench.py [--models A,B,...] [--runs N]
           [--quick] [--plot] [--work DIR] [--tyboxc PATH] [--json FILE] [--no-int8]

For each model this
  1. exports it with torch.onnx.export into the work folder (default
     /tmp/tyboxc-bench, never the repo) unless WORK/NAME.onnx is there already,
     with 2 N(0,1) input samples in WORK/NAME.in.f32 (random weights, seeded
     exactly like test/models/make_models.py, whose FashionCNN, export and
     randomize_batchnorm are imported);
  2. compiles it: `tyboxc NAME.onnx -o WORK/NAME.c --harness --report`
     (timed: compile time; the report gives the weight and arena bytes);
  3. builds it: `make CFLAGS='-O3 -march=native'` (timed: wall and CPU time of
     the C compiler) and measures the generated sources;
  4. runs `model_run NAME.in.f32 OUT RUNS` (median latency of RUNS runs of the
     first sample, after one run of each sample);
  5. does 2 to 4 again for the int8 build, `--quantize int8 --calib
     WORK/NAME.calib.f32` (8 other seeded N(0,1) samples), and compares its
     dequantized output with the float build's (top-1 agreement, max abs
     error; reported, not checked: int8 is not within float tolerance);
  6. runs bench/ort_bench.js (onnxruntime-node, 1 thread, all graph
     optimizations) and PyTorch 1.13 eager (torch.set_num_threads(1), eval,
     no_grad), each warmed up then timed over RUNS runs, median;
  7. checks that the three engines' outputs for both samples agree (max abs
     difference, against torch as the reference; the tolerance is the one of
     test/e2e: 1e-4 * max(1, max|torch|)).

GFLOP/s is 2 * MACs / latency, where the MACs are those of the Conv, Gemm and
MatMul nodes of the ONNX graph, with shapes from onnx.shape_inference.

It prints a markdown table on stdout, writes bench/results.json (--json) and,
with --plot, docs/performance.png. Progress goes to stderr. This is a
measurement tool, not a test: it asserts nothing about time, and exits 1 only
when a step fails (a compile error, a crash) or the outputs disagree.

ONNX Runtime comes from npm: run `npm ci --ignore-scripts` in bench/ first.
"""
import argparse
import collections
import datetime
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
import warnings

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(ROOT, "test", "models"))

import numpy as np  # noqa: E402

CFLAGS = "-O3 -march=native"
REL_TOL = 1e-4
CALIB_SAMPLES = 8
WARMUP = 2
TIMEOUT_COMPILE = 600
TIMEOUT_BUILD = 3600
TIMEOUT_RUN = 1800


def log(message):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), message),
          file=sys.stderr, flush=True)


class StepFailure(Exception):
    pass


# --------------------------------------------------------------------------
# models

def _torchvision(name, **kwargs):
    def build():
        import torchvision
        return getattr(torchvision.models, name)(weights=None, **kwargs)
    return build


def _fashion_cnn():
    from make_models import FashionCNN
    return FashionCNN()


# name -> (constructor, input shape, description)
MODELS = collections.OrderedDict([
    ("fashion_cnn", (_fashion_cnn, (1, 1, 28, 28),
                     "Fashion-MNIST CNN of test/models/make_models.py, 28x28")),
    ("mobilenet_v2_035_96",
     (_torchvision("mobilenet_v2", width_mult=0.35), (1, 3, 96, 96),
      "torchvision MobileNetV2, width 0.35, 96x96")),
    ("mobilenet_v2_100_224",
     (_torchvision("mobilenet_v2"), (1, 3, 224, 224),
      "torchvision MobileNetV2, width 1.0, 224x224")),
    ("resnet18_224", (_torchvision("resnet18"), (1, 3, 224, 224),
                      "torchvision ResNet18, 224x224")),
    # Not in the default set; ask for them with --models.
    ("squeezenet1_0_224", (_torchvision("squeezenet1_0"), (1, 3, 224, 224),
                           "torchvision SqueezeNet 1.0, 224x224")),
    ("shufflenet_v2_x1_0_224",
     (_torchvision("shufflenet_v2_x1_0"), (1, 3, 224, 224),
      "torchvision ShuffleNetV2 x1.0, 224x224")),
    ("mnasnet0_5_224", (_torchvision("mnasnet0_5"), (1, 3, 224, 224),
                        "torchvision MNASNet 0.5, 224x224")),
])
DEFAULT_MODELS = ["fashion_cnn", "mobilenet_v2_035_96", "mobilenet_v2_100_224",
                  "resnet18_224"]
QUICK_MODELS = ["fashion_cnn", "mobilenet_v2_035_96"]


def build_module(name):
    """The torch module of `name`, in eval mode, with make_models' seeding."""
    import torch
    from make_models import SEED, randomize_batchnorm
    build, _, _ = MODELS[name]
    torch.manual_seed(SEED)
    module = build().eval()
    randomize_batchnorm(module)
    return module


def export_if_missing(name, module, work):
    """WORK/NAME.onnx and WORK/NAME.in.f32; returns (onnx path, input path)."""
    from make_models import SEED, export, make_samples, write_f32
    _, shape, _ = MODELS[name]
    onnx_path = os.path.join(work, name + ".onnx")
    input_path = os.path.join(work, name + ".in.f32")
    if not os.path.isfile(onnx_path):
        log("%s: exporting to %s" % (name, onnx_path))
        start = time.time()
        tmp = onnx_path + ".tmp"
        # The plain export (constant folding on, eval mode), as a user would
        # export a model; make_models.py's fashion_cnn keeps extra subgraphs
        # on purpose to test tyboxc's folding, which is not what we time here.
        export(module, shape, tmp, {})
        os.replace(tmp, onnx_path)
        log("%s: exported in %.1f s" % (name, time.time() - start))
    if not os.path.isfile(input_path):
        write_f32(input_path, make_samples(shape, SEED + 1))
    return onnx_path, input_path


# --------------------------------------------------------------------------
# MAC count from the ONNX graph

def _attr(node, name, default=None):
    import onnx
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def fold_constants(model):
    """Evaluate the nodes whose inputs are all constant, with numpy.

    torch 1.13 exports nn.ZeroPad2d's pads as a Constant/ConstantOfShape/
    Concat/Reshape/Slice/Transpose/Cast subgraph even with constant folding
    on; onnx's shape inference cannot see through it, so everything after the
    Pad would have no shape. Folding those few ops into initializers is
    enough; nodes of other types are left alone.
    """
    import onnx
    from onnx import numpy_helper
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    values = {}

    def value(name):
        if name == "":
            return None
        if name not in values and name in inits:
            values[name] = numpy_helper.to_array(inits[name])
        return values.get(name)

    def evaluate(node, x):
        op = node.op_type
        if op == "Constant":
            return numpy_helper.to_array(_attr(node, "value"))
        if op == "ConstantOfShape":
            fill = _attr(node, "value")
            fill = numpy_helper.to_array(fill) if fill is not None \
                else np.zeros(1, np.float32)
            return np.full(tuple(int(d) for d in x[0]), fill.ravel()[0], fill.dtype)
        if op == "Concat":
            return np.concatenate(x, axis=_attr(node, "axis"))
        if op == "Reshape":
            shape = [int(d) for d in x[1]]
            shape = [x[0].shape[i] if d == 0 else d for i, d in enumerate(shape)]
            return x[0].reshape(shape)
        if op == "Transpose":
            return np.transpose(x[0], _attr(node, "perm"))
        if op == "Cast":
            return x[0].astype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[_attr(node, "to")])
        if op == "Slice":
            data, starts, ends = x[0], x[1], x[2]
            axes = x[3] if len(x) > 3 and x[3] is not None else range(len(starts))
            steps = x[4] if len(x) > 4 and x[4] is not None else [1] * len(starts)
            index = [slice(None)] * data.ndim
            for s, e, a, st in zip(starts, ends, axes, steps):
                index[int(a)] = slice(int(s), int(e), int(st))
            return data[tuple(index)]
        if op == "Unsqueeze":
            return np.expand_dims(x[0], tuple(int(a) for a in x[1]))
        if op == "Gather":
            return np.take(x[0], x[1], axis=_attr(node, "axis", 0))
        return None

    kept = []
    for node in graph.node:
        inputs = [value(n) for n in node.input]
        folded = None
        if len(node.output) == 1 and all(
                v is not None for n, v in zip(node.input, inputs) if n):
            try:
                folded = evaluate(node, inputs)
            except Exception:  # leave anything unexpected to shape inference
                folded = None
        if folded is None:
            kept.append(node)
        else:
            values[node.output[0]] = np.asarray(folded)
    used = {n for node in kept for n in node.input}
    for name, array in values.items():
        if name in used and name not in inits:
            graph.initializer.append(numpy_helper.from_array(array, name))
    del graph.node[:]
    graph.node.extend(kept)
    return model


def count_macs(onnx_path):
    """(MACs of Conv, Gemm and MatMul nodes, {op: MACs}) of the graph."""
    import onnx
    model = onnx.shape_inference.infer_shapes(fold_constants(onnx.load(onnx_path)))
    graph = model.graph
    shapes = {}
    for vi in list(graph.input) + list(graph.value_info) + list(graph.output):
        dims = vi.type.tensor_type.shape.dim
        if all(d.HasField("dim_value") for d in dims):
            shapes[vi.name] = [d.dim_value for d in dims]
    for init in graph.initializer:
        shapes[init.name] = list(init.dims)

    def shape(name):
        if name not in shapes:
            raise StepFailure("no static shape for %s after shape inference" % name)
        return shapes[name]

    per_op = collections.Counter()
    for node in graph.node:
        if node.op_type == "Conv":
            w = shape(node.input[1])          # [M, C/group, k...]
            y = shape(node.output[0])         # [N, M, spatial...]
            per_op["Conv"] += int(np.prod(y)) * int(np.prod(w[1:]))
        elif node.op_type == "Gemm":
            a = shape(node.input[0])
            k = a[0] if _attr(node, "transA", 0) else a[1]
            per_op["Gemm"] += int(np.prod(shape(node.output[0]))) * k
        elif node.op_type == "MatMul":
            a = shape(node.input[0])
            per_op["MatMul"] += int(np.prod(shape(node.output[0]))) * a[-1]
    return sum(per_op.values()), dict(per_op)


# --------------------------------------------------------------------------
# steps

def run_timed(what, argv, timeout, cwd=None):
    """Run argv; returns (CompletedProcess, wall s, children CPU s)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        proc = subprocess.run(argv, capture_output=True, text=True,
                              errors="replace", timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired:
        raise StepFailure("%s timed out after %d s" % (what, timeout))
    except OSError as e:
        raise StepFailure("cannot run %s: %s" % (what, e.strerror))
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        lines = [l for l in (proc.stderr + proc.stdout).splitlines() if l.strip()]
        detail = next((l for l in lines if "error" in l.lower()),
                      lines[-1] if lines else "")
        raise StepFailure("%s exited %d: %s" % (what, proc.returncode, detail.strip()))
    return proc, wall, cpu


def parse_report(text):
    """weights, arena and arena lower bound bytes from tyboxc --report."""
    out = {}
    for line in text.splitlines():
        words = line.replace("(", " ").replace(",", " ").split()
        if line.startswith("weights:") and len(words) > 1:
            out["weights_bytes"] = int(words[1])
        elif line.startswith("arena:") and len(words) > 1:
            out["arena_bytes"] = int(words[1])
            if "bound" in words:
                out["arena_lower_bound_bytes"] = int(words[words.index("bound") + 1])
        elif line.startswith("params:"):
            for key, value in zip(words[::2], words[1::2]):
                if key in ("params:", "MACs:"):
                    out["tyboxc_" + key.rstrip(":").lower()] = int(value)
    return out


def run_tyboxc(name, tyboxc, onnx_path, input_path, work, runs, flags=(), kind=""):
    """Compile (tyboxc FLAGS), build and time one model; kind names the build
    in the work folder and the log ("" float, "int8")."""
    tag = name + ("." + kind if kind else "")
    out_dir = os.path.join(work, tag + ".c")
    shutil.rmtree(out_dir, ignore_errors=True)
    proc, compile_s, _ = run_timed(
        "tyboxc", [tyboxc, onnx_path, "-o", out_dir, "--harness", "--report"] + list(flags),
        TIMEOUT_COMPILE)
    name = tag
    result = {"compile_s": compile_s}
    result.update(parse_report(proc.stdout + proc.stderr))
    log("%s: tyboxc compiled in %.2f s" % (name, compile_s))

    sources = [f for f in os.listdir(out_dir) if f.endswith((".c", ".h"))]
    result["source_bytes"] = sum(os.path.getsize(os.path.join(out_dir, f))
                                 for f in sources)
    result["model_c_bytes"] = os.path.getsize(os.path.join(out_dir, "model.c"))

    log("%s: make CFLAGS='%s' (%.1f MB of C)"
        % (name, CFLAGS, result["source_bytes"] / 1e6))
    _, cc_wall, cc_cpu = run_timed(
        "make", ["make", "-C", out_dir, "CFLAGS=" + CFLAGS], TIMEOUT_BUILD)
    result["cc_wall_s"] = cc_wall
    result["cc_cpu_s"] = cc_cpu
    model_run = os.path.join(out_dir, "model_run")
    result["binary_bytes"] = os.path.getsize(model_run)
    log("%s: built in %.1f s (%.1f s CPU)" % (name, cc_wall, cc_cpu))

    out_path = os.path.join(work, tag + ".tyboxc.out.f32")
    proc, _, _ = run_timed("model_run", [model_run, input_path, out_path,
                                         str(runs)], TIMEOUT_RUN)
    for line in proc.stdout.splitlines():
        if line.startswith("latency_ms_median"):
            result["median_ms"] = float(line.split()[1])
    if "median_ms" not in result:
        raise StepFailure("model_run printed no latency_ms_median")
    log("%s: tyboxc median %.3f ms" % (name, result["median_ms"]))
    return result, np.fromfile(out_path, dtype="<f4")


def calibration_file(name, shape, work):
    """CALIB_SAMPLES N(0,1) samples (seeded, not the timed ones) for --calib."""
    path = os.path.join(work, name + ".calib.f32")
    if not os.path.exists(path):
        rng = np.random.default_rng(7)
        rng.standard_normal((CALIB_SAMPLES,) + tuple(shape)).astype("<f4").tofile(path)
    return path


def int8_agreement(float_out, int8_out, samples):
    """Top-1 agreement (share of samples) and max abs error of the int8
    build's dequantized output against the float build's."""
    f, q = float_out.reshape(samples, -1), int8_out.reshape(samples, -1)
    return {"top1_agreement": float(np.mean(f.argmax(1) == q.argmax(1))),
            "max_abs_error": float(np.abs(f.astype(np.float64) - q).max()),
            "max_abs_float": float(np.abs(f).max())}


def run_ort(name, onnx_path, input_path, shape, work, runs):
    script = os.path.join(BENCH, "ort_bench.js")
    out_path = os.path.join(work, name + ".ort.out.f32")
    node = shutil.which("node")
    if not node:
        raise StepFailure("node is not installed")
    proc, _, _ = run_timed(
        "ort_bench.js", [node, script, onnx_path, input_path,
                         "--shape", ",".join(map(str, shape)),
                         "--runs", str(runs), "--warmup", str(WARMUP),
                         "--out", out_path], TIMEOUT_RUN)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    log("%s: ONNX Runtime %s median %.3f ms"
        % (name, result.get("version"), result["median_ms"]))
    keep = ("version", "median_ms", "min_ms", "mean_ms", "load_ms", "runs")
    return {k: result[k] for k in keep if k in result}, \
        np.fromfile(out_path, dtype="<f4")


def run_torch(name, module, input_path, shape, runs):
    import torch
    samples = np.fromfile(input_path, dtype="<f4").reshape((-1,) + tuple(shape))
    outputs, times = [], []
    with torch.no_grad():
        for x in samples:
            outputs.append(module(torch.from_numpy(x.copy())).numpy().ravel())
        first = torch.from_numpy(samples[0].copy())
        for _ in range(WARMUP):
            module(first)
        for _ in range(runs):
            start = time.perf_counter()
            module(first)
            times.append((time.perf_counter() - start) * 1e3)
    result = {"version": torch.__version__, "median_ms": statistics.median(times),
              "min_ms": min(times), "mean_ms": statistics.fmean(times),
              "runs": runs}
    log("%s: PyTorch median %.3f ms" % (name, result["median_ms"]))
    return result, np.concatenate(outputs)


def agreement(outs):
    """Max abs differences between the engines, torch as the reference."""
    ref = outs["torch"].astype(np.float64)
    scale = float(np.abs(ref).max()) if ref.size else 0.0
    tol = REL_TOL * max(1.0, scale)
    result = {"max_abs_torch": scale, "tolerance": tol}
    ok = True
    for a, b in (("tyboxc", "torch"), ("ort", "torch"), ("tyboxc", "ort")):
        x, y = outs[a].astype(np.float64), outs[b].astype(np.float64)
        if x.shape != y.shape:
            result["%s_vs_%s" % (a, b)] = None
            ok = False
            continue
        diff = float(np.abs(x - y).max()) if x.size else 0.0
        bad = not np.isfinite(x).all() or diff > tol
        result["%s_vs_%s" % (a, b)] = diff
        ok = ok and not bad
    result["ok"] = ok
    return result


def bench_model(name, args):
    _, shape, description = MODELS[name]
    log("%s: %s" % (name, description))
    module = build_module(name)
    onnx_path, input_path = export_if_missing(name, module, args.work)
    macs, per_op = count_macs(onnx_path)
    entry = {"model": name, "description": description,
             "input_shape": list(shape), "macs": macs, "macs_per_op": per_op,
             "onnx_bytes": os.path.getsize(onnx_path), "runs": args.runs}
    outs = {}
    entry["tyboxc"], outs["tyboxc"] = run_tyboxc(
        name, args.tyboxc, onnx_path, input_path, args.work, args.runs)
    entry["ort"], outs["ort"] = run_ort(name, onnx_path, input_path, shape,
                                        args.work, args.runs)
    entry["torch"], outs["torch"] = run_torch(name, module, input_path, shape,
                                              args.runs)
    if args.int8:
        calib = calibration_file(name, shape, args.work)
        entry["int8"], outs["int8"] = run_tyboxc(
            name, args.tyboxc, onnx_path, input_path, args.work, args.runs,
            ["--quantize", "int8", "--calib", calib], "int8")
        q = entry["int8"]
        samples = os.path.getsize(input_path) // (4 * int(np.prod(shape)))
        q["agreement"] = int8_agreement(outs["tyboxc"], outs["int8"], samples)
    tb = entry["tyboxc"]
    tb["gflops"] = 2.0 * macs / (tb["median_ms"] * 1e-3) / 1e9
    entry["ort"]["gflops"] = 2.0 * macs / (entry["ort"]["median_ms"] * 1e-3) / 1e9
    entry["torch"]["gflops"] = 2.0 * macs / (entry["torch"]["median_ms"] * 1e-3) / 1e9
    entry["ratio_tyboxc_ort"] = tb["median_ms"] / entry["ort"]["median_ms"]
    entry["ratio_tyboxc_torch"] = tb["median_ms"] / entry["torch"]["median_ms"]
    if tb.get("weights_bytes"):
        entry["source_per_weight_byte"] = tb["source_bytes"] / tb["weights_bytes"]
    if args.int8:
        q = entry["int8"]
        q["gflops"] = 2.0 * macs / (q["median_ms"] * 1e-3) / 1e9
        entry["ratio_int8_float"] = q["median_ms"] / tb["median_ms"]
        entry["ratio_int8_ort"] = q["median_ms"] / entry["ort"]["median_ms"]
    entry["agreement"] = agreement(outs)
    if not entry["agreement"]["ok"]:
        log("%s: OUTPUTS DISAGREE: %s" % (name, entry["agreement"]))
    return entry


# --------------------------------------------------------------------------
# machine, table, plot

def machine_info():
    info = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "platform": platform.platform(), "cpus": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info["loadavg_start"] = os.getloadavg()
    for key, argv in (("cc", ["cc", "--version"]), ("node", ["node", "--version"])):
        try:
            out = subprocess.run(argv, capture_output=True, text=True).stdout
            info[key] = out.splitlines()[0].strip() if out else None
        except OSError:
            info[key] = None
    try:
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        info["git"] = head + ("-dirty" if dirty else "")
    except OSError:
        pass
    return info


def human_bytes(n):
    if n is None:
        return "-"
    for unit, size in (("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return "%.1f %s" % (n / size, unit)
    return "%d B" % n


def fmt_ms(ms):
    return "%.3f" % ms if ms < 1 else ("%.2f" % ms if ms < 100 else "%.0f" % ms)


def markdown_table(entries):
    head = ["model", "MMACs", "tyboxc ms", "ORT ms", "PyTorch ms",
            "tyboxc/ORT", "tyboxc/PyTorch", "tyboxc GFLOP/s", "ORT GFLOP/s",
            "weights", "arena", "tyboxc compile s", "cc s (CPU s)",
            "C source (x weights)", "max abs diff vs torch (tyboxc / ORT)"]
    rows = ["| " + " | ".join(head) + " |",
            "|" + "|".join("---" if i == 0 else "---:" for i in range(len(head))) + "|"]
    for e in entries:
        if "error" in e:
            rows.append("| %s | failed: %s |" % (e["model"], e["error"])
                        + " |" * (len(head) - 2))
            continue
        tb, agree = e["tyboxc"], e["agreement"]
        diff = "%.1e / %.1e" % (agree["tyboxc_vs_torch"], agree["ort_vs_torch"])
        if not agree["ok"]:
            diff += " **MISMATCH**"
        rows.append("| " + " | ".join([
            e["model"], "%.1f" % (e["macs"] / 1e6),
            fmt_ms(tb["median_ms"]), fmt_ms(e["ort"]["median_ms"]),
            fmt_ms(e["torch"]["median_ms"]),
            "%.1fx" % e["ratio_tyboxc_ort"], "%.1fx" % e["ratio_tyboxc_torch"],
            "%.2f" % tb["gflops"], "%.2f" % e["ort"]["gflops"],
            human_bytes(tb.get("weights_bytes")), human_bytes(tb.get("arena_bytes")),
            "%.2f" % tb["compile_s"],
            "%.1f (%.1f)" % (tb["cc_wall_s"], tb["cc_cpu_s"]),
            "%s (%.1fx)" % (human_bytes(tb["source_bytes"]),
                            e.get("source_per_weight_byte", float("nan"))),
            diff]) + " |")
    return "\n".join(rows)


def int8_table(entries):
    head = ["model", "float ms", "int8 ms", "ORT float ms", "int8/float", "int8/ORT",
            "int8 GFLOP/s", "weights int8 (x float)", "arena int8", "C source int8 (x weights)",
            "top-1 agreement", "max abs error (max abs float)"]
    rows = ["| " + " | ".join(head) + " |",
            "|" + "|".join("---" if i == 0 else "---:" for i in range(len(head))) + "|"]
    for e in entries:
        if "error" in e or "int8" not in e:
            continue
        tb, q = e["tyboxc"], e["int8"]
        a = q["agreement"]
        rows.append("| " + " | ".join([
            e["model"], fmt_ms(tb["median_ms"]), fmt_ms(q["median_ms"]),
            fmt_ms(e["ort"]["median_ms"]), "%.2fx" % e["ratio_int8_float"],
            "%.2fx" % e["ratio_int8_ort"], "%.2f" % q["gflops"],
            "%s (%.3fx)" % (human_bytes(q.get("weights_bytes")),
                            q.get("weights_bytes", 0) / max(1, tb.get("weights_bytes", 1))),
            human_bytes(q.get("arena_bytes")),
            "%s (%.1fx)" % (human_bytes(q["source_bytes"]),
                            q["source_bytes"] / max(1, q.get("weights_bytes", 1))),
            "%.0f%%" % (100 * a["top1_agreement"]),
            "%.2g (%.2g)" % (a["max_abs_error"], a["max_abs_float"])]) + " |")
    return "\n".join(rows)


def plot(entries, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    entries = [e for e in entries if "error" not in e]
    engines = (("tyboxc", "tyboxc float (C99 + AVX-512 micro-kernel, -O3 -march=native)"),
               ("int8", "tyboxc int8 (same flags)"),
               ("ort", "ONNX Runtime %s" % (entries[0]["ort"].get("version", "")
                                            if entries else "")),
               ("torch", "PyTorch %s eager" % (entries[0]["torch"].get("version", "")
                                               if entries else "")))
    engines = tuple(e for e in engines if all(e[0] in x for x in entries))
    width = 0.8 / len(engines)
    fig, ax = plt.subplots(figsize=(max(6, 2.2 * len(entries)), 4.5))
    xs = np.arange(len(entries))
    for i, (key, label) in enumerate(engines):
        values = [e[key]["median_ms"] for e in entries]
        bars = ax.bar(xs + (i - (len(engines) - 1) / 2) * width, values, width, label=label)
        for bar, v in zip(bars, values):
            ax.annotate(fmt_ms(v), (bar.get_x() + bar.get_width() / 2, v),
                        ha="center", va="bottom", fontsize=7)
    ax.set_yscale("log")
    ax.set_xticks(xs)
    ax.set_xticklabels([e["model"] for e in entries], fontsize=8)
    ax.set_ylabel("median latency, ms (log scale)")
    ax.set_title("Batch-1 latency, 1 thread (lower is better)")
    ax.legend(fontsize=8)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    log("wrote %s" % path)


def main():
    parser = argparse.ArgumentParser(
        description="Time tyboxc's generated C against ONNX Runtime and PyTorch "
                    "eager (1 thread) and check that their outputs agree.")
    parser.add_argument("--models", help="comma-separated list (default: %s; "
                        "also: %s; 'all' for every one)"
                        % (",".join(DEFAULT_MODELS),
                           ",".join(m for m in MODELS if m not in DEFAULT_MODELS)))
    parser.add_argument("--runs", type=int, help="timed runs per engine and "
                        "model (default 10, 3 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="only %s, 3 runs" % ",".join(QUICK_MODELS))
    parser.add_argument("--plot", nargs="?", const=os.path.join(ROOT, "docs",
                                                                "performance.png"),
                        metavar="PNG", help="write the bar chart "
                        "(default docs/performance.png)")
    parser.add_argument("--work", default=os.path.join(
        os.environ.get("TMPDIR", "/tmp"), "tyboxc-bench"),
        help="folder for exported models and generated C (default %(default)s)")
    parser.add_argument("--tyboxc", default=os.path.join(ROOT, "build", "bin", "tyboxc"),
                        help="compiler to use (default %(default)s)")
    parser.add_argument("--no-int8", dest="int8", action="store_false",
                        help="skip the int8 build (tyboxc --quantize int8, calibrated on "
                        "%d other N(0,1) samples)" % CALIB_SAMPLES)
    parser.add_argument("--json", default=os.path.join(BENCH, "results.json"),
                        help="where to write the results (default %(default)s)")
    args = parser.parse_args()

    if args.models:
        names = list(MODELS) if args.models == "all" else args.models.split(",")
        unknown = [n for n in names if n not in MODELS]
        if unknown:
            parser.error("unknown model(s) %s; known: %s"
                         % (", ".join(unknown), ", ".join(MODELS)))
    else:
        names = QUICK_MODELS if args.quick else DEFAULT_MODELS
    if args.runs is None:
        args.runs = 3 if args.quick else 10
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if not os.access(args.tyboxc, os.X_OK):
        parser.error("no tyboxc at %s (build it, or pass --tyboxc)" % args.tyboxc)
    if not os.path.isdir(os.path.join(BENCH, "node_modules", "onnxruntime-node")):
        parser.error("onnxruntime-node is not installed: run "
                     "`npm ci --ignore-scripts` in %s" % BENCH)
    args.work = os.path.abspath(args.work)
    os.makedirs(args.work, exist_ok=True)

    import torch
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", UserWarning)

    info = machine_info()
    try:
        info["tyboxc"] = subprocess.run([args.tyboxc, "--version"], capture_output=True,
                                        text=True).stdout.strip()
    except OSError:
        pass
    info["torch"] = torch.__version__
    info["cflags"] = CFLAGS
    log("%s, %s cpus, load %s; %d runs; work folder %s"
        % (info.get("cpu"), info["cpus"],
           " ".join("%.1f" % x for x in info["loadavg_start"]), args.runs, args.work))

    entries, failed = [], False
    start = time.time()
    for name in names:
        try:
            entries.append(bench_model(name, args))
            failed = failed or not entries[-1]["agreement"]["ok"]
        except StepFailure as e:
            log("%s: FAILED: %s" % (name, e))
            entries.append({"model": name, "error": str(e)})
            failed = True
    info["loadavg_end"] = os.getloadavg()
    info["total_s"] = time.time() - start

    with open(args.json, "w") as f:
        json.dump({"machine": info, "models": entries}, f, indent=1)
        f.write("\n")
    log("wrote %s (%.0f s in all)" % (args.json, info["total_s"]))
    if args.plot:
        plot(entries, args.plot)
    print(markdown_table(entries))
    if args.int8:
        print()
        print(int8_table(entries))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
