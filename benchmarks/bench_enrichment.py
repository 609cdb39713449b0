"""Enrichment pipeline overhead, and where the time goes with a real (tiny) CLIP model.

    .venv/bin/python benchmarks/bench_enrichment.py [--pictures 3000] [--clip]

Imports a generated corpus once (``.bench/enrich``), then runs the real worker over every picture:

- with a zero-cost embedder (it returns a precomputed vector and never looks at pixels), so the figure
  is the pipeline alone: queue claims, thumbnail decoding, batching, database writes, index updates;
- with ``--clip``, with the tiny open_clip model the tests build (random weights, 64 px input), and a
  breakdown of one batch: decoding, open_clip preprocessing, the forward pass.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "pixlstash-core"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "pixlstash-plugins" / "clip" / "tests"))

from pixlstash import Embedder, hookimpl, make_plugin_manager  # noqa: E402
from pixlstash.domain import EnrichmentSettings  # noqa: E402
from pixlstash.engines import Task  # noqa: E402
from pixlstash.library import Library  # noqa: E402

BENCH = ROOT / ".bench"


class ZeroCostEmbedder(Embedder):
    id = "bench/zero-cost"
    dimensions = 512
    preferred_batch_size = 64
    input_size = 64

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        vectors = rng.normal(size=(4096, 512)).astype(np.float32)
        self.vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        self.n = 0

    def embed_images(self, images):
        start = self.n
        self.n += len(images)
        return self.vectors[np.arange(start, start + len(images)) % len(self.vectors)]


class BenchPlugin:
    def __init__(self, extra=()) -> None:
        self.extra = list(extra)

    @hookimpl
    def register_embedders(self, register):
        register(ZeroCostEmbedder())
        for engine in self.extra:
            register(engine)


def corpus(count: int) -> Path:
    from corpus import photo

    folder = BENCH / f"corpus-enrich-{count}"
    if not folder.is_dir():
        folder.mkdir(parents=True)
        for n in range(count):
            photo(640, 480, seed=n).save(folder / f"{n:05d}.jpg", quality=85)
    return folder


def library_with(count: int, pm) -> Library:
    root = BENCH / f"enrich-{count}"
    if not (root / "library.db").exists():
        folder = corpus(count)
        with Library.open(root, plugin_manager=pm) as library:
            library.engines.configure(EnrichmentSettings(on_import=[]))
            started = time.perf_counter()
            report = library.import_paths([folder])
            print(f"imported {len(report.imported)} pictures in {time.perf_counter() - started:.1f} s (not timed)")
    library = Library.open(root, plugin_manager=pm)
    library.engines.configure(EnrichmentSettings(on_import=[]))
    return library


def run(library: Library, engine_id: str, label: str) -> float:
    job = library.enrichment.enqueue(Task.EMBEDDER, engine_id=engine_id, force=True)
    worker = library.new_enrichment_worker()
    started = time.perf_counter()
    processed = worker.run_until_idle()
    seconds = time.perf_counter() - started
    final = library.enrichment.job(job.id)
    assert final.state == "done" and final.done == job.total, final
    print(f"{label}: {processed} pictures in {seconds:.2f} s = {processed / seconds:,.0f} pictures/s")
    return processed / seconds


def clip_breakdown(library: Library, engine, batch: int = 32) -> None:
    from pixlstash.engines.inputs import load_input

    ids = [row[0] for row in library.db.query("SELECT id FROM pictures ORDER BY id LIMIT ?", (batch,))]
    inputs = library.pictures.media_inputs(ids)
    started = time.perf_counter()
    images = [load_input(library.files, pid, *inputs[pid], engine.input_size) for pid in ids]
    decode = time.perf_counter() - started
    import torch

    model, preprocess, _, _ = engine._ready()
    started = time.perf_counter()
    tensor = torch.stack([preprocess(image) for image in images])
    prep = time.perf_counter() - started
    started = time.perf_counter()
    with torch.inference_mode():
        model.encode_image(tensor)
    forward = time.perf_counter() - started
    per = 1000 / len(ids)
    print(
        f"tiny CLIP, one batch of {len(ids)}: decode {decode * per:.2f} ms/picture, open_clip preprocessing "
        f"{prep * per:.2f} ms/picture, forward pass {forward * per:.2f} ms/picture (torch threads: "
        f"{torch.get_num_threads()})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pictures", type=int, default=3000)
    parser.add_argument("--clip", action="store_true", help="also run the tiny CLIP model end to end")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores")
    extra = []
    models = None
    if args.clip:
        from tiny_clip import build_tiny_clip

        models = Path(tempfile.mkdtemp(prefix="pixlstash-bench-models-"))
        build_tiny_clip(models / "clip" / "tiny-bench")
        os.environ["PIXLSTASH_MODELS_DIR"] = str(models)
        import pixlstash_clip
        from pixlstash_clip.catalogue import configured_models

        extra = [pixlstash_clip.ClipEmbedder(m) for m in configured_models() if m.key == "tiny-bench"]
    pm = make_plugin_manager(load_entry_points=False)
    pm.register(BenchPlugin(extra), name="bench")
    library = library_with(args.pictures, pm)
    try:
        run(library, ZeroCostEmbedder.id, "zero-cost embedder, cold thumbnails cache")
        run(library, ZeroCostEmbedder.id, "zero-cost embedder, second run")
        if extra:
            run(library, extra[0].id, "tiny CLIP (64 px, random weights) end to end")
            clip_breakdown(library, extra[0])
    finally:
        library.close()
        if models:
            shutil.rmtree(models, ignore_errors=True)


if __name__ == "__main__":
    main()
