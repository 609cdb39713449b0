"""The anime plugin at full size against what this machine can compute: pictures/s through the enrichment
worker for detection and CCIP recognition, each graph's FLOPs, and the fraction of the machine's fp32 peak
(measured in the same run, as ``bench_engines_full.py`` does for issue 37).

    .venv/bin/python benchmarks/bench_anime.py [--pictures 24]

Graphs, with random weights and the real architectures, built once into ``.bench/anime-hub`` (a Hugging
Face cache, where the plugin finds them):
- the detector: YOLOv8s with one class at 640 px, built by Ultralytics' own ``DetectionModel`` from its
  ``yolov8s.yaml`` (the architecture DeepGHS trained ``head_detect_v2.0_s`` on) and exported with the
  published signature (``images`` in, ``output0`` ``[1, 5, 8400]`` out). Ultralytics is installed without
  its dependencies into ``.bench/ultralytics`` for this, and only here.
- CCIP's feature graph: timm's CAFormer-S36 at 384 px with a 768-wide head (the published graph's input
  and output; its exact depth is not published, so this is a stand-in of the family), and the tests'
  metric graph.

"Through the worker": a job over N imported 1216x832 illustrations (SDXL's common size, two figures each)
after a one-picture job that loaded the models; it reads the stored rendition, detects, crops, extracts
features and writes faces and vectors. "Alone": the detector's forward pass, and CCIP's on a batch of 8
crops, in this process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "benchmarks"), str(ROOT / "pixlstash-plugins" / "anime" / "tests")]

from bench_engines_full import peak_gflops, through_worker  # noqa: E402
from full_models import _counted  # noqa: E402

BENCH = ROOT / ".bench"
HUB = BENCH / "anime-hub"
REVISION = "0123456789abcdef0123456789abcdef01234567"
DETECTOR, CCIP = "head_detect_v2.0_s", "ccip-caformer-24-randaug-pruned"


def _ultralytics() -> None:
    target = BENCH / "ultralytics"
    if not (target / "ultralytics").is_dir():
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), "ultralytics"],
            check=True,
        )
    sys.path.insert(0, str(target))
    os.environ.setdefault("YOLO_CONFIG_DIR", str(BENCH / "ultralytics-config"))


def _folder(repo: str, name: str) -> Path:
    base = HUB / f"models--{repo.replace('/', '--')}"
    (base / "refs").mkdir(parents=True, exist_ok=True)
    (base / "refs" / "main").write_text(REVISION)
    folder = base / "snapshots" / REVISION / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def build_detector() -> float:
    """YOLOv8s (one class, 640 px) as ``model.onnx``; returns its FLOPs a picture."""
    folder = _folder("deepghs/anime_head_detection", DETECTOR)
    if (folder / "flops.json").exists():
        return json.loads((folder / "flops.json").read_text())["flops"]
    _ultralytics()
    import onnx
    import torch
    from ultralytics.nn.tasks import DetectionModel

    torch.manual_seed(0)
    model = DetectionModel("yolov8s.yaml", nc=1, verbose=False).eval()
    for module in model.modules():  # the export path: boxes and confidences as one [1, 5, 8400] tensor
        if type(module).__name__ == "Detect":
            module.export, module.format = True, "onnx"
    sample = torch.rand(1, 3, 640, 640)
    flops = _counted(model, sample)
    path = folder / "model.onnx"
    torch.onnx.export(
        model, sample, str(path), input_names=["images"], output_names=["output0"], opset_version=17, dynamo=False
    )
    graph = onnx.load(str(path))
    for key, value in (("names", "{0: 'head'}"), ("imgsz", "[640, 640]")):
        graph.metadata_props.add(key=key, value=value)
    onnx.save(graph, str(path))
    (folder / "flops.json").write_text(json.dumps({"flops": flops}))
    return flops


def build_ccip() -> float:
    """CAFormer-S36 at 384 px with a 768-wide head as ``model_feat.onnx``, and the metric graph; returns
    the feature graph's FLOPs a crop."""
    folder = _folder("deepghs/ccip_onnx", CCIP)
    if (folder / "flops.json").exists():
        return json.loads((folder / "flops.json").read_text())["flops"]
    import onnx
    import timm
    import torch
    from tiny_anime import _metric

    torch.manual_seed(0)
    model = torch.nn.Sequential(timm.create_model("caformer_s36", num_classes=0), torch.nn.Linear(512, 768)).eval()
    sample = torch.rand(1, 3, 384, 384)
    flops = _counted(model, sample)
    torch.onnx.export(
        model,
        sample,
        str(folder / "model_feat.onnx"),
        input_names=["input"],
        output_names=["output"],
        dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
        opset_version=17,
        dynamo=False,
    )
    onnx.save(_metric(np.random.default_rng(0)), str(folder / "model_metrics.onnx"))
    (folder / "metrics.json").write_text(json.dumps({"threshold": 0.178}))
    (folder / "flops.json").write_text(json.dumps({"flops": flops}))
    return flops


