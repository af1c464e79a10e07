#!/usr/bin/python3
"""Export the end-to-end test models of tyboxc, with inputs and torch outputs.

usage: /usr/bin/python3 make_models.py OUTDIR [--only NAME]

For each model this writes into OUTDIR:
    NAME.onnx     torch.onnx.export, opset 13, batch 1, eval mode
    NAME.in.f32   2 samples of N(0,1) input, back to back, raw float32
    NAME.ref.f32  torch's outputs for those 2 samples, raw float32
which is what test/e2e/run_e2e.py feeds to and compares with model_run.

The models are torchvision's mobilenet_v2, resnet18, squeezenet1_0,
shufflenet_v2_x1_0 and mnasnet0_5 at 224x224, and fashion_cnn, a small
Fashion-MNIST CNN (1x1x28x28) that pads with nn.ZeroPad2d. Nothing is
downloaded: weights are random (torch.manual_seed(0) before each model; the
BatchNorm statistics are randomized too, see randomize_batchnorm), so the files
are the same on every run.

fashion_cnn is exported with do_constant_folding=False on purpose: torch then
keeps the subgraph that computes the Pad's pads (ConstantOfShape, Concat,
Reshape, Slice, Transpose, Cast, ...), which tyboxc must fold itself. The script
checks that this subgraph is really there. It is also exported in
TrainingMode.PRESERVE (the module itself is in eval mode) so that torch's eval
peephole does not fuse BatchNorm into the Conv: the model keeps a real
BatchNormalization node. Every model is checked with onnx.checker.
"""
import argparse
import collections
import os
import sys
import time
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torchvision

OPSET = 13
SEED = 0
SAMPLES = 2
PAD_SUBGRAPH_OPS = {"ConstantOfShape", "Concat", "Reshape", "Slice",
                    "Transpose", "Cast"}


class FashionCNN(nn.Module):
    """Small Fashion-MNIST classifier; ZeroPad2d gives asymmetric padding."""

    def __init__(self):
        super().__init__()
        self.block1 = nn.Sequential(
            nn.ZeroPad2d((1, 2, 1, 2)),            # 28x28 -> 31x31
            nn.Conv2d(1, 16, kernel_size=4, padding=0),   # -> 28x28
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(2))                        # -> 14x14
        self.block2 = nn.Sequential(
            nn.Conv2d(16, 32, kernel_size=3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2))                        # -> 7x7
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(32 * 7 * 7, 64),
            nn.ReLU(),
            nn.Dropout(0.25),
            nn.Linear(64, 10))

    def forward(self, x):
        return self.head(self.block2(self.block1(x)))


def torchvision_model(name):
    return lambda: getattr(torchvision.models, name)(weights=None)


# name -> (constructor, input shape, extra torch.onnx.export arguments)
MODELS = collections.OrderedDict([
    ("mobilenet_v2", (torchvision_model("mobilenet_v2"), (1, 3, 224, 224), {})),
    ("resnet18", (torchvision_model("resnet18"), (1, 3, 224, 224), {})),
    ("squeezenet1_0", (torchvision_model("squeezenet1_0"), (1, 3, 224, 224), {})),
    ("shufflenet_v2_x1_0",
     (torchvision_model("shufflenet_v2_x1_0"), (1, 3, 224, 224), {})),
    ("mnasnet0_5", (torchvision_model("mnasnet0_5"), (1, 3, 224, 224), {})),
    ("fashion_cnn", (FashionCNN, (1, 1, 28, 28),
                     {"do_constant_folding": False,
                      "training": torch.onnx.TrainingMode.PRESERVE})),
])


def randomize_batchnorm(module):
    """Give every BatchNorm random affine parameters and running statistics.

    Freshly built BatchNorms have weight 1, bias 0, mean 0 and variance 1, so
    they are nearly the identity and a wrong BatchNorm lowering or folding
    would go unnoticed. Drawn from torch's generator, so still deterministic.
    """
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.1)
                m.running_mean.normal_(0.0, 0.1)
                m.running_var.uniform_(0.5, 1.5)


