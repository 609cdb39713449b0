"""JoyCaption through the real enrichment pipeline on this machine's CPU: the pipeline's overhead with the
tiny model the tests build, and what a CPU does with JoyCaption's real vision tower before a 1B-shaped
decoder (random weights; JoyCaption's decoder is 8B, about eight times the work per token).

    .venv/bin/python benchmarks/bench_joycaption.py [--pictures 64] [--shape tiny|1b] [--tokens 32]

Prints captions per second, generated tokens per second and the process's peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "pixlstash-plugins" / "joycaption" / "tests"))

from corpus import photo  # noqa: E402
from tiny_joycaption import build_tiny_joycaption  # noqa: E402

from pixlstash import make_plugin_manager  # noqa: E402
from pixlstash.domain import EnrichmentSettings  # noqa: E402
from pixlstash.engines import Task  # noqa: E402
from pixlstash.library import Library  # noqa: E402

BENCH = ROOT / ".bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pictures", type=int, default=64)
    parser.add_argument("--shape", choices=["tiny", "1b"], default="tiny")
    parser.add_argument("--tokens", type=int, default=32, help="tokens written per caption")
    args = parser.parse_args()

    models = BENCH / "joycaption-models"
    folder = models / "joycaption" / f"bench-{args.shape}"
    if not (folder / "config.json").exists():
        started = time.perf_counter()
        build_tiny_joycaption(folder, shape=args.shape)
        print(f"built the {args.shape} model in {time.perf_counter() - started:.1f} s")
    # Exactly --tokens tokens per caption, so tokens per second is a measurement, not a ceiling.
    generation = json.loads((folder / "generation_config.json").read_text())
    generation["min_new_tokens"] = args.tokens
    (folder / "generation_config.json").write_text(json.dumps(generation))
    os.environ["PIXLSTASH_MODELS_DIR"] = str(models)
    import pixlstash_joycaption

    pm = make_plugin_manager(load_entry_points=False)
    pm.register(pixlstash_joycaption, name="joycaption")
    with tempfile.TemporaryDirectory() as tmp:
        pictures = Path(tmp) / "pictures"
        pictures.mkdir()
        for n in range(args.pictures):
            photo(640, 480, seed=n).save(pictures / f"p{n:04d}.jpg", quality=90)
        with Library.open(Path(tmp) / "lib", plugin_manager=pm) as library:
            library.engines.configure(EnrichmentSettings(on_import=[]))
            ids = [p.picture_id for p in library.import_paths([pictures]).imported]
            engine_id = f"joycaption/bench-{args.shape}"
            parameters = {"caption_type": "Straightforward", "caption_length": "short", "greedy": True,
                          "max_new_tokens": args.tokens}  # fmt: skip
            worker = library.new_enrichment_worker()
            # One picture first: loading the weights is not captioning.
            library.enrichment.enqueue(Task.CAPTIONER, ids[:1], engine_id=engine_id, parameters=parameters)
            started = time.perf_counter()
            worker.run_until_idle()
            first = time.perf_counter() - started
            library.enrichment.enqueue(Task.CAPTIONER, ids[1:], engine_id=engine_id, parameters=parameters)
            started = time.perf_counter()
            worker.run_until_idle()
            elapsed = time.perf_counter() - started
            captions = [library.get(i).captions for i in ids[1:]]
            written = sum(1 for c in captions if c)
            failed = [job.error for job in library.enrichment.list_jobs() if job.failed or job.error]
            if failed or written < len(ids) - 1:
                print(f"only {written} of {len(ids) - 1} captions written; job errors: {failed}")
    rate = written / elapsed
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"shape {args.shape}, {os.cpu_count()} cores, CPU float32, greedy, {args.tokens} new tokens per caption")
    print(f"first picture (loading included): {first:.1f} s")
    print(f"{written} captions in {elapsed:.1f} s: {rate:.2f} captions/s, {rate * args.tokens:.1f} tokens/s")
    print(f"peak memory {peak:.0f} MiB")


if __name__ == "__main__":
    main()
