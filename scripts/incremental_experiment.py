#!/usr/bin/python3
"""On-device learning experiments of the trainable tail (docs/incremental.md).

usage: /usr/bin/python3 scripts/incremental_experiment.py WORKDIR [--tyboxc build/bin/tyboxc]
           [--budgets 72K,128K] [--reps 5] [--quantize] [--scenarios drift,incremental,transfer] [--plot FILE]

Three scenarios on Fashion-MNIST, as in TyBox (../shared/TYBOX.md), with the
FashionCNN of test/models/make_models.py:
  drift        pretrained on all 10 classes; classes 1 (trouser) and 9 (ankle
               boot) swap labels after step 100 of the stream
  incremental  pretrained on classes 0-7 (8 outputs, --max-classes 10);
               classes 8 and 9 join the stream from step 51
  transfer     pretrained on classes 0-4; retrained on classes 5-9 (labels 0-4)
Each with the four buffer policies (fifo, reservoir, class-balanced, latest =
TinyOL) at two memory budgets, 5 repetitions (5 stream orders), the default
--lr/--epochs. The CNNs are pretrained here (Adam, 1 epoch, on those of the
first 20,000 training images in their classes: the machine is small); streams
come from the last 10,000 training images, never seen in pretraining; accuracy is measured on a fixed subset of 1,000 test images
(the classes of the scenario) to keep the runtime reasonable.
--quantize compiles the feature extractor int8 (--quantize int8 --calib),
once tyboxc has it. Writes plots (PNG) and prints the markdown tables.
"""
import argparse
import os
import re
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from train_fashion_cnn import normalise, read_idx  # noqa: E402

POLICIES = ["fifo", "reservoir", "class-balanced", "latest"]
STEPS = 600
EVERY = 10
POOL = 50000  # training images before this pretrain the CNNs, the rest make the streams
SWAP = (1, 9)


def pretrain(path, classes, epochs, images, seed=0):
    """FashionCNN with len(classes) outputs, trained on those classes; ONNX at path."""
    import torch
    import torch.nn as nn
    sys.path.insert(0, os.path.join(ROOT, "test", "models"))
    from make_models import FashionCNN
    torch.set_num_threads(2)
    torch.manual_seed(seed)
    x = normalise(read_idx("train-images-idx3-ubyte.gz")[:images])
    y = read_idx("train-labels-idx1-ubyte.gz")[:images].astype(np.int64)
    keep = np.isin(y, classes)
    x, y = x[keep], np.searchsorted(classes, y[keep])
    model = FashionCNN()
    model.head[4] = nn.Linear(64, len(classes))
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        model.train()
        perm = rng.permutation(len(x))
        for i in range(0, len(perm), 128):
            idx = perm[i:i + 128]
            opt.zero_grad()
            nn.functional.cross_entropy(model(torch.from_numpy(x[idx])), torch.from_numpy(y[idx])).backward()
            opt.step()
    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, opset_version=13, input_names=["input"],
                          output_names=["output"], do_constant_folding=False,
                          training=torch.onnx.TrainingMode.PRESERVE)
    calib = x[np.random.default_rng(seed + 1).permutation(len(x))[:500]]
    calib.astype("<f4").tofile(path + ".calib.f32")


def write_records(path, labels, xs):
    rec = np.zeros(len(labels), dtype=[("y", "u1"), ("x", "<f4", (28 * 28,))])
    rec["y"], rec["x"] = labels, xs.reshape(len(labels), -1)
    rec.tofile(path)


def scenario_data(name, xs, ys, xt, yt, rep):
    """(stream labels, stream images, test labels, test images) of one repetition."""
    rng = np.random.default_rng(100 + rep)
    if name == "drift":
        idx = rng.choice(len(ys), STEPS, replace=False)
        s_y = ys[idx].copy()
        after = np.arange(STEPS) >= 100
        a, b = SWAP
        sa, sb = (s_y == a) & after, (s_y == b) & after
        s_y[sa], s_y[sb] = b, a
        t_y = yt.copy()
        t_y[yt == a], t_y[yt == b] = b, a  # the concept after the drift
        return s_y, xs[idx], t_y, xt
    if name == "incremental":
        old = np.flatnonzero(ys < 8)
        first = rng.choice(old, 50, replace=False)
        rest = rng.choice(np.setdiff1d(np.arange(len(ys)), first), STEPS - 50, replace=False)
        idx = np.concatenate([first, rest])
        return ys[idx], xs[idx], yt, xt
    # transfer: classes 5-9 as 0-4
    new = np.flatnonzero(ys >= 5)
    idx = rng.choice(new, STEPS, replace=False)
    keep = yt >= 5
    return ys[idx] - 5, xs[idx], yt[keep] - 5, xt[keep]