def make_samples(shape, seed):
    """SAMPLES inputs of `shape`, N(0,1) float32, from a fixed seed."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(np.float32) for _ in range(SAMPLES)]


def export(module, shape, path, extra):
    """torch.onnx.export, without its constant-folding UserWarnings."""
    example = torch.zeros(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        torch.onnx.export(module, example, path, opset_version=OPSET,
                          input_names=["input"], output_names=["output"],
                          **extra)


def reference_outputs(module, samples):
    """torch's output for each sample, one batch-1 run per sample."""
    with torch.no_grad():
        return [module(torch.from_numpy(x)).numpy() for x in samples]


def write_f32(path, arrays):
    with open(path, "wb") as f:
        for array in arrays:
            f.write(np.ascontiguousarray(array, dtype="<f4").tobytes())


def op_histogram(graph):
    """'Conv x52, Relu x35, ...' in order of first appearance."""
    counts = collections.Counter(node.op_type for node in graph.node)
    order = list(dict.fromkeys(node.op_type for node in graph.node))
    return ", ".join("%s x%d" % (op, counts[op]) for op in order)


def pad_subgraph_ops(graph):
    """For each Pad node, the op_types of everything its pads input depends on."""
    producer = {out: node for node in graph.node for out in node.output}
    result = []
    for node in graph.node:
        if node.op_type != "Pad" or len(node.input) < 2:
            continue
        seen, stack, ops = set(), [node.input[1]], set()
        while stack:
            name = stack.pop()
            if name in seen or name not in producer:
                continue
            seen.add(name)
            ops.add(producer[name].op_type)
            stack.extend(producer[name].input)
        result.append((node.name, ops))
    return result


def check_pad_subgraph(graph):
    """Fail unless some Pad computes its pads with the PAD_SUBGRAPH_OPS."""
    pads = pad_subgraph_ops(graph)
    for name, ops in pads:
        print("  pad node %s: pads computed by %s" % (name, ", ".join(sorted(ops))))
    if not any(PAD_SUBGRAPH_OPS <= ops for _, ops in pads):
        sys.exit("error: fashion_cnn has no Pad whose pads come from a %s "
                 "subgraph" % "/".join(sorted(PAD_SUBGRAPH_OPS)))


def make_model(name, outdir):
    """Export one model with its samples and reference outputs."""
    build, shape, extra = MODELS[name]
    begin = time.time()
    torch.manual_seed(SEED)
    module = build().eval()
    randomize_batchnorm(module)
    base = os.path.join(outdir, name)
    start = time.time()
    export(module, shape, base + ".onnx", extra)
    seconds = time.time() - start
    model = onnx.load(base + ".onnx")
    onnx.checker.check_model(model, full_check=True)
    samples = make_samples(shape, SEED + 1)
    write_f32(base + ".in.f32", samples)
    outputs = reference_outputs(module, samples)
    write_f32(base + ".ref.f32", outputs)
    print("%s: exported in %.1f s (%.1f s with checks and reference), %d nodes, "
          "%.1f MB, max|ref| %.3g"
          % (name, seconds, time.time() - begin, len(model.graph.node),
             os.path.getsize(base + ".onnx") / 1e6,
             max(float(np.abs(o).max()) for o in outputs)))
    print("  ops: " + op_histogram(model.graph))
    if name == "fashion_cnn":
        print("  op list: " + " ".join(n.op_type for n in model.graph.node))
        check_pad_subgraph(model.graph)


def main():
    parser = argparse.ArgumentParser(
        description="Export the tyboxc end-to-end models (random weights) with "
                    "2 input samples and torch's outputs.")
    parser.add_argument("outdir", help="output folder (created if missing)")
    parser.add_argument("--only", choices=list(MODELS), metavar="NAME",
                        help="export only this model (one of: %s)"
                             % ", ".join(MODELS))
    args = parser.parse_args()

    torch.set_num_threads(min(2, os.cpu_count() or 1))
    os.makedirs(args.outdir, exist_ok=True)
    total = time.time()
    for name in ([args.only] if args.only else MODELS):
        make_model(name, args.outdir)
    print("done in %.1f s" % (time.time() - total))


if __name__ == "__main__":
    main()
