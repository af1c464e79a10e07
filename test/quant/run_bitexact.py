#!/usr/bin/python3
"""Bit-exactness of tyboxc's int8 kernels against an independent reference.

usage: /usr/bin/python3 run_bitexact.py --tyboxc BIN --work DIR [--only NAME]

Builds small ONNX models in QOperator form with onnx.helper (the standard
QLinearConv / QLinearMatMul / QuantizeLinear / DequantizeLinear and the
com.microsoft QGemm / QLinearAdd / QLinearConcat / QLinearGlobalAveragePool /
QLinearAveragePool / QLinearSigmoid, and MaxPool on int8), compiles each with
`tyboxc --harness`, runs it on random data and compares every output with a
numpy implementation of the TFLite / gemmlowp arithmetic written below in
int64 numpy (frexp-derived multipliers, SaturatingRoundingDoublingHighMul,
RoundingDivideByPOT). Outputs must be EQUAL: int8 outputs element for
element, float outputs (DequantizeLinear) bit for bit.

Case `nofloat`: an int8-end-to-end model (int8 input and output, QLinear ops
only) whose generated model.c and integer kernel files must compile with
`gcc -c -mgeneral-regs-only -Werror` (x86-64: any float operation is then a
compile error); the float conversion file (quantize.c) must fail to, which
shows the check can fail.

Exit status 0 when every case passes, 1 otherwise.
"""
import argparse
import math
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from harness import StepFailure, compile_and_build, run_step  # noqa: E402

I8, U8, F32 = TensorProto.INT8, TensorProto.UINT8, TensorProto.FLOAT
NP = {I8: np.int8, U8: np.uint8, F32: np.float32}
RANGE = {I8: (-128, 127), U8: (0, 255)}
RNG = np.random.default_rng(2026)


# ------------------------------------------------------------ the reference
# gemmlowp / TFLite integer arithmetic, in int64 numpy, from the definitions.

def multiplier(real):
    """Real multiplier -> (m, shift): real = m * 2^(shift - 31), m in [2^30, 2^31)."""
    f, e = math.frexp(real)
    m = math.floor(f * (1 << 31) + 0.5)   # round half away (f > 0)
    if m == 1 << 31:
        m //= 2
        e += 1
    assert -31 <= e <= 30
    return m, e


