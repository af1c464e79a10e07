#!/usr/bin/python3
"""Run the `simple`, `pytorch-converted` and `pytorch-operator` suites of
ONNX's backend test data through tyboxc.

usage: /usr/bin/python3 run_backend_suites.py --tyboxc BUILD/bin/tyboxc \\
           --data DIR --work DIR [--expected-failures FILE] [--results-dir DIR] [-j N]

DIR (--data) holds one folder per suite, each a folder of test_* folders
(model.onnx + test_data_set_0/{input,output}_N.pb): see its NOTICE.md. The
data is not part of a user's clone, so when DIR does not exist this prints
why and exits 77 (ctest's SKIP_RETURN_CODE). Each suite runs through
run_node_tests.py with the same compare rules and the one expected-failures
file; --results-dir gets conformance-<suite>.json for
scripts/conformance_table.py. Exit status 1 when any suite failed.
"""
import argparse
import os
import subprocess
import sys

SUITES = ("simple", "pytorch-converted", "pytorch-operator")
SKIP = 77


def main():
    parser = argparse.ArgumentParser(description="Run ONNX's backend-data suites through tyboxc.")
    parser.add_argument("--tyboxc", required=True, help="path of the tyboxc binary")
    parser.add_argument("--data", required=True, help="the onnx-backend-data folder")
    parser.add_argument("--work", required=True, help="scratch folder")
    parser.add_argument("--expected-failures", metavar="FILE", help="file of `test_name  # reason` lines")
    parser.add_argument("--results-dir", metavar="DIR", help="write conformance-<suite>.json files here")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="tests run in parallel (default 2)")
    args = parser.parse_args()
    if not os.path.isdir(args.data):
        print("skipped: %s does not exist (the backend-data suites are not part of a clone)" % args.data)
        sys.exit(SKIP)
    runner = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run_node_tests.py")
    failed = []
    for suite in SUITES:
        folder = os.path.join(args.data, suite)
        if not os.path.isdir(folder):
            print("suite %s: missing folder %s" % (suite, folder))
            failed.append(suite)
            continue
        cmd = [sys.executable, runner, "--tyboxc", args.tyboxc, "--tests", folder,
               "--work", os.path.join(args.work, suite), "-j", str(args.jobs), "--suite", suite]
        if args.expected_failures:
            cmd += ["--expected-failures", args.expected_failures]
        if args.results_dir:
            cmd += ["--results", os.path.join(args.results_dir, "conformance-%s.json" % suite)]
        print("== suite %s" % suite, flush=True)
        if subprocess.run(cmd).returncode != 0:
            failed.append(suite)
    if failed:
        print("failed suites: %s" % ", ".join(failed))
        sys.exit(1)
    print("all suites passed (apart from their expected failures)")


if __name__ == "__main__":
    main()
