#!/usr/bin/python3
"""Print the runtime files (tb_*.c) a tyboxc model calls into, one a line.

usage: /usr/bin/python3 used_runtime.py MODEL_DIR [PREFIX]

tyboxc writes every runtime file next to the model; the linker's
--gc-sections drops what the model does not call, but compiling them all for
each Cortex-M configuration is most of a test's build time. This follows the
calls instead: the tb_* functions PREFIX.c and PREFIX_tail.c call, the runtime
files that define them, the tb_* functions those call, and so on. A call it
cannot place (a macro, a function of a file it did not read) is ignored: a file
it wrongly left out makes the link fail with an undefined reference, never a
different program. tools/cortexm/Makefile uses it with RUNTIME=used.
"""
import os
import re
import sys

DEFINITION = re.compile(r"^(?!static\b)[a-z][\w \t*]*?\b(tb_\w+)\(", re.M)
CALL = re.compile(r"\b(tb_\w+)\s*\(")


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: used_runtime.py MODEL_DIR [PREFIX]")
    model_dir = sys.argv[1]
    prefix = sys.argv[2] if len(sys.argv) == 3 else "model"
    texts, defined_in = {}, {}
    for name in sorted(os.listdir(model_dir)):
        if name.startswith("tb_") and name.endswith(".c"):
            with open(os.path.join(model_dir, name)) as f:
                texts[name] = f.read()
            for fn in DEFINITION.findall(texts[name]):
                defined_in.setdefault(fn, name)
    todo = []
    for name in (prefix + ".c", prefix + "_tail.c"):
        path = os.path.join(model_dir, name)
        if os.path.exists(path):
            with open(path) as f:
                todo.append(f.read())
    if not todo:
        sys.exit("used_runtime.py: error: no %s.c in %s" % (prefix, model_dir))
    used = set()
    while todo:
        for fn in CALL.findall(todo.pop()):
            name = defined_in.get(fn)
            if name and name not in used:
                used.add(name)
                todo.append(texts[name])
    print("\n".join(sorted(used)))


if __name__ == "__main__":
    main()
