#!/usr/bin/python3
"""Feed tyboxc seeded bit flips and truncations of a real model.

usage: /usr/bin/python3 mutate_model.py TYBOXC MODEL.onnx WORK
           [--mutants N] [--bits B] [--truncations T] [--seed S]

Writes N mutants of MODEL, each with B bits flipped at seeded random offsets
(offsets spread over the whole file), and T copies cut at seeded random
lengths, into WORK, and compiles each with `tyboxc MUTANT -o WORK/out`.
Every run must end, within TIMEOUT seconds, in one of two ways:
  - exit 0 with WORK/out holding the generated model.c and model.h (a flip
    in a weight, say, is still a valid model);
  - exit 1 with exactly one line containing "error:" ("MUTANT: error: ...")
    and WORK/out not created, with no temporary folder left beside it.
Anything else (a signal such as a sanitizer abort, exit 2, a hang, two error
lines, a half-written folder) is a failure. The same seed gives the same
mutants, so a failure is reproduced by rerunning with its seed; the failing
mutant is also kept as WORK/fail-*.onnx.

Prints one line per failure and a summary; exit status 1 if any run failed.
"""
import argparse
import collections
import glob
import os
import random
import shutil
import subprocess
import sys

TIMEOUT = 20.0


def flip_bits(data, bits, rng):
    out = bytearray(data)
    for _ in range(bits):
        pos = rng.randrange(len(out) * 8)
        out[pos // 8] ^= 1 << (pos % 8)
    return bytes(out)


def mutants(data, args):
    """(label, bytes) for every mutant, in a fixed order for the seed."""
    rng = random.Random(args.seed)
    for i in range(args.mutants):
        yield "flip%d" % i, flip_bits(data, args.bits, rng)
    for i in range(args.truncations):
        cut = rng.randrange(len(data))
        yield "cut%d-at-%d" % (i, cut), data[:cut]


def judge(tyboxc, path, out_dir):
    """('compiled' | 'refused', None) or (None, reason)."""
    shutil.rmtree(out_dir, ignore_errors=True)
    try:
        proc = subprocess.run([tyboxc, path, "-o", out_dir], capture_output=True, text=True,
                              errors="replace", timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, "no exit within %g s" % TIMEOUT
    text = proc.stdout + proc.stderr
    errors = [line for line in text.splitlines() if "error:" in line]
    leftovers = glob.glob(glob.escape(out_dir) + ".tmp-*")
    if leftovers:
        return None, "temporary folder left: %s" % leftovers[0]
    if proc.returncode == 0:
        written = os.listdir(out_dir) if os.path.isdir(out_dir) else []
        if errors or not {"model.c", "model.h"} <= set(written):
            return None, "exit 0 but output %r, errors %r" % (sorted(written), errors)
        return "compiled", None
    if proc.returncode != 1:
        return None, "exit status %d: %s" % (proc.returncode, text.strip()[-400:])
    if len(errors) != 1 or not errors[0].startswith(path + ": error: "):
        return None, "exit 1 but %d error lines: %r" % (len(errors), text[-400:])
    if os.path.exists(out_dir):
        return None, "exit 1 but %s was written" % out_dir
    return "refused", None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("tyboxc")
    parser.add_argument("model")
    parser.add_argument("work")
    parser.add_argument("--mutants", type=int, default=300)
    parser.add_argument("--bits", type=int, default=1, help="bits flipped per mutant")
    parser.add_argument("--truncations", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with open(args.model, "rb") as f:
        data = f.read()
    if not data:
        sys.exit("error: %s is empty" % args.model)
    os.makedirs(args.work, exist_ok=True)
    path = os.path.join(args.work, "mutant.onnx")
    out_dir = os.path.join(args.work, "out")
    outcomes = collections.Counter()
    for label, blob in mutants(data, args):
        with open(path, "wb") as f:
            f.write(blob)
        outcome, reason = judge(args.tyboxc, path, out_dir)
        if reason:
            keep = os.path.join(args.work, "fail-%s.onnx" % label)
            shutil.copyfile(path, keep)
            print("FAIL %s (seed %d, kept as %s): %s" % (label, args.seed, keep, reason))
            outcome = "failed"
        outcomes[outcome] += 1
    shutil.rmtree(out_dir, ignore_errors=True)
    total = sum(outcomes.values())
    print("%d mutants of %s (%d bits flipped each, %d truncations, seed %d): %d compiled, "
          "%d refused with one error line, %d failed"
          % (total, os.path.basename(args.model), args.bits, args.truncations, args.seed,
             outcomes["compiled"], outcomes["refused"], outcomes["failed"]))
    sys.exit(1 if outcomes["failed"] else 0)


if __name__ == "__main__":
    main()
