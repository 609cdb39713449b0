"""How long `pixlstash serve` takes to stop while it enriches, and what the jobs say afterwards.

A library of 30 pictures whose CLIP embeddings are queued (the tests' tiny CLIP under the published model's
name, so the engine's process spends its time importing torch and open_clip, as a big model's spends it
loading); the server starts, and once the engine's process exists, it is stopped: by a terminal's Ctrl+C
(SIGINT to the whole process group) or by a service manager's stop (SIGINT to the server alone, as
`podman stop` and `docker stop` send theirs). Printed: seconds from the signal to the server's exit, and the
job's state and counts after it (the truth is: queued, nothing done or failed). With ``--before REV`` the
same runs with that revision's packages, the two taking turns.

    .venv/bin/python benchmarks/bench_server_stop.py [--runs 3] [--before REV]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_cli_start import _tree_path
from revision_tree import tree_at

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "pixlstash-plugins" / "clip" / "tests"))
CLIP = "clip/ViT-B-32@laion2b_s34b_b79k"
PIXLSTASH = [sys.executable, "-m", "pixlstash"]


def _library(scratch: Path, env: dict[str, str], name: str) -> dict[str, str]:
    from corpus import photo

    pictures = scratch / "pictures"
    if not pictures.exists():
        pictures.mkdir()
        for n in range(30):
            photo(80, 60, seed=n).save(pictures / f"{n}.png")
    env = {**env, "PIXLSTASH_LIBRARY": str(scratch / name)}
    subprocess.run([*PIXLSTASH, "import", str(pictures)], env=env, check=True, capture_output=True)
    return env


def _engine_started(server: int) -> bool:
    found = subprocess.run(["pgrep", "-P", str(server), "-f", "pixlstash.engines.process_host"], capture_output=True)
    return found.returncode == 0


def stop_once(env: dict[str, str], whole_group: bool) -> tuple[float, str]:
    """Seconds from the signal to the server's exit, and the job's line in `pixlstash jobs` afterwards."""
    with socket_port() as port:
        server = subprocess.Popen(
            [*PIXLSTASH, "serve", "--port", str(port)], env=env, stderr=subprocess.PIPE, start_new_session=True
        )
    seen = b""
    while b"Uvicorn running" not in seen:
        if server.poll() is not None:
            raise SystemExit(f"the server ended: {seen.decode()}")
        if select.select([server.stderr], [], [], 0.2)[0]:
            seen += os.read(server.stderr.fileno(), 65536)
    while not _engine_started(server.pid):  # the job's first batch has its engine's process
        time.sleep(0.05)
    began = time.perf_counter()
    if whole_group:
        os.killpg(server.pid, signal.SIGINT)
    else:
        server.send_signal(signal.SIGINT)
    server.communicate(timeout=600)
    took = time.perf_counter() - began
    jobs = subprocess.run([*PIXLSTASH, "jobs", "--all"], env=env, capture_output=True, text=True, check=True)
    line = next(line for line in jobs.stdout.splitlines() if CLIP in line)
    return took, " ".join(line.split()[1:2] + line.split()[4:6])


@contextlib.contextmanager
def socket_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    yield port


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", metavar="REV", help="also time this git revision, taking turns")
    args = parser.parse_args()
    from tiny_clip import build_tiny_clip

    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        scratch = Path(folder)
        build_tiny_clip(scratch / "models" / CLIP, embed_dim=512)
        base = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}
        base.update(PIXLSTASH_MODELS_DIR=str(scratch / "models"), HF_HUB_OFFLINE="1")
        trees = {"now": {**base, "PYTHONPATH": _tree_path(ROOT)}}
        if args.before:
            worktree = stack.enter_context(tree_at(args.before, scratch))
            trees[args.before] = {**base, "PYTHONPATH": _tree_path(worktree)}
        results: dict[tuple[str, str], list[tuple[float, str]]] = {}
        for run in range(args.runs):
            for how, whole_group in (("Ctrl+C (the group)", True), ("SIGINT (the server)", False)):
                for tree, env in trees.items():
                    library = _library(scratch, env, f"library-{tree}-{run}-{whole_group}")
                    results.setdefault((how, tree), []).append(stop_once(library, whole_group))
    print(f"{'stop':22} {'code':10} {'seconds, each run':30} {'median':>7}  job after (state, done, failed)")
    for (how, tree), found in results.items():
        seconds = [took for took, _ in found]
        states = sorted({state for _, state in found})
        print(
            f"{how:22} {tree[:10]:10} {', '.join(f'{s:.1f}' for s in seconds):30} "
            f"{statistics.median(seconds):7.1f}  {' | '.join(states)}"
        )


if __name__ == "__main__":
    main()
