#!/usr/bin/python3
"""Write the tyboxc example model: examples/tiny_cnn.onnx and its sample data.

usage: /usr/bin/python3 examples/make_example.py [--outdir DIR]

tiny_cnn is a small CNN for 1x1x28x28 images (Fashion-MNIST sized) with random
weights (torch.manual_seed(0)), exported by torch.onnx.export at opset 13:

    Conv - BatchNormalization - Relu - MaxPool - Conv - Relu
    - GlobalAveragePool - Flatten - Gemm - Softmax

It is exported in TrainingMode.PRESERVE (the module is in eval mode) so that
torch does not fuse the BatchNorm into the first Conv, and the BatchNorm gets
random statistics so that it is not a near-identity. Besides the model this
writes tiny_cnn.in.f32 (one N(0,1) sample, raw float32) and tiny_cnn.ref.f32
(torch's output for it, 10 raw float32 probabilities). The three files are
committed; rerunning the script reproduces them byte for byte.

Try it:  tyboxc examples/tiny_cnn.onnx -o /tmp/tiny --harness
         make -C /tmp/tiny && /tmp/tiny/model_run examples/tiny_cnn.in.f32 out.f32
"""
import argparse
import os
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn

SEED = 0
SHAPE = (1, 1, 28, 28)
MAX_BYTES = 50 * 1024


class TinyCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, kernel_size=3, padding=1),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.MaxPool2d(2),                       # 28x28 -> 14x14
            nn.Conv2d(4, 8, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1))               # GlobalAveragePool
        self.classifier = nn.Linear(8, 10)         # Gemm

    def forward(self, x):
        x = torch.flatten(self.features(x), 1)    # Flatten
        return torch.softmax(self.classifier(x), dim=1)


def build_model():
    torch.manual_seed(SEED)
    model = TinyCNN().eval()
    bn = model.features[1]
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.normal_(0.0, 0.1)
        bn.running_mean.normal_(0.0, 0.1)
        bn.running_var.uniform_(0.5, 1.5)
    return model


def export(model, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        torch.onnx.export(model, torch.zeros(SHAPE), path, opset_version=13,
                          input_names=["input"], output_names=["probs"],
                          training=torch.onnx.TrainingMode.PRESERVE)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    size = os.path.getsize(path)
    if size > MAX_BYTES:
        raise SystemExit("error: %s is %d bytes, over the %d limit"
                         % (path, size, MAX_BYTES))
    return size


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(
        description="Write tiny_cnn.onnx, tiny_cnn.in.f32 and tiny_cnn.ref.f32.")
    parser.add_argument("--outdir", default=here,
                        help="output folder (default: %(default)s)")
    args = parser.parse_args()

    os.makedirs(args.outdir, exist_ok=True)
    base = os.path.join(args.outdir, "tiny_cnn")
    model = build_model()
    size = export(model, base + ".onnx")
    sample = np.random.default_rng(SEED + 1).standard_normal(SHAPE).astype("<f4")
    with torch.no_grad():
        probs = model(torch.from_numpy(sample)).numpy().astype("<f4")
    sample.tofile(base + ".in.f32")
    probs.tofile(base + ".ref.f32")
    ops = [n.op_type for n in onnx.load(base + ".onnx").graph.node]
    print("wrote %s.onnx (%d bytes): %s" % (base, size, " ".join(ops)))
    print("wrote %s.in.f32 and %s.ref.f32 (output %s)"
          % (base, base, np.array2string(probs.ravel(), precision=4)))


if __name__ == "__main__":
    main()