def srdhm(a, m):
    """SaturatingRoundingDoublingHighMul(a, m) for int64 arrays a in int32 range."""
    ab = a.astype(np.int64) * np.int64(m)
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    s = ab + nudge
    q = np.where(s >= 0, s // (1 << 31), -((-s) // (1 << 31)))  # truncating division
    return np.where((a == -2**31) & (m == -2**31), 2**31 - 1, q)


def rounding_shift(x, e):
    """RoundingDivideByPOT: x / 2^e, ties away from zero."""
    if e == 0:
        return x
    mask = (1 << e) - 1
    rem = x & mask
    thr = (mask >> 1) + (x < 0)
    return (x >> e) + (rem > thr)


def requantize(acc, m, shift):
    acc = np.asarray(acc, np.int64)
    if shift > 0:
        acc = np.clip(acc * (1 << shift), -2**31, 2**31 - 1)
        return srdhm(acc, m)
    return rounding_shift(srdhm(acc, m), -shift)


def round_away(v):
    return math.floor(abs(v) + 0.5) * (1 if v >= 0 else -1)


def act_range(dt, s_y, z_y, clip_min=None, clip_max=None):
    lo, hi = RANGE[dt]
    if clip_min is not None:
        lo = max(lo, min(hi, z_y + round_away(float(np.float32(clip_min)) / s_y)))
    if clip_max is not None:
        hi = min(hi, max(lo, z_y + round_away(float(np.float32(clip_max)) / s_y)))
    return lo, hi


def out_q(acc, m_shift, z_y, lo, hi):
    return np.clip(z_y + requantize(acc, *m_shift), lo, hi)


def f(x):
    """A scale as the double of its float32 value (what the compiler reads)."""
    return float(np.float32(x))


def ref_quantize(x, s, z, dt):
    lo, hi = RANGE[dt]
    q = np.rint(x.astype(np.float32) / np.float32(s)).astype(np.float32) + np.float32(z)
    return np.clip(q, lo, hi).astype(NP[dt])


def ref_dequantize(q, s, z):
    return (q.astype(np.float32) - np.float32(z)) * np.float32(s)


def ref_qconv(x, xs, xz, w, ws, wz, ys, yz, b, pads, strides, group, dt, clip=(None, None)):
    n, c, h, wd = x.shape
    co, cig, kh, kw = w.shape
    xp = np.full((n, c, h + pads[0] + pads[2], wd + pads[1] + pads[3]), xz, np.int64)
    xp[:, :, pads[0]:pads[0] + h, pads[1]:pads[1] + wd] = x   # padding reads the zero point
    ho = (xp.shape[2] - kh) // strides[0] + 1
    wo = (xp.shape[3] - kw) // strides[1] + 1
    acc = np.zeros((n, co, ho, wo), np.int64)
    cog = co // group
    for oc in range(co):
        g = oc // cog
        for ic in range(cig):
            for i in range(kh):
                for j in range(kw):
                    patch = xp[:, g * cig + ic, i:i + strides[0] * ho:strides[0], j:j + strides[1] * wo:strides[1]]
                    acc[:, oc] += (patch - xz) * (int(w[oc, ic, i, j]) - int(wz))
    if b is not None:
        acc += b.reshape(1, -1, 1, 1)
    lo, hi = act_range(dt, f(ys), yz, *clip)
    y = np.zeros_like(acc)
    wsv = np.broadcast_to(np.asarray(ws, np.float32), (co,))
    for oc in range(co):
        y[:, oc] = out_q(acc[:, oc], multiplier(f(xs) * f(wsv[oc]) / f(ys)), yz, lo, hi)
    return y.astype(NP[dt])


def ref_qmatmul(a, as_, az, b, bs, bz, ys, yz, dt, bias=None, alpha=1.0, clip=(None, None)):
    acc = np.matmul(a.astype(np.int64) - az, b.astype(np.int64) - bz)
    if bias is not None:
        acc = acc + bias.astype(np.int64)
    n = acc.shape[-1]
    bsv = np.broadcast_to(np.asarray(bs, np.float32), (n,))
    lo, hi = act_range(dt, f(ys), yz, *clip)
    y = np.zeros_like(acc)
    for j in range(n):
        y[..., j] = out_q(acc[..., j], multiplier(float(np.float32(alpha)) * f(as_) * f(bsv[j]) / f(ys)), yz, lo, hi)
    return y.astype(NP[dt])


def ref_qadd(a, sa, za, b, sb, zb, sy, zy, dt, clip=(None, None)):
    twice = 2 * max(f(sa), f(sb))
    ma, mb, my = multiplier(f(sa) / twice), multiplier(f(sb) / twice), multiplier(twice / ((1 << 20) * f(sy)))
    ra = requantize((a.astype(np.int64) - za) * (1 << 20), *ma)
    rb = requantize((b.astype(np.int64) - zb) * (1 << 20), *mb)
    lo, hi = act_range(dt, f(sy), zy, *clip)
    return np.clip(zy + requantize(ra + rb, *my), lo, hi).astype(NP[dt])


def ref_rescale(x, sx, zx, sy, zy, dt):
    lo, hi = RANGE[dt]
    return np.clip(zy + requantize(x.astype(np.int64) - zx, *multiplier(f(sx) / f(sy))), lo, hi).astype(NP[dt])


def ref_avgpool(x, sx, zx, sy, zy, k, strides, pads, count_include_pad, dt):
    n, c, h, w = x.shape
    ho = (h + pads[0] + pads[2] - k[0]) // strides[0] + 1
    wo = (w + pads[1] + pads[3] - k[1]) // strides[1] + 1
    lo, hi = RANGE[dt]
    y = np.zeros((n, c, ho, wo), np.int64)
    for i in range(ho):
        for j in range(wo):
            h0, w0 = i * strides[0] - pads[0], j * strides[1] - pads[1]
            hs, ws_ = max(h0, 0), max(w0, 0)
            he, we = min(h0 + k[0], h), min(w0 + k[1], w)
            acc = (x[:, :, hs:he, ws_:we].astype(np.int64) - zx).sum(axis=(2, 3))
            if count_include_pad:
                cnt = (min(h0 + k[0], h + pads[2]) - h0) * (min(w0 + k[1], w + pads[3]) - w0)
            else:
                cnt = (he - hs) * (we - ws_)
            y[:, :, i, j] = np.clip(zy + requantize(acc, *multiplier(f(sx) / (cnt * f(sy)))), lo, hi)
    return y.astype(NP[dt])


def ref_maxpool(x, k, strides, pads):
    n, c, h, w = x.shape
    lo = np.iinfo(x.dtype).min
    xp = np.full((n, c, h + pads[0] + pads[2], w + pads[1] + pads[3]), lo, x.dtype)
    xp[:, :, pads[0]:pads[0] + h, pads[1]:pads[1] + w] = x
    ho = (xp.shape[2] - k[0]) // strides[0] + 1
    wo = (xp.shape[3] - k[1]) // strides[1] + 1
    y = np.full((n, c, ho, wo), lo, x.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            y = np.maximum(y, xp[:, :, i:i + strides[0] * ho:strides[0], j:j + strides[1] * wo:strides[1]])
    return y


def ref_sigmoid(x, sx, zx, sy, zy, dt):
    lo, hi = RANGE[dt]
    real = (x.astype(np.int64) - zx).astype(np.float64) * f(sx)
    return np.clip(np.rint(1.0 / (1.0 + np.exp(-real)) / f(sy)) + zy, lo, hi).astype(NP[dt])


# ------------------------------------------------------------ model building

class Model:
    """A graph under construction: initializers, nodes, inputs, outputs."""

    def __init__(self, name):
        self.name, self.inits, self.nodes, self.inputs, self.outputs = name, [], [], [], []
        self.feed, self.want = [], []

    def const(self, name, value, dtype=None):
        arr = np.asarray(value, dtype)
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def qparams(self, prefix, s, z, dt):
        return [self.const(prefix + "_s", np.float32(s)), self.const(prefix + "_z", NP[dt](z))]

    def input(self, name, data, elem):
        self.inputs.append(helper.make_tensor_value_info(name, elem, list(data.shape)))
        self.feed.append(data)
        return name

    def node(self, op, ins, out, ms=False, **attrs):
        self.nodes.append(helper.make_node(op, ins, [out], name=out + "_node",
                                           domain="com.microsoft" if ms else "", **attrs))
        return out

    def output(self, name, elem, want):
        self.outputs.append(helper.make_tensor_value_info(name, elem, list(want.shape)))
        self.want.append(want)

    def save(self, path):
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs, initializer=self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13),
                                                        helper.make_opsetid("com.microsoft", 1)])
        onnx.save(model, path)


