#!/usr/bin/python3
"""One inference and one training step of the Fashion-MNIST CNN's trainable
tail on bare-metal Cortex-M under qemu, float and int8, compared with the host
build of the same calls.

usage: /usr/bin/python3 run_cortexm_tail.py --tyboxc BUILD/bin/tyboxc --work DIR

Compiles fashion_cnn (test/models/make_models.py) with tyboxc --train-tail
--memory-budget 96K, float and --quantize int8 --calib (tools/cortexm/
tail_model.py: N(0,1) calibration samples, nothing downloaded). For each, the
glue gen_io.py writes (model_io.c: run phi_f on x0, predict x0, push SAMPLES
labelled samples, train one epoch, predict x0 again, save the tail) is built
twice: for the host with cc (tools/cortexm/host_main.c) and for the Cortex-M
configurations BUILDS (tools/cortexm/Makefile, -Werror), whose harness runs
under qemu-system-arm -M mps2-an386, reading the samples from IN.bin and
writing OUT.bin through semihosting (the m0plus image is checked to be
ARMv6-M and runs on the board's Cortex-M4, as in run_cortexm.py).

A build passes when its image has the right architecture, qemu exits 0, the
printed decimals agree with their bits, OUT.bin holds what was printed, and
against the host: the feature vector is bit-identical when int8 (the int8
feature extractor is integer arithmetic) and within TOL * max(1, max|host|)
when float; the probabilities before and after the step and the tail's
weights after it are within TOL * max(1, max|host|) (libm's expf differs by
an ulp between newlib and glibc); the predicted classes are the host's unless
the two most probable are within that tolerance. The step must also change
the probabilities by more than the tolerance, or the comparison after it
would prove nothing. The instructions qemu counted (-icount) per phase and the
stack (measured, and the static bound of gcc's call graph) are printed, not
checked.

Exit status 0 if all passed, 1 if any failed, 77 (ctest's skip) without
arm-none-eabi-gcc or qemu-system-arm, 2 on a setup problem.
"""
import os
import shutil
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "cortexm"))
from harness import StepFailure, die, run_step  # noqa: E402
import tail_model  # noqa: E402
import target  # noqa: E402
import cortexm_test  # noqa: E402

# the float build on the FPU, and the int8 one with and without it, ARMv6-M
# included (scripts/cortexm_size.py builds m4-soft float and int8 too)
BUILDS = (("float", "m4-hard"), ("int8", "m4-hard"), ("int8", "m0plus"))
SAMPLES = 3
TOL = 1e-5
TIMEOUT_RUN = 120
# the outputs of the glue, in order: name, numpy type
OUTPUTS = ("feature", "probs_before", "class_before", "probs_after", "class_after", "tail_weights")


def split_outputs(data, kind, num_classes):
    """The host's OUT.bin bytes as {name: array}."""
    feature_type = np.int8 if kind == "int8" else np.dtype("<f4")
    feature_bytes = 64 * np.dtype(feature_type).itemsize
    out, at = {}, 0
    for name, dtype, count in (("feature", feature_type, 64), ("probs_before", "<f4", num_classes),
                               ("class_before", "<i4", 1), ("probs_after", "<f4", num_classes),
                               ("class_after", "<i4", 1), ("tail_weights", "<f4", None)):
        size = np.dtype(dtype).itemsize
        n = count if count is not None else (len(data) - at) // size
        out[name] = np.frombuffer(data[at:at + n * size], dtype=dtype)
        at += n * size
    if at != len(data) or out["feature"].nbytes != feature_bytes:
        raise StepFailure("host output of %d bytes does not split into the glue's outputs" % len(data))
    return out


def printed(run, k, host):
    """Output k as printed by the harness, as an array of host's type; the
    decimals must agree with the bits (floats) or be the value (integers)."""
    elements = run.outputs.get(k, [])
    if len(elements) != host.size:
        raise StepFailure("out%d (%s): printed %d elements, the host has %d" % (k, OUTPUTS[k], len(elements), host.size))
    if host.dtype.kind == "f":
        if any(bits is None for _, bits in elements):
            raise StepFailure("out%d (%s): an element without its bits" % (k, OUTPUTS[k]))
        values = np.array([bits for _, bits in elements], dtype="<u4").view("<f4")
        for (text, _), v in zip(elements, values):
            if abs(float(text) - float(v)) > 5e-6 * abs(float(v)) + 1e-37:
                raise StepFailure("out%d (%s): printed %s for %r" % (k, OUTPUTS[k], text, float(v)))
        return values
    return np.array([int(text) for text, _ in elements], dtype=host.dtype)


def compare_float(name, got, want):
    if not np.all(np.isfinite(got)):
        raise StepFailure("%s: a NaN or infinity" % name)
    err = float(np.abs(got.astype(np.float64) - want).max())
    tol = TOL * max(1.0, float(np.abs(want).max()))
    if err > tol:
        raise StepFailure("%s: max|qemu - host| = %.3g > %.3g" % (name, err, tol))
    return err


