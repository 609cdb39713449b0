"""The faces plugin through the real enrichment worker, with the tiny model pack the tests build: the
pipeline's own cost per picture (decoding the preview, insightface's detection, alignment and
recognition calls, writing faces and vectors, feeding the face index).

    .venv/bin/python benchmarks/bench_face_extraction.py [--pictures 2000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "pixlstash-plugins" / "faces" / "tests"))

from pixlstash import make_plugin_manager  # noqa: E402
from pixlstash.domain import EnrichmentSettings  # noqa: E402
from pixlstash.engines import Task  # noqa: E402
from pixlstash.library import Library  # noqa: E402

BENCH = ROOT / ".bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pictures", type=int, default=2000)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores")
    import pixlstash_faces
    from corpus import photo
    from tiny_pack import build_tiny_pack

    models = Path(tempfile.mkdtemp(prefix="pixlstash-bench-faces-"))
    build_tiny_pack(models / "faces" / "tiny-pack")
    os.environ["PIXLSTASH_MODELS_DIR"] = str(models)
    pm = make_plugin_manager(load_entry_points=False)
    pm.register(pixlstash_faces, name="faces")
    root = BENCH / f"face-extraction-{args.pictures}"
    if not (root / "library.db").exists():
        folder = BENCH / f"corpus-faces-{args.pictures}"
        if not folder.is_dir():
            folder.mkdir(parents=True)
            for n in range(args.pictures):
                photo(960, 720, seed=n).save(folder / f"{n:05d}.jpg", quality=85)
        with Library.open(root, plugin_manager=pm) as library:
            library.engines.configure(EnrichmentSettings(on_import=[]))
            print(f"imported {len(library.import_paths([folder]).imported)} pictures (not timed)")
    with Library.open(root, plugin_manager=pm) as library:
        library.engines.configure(EnrichmentSettings(on_import=[]))
        job = library.enrichment.enqueue(Task.FACES, engine_id="faces/tiny-pack", force=True)
        worker = library.new_enrichment_worker()
        started = time.perf_counter()
        processed = worker.run_until_idle()
        seconds = time.perf_counter() - started
        final = library.enrichment.job(job.id)
        assert final.state == "done" and final.failed == 0, final
        faces = library.db.scalar("SELECT count(*) FROM faces")
        print(
            f"tiny pack, {processed} pictures (960x720, the preview fed): {seconds:.1f} s = "
            f"{processed / seconds:.1f} pictures/s, {faces:,} faces stored"
        )


if __name__ == "__main__":
    main()