def rand_q(shape, dt=I8):
    lo, hi = RANGE[dt]
    return RNG.integers(lo, hi + 1, size=shape).astype(NP[dt])


def sym_weights(shape):
    return RNG.integers(-127, 128, size=shape).astype(np.int8)


# ------------------------------------------------------------ the cases

def case_float_ends_conv():
    """QuantizeLinear -> QLinearConv (per channel, padding, bias) -> QLinearConv
    depthwise (per channel, padding, stride 2, fused Relu) -> DequantizeLinear."""
    m = Model("float_ends_conv")
    x = (RNG.standard_normal((1, 3, 9, 9)) * 2).astype(np.float32)
    x.flat[::7] = np.float32(0.125) * RNG.integers(-40, 40, size=x.flat[::7].shape)  # exact ties of x / s
    xs, xz = 0.0625, -5
    w1 = sym_weights((8, 3, 3, 3))
    ws1 = (RNG.uniform(0.002, 0.02, 8)).astype(np.float32)
    b1 = RNG.integers(-3000, 3000, 8).astype(np.int32)
    s1, z1 = 0.09, 7
    w2 = sym_weights((8, 1, 3, 3))
    ws2 = (RNG.uniform(0.005, 0.03, 8)).astype(np.float32)
    b2 = RNG.integers(-500, 500, 8).astype(np.int32)
    s2, z2 = 0.05, -128
    m.input("x", x, F32)
    m.node("QuantizeLinear", ["x"] + m.qparams("x", xs, xz, I8), "xq")
    m.node("QLinearConv", ["xq", "x_s", "x_z", m.const("w1", w1), m.const("w1_s", ws1),
                           m.const("w1_z", np.zeros(8, np.int8)), "c1_s", "c1_z", m.const("b1", b1)], "c1",
           pads=[1, 1, 1, 1])
    m.qparams("c1", s1, z1, I8)
    m.node("QLinearConv", ["c1", "c1_s", "c1_z", m.const("w2", w2), m.const("w2_s", ws2),
                           m.const("w2_z", np.zeros(8, np.int8)), "c2_s", "c2_z", m.const("b2", b2)], "c2",
           pads=[1, 0, 1, 2], strides=[2, 2], group=8)
    m.qparams("c2", s2, z2, I8)
    m.node("DequantizeLinear", ["c2", "c2_s", "c2_z"], "y")
    q = ref_quantize(x, xs, xz, I8)
    r1 = ref_qconv(q, xs, xz, w1, ws1, 0, s1, z1, b1, [1, 1, 1, 1], [1, 1], 1, I8)
    r2 = ref_qconv(r1, s1, z1, w2, ws2, 0, s2, z2, b2, [1, 0, 1, 2], [2, 2], 8, I8)
    m.output("y", F32, ref_dequantize(r2, s2, z2))
    return m


