#!/usr/bin/python3
"""Train fashion_cnn (test/models/make_models.py) on Fashion-MNIST for the prune-l1 experiment.

usage: /usr/bin/python3 scripts/train_fashion_cnn.py OUTDIR [--epochs N]

Reads Debian's Fashion-MNIST idx files (/usr/share/datasets/fashion-mnist/),
trains on 2 CPU threads with a fixed seed, and writes into OUTDIR:
    fashion_cnn.onnx      eval mode, opset 13, TrainingMode.PRESERVE and
                          do_constant_folding=False as make_models.py exports it
                          (keeps the real BatchNormalization and the ZeroPad2d subgraph)
    test_images.f32       the 10,000 test images, normalised, raw float32 back to back
    test_labels.u8        their labels, uint8
    calib_images.f32      500 training images (the first of a fixed permutation)
and prints torch's test accuracy.
"""
import argparse
import gzip
import os
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "models"))
from make_models import FashionCNN  # noqa: E402  (the architecture, shared)

DATA = "/usr/share/datasets/fashion-mnist"
SEED = 0
MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST training-set pixel statistics


def read_idx(name):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def normalise(images):
    return ((images.astype(np.float32) / 255.0 - MEAN) / STD)[:, None, :, :]


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(torch.from_numpy(x[i:i + 1000])).argmax(1) for i in range(0, len(x), 1000)])
    return float((pred.numpy() == y).mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--epochs", type=int, default=3)
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    torch.set_num_threads(2)
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)

    xtr, ytr = normalise(read_idx("train-images-idx3-ubyte.gz")), read_idx("train-labels-idx1-ubyte.gz").astype(np.int64)
    xte, yte = normalise(read_idx("t10k-images-idx3-ubyte.gz")), read_idx("t10k-labels-idx1-ubyte.gz")

    model = FashionCNN()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()
    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = rng.permutation(len(xtr))
        for i in range(0, len(perm), 128):
            idx = perm[i:i + 128]
            opt.zero_grad()
            loss = loss_fn(model(torch.from_numpy(xtr[idx])), torch.from_numpy(ytr[idx]))
            loss.backward()
            opt.step()
        print("epoch %d: loss %.4f, test accuracy %.4f (%.0f s)" % (epoch + 1, loss.item(), accuracy(model, xte, yte), time.time() - start))

    model.eval()
    acc = accuracy(model, xte, yte)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        torch.onnx.export(model, torch.zeros(1, 1, 28, 28), os.path.join(args.outdir, "fashion_cnn.onnx"),
                          opset_version=13, input_names=["input"], output_names=["output"],
                          do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE)
    xte.astype("<f4").tofile(os.path.join(args.outdir, "test_images.f32"))
    yte.astype(np.uint8).tofile(os.path.join(args.outdir, "test_labels.u8"))
    calib = xtr[np.random.default_rng(SEED + 1).permutation(len(xtr))[:500]]
    calib.astype("<f4").tofile(os.path.join(args.outdir, "calib_images.f32"))
    print("torch test accuracy: %.4f" % acc)


if __name__ == "__main__":
    main()
