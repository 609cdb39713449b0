"""Import throughput on generated corpora (hashing, EXIF, metadata, thumbnails and commits included).

    .venv/bin/python benchmarks/bench_import.py [--big 200] [--mixed 2000] [--workers N]

Corpus A: 3000x2000 photo-like JPEGs. Corpus B: mixed JPEG and PNG pictures whose longest side is
1024-4096 px, with 5% duplicates and 2% corrupt files. Corpora are generated once into .bench/ and
reused. Also prints when the first picture became visible (it lands long before the batch ends).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "pixlstash-core"))

from PIL import Image  # noqa: E402

from pixlstash.library import Library  # noqa: E402

BENCH = HERE.parent / ".bench"


def photo(width: int, height: int, seed: int) -> Image.Image:
    """Photo-like content (smooth regions, edges, mild noise) so encoders behave as on real photos."""
    rng = np.random.default_rng(seed)
    small_w, small_h = max(8, width // 16), max(8, height // 16)
    y, x = np.mgrid[0:small_h, 0:small_w].astype(np.float32)
    base = np.stack([x / small_w * 255, y / small_h * 255, (x + y) / (small_w + small_h) * 255], -1)
    for _ in range(12):
        cx, cy, r = rng.integers(0, small_w), rng.integers(0, small_h), rng.integers(2, max(3, small_w // 4))
        base[(x - cx) ** 2 + (y - cy) ** 2 < r**2] = rng.integers(0, 255, 3)
    image = Image.fromarray(base.clip(0, 255).astype(np.uint8)).resize((width, height), Image.Resampling.BICUBIC)
    tile = rng.integers(-6, 7, (256, 256, 3), dtype=np.int16)  # sensor-like noise, tiled to save time
    noise = np.tile(tile, (height // 256 + 1, width // 256 + 1, 1))[:height, :width]
    return Image.fromarray((np.asarray(image, dtype=np.int16) + noise).clip(0, 255).astype(np.uint8))


def _make(job: tuple[str, int, int, int, str]) -> None:
    path, width, height, seed, kind = job
    image = photo(width, height, seed)
    if kind == "png":
        image.save(path, "PNG", compress_level=1)
    else:
        image.save(path, "JPEG", quality=88)


def _partial(folder: Path) -> Path:
    """A fresh folder to generate a corpus into; renamed to ``folder`` once complete."""
    tmp = folder.with_suffix(".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def corpus_big(count: int) -> Path:
    folder = BENCH / f"corpus-3000x2000-{count}"
    if not folder.exists():
        tmp = _partial(folder)
        with ProcessPoolExecutor() as pool:
            list(pool.map(_make, [(str(tmp / f"{n:05d}.jpg"), 3000, 2000, n, "jpeg") for n in range(count)]))
        tmp.rename(folder)
    return folder


def _mixed_pictures(folder: Path, rng, count: int, name: str, first_seed: int) -> list[Path]:
    """``count`` photo-like pictures whose longest side is 1024-4096 px, 70% JPEG and 30% PNG."""
    jobs = []
    for n in range(count):
        long_side = int(rng.integers(1024, 4097))
        ratio = float(rng.choice([1.0, 0.75, 0.5625, 0.666]))
        w, h = (long_side, int(long_side * ratio)) if rng.random() < 0.6 else (int(long_side * ratio), long_side)
        kind = "png" if rng.random() < 0.3 else "jpeg"
        path = folder / f"{name.format(n)}.{'png' if kind == 'png' else 'jpg'}"
        jobs.append((str(path), w, h, first_seed + n, kind))
    with ProcessPoolExecutor() as pool:
        list(pool.map(_make, jobs))
    return sorted(folder.iterdir())


def _make_big(job: tuple[str, int, int, int, str]) -> None:
    """A picture as an upscaler or a camera export writes it: stronger grain than ``photo`` (upscaled renders
    and high-ISO photos keep theirs), JPEG at quality 90 or a PNG at ComfyUI's compression level 4."""
    path, width, height, seed, kind = job
    rng = np.random.default_rng(seed + 1)
    pixels = np.asarray(photo(width, height, seed), dtype=np.int16)
    # Grain over the whole picture, not tiled: a repeating tile would let PNG's deflate match it.
    pixels += rng.integers(-1, 2, (height, width, 3), dtype=np.int16)
    image = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
    if kind == "png":
        image.save(path, "PNG", compress_level=4)
    else:
        image.save(path, "JPEG", quality=90)