def case_qconv_fused_clip_1d_u8():
    """uint8 QLinearConv, 1-D, per-tensor weights with a zero point, fused Clip."""
    m = Model("qconv_u8_1d")
    x = rand_q((2, 4, 11), U8)
    w = rand_q((5, 4, 3), U8)
    m.input("x", x, U8)
    node = m.node("QLinearConv", ["x"] + m.qparams("x", 0.03, 120, U8) + [m.const("w", w)] +
                  m.qparams("w", 0.004, 131, U8) + m.qparams("y", 0.07, 100, U8), "y", pads=[2, 1], strides=[2])
    m.nodes[-1].attribute.extend([helper.make_attribute("clip_min", 0.0), helper.make_attribute("clip_max", 6.0)])
    x4, w4 = x[:, :, None, :], w[:, :, None, :]
    want = ref_qconv(x4, 0.03, 120, w4, 0.004, 131, 0.07, 100, None, [0, 2, 0, 1], [1, 2], 1, U8,
                     clip=(0.0, 6.0))[:, :, 0, :]
    m.output(node, U8, want)
    return m


def case_qgemm():
    """com.microsoft QGemm: transB with per-channel weights and an int32 bias;
    then a plain one (per tensor, no bias, alpha 0.5)."""
    m = Model("qgemm")
    a = rand_q((4, 37))
    w = sym_weights((70, 37))           # [N, K], transB
    ws = RNG.uniform(0.001, 0.01, 70).astype(np.float32)
    bias = RNG.integers(-20000, 20000, 70).astype(np.int32)
    w2 = sym_weights((70, 9))           # [K, N]
    m.input("a", a, I8)
    m.node("QGemm", ["a"] + m.qparams("a", 0.05, 3, I8) + [m.const("w", w), m.const("w_s", ws),
           m.const("w_z", np.zeros(70, np.int8)), m.const("bias", bias)] + m.qparams("h", 0.2, -10, I8), "h",
           ms=True, transB=1)
    m.node("QGemm", ["h", "h_s", "h_z", m.const("w2", w2)] + m.qparams("w2", 0.01, 0, I8) + [""] +
           m.qparams("y", 0.15, 5, I8), "y", ms=True, alpha=0.5)
    h = ref_qmatmul(a, 0.05, 3, w.T, ws, 0, 0.2, -10, I8, bias=bias)
    m.output("h", I8, h)
    m.output("y", I8, ref_qmatmul(h, 0.2, -10, w2, 0.01, 0, 0.15, 5, I8, alpha=0.5))
    return m


