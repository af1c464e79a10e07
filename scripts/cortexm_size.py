#!/usr/bin/python3
"""Flash, RAM, stack and instruction counts of the Fashion-MNIST CNN with its
trainable tail on Cortex-M, float and int8, per configuration.

usage: /usr/bin/python3 scripts/cortexm_size.py [--tyboxc build/bin/tyboxc]
           [--work DIR] [--samples N] [--no-run] [--doc docs/cortex-m.md]

The model is the e2e tests' fashion_cnn (test/models/make_models.py, random
weights) compiled by tyboxc --train-tail --memory-budget 96K, once float and
once --quantize int8 --calib (64 N(0,1) samples: tools/cortexm/tail_model.py).
Each build is cross-compiled for the configurations of tools/cortexm/Makefile
(float: m4-hard, m4-soft; int8: m4-hard, m4-soft, m0plus) with
arm-none-eabi-gcc -Os, and arm-none-eabi-size -A measures two images:
  model    PREFIX_only.elf: what the model's API pulls in (the feature
           extractor, the tail, the kernels they call, libgcc's soft-float and
           libc's memcpy/memset)
  harness  PREFIX.elf: the same with the semihosting harness, its buffers and
           the N samples built in
flash = .text + .rodata + .ARM.exidx + the initial values of .data;
RAM = .data + .bss (the arena, the tail, its buffer), stack apart. The static
stack bound is the deepest path of gcc's call graph (-fcallgraph-info=su) from
any function of the model's API. Unless --no-run, the harness runs once under
qemu-system-arm -M mps2-an386 -icount (one inference, N pushes, one training
step of one epoch; the m0plus build runs on the board's Cortex-M4) and reports
the instructions of each and the deepest stack use measured. Prints a markdown
table; --doc replaces the table between the <!-- cortexm-size --> markers of
that file.
"""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "cortexm"))
import tail_model  # noqa: E402
import target  # noqa: E402

BEGIN = "<!-- cortexm-size:begin -->"
END = "<!-- cortexm-size:end -->"
# (kind, configuration) in table order: the Cortex-M0+ has no FPU, so int8 only
BUILDS = (("float", "m4-hard"), ("float", "m4-soft"),
          ("int8", "m4-hard"), ("int8", "m4-soft"), ("int8", "m0plus"))
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


def measure(model_dirs, stream, samples, work, run):
    rows = []
    for kind, config in BUILDS:
        print("%s %s: building ..." % (kind, config), file=sys.stderr, flush=True)
        build_dir = os.path.join(work, kind + "-" + config)
        model_dir = model_dirs[kind]
        try:
            elf, only = target.build(model_dir, config, build_dir, stream, samples=samples)
            depth, path, notes = target.stack_depth(build_dir, target.api(model_dir))
            row = {"kind": kind, "config": config, "model": target.sections(only),
                   "harness": target.sections(elf), "static_stack": depth, "stack_path": path,
                   "stack_notes": notes}
            if run:
                result = target.run(elf, (), 600)
                row["phases"] = {name: target.ticks_to_instructions(t) for name, t in result.phases.items()}
                row["stack"] = result.figures["stack_bytes"]
        except target.TargetError as e:
            fail(str(e))
        rows.append(row)
    return rows


