#!/usr/bin/python3
"""Run the Fashion-MNIST CNN on bare-metal Cortex-M under qemu and compare
its output with the host build of the same generated code.

usage: /usr/bin/python3 run_cortexm.py --tyboxc BUILD/bin/tyboxc --work DIR

Exports fashion_cnn with test/models/make_models.py into WORK/models, compiles
it with tyboxc --harness, runs the host model_run on its first input sample,
then for each configuration of tools/cortexm/Makefile (m4-hard, m4-soft,
m0plus) builds the bare-metal harness with that sample built in and runs it
twice under qemu-system-arm -M mps2-an386: once as is (the embedded input),
once reading IN.bin and writing OUT.bin through semihosting. The m0plus
build is ARMv6-M code (checked: the linked image's Tag_CPU_arch is v6S-M, so
no library object of a newer architecture got in); it runs on the board's
Cortex-M4, which executes that instruction set too (qemu's only ARMv6-M
board, the micro:bit, has 16 KB of RAM: too little for this model).

A configuration passes when its image has the right architecture, every run
exits 0 and prints every output element with max|qemu - host| <= 1e-5 *
max(1, max|host|) and decimals that agree with its hex bits, and OUT.bin
holds what it printed. A second, tiny model with int8 and float inputs and
int8, int32 and float outputs (made here with onnx.helper) runs on m0plus and
must write exactly the host's bytes and print each element's value: the
harness takes any model's types from its header. The instructions qemu
counted (-icount) and the stack used are printed, not checked.

Exit status 0 if all passed, 1 if any failed, 77 (ctest's skip) without
arm-none-eabi-gcc or qemu-system-arm, 2 on a setup problem.
"""
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "cortexm"))
from harness import StepFailure, compile_and_build, die, run_step  # noqa: E402
import target  # noqa: E402
import cortexm_test  # noqa: E402

MODEL = "fashion_cnn"
TOL = 1e-5
TIMEOUT_RUN = 120


def host_output(tyboxc, models, work):
    """(model dir, first input sample path, host outputs of that sample)."""
    model_dir = os.path.join(work, "model")
    shutil.rmtree(model_dir, ignore_errors=True)
    model_run = compile_and_build(tyboxc, os.path.join(models, MODEL + ".onnx"), model_dir,
                                  ["CFLAGS=-O2"], (120, 300))
    sample = os.path.join(work, "sample.f32")
    first = np.fromfile(os.path.join(models, MODEL + ".in.f32"), dtype="<f4")[:28 * 28]
    first.tofile(sample)
    out = os.path.join(work, "host.f32")
    run_step("model_run", [model_run, sample, out], 60)
    return model_dir, sample, np.fromfile(out, dtype="<f4")


def check_run(what, run, host):
    """Raise StepFailure unless run's out0 matches host; returns its values."""
    elements = run.outputs.get(0, [])
    if len(run.outputs) != 1 or len(elements) != host.size:
        raise StepFailure("%s: printed %d outputs, %d elements of out0; expected 1 output of %d"
                          % (what, len(run.outputs), len(elements), host.size))
    bits = np.array([b if b is not None else 0 for _, b in elements], dtype="<u4")
    if any(b is None for _, b in elements):
        raise StepFailure("%s: an element without its hex bits" % what)
    values = bits.view("<f4")
    if not np.all(np.isfinite(values)):
        raise StepFailure("%s: a NaN or infinity in the output" % what)
    err = float(np.abs(values.astype(np.float64) - host).max())
    tol = TOL * max(1.0, float(np.abs(host).max()))
    if err > tol:
        raise StepFailure("%s: max|qemu - host| = %.3g > %.3g" % (what, err, tol))
    for (text, _), v in zip(elements, values):
        # 7 significant digits: the printed decimal is within a few units of the last
        if abs(float(text) - float(v)) > 5e-6 * abs(float(v)) + 1e-37:
            raise StepFailure("%s: printed %s for %r" % (what, text, float(v)))
    return values, err


def check_config(config, model_dir, sample, host, work):
    build_dir = os.path.join(work, config)
    shutil.rmtree(build_dir, ignore_errors=True)
    try:
        elf, _ = target.build(model_dir, config, build_dir, sample)
        arch = target.cpu_arch(elf)
        if arch != target.ARCH[config]:
            raise StepFailure("%s: the image is built for %s, not %s" % (config, arch, target.ARCH[config]))
        embedded = target.run(elf, (), TIMEOUT_RUN)
        _, err = check_run(config + " (embedded input)", embedded, host)
        out_path = os.path.join(build_dir, "out.f32")
        from_file = target.run(elf, (sample, out_path), TIMEOUT_RUN)
        values, _ = check_run(config + " (IN.bin)", from_file, host)
    except target.TargetError as e:
        raise StepFailure(str(e))
    written = np.fromfile(out_path, dtype="<f4") if os.path.exists(out_path) else np.zeros(0, "<f4")
    if written.tobytes() != values.tobytes():
        raise StepFailure("%s: OUT.bin (%d bytes) differs from the printed output" % (config, written.nbytes))
    if embedded.figures["ticks"] != from_file.figures["ticks"]:
        print("%s: note: the two runs counted %d and %d ticks" % (config, embedded.figures["ticks"],
                                                                  from_file.figures["ticks"]))
    print("%s: PASS max_abs_err %.3g, instructions %d (qemu -icount), stack %d bytes"
          % (config, err, embedded.instructions, embedded.figures["stack_bytes"]), flush=True)


