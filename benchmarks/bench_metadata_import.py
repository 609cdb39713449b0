"""What reading photo software's XMP, IPTC-IIM and Content Credentials costs an import (issue 63).

    .venv/bin/python benchmarks/bench_metadata_import.py [--peer 600] [--xmp 1000] [--rounds 3] [--small]

Two corpora, each imported into a fresh library with the metadata readers on and with them off (the
import as it was before them: ``read_photo_metadata`` and ``read_credentials`` swapped for no-ops in this
process), alternated ``--rounds`` times in one run, medians printed side by side:

- the peer corpus of ``bench_import`` (600 files: JPEG and PNG of 1024-4096 px, duplicates, corrupt files),
  which holds no XMP: what every import pays for looking;
- ``--xmp`` JPEGs of 1024x768, each with a ~20 KB XMP packet (40 hierarchical keywords of a shared
  vocabulary, stars, a description, and develop settings nothing here reads, as Lightroom writes a keyworded
  and developed picture) and a ~20 KB ``.xmp`` sidecar beside it.

Also prints each reader's own time per file (one core), beside the whole analysis of the same file.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_import import BENCH, _partial, corpus_peer, photo  # noqa: E402

from pixlstash.library import Library  # noqa: E402
from pixlstash.media import analyse  # noqa: E402

PADDING = "http://pixlstash.invalid/bench/develop/"  # settings we do not read, as Lightroom's crs: are


def _packet(n: int) -> dict:
    """About 20 KB of XMP as a keyworded, developed picture has it: 40 keywords of a 500-keyword
    hierarchical vocabulary, stars, a description, and 300 develop settings nothing here reads."""
    keywords = [f"Place{k % 9}|Subject{k % 31}|keyword {k}" for k in ((n * 37 + i * 11) % 500 for i in range(40))]
    packet = {
        "Xmp.lr.hierarchicalSubject": keywords,
        "Xmp.dc.subject": [k.rsplit("|", 1)[-1] for k in keywords],
        "Xmp.xmp.Rating": str(1 + n % 5),
        "Xmp.dc.description": {'lang="x-default"': f"Picture {n} of the keyworded set"},
    }
    packet.update({f"Xmp.bench.Setting{i}": f"{(n * 7 + i) % 1000 / 10:.1f} tone curve point {i}" for i in range(300)})
    return packet


def corpus_xmp(count: int) -> Path:
    """``count`` JPEGs with a ~20 KB embedded packet and a ~20 KB sidecar each (made once, reused)."""
    import pyexiv2

    folder = BENCH / f"corpus-xmp-{count}"
    if folder.exists():
        return folder
    tmp = _partial(folder)
    pyexiv2.registerNs(PADDING, "bench")
    empty = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"/>'
    for n in range(count):
        path = tmp / f"kw_{n:05d}.jpg"
        photo(1024, 768, seed=n).save(path, quality=88)
        with pyexiv2.Image(str(path)) as image:
            image.modify_xmp(_packet(n))
        sidecar = tmp / f"kw_{n:05d}.jpg.xmp"
        sidecar.write_text(empty)
        with pyexiv2.Image(str(sidecar)) as image:
            image.modify_xmp(_packet(n + 1))
    tmp.rename(folder)
    return folder


def _import(folder: Path, readers_on: bool) -> float:
    saved = analyse.read_photo_metadata, analyse.read_credentials
    if not readers_on:
        analyse.read_photo_metadata = lambda *args: None
        analyse.read_credentials = lambda *args: None
    root = BENCH / "metadata-import-lib"
    shutil.rmtree(root, ignore_errors=True)
    try:
        with Library.open(root) as library:
            started = time.perf_counter()
            library.import_paths([folder])
            return time.perf_counter() - started
    finally:
        analyse.read_photo_metadata, analyse.read_credentials = saved
        shutil.rmtree(root, ignore_errors=True)


def _per_file(folder: Path, files: int = 50) -> None:
    from PIL import Image

    from pixlstash.media.analyse import analyse_file
    from pixlstash.media.credentials import read_credentials
    from pixlstash.media.facts import MediaAnalysis
    from pixlstash.media.xmp import read_photo_metadata

    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".png"))[:files]
    xmp = c2pa = whole = 0.0
    for path in paths:
        with Image.open(path) as image:
            started = time.perf_counter()
            read_photo_metadata(path, image, MediaAnalysis("", "", "image", "", 0, 0, 0))
            xmp += time.perf_counter() - started
        started = time.perf_counter()
        read_credentials(path, path.suffix, [])
        c2pa += time.perf_counter() - started
        started = time.perf_counter()
        try:
            analyse_file(path)
        except Exception:  # a corrupt file of the corpus
            pass
        whole += time.perf_counter() - started
    n = len(paths)
    print(
        f"  per file, one core ({n} files): XMP+IPTC {xmp / n * 1000:.2f} ms, C2PA {c2pa / n * 1000:.2f} ms, "
        f"whole analysis {whole / n * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer", type=int, default=600, help="files of the peer corpus (0 to skip)")
    parser.add_argument("--xmp", type=int, default=1000, help="keyworded JPEGs with sidecars (0 to skip)")
    parser.add_argument("--rounds", type=int, default=3, help="imports with the readers on and off, alternated")
    parser.add_argument(
        "--small", action="store_true", help="a quick check of the script (100 and 40 files, one round)"
    )
    args = parser.parse_args()
    if args.small:
        args.peer, args.xmp, args.rounds = min(args.peer, 100), min(args.xmp, 40), 1
    corpora = []
    if args.peer:
        corpora.append(corpus_peer(args.peer))
    if args.xmp:
        corpora.append(corpus_xmp(args.xmp))
    for folder in corpora:
        files = sum(1 for p in folder.iterdir() if not p.name.endswith(".xmp"))
        on, off = [], []
        for _ in range(args.rounds):
            off.append(_import(folder, readers_on=False))
            on.append(_import(folder, readers_on=True))
        before, after = statistics.median(off), statistics.median(on)
        print(
            f"{folder.name}: {files} pictures; readers off {files / before:.1f} pictures/s ({before:.1f} s), "
            f"on {files / after:.1f} pictures/s ({after:.1f} s): {100 * (after - before) / before:+.1f} %"
        )
        _per_file(folder)


if __name__ == "__main__":
    main()
