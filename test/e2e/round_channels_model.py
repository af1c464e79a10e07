#!/usr/bin/python3
"""Write a small .tir model that round-channels must widen, with random weights.

usage: /usr/bin/python3 round_channels_model.py OUT.tir

x[1,3,10,10] -> Conv 1x1 (3->5, Relu) -> depthwise 3x3 (5, Relu) -> BatchNorm
(kept: it follows a fused Relu) -> MaxPool -> Conv 1x1 (5->5) -> depthwise 3x3
-> Add with the MaxPool output (residual) -> Concat (axis 1) with a side
branch Conv 1x1 (MaxPool output, 5->3, Relu) -> Conv 1x1 (8->4) ->
GlobalAveragePool -> Concat with the side branch pooled -> Flatten -> Gemm
(7->3).

With channel-multiple 8 every 5-channel value is one group that grows to 8
(Relu, BatchNormalization, MaxPool and Add inside it), and the first Concat
grows from 8 to 11 channels with the zeros at 5..7, in the middle. With
round-all-convs and channel-multiple 16 the side branch (3) and the 4-channel
conv grow too, so both Concats get zeros at several places and the Gemm gets
zero weight columns between the real ones. The test
test/passes/round-channels.tir compiles it with and without the pass and
compares the outputs of the model_run binaries.
"""
import sys

import numpy as np


def const(name, arr):
    vals = ", ".join(repr(float(v)) for v in arr.astype(np.float32).ravel())
    dims = ",".join(str(d) for d in arr.shape)
    return "  %%%s = const f32[%s] [%s]\n" % (name, dims, vals)


def main():
    rng = np.random.default_rng(7)
    w = lambda *shape: rng.standard_normal(shape).astype(np.float32) * 0.5  # noqa: E731
    c = [
        const("we", w(5, 3, 1, 1)), const("be", w(5)),
        const("wd", w(5, 1, 3, 3)), const("bd", w(5)),
        const("gamma", w(5)), const("beta", w(5)), const("mean", w(5)),
        const("var", np.abs(w(5)) + 0.5),
        const("we2", w(5, 5, 1, 1)), const("be2", w(5)),
        const("wd2", w(5, 1, 3, 3)),
        const("ws", w(3, 5, 1, 1)), const("bs", w(3)),
        const("wp", w(4, 8, 1, 1)), const("bp", w(4)),
        const("wg", w(3, 7)), const("bg", w(3)),
    ]
    k1 = "kernel_shape = [1, 1], strides = [1, 1], dilations = [1, 1], pads = [0, 0, 0, 0]"
    k3 = "kernel_shape = [3, 3], strides = [1, 1], dilations = [1, 1], pads = [1, 1, 1, 1]"
    body = [
        "  %e = Conv(%x, %we, %be) {" + k1 + "} : f32[1,5,10,10]\n",
        "  %er = Relu(%e) : f32[1,5,10,10]\n",
        "  %d = Conv(%er, %wd, %bd) {group = 5, " + k3 + "} : f32[1,5,10,10]\n",
        "  %dr = Relu(%d) : f32[1,5,10,10]\n",
        "  %n = BatchNormalization(%dr, %gamma, %beta, %mean, %var) {epsilon = 1e-05} : f32[1,5,10,10]\n",
        "  %m = MaxPool(%n) {kernel_shape = [2, 2], strides = [2, 2], dilations = [1, 1], pads = [0, 0, 0, 0]}"
        " : f32[1,5,5,5]\n",
        "  %e2 = Conv(%m, %we2, %be2) {" + k1 + "} : f32[1,5,5,5]\n",
        "  %d2 = Conv(%e2, %wd2) {group = 5, " + k3 + "} : f32[1,5,5,5]\n",
        "  %a = Add(%d2, %m) : f32[1,5,5,5]\n",
        "  %s = Conv(%m, %ws, %bs) {" + k1 + "} : f32[1,3,5,5]\n",
        "  %sr = Relu(%s) : f32[1,3,5,5]\n",
        "  %c = Concat(%a, %sr) {axis = 1} : f32[1,8,5,5] loc(\"cat\")\n",
        "  %p = Conv(%c, %wp, %bp) {" + k1 + "} : f32[1,4,5,5]\n",
        "  %gp = GlobalAveragePool(%p) : f32[1,4,1,1]\n",
        "  %gs = GlobalAveragePool(%sr) : f32[1,3,1,1]\n",
        "  %c2 = Concat(%gp, %gs) {axis = 1} : f32[1,7,1,1] loc(\"cat2\")\n",
        "  %f = Flatten(%c2) {axis = 1} : f32[1,7]\n",
        "  %y = Gemm(%f, %wg, %bg) {transB = 1} : f32[1,3]\n",
        "  return %y\n",
    ]
    with open(sys.argv[1], "w") as f:
        f.write("graph @round_channels_model(%x: f32[1,3,10,10]) opset 13 {\n")
        f.writelines(c + body)
        f.write("}\n")


if __name__ == "__main__":
    main()
