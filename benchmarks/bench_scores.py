"""Scores, OCR and the new captioners (issue 35), through the real enrichment worker.

    .venv/bin/python benchmarks/bench_scores.py [--pictures 10000] [--quality] [--stored] [--openai] [--florence]

- ``--quality``: the built-in quality scorer over every picture of a generated library (thumbnails read,
  scored with numpy, stored): pictures/s end to end, and the scoring alone on decoded thumbnails.
- ``--stored``: the scorers that read stored CLIP vectors (768-d, ViT-L/14's size): prompt match (a tiny
  CLIP's text tower; 100 pictures per prompt, as batches of generations come) and aesthetic (a head at the
  real LAION shape); then what one prompt costs a full-size random-weight ViT-L/14 text tower.
- ``--openai``: captions from ``transformers serve`` on a tiny LLaVA at concurrency 1, 4 and 8, against the
  server's own time per request measured with the official ``openai`` client: our overhead per picture.
- ``--florence``: Florence-2 at the base model's full shape with random weights on the CPU: the encoder's
  time per picture and the decoder's time per generated token (3 beams), and captions through the worker.
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
for folder in ("tests", "pixlstash-plugins/clip/tests", "pixlstash-plugins/joycaption/tests",
               "pixlstash-plugins/openai-vision/tests", "pixlstash-plugins/florence2/tests"):  # fmt: skip
    sys.path.insert(0, str(ROOT / folder))

from bench_enrichment import corpus  # noqa: E402

from pixlstash import make_plugin_manager  # noqa: E402
from pixlstash.domain import EnrichmentSettings  # noqa: E402
from pixlstash.engines import Task  # noqa: E402
from pixlstash.library import Library  # noqa: E402
from pixlstash.system.clock import now_ms  # noqa: E402

BENCH = ROOT / ".bench"


def open_library(root: Path, pm, folder: Path | None = None) -> Library:
    fresh = not (root / "library.db").exists()
    library = Library.open(root, plugin_manager=pm)
    library.engines.configure(EnrichmentSettings(on_import=[]))
    if fresh and folder is not None:
        started = time.perf_counter()
        count = len(library.import_paths([folder]).imported)
        print(f"  (imported {count} pictures in {time.perf_counter() - started:.0f} s, not timed)")
    return library


def run_job(library: Library, task: Task, engine_id: str, ids=None, parameters=None) -> tuple[int, float]:
    job = library.enrichment.enqueue(task, ids, engine_id=engine_id, parameters=parameters, force=True)
    worker = library.new_enrichment_worker()
    started = time.perf_counter()
    worker.run_until_idle()
    seconds = time.perf_counter() - started
    final = library.enrichment.job(job.id)
    assert final.state == "done" and final.failed == 0, final
    return final.done, seconds


def quality(count: int) -> None:
    from pixlstash.builtin.quality import QualityScorer
    from pixlstash.engines.inputs import load_input

    print(f"\nquality scorer, {count:,} pictures (640x480 JPEGs; it reads their 384 px grid thumbnails)")
    library = open_library(BENCH / f"scores-{count}", make_plugin_manager(load_entry_points=False), corpus(count))
    with library:
        done, seconds = run_job(library, Task.SCORER, "pixlstash/quality")
        print(f"  through the worker: {done:,} pictures in {seconds:.1f} s = {done / seconds:,.0f} pictures/s")
        ids = [r[0] for r in library.db.query("SELECT id FROM pictures ORDER BY id LIMIT 500")]
        inputs = library.pictures.media_inputs(ids)
        started = time.perf_counter()
        images = [load_input(library.files, pid, *inputs[pid], 128) for pid in ids]
        decode = time.perf_counter() - started
        started = time.perf_counter()
        QualityScorer().score(images)
        score = time.perf_counter() - started
        print(
            f"  one thread: decoding a thumbnail {decode / len(ids) * 1000:.2f} ms, scoring it "
            f"{score / len(ids) * 1000:.2f} ms ({len(ids) / score:,.0f} pictures/s)"
        )


def stored(count: int) -> None:
    import open_clip
    import torch
    from tiny_clip import build_tiny_clip

    import pixlstash_clip

    print(f"\nscorers over stored 768-d vectors, {count:,} pictures")
    models = Path(tempfile.mkdtemp(prefix="bench-models-"))
    os.environ.update(
        PIXLSTASH_MODELS_DIR=str(models),
        HF_HUB_OFFLINE="1",
        PIXLSTASH_CLIP_MODELS="tiny-bench",
        PIXLSTASH_CLIP_AESTHETIC_MODEL="tiny-bench",
        PIXLSTASH_CLIP_PROMPT_MATCH_MODEL="tiny-bench",
    )
    build_tiny_clip(models / "clip" / "tiny-bench", embed_dim=768)
    head = torch.nn.Sequential(
        torch.nn.Linear(768, 1024), torch.nn.Dropout(0.2), torch.nn.Linear(1024, 128), torch.nn.Dropout(0.2),
        torch.nn.Linear(128, 64), torch.nn.Dropout(0.1), torch.nn.Linear(64, 16), torch.nn.Linear(16, 1),
    )  # fmt: skip
    (models / "aesthetic").mkdir()
    torch.save({f"layers.{k}": v for k, v in head.state_dict().items()}, models / "aesthetic" / "aesthetic-model.pth")
    pm = make_plugin_manager(load_entry_points=False)
    pm.register(pixlstash_clip, name="clip")
    try:
        library = open_library(BENCH / f"scores-{count}", pm, corpus(count))
        with library:
            ids = [r[0] for r in library.db.query("SELECT id FROM pictures ORDER BY id")]
            rng = np.random.default_rng(0)
            vectors = rng.normal(size=(len(ids), 768)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            engine = library.engines.by_id("clip/tiny-bench")
            with library.db.write():
                for pid, vector in zip(ids, vectors, strict=True):
                    library.vectors.put_embedding(pid, engine.id, engine.version, vector, now_ms())
                library.db.execute("DELETE FROM generation")
                library.db.connection.executemany(
                    "INSERT INTO generation(picture_id, tool, positive) VALUES (?, 'comfyui', ?)",
                    [(pid, f"a photo of subject {n // 100}, studio light, detailed") for n, pid in enumerate(ids)],
                )
            for engine_id, label in (("clip/prompt-match", "prompt match"), ("clip/aesthetic", "aesthetic")):
                for run in ("first run (its process starts, the model loads)", "again (the engine loaded)"):
                    done, seconds = run_job(library, Task.SCORER, engine_id)
                    print(f"  {label}, {run}: {done:,} in {seconds:.2f} s = {done / seconds:,.0f} pictures/s")
    finally:
        shutil.rmtree(models, ignore_errors=True)
    model = open_clip.create_model("ViT-L-14").eval()  # random weights, the real text tower's shape
    tokens = open_clip.get_tokenizer("ViT-L-14")([f"a photo of subject {n}, studio light, detailed" for n in range(32)])
    with torch.inference_mode():
        model.encode_text(tokens[:4])
        started = time.perf_counter()
        model.encode_text(tokens)
    each = (time.perf_counter() - started) / len(tokens)
    threads = torch.get_num_threads()
    print(f"  a full-size ViT-L/14 text tower: {each * 1000:.1f} ms a new prompt (batch of 32, {threads} threads)")


def openai_concurrency(pictures: int = 48) -> None:
    import base64
    import io

    import openai
    import pixlstash_openai_vision
    from openai_server import transformers_serve
    from tiny_joycaption import build_tiny_joycaption

    from pixlstash.engines.inputs import load_input

    print(f"\nOpenAI-compatible captions: transformers serve on a tiny LLaVA, {pictures} pictures")
    work = Path(tempfile.mkdtemp(prefix="bench-openai-"))
    try:
        model = build_tiny_joycaption(work / "tiny-llava")
        (work / "hf").mkdir()
        with transformers_serve(model, work / "hf") as base_url:
            pm = make_plugin_manager(load_entry_points=False)
            pm.register(pixlstash_openai_vision, name="openai-vision")
            library = open_library(work / "lib", pm, corpus(pictures))
            with library:
                ids = [r[0] for r in library.db.query("SELECT id FROM pictures ORDER BY id")]
                content_hash, width, height, media_type = library.pictures.media_inputs(ids[:1])[ids[0]]
                image = load_input(library.files, ids[0], content_hash, width, height, media_type, 768)
                buffer = io.BytesIO()
                image.convert("RGB").save(buffer, "JPEG", quality=90)
                url = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()
                client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0)
                message = [{"role": "user", "content": [{"type": "text", "text": "Describe this image."},
                                                       {"type": "image_url", "image_url": {"url": url}}]}]  # fmt: skip
                client.chat.completions.create(model=str(model), messages=message, max_tokens=12, temperature=0)
                started = time.perf_counter()
                for _ in range(10):
                    client.chat.completions.create(model=str(model), messages=message, max_tokens=12, temperature=0)
                direct = (time.perf_counter() - started) / 10
                print(f"  the server alone (official client, one at a time): {direct * 1000:.0f} ms a request")
                for concurrency in (1, 4, 8):
                    library.plugin_settings.update(
                        "openai-vision",
                        {"base_url": base_url, "model": str(model), "max_tokens": 12, "temperature": 0,
                         "concurrency": concurrency},
                    )  # fmt: skip
                    done, seconds = run_job(library, Task.CAPTIONER, "openai-vision/caption")
                    per = seconds / done
                    print(
                        f"  concurrency {concurrency}: {done / seconds:.1f} captions/s, {per * 1000:.0f} ms a picture "
                        f"(ours over the server's own: {(per - direct) * 1000:+.0f} ms)"
                    )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def florence(pictures: int = 8) -> None:
    import torch
    from tiny_florence import POST_PROCESSOR, build_tiny_florence
    from transformers import (
        AutoProcessor,
        BartConfig,
        CLIPImageProcessor,
        Florence2Config,
        Florence2ForConditionalGeneration,
        Florence2Processor,
        Florence2VisionConfig,
    )

    print(f"\nFlorence-2 base, full shape, random weights, CPU ({torch.get_num_threads()} threads)")
    work = Path(tempfile.mkdtemp(prefix="bench-florence-"))
    try:
        tiny = build_tiny_florence(work / "tiny")
        tokenizer = AutoProcessor.from_pretrained(tiny).tokenizer
        tokenizer.add_tokens([f"<w{n}>" for n in range(51289 - len(tokenizer))])  # the real vocabulary's size
        vision = Florence2VisionConfig()  # DaViT as Florence-2-base: 128-256-512-1024, depths 1-1-9-1
        text = BartConfig(
            vocab_size=len(tokenizer), d_model=768, encoder_layers=6, decoder_layers=6, encoder_attention_heads=12,
            decoder_attention_heads=12, encoder_ffn_dim=3072, decoder_ffn_dim=3072, max_position_embeddings=1026,
            bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id, decoder_start_token_id=tokenizer.eos_token_id,
            forced_bos_token_id=tokenizer.bos_token_id,
        )  # fmt: skip
        vision.projection_dim = 768
        config = Florence2Config(vision_config=vision, text_config=text, image_token_id=tokenizer.image_token_id)
        model = Florence2ForConditionalGeneration(config).eval()
        images = CLIPImageProcessor(
            size={"height": 768, "width": 768}, do_center_crop=False, image_mean=[0.485, 0.456, 0.406],
            image_std=[0.229, 0.224, 0.225], resample=3,
        )  # fmt: skip
        images.image_seq_length = 577
        processor = Florence2Processor(
            image_processor=images, tokenizer=tokenizer, post_processor_config=POST_PROCESSOR
        )
        folder = work / "models" / "florence2" / "base-shaped"
        model.save_pretrained(folder)
        processor.save_pretrained(folder)
        params = sum(p.numel() for p in model.parameters()) / 1e6
        print(f"  {params:.0f} M parameters")
        from corpus import photo

        image = photo(1024, 768, seed=1)
        inputs = processor(text="<CAPTION>", images=image, return_tensors="pt")
        with torch.inference_mode():
            model.generate(**inputs, max_new_tokens=2, num_beams=3, do_sample=False)
            timings = {}
            for tokens in (1, 33):
                started = time.perf_counter()
                model.generate(**inputs, max_new_tokens=tokens, num_beams=3, do_sample=False, min_new_tokens=tokens)
                timings[tokens] = time.perf_counter() - started
        per_token = (timings[33] - timings[1]) / 32
        print(
            f"  encoder (vision tower and text encoder) and the first token: {timings[1]:.2f} s a picture; "
            f"each further token at 3 beams: {per_token * 1000:.0f} ms"
        )
        for words, label in ((20, "a short caption (~20 tokens)"), (80, "a detailed one (~80)"),
                             (200, "a sign's worth of OCR with regions (~200: 9 tokens a run)")):  # fmt: skip
            print(f"  {label}: about {timings[1] + per_token * (words - 1):.1f} s a picture")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pictures", type=int, default=10_000)
    for flag in ("quality", "stored", "openai", "florence"):
        parser.add_argument(f"--{flag}", action="store_true")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores")
    every = not (args.quality or args.stored or args.openai or args.florence)
    if args.quality or every:
        quality(args.pictures)
    if args.stored or every:
        stored(args.pictures)
    if args.openai or every:
        openai_concurrency()
    if args.florence or every:
        florence()


if __name__ == "__main__":
    main()
