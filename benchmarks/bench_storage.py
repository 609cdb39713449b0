"""Issue 47: originals in a bucket against originals on the disk, side by side in one run, on a real
SeaweedFS on loopback (started here): an import of 600 mixed files (JPEG photos, PNG renders, a few
videos) into each, time to first byte of an original and of a video seek over HTTP, a migration's
objects/s, and whole-library backups: the folder library to a folder and to the bucket, and the bucket
library into its own bucket (the service copies the originals). Each figure is one CLI command's wall time,
its start included. Run: .venv/bin/python benchmarks/bench_storage.py [--files 600]"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "pixlstash-plugins" / "s3" / "tests")]

from corpus import mp4, photo  # noqa: E402
from seaweed import ACCESS_KEY, SECRET_KEY, SeaweedFS  # noqa: E402


def corpus(folder: Path, files: int) -> Path:
    folder.mkdir(parents=True)
    for n in range(files):
        if n % 100 == 99:
            mp4(folder / f"v{n:04d}.mp4", frames=48, size=(320, 240))
        elif n % 2:
            photo(1024 + n % 97, 768, seed=n).save(folder / f"p{n:04d}.jpg", quality=88)
        else:
            photo(832, 1216 - n % 89, seed=n).save(folder / f"r{n:04d}.png", compress_level=1)
    return folder


def run(command: list[str], env: dict[str, str]) -> float:
    return timed(command, env)[0]


def timed(command: list[str], env: dict[str, str], beside: int | None = None) -> tuple[float, float, float]:
    """Wall seconds, the command's CPU seconds, and those of the process ``beside`` meanwhile."""
    import resource
    import subprocess

    before, beside_before = resource.getrusage(resource.RUSAGE_CHILDREN), cpu_seconds(beside)
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, used, cpu_seconds(beside) - beside_before


def cpu_seconds(pid: int | None) -> float:
    """User and system CPU seconds of a running process so far (0 without one)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def first_bytes(library: Path, env: dict[str, str]) -> tuple[float, float]:
    """Median ms to the first byte of an original, and of a 64 KB range half way into a video."""
    import httpx
    from live_server import LiveServer

    from pixlstash.domain import PictureFilter
    from pixlstash.library import Library
    from pixlstash.plugins import make_plugin_manager

    os.environ.update(env)
    lib = Library.open(library, plugin_manager=make_plugin_manager(environ={"PIXLSTASH_LOAD_PLUGINS": "s3"}))
    try:
        items = lib.page(PictureFilter(), None, None, 200).items
        pictures = [p for p in items if p.media_type == "image"][:30]
        videos = lib.page(PictureFilter(media_type="video"), None, None, 20).items
        with LiveServer(lib) as live:
            token = live.token("read")
            whole, seek = [], []
            with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {token}"}) as client:
                for p in pictures:
                    started = time.perf_counter()
                    with client.stream("GET", f"/api/v1/media/{p.content_hash}/original") as response:
                        next(response.iter_raw(1))
                    whole.append(time.perf_counter() - started)
                for p in videos * 5:
                    middle = p.file_size // 2
                    started = time.perf_counter()
                    with client.stream(
                        "GET",
                        f"/api/v1/media/{p.content_hash}/original",
                        headers={"Range": f"bytes={middle}-{middle + 65535}"},
                    ) as response:
                        next(response.iter_raw(1))
                    seek.append(time.perf_counter() - started)
        return statistics.median(whole) * 1000, statistics.median(seek) * 1000
    finally:
        lib.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as scratch:
        root = Path(scratch)
        files = corpus(root / "in", args.files)
        size = sum(p.stat().st_size for p in files.iterdir())
        seaweed = SeaweedFS(root / "seaweedfs").start_single()
        try:
            seaweed.make_bucket("bench")
            base = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}
            base |= {
                "PIXLSTASH_LOAD_PLUGINS": "s3",
                "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            }
            cli = [sys.executable, "-m", "pixlstash"]
            local_env = base | {"PIXLSTASH_LIBRARY": str(root / "local")}
            bucket_env = base | {"PIXLSTASH_LIBRARY": str(root / "bucket")}
            run([*cli, "storage", "use", "s3://bench/library", "--endpoint", seaweed.endpoint], bucket_env)
            weed = seaweed.processes["server"].pid
            local_s, local_cpu, _ = timed([*cli, "import", str(files)], local_env)
            bucket_s, bucket_cpu, weed_cpu = timed([*cli, "import", str(files)], bucket_env, beside=weed)
            print(f"{args.files} files, {size / 1e6:.0f} MB, on {os.cpu_count()} cores")
            print(f"import into the library's folder   {args.files / local_s:7.1f} files/s  ({local_s:.1f} s)")
            print(f"import into SeaweedFS (S3)         {args.files / bucket_s:7.1f} files/s  ({bucket_s:.1f} s)")
            print(f"the bucket against the folder      {bucket_s / local_s:7.2f}x the time")
            # Where the time goes on cores shared with the object store: the import's own CPU, and SeaweedFS's.
            print(
                f"CPU seconds of the import           folder {local_cpu:5.1f}   bucket {bucket_cpu:5.1f}"
                f" ({bucket_cpu / local_cpu:.2f}x);  SeaweedFS meanwhile {weed_cpu:5.1f}"
            )
            local_first = first_bytes(root / "local", local_env)
            bucket_first = first_bytes(root / "bucket", bucket_env)
            print(
                f"first byte of an original          folder {local_first[0]:5.1f} ms   bucket {bucket_first[0]:5.1f} ms"
            )
            print(
                f"first byte of a video seek (64 KB) folder {local_first[1]:5.1f} ms   bucket {bucket_first[1]:5.1f} ms"
            )
            migrate_s = run([*cli, "storage", "migrate", "s3://bench/moved", "--endpoint", seaweed.endpoint], local_env)
            print(f"migration folder -> bucket         {args.files / migrate_s:7.1f} objects/s ({migrate_s:.1f} s)")
            backup = [*cli, "backup", "create"]
            to_folder_s = run([*backup, str(root / "backup")], local_env)
            to_bucket_s = run([*backup, "s3://bench/backup", "--endpoint", seaweed.endpoint], local_env)
            same_bucket_s = run([*backup, "s3://bench/backup-of-bucket"], bucket_env)
            for what, seconds in (
                ("backup, folder library -> folder ", to_folder_s),
                ("backup, folder library -> bucket ", to_bucket_s),
                ("backup, bucket library -> its own", same_bucket_s),
            ):
                print(f"{what}  {size / 1e6 / seconds:7.1f} MB/s     ({seconds:.1f} s)")
        finally:
            seaweed.stop()


if __name__ == "__main__":
    main()
