"""Vector search at scale: index build, single-query latency, recall@10 against brute force, and HTTP.

    .venv/bin/python benchmarks/synthetic_library.py .bench/ann1m --pictures 1000000 --embeddings 512 \\
        --tags-per-picture 2 --sets 50 --characters 10
    .venv/bin/python benchmarks/bench_ann.py .bench/ann1m [--queries 1000] [--http-requests 300]

The library's embeddings belong to engine ``clip/ViT-B-32``; this script registers a stand-in engine
with that id whose text encoder maps a text to a vector from the same distribution, so the real
search path (engine, index, filters, summaries) runs in process and over HTTP.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "pixlstash-core"))
sys.path.insert(0, str(ROOT / "pixlstash-web"))

from pixlstash import Embedder, hookimpl, make_plugin_manager  # noqa: E402
from pixlstash.library import Library  # noqa: E402

ENGINE_ID = "clip/ViT-B-32"


class StandInClip(Embedder):
    """Texts become vectors near stored ones (a stored vector plus noise, chosen by the text's hash)."""

    id = ENGINE_ID
    version = "1"
    dimensions = 512

    def __init__(self, library_db: Path) -> None:
        self.db = library_db

    def embed_images(self, images):
        raise NotImplementedError

    def embed_texts(self, texts):
        import apsw

        rows = []
        connection = apsw.Connection(str(self.db), flags=apsw.SQLITE_OPEN_READONLY)
        for text in texts:
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
            rng = np.random.default_rng(seed)
            picture = int(rng.integers(1, 1_000_000))
            blob = connection.execute("SELECT vector FROM embeddings WHERE picture_id = ?", (picture,)).fetchone()[0]
            vector = np.frombuffer(blob, dtype=np.float32) + rng.normal(scale=0.02, size=512).astype(np.float32)
            rows.append(vector / np.linalg.norm(vector))
        connection.close()
        return np.stack(rows)


class StandInPlugin:
    def __init__(self, db: Path) -> None:
        self.db = db

    @hookimpl
    def register_embedders(self, register):
        register(StandInClip(self.db))


def plugin_manager(root: Path):
    pm = make_plugin_manager(load_entry_points=False)
    pm.register(StandInPlugin(root / "library.db"), name="stand-in-clip")
    return pm


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles(samples: list[float]) -> str:
    values = np.array(samples) * 1000
    return f"p50 {np.percentile(values, 50):.2f} ms, p99 {np.percentile(values, 99):.2f} ms"


def in_process(root: Path, queries: int, rebuild: bool) -> None:
    with Library.open(root, plugin_manager=plugin_manager(root)) as library:
        index = library.indexes.get(ENGINE_ID)
        if rebuild:
            for path in (index.path, index.meta_path):
                path.unlink(missing_ok=True)
        before = rss_mb()
        started = time.perf_counter()
        count = len(index)  # loads the saved index, or builds it from the database
        seconds = time.perf_counter() - started
        action = "built" if index.rebuilds else "loaded"
        print(
            f"index {action}: {count:,} vectors in {seconds:.1f} s; file {index.path.stat().st_size / 2**20:.0f} MiB;"
            f" peak RSS {before:.0f} -> {rss_mb():.0f} MB"
        )

        print("loading vectors for brute force ...", flush=True)
        keys, matrix = [], []
        for batch_keys, vectors in library.vectors.iter_embeddings(ENGINE_ID, batch=50_000):
            keys.append(batch_keys)
            matrix.append(vectors)
        all_keys = np.concatenate(keys).astype(np.int64)
        all_vectors = np.concatenate(matrix)
        rng = np.random.default_rng(1)
        picks = rng.integers(0, len(all_keys), queries)
        # A query near a stored picture, as another shot of the same subject would be (cosine ~0.9 to it).
        probes = all_vectors[picks] + rng.normal(scale=0.02, size=(queries, all_vectors.shape[1])).astype(np.float32)
        probes /= np.linalg.norm(probes, axis=1, keepdims=True)

        latencies, hits = [], 0
        for probe in probes:
            started = time.perf_counter()
            found, _ = index.search(probe[None, :], 10)
            latencies.append(time.perf_counter() - started)
            exact = all_keys[np.argpartition(-(all_vectors @ probe), 10)[:10]]
            hits += len(set(found[0].tolist()) & set(exact.tolist()))
        print(f"index search, top 10, single query: {percentiles(latencies)}; recall@10 {hits / (10 * queries):.4f}")

        texts = [f"query {n}" for n in range(min(queries, 300))]
        library.search.semantic(texts[0], limit=10)  # warm
        full = []
        for text in texts:
            started = time.perf_counter()
            library.search.semantic(text, limit=50)
            full.append(time.perf_counter() - started)
        print(f"semantic search in process (encode + index + filter + summaries, top 50): {percentiles(full)}")
        tagged = []
        for text in texts[:100]:
            started = time.perf_counter()
            library.search.semantic(text, limit=50, f=_filter(library))
            tagged.append(time.perf_counter() - started)
        print(
            f"semantic search restricted to a set ({library.count(_filter(library)):,} pictures): {percentiles(tagged)}"
        )


def _filter(library):
    from pixlstash.domain import PictureFilter

    return PictureFilter(collections=[1])


def over_http(root: Path, requests: int) -> None:
    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    paths = [str(ROOT / "benchmarks"), str(ROOT / "pixlstash-core"), str(ROOT / "pixlstash-web")]
    code = (
        f"import sys, uvicorn; sys.path[:0] = {paths!r};"
        "from bench_ann import plugin_manager; from pathlib import Path;"
        "from pixlstash_web import create_app; from pixlstash_web.app import WebSettings;"
        "from pixlstash.instance import InstanceOptions;"
        "from pixlstash.auth import Authenticator;"
        f"root = Path({str(root)!r}); auth = Authenticator(root);"
        "print(auth.create_token('bench', 'read').secret, flush=True); auth.close();"
        "app = create_app(library_path=root, plugin_manager=plugin_manager(root),"
        " settings=WebSettings(services=InstanceOptions("
        "watch_folders=False, snapshot_schedule=False, enrichment=False)));"
        f"uvicorn.run(app, host='127.0.0.1', port={port}, log_level='warning')"
    )
    server = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        token = server.stdout.readline().strip()
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}, timeout=600
        )
        deadline = time.time() + 600
        while time.time() < deadline:
            try:
                if client.get("/api/v1/version").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        started = time.perf_counter()
        client.get("/api/v1/search/semantic", params={"q": "warm up", "limit": 10}).raise_for_status()
        print(f"HTTP first search (loads the index file): {time.perf_counter() - started:.2f} s")
        latencies = []
        for n in range(requests):
            started = time.perf_counter()
            response = client.get("/api/v1/search/semantic", params={"q": f"http query {n}", "limit": 50})
            latencies.append(time.perf_counter() - started)
            response.raise_for_status()
        print(f"HTTP GET /api/v1/search/semantic, top 50: {percentiles(latencies)}")
        similar = []
        for n in range(requests):
            started = time.perf_counter()
            client.post("/api/v1/search/similar", json={"picture_ids": [n + 1], "limit": 50}).raise_for_status()
            similar.append(time.perf_counter() - started)
        print(f"HTTP POST /api/v1/search/similar, one stored picture, top 50: {percentiles(similar)}")
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--http-requests", type=int, default=300)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--rebuild", action="store_true", help="delete the saved index first and time the build")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores")
    in_process(args.path, args.queries, args.rebuild)
    if not args.no_http:
        over_http(args.path, args.http_requests)


if __name__ == "__main__":
    main()
