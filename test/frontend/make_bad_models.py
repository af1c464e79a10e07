#!/usr/bin/python3
"""Write small valid and hostile ONNX models for the tyboxc ONNX frontend tests.

usage: /usr/bin/python3 make_bad_models.py OUTDIR

Valid models start with ok_, bad ones with bad_. Each bad model breaks exactly
one rule of the loader (frontend/onnx_load.c) or, from bad_cast_float16 on, of
shape inference (ir/shape.c, which tyboxc runs right after loading); the
expected diagnostic is in EXPECTED below (a substring of the message), written
to OUTDIR/EXPECTED.txt for check_bad_models.py, and matched by the lit tests.
No checker is run: several of these models are invalid on purpose.
"""
import os
import random
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = [helper.make_opsetid("", 13)]

# file name -> substring the loader's error message must contain (None: loads)
EXPECTED = {
    "ok_conv_relu.onnx": None,
    "ok_typed_data.onnx": None,
    "ok_constant_node.onnx": None,
    "ok_old_style_init_input.onnx": None,
    "ok_all_constant.onnx": None,
    "ok_optional_io.onnx": None,
    "bad_truncated.onnx": "not a valid ONNX model (protobuf parse failed)",
    "bad_random.onnx": "not a valid ONNX model (protobuf parse failed)",
    "bad_empty.onnx": "model has no graph",
    "bad_deep_nesting.onnx": "not a valid ONNX model (protobuf parse failed)",
    "bad_external_data.onnx": "tensor 'W' uses external data",
    "bad_dynamic_dim.onnx": "input 'x': dimension 0 is dynamic ('batch_size'): tyboxc needs static shapes",
    "bad_unknown_op.onnx": "node 'foo0' (Foo): unsupported op 'Foo'",
    "bad_unknown_domain.onnx": "unsupported domain 'com.example'",
    "bad_ms_unknown_op.onnx": "unsupported op 'FusedConv' in domain 'com.microsoft'",
    "bad_ms_op_default_domain.onnx": "op 'QLinearAdd' is in domain 'com.microsoft', not the default domain",
    "bad_raw_length.onnx": "tensor 'W' has 35 bytes of raw_data",
    "bad_cycle.onnx": "input 'b' is not defined before use",
    "bad_duplicate_output.onnx": "value 'y' is defined twice",
    "bad_constant_no_value.onnx": "Constant without a value",
    "bad_no_outputs.onnx": "graph has no outputs",
    "bad_float16_init.onnx": "tensor 'W' has element type FLOAT16",
    "bad_graph_attr.onnx": "attribute 'then_branch' of type GRAPH is not supported",
    "bad_negative_dim.onnx": "tensor 'W' has a negative dimension",
    "bad_numel_overflow.onnx": "tensor 'W' is too large",
    "bad_undefined_output.onnx": "graph output 'nope' is not defined",
    "bad_typed_count.onnx": "tensor 'W' has 5 elements in float_data",
    "bad_constant_length.onnx":
        "node 'const0' (Constant): tensor 'k' has 3 elements in float_data, but shape [4] needs 4",
    "bad_input_negative_dim.onnx": "input 'x': dimension 1 is negative (-3)",
    "bad_input_overflow.onnx": "input 'x' is too large (shape [1099511627776,1099511627776,"
                               "1099511627776] of f32)",
    "bad_input_no_shape.onnx": "input 'x' has no shape: tyboxc needs static shapes",
    "bad_self_loop.onnx": "node 'r0' (Relu): input 'a' is not defined before use",
    "bad_missing_input.onnx": "node 'add0' (Add): input 'ghost' is not defined before use",
    "bad_duplicate_initializer.onnx": "tensor 'W': value 'W' is defined twice",
    "bad_duplicate_input.onnx": "input 'x': value 'x' is defined twice",
    "bad_duplicate_graph_output.onnx": "graph output 'y' is listed twice",
    "bad_input_string.onnx": "input 'x' has element type STRING, which tyboxc does not support",
    "bad_input_bfloat16.onnx": "input 'x' has element type BFLOAT16, which tyboxc does not "
                               "support",
    "bad_external_no_location.onnx": "tensor 'W' uses external data (data_location EXTERNAL)",
    "bad_constant_two_values.onnx": "node 'const0' (Constant): Constant has 2 attributes",
    "bad_constant_string.onnx": "node 'const0' (Constant): Constant with value_string is not "
                                "supported",
    "bad_no_inputs_no_outputs.onnx": "graph has no outputs",
    "bad_unnamed_unknown_op.onnx": "node 'Bar_0' (Bar): unsupported op 'Bar'",
    "bad_opset_zero.onnx": "default opset version 0 is out of range",
    # from here on the loader accepts the model and shape inference refuses it
    "bad_cast_float16.onnx": "node 'cast0' (Cast): Cast to ONNX type 10 is not supported",
    "bad_node_no_output.onnx": "node 'r0' (Relu): expected 1 output, got 0",
    "bad_shape_overflow.onnx": "node 'cos0' (ConstantOfShape): tensor too large: output 0 would "
                               "be [1099511627776,1099511627776]",
    "bad_expand_overflow.onnx": "node 'exp0' (Expand): tensor too large: output 0 would be "
                                "[2147483648,2147483648,2147483648]",
    "bad_reshape_negative.onnx": "node 'rs0' (Reshape): shape[0] = -5 is negative",
    "bad_conv_pads_overflow.onnx": "node 'conv0' (Conv): pads[0] = 4611686018427387904 is too "
                                   "large",
    "bad_conv_weight_rank.onnx": "node 'conv0' (Conv): input 1 has rank 2, expected 4",
    "bad_gather_out_of_range.onnx": "node 'gather0' (Gather): index 7 is out of range for axis 0 "
                                    "of size 4",
}


