"""The WD tagger through the real enrichment pipeline: overhead with a tiny model, and what a CPU user
gets from a graph the size of wd-vit-tagger-v3 (ViT-B/16 at 448 px, random weights).

    .venv/bin/python benchmarks/bench_wd_tagger.py [--pictures 10000] [--vit-pictures 64]

Imports a generated corpus once (``.bench/wd-<count>``), then runs the worker over every picture with
the tiny model the tests build (the figure is the pipeline: claims, thumbnail decoding, preprocessing,
onnxruntime, writing predictions). The ViT-B graph runs through the same pipeline on ``--vit-pictures``
pictures (a 10,000-picture run takes hours on two cores; the rate is per picture, so it extrapolates),
with a breakdown of one batch: decoding, preprocessing, the forward pass.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "pixlstash-plugins" / "wd-tagger" / "tests"))

import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from pixlstash import make_plugin_manager  # noqa: E402
from pixlstash.domain import EnrichmentSettings, PictureFilter  # noqa: E402
from pixlstash.engines import Task  # noqa: E402
from pixlstash.library import Library  # noqa: E402

BENCH = ROOT / ".bench"
TAG_COUNT = 10_861  # wd-vit-tagger-v3's selected_tags.csv


def vit_b_graph(folder: Path, side: int = 448, patch: int = 16, width: int = 768, depth: int = 12) -> Path:
    """A ViT-B/16 with WD's input and output signature (NHWC BGR 0-255 in, sigmoid scores out)."""
    rng = np.random.default_rng(0)
    inits, nodes = [], []

    def weight(name: str, *shape: int, scale: float = 0.02) -> str:
        inits.append(numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name))
        return name

    def const(name: str, values, dtype=np.int64) -> str:
        inits.append(numpy_helper.from_array(np.asarray(values, dtype=dtype), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [output], **attrs))
        return output

    tokens = (side // patch) ** 2
    x = node("Transpose", ["input"], "nchw", perm=[0, 3, 1, 2])
    x = node(
        "Conv",
        [x, weight("patch_w", width, 3, patch, patch), weight("patch_b", width)],
        "patches",
        strides=[patch, patch],
    )
    x = node("Reshape", [x, const("flat_shape", [0, width, tokens])], "flat")
    x = node("Transpose", [x], "seq", perm=[0, 2, 1])
    x = node("Add", [x, weight("pos", 1, tokens, width)], "x0")
    heads, head_dim = width // 64, 64
    split_shape = const("split_shape", [0, 0, heads, head_dim])
    merge_shape = const("merge_shape", [0, 0, width])
    scale = const("scale", [1 / np.sqrt(head_dim)], np.float32)

    def ln(src: str, name: str) -> str:
        return node(
            "LayerNormalization",
            [src, weight(f"{name}_g", width, scale=1.0), weight(f"{name}_b", width)],
            name,
            axis=-1,
        )

    for i in range(depth):
        h = ln(x, f"ln1_{i}")
        q, k, v = (node("MatMul", [h, weight(f"{n}{i}", width, width)], f"{n}o{i}") for n in ("q", "k", "v"))
        q, k, v = (node("Reshape", [t, split_shape], f"{t}r") for t in (q, k, v))
        q = node("Transpose", [q], f"qt{i}", perm=[0, 2, 1, 3])
        k = node("Transpose", [k], f"kt{i}", perm=[0, 2, 3, 1])
        v = node("Transpose", [v], f"vt{i}", perm=[0, 2, 1, 3])
        a = node("Softmax", [node("Mul", [node("MatMul", [q, k], f"qk{i}"), scale], f"qks{i}")], f"att{i}", axis=-1)
        o = node("Transpose", [node("MatMul", [a, v], f"av{i}")], f"avt{i}", perm=[0, 2, 1, 3])
        o = node(
            "MatMul", [node("Reshape", [o, merge_shape], f"merged{i}"), weight(f"proj{i}", width, width)], f"proj_o{i}"
        )
        x = node("Add", [x, o], f"res1_{i}")
        h = ln(x, f"ln2_{i}")
        h = node("Gelu", [node("MatMul", [h, weight(f"fc1_{i}", width, 4 * width)], f"fc1o{i}")], f"gelu{i}")
        x = node("Add", [x, node("MatMul", [h, weight(f"fc2_{i}", 4 * width, width)], f"fc2o{i}")], f"res2_{i}")
    pooled = node("ReduceMean", [x, const("seq_axis", [1])], "pooled", keepdims=0)
    logits = node(
        "Add",
        [node("MatMul", [pooled, weight("head_w", width, TAG_COUNT)], "head"), weight("head_b", TAG_COUNT)],
        "logits",
    )
    node("Sigmoid", [logits], "predictions_sigmoid")
    graph = helper.make_graph(
        nodes,
        "vit-b-wd",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", side, side, 3])],
        [helper.make_tensor_value_info("predictions_sigmoid", TensorProto.FLOAT, ["batch", TAG_COUNT])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    model.ir_version = 9
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(folder / "model.onnx"))
    with open(folder / "selected_tags.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["tag_id", "name", "category", "count"])
        for n in range(TAG_COUNT):
            category = 9 if n < 4 else 4 if n > TAG_COUNT - 2000 else 0
            writer.writerow([n, f"tag_{n}", category, 1])
    return folder


def library_with(count: int, pm) -> Library:
    from corpus import photo

    root = BENCH / f"wd-{count}"
    if not (root / "library.db").exists():
        folder = BENCH / f"corpus-wd-{count}"
        if not folder.is_dir():
            folder.mkdir(parents=True)
            for n in range(count):
                photo(512, 384, seed=n).save(folder / f"{n:05d}.jpg", quality=85)
        with Library.open(root, plugin_manager=pm) as library:
            library.engines.configure(EnrichmentSettings(on_import=[]))
            report = library.import_paths([folder])
            print(f"imported {len(report.imported)} pictures (not timed)")
    library = Library.open(root, plugin_manager=pm)
    library.engines.configure(EnrichmentSettings(on_import=[]))
    return library


def run(library: Library, engine_id: str, ids: list[int] | None, label: str) -> float:
    job = library.enrichment.enqueue(Task.TAGGER, ids, engine_id=engine_id, force=True)
    worker = library.new_enrichment_worker()
    started = time.perf_counter()
    processed = worker.run_until_idle()
    seconds = time.perf_counter() - started
    final = library.enrichment.job(job.id)
    assert final.state == "done" and final.done == job.total and final.failed == 0, final
    print(f"{label}: {processed} pictures in {seconds:.2f} s = {processed / seconds:,.1f} pictures/s")
    return processed / seconds


def breakdown(library: Library, engine, ids: list[int]) -> None:
    from pixlstash_wd_tagger.preprocess import prepare_batch

    from pixlstash.engines.inputs import load_input

    inputs = library.pictures.media_inputs(ids)
    started = time.perf_counter()
    images = [load_input(library.files, pid, *inputs[pid], engine.input_size) for pid in ids]
    decode = time.perf_counter() - started
    started = time.perf_counter()
    batch = prepare_batch(images, engine.input_size)
    prep = time.perf_counter() - started
    session = engine._session
    started = time.perf_counter()
    session.run(None, {session.get_inputs()[0].name: batch})
    forward = time.perf_counter() - started
    per = 1000 / len(ids)
    print(
        f"  one batch of {len(ids)}: decode {decode * per:.2f} ms/picture, preprocessing {prep * per:.2f} "
        f"ms/picture, forward pass {forward * per:.1f} ms/picture (onnxruntime threads: {engine.threads})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pictures", type=int, default=10_000)
    parser.add_argument("--vit-pictures", type=int, default=64)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores")
    import pixlstash_wd_tagger
    from tiny_wd import build_tiny_wd

    models = Path(tempfile.mkdtemp(prefix="pixlstash-bench-wd-"))
    build_tiny_wd(models / "wd-tagger" / "tiny-wd")
    started = time.perf_counter()
    vit_b_graph(models / "wd-tagger" / "vit-b-448")
    print(
        f"built the ViT-B/16 448 px graph ({(models / 'wd-tagger/vit-b-448/model.onnx').stat().st_size / 1e6:.0f} MB) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    os.environ["PIXLSTASH_MODELS_DIR"] = str(models)
    pm = make_plugin_manager(load_entry_points=False)
    pm.register(pixlstash_wd_tagger, name="wd-tagger")
    library = library_with(args.pictures, pm)
    try:
        ids = library.query.ids(PictureFilter(), limit=args.pictures)
        run(library, "wd-tagger/tiny-wd", None, f"tiny WD model (16 px), {len(ids)} pictures")
        engine = library.engines.by_id("wd-tagger/tiny-wd")
        breakdown(library, engine, ids[:16])
        vit = library.engines.by_id("wd-tagger/vit-b-448")
        vit.load("cpu")
        run(library, "wd-tagger/vit-b-448", ids[: args.vit_pictures], f"ViT-B/16 448 px, {args.vit_pictures} pictures")
        breakdown(library, vit, ids[:16])
    finally:
        library.close()


if __name__ == "__main__":
    main()
