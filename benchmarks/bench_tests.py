"""Issue 60: how fast the test suite answers, side by side in one run.

- collecting one test file with the schemathesis and hypothesis pytest plugins loaded (as before) and
  without them (as ``pyproject.toml`` now says);
- the fast tier (``--fast``: the tests that need no browser, ComfyUI, CLI process, install, Ray, models,
  container or SeaweedFS) in this one process and on every core (``-n``);
- with ``--full``, the whole suite the same two ways (about an hour on 2 cores: CI's figure is in its log).

Run from the repository root, on a quiet machine:

    .venv/bin/python benchmarks/bench_tests.py [--full] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"]
OLD_ADDOPTS = ["-o", "addopts=-ra --strict-markers"]  # the plugins load, as before issue 60


def timed(args: list[str]) -> tuple[float, str]:
    began = time.monotonic()
    done = subprocess.run([*PYTEST, *args], cwd=REPO, capture_output=True, text=True)
    took = time.monotonic() - began
    summary = next(
        (line for line in reversed(done.stdout.splitlines()) if re.search(r"\d+ (passed|tests? coll)", line)), ""
    )
    return took, summary.strip("= ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="also the whole suite, serial and parallel")
    parser.add_argument("--workers", type=int, default=min(os.cpu_count() or 1, 4))
    options = parser.parse_args()
    rows = []
    one_file = ["--collect-only", "tests/test_schema.py"]
    for label, args in (
        ("collect one file, plugins loaded (before)", OLD_ADDOPTS + one_file),
        ("collect one file (now)", one_file),
    ):
        best = min(timed(args)[0] for _ in range(3))
        rows.append((label, best, ""))
    for label, args in (
        ("--fast, one process", ["--fast"]),
        (f"--fast, {options.workers} workers", ["--fast", "-n", str(options.workers), "--dist", "loadgroup"]),
    ):
        took, summary = timed(args)
        rows.append((label, took, summary))
    if options.full:
        for label, args in (
            ("whole suite, one process", []),
            (f"whole suite, {options.workers} workers", ["-n", str(options.workers), "--dist", "loadgroup"]),
        ):
            took, summary = timed(args)
            rows.append((label, took, summary))
    print(f"{'run':<44} {'seconds':>9}  result")
    for label, took, summary in rows:
        print(f"{label:<44} {took:>9.1f}  {summary}")


if __name__ == "__main__":
    main()
