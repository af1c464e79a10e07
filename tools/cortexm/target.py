"""Build a tyboxc model for a Cortex-M configuration and run it under qemu.

Shared by scripts/cortexm_size.py, test/cortexm/run_cortexm.py and
test/cortexm/run_cortexm_tail.py:
    build(model_dir, config, build_dir, input_path)  -> the harness ELF, and
                                                       the model-only ELF
    build_host(model_dir, build_dir, input_path)     -> the host build of the
                                                       same glue (host_main.c)
    sections(elf)                                    -> {section: bytes}
    cpu_arch(elf)                                    -> 'v7E-M', 'v6S-M', ...
    api(model_dir)                                   -> the header's functions
    stack_depth(build_dir, roots)                    -> the deepest static
                                                       stack from the call graph
    run(elf, args, timeout)                          -> a Run (outputs, ticks,
                                                       phases, instructions, stack)
The configurations and their flags are in tools/cortexm/Makefile; the
memory layout and the harness's output format in docs/cortex-m.md.
"""
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MAKEFILE = os.path.join(HERE, "Makefile")
CONFIGS = ("m4-hard", "m4-soft", "m0plus")
# the architecture each configuration's image must be built for
ARCH = {"m4-hard": "v7E-M", "m4-soft": "v7E-M", "m0plus": "v6S-M"}
GCC = "arm-none-eabi-gcc"
SIZE = "arm-none-eabi-size"
READELF = "arm-none-eabi-readelf"
QEMU = "qemu-system-arm"
MACHINE = "mps2-an386"

# With -icount shift=S every instruction advances qemu's virtual clock by 2^S
# ns, and the harness counts SysTick ticks of the board's 25 MHz core clock:
# instructions = ticks * 40 / 2^S. S = 6 (64 ns) resolves single instructions.
ICOUNT_SHIFT = 6
CORE_CLOCK_NS = 40

ELEMENT = re.compile(r"^out(\d+)\[(\d+)\] = (\S+)(?: \(0x([0-9a-f]+)\))?$")
FIGURE = re.compile(r"^(ticks|stack_bytes) (\d+)$")
PHASE = re.compile(r"^phase (\w+) (\d+)$")
# the call graph gcc writes with -fcallgraph-info=su (VCG)
CI_NODE = re.compile(r'^node: \{ title: "([^"]+)" label: "[^"]*?(?:\\n(\d+) bytes \((\w+)[^)]*\))?"')
CI_EDGE = re.compile(r'^edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')


class TargetError(Exception):
    """A build or run failed; the message is the one-line reason."""


def missing_tools():
    """The names of the cross tools that are not on PATH."""
    return [t for t in (GCC, SIZE, READELF, QEMU) if shutil.which(t) is None]


def _first_error(text):
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if "error" in line.lower():
            return line
    return lines[-1] if lines else "no output"


def _make(model_dir, config, build_dir, input_path, prefix, samples, goal, timeout):
    argv = ["make", "-s", "-j2", "-f", MAKEFILE, "MODEL=" + model_dir, "CONFIG=" + config,
            "BUILD=" + build_dir, "PREFIX=" + prefix, "SAMPLES=%d" % samples, goal]
    if input_path:
        argv.append("INPUT=" + input_path)
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TargetError("make %s (%s) timed out after %d s" % (goal, config, timeout))
    if proc.returncode != 0:
        raise TargetError("make %s (%s) exited %d: %s" % (goal, config, proc.returncode,
                                                          _first_error(proc.stderr + proc.stdout)))


def build(model_dir, config, build_dir, input_path=None, prefix="model", samples=4, timeout=600):
    """make the harness and model-only ELFs; returns (harness_elf, only_elf).
    samples: the labelled samples of a trainable tail's training step."""
    _make(model_dir, config, build_dir, input_path, prefix, samples, "all", timeout)
    return (os.path.join(build_dir, prefix + ".elf"), os.path.join(build_dir, prefix + "_only.elf"))


def build_host(model_dir, build_dir, input_path=None, prefix="model", samples=4, timeout=600):
    """make the host build of the same glue and model (the Makefile's `host`);
    returns the program, which takes IN.bin OUT.bin."""
    _make(model_dir, CONFIGS[0], build_dir, input_path, prefix, samples, "host", timeout)
    return os.path.join(build_dir, "host", prefix + "_host")