def illustrations(count: int) -> Path:
    """1216x832 PNGs, two figures each, in ``.bench``."""
    from PIL import Image, ImageDraw

    folder = BENCH / f"anime-corpus-{count}"
    if folder.is_dir() and len(list(folder.glob("*.png"))) == count:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for n in range(count):
        image = Image.new("RGB", (1216, 832), tuple(int(v) for v in rng.integers(180, 256, 3)))
        draw = ImageDraw.Draw(image)
        for x in (300, 850):
            r = int(rng.integers(110, 170))
            y = int(rng.integers(220, 380))
            draw.rectangle((x - r, y + r, x + r, 832), fill=(90, 90, 110))
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 225, 205))
            draw.chord((x - r, y - r, x + r, y + r), 180, 360, fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
        image.save(folder / f"{n:04d}.png")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pictures", type=int, default=24)
    args = parser.parse_args()
    detector_flops, ccip_flops = build_detector(), build_ccip()
    os.environ["HF_HUB_CACHE"] = str(HUB)
    os.environ["PIXLSTASH_MODELS_DIR"] = str(BENCH / "anime-models-unused")
    import pixlstash_anime
    from PIL import Image

    from pixlstash import make_plugin_manager
    from pixlstash.domain import EnrichmentSettings, PictureFilter
    from pixlstash.engines import Task
    from pixlstash.engines.registry import EngineRegistry
    from pixlstash.library import Library

    pm = make_plugin_manager(load_entry_points=False)
    pm.register(pixlstash_anime, name="anime")
    peak = peak_gflops()
    folder = illustrations(args.pictures)
    root = BENCH / f"anime-library-{args.pictures}"
    with Library.open(root, plugin_manager=pm) as library:
        library.engines.configure(EnrichmentSettings(on_import=[]))
        if not library.count():
            library.import_paths([folder])
        ids = library.query.ids(PictureFilter())
        engine_id = f"anime/{DETECTOR}"
        rate, split = through_worker(library, Task.FACES, engine_id, ids)
        crops = library.db.query("SELECT count(*) FROM faces WHERE engine_id = ?", (engine_id,))[0][0] / len(ids)
    engine = {e.id: e for e in EngineRegistry.from_plugin_manager(pm).all()}[engine_id]
    engine.load("cpu")
    image = Image.open(next(folder.glob("*.png"))).convert("RGB")
    crop = image.crop((150, 100, 450, 500))
    engine.detect(image)
    engine.features([crop] * 8)
    started = time.perf_counter()
    for _ in range(5):
        engine.detect(image)
    detect_rate = 5 / (time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(3):
        engine.features([crop] * 8)
    ccip_rate = 24 / (time.perf_counter() - started)
    per_picture = detector_flops + crops * ccip_flops
    print(f"fp32 peak of this machine: {peak:.0f} GFLOP/s; {os.cpu_count()} cores")
    print(
        f"boxes a picture (each a CCIP crop): {crops:.2f}; worker's time a picture (ms): "
        + ", ".join(f"{k} {v:.0f}" for k, v in split.items())
    )
    print("| what | GFLOP | pictures/s | GFLOP/s | of peak |")
    print("|---|---:|---:|---:|---:|")
    rows = [
        ("through the worker: detection + CCIP of each box", per_picture, rate),
        ("YOLOv8s detector alone, 640 px", detector_flops, detect_rate),
        ("CCIP (CAFormer-S36, 384 px) alone, a batch of 8 crops, per crop", ccip_flops, ccip_rate),
    ]
    for label, flops, per_second in rows:
        done = per_second * flops / 1e9
        print(f"| {label} | {flops / 1e9:.1f} | {per_second:.2f} | {done:.0f} | {done / peak:.0%} |")


if __name__ == "__main__":
    main()
