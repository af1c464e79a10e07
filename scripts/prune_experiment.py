#!/usr/bin/python3
"""prune-l1 experiment: accuracy and sizes of fashion_cnn pruned by tyboxc, no fine-tuning.

usage: /usr/bin/python3 scripts/prune_experiment.py EXPDIR [--tyboxc build/bin/tyboxc]
           [--models build/test/models] [--plot docs/prune_accuracy.png]

EXPDIR is what scripts/train_fashion_cnn.py wrote (fashion_cnn.onnx, test
images and labels, calibration images). For the unpruned model, --prune 0.1
.. 0.5 and --prune-budget at 75% of the f32 weight bytes (with and without
--calib), it compiles with tyboxc --harness --report, builds model_run, runs
all 10,000 test images in one call and prints a markdown table (params, MACs,
weight and arena bytes from --report, accuracy), then saves the plot. It also
prints the sizes of MobileNetV2 and ResNet18 (random weights: sizes only)
before and after --prune 0.3 and the 75% budget.
"""
import argparse
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def compile_model(tyboxc, model, outdir, flags, harness=True):
    """Runs tyboxc; returns the --report figures as a dict."""
    os.makedirs(os.path.dirname(outdir), exist_ok=True)
    cmd = [tyboxc, model, "-o", outdir, "--report"] + (["--harness"] if harness else []) + flags
    rep = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    fig = {"report": rep, "cmd": " ".join(["tyboxc", os.path.basename(model)] + flags)}
    fig["weights"] = int(re.search(r"^weights: (\d+) bytes", rep, re.M).group(1))
    fig["arena"] = int(re.search(r"^arena: (\d+) bytes", rep, re.M).group(1))
    m = re.search(r"^params: (\d+), MACs: (\d+)", rep, re.M)
    fig["params"], fig["macs"] = int(m.group(1)), int(m.group(2))
    m = re.search(r"f32 weight bytes (\d+) -> (\d+)", rep)
    if m:
        fig["f32_before"], fig["f32_after"] = int(m.group(1)), int(m.group(2))
    return fig


def accuracy(outdir, images, labels):
    subprocess.run(["make", "-s", "-C", outdir], check=True)
    out = os.path.join(outdir, "out.f32")
    subprocess.run([os.path.join(outdir, "model_run"), images, out], check=True)
    logits = np.fromfile(out, "<f4").reshape(len(labels), -1)
    return float((logits.argmax(1) == labels).mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("expdir")
    ap.add_argument("--tyboxc", default=os.path.join(ROOT, "build", "bin", "tyboxc"))
    ap.add_argument("--models", default=os.path.join(ROOT, "build", "test", "models"))
    ap.add_argument("--plot", default=os.path.join(ROOT, "docs", "prune_accuracy.png"))
    ap.add_argument("--work", default=None)
    args = ap.parse_args()
    exp = os.path.abspath(args.expdir)
    work = args.work or os.path.join(exp, "work")
    model = os.path.join(exp, "fashion_cnn.onnx")
    images = os.path.join(exp, "test_images.f32")
    calib = os.path.join(exp, "calib_images.f32")
    labels = np.fromfile(os.path.join(exp, "test_labels.u8"), np.uint8)

    # The f32 weight bytes prune-l1 counts (after fold-batchnorm), from a run that prunes nothing.
    base = compile_model(args.tyboxc, model, os.path.join(work, "probe"), ["--prune", "0"], harness=False)
    budget = int(0.75 * base["f32_before"])
    configs = [("none", [])] + [("ratio %.1f" % r, ["--prune", "%.1f" % r]) for r in (0.1, 0.2, 0.3, 0.4, 0.5)]
    configs += [("budget 75%", ["--prune-budget", str(budget)]),
                ("budget 75% + calib", ["--prune-budget", str(budget), "--calib", calib])]

    def run(item):
        i, (name, flags) = item
        outdir = os.path.join(work, "c%d" % i)
        fig = compile_model(args.tyboxc, model, outdir, flags)
        fig["acc"] = accuracy(outdir, images, labels)
        fig["name"] = name
        return fig

    with ThreadPoolExecutor(2) as pool:
        rows = list(pool.map(run, enumerate(configs)))

    print("fashion_cnn, Fashion-MNIST test set (10,000 images), no fine-tuning; f32 weight budget %d bytes" % budget)
    print()
    print("| pruning | params | MACs | weight bytes | arena bytes | accuracy |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| %s | %d | %d | %d | %d | %.2f%% |" % (r["name"], r["params"], r["macs"], r["weights"], r["arena"], 100 * r["acc"]))
    for r in rows:
        if r["name"].startswith("budget"):
            print("\n%s per layer:\n%s" % (r["name"], "\n".join(l for l in r["report"].splitlines() if l.startswith("prune-l1:"))))

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    uni = [r for r in rows if not r["name"].startswith("budget")]
    ax.plot([r["weights"] / 1024 for r in uni], [100 * r["acc"] for r in uni], "o-", label="--prune RATIO (0 .. 0.5)")
    for r in uni[1:]:
        ax.annotate(r["name"].split()[1], (r["weights"] / 1024, 100 * r["acc"]), textcoords="offset points", xytext=(4, 4), fontsize=8)
    for r, mk in zip([r for r in rows if r["name"].startswith("budget")], ("s", "^")):
        ax.plot([r["weights"] / 1024], [100 * r["acc"]], mk, markersize=9, label="--prune-budget 75%" + (" --calib" if "calib" in r["name"] else ""))
    ax.axhline(100 * rows[0]["acc"] - 2, color="grey", ls=":", label="unpruned - 2 points")
    ax.set_xlabel("weights (KiB)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("fashion_cnn pruned by tyboxc prune-l1 (no fine-tuning)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.plot, dpi=120)
    print("\nsaved", args.plot)

    print("\n| model | pruning | params | MACs | weight bytes | arena bytes |")
    print("|---|---|---:|---:|---:|---:|")
    for name in ("mobilenet_v2", "resnet18"):
        path = os.path.join(args.models, name + ".onnx")
        if not os.path.exists(path):
            print("| %s | (missing: run test/models/make_models.py) | | | | |" % name)
            continue
        probe = compile_model(args.tyboxc, path, os.path.join(work, name + "-probe"), ["--prune", "0"], harness=False)
        b = int(0.75 * probe["f32_before"])
        for label, flags in (("none", []), ("ratio 0.3", ["--prune", "0.3"]), ("budget 75%", ["--prune-budget", str(b)])):
            for cm in ([], ["--channel-multiple", "1"]):
                if not flags and cm:
                    continue
                f = compile_model(args.tyboxc, path, os.path.join(work, name), flags + cm, harness=False)
                lab = label + (", --channel-multiple 1" if cm else "")
                print("| %s | %s | %d | %d | %d | %d |" % (name, lab, f["params"], f["macs"], f["weights"], f["arena"]))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