def api(model_dir, prefix="model"):
    """The functions the model's header declares (gen_io.py --api)."""
    proc = subprocess.run([sys.executable, os.path.join(HERE, "gen_io.py"),
                           os.path.join(model_dir, prefix + ".h"), "--api"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise TargetError(_first_error(proc.stderr))
    return proc.stdout.split()


def stack_depth(build_dir, roots):
    """The deepest stack, in bytes, that a call from any of roots can reach,
    by the call graph and frame sizes gcc wrote (*.ci) for the objects in
    build_dir: (bytes, [functions on that path], notes). Functions gcc did not
    compile here (libgcc, libc) count 0 bytes and indirect calls are not
    followed; notes says when the path met either, or a frame of dynamic size."""
    frames, calls = {}, {}
    for name in sorted(os.listdir(build_dir)):
        if not name.endswith(".ci"):
            continue
        with open(os.path.join(build_dir, name)) as f:
            for line in f:
                m = CI_NODE.match(line)
                if m:
                    if m.group(2):
                        frames[m.group(1)] = (int(m.group(2)), m.group(3))
                    continue
                m = CI_EDGE.match(line)
                if m:
                    calls.setdefault(m.group(1), set()).add(m.group(2))
    memo = {}

    def deepest(fn, active):
        if fn in memo:
            return memo[fn]
        if fn in active:
            raise TargetError("the call graph is recursive at %s: no static stack bound" % fn)
        active.add(fn)
        best = (0, [])
        for callee in sorted(calls.get(fn, ())):
            depth = deepest(callee, active)
            if depth[0] > best[0] or not best[1]:
                best = depth
        active.discard(fn)
        memo[fn] = (frames.get(fn, (0, ""))[0] + best[0], [fn] + best[1])
        return memo[fn]

    missing = [r for r in roots if r not in frames]
    if missing:
        raise TargetError("no frame size for %s in %s/*.ci" % (", ".join(missing), build_dir))
    depth, path = max((deepest(r, set()) for r in roots), key=lambda d: d[0])
    notes = []
    if "__indirect_call" in path:
        notes.append("through an indirect call")
    if any(fn not in frames and fn != "__indirect_call" for fn in path):
        notes.append("library calls count 0")
    if any(frames.get(fn, (0, "static"))[1] != "static" for fn in path):
        notes.append("a frame of dynamic size")
    return depth, [fn.rsplit(":", 1)[-1] for fn in path], notes


def sections(elf):
    """{section name: size in bytes} of the allocated sections, by arm-none-eabi-size -A."""
    proc = subprocess.run([SIZE, "-A", elf], capture_output=True, text=True)
    if proc.returncode != 0:
        raise TargetError("%s %s: %s" % (SIZE, elf, _first_error(proc.stderr)))
    result = {}
    for line in proc.stdout.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[0].startswith(".") and fields[1].isdigit():
            result[fields[0]] = int(fields[1])
    return result


def cpu_arch(elf):
    """The ELF's Tag_CPU_arch ('v7E-M', 'v6S-M', ...): the linker raises it to
    the newest architecture of any object it linked, libraries included."""
    proc = subprocess.run([READELF, "-A", elf], capture_output=True, text=True)
    m = re.search(r"^\s*Tag_CPU_arch: (\S+)$", proc.stdout, re.M)
    if proc.returncode != 0 or not m:
        raise TargetError("%s -A %s shows no Tag_CPU_arch" % (READELF, elf))
    return m.group(1)


def flash_and_ram(sizes):
    """(flash, ram) bytes: flash holds .text, .rodata, .ARM.exidx and the initial
    values of .data; RAM holds .data and .bss (the stack is apart)."""
    flash = sum(sizes.get(s, 0) for s in (".text", ".rodata", ".ARM.exidx", ".data"))
    ram = sizes.get(".data", 0) + sizes.get(".bss", 0)
    return flash, ram


class Run:
    """What the harness printed: outputs[k] is a list of (text, bits or None)."""

    def __init__(self, text):
        self.text = text
        self.outputs = {}
        self.figures = {}
        self.phases = {}  # name -> ticks, in the order marked
        for line in text.splitlines():
            line = line.strip()
            m = ELEMENT.match(line)
            if m:
                k, i = int(m.group(1)), int(m.group(2))
                elements = self.outputs.setdefault(k, [])
                if i != len(elements):
                    raise TargetError("harness printed out%d[%d] out of order" % (k, i))
                elements.append((m.group(3), int(m.group(4), 16) if m.group(4) else None))
                continue
            m = FIGURE.match(line)
            if m:
                self.figures[m.group(1)] = int(m.group(2))
                continue
            m = PHASE.match(line)
            if m:
                self.phases[m.group(1)] = int(m.group(2))
        for name in ("ticks", "stack_bytes"):
            if name not in self.figures:
                raise TargetError("the harness printed no '%s' line: %s" % (name, _first_error(text)))

    @property
    def instructions(self):
        return ticks_to_instructions(self.figures["ticks"])

    def phase_instructions(self, name):
        return ticks_to_instructions(self.phases[name])


def ticks_to_instructions(ticks):
    return ticks * CORE_CLOCK_NS // (1 << ICOUNT_SHIFT)


def qemu_command(elf, args=()):
    """qemu-system-arm for the harness ELF; args are its semihosting arguments
    after the program name (IN.bin, OUT.bin), which must hold no ',' or space."""
    config = "enable=on,target=native"
    if args:
        for a in args:
            if "," in a or " " in a:
                raise TargetError("semihosting argument '%s' holds a ',' or a space" % a)
        config += ",arg=" + os.path.basename(elf) + "".join(",arg=" + a for a in args)
    return [QEMU, "-M", MACHINE, "-nographic", "-icount", "shift=%d" % ICOUNT_SHIFT,
            "-semihosting-config", config, "-kernel", elf]


def run(elf, args=(), timeout=120):
    """Run the harness once under qemu; qemu writes the semihosting console to
    stderr, which is read together with stdout."""
    try:
        proc = subprocess.run(qemu_command(elf, args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TargetError("qemu timed out after %d s running %s" % (timeout, elf))
    if proc.returncode != 0:
        raise TargetError("qemu exited %d running %s: %s" % (proc.returncode, elf, _first_error(proc.stdout)))
    return Run(proc.stdout)
