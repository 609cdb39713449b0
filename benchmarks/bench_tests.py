"""Issue 60: how fast the test suite answers, side by side in one run.

- collecting one test file with the schemathesis and hypothesis pytest plugins loaded (as before) and
  without them (as ``pyproject.toml`` now says);
- the fast tier (``--fast``: the tests that need no browser, ComfyUI, CLI process, install, Ray, models,
  container or SeaweedFS) in this one process and on every core (``-n``);
- with ``--full``, the whole suite the same two ways (about an hour on 2 cores: CI's figure is in its log);
- with ``--cpu PATH...``, only those test files in one process, this tree and ``--before REV``'s taking
  turns for ``--rounds``: the wall time and the CPU of every process the run started (the browser, the
  servers), which is what a suite bound by its cores spends.

Run from the repository root, on a quiet machine:

    .venv/bin/python benchmarks/bench_tests.py [--full] [--workers N]
    .venv/bin/python benchmarks/bench_tests.py --cpu tests/test_ui_search.py [--before REV] [--rounds 2]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"]
OLD_ADDOPTS = ["-o", "addopts=-ra --strict-markers"]  # the plugins load, as before issue 60


def timed(args: list[str], tree: Path = REPO, env: dict[str, str] | None = None) -> tuple[float, str]:
    """Wall seconds and pytest's summary line of one run in ``tree``."""
    began = time.monotonic()
    done = subprocess.run([*PYTEST, *args], cwd=tree, capture_output=True, text=True, env=env)
    took = time.monotonic() - began
    summary = next(
        (line for line in reversed(done.stdout.splitlines()) if re.search(r"\d+ (passed|failed|tests? coll)", line)),
        "",
    )
    return took, summary.strip("= ")


def cpu_of(tree: Path, paths: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system of every process the run started and reaped) and the
    summary of one pytest run of ``paths`` in ``tree``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    took, summary = timed(paths, tree, env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return took, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), summary


def compare_cpu(paths: list[str], before: str | None, rounds: int) -> None:
    from bench_cli_start import _tree_path
    from revision_tree import tree_at

    with contextlib.ExitStack() as stack:
        trees = {"now": REPO}
        if before:
            trees[before[:10]] = stack.enter_context(tree_at(before))
        found: dict[str, list[tuple[float, float, str]]] = {name: [] for name in trees}
        for _ in range(rounds):
            for name, tree in trees.items():
                env = {**os.environ, "PYTHONPATH": _tree_path(tree)}
                found[name].append(cpu_of(tree, paths, env))
    print(f"{' '.join(paths)}, one process, {rounds} round(s), the trees taking turns")
    print(f"{'code':<12} {'wall, each run':<22} {'CPU, each run':<22} {'CPU median':>10}  result")
    for name, runs in found.items():
        walls = ", ".join(f"{wall:.1f}" for wall, _, _ in runs)
        cpus = ", ".join(f"{cpu:.1f}" for _, cpu, _ in runs)
        print(f"{name:<12} {walls:<22} {cpus:<22} {statistics.median(c for _, c, _ in runs):>10.1f}  {runs[-1][2]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="also the whole suite, serial and parallel")
    parser.add_argument("--workers", type=int, default=min(os.cpu_count() or 1, 4))
    parser.add_argument("--cpu", nargs="+", metavar="PATH", help="only these test files' wall and CPU time")
    parser.add_argument("--before", metavar="REV", help="with --cpu: also this git revision, taking turns")
    parser.add_argument("--rounds", type=int, default=2, help="with --cpu: runs of each tree")
    options = parser.parse_args()
    if options.cpu:
        compare_cpu(options.cpu, options.before, options.rounds)
        return
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