def corpus_big_mixed(count: int) -> Path:
    """Big files as an upscaling ComfyUI user or a photographer has them (issue 65's recipe, for 60:
    43 JPEGs and 16 PNGs whose longest side is 1024-3840 px (up to 4K), 3 of them duplicates and 1 corrupt, and one
    text file; other counts keep the shares). Deterministic: the same files for the same count."""
    folder = BENCH / f"corpus-big-mixed-{count}"
    if not folder.exists():
        tmp = _partial(folder)
        rng = np.random.default_rng(65)
        pngs, texts = round(count * 16 / 60), max(1, round(count / 60))
        duplicates, corrupt = round(count * 3 / 60), max(1, round(count / 60))
        jpegs = count - pngs - texts
        jobs = []
        kinds = ["png"] * (pngs - corrupt) + ["jpeg"] * (jpegs - duplicates)  # the copies JPEGs, the cut a PNG
        for n, kind in enumerate(rng.permutation(kinds)):
            long_side = int(rng.integers(1024, 3841))  # up to 4K UHD's 3840
            ratio = float(rng.choice([1.0, 0.75, 0.5625, 0.666]))
            w, h = (long_side, int(long_side * ratio)) if rng.random() < 0.6 else (int(long_side * ratio), long_side)
            jobs.append((str(tmp / f"big-{n:04d}.{'png' if kind == 'png' else 'jpg'}"), w, h, 20_000 + n, kind))
        with ProcessPoolExecutor() as pool:
            list(pool.map(_make_big, jobs))
        made = sorted(tmp.iterdir())
        jpeg_files = [path for path in made if path.suffix == ".jpg"]
        for n in range(duplicates):  # the same bytes under another name
            source = jpeg_files[(n * 7) % len(jpeg_files)]
            shutil.copy(source, tmp / f"copy-{n:04d}{source.suffix}")
        png_files = [path for path in made if path.suffix == ".png"]
        for n in range(corrupt):  # cut short, as an interrupted copy leaves it
            (tmp / f"cut-{n:04d}.png").write_bytes(png_files[n % len(png_files)].read_bytes()[:200_000])
        for n in range(texts):
            (tmp / f"notes-{n:04d}.txt").write_text("prompts I liked\n" * 40)
        tmp.rename(folder)
    return folder


def corpus_mixed(count: int) -> Path:
    folder = BENCH / f"corpus-mixed-{count}"
    if not folder.exists():
        tmp = _partial(folder)
        rng = np.random.default_rng(1)
        unique = int(count * 0.93)
        files = _mixed_pictures(tmp, rng, unique, "{:05d}", 10_000)
        for n in range(count - unique - int(count * 0.02)):  # duplicates: same bytes, other names
            source = files[int(rng.integers(0, len(files)))]
            shutil.copy(source, tmp / f"dup-{n:04d}{source.suffix}")
        for n in range(int(count * 0.02)):  # corrupt: truncated copies
            source = files[int(rng.integers(0, len(files)))]
            (tmp / f"corrupt-{n:04d}{source.suffix}").write_bytes(source.read_bytes()[:5000])
        tmp.rename(folder)
    return folder


def corpus_peer(count: int = 600) -> Path:
    """The recipe of the comparison with the public PixlStash (issue 22): 95% distinct pictures whose
    longest side is 1024-4096 px (70% JPEG, 30% PNG), 3% duplicates, 1% corrupt (cut short or with a
    broken chunk), 1% files that are not pictures."""
    folder = BENCH / f"corpus-peer-{count}"
    if folder.exists():
        return folder
    tmp = _partial(folder)
    rng = np.random.default_rng(22)
    unique, duplicates, corrupt = int(count * 0.95), int(count * 0.03), int(count * 0.01)
    files = _mixed_pictures(tmp, rng, unique, "img_{:04d}", 50_000)
    for n in range(duplicates):
        source = files[int(rng.integers(0, len(files)))]
        shutil.copy(source, tmp / f"dup_{n:04d}{source.suffix}")
    pngs = [f for f in files if f.suffix == ".png"]
    for n in range(corrupt):
        data = bytearray(pngs[n].read_bytes())
        if n % 2:  # a flipped byte in the image data: the chunk's checksum no longer matches
            data[len(data) // 2] ^= 0xFF
        else:
            data = data[: len(data) * 2 // 3]
        (tmp / f"corrupt_{n:04d}.png").write_bytes(bytes(data))
    for n in range(count - unique - duplicates - corrupt):
        (tmp / f"notes_{n:04d}.jpg").write_bytes(b"not a picture, only text\n" * 40)
    tmp.rename(folder)
    return folder


def run(folder: Path, workers: int | None) -> None:
    root = BENCH / "import-lib"
    shutil.rmtree(root, ignore_errors=True)
    files = sum(1 for _ in folder.iterdir())
    with Library.open(root) as library:
        first_visible: list[float] = []
        started = time.perf_counter()
        library.events.subscribe(
            lambda e: (
                first_visible.append(time.perf_counter() - started)
                if e.kind == "picture.added" and not first_visible
                else None
            )
        )
        report = library.import_paths([folder], workers=workers)
        elapsed = time.perf_counter() - started
    rate = files / elapsed
    print(
        f"{folder.name}: {files} files in {elapsed:.1f} s = {rate:.1f} files/s "
        f"(imported {len(report.imported)}, duplicates {len(report.duplicates)}, skipped {len(report.skipped)}); "
        f"first picture visible after {first_visible[0]:.2f} s"
    )
    shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--big", type=int, default=200, help="3000x2000 JPEGs (0 to skip)")
    parser.add_argument("--mixed", type=int, default=2000, help="mixed JPEG/PNG pictures (0 to skip)")
    parser.add_argument("--workers", type=int, default=None, help="import threads (default: cores, at least 2)")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores")
    if args.big:
        run(corpus_big(args.big), args.workers)
    if args.mixed:
        run(corpus_mixed(args.mixed), args.workers)


if __name__ == "__main__":
    main()
