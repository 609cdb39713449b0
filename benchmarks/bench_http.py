"""The API over real HTTP: uvicorn on loopback in its own process, this script as the client process.

    .venv/bin/python benchmarks/synthetic_library.py .bench/lib1m        # once
    .venv/bin/python benchmarks/bench_http.py .bench/lib1m [--clients 50] [--seconds 60]

Prints: start to first 200, idle RSS, list-page latency (p50/p99) for several query shapes, and a
mixed load of list, thumbnail and metadata requests from concurrent clients (requests/s, p99, errors).
Thumbnails are written once for the first 20,000 synthetic pictures (they have no files of their own).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "pixlstash-core"))

THUMBNAILED = 20_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def ensure_thumbnails(library: Path) -> None:
    """A small WebP per picture for the first pictures, so thumbnail requests hit real files."""
    import io

    from PIL import Image

    from pixlstash.media.thumbnails import ThumbnailCache

    cache = ThumbnailCache(library / "thumbnails")
    marker = library / "thumbnails" / f".bench-{THUMBNAILED}"
    if marker.exists():
        return
    buffer = io.BytesIO()
    Image.new("RGB", (384, 256), (90, 120, 160)).save(buffer, "WEBP", quality=80)
    data = buffer.getvalue()
    for picture_id in range(1, THUMBNAILED + 1):
        content_hash = f"{picture_id:064x}"
        path = cache.path(content_hash, "grid")
        if not path.exists():
            cache.write(content_hash, "grid", data)
    marker.touch()


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("library", type=Path)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    ensure_thumbnails(args.library)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}
    token = json.loads(
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pixlstash",
                "token",
                "create",
                "--library",
                str(args.library),
                "--scope",
                "read",
                "--json",
            ],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout
    )["token"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "pixlstash", "serve", "--library", str(args.library), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            while True:
                try:
                    if client.get("/api/v1/version").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.01)
            first = time.perf_counter() - started
            client.get("/api/v1/pictures", params={"limit": 1})
            print(f"machine: {os.cpu_count()} cores; library: {args.library}")
            print(f"start to first 200: {first:.2f} s")
            time.sleep(2)
            print(f"idle RSS of the server: {rss_mb(server.pid):.0f} MB")
            deep = client.get("/api/v1/pictures", params={"limit": 100}).json()["next_cursor"]
            shapes = {
                "first page by taken_at": {"limit": 100},
                "next page (cursor)": {"limit": 100, "cursor": deep},
                "by rating": {"limit": 100, "sort": "rating"},
                "common tag": {"limit": 100, "tags": "tag_00001"},
                "rare tag": {"limit": 100, "tags": "tag_19000"},
                "overlap of two sets": {"limit": 100, "collections": [1, 2], "collection_op": "overlap"},
            }
            for label, params in shapes.items():
                samples = []
                for _ in range(args.runs):
                    begin = time.perf_counter()
                    response = client.get("/api/v1/pictures", params=params)
                    samples.append((time.perf_counter() - begin) * 1000)
                    assert response.status_code == 200, response.text
                print(
                    f"list page, {label:<26} p50 {statistics.median(samples):6.2f} ms   "
                    f"p99 {percentile(samples, 0.99):6.2f} ms"
                )
        asyncio.run(load(base, token, args.clients, args.seconds))
        print(f"RSS of the server after the load: {rss_mb(server.pid):.0f} MB")
    finally:
        server.terminate()
        server.wait(120)  # a scheduled snapshot may be running: the server finishes it first


async def load(base: str, token: str, clients: int, seconds: float) -> None:
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client_loop(n: int, http: httpx.AsyncClient) -> None:
        rng = random.Random(n)
        while time.perf_counter() < deadline:
            roll = rng.random()
            if roll < 0.4:
                url, params = "/api/v1/pictures", {"limit": 100, "sort": rng.choice(["taken_at", "rating"])}
            elif roll < 0.8:
                url, params = f"/api/v1/media/{rng.randint(1, THUMBNAILED):064x}/grid.webp", None
            else:
                url, params = f"/api/v1/pictures/{rng.randint(1, 1_000_000)}", None
            begin = time.perf_counter()
            try:
                response = await http.get(url, params=params)
                if response.status_code != 200:
                    errors.append(f"{response.status_code} {url}")
            except httpx.HTTPError as error:
                errors.append(f"{type(error).__name__} {url}")
            latencies.append((time.perf_counter() - begin) * 1000)

    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30, limits=limits
    ) as http:
        begin = time.perf_counter()
        await asyncio.gather(*(client_loop(n, http) for n in range(clients)))
        elapsed = time.perf_counter() - begin
    print(
        f"{clients} concurrent clients for {elapsed:.0f} s (40% list, 40% thumbnail, 20% metadata): "
        f"{len(latencies) / elapsed:.0f} requests/s, p50 {statistics.median(latencies):.1f} ms, "
        f"p99 {percentile(latencies, 0.99):.1f} ms, errors {len(errors)}"
    )
    if errors:
        print("first errors:", errors[:5])


if __name__ == "__main__":
    main()
