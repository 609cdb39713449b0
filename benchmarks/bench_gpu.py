"""Enrichment at the GPU's limit (issue 61): the AI engines at full size (random weights, the real shapes)
through PixlStash's own enrichment worker, beside the card's own peaks measured in the same run.

    python3 benchmarks/bench_gpu.py [--small | --fidelity] [--only peaks,clip,siglip,wd,joycaption,florence]
        [--json FILE]

``--small`` runs every step on this machine's CPU with the tests' tiny shapes (minutes): the same code,
figures that only say it works. ``--fidelity`` measures only the lower precisions against fp32 at full
size, on the GPU or, without one, on the CPU (torch's CPU autocast; JoyCaption's 8B in fp32 wants 32 GB).
Without either, on one NVIDIA GPU (``benchmarks/README.md`` says how to carry PixlStash there as wheels),
it prints:

- the card's peaks: bf16 and fp32 matrix products (TFLOP/s) and device memory copy bandwidth (GB/s);
- vision towers (CLIP ViT-L/14, SigLIP so400m/14-384): pictures/s through the worker and for the model
  alone, the share of the bf16 peak their FLOPs make, the batch each chose, where the worker's time went
  (read / engine / write per picture), and bf16 against fp32 embeddings (cosine, mean and least);
- WD EVA02-Large v3 (ONNX): pictures/s through the worker on the provider it got (and why), the fp16
  graph's top-10 tags against fp32's;
- JoyCaption's shape (SigLIP so400m + Llama-3.1-8B): captions/s and tokens/s through the worker at 48
  and 256 new tokens, the batch it chose, the decode step against the time to read the weights with the
  static and the dynamic cache, the prefill's share of the bf16 peak, and bf16 captions against fp32's;
- Florence-2-large's shape: captions/s through the worker, its batch and cache, bf16 against fp32.

Models are built into ``.bench/gpu-models`` (the 8B in bfloat16 on the GPU: 16 GB on disk), pictures and
libraries into a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
for folder in ("tests", "benchmarks", *(f"pixlstash-plugins/{p}/tests" for p in ("clip", "wd-tagger", "joycaption"))):
    sys.path.insert(0, str(ROOT / folder))
sys.path.insert(0, str(ROOT / "pixlstash-plugins" / "florence2" / "tests"))

from pixlstash import make_plugin_manager  # noqa: E402
from pixlstash.domain import EnrichmentSettings  # noqa: E402
from pixlstash.engines import Task  # noqa: E402
from pixlstash.library import Library  # noqa: E402

KINDS = ("peaks", "clip", "siglip", "wd", "joycaption", "florence")
RESULTS: dict[str, dict] = {}
FIDELITY_ONLY = False  # --fidelity: each section builds its model and compares the precisions, nothing else


def say(line: str) -> None:
    print(line, flush=True)


# -- the card -----------------------------------------------------------------------------------------


def card_peaks(torch, device: str, small: bool) -> dict:
    """bf16 and fp32 matrix products (TFLOP/s) and a device-to-device copy (GB/s, bytes read + written)."""
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 as fp32: the engines' fp32 runs use no TF32
    side = 512 if small else 8192
    found = {}
    for name, dtype in (("bf16", torch.bfloat16), ("fp32", torch.float32)):
        a = torch.randn(side, side, device=device, dtype=dtype)
        b = torch.randn(side, side, device=device, dtype=dtype)
        a @ b
        sync()
        runs = 3 if small else 20
        started = time.perf_counter()
        for _ in range(runs):
            a @ b
        sync()
        found[f"{name}_tflops"] = 2 * side**3 * runs / (time.perf_counter() - started) / 1e12
    size = (64 if small else 2048) << 20
    source = torch.empty(size, dtype=torch.uint8, device=device)
    target = torch.empty_like(source)
    target.copy_(source)
    sync()
    started = time.perf_counter()
    for _ in range(10):
        target.copy_(source)
    sync()
    found["copy_gbps"] = 2 * size * 10 / (time.perf_counter() - started) / 1e9
    return found


# -- pictures and libraries ---------------------------------------------------------------------------


def make_pictures(folder: Path, count: int, side: int = 512) -> Path:
    """``count`` distinct photo-like JPEGs (a gradient, coloured blocks and noise), made on every core."""
    folder.mkdir(parents=True, exist_ok=True)
    height = side * 3 // 4
    y, x = np.mgrid[0:height, 0:side].astype(np.float32)
    base = np.stack([x / side * 255, y / height * 255, (x + y) / (side + height) * 255], -1)

    def one(n: int) -> None:
        from PIL import Image

        rng = np.random.default_rng(n)
        picture = base.copy()
        for _ in range(6):
            x0, y0 = rng.integers(0, side - 32), rng.integers(0, height - 32)
            picture[y0 : y0 + rng.integers(16, 160), x0 : x0 + rng.integers(16, 160)] = rng.integers(0, 255, 3)
        picture += rng.normal(0, 6, picture.shape)
        Image.fromarray(picture.clip(0, 255).astype(np.uint8)).save(folder / f"{n:05d}.jpg", quality=88)

    with ThreadPoolExecutor(os.cpu_count()) as pool:
        list(pool.map(one, range(count)))
    return folder


def open_library(root: Path, pictures: Path, plugins: dict) -> tuple[Library, list[int]]:
    pm = make_plugin_manager(load_entry_points=False)
    for name, module in plugins.items():
        pm.register(module, name=name)
    library = Library.open(root, plugin_manager=pm)
    library.engines.configure(EnrichmentSettings(on_import=[]))
    started = time.perf_counter()
    ids = [p.picture_id for p in library.import_paths([pictures]).imported]
    say(f"  imported {len(ids)} pictures in {time.perf_counter() - started:.0f} s (not timed below)")
    return library, ids


def through_worker(library: Library, task: Task, engine_id: str, warm: list[int], timed: list[int], **params):
    """A job over ``warm`` (the engine's process starts, the model loads, a compile runs), then one over
    ``timed``: items/s, and the device, batch and note the engine ran with, and where the time went."""
    first = library.enrichment.enqueue(task, warm, engine_id=engine_id, parameters=params, force=True)
    started = time.perf_counter()
    library.new_enrichment_worker().run_until_idle()
    warm_seconds = time.perf_counter() - started
    assert library.enrichment.job(first.id).failed == 0, library.enrichment.job(first.id)
    job = library.enrichment.enqueue(task, timed, engine_id=engine_id, parameters=params, force=True)
    worker = library.new_enrichment_worker()
    started = time.perf_counter()
    done = worker.run_until_idle()
    seconds = time.perf_counter() - started
    final = library.enrichment.job(job.id)
    assert final.state == "done" and final.failed == 0, final
    device, batch, note = library.engines.runtime.running().get(engine_id, ("?", 0, ""))
    split = {k: round(v / max(done, 1) * 1000, 2) for k, v in worker.seconds.items()}
    return {"per_second": done / seconds, "device": device, "batch": batch, "note": note, "split_ms": split,
            "warm_seconds": warm_seconds, "items": done}  # fmt: skip


def described(run: dict) -> str:
    note = f", {run['note']}" if run["note"] else ""
    split = run["split_ms"]
    return (
        f"on {run['device']}, batches of {run['batch']}{note}; per item: read {split['read']:.1f} ms, engine "
        f"{split['engine']:.1f} ms, write {split['write']:.1f} ms (beside the engine); warm-up "
        f"{run['warm_seconds']:.0f} s"
    )


def token_agreement(tokenizer, ours: list[str], reference: list[str]) -> tuple[float, float]:
    """The share of the reference's tokens that ours has at the same place: mean and least over captions."""
    shares = []
    for a, b in zip(ours, reference, strict=True):
        x, y = tokenizer(a)["input_ids"], tokenizer(b)["input_ids"]
        shares.append(sum(p == q for p, q in zip(x, y, strict=False)) / max(1, len(y)))
    return float(np.mean(shares)), float(np.min(shares))


def decoded_pictures(folder: Path, count: int) -> list:
    from PIL import Image

    return [Image.open(path).convert("RGB") for path in sorted(folder.glob("*.jpg"))[:count]]


# -- vision towers --------------------------------------------------------------------------------------


def vision_towers(kind: str, torch, device: str, small: bool, models: Path, work: Path, peaks: dict) -> None:
    from full_models import _counted, build_clip
    from tiny_clip import build_tiny_clip, build_tiny_siglip

    import pixlstash_clip
    from pixlstash_clip import ClipEmbedder
    from pixlstash_clip.catalogue import model_named

    name = {"clip": "vit-l-14", "siglip": "siglip-so400m-384"}[kind]
    label = {"clip": "CLIP ViT-L/14 (224 px)", "siglip": "SigLIP so400m/14 (384 px)"}[kind]
    if small:
        name, label = f"tiny-{kind}", f"{label}, the tests' tiny shape"
        (build_tiny_clip if kind == "clip" else build_tiny_siglip)(models / "clip" / name)
    else:
        build_clip(models, name)
    if FIDELITY_ONLY:
        cosines, dtype = _clip_fidelity(name, device, decoded_pictures(make_pictures(work / kind, 16), 16))
        RESULTS[kind] = {"cosine_mean": float(cosines.mean()), "cosine_least": float(cosines.min())}
        say(f"{label} on {device}: {dtype} against float32 embeddings (16 pictures): cosine mean "
            f"{cosines.mean():.5f}, least {cosines.min():.5f}")  # fmt: skip
        return
    count = 64 if small else (4096 if kind == "clip" else 1536)
    pictures = make_pictures(work / f"pictures-{kind}", count)
    library, ids = open_library(work / f"library-{kind}", pictures, {"clip": pixlstash_clip})
    try:
        engine_id = f"clip/{name}"
        run = through_worker(library, Task.EMBEDDER, engine_id, ids[:1], ids)
    finally:
        library.close()
    # The model alone, in this process: the tower's forward at the batch the worker chose, and fidelity.
    half = ClipEmbedder(model_named(name), precision="bf16")  # what "auto" is on a GPU
    half.load(device)
    model = half._ready()[0]
    side = half.input_size
    flops = _counted(model.visual, torch.zeros(1, 3, side, side, device=device))
    batch = max(1, min(run["batch"], 512))
    x = torch.randn(batch, 3, side, side, device=device)
    from pixlstash import autocast

    def forward():
        with torch.inference_mode(), autocast(torch, device, half._dtype):
            model.encode_image(x)

    alone = batch / _best_seconds(torch, device, forward)
    dtype = half._dtype
    half.unload()
    cosines, _ = _clip_fidelity(name, device, decoded_pictures(pictures, 64))
    peak = peaks.get("bf16_tflops", 0.0)
    share = (lambda rate: f"{rate * flops / 1e12 / peak:.1%} of the bf16 peak") if peak else (lambda rate: "")
    RESULTS[kind] = {**run, "alone_per_second": alone, "gflop": flops / 1e9, "cosine_mean": float(cosines.mean()),
                     "cosine_least": float(cosines.min()), "dtype": str(dtype)}  # fmt: skip
    say(f"{label}: {run['per_second']:,.0f} pictures/s through the worker ({share(run['per_second'])}), "
        f"{described(run)}")  # fmt: skip
    say(f"  the model alone: {alone:,.0f} pictures/s at batch {batch} in {dtype} ({share(alone)}); "
        f"{flops / 1e9:.1f} GFLOP a picture")  # fmt: skip
    say(f"  bf16 against fp32 embeddings: cosine mean {cosines.mean():.5f}, least {cosines.min():.5f}")


def _clip_fidelity(name: str, device: str, sample: list) -> tuple[np.ndarray, str]:
    """Each picture's cosine between the embedder's bfloat16 and float32 vectors, and the dtype compared
    (bf16 by name: what "auto" is on a GPU, and what the CPU then runs too, under its autocast)."""
    from pixlstash_clip import ClipEmbedder
    from pixlstash_clip.catalogue import model_named

    vectors, dtypes = [], []
    for precision in ("bf16", "fp32"):
        engine = ClipEmbedder(model_named(name), precision=precision)
        engine.load(device)
        vectors.append(engine.embed_images(sample))
        dtypes.append(str(engine._dtype).removeprefix("torch."))
        engine.unload()
    return (vectors[0] * vectors[1]).sum(axis=1), dtypes[0]  # both normalised


def _best_seconds(torch, device: str, work, runs: int = 3) -> float:
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    work()
    sync()
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        work()
        sync()
        best = min(best, time.perf_counter() - started)
    return best


# -- WD (ONNX) ----------------------------------------------------------------------------------------


def wd(small: bool, models: Path, work: Path) -> None:
    import pixlstash_wd_tagger
    from pixlstash_wd_tagger.catalogue import WdModel
    from pixlstash_wd_tagger.engine import WdTagger

    from pixlstash.engines.onnx_sessions import cuda_problem

    name = "tiny-wd" if small else "wd-eva02-large-v3"
    folder = models / "wd-tagger" / name
    if small:
        from tiny_wd import build_tiny_wd

        build_tiny_wd(folder)
    else:
        from full_models import build_wd

        started = time.perf_counter()
        build_wd(models, name)
        say(f"  WD {name} exported to ONNX in {time.perf_counter() - started:.0f} s")
    pictures = make_pictures(work / "pictures-wd", 16 if FIDELITY_ONLY else 32 if small else 256)
    run: dict = {}
    if not FIDELITY_ONLY:
        library, ids = open_library(work / "library-wd", pictures, {"wd-tagger": pixlstash_wd_tagger})
        try:
            run = through_worker(library, Task.TAGGER, f"wd-tagger/{name}", ids[:1], ids)
        finally:
            library.close()
    model = WdModel(name, None, folder)
    full, half = WdTagger(model, precision="fp32"), WdTagger(model)
    full.load("cpu")
    half.load("cuda")  # the GPU's graph: float16 (onnxruntime without CUDA runs it on the CPU)
    sample = decoded_pictures(pictures, 16)
    reference, ours = full.scores(sample), half.scores(sample)
    top = [len(set(np.argsort(-a)[:10]) & set(np.argsort(-b)[:10])) / 10 for a, b in zip(reference, ours, strict=True)]
    change = float(np.abs(reference - ours).max())
    RESULTS["wd"] = {
        **run,
        "top10_shared": float(np.mean(top)),
        "largest_change": change,
        "cuda_problem": cuda_problem(),
    }
    if run:
        say(f"WD {name}: {run['per_second']:,.1f} pictures/s through the worker, {described(run)}")
    say(f"  fp16 graph against fp32: top-10 tags shared {np.mean(top):.0%}, largest confidence change {change:.4f}")


# -- generation ---------------------------------------------------------------------------------------

CAPTION = {"caption_type": "Straightforward", "caption_length": "short", "greedy": True}


def joycaption(torch, device: str, small: bool, models: Path, work: Path, peaks: dict) -> None:
    import pixlstash_joycaption
    from pixlstash_joycaption.catalogue import JoyCaptionModel
    from pixlstash_joycaption.engine import SharedWeights
    from tiny_joycaption import build_tiny_joycaption

    shape = "tiny" if small else "8b"
    folder = models / "joycaption" / f"bench-{shape}"
    if not (folder / "config.json").is_file():
        started = time.perf_counter()
        build_tiny_joycaption(folder, shape=shape, device=device if shape == "8b" else "cpu")
        say(f"  built JoyCaption's {shape} shape in {time.perf_counter() - started:.0f} s")
        torch.cuda.empty_cache() if device == "cuda" else None
    # Every caption exactly max_new_tokens long: tokens per second is then a measurement, not a ceiling.
    generation = json.loads((folder / "generation_config.json").read_text())
    generation["min_new_tokens"] = 4096
    (folder / "generation_config.json").write_text(json.dumps(generation))
    if FIDELITY_ONLY:
        sample = decoded_pictures(make_pictures(work / "pictures-joycaption", 4), 4)
        agreement = _joycaption_fidelity(folder, shape, device, sample)
        RESULTS["joycaption"] = {"token_agreement": agreement}
        return
    pictures = make_pictures(work / "pictures-joycaption", 16 if small else 384)
    library, ids = open_library(work / "library-joycaption", pictures, {"joycaption": pixlstash_joycaption})
    engine_id = f"joycaption/bench-{shape}"
    runs = {}
    try:
        for tokens, count in ((48, 16 if small else 256), (256, 4 if small else 128)):
            warm = ids[-min(len(ids) // 3, 128) :]  # a full batch: the compile for its shape is not timed
            run = through_worker(library, Task.CAPTIONER, engine_id, warm, ids[:count], **CAPTION,
                                 max_new_tokens=tokens)  # fmt: skip
            runs[tokens] = run
            say(f"JoyCaption-shaped {shape}, {tokens} new tokens: {run['per_second']:.2f} captions/s = "
                f"{run['per_second'] * tokens:,.0f} tokens/s through the worker, {described(run)}")  # fmt: skip
    finally:
        library.close()
    # The model alone: its decode step with each cache, beside the time to read the decoder's weights.
    # bf16 (what "auto" is on a GPU; asked for by name, so --small runs the same number format on the CPU)
    weights = SharedWeights(JoyCaptionModel(f"bench-{shape}", None, folder), precision="bf16")
    weights.acquire("bench", device)
    model = weights.model
    decoder_bytes = sum(p.numel() * p.element_size() for p in model.model.language_model.parameters())
    read_ms = decoder_bytes / (peaks["copy_gbps"] * 1e9) * 1000 if peaks.get("copy_gbps") else 0.0
    batch = max(1, runs[48]["batch"])
    sample = (decoded_pictures(pictures, batch) * batch)[:batch]
    from pixlstash.engines.caption_prompts import build_prompt

    prompts = [build_prompt("Straightforward", "short")] * batch
    steps = {}
    for cache in ("static", "dynamic"):
        weights.cache.setting = cache

        def caption(tokens: int):
            options = {"temperature": 0.0, "top_p": 0.9, "greedy": True, "max_new_tokens": tokens}
            return lambda: weights.generate(sample, prompts, options)

        one = _best_seconds(torch, device, caption(1), runs=2)
        many = _best_seconds(torch, device, caption(48), runs=2)
        steps[cache] = {"prefill_s": one, "step_ms": (many - one) / 47 * 1000}
        say(f"  the model alone, batch {batch}, {cache} cache: prefill and the first token {one:.2f} s, then "
            f"{steps[cache]['step_ms']:.1f} ms a step (reading the decoder's {decoder_bytes / 1e9:.1f} GB of "
            f"weights: {read_ms:.1f} ms)")  # fmt: skip
    vision = model.config.vision_config
    prompt_tokens = (vision.image_size // vision.patch_size) ** 2 + 96  # the image's tokens and the prompt
    prefill_flops = 2 * (decoder_bytes / model.dtype.itemsize) * prompt_tokens * batch
    peak = peaks.get("bf16_tflops", 0.0)
    if peak:
        say(f"  prefill: about {prefill_flops / steps['static']['prefill_s'] / 1e12:.0f} TFLOP/s, "
            f"{prefill_flops / steps['static']['prefill_s'] / 1e12 / peak:.0%} of the bf16 peak (the decoder's "
            "share of its FLOPs; the vision tower's are left out)")  # fmt: skip
    weights.release("bench")
    agreement = _joycaption_fidelity(folder, shape, device, decoded_pictures(pictures, 4))
    RESULTS["joycaption"] = {"runs": runs, "steps": steps, "read_ms": read_ms, "token_agreement": agreement}


def _joycaption_fidelity(folder: Path, shape: str, device: str, sample: list) -> tuple[float, float]:
    """bf16 captions against fp32's, 16 greedy tokens each: token agreement, mean and least."""
    from pixlstash_joycaption.catalogue import JoyCaptionModel
    from pixlstash_joycaption.engine import SharedWeights

    from pixlstash.engines.caption_prompts import build_prompt

    options = {"temperature": 0.0, "top_p": 0.9, "greedy": True, "max_new_tokens": 16}
    prompts = [build_prompt("Straightforward", "short")] * len(sample)
    captions = []
    for precision in ("bf16", "fp32"):
        weights = SharedWeights(JoyCaptionModel(f"bench-{shape}", None, folder), precision=precision)
        weights.acquire("bench", device)
        captions.append(weights.generate(sample, prompts, options))
        tokenizer = weights.processor.tokenizer
        weights.release("bench")
    agreement = token_agreement(tokenizer, captions[0], captions[1])
    say(f"  JoyCaption-shaped {shape} on {device}, bf16 against fp32 (16 tokens, {len(sample)} captions): token "
        f"agreement mean {agreement[0]:.2f}, least {agreement[1]:.2f}")  # fmt: skip
    return agreement


def florence(torch, device: str, small: bool, models: Path, work: Path) -> None:
    import pixlstash_florence2
    from pixlstash_florence2.catalogue import Florence2Model
    from pixlstash_florence2.engine import CAPTION_TASKS, SharedWeights
    from tiny_florence import build_tiny_florence

    shape = "tiny" if small else "large"
    folder = models / "florence2" / f"bench-{shape}"
    if not (folder / "config.json").is_file():
        build_tiny_florence(folder, shape=shape)
    pictures = make_pictures(work / "pictures-florence", 16 if small or FIDELITY_ONLY else 256)
    run: dict = {}
    if not FIDELITY_ONLY:
        library, ids = open_library(work / "library-florence", pictures, {"florence2": pixlstash_florence2})
        try:
            warm = ids[-min(len(ids) // 4, 64) :]
            run = through_worker(library, Task.CAPTIONER, f"florence2/bench-{shape}", warm, ids, length="detailed")
        finally:
            library.close()
        say(f"Florence-2-shaped {shape}: {run['per_second']:.2f} captions/s through the worker, {described(run)}")
    sample = decoded_pictures(pictures, 4)
    captions = {}
    for precision in ("bf16", "fp32"):
        weights = SharedWeights(Florence2Model(f"bench-{shape}", None, folder), 3, precision)
        weights.acquire("bench", device)
        captions[precision] = [str(t) for t in weights.run(sample, CAPTION_TASKS["detailed"], max_new_tokens=32)]
        tokenizer = weights.processor.tokenizer
        weights.release("bench")
    agreement = token_agreement(tokenizer, captions["bf16"], captions["fp32"])
    say(f"  Florence-2-shaped {shape} on {device}, bf16 against fp32 (32 tokens, 4 captions): token agreement "
        f"mean {agreement[0]:.2f}, least {agreement[1]:.2f}")  # fmt: skip
    RESULTS["florence"] = {**run, "token_agreement": agreement}


# -- the run ------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="the tests' tiny shapes on the CPU: it works")
    parser.add_argument("--fidelity", action="store_true", help="only bf16/fp16 against fp32, at full size")
    parser.add_argument("--only", default=",".join(KINDS), help=f"some of {','.join(KINDS)}")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    wanted = [k for k in KINDS if k in args.only.split(",")]
    import torch

    global FIDELITY_ONLY
    FIDELITY_ONLY = args.fidelity
    device = "cpu" if args.small or not torch.cuda.is_available() else "cuda"
    if device == "cpu" and not (args.small or args.fidelity):
        raise SystemExit("no CUDA device here: run it on a GPU, or with --small on the CPU")
    card = torch.cuda.get_device_name() if device == "cuda" else f"the CPU ({os.cpu_count()} cores)"
    say(f"bench_gpu on {card}; torch {torch.__version__}; {'--small: tiny shapes' if args.small else 'full shapes'}")
    models = ROOT / ".bench" / ("gpu-models-small" if args.small else "gpu-models")
    os.environ["PIXLSTASH_MODELS_DIR"] = str(models)
    os.environ["HF_HUB_OFFLINE"] = "1"
    started = time.perf_counter()
    peaks: dict = {}
    if not args.fidelity:  # the shares of the peak need them; the precisions' comparison does not
        peaks = RESULTS["peaks"] = card_peaks(torch, device, args.small)
        say(f"peaks: bf16 {peaks['bf16_tflops']:,.3g} TFLOP/s, fp32 {peaks['fp32_tflops']:,.3g} TFLOP/s, "
            f"device memory copy {peaks['copy_gbps']:,.0f} GB/s (read + written)")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-gpu-") as scratch:
        work = Path(scratch)
        for kind in wanted:
            section = time.perf_counter()
            if kind in ("clip", "siglip"):
                vision_towers(kind, torch, device, args.small, models, work, peaks)
            elif kind == "wd":
                wd(args.small, models, work)
            elif kind == "joycaption":
                joycaption(torch, device, args.small, models, work, peaks)
            elif kind == "florence":
                florence(torch, device, args.small, models, work)
            if kind != "peaks":
                say(f"  ({kind}: {time.perf_counter() - section:.0f} s)")
    say(f"done in {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({"card": card, **RESULTS}, indent=1, default=str))


if __name__ == "__main__":
    main()