def compare_class(name, got, want, probs):
    top = np.sort(probs)[::-1]
    if got[0] != want[0] and top[0] - top[1] > TOL:
        raise StepFailure("%s: qemu predicts %d, the host %d" % (name, got[0], want[0]))


def check_build(kind, config, model_dir, stream, host, work):
    build_dir = os.path.join(work, kind + "-" + config)
    shutil.rmtree(build_dir, ignore_errors=True)
    out_path = os.path.join(build_dir, "out.bin")
    try:
        elf, _ = target.build(model_dir, config, build_dir, stream, samples=SAMPLES)
        arch = target.cpu_arch(elf)
        if arch != target.ARCH[config]:
            raise StepFailure("the image is built for %s, not %s" % (arch, target.ARCH[config]))
        run = target.run(elf, (stream, out_path), TIMEOUT_RUN)
        static_stack, _, notes = target.stack_depth(build_dir, target.api(model_dir))
    except target.TargetError as e:
        raise StepFailure(str(e))
    if len(run.outputs) != len(OUTPUTS):
        raise StepFailure("printed %d outputs, expected %d" % (len(run.outputs), len(OUTPUTS)))
    got = {name: printed(run, k, host[name]) for k, name in enumerate(OUTPUTS)}
    with open(out_path, "rb") as f:
        if f.read() != b"".join(got[name].tobytes() for name in OUTPUTS):
            raise StepFailure("OUT.bin differs from the printed outputs")
    errors = {}
    if kind == "int8":
        diff = np.flatnonzero(got["feature"] != host["feature"])
        if diff.size:
            raise StepFailure("int8 feature[%d] = %d, the host's %d (%d differ)" % (
                diff[0], got["feature"][diff[0]], host["feature"][diff[0]], diff.size))
        errors["feature"] = 0.0
    else:
        errors["feature"] = compare_float("feature", got["feature"], host["feature"])
    for name in ("probs_before", "probs_after", "tail_weights"):
        errors[name] = compare_float(name, got[name], host[name])
    compare_class("class_before", got["class_before"], host["class_before"], host["probs_before"])
    compare_class("class_after", got["class_after"], host["class_after"], host["probs_after"])
    phases = ", ".join("%s %d" % (name, target.ticks_to_instructions(t)) for name, t in run.phases.items())
    print("%s %s: PASS max_abs_err %s; instructions (qemu -icount) %s; stack %d bytes (static bound %d%s)"
          % (kind, config, ", ".join("%s %.3g" % e for e in errors.items()), phases,
             run.figures["stack_bytes"], static_stack, ", " + ", ".join(notes) if notes else ""), flush=True)


def host_outputs(tyboxc, onnx, calib, stream, kind, work):
    """Compile the model (kind) and run the host build of the glue on the
    samples; returns (model dir, {output: array})."""
    model_dir = os.path.join(work, "model-" + kind)
    shutil.rmtree(model_dir, ignore_errors=True)
    try:
        tail_model.compile_model(tyboxc, onnx, model_dir, kind, calib)
        program = target.build_host(model_dir, os.path.join(work, kind + "-host"), stream, samples=SAMPLES)
    except (tail_model.ModelError, target.TargetError) as e:
        raise StepFailure(str(e))
    out = os.path.join(work, kind + "-host.bin")
    run_step("%s host" % kind, [program, stream, out], 60)
    with open(out, "rb") as f:
        host = split_outputs(f.read(), kind, 10)
    for name in ("probs_before", "probs_after", "tail_weights"):
        if not np.all(np.isfinite(host[name])):
            raise StepFailure("%s host: a NaN or infinity in %s" % (kind, name))
    moved = float(np.abs(host["probs_after"] - host["probs_before"]).max())
    if moved <= 10 * TOL:
        raise StepFailure("%s host: the training step moved the probabilities by only %.3g" % (kind, moved))
    return model_dir, host


def main():
    ready = cortexm_test.setup(__doc__.split("\n")[0])
    if not ready:
        return cortexm_test.SKIP
    args, work = ready
    stream, calib = os.path.join(work, "stream.bin"), os.path.join(work, "calib.f32")
    try:
        onnx, first = tail_model.make_onnx(work)
        tail_model.write_stream(stream, first, SAMPLES)
        tail_model.write_calib(calib)
    except tail_model.ModelError as e:
        die(str(e))
    failed = 0
    for kind in tail_model.KINDS:
        try:
            model_dir, host = host_outputs(args.tyboxc, onnx, calib, stream, kind, work)
        except StepFailure as e:
            print("%s host: FAIL %s" % (kind, e), flush=True)
            failed += sum(1 for k, _ in BUILDS if k == kind)
            continue
        for k, config in BUILDS:
            if k != kind:
                continue
            try:
                check_build(kind, config, model_dir, stream, host, work)
            except StepFailure as e:
                print("%s %s: FAIL %s" % (kind, config, e), flush=True)
                failed += 1
    print("%d passed, %d failed" % (len(BUILDS) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
