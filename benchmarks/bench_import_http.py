"""Import as users do it: over HTTP, in the patterns clients use, and through the CLI.

    .venv/bin/python benchmarks/bench_import_http.py [--counts 60,600] [--modes sequential,browser,saver]
        [--views] [--cli] [--big 200] [--plugins] [--big-mixed 60] [--before REV] [--repeat N] [--profile FILE]

Upload patterns, each on a new server, side by side: ``sequential`` (one client posting 25-file batches
one after another, as scripts and the ComfyUI saver do), ``browser`` (one file a request, as many in flight
as the browser's uploader sends) and ``saver`` (16 ComfyUI renders in one request through the node
pack's client, against the same 16 sent as the browser sends them). For each: pictures/s, the server's
cores used, and its RSS before, at the peak, right after and 30 s after. ``--views`` adds the derived
bytes (thumbnails) per 1,000 pictures at import and after every picture's preview was viewed once. The
corpus is ``bench_import.corpus_peer`` (the recipe of the comparison with the public PixlStash). The
server runs without entry-point plugins unless ``--plugins``
(the figures of the issue are for a library with no ML plugin).

``--big-mixed N`` adds ``bench_import.corpus_big_mixed`` (big JPEGs and PNGs of 1-4K pixels as upscalers
and cameras write them, with duplicates, a cut file and a text file) sent sequentially, and its decode
limit: the sum of each distinct file's single-core preparation (``analyse_file``: hash, decode,
thumbnails, metadata, as an import worker runs it, timed warm as in a running server) divided by the
cores, so the import's speed reads as a share of what this machine can do; beside it, the same files
prepared without HTTP by one thread a core in one process (as the server's workers) and by one process a
core. The server's cores are split out for its main thread (the event loop reading the requests).
``--repeat N`` runs each pattern N times, the trees (``--before``)
alternating and the decode limit measured again each round, and prints the medians: one run of two
seconds varies by 5-10 % on a shared machine.
"""

from __future__ import annotations

import argparse
import atexit
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import msgspec
from PIL import Image
from PIL.PngImagePlugin import PngInfo

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_cli_start import _tree_path  # noqa: E402
from bench_http import free_port, rss_mb  # noqa: E402
from bench_import import BENCH, corpus_big, corpus_big_mixed, corpus_mixed, corpus_peer, photo  # noqa: E402

REPO = HERE.parent

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """CPU seconds of a process, or of one of its threads (the main thread's id is the process's)."""
    with open(f"/proc/{pid}/task/{thread}/stat" if thread else f"/proc/{pid}/stat") as stat:
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


