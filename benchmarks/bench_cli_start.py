"""How long the command line takes to start: `pixlstash --help`, `pixlstash version` and
`pixlstash ls --count` on a small library, against a bare `python -c pass`, in one run. Each figure is the
fastest of N runs (the start itself, without what else the machine was doing), with the median beside it.

    .venv/bin/python benchmarks/bench_cli_start.py [--runs 15]

Goals (issue 46): --help and version within 5x a bare Python start, ls within 8x.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOALS = {"--help": 5.0, "version": 5.0, "ls --count": 8.0}


def timed(argv: list[str], runs: int, env: dict[str, str]) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - began)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    python = sys.executable
    pixlstash = [str(Path(python).with_name("pixlstash"))]  # the console script: what a user types
    with tempfile.TemporaryDirectory() as scratch:
        library = Path(scratch) / "library"
        picture = Path(scratch) / "one.png"
        subprocess.run(
            [python, "-c", f"from PIL import Image; Image.new('RGB', (64, 64), 'red').save({str(picture)!r})"],
            check=True,
        )
        env = {**os.environ, "PIXLSTASH_LIBRARY": str(library)}
        subprocess.run([*pixlstash, "import", str(picture)], check=True, stdout=subprocess.DEVNULL, env=env)
        cases = {
            "python -c pass": [python, "-c", "pass"],
            "--help": [*pixlstash, "--help"],
            "version": [*pixlstash, "version"],
            "ls --count": [*pixlstash, "ls", "--count"],
        }
        results = {label: timed(argv, runs, env) for label, argv in cases.items()}
    bare = results["python -c pass"][0]
    print(f"{'command':16} {'fastest s':>10} {'median s':>9} {'x bare':>7} {'goal':>6}")
    for label, (fastest, median) in results.items():
        goal = GOALS.get(label)
        verdict = "" if goal is None else f"{goal:5.0f}x " + ("met" if fastest / bare <= goal else "MISSED")
        print(f"{label:16} {fastest:10.3f} {median:9.3f} {fastest / bare:7.1f} {verdict}")


if __name__ == "__main__":
    main()
