"""What the two Cortex-M tests share: their command line, and the skip when
the cross tools are not installed."""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "cortexm"))
from harness import die  # noqa: E402
import target  # noqa: E402

SKIP = 77  # ctest's SKIP_RETURN_CODE


def setup(description):
    """Parses --tyboxc and --work; returns (args, the work folder made absolute),
    or None when a cross tool is missing (the test then exits SKIP)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--tyboxc", required=True)
    parser.add_argument("--work", required=True, help="scratch folder (created)")
    args = parser.parse_args()
    missing = target.missing_tools()
    if missing:
        print("skipped: %s not found (install gcc-arm-none-eabi, libnewlib-arm-none-eabi and "
              "qemu-system-arm: scripts/install-deps.sh)" % ", ".join(missing))
        return None
    if not os.access(args.tyboxc, os.X_OK):
        die("tyboxc not found at %s" % args.tyboxc)
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    return args, work