def x_info(name="x", shape=(1, 1, 4, 4)):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def y_info(name="y", shape=None):
    # The loader ignores output shapes (shape inference recomputes them); the
    # ok_ models give them so that they pass onnx.checker with full_check.
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def model(nodes, inputs, outputs, inits=(), name="g", opset=OPSET, **kw):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    return helper.make_model(graph, opset_imports=opset, **kw)


def conv_weights():
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((2, 1, 3, 3)).astype(np.float32), "W")
    b = numpy_helper.from_array(np.array([0.5, -0.5], np.float32), "B")
    return w, b


def ok_conv_relu():
    w, b = conv_weights()  # numpy_helper writes raw_data
    nodes = [
        helper.make_node("Conv", ["x", "W", "B"], ["c"], name="conv0", pads=[1, 1, 1, 1],
                         kernel_shape=[3, 3], strides=[1, 1]),
        helper.make_node("Relu", ["c"], ["y"], name="relu0"),
    ]
    return model(nodes, [x_info()], [y_info(shape=(1, 2, 4, 4))], [w, b], name="conv-relu net")


def ok_typed_data():
    c = helper.make_tensor("C", TensorProto.FLOAT, [4], [1.0, 2.0, 3.0, 4.0])  # float_data
    shape = helper.make_tensor("S", TensorProto.INT64, [2], [1, 4])           # int64_data
    nodes = [
        helper.make_node("Add", ["x", "C"], ["a"]),
        helper.make_node("Reshape", ["a", "S"], ["y"]),
    ]
    return model(nodes, [x_info(shape=(4,))], [y_info(shape=(1, 4))], [c, shape])


def ok_constant_node():
    k = helper.make_tensor("k", TensorProto.FLOAT, [1], [2.0])
    nodes = [
        helper.make_node("Constant", [], ["k"], name="const0", value=k),
        helper.make_node("Constant", [], ["shape"], value_ints=[1, 16]),
        helper.make_node("Mul", ["x", "k"], ["m"], name="mul0"),
        helper.make_node("Reshape", ["m", "shape"], ["y"], name="reshape0"),
    ]
    return model(nodes, [x_info()], [y_info(shape=(1, 16))])


def ok_old_style_init_input():
    # IR version 3 style: initializers are also listed as graph inputs.
    w, b = conv_weights()
    nodes = [helper.make_node("Conv", ["x", "W", "B"], ["y"], pads=[1, 1, 1, 1])]
    inputs = [x_info(),
              helper.make_tensor_value_info("W", TensorProto.FLOAT, [2, 1, 3, 3]),
              helper.make_tensor_value_info("B", TensorProto.FLOAT, [2])]
    return model(nodes, inputs, [y_info(shape=(1, 2, 4, 4))], [w, b], ir_version=3,
                 opset=[helper.make_opsetid("", 7)])