def case_qlinearmatmul():
    """QLinearMatMul: a batch of 2 against a constant per-column b; and a
    per-tensor product of two activations, broadcast over the batch."""
    m = Model("qlinearmatmul")
    a = rand_q((2, 3, 20))
    b = sym_weights((20, 6))
    bs = RNG.uniform(0.002, 0.02, 6).astype(np.float32)
    c = rand_q((6, 5))
    m.input("a", a, I8)
    m.input("c", c, I8)
    m.node("QLinearMatMul", ["a"] + m.qparams("a", 0.04, -7, I8) + [m.const("b", b), m.const("b_s", bs),
           m.const("b_z", np.zeros(6, np.int8))] + m.qparams("h", 0.1, 2, I8), "h")
    m.node("QLinearMatMul", ["h", "h_s", "h_z", "c"] + m.qparams("c", 0.02, 9, I8) + m.qparams("y", 0.3, -3, I8),
           "y")
    h = ref_qmatmul(a, 0.04, -7, b, bs, 0, 0.1, 2, I8)
    m.output("y", I8, ref_qmatmul(h, 0.1, 2, c, 0.02, 9, 0.3, -3, I8))
    return m


def case_qlinearadd():
    """com.microsoft QLinearAdd with broadcasting ([1,4,3,3] + [1,4,1,1] and
    [4,3,3] + [3]), different scales, one with a fused Relu."""
    m = Model("qlinearadd")
    a, b, c = rand_q((1, 4, 3, 3)), rand_q((1, 4, 1, 1)), rand_q((3,))
    m.input("a", a, I8)
    m.input("b", b, I8)
    m.input("c", c, I8)
    m.node("QLinearAdd", ["a"] + m.qparams("a", 0.05, 10, I8) + ["b"] + m.qparams("b", 0.11, -20, I8) +
           m.qparams("s", 0.08, -3, I8), "s", ms=True)
    m.node("QLinearAdd", ["s", "s_s", "s_z", "c"] + m.qparams("c", 0.5, 1, I8) + m.qparams("y", 0.3, -60, I8),
           "y", ms=True)
    m.nodes[-1].attribute.extend([helper.make_attribute("clip_min", 0.0)])
    s = ref_qadd(a, 0.05, 10, b, 0.11, -20, 0.08, -3, I8)
    m.output("s", I8, s)
    m.output("y", I8, ref_qadd(s, 0.08, -3, c, 0.5, 1, 0.3, -60, I8, clip=(0.0, None)))
    return m


def case_qlinearconcat():
    """com.microsoft QLinearConcat on axis 1: two inputs rescaled, one with the
    output's own parameters (copied)."""
    m = Model("qlinearconcat")
    xs = [rand_q((2, k, 3)) for k in (2, 1, 3)]
    params = [(0.05, 4), (0.2, -50), (0.1, 0)]
    ins = m.qparams("y", 0.1, 0, I8)
    for i, (x, (s, z)) in enumerate(zip(xs, params)):
        ins += [m.input("x%d" % i, x, I8)] + m.qparams("x%d" % i, s, z, I8)
    m.node("QLinearConcat", ins, "y", ms=True, axis=1)
    want = np.concatenate([ref_rescale(x, s, z, 0.1, 0, I8) for x, (s, z) in zip(xs, params)], axis=1)
    m.output("y", I8, want)
    return m


