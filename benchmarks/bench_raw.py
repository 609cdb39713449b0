"""Camera RAW import speed: a full-size DNG (a 24 MP Bayer mosaic written with PiDNG, no embedded
preview, so every import demosaics) and the same size as a JPEG for comparison.

    .venv/bin/python benchmarks/bench_raw.py [--megapixels 24] [--runs 3]

Prints seconds per file for the analysis an import does (size, EXIF, thumbnails): for the RAW file,
libraw's half-size demosaic, which is what a RAW file without a large embedded preview costs (most
cameras embed a full-size JPEG, which is then decoded instead, at JPEG speed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "pixlstash-core"))
sys.path.insert(0, str(HERE.parent / "tests"))

from PIL import Image  # noqa: E402
from test_raw_and_jxl import write_dng  # noqa: E402

from pixlstash.media.analyse import analyse_file  # noqa: E402


def timed(path: Path, runs: int) -> float:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        analyse_file(path)
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megapixels", type=float, default=24)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    height = int((args.megapixels * 1e6 / 1.5) ** 0.5) // 2 * 2
    width = int(height * 1.5) // 2 * 2
    with tempfile.TemporaryDirectory(prefix="bench-raw-") as folder:
        dng = write_dng(Path(folder) / "full.dng", width=width, height=height, orientation=1)
        rng = np.random.default_rng(0)
        jpeg = Path(folder) / "full.jpg"
        Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8)).save(jpeg, quality=90)
        print(f"machine: {os.cpu_count()} cores; {width}x{height} ({width * height / 1e6:.1f} MP)")
        print(f"DNG, {dng.stat().st_size / 1e6:.0f} MB, half-size demosaic: {timed(dng, args.runs):.2f} s a file")
        print(f"JPEG, {jpeg.stat().st_size / 1e6:.0f} MB, for comparison:       {timed(jpeg, args.runs):.2f} s a file")


if __name__ == "__main__":
    main()
