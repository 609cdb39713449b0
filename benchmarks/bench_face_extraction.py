"""The faces plugin through the real enrichment worker: with the tiny model pack the tests build (the
pipeline's own cost per picture: decoding the preview, insightface's detection, alignment and
recognition calls, writing faces and vectors, feeding the face index), and with full-size graphs of
random weights (``face_graphs.py``: what a CPU user can expect).

    .venv/bin/python benchmarks/bench_face_extraction.py [--pictures 1000] [--full-size 50]
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
sys.path.insert(0, str(ROOT / "benchmarks"))

from pixlstash import make_plugin_manager  # noqa: E402
from pixlstash.domain import EnrichmentSettings, PictureFilter  # noqa: E402
from pixlstash.engines import Task  # noqa: E402
from pixlstash.library import Library  # noqa: E402

BENCH = ROOT / ".bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pictures", type=int, default=1000)
    parser.add_argument("--full-size", type=int, default=50, help="pictures for the full-size graphs")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores")
    import pixlstash_faces
    from corpus import photo
    from tiny_pack import build_tiny_pack

    models = Path(tempfile.mkdtemp(prefix="pixlstash-bench-faces-"))
    build_tiny_pack(models / "faces" / "tiny-pack")
    from face_graphs import build_full_size_pack

    build_full_size_pack(models / "faces" / "full-size")
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
        ids = library.query.ids(PictureFilter())
        for engine_id, picked in (("faces/tiny-pack", ids), ("faces/full-size", ids[: args.full_size])):
            job = library.enrichment.enqueue(Task.FACES, picked, engine_id=engine_id, force=True)
            worker = library.new_enrichment_worker()
            started = time.perf_counter()
            processed = worker.run_until_idle()
            seconds = time.perf_counter() - started
            final = library.enrichment.job(job.id)
            assert final.state == "done" and final.failed == 0, final
            faces = library.db.scalar("SELECT count(*) FROM faces WHERE engine_id = ?", (engine_id,))
            print(
                f"{engine_id}, {processed} pictures (960x720, the preview fed): {seconds:.1f} s = "
                f"{processed / seconds:.2f} pictures/s, {faces:,} faces ({faces / processed:.1f} a picture)"
            )


if __name__ == "__main__":
    main()
