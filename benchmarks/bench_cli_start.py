"""How long the command line takes to start: `pixlstash --help`, `pixlstash version` and
`pixlstash ls --count` on a small library, against a bare `python -c pass`, in one run, with every plugin
that is installed in this environment (the count is printed). `--help, no cache` is the first start after
an install: the plugin command cache cannot be written there, so the plugins load as they did before. Each figure is the
fastest of N runs (the start itself, without what else the machine was doing), with the median beside it.
With ``--before REV``, the same commands of that revision (its packages first on PYTHONPATH, from a
temporary git worktree) run in the same loop, side by side, the two taking turns run by run.

Where the CLIP plugin is installed, `search "..."` runs too (`--engine-runs` times): a command whose engine
runs in a process of its own (here the tests' tiny CLIP under the published model's name, so the time is
the processes and the imports, not the model): start, import torch and open_clip there, embed, end;
`search` with the model missing (it says so, and how to get it); and `doctor`, which loads each engine
runtime in a child of its own.

    .venv/bin/python benchmarks/bench_cli_start.py [--runs 15] [--engine-runs 3] [--before REV]

Goals: --help within 5x a bare Python start and ls within 8x (issue 46); version within 3x with every
plugin installed (issue 65).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from revision_tree import tree_at

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "pixlstash-plugins" / "clip" / "tests"))
CLIP = "clip/ViT-B-32@laion2b_s34b_b79k"
SLOW = ("search (CLIP)", "search, no model", "doctor")  # seconds each: timed --engine-runs times
FAILING = {"search, no model": 1}  # what these exit with: the error is the point
GOALS = {"--help": 5.0, "version": 3.0, "ls --count": 8.0}


def timed(
    argv: list[str], runs: int, trees: dict[str, dict[str, str]], status: int = 0
) -> dict[str, tuple[float, float]]:
    """(fastest, median) of ``runs`` of ``argv`` for each tree, the trees taking turns run by run (this
    machine's speed drifts over minutes: each tree sees the same drift); each run must exit ``status``."""
    times: dict[str, list[float]] = {tree: [] for tree in trees}
    for _ in range(runs):
        for tree, env in trees.items():
            began = time.perf_counter()
            ran = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
            assert ran.returncode == status, f"{argv}: exit {ran.returncode}: {ran.stderr.decode()[-500:]}"
            times[tree].append(time.perf_counter() - began)
    return {tree: (min(found), statistics.median(found)) for tree, found in times.items()}


def _tree_path(tree: Path) -> str:
    """PYTHONPATH that puts a source tree's packages before the installed (editable) ones."""
    folders = [tree / "pixlstash-core", tree / "pixlstash-web", *sorted((tree / "pixlstash-plugins").iterdir())]
    return os.pathsep.join(str(folder) for folder in folders if (folder / "pyproject.toml").is_file())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--engine-runs", type=int, default=3)
    parser.add_argument("--before", metavar="REV", help="also time this git revision, side by side")
    args = parser.parse_args()
    runs = args.runs
    python = sys.executable
    pixlstash = [python, "-m", "pixlstash"]  # what the `pixlstash` script runs
    repo = ROOT
    with tempfile.TemporaryDirectory() as scratch, contextlib.ExitStack() as stack:
        library = Path(scratch) / "library"
        picture = Path(scratch) / "one.png"
        subprocess.run(
            [python, "-c", f"from PIL import Image; Image.new('RGB', (64, 64), 'red').save({str(picture)!r})"],
            check=True,
        )
        env = {**os.environ, "PIXLSTASH_LIBRARY": str(library), "PYTHONPATH": _tree_path(repo)}
        subprocess.run([*pixlstash, "import", str(picture)], check=True, stdout=subprocess.DEVNULL, env=env)
        trees = {"now": env}
        if args.before:
            worktree = stack.enter_context(tree_at(args.before, Path(scratch)))
            trees[args.before] = {**env, "PYTHONPATH": _tree_path(worktree)}
        unwritable = Path(scratch) / "not-a-folder"
        unwritable.write_text("")
        cases = {
            "python -c pass": ([python, "-c", "pass"], {}),
            "--help": ([*pixlstash, "--help"], {}),
            "--help, no cache": ([*pixlstash, "--help"], {"XDG_CACHE_HOME": str(unwritable)}),
            "version": ([*pixlstash, "version"], {}),
            "ls --count": ([*pixlstash, "ls", "--count"], {}),
        }
        if importlib.util.find_spec("open_clip"):
            from tiny_clip import build_tiny_clip

            models = Path(scratch) / "models"
            build_tiny_clip(models / CLIP, embed_dim=512)
            engine_env = {"PIXLSTASH_MODELS_DIR": str(models), "HF_HUB_OFFLINE": "1"}
            cases["search (CLIP)"] = ([*pixlstash, "search", "a red square", "--engine", CLIP], engine_env)
            # The model not on this machine: the command says so and how to get it.
            no_model = {
                **engine_env,
                "PIXLSTASH_MODELS_DIR": str(Path(scratch) / "none"),
                "HF_HOME": str(Path(scratch) / "hf"),
            }
            cases["search, no model"] = ([*pixlstash, "search", "a red square", "--engine", CLIP], no_model)
            cases["doctor"] = ([*pixlstash, "doctor"], engine_env)  # probes torch, onnxruntime, bitsandbytes
        subprocess.run([*pixlstash, "--help"], check=True, stdout=subprocess.DEVNULL, env=env)  # the cache made
        results = {}
        for label, (argv, case_env) in cases.items():
            envs = {tree: {**tree_env, **case_env} for tree, tree_env in trees.items()}
            count = args.engine_runs if label in SLOW else runs
            for tree, figures in timed(argv, count, envs, FAILING.get(label, 0)).items():
                results[label, tree] = figures
    bare = results["python -c pass", "now"][0]
    plugins = importlib.metadata.entry_points(group="pixlstash")
    print(f"{len(plugins)} plugins installed: {', '.join(sorted(entry.name for entry in plugins))}")
    print(f"{'command':16} {'code':10} {'fastest s':>10} {'median s':>9} {'x bare':>7} {'goal':>6}")
    for (label, tree), (fastest, median) in results.items():
        goal = GOALS.get(label)
        verdict = "" if goal is None else f"{goal:5.0f}x " + ("met" if fastest / bare <= goal else "MISSED")
        print(f"{label:16} {tree[:10]:10} {fastest:10.3f} {median:9.3f} {fastest / bare:7.1f} {verdict}")


if __name__ == "__main__":
    main()