def case_pools_sigmoid():
    """QLinearGlobalAveragePool, QLinearAveragePool (pads, both
    count_include_pad), MaxPool on int8, QLinearSigmoid."""
    m = Model("pools_sigmoid")
    x = rand_q((1, 3, 7, 6))
    m.input("x", x, I8)
    xq = m.qparams("x", 0.04, -9, I8)
    m.node("QLinearGlobalAveragePool", ["x"] + xq + m.qparams("g", 0.02, 5, I8), "g", ms=True, channels_last=0)
    m.node("QLinearAveragePool", ["x"] + xq + m.qparams("a0", 0.03, -2, I8), "a0", ms=True,
           kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 0], count_include_pad=0)
    m.node("QLinearAveragePool", ["x"] + xq + m.qparams("a1", 0.03, -2, I8), "a1", ms=True,
           kernel_shape=[3, 2], strides=[2, 1], pads=[1, 1, 0, 1], count_include_pad=1)
    m.node("MaxPool", ["x"], "mp", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    m.node("QLinearSigmoid", ["x"] + xq + m.qparams("sg", 1.0 / 256, -128, I8), "sg", ms=True)
    m.output("g", I8, ref_avgpool(x, 0.04, -9, 0.02, 5, [7, 6], [1, 1], [0, 0, 0, 0], 0, I8))
    m.output("a0", I8, ref_avgpool(x, 0.04, -9, 0.03, -2, [3, 3], [2, 2], [1, 1, 1, 0], 0, I8))
    m.output("a1", I8, ref_avgpool(x, 0.04, -9, 0.03, -2, [3, 2], [2, 1], [1, 1, 0, 1], 1, I8))
    m.output("mp", I8, ref_maxpool(x, [3, 3], [2, 2], [1, 1, 1, 1]))
    m.output("sg", I8, ref_sigmoid(x, 0.04, -9, 1.0 / 256, -128, I8))
    return m


def case_int8_end_to_end():
    """int8 in, int8 out, QLinear ops only: conv, maxpool, add, global
    average pool, gemm. Also the model of the no-float check."""
    m = Model("int8_e2e")
    x = rand_q((1, 2, 8, 8))
    w = sym_weights((4, 2, 3, 3))
    ws = RNG.uniform(0.003, 0.02, 4).astype(np.float32)
    b = RNG.integers(-2000, 2000, 4).astype(np.int32)
    wf = sym_weights((3, 4))
    m.input("x", x, I8)
    m.node("QLinearConv", ["x"] + m.qparams("x", 0.05, 1, I8) + [m.const("w", w), m.const("w_s", ws),
           m.const("w_z", np.zeros(4, np.int8))] + m.qparams("c", 0.1, -20, I8) + [m.const("b", b)], "c",
           pads=[1, 1, 1, 1])
    m.node("MaxPool", ["c"], "p", kernel_shape=[2, 2], strides=[2, 2])
    m.node("QLinearAdd", ["p", "c_s", "c_z", "p", "c_s", "c_z"] + m.qparams("a", 0.2, -100, I8), "a", ms=True)
    m.node("QLinearGlobalAveragePool", ["a", "a_s", "a_z"] + m.qparams("g", 0.15, -90, I8), "g", ms=True)
    m.node("Flatten", ["g"], "f")
    m.node("QGemm", ["f", "g_s", "g_z", m.const("wf", wf)] + m.qparams("wf", 0.01, 0, I8) + [""] +
           m.qparams("y", 1.0, 0, I8), "y", ms=True, transB=1)
    c = ref_qconv(x, 0.05, 1, w, ws, 0, 0.1, -20, b, [1, 1, 1, 1], [1, 1], 1, I8)
    p = ref_maxpool(c, [2, 2], [2, 2], [0, 0, 0, 0])
    a = ref_qadd(p, 0.1, -20, p, 0.1, -20, 0.2, -100, I8)
    g = ref_avgpool(a, 0.2, -100, 0.15, -90, [4, 4], [1, 1], [0, 0, 0, 0], 0, I8)
    m.output("c", I8, c)
    m.output("y", I8, ref_qmatmul(g.reshape(1, 4), 0.15, -90, wf.T, 0.01, 0, 1.0, 0, I8))
    return m


CASES = [case_float_ends_conv, case_qconv_fused_clip_1d_u8, case_qgemm, case_qlinearmatmul, case_qlinearadd,
         case_qlinearconcat, case_pools_sigmoid, case_int8_end_to_end]


def run_case(make, tyboxc, work):
    m = make()
    d = os.path.join(work, m.name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    path = os.path.join(d, "model.onnx")
    m.save(path)
    out = os.path.join(d, "out")
    model_run = compile_and_build(tyboxc, path, out, ["CFLAGS=-O2 -std=c99"], (120, 300))
    with open(os.path.join(d, "in.bin"), "wb") as fh:
        for a in m.feed:
            fh.write(a.tobytes())
    run_step("model_run", [model_run, os.path.join(d, "in.bin"), os.path.join(d, "out.bin")], 120)
    raw = open(os.path.join(d, "out.bin"), "rb").read()
    at, checked = 0, 0
    for vi, want in zip(m.outputs, m.want):
        n = want.nbytes
        got = np.frombuffer(raw[at:at + n], want.dtype).reshape(want.shape)
        at += n
        same = np.array_equal(got.view(np.uint8), want.view(np.uint8))  # bit for bit, floats too
        if not same:
            bad = int(np.count_nonzero(got.view(np.uint8) != want.view(np.uint8)))
            diff = np.abs(got.astype(np.float64) - want.astype(np.float64)).max()
            raise StepFailure("output '%s': %d bytes differ (max abs difference %g)" % (vi.name, bad, diff))
        checked += want.size
    if at != len(raw):
        raise StepFailure("model_run wrote %d bytes, expected %d" % (len(raw), at))
    return checked, out


def no_float_check(out):
    """model.c and the integer kernels compile without float registers; the
    float conversions (quantize.c) do not; model.c calls no float kernel."""
    obj = os.path.join(out, "nofloat.o")
    for src in ("model.c", "tb_qconv.c", "tb_qgemm.c", "tb_qelementwise.c"):
        run_step("gcc -mgeneral-regs-only " + src,
                 ["gcc", "-std=c99", "-O2", "-c", "-mgeneral-regs-only", "-Wall", "-Werror", "-I", out,
                  os.path.join(out, src), "-o", obj], 120)
    proc = subprocess.run(["gcc", "-std=c99", "-O2", "-c", "-mgeneral-regs-only", "-I", out,
                           os.path.join(out, "tb_quantize.c"), "-o", obj], capture_output=True, text=True)
    if proc.returncode == 0:
        raise StepFailure("tb_quantize.c compiled with -mgeneral-regs-only: the check cannot detect float")
    with open(os.path.join(out, "model.c")) as fh:
        code = re.sub(r"/\*.*?\*/", "", fh.read(), flags=re.S)  # comments name the input path
    # (the arena's alignment union names double: a type, no float operation)
    found = re.findall(r"\btb_\w+_f32\b", code)
    if found:
        raise StepFailure("model.c of an int8-only model calls the float kernel %s" % found[0])
    if "tb_qconv(" not in code or "tb_qmatmul(" not in code:
        raise StepFailure("model.c of the int8 model does not call the integer kernels")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tyboxc", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--only", help="run one case: a case name (e.g. qgemm) or 'nofloat'")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    failed = 0
    cases = CASES
    if args.only == "nofloat":
        cases = [case_int8_end_to_end]
    elif args.only:
        cases = [c for c in CASES if c.__name__ == "case_" + args.only]
        if not cases:
            sys.exit("error: no case '%s'" % args.only)
    for make in cases:
        name = make.__name__[len("case_"):]
        try:
            checked, out = run_case(make, args.tyboxc, args.work)
            print("PASS %s: %d output values bit-exact" % (name, checked))
            if make is case_int8_end_to_end and args.only in (None, "nofloat"):
                no_float_check(out)
                print("PASS nofloat: model.c, tb_qconv.c, tb_qgemm.c, tb_qelementwise.c compile with -mgeneral-regs-only")
        except StepFailure as e:
            print("FAIL %s: %s" % (name, e))
            failed += 1
    print("%d passed, %d failed" % (len(cases) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
