"""Import as users do it: over HTTP (25 files per upload request, one client) and through the CLI.

    .venv/bin/python benchmarks/bench_import_http.py [--count 600] [--cli] [--big 200] [--plugins]

Prints files/s and pictures/s, the server's CPU use and RSS before, at its peak, right after and 30 s
after the import, and the derived bytes (thumbnails) per 1,000 pictures at import and after every
picture's preview has been viewed once. The corpus is ``bench_import.corpus_peer`` (the recipe of the
comparison with the public PixlStash). The server runs without entry-point plugins unless ``--plugins``
(the figures of the issue are for a library with no ML plugin).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_http import free_port, rss_mb  # noqa: E402
from bench_import import BENCH, corpus_big, corpus_mixed, corpus_peer  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def derived_bytes(library: Path) -> int:
    return sum(p.stat().st_size for p in (library / "thumbnails").rglob("*") if p.is_file())


def pixlstash(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "pixlstash", *args], capture_output=True, text=True, env=env)
    if result.returncode not in (0, 3):  # 3: some files were skipped, as the corpus means them to be
        raise SystemExit(f"pixlstash {args[0]} failed: {result.stderr}")
    return result


class Sampler(threading.Thread):
    """Peak RSS of a process, sampled every 0.1 s."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0.0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.1)


def environment(plugins: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}
    if not plugins:
        env["PIXLSTASH_LOAD_PLUGINS"] = "local-storage,web"  # the original store and `serve` only
    return env


def over_http(corpus: Path, per_request: int, env: dict[str, str]) -> None:
    library = BENCH / "import-http-lib"
    shutil.rmtree(library, ignore_errors=True)
    token = json.loads(
        pixlstash("token", "create", "--library", str(library), "--scope", "write", "--json", env=env).stdout
    )["token"]
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "pixlstash", "serve", "--library", str(library), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    files = sorted(corpus.iterdir())
    try:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=300) as client:
            while True:
                try:
                    if client.get("/api/v1/version").status_code == 200:
                        break
                except httpx.TransportError:
                    if server.poll() is not None:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.05)
            time.sleep(2)
            cold = rss_mb(server.pid)
            # One small upload first, so that "before" counts the code an upload loads once (formats,
            # multipart parsing) and the difference is what the import's size leaves behind.
            small = BENCH / "warm-up.png"
            Image.new("RGB", (64, 48), (200, 30, 30)).save(small)
            client.post("/api/v1/uploads", files=[("file", (small.name, small.read_bytes()))]).raise_for_status()
            time.sleep(2)
            before = rss_mb(server.pid)
            sampler = Sampler(server.pid)
            sampler.start()
            cpu_before = cpu_seconds(server.pid)
            started = time.perf_counter()
            imported = duplicates = skipped = 0
            for start in range(0, len(files), per_request):
                batch = files[start : start + per_request]
                parts = [("file", (f.name, f.read_bytes(), "application/octet-stream")) for f in batch]
                response = client.post("/api/v1/uploads", files=parts)
                response.raise_for_status()
                report = response.json()
                imported += len(report["imported"])
                duplicates += len(report["duplicates"])
                skipped += len(report["skipped"])
            elapsed = time.perf_counter() - started
            cpu = cpu_seconds(server.pid) - cpu_before
            sampler.running = False
            right_after = rss_mb(server.pid)
            later = {}
            for wait in (5, 10, 30):
                time.sleep(wait - (max(later) if later else 0))
                later[wait] = rss_mb(server.pid)
            print(
                f"HTTP, {per_request} files per request, one client: {len(files)} files in {elapsed:.1f} s = "
                f"{len(files) / elapsed:.1f} files/s, {imported / elapsed:.1f} pictures/s "
                f"(imported {imported}, duplicates {duplicates}, skipped {skipped})"
            )
            print(f"  server CPU: {cpu:.1f} s = {cpu / elapsed:.2f} cores on average")
            print(
                f"  server RSS: {cold:.0f} MB at start, {before:.0f} MB before, {sampler.peak:.0f} MB peak, "
                f"{right_after:.0f} MB right after, " + ", ".join(f"{mb:.0f} MB after {s} s" for s, mb in later.items())
            )
            at_import = derived_bytes(library)
            pictures = client.get("/api/v1/pictures", params={"limit": 1000}).json()["items"]
            viewed = time.perf_counter()
            for picture in pictures:
                client.get(f"/api/v1/media/{picture['content_hash']}/preview.webp").raise_for_status()
            per_preview = (time.perf_counter() - viewed) / max(1, len(pictures))
            after_views = derived_bytes(library)
            print(
                f"  derived bytes per 1,000 pictures: {at_import / imported * 1000 / 1e6:.1f} MB at import, "
                f"{after_views / imported * 1000 / 1e6:.1f} MB after viewing every picture's preview "
                f"(a first view made its preview in {per_preview * 1000:.0f} ms on average)"
            )
            print(f"  RSS after the views: {rss_mb(server.pid):.0f} MB", end="")
            time.sleep(30)
            print(f", {rss_mb(server.pid):.0f} MB 30 s later")
    finally:
        server.terminate()
        server.wait(60)


def through_cli(corpus: Path, env: dict[str, str]) -> None:
    library = BENCH / "import-cli-lib"
    shutil.rmtree(library, ignore_errors=True)
    files = sum(1 for path in corpus.iterdir() if path.read_bytes())  # read once: timed from the OS cache
    started = time.perf_counter()
    result = pixlstash("import", "--library", str(library), str(corpus), "--json", env=env)
    elapsed = time.perf_counter() - started
    report = json.loads(result.stdout)
    imported = len(report["imported"])
    print(
        f"CLI, {corpus.name}: {files} files in {elapsed:.1f} s (process start included) = "
        f"{files / elapsed:.1f} files/s, "
        f"{imported / elapsed:.1f} pictures/s (imported {imported}, duplicates {len(report['duplicates'])}, "
        f"skipped {len(report['skipped'])})"
    )
    shutil.rmtree(library, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=600, help="files in the peer-recipe corpus")
    parser.add_argument("--per-request", type=int, default=25)
    parser.add_argument("--cli", action="store_true", help="also import through the CLI")
    parser.add_argument("--big", type=int, default=200, help="3000x2000 JPEGs for the CLI run (0 to skip)")
    parser.add_argument("--mixed", type=int, default=2000, help="mixed corpus for the CLI run (0 to skip)")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--plugins", action="store_true", help="load entry-point plugins (ML engines)")
    args = parser.parse_args()
    env = environment(args.plugins)
    print(f"machine: {os.cpu_count()} cores; plugins: {'installed ones' if args.plugins else 'none'}")
    corpus = corpus_peer(args.count)
    if not args.no_http:
        over_http(corpus, args.per_request, env)
    if args.cli:
        through_cli(corpus, env)
        if args.mixed:
            through_cli(corpus_mixed(args.mixed), env)
        if args.big:
            through_cli(corpus_big(args.big), env)


if __name__ == "__main__":
    main()
