"""Shared by the model test runners: run a step, and compile a model with
tyboxc --harness and build it with make, failing with one short reason.

TYBOXC_TEST_CFLAGS, when set, is appended to the CFLAGS of every build of
generated code (scripts/test-sanitizers.sh passes the sanitizer flags there:
the emitted C is checked with ASan and UBSan like the compiler itself)."""

import os
import signal
import subprocess
import sys


class StepFailure(Exception):
    """A test or model failed; the message is the one-line reason."""


def die(message):
    """Stop the whole run: a problem with the setup, not with one test."""
    print("error: " + message, file=sys.stderr)
    sys.exit(2)


def first_error_line(text, default):
    """The first line mentioning 'error', else the last non-empty line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if "error" in line.lower():
            return line
    return lines[-1] if lines else default


def describe_exit(what, returncode):
    if returncode < 0:
        try:
            return "%s killed by %s" % (what, signal.Signals(-returncode).name)
        except ValueError:
            return "%s killed by signal %d" % (what, -returncode)
    return "%s exited %d" % (what, returncode)


def run_step(what, argv, timeout):
    """Run one command; raise StepFailure with a short reason on any problem."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True,
                              errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        raise StepFailure("%s timed out after %d s" % (what, timeout))
    except OSError as e:
        raise StepFailure("cannot run %s: %s" % (what, e.strerror))
    if proc.returncode != 0:
        status = describe_exit(what, proc.returncode)
        detail = first_error_line(proc.stderr + proc.stdout, "")
        # tyboxc's own error line says it all; other tools get their status too.
        if what == "tyboxc" and proc.returncode > 0 and detail:
            raise StepFailure(detail)
        raise StepFailure("%s: %s" % (status, detail) if detail else status)
    return proc


def with_test_cflags(make_vars):
    """make_vars with $TYBOXC_TEST_CFLAGS appended to CFLAGS (the generated
    Makefile's default, -O2, when make_vars sets none). The Makefile passes
    CFLAGS to the link too, so sanitizer flags need nothing else."""
    extra = os.environ.get("TYBOXC_TEST_CFLAGS", "").strip()
    if not extra:
        return list(make_vars)
    out, found = [], False
    for var in make_vars:
        if var.startswith("CFLAGS="):
            var, found = var + " " + extra, True
        out.append(var)
    return out if found else out + ["CFLAGS=-O2 " + extra]


def compile_and_build(tyboxc, model_path, out_dir, make_vars, timeouts):
    """tyboxc --harness then make; returns the path of model_run.
    timeouts = (compile, build) in seconds; make_vars like ["CFLAGS=-O2"]
    ($TYBOXC_TEST_CFLAGS is appended to CFLAGS)."""
    run_step("tyboxc", [tyboxc, model_path, "-o", out_dir, "--harness"], timeouts[0])
    run_step("make", ["make", "-C", out_dir] + with_test_cflags(make_vars), timeouts[1])
    model_run = os.path.join(out_dir, "model_run")
    if not os.access(model_run, os.X_OK):
        raise StepFailure("make succeeded but built no %s" % model_run)
    return model_run
