"""How long a video's poster takes to find: a 1280x720 H.264 video of 60 s with B-frames (x264
veryfast) and a keyframe every ``--keyint`` frames (by default only the first, as screen recordings and
some encoders write).

    .venv/bin/python benchmarks/bench_video_poster.py [--seconds 60] [--keyint 0]

Prints the file's size and the median time of ``poster_frame`` (what an import does for a video).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "pixlstash-core"))

from pixlstash.media.video import poster_frame  # noqa: E402


def write(path: Path, seconds: int, keyint: int) -> None:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        every = keyint or 100_000
        stream.options = {"x264-params": f"keyint={every}:min-keyint={every}:scenecut=0", "preset": "veryfast"}
        for n in range(seconds * 25):
            frame = np.roll(base, n * 4, axis=1)  # motion: real P-frames with real size
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--keyint", type=int, default=0, help="frames between keyframes (0: only the first)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-poster-") as folder:
        path = Path(folder) / "clip.mp4"
        write(path, args.seconds, args.keyint)
        samples = []
        for _ in range(args.runs):
            began = time.perf_counter()
            poster_frame(path, float(args.seconds))
            samples.append(time.perf_counter() - began)
        print(
            f"machine: {os.cpu_count()} cores; {args.seconds} s of 1280x720, {path.stat().st_size / 1e6:.0f} MB, "
            f"keyframe every {args.keyint or 'never after the first'} frames"
        )
        print(f"poster_frame: {statistics.median(samples) * 1000:.0f} ms (median of {args.runs})")


if __name__ == "__main__":
    main()