def table(rows, samples, tools):
    def n(x):
        return "{:,}".format(x)
    lines = ["| build | model flash, total (.text + .rodata) | model RAM (.data + .bss) "
             "| harness image flash / RAM | stack: static bound / measured "
             "| instructions: inference / push one sample / train step (%d samples) |" % samples,
             "|---|---|---|---|---|---|"]
    for r in rows:
        mf, mr = target.flash_and_ram(r["model"])
        hf, hr = target.flash_and_ram(r["harness"])
        stack = n(r["static_stack"]) + (" (%s)" % ", ".join(r["stack_notes"]) if r["stack_notes"] else "")
        stack += " / " + (n(r["stack"]) if "stack" in r else "not run")
        if "phases" in r:
            p = r["phases"]
            instructions = "%s / %s / %s" % (n(p["predict"]), n(p["push"] // samples), n(p["train"]))
        else:
            instructions = "not run"
        lines.append("| %s %s %s | %s (%s + %s) | %s | %s / %s | %s | %s |" % (
            r["kind"], r["config"], FLAGS[r["config"]], n(mf), n(r["model"].get(".text", 0)),
            n(r["model"].get(".rodata", 0)), n(mr), n(hf), n(hr), stack, instructions))
    deepest = max(rows, key=lambda r: r["static_stack"])
    lines += ["", "Deepest static stack path (%s %s): %s." % (deepest["kind"], deepest["config"],
                                                             " > ".join("`%s`" % f for f in deepest["stack_path"])),
              "", "Measured with %s (`-Os`) and %s." % tools]
    return "\n".join(lines)


def model_line(kind, model_dir, report):
    macs = re.search(r"MACs: (\d+)", report)
    split = re.search(r"^tail: split at '([^']+)' \((\w+\[[^\]]*\])", report, re.M)
    return ("- %s: weights %s bytes, arena %s bytes, `MODEL_RAM_BYTES` %s of the budget %s (tail weights %s, "
            "buffer %s entries of %s bytes), feature vector %s%s." % (
                kind, "{:,}".format(header_figure(model_dir, "WEIGHT_BYTES")),
                "{:,}".format(header_figure(model_dir, "ARENA_BYTES")),
                "{:,}".format(header_figure(model_dir, "RAM_BYTES")),
                "{:,}".format(header_figure(model_dir, "MEMORY_BUDGET")),
                "{:,}".format(header_figure(model_dir, "RAM_TAIL_WEIGHT_BYTES")),
                "{:,}".format(header_figure(model_dir, "BUFFER_CAPACITY")),
                "{:,}".format(header_figure(model_dir, "BUFFER_ENTRY_BYTES")),
                split.group(2) if split else "?",
                ", %s MACs" % "{:,}".format(int(macs.group(1))) if macs and int(macs.group(1)) else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tyboxc", default=os.path.join(ROOT, "build", "bin", "tyboxc"))
    parser.add_argument("--work", default=os.path.join(ROOT, "build", "cortexm-size"))
    parser.add_argument("--samples", type=int, default=4, help="samples pushed before the training step")
    parser.add_argument("--no-run", action="store_true", help="sizes only, no qemu")
    parser.add_argument("--doc", help="a markdown file whose cortexm-size table to replace")
    args = parser.parse_args()

    missing = target.missing_tools()
    if missing and (args.no_run is False or set(missing) - {target.QEMU}):
        fail("%s not found (scripts/install-deps.sh installs them)" % ", ".join(missing))
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    try:
        onnx, first = tail_model.make_onnx(work)
        stream, calib = os.path.join(work, "stream.bin"), os.path.join(work, "calib.f32")
        tail_model.write_stream(stream, first, args.samples)
        tail_model.write_calib(calib)
        model_dirs, reports = {}, {}
        for kind in tail_model.KINDS:
            model_dirs[kind] = os.path.join(work, "model-" + kind)
            reports[kind] = tail_model.compile_model(args.tyboxc, onnx, model_dirs[kind], kind, calib)
    except tail_model.ModelError as e:
        fail(str(e))
    rows = measure(model_dirs, stream, args.samples, work, not args.no_run)
    tools = (check([target.GCC, "--version"], target.GCC).splitlines()[0],
             check([target.QEMU, "--version"], target.QEMU).splitlines()[0] if not args.no_run else "no qemu run")
    text = "\n".join(["**fashion_cnn (Fashion-MNIST CNN) with its trainable tail**, "
                      "`tyboxc --train-tail --memory-budget %s` (`tail_model.py`):" % tail_model.BUDGET, ""] +
                     [model_line(k, model_dirs[k], reports[k]) for k in tail_model.KINDS] +
                     ["", table(rows, args.samples, tools)])
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