def mixed_io_model(path):
    """Two inputs (int8, float) and three outputs (int8, int32, float): the
    harness glue must get every element type, size and order right."""
    nodes = [helper.make_node("Add", ["x", "x"], ["x2"]),
             helper.make_node("Add", ["x2", "x"], ["x3"]),
             helper.make_node("Cast", ["x2"], ["xi"], to=TensorProto.INT32),
             helper.make_node("Relu", ["y"], ["yr"])]
    graph = helper.make_graph(
        nodes, "mixed_io",
        [helper.make_tensor_value_info("x", TensorProto.INT8, [5]),
         helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("x3", TensorProto.INT8, [5]),
         helper.make_tensor_value_info("xi", TensorProto.INT32, [5]),
         helper.make_tensor_value_info("yr", TensorProto.FLOAT, [3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, path)
    # int8 sums wrap (100 + 100 + 100 = 44); 3e-8 checks small floats print
    return (np.array([-100, -3, 0, 7, 100], dtype=np.int8).tobytes() +
            np.array([-1.5, 0.25, 3e-8], dtype="<f4").tobytes())


def check_mixed_io(tyboxc, work, config="m0plus"):
    """The mixed-type model on one configuration: OUT.bin equals the host's
    bytes and every printed element its value."""
    root = os.path.join(work, "mixed_io")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    onnx_path, in_path = os.path.join(root, "mixed_io.onnx"), os.path.join(root, "in.bin")
    with open(in_path, "wb") as f:
        f.write(mixed_io_model(onnx_path))
    model_dir = os.path.join(root, "model")
    model_run = compile_and_build(tyboxc, onnx_path, model_dir, ["CFLAGS=-O0"], (60, 300))
    host_path, out_path = os.path.join(root, "host.bin"), os.path.join(root, "out.bin")
    run_step("model_run", [model_run, in_path, host_path], 60)
    with open(host_path, "rb") as f:
        host = f.read()
    try:
        elf, _ = target.build(model_dir, config, os.path.join(root, config))
        run = target.run(elf, (in_path, out_path), TIMEOUT_RUN)
    except target.TargetError as e:
        raise StepFailure(str(e))
    with open(out_path, "rb") as f:
        if f.read() != host:
            raise StepFailure("mixed_io (%s): OUT.bin differs from the host's output" % config)
    expected = [np.frombuffer(host[0:5], np.int8), np.frombuffer(host[5:25], "<i4"),
                np.frombuffer(host[25:37], "<f4")]
    for k, values in enumerate(expected):
        printed = run.outputs.get(k, [])
        if len(printed) != values.size:
            raise StepFailure("mixed_io (%s): printed %d elements of out%d, expected %d"
                              % (config, len(printed), k, values.size))
        for (text, bits), v in zip(printed, values):
            ok = (bits == int(np.array(v, "<f4").view("<u4")) and abs(float(text) - float(v)) <= 5e-6 * abs(float(v))
                  if values.dtype.kind == "f" else bits is None and int(text) == int(v))
            if not ok:
                raise StepFailure("mixed_io (%s): out%d printed %s%s for %r"
                                  % (config, k, text, "" if bits is None else " (0x%08x)" % bits, v))
    print("mixed_io (%s): PASS int8, int32 and float inputs and outputs" % config, flush=True)


def main():
    ready = cortexm_test.setup(__doc__.split("\n")[0])
    if not ready:
        return cortexm_test.SKIP
    args, work = ready
    models = os.path.join(work, "models")
    try:
        run_step("make_models.py", [sys.executable, os.path.join(HERE, "..", "models", "make_models.py"),
                                    models, "--only", MODEL], 300)
        model_dir, sample, host = host_output(args.tyboxc, models, work)
    except StepFailure as e:
        die(str(e))
    checks = [(config, lambda c=config: check_config(c, model_dir, sample, host, work))
              for config in target.CONFIGS]
    checks.append(("mixed_io", lambda: check_mixed_io(args.tyboxc, work)))
    failed = 0
    for name, check in checks:
        try:
            check()
        except StepFailure as e:
            print("%s: FAIL %s" % (name, e), flush=True)
            failed += 1
    print("%d passed, %d failed" % (len(checks) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