def compile_model(tyboxc, onnx_path, out, flags, quantize):
    cmd = [tyboxc, onnx_path, "-o", out, "--train-tail", "--harness", "--report"] + flags
    if quantize:
        cmd += ["--quantize", "int8", "--calib", onnx_path + ".calib.f32"]
    rep = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    subprocess.run(["make", "-s", "-C", out], check=True)
    mem = dict((k.strip(), int(v)) for k, v in re.findall(r"^memory: ([a-z ]+?)\s+(\d+) bytes", rep, re.M))
    cap = int(re.search(r"buffer (\d+) entries", rep).group(1))
    return rep, mem, cap


def learn(model_run, stream, test, policy):
    out = subprocess.run([model_run, "--learn", stream, "--eval", test, "--every", str(EVERY), "--policy", policy],
                         check=True, capture_output=True, text=True).stdout
    return np.array([float(l.split()[3]) for l in out.splitlines()])


def plot(results, budgets, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = list(results)
    fig, axes = plt.subplots(len(budgets), len(names), figsize=(5 * len(names), 3.6 * len(budgets)), squeeze=False)
    steps = np.arange(0, STEPS + 1, EVERY)
    for r, budget in enumerate(budgets):
        for c, name in enumerate(names):
            ax = axes[r][c]
            for pol in POLICIES:
                acc = results[name][budget][pol]
                m, s = acc.mean(0), acc.std(0)
                ax.plot(steps, m, label=pol if pol != "latest" else "latest (TinyOL)")
                ax.fill_between(steps, m - s, m + s, alpha=0.2)
            if name == "drift":
                ax.axvline(100, color="grey", ls=":")
            elif name == "incremental":
                ax.axvline(50, color="grey", ls=":")
            ax.set_title("%s, budget %s" % (name, budget))
            ax.set_xlabel("samples seen")
            ax.set_ylabel("test accuracy")
            ax.grid(alpha=0.3)
    axes[0][0].legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def report(results, memory, base, budgets, reps):
    """The markdown tables and the drift recovery figures."""
    print("\n## RAM per part (bytes)\n")
    parts = ["arena", "feature", "tail weights", "momentum", "train scratch", "buffer", "policy state", "total"]
    print("| scenario | budget | " + " | ".join(parts) + " | buffer entries |")
    print("|---|---|" + "---|" * (len(parts) + 1))
    for (name, budget), (mem, cap) in memory.items():
        print("| %s | %s | %s | %d |" % (name, budget, " | ".join(str(mem[p]) for p in parts), cap))
    print("\n## Accuracy (mean ± std over %d repetitions)\n" % reps)
    marks = [0, 50, 100, 200, 300, 600]
    for name in results:
        print("### %s\n" % name)
        print("| budget | policy | " + " | ".join("%d samples" % m for m in marks) + " |")
        print("|---|---|" + "---|" * len(marks))
        for budget in budgets:
            for pol in POLICIES:
                acc = results[name][budget][pol]
                cells = ["%.3f ± %.3f" % (acc[:, m // EVERY].mean(), acc[:, m // EVERY].std()) for m in marks]
                print("| %s | %s | %s |" % (budget, pol, " | ".join(cells)))
        print()
    if "drift" in results:
        print("drift: accuracy before the drift (original labels, step 0): %.3f" % base["drift"])
        for budget in budgets:
            for pol in POLICIES:
                acc = results["drift"][budget][pol]
                rec = acc[:, (100 + 500) // EVERY]
                reach = [int(np.argmax(a[100 // EVERY:] >= base["drift"] - 0.04)) * EVERY if (a[100 // EVERY:] >= base["drift"] - 0.04).any()
                         else -1 for a in acc]
                print("drift %s %s: at step 600 %.3f ± %.3f (pre-drift - 4 points = %.3f); samples after the drift "
                      "to get there per repetition: %s" % (budget, pol, rec.mean(), rec.std(), base["drift"] - 0.04, reach))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("workdir")
    ap.add_argument("--tyboxc", default=os.path.join(ROOT, "build", "bin", "tyboxc"))
    ap.add_argument("--budgets", default="72K,128K")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=1, help="pretraining epochs")
    ap.add_argument("--pretrain-images", type=int, default=20000, help="first N training images (of the classes)")
    ap.add_argument("--quantize", action="store_true", help="int8 feature extractor (tyboxc --quantize int8)")
    ap.add_argument("--scenarios", default="drift,incremental,transfer")
    ap.add_argument("--plot", default=None, help="default docs/incremental_SCENARIOS.png")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--report-only", action="store_true", help="print the tables of WORKDIR/results.npy")
    args = ap.parse_args()
    work = os.path.abspath(args.workdir)
    os.makedirs(work, exist_ok=True)
    budgets = args.budgets.split(",")
    if not args.plot:
        args.plot = os.path.join(ROOT, "docs", "incremental_%s.png" % args.scenarios.replace(",", "_"))
    if args.report_only:
        saved = np.load(os.path.join(work, "results.npy"), allow_pickle=True).item()
        report(saved["results"], saved["memory"], saved["base"], budgets, args.reps)
        plot(saved["results"], budgets, args.plot)
        return

    xtr = normalise(read_idx("train-images-idx3-ubyte.gz"))
    ytr = read_idx("train-labels-idx1-ubyte.gz")
    xs, ys = xtr[POOL:], ytr[POOL:]
    xt, yt = normalise(read_idx("t10k-images-idx3-ubyte.gz")[:1000]), read_idx("t10k-labels-idx1-ubyte.gz")[:1000]
    # transfer evaluates on classes 5-9 only: take them from the first 2,000 test images
    xt2, yt2 = normalise(read_idx("t10k-images-idx3-ubyte.gz")[:2000]), read_idx("t10k-labels-idx1-ubyte.gz")[:2000]

    setups = {"drift": (list(range(10)), []), "incremental": (list(range(8)), ["--max-classes", "10"]),
              "transfer": (list(range(5)), [])}
    results, memory, base = {}, {}, {}
    for name in args.scenarios.split(","):
        classes, flags = setups[name]
        onnx_path = os.path.join(work, "cnn_%s.onnx" % name)
        if not os.path.exists(onnx_path):
            print("pretraining the CNN for %s on classes %s" % (name, classes), flush=True)
            pretrain(onnx_path, classes, args.epochs, min(args.pretrain_images, POOL))
        results[name] = {}
        for budget in budgets:
            out = os.path.join(work, "%s_%s%s" % (name, budget, "_int8" if args.quantize else ""))
            rep, mem, cap = compile_model(args.tyboxc, onnx_path, out, flags + ["--memory-budget", budget], args.quantize)
            memory[(name, budget)] = (mem, cap)
            model_run = os.path.join(out, "model_run")
            jobs = []
            for r in range(args.reps):
                s_y, s_x, t_y, t_x = scenario_data(name, xs, ys, *((xt2, yt2) if name == "transfer" else (xt, yt)), r)
                stream, test = os.path.join(work, "%s_stream%d.bin" % (name, r)), os.path.join(work, "%s_test.bin" % name)
                write_records(stream, s_y, s_x)
                write_records(test, t_y, t_x)
                jobs += [(pol, r, stream, test) for pol in POLICIES]
            if name == "drift" and budget == budgets[0]:
                # accuracy before the drift: the original labels of the same test images
                orig = os.path.join(work, "drift_test_orig.bin")
                write_records(orig, yt, xt)
                base["drift"] = learn(model_run, os.path.join(work, "drift_stream0.bin"), orig, "fifo")[0]
            with ThreadPoolExecutor(args.jobs) as ex:
                accs = list(ex.map(lambda j: learn(model_run, j[2], j[3], j[0]), jobs))
            results[name][budget] = {pol: np.array([a for j, a in zip(jobs, accs) if j[0] == pol]) for pol in POLICIES}
            print("done %s at %s (buffer %d entries)" % (name, budget, cap), flush=True)
        # partial results survive a run that is cut short
        np.save(os.path.join(work, "results.npy"), {"results": results, "memory": memory, "base": base}, allow_pickle=True)
        plot(results, budgets, args.plot)

    report(results, memory, base, budgets, args.reps)
    np.save(os.path.join(work, "results.npy"), {"results": results, "memory": memory, "base": base}, allow_pickle=True)
    plot(results, budgets, args.plot)
    print("plot: %s" % args.plot)


if __name__ == "__main__":
    main()
