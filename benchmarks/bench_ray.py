"""Enrichment throughput in process against a two-worker Ray cluster on this machine, and where the
driver's time goes.

    .venv/bin/python benchmarks/bench_ray.py [--pictures 300] [--engines fake/colour clip/tiny-test]

Makes a corpus of photo-like JPEGs (640x480), imports it into two fresh libraries, and runs the same
queued jobs once with the in-process worker and once on a local Ray with two actors (one CPU each). The
engines: ``fake/colour`` (the test suite's colour embedder on 32 px inputs: all but free, so its Ray figure
is the driver's ceiling) and ``clip/tiny-test`` (a random-weight tiny open_clip model built here, loaded
through the CLIP plugin like a real checkpoint). The worker's own clock splits the driver's time into
reading pictures, the engine (on Ray: sending, running, receiving) and checking and writing results
(summed over the threads that wait on them). A warm-up job on 32 pictures first starts the actors and
loads the model, so the figures are the steady state.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def _tiny_clip(models: Path) -> None:
    import open_clip
    import torch
    from safetensors.torch import save_file

    config = {
        "embed_dim": 64,
        "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 16},
        "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 64, "heads": 4, "layers": 2},
    }
    folder = models / "clip" / "tiny-test"
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model = open_clip.model.CLIP(**config)
    preprocess = {"mean": [0.48145466, 0.4578275, 0.40821073], "std": [0.26862954, 0.26130258, 0.27577711]}
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": config, "preprocess_cfg": preprocess}))
    save_file(model.state_dict(), str(folder / "open_clip_model.safetensors"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pictures", type=int, default=300)
    parser.add_argument("--engines", nargs="+", default=["fake/colour", "clip/tiny-test"])
    parser.add_argument("--gpu", action="store_true", help="a Ray with one GPU; each actor takes half of it")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-ray-", dir=ROOT / ".bench" if (ROOT / ".bench").is_dir() else None))
    site = work / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(ROOT / "tests" / "plugin_packages" / "pixlstash-fake-engines"),
        ],
        check=True,
    )
    sys.path.insert(0, str(site))
    models = work / "models"
    _tiny_clip(models)
    os.environ["PIXLSTASH_MODELS_DIR"] = str(models)
    from corpus import photo

    corpus = work / "corpus"
    corpus.mkdir()
    for n in range(args.pictures):
        photo(640, 480, seed=n).save(corpus / f"p{n:04d}.jpg", quality=90)

    import ray

    from pixlstash.domain import EnrichmentSettings, RaySettings
    from pixlstash.instance import JOBS_ONLY, Instance
    from pixlstash.library import Library
    from pixlstash.plugins import make_plugin_manager

    ray.init(
        num_cpus=2,
        num_gpus=1 if args.gpu else 0,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={
            "env_vars": {
                "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
                "PIXLSTASH_MODELS_DIR": str(models),
            }
        },
    )
    share = "1 CPU and half the GPU" if args.gpu else "1 CPU"
    print(f"{args.pictures} pictures (640x480 JPEG), {os.cpu_count()} cores; Ray: 2 actors of {share} each")
    for engine_id in args.engines:
        for backend in ("in process", "Ray, 2 actors"):
            library = Library.open(
                work / f"{engine_id.replace('/', '_')}-{backend[:3]}", plugin_manager=make_plugin_manager()
            )
            library.engines.configure(
                EnrichmentSettings(
                    on_import=[], ray=RaySettings(num_cpus=1, num_gpus=0.5 if args.gpu else 0, actors_per_engine=2)
                )
            )
            library.import_paths([corpus])
            engine = library.engines.by_id(engine_id)
            if backend == "in process":
                worker = Instance(library, JOBS_ONLY).worker
            else:
                worker = library.new_enrichment_worker(ray_address="local")
            # A warm-up job on the first 32 pictures starts the actors and loads the model; the rest is timed.
            library.enrichment.enqueue(engine.task, list(range(1, 33)), engine_id=engine_id)
            started = time.perf_counter()
            warmed = worker.run_until_idle()  # the worker counts every picture it ran
            warm_up = time.perf_counter() - started
            worker.seconds = dict.fromkeys(worker.seconds, 0.0)
            library.enrichment.enqueue(engine.task, None, engine_id=engine_id)
            started = time.perf_counter()
            done = worker.run_until_idle() - warmed
            seconds = time.perf_counter() - started
            split = ", ".join(f"{what} {value:.1f} s" for what, value in worker.seconds.items())
            if backend == "in process":
                device = library.engines.runtime.status(engine)[1]
            else:
                device = ", ".join(sorted({d for pool in worker._pools.values() for d in pool.devices()}))
            split += f"; on {device}"
            print(
                f"{engine_id:<16} {backend:<14} {done / seconds:7.1f} pictures/s ({done} in {seconds:.1f} s after a "
                f"{warm_up:.1f} s warm-up; {split})"
            )
            worker.stop()  # the Ray worker's actors give their CPUs back
            library.close()
    ray.shutdown()


if __name__ == "__main__":
    main()
