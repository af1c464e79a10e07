#!/usr/bin/python3
"""Flash, RAM and instruction counts of a tyboxc model on Cortex-M, per configuration.

usage: /usr/bin/python3 scripts/cortexm_size.py [--tyboxc build/bin/tyboxc]
           [--onnx NET.onnx --input IN.bin] [--work DIR] [--no-run] [--doc docs/cortex-m.md]

Without --onnx the model is the Fashion-MNIST CNN of the e2e tests
(test/models/make_models.py --only fashion_cnn, random weights) with its first
input sample. The model is compiled with tyboxc, then for each configuration
of tools/cortexm/Makefile (m4-hard, m4-soft, m0plus) built with
arm-none-eabi-gcc -Os, and arm-none-eabi-size -A measures two images:
  model    PREFIX_only.elf: only what model_run() pulls in (the model, the
           kernels it calls, libgcc's soft-float and libc's memcpy/memset)
  harness  PREFIX.elf: the same with the semihosting harness and its buffers
flash = .text + .rodata + .ARM.exidx + the initial values of .data;
RAM = .data + .bss (the arena, the inputs and outputs), stack apart. Unless
--no-run, the harness runs once under qemu-system-arm -M mps2-an386 -icount
(instructions counted in model_run(); the m0plus build runs on the board's
Cortex-M4) and reports the deepest stack use. Prints a markdown table; --doc
replaces the table between the <!-- cortexm-size --> markers of that file.
"""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "cortexm"))
import target  # noqa: E402

BEGIN = "<!-- cortexm-size:begin -->"
END = "<!-- cortexm-size:end -->"
FLAGS = {
    "m4-hard": "`-mcpu=cortex-m4 -mfloat-abi=hard -mfpu=fpv4-sp-d16`",
    "m4-soft": "`-mcpu=cortex-m4 -mfloat-abi=soft`",
    "m0plus": "`-mcpu=cortex-m0plus -mfloat-abi=soft`",
}


def fail(message):
    print("cortexm_size.py: error: " + message, file=sys.stderr)
    sys.exit(1)


def check(argv, what):
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        fail("%s exited %d: %s" % (what, proc.returncode, (proc.stderr or proc.stdout).strip()[-500:]))
    return proc.stdout


def header_figure(model_dir, name):
    with open(os.path.join(model_dir, "model.h")) as f:
        m = re.search(r"^#define MODEL_%s (\d+)" % name, f.read(), re.M)
    return int(m.group(1)) if m else 0


def measure(model_dir, input_path, work, run):
    rows = []
    for config in target.CONFIGS:
        print("%s: building ..." % config, file=sys.stderr, flush=True)
        try:
            elf, only = target.build(model_dir, config, os.path.join(work, config), input_path)
            row = {"config": config, "model": target.sections(only), "harness": target.sections(elf)}
            if run:
                result = target.run(elf)
                row["instructions"] = result.instructions
                row["stack"] = result.figures["stack_bytes"]
        except target.TargetError as e:
            fail(str(e))
        rows.append(row)
    return rows


def table(rows, title, tools):
    def n(x):
        return "{:,}".format(x)
    lines = [title, "",
             "| configuration | model flash, total (.text + .rodata) | model RAM (.data + .bss) "
             "| harness image flash / RAM | stack used | instructions per inference (qemu -icount) |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        mf, mr = target.flash_and_ram(r["model"])
        hf, hr = target.flash_and_ram(r["harness"])
        lines.append("| %s %s | %s (%s + %s) | %s | %s / %s | %s | %s |" % (
            r["config"], FLAGS[r["config"]], n(mf), n(r["model"].get(".text", 0)),
            n(r["model"].get(".rodata", 0)), n(mr), n(hf), n(hr),
            n(r["stack"]) + " B" if "stack" in r else "not run",
            n(r["instructions"]) if "instructions" in r else "not run"))
    lines += ["", "Measured with %s (`-Os`) and %s." % tools]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tyboxc", default=os.path.join(ROOT, "build", "bin", "tyboxc"))
    parser.add_argument("--onnx", help="the model (default: fashion_cnn from make_models.py)")
    parser.add_argument("--input", help="one input sample for --onnx (raw inputs back to back)")
    parser.add_argument("--work", default=os.path.join(ROOT, "build", "cortexm-size"))
    parser.add_argument("--no-run", action="store_true", help="sizes only, no qemu")
    parser.add_argument("--doc", help="a markdown file whose cortexm-size table to replace")
    args = parser.parse_args()

    missing = target.missing_tools()
    if missing and (args.no_run is False or set(missing) - {target.QEMU}):
        fail("%s not found (scripts/install-deps.sh installs them)" % ", ".join(missing))
    if bool(args.onnx) != bool(args.input):
        fail("--onnx and --input go together (a model and one sample of its inputs)")
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    if args.onnx:
        onnx, sample, name = os.path.abspath(args.onnx), os.path.abspath(args.input), os.path.basename(args.onnx)
    else:
        models = os.path.join(work, "models")
        check([sys.executable, os.path.join(ROOT, "test", "models", "make_models.py"), models,
               "--only", "fashion_cnn"], "make_models.py")
        onnx, name = os.path.join(models, "fashion_cnn.onnx"), "fashion_cnn (Fashion-MNIST CNN, float)"
        sample = os.path.join(work, "sample.f32")
        with open(os.path.join(models, "fashion_cnn.in.f32"), "rb") as f, open(sample, "wb") as out:
            out.write(f.read(28 * 28 * 4))
    model_dir = os.path.join(work, "model")
    report = check([args.tyboxc, onnx, "-o", model_dir, "--report"], "tyboxc")
    macs = re.search(r"MACs: (\d+)", report)
    rows = measure(model_dir, sample, work, not args.no_run)
    tools = (check([target.GCC, "--version"], target.GCC).splitlines()[0],
             check([target.QEMU, "--version"], target.QEMU).splitlines()[0] if not args.no_run else "no qemu run")
    title = ("**%s**: weights %s bytes, arena %s bytes, %s MACs (tyboxc --report)."
             % (name, "{:,}".format(header_figure(model_dir, "WEIGHT_BYTES")),
                "{:,}".format(header_figure(model_dir, "ARENA_BYTES")),
                "{:,}".format(int(macs.group(1))) if macs else "?"))
    text = table(rows, title, tools)
    print(text)
    if args.doc:
        with open(args.doc) as f:
            doc = f.read()
        if BEGIN not in doc or END not in doc:
            fail("%s has no %s ... %s markers" % (args.doc, BEGIN, END))
        head, rest = doc.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        with open(args.doc, "w") as f:
            f.write(head + BEGIN + "\n" + text + "\n" + END + tail)
    return 0


if __name__ == "__main__":
    sys.exit(main())