def ok_all_constant():
    k = helper.make_tensor("k", TensorProto.FLOAT, [2, 2], [1.0, -2.0, 3.0, -4.0])
    nodes = [
        helper.make_node("Constant", [], ["k"], value=k),
        helper.make_node("Relu", ["k"], ["y"]),
    ]
    return model(nodes, [], [y_info(shape=(2, 2))])


def ok_optional_io():
    # Clip with the min input omitted (""), Dropout with the mask output omitted.
    mx = helper.make_tensor("max", TensorProto.FLOAT, [], [6.0])
    nodes = [
        helper.make_node("Clip", ["x", "", "max"], ["c"], name="clip0"),
        helper.make_node("Dropout", ["c", "", ""], ["y", ""], name="drop0"),
    ]
    return model(nodes, [x_info()], [y_info(shape=(1, 1, 4, 4))], [mx])


def bad_external_data():
    m = ok_conv_relu()
    w = m.graph.initializer[0]
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "weights.bin"), ("offset", "0"), ("length", "72")):
        e = w.external_data.add()
        e.key, e.value = k, v
    return m


def bad_dynamic_dim():
    nodes = [helper.make_node("Relu", ["x"], ["y"])]
    return model(nodes, [x_info(shape=("batch_size", 3))], [y_info()])


def bad_unknown_op():
    nodes = [helper.make_node("Foo", ["x"], ["y"], name="foo0")]
    return model(nodes, [x_info()], [y_info()])


def bad_unknown_domain():
    nodes = [helper.make_node("FusedConv", ["x"], ["y"], name="fc0", domain="com.example")]
    return model(nodes, [x_info()], [y_info()],
                 opset=OPSET + [helper.make_opsetid("com.example", 1)])


def bad_ms_unknown_op():
    # com.microsoft is imported for its quantized ops only (QGemm, QLinearAdd, ...).
    nodes = [helper.make_node("FusedConv", ["x"], ["y"], name="fc0", domain="com.microsoft")]
    return model(nodes, [x_info()], [y_info()],
                 opset=OPSET + [helper.make_opsetid("com.microsoft", 1)])


def bad_ms_op_default_domain():
    s = numpy_helper.from_array(np.array(0.1, np.float32), "s")
    z = numpy_helper.from_array(np.array(0, np.int8), "z")
    nodes = [helper.make_node("QLinearAdd", ["x", "s", "z", "x", "s", "z", "s", "z"], ["y"], name="qa0")]
    xi = helper.make_tensor_value_info("x", TensorProto.INT8, [1, 4])
    yo = helper.make_tensor_value_info("y", TensorProto.INT8, None)
    return model(nodes, [xi], [yo], [s, z])


def bad_raw_length():
    m = ok_conv_relu()
    w = m.graph.initializer[0]
    w.raw_data = w.raw_data[:-37]  # 72 bytes needed, 35 given
    return m


def bad_cycle():
    nodes = [
        helper.make_node("Relu", ["b"], ["a"], name="r0"),
        helper.make_node("Relu", ["a"], ["b"], name="r1"),
        helper.make_node("Add", ["x", "b"], ["y"], name="add0"),
    ]
    return model(nodes, [x_info()], [y_info()])


def bad_duplicate_output():
    nodes = [
        helper.make_node("Relu", ["x"], ["y"], name="r0"),
        helper.make_node("Sigmoid", ["x"], ["y"], name="s0"),
    ]
    return model(nodes, [x_info()], [y_info()])


def bad_constant_no_value():
    nodes = [
        helper.make_node("Constant", [], ["k"], name="const0"),
        helper.make_node("Add", ["x", "k"], ["y"]),
    ]
    return model(nodes, [x_info()], [y_info()])


def bad_no_outputs():
    nodes = [helper.make_node("Relu", ["x"], ["y"])]
    return model(nodes, [x_info()], [])


def bad_float16_init():
    w = numpy_helper.from_array(np.ones((2, 1, 3, 3), np.float16), "W")
    nodes = [helper.make_node("Conv", ["x", "W"], ["y"])]
    return model(nodes, [x_info()], [y_info()], [w])


