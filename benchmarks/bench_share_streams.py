"""The owner's requests while share links stream events and the owner edits thousands of pictures.

    .venv/bin/python benchmarks/bench_share_streams.py [--streams 40] [--edits 3] [--size 3000]

Builds a synthetic library of 20,000 pictures in a temporary folder, shares a set of ``--size`` of
them through two links, opens ``--streams`` anonymous event streams on those links (as many from this
one address as the server allows), and then makes ``--edits`` bulk edits of the whole set through the
API while an owner client lists and opens pictures. Prints the owner's latency (p50/p99/max) at rest
and during the edits, how long each edit took, what each stream received, and what the server
answered to one stream more than its caps allow.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "pixlstash-core"))
sys.path.insert(0, str(HERE))

from bench_http import free_port, percentile  # noqa: E402
from synthetic_library import build  # noqa: E402

from pixlstash.library import Library  # noqa: E402

LINKS = 2


def prepare(root: Path, size: int) -> list[int]:
    build(root, 20_000, sets=10, characters=10, log=lambda *_: None)
    with Library.open(root) as library:
        shared = library.organise.create_collection("set", "shared with friends")
        ids = list(range(1, size + 1))
        library.organise.add_members(shared.id, ids)
        return [shared.id, *ids]


def cli(root: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}
    command = [sys.executable, "-m", "pixlstash", *args, "--library", str(root)]
    return subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout


async def owner_load(http: httpx.AsyncClient, stop: asyncio.Event, samples: list[float]) -> None:
    rng = random.Random(1)
    while not stop.is_set():
        if rng.random() < 0.5:
            url, params = "/api/v1/pictures", {"limit": 100, "sort": rng.choice(["taken_at", "rating"])}
        else:
            url, params = f"/api/v1/pictures/{rng.randint(1, 20_000)}", None
        begin = time.perf_counter()
        response = await http.get(url, params=params)
        samples.append((time.perf_counter() - begin) * 1000)
        assert response.status_code == 200, response.text
        await asyncio.sleep(0.01)  # a person clicking fast, not a flood


async def stream(base: str, link: str, received: list[int], ready: asyncio.Event) -> None:
    async with (
        httpx.AsyncClient(base_url=base, timeout=None) as http,
        http.stream("GET", f"/api/v1/shared/{link}/events") as response,
    ):
        assert response.status_code == 200, response.status_code
        async for line in response.aiter_lines():
            ready.set()
            if line.startswith("data: "):
                received.append(len(json.loads(line[6:])["picture_ids"]))


def describe(label: str, samples: list[float]) -> None:
    print(
        f"{label:<34} {len(samples):5d} requests  p50 {statistics.median(samples):7.1f} ms  "
        f"p99 {percentile(samples, 0.99):7.1f} ms  max {max(samples):7.1f} ms"
    )


async def run(base: str, token: str, args: argparse.Namespace, set_id: int, ids: list[int]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as owner:
        links = []
        for n in range(LINKS):
            made = await owner.post("/api/v1/shares", json={"scope_type": "set", "scope_id": set_id, "title": f"{n}"})
            assert made.status_code == 201, made.text
            links.append(made.json()["token"])
        received: list[list[int]] = [[] for _ in range(args.streams)]
        readies = [asyncio.Event() for _ in range(args.streams)]
        streams = [
            asyncio.create_task(stream(base, links[n % LINKS], received[n], readies[n])) for n in range(args.streams)
        ]
        await asyncio.wait_for(asyncio.gather(*(ready.wait() for ready in readies)), 60)
        async with (
            httpx.AsyncClient(base_url=base, timeout=10) as extra,
            extra.stream("GET", f"/api/v1/shared/{links[0]}/events") as one_more,
        ):
            said = (await one_more.aread()).decode()[:90] if one_more.status_code != 200 else "(streaming)"
        print(f"{args.streams} share streams open on {LINKS} links; one more: {one_more.status_code} {said}")

        stop = asyncio.Event()
        at_rest: list[float] = []
        loader = asyncio.create_task(owner_load(owner, stop, at_rest))
        await asyncio.sleep(5)
        stop.set()
        await loader
        describe("owner's requests at rest", at_rest)

        stop = asyncio.Event()
        during: list[float] = []
        loader = asyncio.create_task(owner_load(owner, stop, during))
        edit_times = []
        for edit in range(args.edits):
            begin = time.perf_counter()
            done = await owner.post(
                "/api/v1/pictures/bulk", json={"ids": ids, "operation": {"action": "rate", "rating": 1 + edit % 5}}
            )
            assert done.status_code == 200, done.text
            edit_times.append(time.perf_counter() - begin)
            await asyncio.sleep(1)
        await asyncio.sleep(3)  # the streams catch up
        stop.set()
        await loader
        describe(f"owner's requests during {args.edits} edits", during)
        print(f"bulk edit of {len(ids)} pictures: {', '.join(f'{t:.2f}' for t in edit_times)} s")
        counts = sorted(sum(r) for r in received)
        print(
            f"picture ids each stream received: min {counts[0]}, max {counts[-1]} (of {args.edits * len(ids)} changed)"
        )
        for task in streams:
            task.cancel()
        await asyncio.gather(*streams, return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=40)
    parser.add_argument("--edits", type=int, default=3)
    parser.add_argument("--size", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-share-streams-") as folder:
        root = Path(folder) / "library"
        set_id, *ids = prepare(root, args.size)
        token = json.loads(cli(root, "token", "create", "--scope", "write", "--json"))["token"]
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}
        server = subprocess.Popen(
            [sys.executable, "-m", "pixlstash", "serve", "--library", str(root), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        try:
            while True:
                try:
                    if httpx.get(base + "/api/v1/version").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            print(f"machine: {os.cpu_count()} cores; library: 20,000 synthetic pictures")
            asyncio.run(run(base, token, args, set_id, ids))
        finally:
            server.terminate()
            server.wait(120)


if __name__ == "__main__":
    main()
