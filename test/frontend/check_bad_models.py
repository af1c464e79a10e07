#!/usr/bin/python3
"""Run tyboxc on every bad model make_bad_models.py wrote and check how it fails.

usage: /usr/bin/python3 check_bad_models.py TYBOXC DIR

DIR holds the models and EXPECTED.txt (file, tab, expected message or OK).
Each bad_ model is compiled twice, once into a folder that does not exist and
once into one that holds a file of its own, and each time tyboxc must:
  - exit with 1 (not 0, not 2, not a signal) within TIMEOUT seconds;
  - print exactly one line containing "error:", of the form
    "DIR/bad_x.onnx: error: ...", containing the expected message;
  - use less than CPU_LIMIT seconds of CPU (load on the machine does not
    count, a slow path in the compiler does);
  - leave the output folder as it was (absent, or holding only its own file)
    and no temporary folder beside it.
Prints one line per failure, then `N passed, N failed`; exit status 1 if any
model failed.
"""
import glob
import os
import resource
import shutil
import subprocess
import sys

TIMEOUT = 10.0   # seconds of wall time before a run counts as a hang
CPU_LIMIT = 1.0  # seconds of CPU per run


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(tyboxc, argv):
    """(exit status or None on timeout, output text, CPU seconds)."""
    before = cpu_seconds()
    try:
        proc = subprocess.run([tyboxc] + argv, capture_output=True, text=True,
                              errors="replace", timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, "", cpu_seconds() - before
    return proc.returncode, proc.stdout + proc.stderr, cpu_seconds() - before


def check_failure(tyboxc, model, expected, out_dir, own_file):
    """The reason this run broke a rule, or None."""
    status, text, cpu = run(tyboxc, [model, "-o", out_dir])
    if status is None:
        return "no exit within %g s" % TIMEOUT
    if status != 1:
        return "exit status %d, expected 1: %s" % (status, text.strip()[-300:])
    errors = [line for line in text.splitlines() if "error:" in line]
    if len(errors) != 1:
        return "%d lines with 'error:', expected 1: %r" % (len(errors), text[-300:])
    if not errors[0].startswith(model + ": error: ") or expected not in errors[0]:
        return "message %r does not start with '%s: error: ' and contain %r" % (
            errors[0], model, expected)
    if cpu >= CPU_LIMIT:
        return "took %.2f s of CPU (limit %g s)" % (cpu, CPU_LIMIT)
    left = os.listdir(out_dir) if os.path.isdir(out_dir) else None
    if left != ([own_file] if own_file else None):
        return "output folder %s changed: %r" % (out_dir, left)
    if glob.glob(glob.escape(out_dir) + ".tmp-*"):
        return "a temporary folder was left beside %s" % out_dir
    return None


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: check_bad_models.py TYBOXC DIR")
    tyboxc, folder = sys.argv[1], sys.argv[2]
    with open(os.path.join(folder, "EXPECTED.txt")) as f:
        cases = [line.rstrip("\n").split("\t", 1) for line in f if line.strip()]
    cases = [(name, msg) for name, msg in cases if msg != "OK"]
    if not cases:
        sys.exit("error: no bad models listed in %s/EXPECTED.txt" % folder)
    work = os.path.join(folder, "check-out")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    passed = failed = 0
    for name, expected in cases:
        model = os.path.join(folder, name)
        fresh = os.path.join(work, name + ".new")
        kept = os.path.join(work, name + ".kept")
        os.makedirs(kept)
        with open(os.path.join(kept, "mine.txt"), "w") as f:
            f.write("precious\n")
        reason = (check_failure(tyboxc, model, expected, fresh, None)
                  or check_failure(tyboxc, model, expected, kept, "mine.txt"))
        if reason:
            print("FAIL %s: %s" % (name, reason))
            failed += 1
        else:
            passed += 1
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