def bad_graph_attr():
    sub = helper.make_graph([helper.make_node("Identity", ["x"], ["z"])], "sub", [], [y_info("z")])
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="r0", then_branch=sub)]
    return model(nodes, [x_info()], [y_info()])


def bad_negative_dim():
    m = ok_conv_relu()
    m.graph.initializer[0].dims[1] = -1
    return m


def bad_numel_overflow():
    m = ok_conv_relu()
    w = m.graph.initializer[0]
    del w.dims[:]
    w.dims.extend([1 << 40, 1 << 40, 0])  # product overflows before reaching the 0
    return m


def bad_undefined_output():
    nodes = [helper.make_node("Relu", ["x"], ["y"])]
    return model(nodes, [x_info()], [y_info("nope")])


def bad_typed_count():
    w = helper.make_tensor("W", TensorProto.FLOAT, [2, 3], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    del w.float_data[5:]
    nodes = [helper.make_node("Add", ["x", "W"], ["y"])]
    return model(nodes, [x_info(shape=(2, 3))], [y_info()], [w])


def bad_constant_length():
    k = helper.make_tensor("k", TensorProto.FLOAT, [4], [1.0, 2.0, 3.0, 4.0])
    del k.float_data[3:]
    nodes = [helper.make_node("Constant", [], ["k"], name="const0", value=k),
             helper.make_node("Add", ["x", "k"], ["y"], name="add0")]
    return model(nodes, [x_info(shape=(4,))], [y_info()])


def relu_model(inputs, outputs=None, **kw):
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="r0")]
    return model(nodes, inputs, [y_info()] if outputs is None else outputs, **kw)


def bad_input_negative_dim():
    return relu_model([x_info(shape=(1, -3))])


def bad_input_overflow():
    return relu_model([x_info(shape=(1 << 40, 1 << 40, 1 << 40))])


def bad_input_no_shape():
    return relu_model([helper.make_tensor_value_info("x", TensorProto.FLOAT, None)])


def bad_self_loop():
    nodes = [helper.make_node("Relu", ["a"], ["a"], name="r0"),
             helper.make_node("Add", ["x", "a"], ["y"], name="add0")]
    return model(nodes, [x_info()], [y_info()])


def bad_missing_input():
    nodes = [helper.make_node("Add", ["x", "ghost"], ["y"], name="add0")]
    return model(nodes, [x_info()], [y_info()])


def bad_duplicate_initializer():
    w, b = conv_weights()
    again = numpy_helper.from_array(np.zeros((2, 1, 3, 3), np.float32), "W")
    nodes = [helper.make_node("Conv", ["x", "W", "B"], ["y"], name="conv0")]
    return model(nodes, [x_info()], [y_info()], [w, b, again])


def bad_duplicate_input():
    return relu_model([x_info(), x_info()])


def bad_duplicate_graph_output():
    return relu_model([x_info()], [y_info(), y_info()])


def bad_input_string():
    return relu_model([helper.make_tensor_value_info("x", TensorProto.STRING, [2])])


def bad_input_bfloat16():
    return relu_model([helper.make_tensor_value_info("x", TensorProto.BFLOAT16, [2])])


def bad_external_no_location():
    m = ok_conv_relu()
    w = m.graph.initializer[0]
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    return m


def bad_constant_two_values():
    k = helper.make_tensor("k", TensorProto.FLOAT, [1], [2.0])
    nodes = [helper.make_node("Constant", [], ["k"], name="const0", value=k, value_float=1.0),
             helper.make_node("Add", ["x", "k"], ["y"], name="add0")]
    return model(nodes, [x_info()], [y_info()])


def bad_constant_string():
    nodes = [helper.make_node("Constant", [], ["k"], name="const0", value_string="hi"),
             helper.make_node("Add", ["x", "k"], ["y"], name="add0")]
    return model(nodes, [x_info()], [y_info()])


def bad_no_inputs_no_outputs():
    # No inputs alone is fine (the graph computes constants); no outputs is not.
    return model([helper.make_node("Constant", [], ["k"], value_float=1.0)], [], [])


def bad_unnamed_unknown_op():
    return model([helper.make_node("Bar", ["x"], ["y"])], [x_info()], [y_info()])


def bad_opset_zero():
    return relu_model([x_info()], opset=[helper.make_opsetid("", 0)])


