"""Every vision engine at full size (random weights, the real shapes: ``full_models.py``) against what this
machine can compute: pictures/s end to end through the enrichment worker, each model's FLOPs per picture,
and the fraction of the machine's fp32 peak, measured in the same run with a large matrix product.

    .venv/bin/python benchmarks/bench_engines_full.py [--only clip,wd,faces] [--scale 1.0]

For each engine and runtime (torch, ONNX Runtime, its int8 copy):
- **through the worker**: a job over N pictures (1600x1200 JPEGs; each engine reads the stored rendition
  its input size needs), after a one-picture job that started the engine's process and loaded the model
  (exports and int8 copies are made then, once). Where the time went: reading pictures (decoding waits),
  the engine (its preprocessing, the forward pass, the hand-over between processes), writing results.
- **the model alone**: the forward pass on a preprocessed batch, in this process, at the engine's batch size.
- **int8's cost**: the int8 copy against fp32 on the same pictures: the cosine of CLIP embeddings, and for
  WD the share of fp32's top-10 tags that int8 also ranks in its top 10.
Then batch sizes and thread counts for one model of each kind (the model alone).

Models are built once into ``.bench/full-models`` (several GB); the library into ``.bench/engines-full``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from full_models import build_clip, build_faces, build_wd, flops_of  # noqa: E402

from pixlstash import make_plugin_manager  # noqa: E402
from pixlstash.domain import EnrichmentSettings, PictureFilter  # noqa: E402
from pixlstash.engines import Task  # noqa: E402
from pixlstash.library import Library  # noqa: E402

BENCH = ROOT / ".bench"
MODELS = BENCH / "full-models"
PICTURES = 96

# (kind, label, engine id, plugin settings for each runtime, pictures through the worker at --scale 1)
ENGINES = [
    ("clip", "CLIP ViT-B/32 (224 px)", "clip/vit-b-32", ("torch", "onnx", "onnx-int8"), 96),
    ("clip", "CLIP ViT-L/14 (224 px)", "clip/vit-l-14", ("torch", "onnx", "onnx-int8"), 24),
    ("clip", "SigLIP so400m/14 (384 px)", "clip/siglip-so400m-384", ("torch", "onnx", "onnx-int8"), 8),
    ("wd", "WD ViT v3 (ViT-B/16, 448 px)", "wd-tagger/wd-vit-v3", ("fp32", "int8"), 24),
    ("wd", "WD EVA02-Large v3 (448 px)", "wd-tagger/wd-eva02-large-v3", ("fp32", "int8"), 8),
    ("faces", "SCRFD-10G + ArcFace R50 (640 px)", "faces/full-size", ("fp32",), 24),
]
TASKS = {"clip": Task.EMBEDDER, "wd": Task.TAGGER, "faces": Task.FACES}


def peak_gflops() -> float:
    """The best of fp32 4096x4096 matrix products through torch (MKL/oneDNN) and NumPy (OpenBLAS)."""
    import torch

    best = 0.0
    a, b = torch.randn(4096, 4096), torch.randn(4096, 4096)
    x, y = a.numpy(), b.numpy()
    for multiply in (lambda: torch.mm(a, b), lambda: x @ y):
        multiply()
        for _ in range(3):
            started = time.perf_counter()
            multiply()
            best = max(best, 2 * 4096**3 / (time.perf_counter() - started) / 1e9)
    return best


def settings_for(kind: str, runtime: str) -> tuple[str, dict] | None:
    if kind == "clip":
        return "clip", {"image_runtime": runtime}
    if kind == "wd":
        return "wd-tagger", {"int8": runtime == "int8"}
    return None


def library_with(pm) -> Library:
    from corpus import photo

    root = BENCH / f"engines-full-{PICTURES}"
    if not (root / "library.db").exists():
        folder = BENCH / f"corpus-1600-{PICTURES}"
        if not folder.is_dir():
            folder.mkdir(parents=True)
            for n in range(PICTURES):
                photo(1600, 1200, seed=n).save(folder / f"{n:05d}.jpg", quality=88)
        with Library.open(root, plugin_manager=pm) as library:
            library.engines.configure(EnrichmentSettings(on_import=[]))
            print(f"imported {len(library.import_paths([folder]).imported)} pictures (not timed)")
    library = Library.open(root, plugin_manager=pm)
    library.engines.configure(EnrichmentSettings(on_import=[]))
    return library


def through_worker(library: Library, task: Task, engine_id: str, ids: list[int]) -> tuple[float, dict]:
    warm = library.enrichment.enqueue(task, ids[:1], engine_id=engine_id, force=True)
    library.new_enrichment_worker().run_until_idle()  # starts the engine's process and loads the model
    assert library.enrichment.job(warm.id).failed == 0, library.enrichment.job(warm.id)
    job = library.enrichment.enqueue(task, ids, engine_id=engine_id, force=True)
    worker = library.new_enrichment_worker()
    started = time.perf_counter()
    processed = worker.run_until_idle()
    seconds = time.perf_counter() - started
    final = library.enrichment.job(job.id)
    assert final.state == "done" and final.failed == 0, final
    return processed / seconds, {k: v / processed * 1000 for k, v in worker.seconds.items()}


# -- the model alone, in this process -----------------------------------------------------------------


def clip_forward(engine_id: str, runtime: str, images: list) -> tuple[float, np.ndarray, int]:
    import torch

    from pixlstash_clip import ClipEmbedder
    from pixlstash_clip.catalogue import model_named

    engine = ClipEmbedder(model_named(engine_id.split("/", 1)[1]), runtime)
    engine.load("cpu")
    model, preprocess, _, _ = engine._loaded
    batch = torch.stack([preprocess(image) for image in images])
    if engine._tower is not None:
        forward = lambda: engine._tower(batch.numpy())  # noqa: E731
    else:

        def forward():
            with torch.inference_mode():
                return model.visual(batch).numpy()

    rate, out = _timed(forward, len(images))
    engine.unload()
    return rate, out, engine.preferred_batch_size


def wd_forward(engine_id: str, runtime: str, images: list) -> tuple[float, np.ndarray, int]:
    from pixlstash_wd_tagger import WdTagger
    from pixlstash_wd_tagger.catalogue import configured_models
    from pixlstash_wd_tagger.preprocess import prepare_batch

    model = next(m for m in configured_models() if m.engine_id == engine_id)
    engine = WdTagger(model, int8=runtime == "int8")
    engine.load("cpu")
    batch = prepare_batch(images, engine.input_size)
    session = engine._session
    rate, out = _timed(lambda: session.run(None, {session.get_inputs()[0].name: batch})[0], len(images))
    engine.unload()
    return rate, out, engine.preferred_batch_size


def faces_forward(engine_id: str, runtime: str, images: list) -> tuple[float, np.ndarray, int]:
    from pixlstash_faces import InsightFaceExtractor
    from pixlstash_faces.catalogue import configured_packs

    pack = next(p for p in configured_packs() if p.engine_id == engine_id)
    engine = InsightFaceExtractor(pack)
    engine.load("cpu")
    rate, out = _timed(lambda: np.asarray([len(f) for f in engine.extract(images)]), len(images))
    engine.unload()
    return rate, out, engine.preferred_batch_size


FORWARD = {"clip": clip_forward, "wd": wd_forward, "faces": faces_forward}


def _timed(forward, count: int) -> tuple[float, np.ndarray]:
    started = time.perf_counter()
    out = forward()  # the first call sizes ONNX Runtime's arena and torch's caches
    best = float("inf")
    for _ in range(2 if time.perf_counter() - started < 5 else 1):
        started = time.perf_counter()
        out = forward()
        best = min(best, time.perf_counter() - started)
    return count / best, out


def model_images(library: Library, engine_id: str, ids: list[int], count: int) -> list:
    from pixlstash.engines.inputs import load_input

    engine = library.engines.by_id(engine_id)
    inputs = library.pictures.media_inputs(ids[:count])
    return [load_input(library.files, pid, *inputs[pid], engine.input_size) for pid in ids[:count]]


def int8_cost(kind: str, fp32: np.ndarray, int8: np.ndarray) -> str:
    if kind == "clip":
        a = fp32 / np.linalg.norm(fp32, axis=1, keepdims=True)
        b = int8 / np.linalg.norm(int8, axis=1, keepdims=True)
        cosines = (a * b).sum(axis=1)
        return f"embedding cosine to fp32: mean {cosines.mean():.4f}, least {cosines.min():.4f}"
    top_fp32, top_int8 = np.argsort(-fp32, axis=1)[:, :10], np.argsort(-int8, axis=1)[:, :10]
    shared = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(top_fp32, top_int8, strict=True)])
    return f"top-10 tags shared with fp32: {shared:.0%}; largest confidence change {np.abs(fp32 - int8).max():.4f}"


def sweep(library: Library, ids: list[int], kinds: set[str]) -> None:
    """Batch sizes and intra-op threads, the model alone: CLIP ViT-B/32 on torch, ViT-L/14's int8 tower, WD
    ViT on ONNX Runtime."""
    import torch
    from pixlstash_wd_tagger import WdTagger
    from pixlstash_wd_tagger.catalogue import configured_models
    from pixlstash_wd_tagger.preprocess import prepare_batch

    for engine_id, label, runtime, sizes in (
        ("clip/vit-b-32", "CLIP ViT-B/32", "torch", (1, 8, 32)),
        ("clip/vit-l-14", "CLIP ViT-L/14", "onnx-int8", (1, 4, 16)),
    ):
        if "clip" not in kinds:
            break
        images = model_images(library, engine_id, ids, max(sizes))
        flops = flops_of(MODELS / engine_id)
        for threads in (1, 2) if runtime == "torch" else (2,):
            torch.set_num_threads(threads)
            for size in sizes:
                rate, _, _ = clip_forward(engine_id, runtime, images[:size])
                print(
                    f"  {label} {runtime}, {threads} thread(s), batch {size:2d}: {rate:6.2f} pictures/s, "
                    f"{rate * flops / 1e9:5.0f} GFLOP/s",
                    flush=True,
                )
        torch.set_num_threads(os.cpu_count() or 1)
    if "wd" not in kinds:
        return
    model = next(m for m in configured_models() if m.engine_id == "wd-tagger/wd-vit-v3")
    images = model_images(library, "wd-tagger/wd-vit-v3", ids, 8)
    flops = flops_of(MODELS / "wd-tagger" / "wd-vit-v3")
    for threads in (1, 2):
        engine = WdTagger(model, threads=threads)
        engine.load("cpu")
        for size in (1, 4, 8):
            batch = prepare_batch(images[:size], engine.input_size)
            session = engine._session
            rate, _ = _timed(lambda b=batch, s=session: s.run(None, {s.get_inputs()[0].name: b}), size)
            print(
                f"  WD ViT v3 onnxruntime, {threads} thread(s), batch {size:2d}: {rate:6.2f} pictures/s, "
                f"{rate * flops / 1e9:5.0f} GFLOP/s"
            )
        engine.unload()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="clip,wd,faces", help="kinds of engine (or engine ids) to measure")
    parser.add_argument("--scale", type=float, default=1.0, help="times the pictures each engine runs on")
    parser.add_argument("--skip-sweep", action="store_true")
    args = parser.parse_args()
    wanted = set(args.only.split(","))
    kinds = {kind for kind, _, engine_id, _, _ in ENGINES if kind in wanted or engine_id in wanted}
    os.environ["PIXLSTASH_MODELS_DIR"] = str(MODELS)
    os.environ["HF_HUB_OFFLINE"] = "1"
    started = time.perf_counter()
    for kind, _, engine_id, _, _ in ENGINES:
        if kind in wanted or engine_id in wanted:
            name = engine_id.split("/", 1)[1]
            {"clip": build_clip, "wd": build_wd, "faces": lambda m, _: build_faces(m)}[kind](MODELS, name)
    print(f"models ready in {MODELS} ({time.perf_counter() - started:.0f} s)")
    peak = peak_gflops()
    print(f"{os.cpu_count()} cores; fp32 peak measured with a 4096x4096 matrix product: {peak:.0f} GFLOP/s\n")

    import pixlstash_faces
    import pixlstash_wd_tagger

    import pixlstash_clip

    pm = make_plugin_manager(load_entry_points=False)
    for module, name in ((pixlstash_clip, "clip"), (pixlstash_wd_tagger, "wd-tagger"), (pixlstash_faces, "faces")):
        pm.register(module, name=name)
    library = library_with(pm)
    rows = []
    try:
        ids = library.query.ids(PictureFilter(), limit=PICTURES)
        for kind, label, engine_id, runtimes, count in ENGINES:
            if kind not in wanted and engine_id not in wanted:
                continue
            flops = flops_of(MODELS / engine_id)
            outputs = {}
            for runtime in runtimes:
                chosen = settings_for(kind, runtime)
                if chosen:
                    library.plugin_settings.update(*chosen)
                picked = ids[: max(2, round(count * args.scale))]
                rate, split = through_worker(library, TASKS[kind], engine_id, picked)
                per_picture = flops
                if kind == "faces":  # the detector once, the recogniser once per face found
                    found = library.db.scalar("SELECT count(*) FROM faces WHERE engine_id = ?", (engine_id,))
                    faces = found / library.db.scalar(
                        "SELECT count(DISTINCT picture_id) FROM faces WHERE engine_id = ?", (engine_id,)
                    )
                    counts = json.loads((MODELS / engine_id / "flops.json").read_text())
                    per_picture = counts["detector"] + faces * counts["recogniser"]
                images = model_images(library, engine_id, ids, 32 if flops < 5e10 else 4 if flops < 5e11 else 2)
                alone, outputs[runtime], _ = FORWARD[kind](engine_id, runtime, images)
                rows.append((label, runtime, per_picture, rate, alone, len(images), split))
                print(
                    f"{label} [{runtime}]: {rate:.2f} pictures/s through the worker "
                    f"({rate * per_picture / 1e9:.0f} GFLOP/s, {rate * per_picture / 1e9 / peak:.0%} of peak; "
                    f"per picture: read {split['read']:.0f} ms, engine {split['engine']:.0f} ms, write "
                    f"{split['write']:.1f} ms); the model alone {alone:.2f} pictures/s "
                    f"({alone * per_picture / 1e9 / peak:.0%} of peak)",
                    flush=True,
                )
            quantized = [r for r in outputs if "int8" in r]
            if quantized:
                reference = outputs["onnx" if "onnx" in outputs else "fp32"]
                print(f"  int8's cost: {int8_cost(kind, reference, outputs[quantized[0]])}", flush=True)
        print(
            "\n| engine | runtime | GFLOP a picture | through the worker: pictures/s | GFLOP/s | of peak "
            "| the model alone: pictures/s | of peak |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for label, runtime, flops, rate, alone, batch, _ in rows:
            print(
                f"| {label} | {runtime} | {flops / 1e9:.1f} | {rate:.2f} | {rate * flops / 1e9:.0f} | "
                f"{rate * flops / 1e9 / peak:.0%} | {alone:.2f} ({batch} in one run) | "
                f"{alone * flops / 1e9 / peak:.0%} |"
            )
        if not args.skip_sweep:
            print("\nbatch sizes and threads, the model alone:")
            sweep(library, ids, kinds)
    finally:
        library.close()


if __name__ == "__main__":
    main()
