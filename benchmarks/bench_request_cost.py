"""What one API request costs the server: its CPU time per request and the client's wait, route by route.

A library of 40 pictures (tagged, rated, in a set); `pixlstash serve` in its own process on loopback; one
client (httpx, keep-alive) sends each route ``--requests`` times in a row, and the server's CPU is read
from ``/proc/PID/stat`` around them. These are the requests the browser's grid sends on every view and
filter, and the ones a fuzzer sends by the thousand. With ``--before REV`` that revision's server runs the
same, the two taking turns round by round; medians over ``--rounds``.

    .venv/bin/python benchmarks/bench_request_cost.py [--requests 300] [--rounds 3] [--before REV]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from bench_cli_start import _tree_path
from revision_tree import tree_at

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
PIXLSTASH = [sys.executable, "-m", "pixlstash"]
ROUTES = [
    "health",
    "pictures?limit=100",
    "pictures/count?tags=cat&rating_min=3",
    "pictures/stats",
    "pictures/layout?groups=day",
    "search/semantic?q=a%20cat",  # no CLIP model here: the answer says so (409)
    "openapi.json",
]


def _library(scratch: Path, env: dict[str, str]) -> str:
    from corpus import photo

    pictures = scratch / "pictures"
    pictures.mkdir()
    for n in range(40):
        photo(80, 60 + n, seed=n).save(pictures / f"{n}.png")
    for line in (["import", str(pictures), "--set", "Best"], ["tag", "add", "1-20", "cat"], ["rate", "1-10", "4"]):
        subprocess.run([*PIXLSTASH, *line], env=env, check=True, capture_output=True)
    created = subprocess.run(
        [*PIXLSTASH, "token", "create", "--scope", "admin", "--json"], env=env, check=True, capture_output=True
    )
    return json.loads(created.stdout)["token"]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_round(env: dict[str, str], token: str, requests: int) -> dict[str, tuple[float, float]]:
    """Per route: the server's CPU milliseconds per request and the client's wall milliseconds per request."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # A file, not a pipe: a pipe nobody reads would stop the server at its 64 KB of access log.
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen([*PIXLSTASH, "serve", "--port", str(port)], env=env, stderr=log)
        try:
            while b"Uvicorn running" not in (seen := os.pread(log.fileno(), 1 << 20, 0)):
                if server.poll() is not None:
                    raise SystemExit(f"the server ended: {seen.decode()}")
                time.sleep(0.05)
            return _timed_routes(server.pid, port, token, requests)
        finally:
            server.terminate()
            server.wait(timeout=60)


def _timed_routes(server: int, port: int, token: str, requests: int) -> dict[str, tuple[float, float]]:
    found = {}
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1/", headers=headers) as client:
        for route in ROUTES:
            client.get(route)  # its first answer (imports, caches) is not what the next thousand cost
            cpu, began = _cpu_seconds(server), time.perf_counter()
            for _ in range(requests):
                client.get(route).read()
            wall = time.perf_counter() - began
            found[route] = ((_cpu_seconds(server) - cpu) / requests * 1000, wall / requests * 1000)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", metavar="REV", help="also time this git revision, taking turns")
    parser.add_argument("--requests", type=int, default=300, help="of each route, in a row")
    parser.add_argument("--rounds", type=int, default=3, help="of each tree; the medians are printed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        scratch = Path(folder)
        base = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}
        base.update(PIXLSTASH_LIBRARY=str(scratch / "library"), PYTHONPATH=_tree_path(ROOT))
        token = _library(scratch, base)
        trees = {"now": base}
        if args.before:
            worktree = stack.enter_context(tree_at(args.before, scratch))
            trees[args.before[:10]] = {**base, "PYTHONPATH": _tree_path(worktree)}
        results: dict[str, list[dict[str, tuple[float, float]]]] = {tree: [] for tree in trees}
        for _ in range(args.rounds):
            for tree, env in trees.items():
                results[tree].append(one_round(env, token, args.requests))
    names = list(trees)
    print(f"server CPU ms per request (client wall ms), median of {args.rounds} rounds of {args.requests}")
    print(f"{'route':40} " + " ".join(f"{name:>18}" for name in names))
    for route in ROUTES:
        cells = []
        for name in names:
            cpu = statistics.median(r[route][0] for r in results[name])
            wall = statistics.median(r[route][1] for r in results[name])
            cells.append(f"{cpu:8.2f} ({wall:6.2f})")
        print(f"{route:40} " + " ".join(f"{cell:>18}" for cell in cells))


if __name__ == "__main__":
    main()