def bad_cast_float16():
    nodes = [helper.make_node("Cast", ["x"], ["y"], name="cast0", to=TensorProto.FLOAT16)]
    return model(nodes, [x_info()], [y_info()])


def bad_node_no_output():
    nodes = [helper.make_node("Relu", ["x"], [], name="r0"),
             helper.make_node("Relu", ["x"], ["y"], name="r1")]
    return model(nodes, [x_info()], [y_info()])


def bad_shape_overflow():
    shape = numpy_helper.from_array(np.array([1 << 40, 1 << 40], np.int64), "shape")
    nodes = [helper.make_node("ConstantOfShape", ["shape"], ["c"], name="cos0"),
             helper.make_node("Add", ["x", "c"], ["y"], name="add0")]
    return model(nodes, [x_info(shape=(1,))], [y_info()], [shape])


def bad_expand_overflow():
    shape = numpy_helper.from_array(np.array([1 << 31] * 3, np.int64), "shape")
    nodes = [helper.make_node("Expand", ["x", "shape"], ["y"], name="exp0")]
    return model(nodes, [x_info(shape=(1,))], [y_info()], [shape])


def bad_reshape_negative():
    shape = numpy_helper.from_array(np.array([-5, 4], np.int64), "shape")
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["y"], name="rs0")]
    return model(nodes, [x_info(shape=(4, 4))], [y_info()], [shape])


def bad_conv_pads_overflow():
    w, b = conv_weights()
    nodes = [helper.make_node("Conv", ["x", "W", "B"], ["y"], name="conv0", pads=[1 << 62] * 4)]
    return model(nodes, [x_info()], [y_info()], [w, b])


def bad_conv_weight_rank():
    w = numpy_helper.from_array(np.ones((2, 9), np.float32), "W")
    nodes = [helper.make_node("Conv", ["x", "W"], ["y"], name="conv0")]
    return model(nodes, [x_info()], [y_info()], [w])


def bad_gather_out_of_range():
    data = numpy_helper.from_array(np.arange(4, dtype=np.float32), "d")
    index = numpy_helper.from_array(np.array([7], np.int64), "i")
    nodes = [helper.make_node("Gather", ["d", "i"], ["g"], name="gather0"),
             helper.make_node("Add", ["x", "g"], ["y"], name="add0")]
    return model(nodes, [x_info(shape=(1,))], [y_info()], [data, index])


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def deep_nesting(depth=200000):
    """A graph input whose type is sequence(sequence(...)) nested 200000 deep:
    a recursive protobuf parser without a depth limit overflows its stack.
    Built inside out from the headers alone (concatenating would be quadratic)."""
    headers, size = [], 0
    for _ in range(depth):
        for num in (1, 4):  # Sequence.elem_type, then TypeProto.sequence_type
            h = varint(num << 3 | 2) + varint(size)
            headers.append(h)
            size += len(h)
    t = b"".join(reversed(headers))
    vi = field(1, b"x") + field(2, t)   # ValueInfoProto name, type
    graph = field(11, vi)               # GraphProto.input
    return field(7, graph)              # ModelProto.graph


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_bad_models.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)

    def save(fname, m):
        with open(os.path.join(out, fname), "wb") as f:
            f.write(m if isinstance(m, bytes) else m.SerializeToString())

    gens = {name: fn for name, fn in globals().items()
            if name.startswith(("ok_", "bad_")) and callable(fn)}
    for fname in EXPECTED:
        stem = fname[:-len(".onnx")]
        if stem in gens:
            save(fname, gens[stem]())
    good = ok_conv_relu().SerializeToString()
    save("bad_truncated.onnx", good[: len(good) // 2])
    save("bad_random.onnx", random.Random(1234).randbytes(512))
    save("bad_empty.onnx", b"")
    save("bad_deep_nesting.onnx", deep_nesting())
    missing = [f for f in EXPECTED if not os.path.exists(os.path.join(out, f))]
    if missing:
        sys.exit("not generated: " + ", ".join(missing))
    with open(os.path.join(out, "EXPECTED.txt"), "w") as f:
        for fname, msg in EXPECTED.items():
            f.write("%s\t%s\n" % (fname, "OK" if msg is None else msg))


if __name__ == "__main__":
    main()
