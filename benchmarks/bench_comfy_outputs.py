"""A ComfyUI run whose outputs are many and large: the server's peak memory while it files them.

    .venv/bin/python benchmarks/bench_comfy_outputs.py [--outputs 60] [--megabytes 20]

A ComfyUI peer on 127.0.0.1 (``tests/comfy_peer.py``) answers one prompt with ``--outputs`` files of
``--megabytes`` each (a noise PNG, so it is that large). The run is carried out in this process, as the
server's runner does it; the figure is the process's peak resident memory above where it started. The
runner used to hold every output in memory at once (60 x 20 MB: +1,193 MiB); it now streams each to a
scratch file.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "pixlstash-core"))
sys.path.insert(0, str(HERE.parent / "tests"))

import numpy as np  # noqa: E402
from comfy_peer import GRAPH, comfy_peer  # noqa: E402
from PIL import Image, PngImagePlugin  # noqa: E402

from pixlstash.library import Library  # noqa: E402


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--outputs", type=int, default=60)
    parser.add_argument("--megabytes", type=float, default=20)
    args = parser.parse_args()
    side = int((args.megabytes * 1e6 / 3) ** 0.5)
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (side, side, 3), dtype=np.uint8)).save(
        buffer, "PNG", compress_level=0
    )
    content = buffer.getvalue()
    with tempfile.TemporaryDirectory() as scratch, comfy_peer() as peer:
        made = Path(scratch) / "made.png"
        info = PngImagePlugin.PngInfo()
        info.add_text("prompt", json.dumps(GRAPH))
        Image.new("RGB", (64, 48)).save(made, pnginfo=info)
        with Library.open(Path(scratch) / "lib") as library:
            library.import_paths([made])
            library.comfy.link(peer.url)
            peer.state, peer.content = "done", content
            peer.outputs = [f"out_{n:03}.png" for n in range(args.outputs)]
            run = library.comfy.create_remix(1)
            before = _rss_mib()
            began = time.perf_counter()
            ran = library.comfy.carry_out(run.id)
            seconds = time.perf_counter() - began
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert ran.status == "done", ran.message
    total = len(content) * args.outputs / 2**20
    print(f"{args.outputs} outputs of {len(content) / 1e6:.1f} MB ({total:,.0f} MiB in all), filed in {seconds:.1f} s")
    print(f"resident memory: {before:.0f} MiB before, peak {peak:.0f} MiB (+{peak - before:.0f} MiB)")


if __name__ == "__main__":
    main()
