#!/usr/bin/python3
"""Re-time tyboxc against ONNX Runtime in alternating rounds, for a busy machine.

usage: /usr/bin/python3 bench/repeat_ratio.py [--models A,B,...] [--rounds R]
           [--runs N] [--work DIR]

Uses what bench/run_bench.py left in the work folder (default
/tmp/tyboxc-bench): NAME.onnx, NAME.in.f32 and the built NAME.c/model_run.
Each round runs `model_run` and then bench/ort_bench.js back to back, so
both engines see about the same load, and measures each engine two ways:
- wall: the median of N timed runs that each tool prints (ORT after 2
  warm-up runs);
- CPU: the user + system CPU time of the process with N + 1 runs minus that
  with 1 run, divided by N (N raised to about 2 s of CPU): the CPU time of one inference, without process
  start, model loading and the first run. On a machine whose cores are
  shared with other jobs this is the steadier number: waiting for a core
  does not count, only cache and memory interference does.
Where run_bench.py also built the int8 model (NAME.int8.c/model_run), each
round times it too, right after the float one, and the ratios int8 / float
and int8 / ORT are printed as well.
Prints, per model, the median over the R rounds of each number and of the
per-round ratios tyboxc / ORT. Asserts nothing.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys

BENCH = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MODELS = "fashion_cnn,mobilenet_v2_035_96,mobilenet_v2_100_224,resnet18_224"


def input_shape(onnx_path):
    import onnx
    model = onnx.load(onnx_path, load_external_data=False)
    inits = {i.name for i in model.graph.initializer}
    x = [i for i in model.graph.input if i.name not in inits][0]
    return [d.dim_value or 1 for d in x.type.tensor_type.shape.dim]


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(argv):
    """(stdout, CPU seconds) of one run of argv."""
    before = child_cpu()
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    return out, child_cpu() - before


def tyboxc_run(work, name, runs, build=".c"):
    out, cpu = timed([os.path.join(work, name + build, "model_run"),
                      os.path.join(work, name + ".in.f32"), os.devnull, str(runs)])
    for line in out.splitlines():
        if line.startswith("latency_ms_median"):
            return float(line.split()[1]), cpu
    raise RuntimeError("model_run printed no latency_ms_median")


def ort_run(work, name, shape, runs):
    out, cpu = timed([shutil.which("node"), os.path.join(BENCH, "ort_bench.js"),
                      os.path.join(work, name + ".onnx"),
                      os.path.join(work, name + ".in.f32"),
                      "--shape", ",".join(map(str, shape)), "--runs", str(runs),
                      "--warmup", "2"])
    return json.loads(out.strip().splitlines()[-1])["median_ms"], cpu


def per_run(fn, runs):
    """(median wall ms of runs timed runs, CPU ms of one run)."""
    _, cpu1 = fn(1)
    wall, cpu = fn(runs + 1)
    return wall, (cpu - cpu1) * 1e3 / runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=DEFAULT_MODELS)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--work", default="/tmp/tyboxc-bench")
    args = parser.parse_args()
    print("| model | rounds x runs | tyboxc wall ms | ORT wall ms | wall ratio "
          "| tyboxc CPU ms | ORT CPU ms | CPU ratio | int8 wall ms | int8/float wall "
          "| int8/ORT wall | int8 CPU ms | int8/float CPU | int8/ORT CPU |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in args.models.split(","):
        shape = input_shape(os.path.join(args.work, name + ".onnx"))
        int8 = os.path.exists(os.path.join(args.work, name + ".int8.c", "model_run"))
        # enough runs for about 2 s of CPU, so that the CPU time of node's
        # start-up varies less than the difference being measured
        _, probe = tyboxc_run(args.work, name, 10)
        runs = max(args.runs, int(2.0 / max(probe / 10, 1e-6)))
        rows = []
        for r in range(args.rounds):
            tw, tc = per_run(lambda n: tyboxc_run(args.work, name, n), runs)
            qw, qc = (per_run(lambda n: tyboxc_run(args.work, name, n, ".int8.c"), runs)
                      if int8 else (float("nan"), float("nan")))
            ow, oc = per_run(lambda n: ort_run(args.work, name, shape, n), runs)
            rows.append((tw, ow, tw / ow, tc, oc, tc / oc,
                         qw, qw / tw, qw / ow, qc, qc / tc, qc / oc))
            print("[repeat] %s round %d: wall %.3f / %.3f / %.3f ms, CPU %.3f / %.3f / %.3f ms "
                  "(float / int8 / ORT)" % (name, r + 1, tw, qw, ow, tc, qc, oc),
                  file=sys.stderr, flush=True)
        med = [statistics.median(col) for col in zip(*rows)]
        print(("| %s | %d x %d | %.3f | %.3f | %.2fx | %.3f | %.3f | %.2fx "
               "| %.3f | %.2fx | %.2fx | %.3f | %.2fx | %.2fx |")
              % ((name, args.rounds, runs) + tuple(med)), flush=True)

if __name__ == "__main__":
    main()