class Server:
    """``pixlstash serve`` on a new library in its own process, with a write token and one small upload
    done (so that "before" counts the code an upload loads once: formats, multipart parsing, and the
    difference is what the import's size leaves behind)."""

    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.library = BENCH / name
        shutil.rmtree(self.library, ignore_errors=True)
        created = pixlstash("token", "create", "--library", str(self.library), "--scope", "write", "--json", env=env)
        self.token = json.loads(created.stdout)["token"]
        self.url = f"http://127.0.0.1:{free_port()}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pixlstash", "serve", "--library", str(self.library), "--port", self.url[17:]],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self.pid = self.process.pid
        self.client = httpx.Client(base_url=self.url, headers=self.headers, timeout=600)
        while True:
            try:
                if self.client.get("/api/v1/version").status_code == 200:
                    break
            except httpx.TransportError:
                if self.process.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.05)
        time.sleep(2)
        self.cold = rss_mb(self.pid)
        small = BENCH / "warm-up.png"
        Image.new("RGB", (64, 48), (200, 30, 30)).save(small)
        self.client.post("/api/v1/uploads", files=[("file", (small.name, small.read_bytes()))]).raise_for_status()
        time.sleep(2)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def close(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(60)


class Tally(msgspec.Struct):
    imported: int = 0
    duplicates: int = 0
    skipped: int = 0

    def add(self, report: dict) -> None:
        self.imported += len(report["imported"])
        self.duplicates += len(report["duplicates"])
        self.skipped += len(report["skipped"])


def sequential(server: Server, files: list[Path], per_request: int) -> Tally:
    """One client posting batches one after another, each when the last was answered (the ComfyUI
    Picture Saver, scripts)."""
    tally = Tally()
    for start in range(0, len(files), per_request):
        parts = [
            ("file", (f.name, f.read_bytes(), "application/octet-stream")) for f in files[start : start + per_request]
        ]
        response = server.client.post("/api/v1/uploads", files=parts)
        response.raise_for_status()
        tally.add(response.json())
    return tally


UPLOADER = REPO / "pixlstash-web" / "pixlstash_web" / "static" / "js" / "uploads.js"
AT_ONCE = int(re.search(r"const AT_ONCE = (\d+);", UPLOADER.read_text()).group(1))


def browser(server: Server, files: list[Path], at_once: int = AT_ONCE) -> Tally:
    """The browser's uploader (``uploads.js``): one file a request, its ``AT_ONCE`` requests in flight,
    the file first and then its ``last_modified`` field."""
    tally, lock, queue = Tally(), threading.Lock(), list(reversed(files))

    def send() -> None:
        with httpx.Client(base_url=server.url, headers=server.headers, timeout=600) as client:
            while True:
                with lock:
                    if not queue:
                        return
                    path = queue.pop()
                modified = str(int(path.stat().st_mtime * 1000))
                response = client.post(
                    "/api/v1/uploads",
                    files=[("file", (path.name, path.read_bytes(), "application/octet-stream"))],
                    data={"last_modified": modified},
                )
                response.raise_for_status()
                with lock:
                    tally.add(response.json())

    senders = [threading.Thread(target=send) for _ in range(at_once)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join()
    return tally


def saver(server: Server, files: list[Path]) -> Tally:
    """The ComfyUI Picture Saver's upload: every picture of the batch in one request, through the node
    pack's own client (``comfyui-pixlstash/client.py``)."""
    spec = importlib.util.spec_from_file_location("pixlstash_node_client", REPO / "comfyui-pixlstash" / "client.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    client = module.Client(server.url, server.token, timeout=600)
    tally = Tally()
    tally.add(client.post_files("/uploads", {}, [("file", (f.name, f.read_bytes(), "image/png")) for f in files]))
    return tally


MODES = {
    "sequential": lambda server, files, args: sequential(server, files, args.per_request),
    "browser": lambda server, files, args: browser(server, files),
    "saver": lambda server, files, args: saver(server, files),
}


class Figures(msgspec.Struct):
    label: str
    files: int
    seconds: float
    tally: Tally
    cores: float
    loop_cores: float  # of ``cores``, the server's main thread: its event loop, reading the requests
    client_cores: float
    before: float
    peak: float
    right_after: float
    later: float

    def row(self) -> str:
        return (
            f"| {self.label} | {self.files} | {self.seconds:.2f} s | {self.tally.imported / self.seconds:.1f} | "
            f"{self.cores:.2f} ({self.loop_cores:.2f}) | {self.client_cores:.2f} | {self.before:.0f} | "
            f"{self.peak:.0f} | {self.right_after:.0f} | {self.later:.0f} ({self.later - self.before:+.0f}) |"
        )


def measure(
    label: str, send, files: list[Path], env: dict[str, str], settle: float, profile: Path | None = None
) -> tuple[Figures, Server]:
    """One upload pattern on a new server: time, the server's CPU and its RSS before, at the peak, right
    after and ``settle`` seconds after. With ``profile``, py-spy samples every thread of the server (and
    the native frames) while the files are sent, into that file as collapsed stacks."""
    server = Server("import-http-lib", env)
    spy = None
    if profile is not None:
        spy = subprocess.Popen(
            [
                "py-spy",
                "record",
                "--pid",
                str(server.pid),
                "--threads",
                "--idle",
                "--rate",
                "200",
                "--format",
                "raw",
                "--output",
                str(profile),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1)  # attached
    before = rss_mb(server.pid)
    sampler = Sampler(server.pid)
    sampler.start()
    cpu_before, client_before = cpu_seconds(server.pid), cpu_seconds(os.getpid())
    loop_before = cpu_seconds(server.pid, server.pid)
    started = time.perf_counter()
    tally = send(server, files)
    elapsed = time.perf_counter() - started
    cpu, client_cpu = cpu_seconds(server.pid) - cpu_before, cpu_seconds(os.getpid()) - client_before
    loop_cpu = cpu_seconds(server.pid, server.pid) - loop_before
    if spy is not None:
        spy.send_signal(subprocess.signal.SIGINT)
        spy.wait()
    sampler.running = False
    right_after = rss_mb(server.pid)
    time.sleep(settle)
    figures = Figures(
        label,
        len(files),
        elapsed,
        tally,
        cpu / elapsed,
        loop_cpu / elapsed,
        client_cpu / elapsed,
        before,
        sampler.peak,
        right_after,
        rss_mb(server.pid),
    )
    return figures, server


def previews(server: Server) -> None:
    """Derived bytes at import and after every picture's preview has been viewed once."""
    at_import = derived_bytes(server.library)
    pictures = server.client.get("/api/v1/pictures", params={"limit": 1000}).json()["items"]
    imported = len(pictures)
    viewed = time.perf_counter()
    for picture in pictures:
        server.client.get(f"/api/v1/media/{picture['content_hash']}/preview.webp").raise_for_status()
    per_preview = (time.perf_counter() - viewed) / max(1, len(pictures))
    after_views = derived_bytes(server.library)
    print(
        f"derived bytes per 1,000 pictures: {at_import / imported * 1000 / 1e6:.1f} MB at import, "
        f"{after_views / imported * 1000 / 1e6:.1f} MB after viewing every picture's preview "
        f"(a first view made its preview in {per_preview * 1000:.0f} ms on average)"
    )
    print(f"RSS after the views: {rss_mb(server.pid):.0f} MB", end="", flush=True)
    time.sleep(30)
    print(f", {rss_mb(server.pid):.0f} MB 30 s later")


def renders(count: int) -> Path:
    """``count`` 1024x1024 PNGs as ComfyUI saves them (compress level 4, the graph in text chunks)."""
    folder = BENCH / f"corpus-renders-{count}"
    if folder.exists():
        return folder
    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    graph = json.dumps({str(n): {"class_type": "KSampler", "inputs": {"seed": n, "steps": 20}} for n in range(30)})
    for n in range(count):
        info = PngInfo()
        info.add_text("prompt", graph)
        photo(1024, 1024, 900 + n).save(tmp / f"ComfyUI_{n:05d}.png", pnginfo=info, compress_level=4)
    tmp.rename(folder)
    return folder


HEADER = (
    "| pattern | files | time | pictures/s | server cores (its event loop) | client cores "
    "| RSS before | peak | right after | {settle} s after |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)


def trees(args, env: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    """The code to measure: this tree, after ``--before REV``'s (its packages first on the server's
    PYTHONPATH, from a git worktree), so that both run in one go on the same machine."""
    if not args.before:
        return [("", env)]
    worktree = BENCH / "before-tree"
    if not getattr(args, "worktree_made", False):
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=REPO, capture_output=True)
        subprocess.run(["git", "worktree", "add", "--detach", str(worktree), args.before], cwd=REPO, check=True)
        atexit.register(subprocess.run, ["git", "worktree", "remove", "--force", str(worktree)], cwd=REPO)
        args.worktree_made = True
    return [(f"{args.before[:9]}: ", {**env, "PYTHONPATH": _tree_path(worktree)}), ("now: ", env)]


def over_http(args, env: dict[str, str]) -> None:
    rows: list[Figures] = []
    for count in args.counts:
        files = sorted(corpus_peer(count).iterdir())
        runs = [(tree, mode) for _ in range(args.repeat) for mode in args.modes for tree in trees(args, env)]
        for (tree, tree_env), mode in runs:
            if mode == "saver":
                continue
            label = f"{tree}{mode}" + (
                f", {args.per_request} a request" if mode == "sequential" else f", {AT_ONCE} in flight"
            )
            figures, server = measure(label, lambda s, f, m=mode: MODES[m](s, f, args), files, tree_env, args.settle)
            if args.views and count == args.counts[-1] and mode == args.modes[0]:
                previews(server)
            server.close()
            rows.append(figures)
            print(rows[-1].row(), flush=True)
    if "saver" in args.modes:
        files = sorted(renders(16).iterdir())
        for label, mode in (
            ("ComfyUI saver, 16 renders in one request", "saver"),
            ("the same 16 as the browser sends them", "browser"),
        ):
            figures, server = measure(label, lambda s, f, m=mode: MODES[m](s, f, args), files, env, args.settle)
            server.close()
            rows.append(figures)
            print(rows[-1].row(), flush=True)
    print()
    print(HEADER.format(settle=int(args.settle)))
    for figures in rows:
        print(figures.row())
    print_medians(rows)


def print_medians(rows: list[Figures]) -> None:
    """With ``--repeat``: each pattern's median pictures/s and server cores over its runs (one run of a
    few seconds varies by 5-10 % on a shared machine; the runs of each tree alternate)."""
    by_label: dict[str, list[Figures]] = {}
    for figures in rows:
        by_label.setdefault(figures.label, []).append(figures)
    for label, runs in by_label.items():
        if len(runs) > 1:
            rates = [f.tally.imported / f.seconds for f in runs]
            print(
                f"  {label}: median of {len(runs)} runs {statistics.median(rates):.1f} pictures/s "
                f"(runs {', '.join(f'{r:.1f}' for r in rates)}), "
                f"{statistics.median(f.cores for f in runs):.2f} server cores"
            )


class Ceiling(msgspec.Struct):
    """What this machine does with the distinct files and no HTTP: seconds for all of them on one core (the
    decode limit's), with one thread a core in one process (as the server's import workers run), and with
    one process a core."""

    pictures: int
    one_core: float
    threads: float
    processes: float


# Run in a fresh process with the server's environment, so the same libraries (libvips or not) decode.
_CEILING = """
import json, sys, time, multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from pixlstash.media.analyse import analyse_file
from pixlstash.media.hashing import content_hash

def prepare(path):
    try:
        analyse_file(path); return 1
    except Exception:  # the cut PNG and the text file: refused, as the import refuses them
        return 0

def every(pool, files):
    for future in [pool.submit(prepare, path) for path in files]:
        future.result()

if __name__ == "__main__":
    cores, seen, files, one_core, pictures = int(sys.argv[1]), set(), [], 0.0, 0
    for name in sys.argv[2:]:
        digest = content_hash(name)
        if digest not in seen:
            seen.add(digest)
            files.append(Path(name))
    # Warm, as a running server is: the first PNG loads libvips, the first of each format its Pillow plugin
    # (half a second in all, a fifth of the cold pass); every file is then in the page cache too.
    for path in files:
        prepare(path)
    for path in files:
        began = time.perf_counter()
        pictures += prepare(path)
        one_core += time.perf_counter() - began
    files.sort(key=lambda path: -path.stat().st_size)  # largest first, as the import's workers take them
    with ProcessPoolExecutor(cores, mp_context=multiprocessing.get_context("spawn")) as pool:
        every(pool, files[-cores:])  # each process imports its libraries before the clock starts
        began = time.perf_counter(); every(pool, files); processes = time.perf_counter() - began
    with ThreadPoolExecutor(cores) as pool:
        began = time.perf_counter(); every(pool, files); threads = time.perf_counter() - began
    print(json.dumps([pictures, one_core, threads, processes]))
"""


def ceiling(files: list[Path], env: dict[str, str]) -> Ceiling:
    """The distinct files' preparation (``analyse_file``: hash, decode, thumbnails, metadata) timed one file
    at a time on one core, then by one thread a core and by one process a core."""
    script = BENCH / "ceiling.py"  # a file, not -c: spawned processes import their parent's main module
    BENCH.mkdir(parents=True, exist_ok=True)
    script.write_text(_CEILING)
    cores = os.cpu_count() or 1
    done = subprocess.run(
        [sys.executable, str(script), str(cores), *map(str, files)], capture_output=True, text=True, env=env, check=True
    )
    return Ceiling(*json.loads(done.stdout))


def big_mixed(args, env: dict[str, str]) -> None:
    files = sorted(corpus_big_mixed(args.big_mixed).iterdir())
    megabytes = sum(path.stat().st_size for path in files) / 1e6
    cores = os.cpu_count() or 1
    print(HEADER.format(settle=int(args.settle)))
    rows, limits = [], []
    for _ in range(args.repeat):  # the limit is measured between the runs too: it drifts with the machine
        machine = ceiling(files, env)
        one_core, pictures = machine.one_core, machine.pictures
        limits.append(pictures / (one_core / cores))
        for tree, tree_env in trees(args, env):
            label = f"{tree}big mixed ({len(files)} files, {megabytes:.0f} MB), {args.per_request} a request"
            figures, server = measure(
                label, lambda s, f: sequential(s, f, args.per_request), files, tree_env, args.settle, args.profile
            )
            server.close()
            rows.append(figures)
            print(figures.row())
            rate = figures.tally.imported / figures.seconds
            print(
                f"  {tree}{rate:.1f} pictures/s = {rate / limits[-1]:.0%} of the decode limit, on "
                f"{figures.cores:.2f} of {cores} cores"
            )
        print(
            f"decode limit: {one_core:.2f} s of one core for the {pictures} distinct pictures, / {cores} cores = "
            f"{limits[-1]:.1f} pictures/s"
        )
        for how, seconds in (("threads in one process", machine.threads), ("processes", machine.processes)):
            print(
                f"  the same files, no HTTP, {cores} {how}: {seconds:.2f} s = {pictures / seconds:.1f} pictures/s "
                f"= {pictures / seconds / limits[-1]:.0%} of the decode limit"
            )
    if args.repeat > 1:
        limit = statistics.median(limits)
        print(f"  median decode limit of {len(limits)}: {limit:.1f} pictures/s")
        print_medians(rows)
        for tree, _ in trees(args, env):
            runs = [f for f in rows if f.label.startswith(tree)] if tree else rows
            rate = statistics.median(f.tally.imported / f.seconds for f in runs)
            print(f"  {tree or 'this tree: '}{rate / limit:.0%} of the median decode limit")


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
    parser.add_argument("--counts", default="60,600", help="files in the peer-recipe corpora, comma-separated")
    parser.add_argument("--modes", default="sequential,browser,saver", help="upload patterns: " + ", ".join(MODES))
    parser.add_argument("--per-request", type=int, default=25)
    parser.add_argument("--settle", type=float, default=30.0, help="seconds before the last RSS reading")
    parser.add_argument("--views", action="store_true", help="also view every preview once (derived bytes)")
    parser.add_argument("--cli", action="store_true", help="also import through the CLI")
    parser.add_argument("--big", type=int, default=200, help="3000x2000 JPEGs for the CLI run (0 to skip)")
    parser.add_argument("--mixed", type=int, default=2000, help="mixed corpus for the CLI run (0 to skip)")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--plugins", action="store_true", help="load entry-point plugins (ML engines)")
    parser.add_argument("--big-mixed", type=int, default=0, help="big files over HTTP with the decode limit")
    parser.add_argument("--before", metavar="REV", help="also measure this git revision's server, side by side")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each HTTP pattern (alternating trees): medians")
    parser.add_argument("--profile", type=Path, help="with --big-mixed: py-spy's samples of the server, to this file")
    args = parser.parse_args()
    env = environment(args.plugins)
    print(f"machine: {os.cpu_count()} cores; plugins: {'installed ones' if args.plugins else 'none'}")
    args.counts = [int(n) for n in args.counts.split(",")]
    args.modes = [m for m in args.modes.split(",") if m]
    if unknown := set(args.modes) - set(MODES):
        parser.error(f"unknown mode: {', '.join(sorted(unknown))}")
    if not args.no_http:
        over_http(args, env)
    if args.big_mixed:
        big_mixed(args, env)
    corpus = corpus_peer(args.counts[-1])
    if args.cli:
        through_cli(corpus, env)
        if args.mixed:
            through_cli(corpus_mixed(args.mixed), env)
        if args.big:
            through_cli(corpus_big(args.big), env)


if __name__ == "__main__":
    main()
