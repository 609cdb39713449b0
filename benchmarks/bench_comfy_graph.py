"""Reading a hostile ComfyUI graph: a PNG whose prompt has 2,500 samplers sharing one node fed by 2,500
text nodes (the attack that took 112 s of server CPU to import when each sampler walked the shared
node again), and a 14,000-node chain (a recursion error before). Prints the time to read each graph,
and to import each PNG into a fresh library.

    .venv/bin/python benchmarks/bench_comfy_graph.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "pixlstash-core"))
sys.path.insert(0, str(HERE.parent / "tests"))

from hostile_graphs import as_text, chain, shared_fan  # noqa: E402
from PIL import Image, PngImagePlugin  # noqa: E402

from pixlstash.library import Library  # noqa: E402
from pixlstash.media.generators.comfyui import parse_comfyui  # noqa: E402


def main() -> None:
    cases = {"2,500 samplers x 2,500 texts": shared_fan(2_500, 2_500), "14,000-node chain": chain(14_000)}
    print(f"{'graph':32} {'JSON KB':>8} {'read s':>8} {'import s':>9}")
    with tempfile.TemporaryDirectory() as scratch:
        for n, (label, graph) in enumerate(cases.items()):
            text = as_text(graph)
            began = time.perf_counter()
            parse_comfyui(text, None)
            read = time.perf_counter() - began
            folder = Path(scratch) / f"in{n}"
            folder.mkdir()
            info = PngImagePlugin.PngInfo()
            info.add_text("prompt", text)
            Image.new("RGB", (64, 48), (90, 120, 150)).save(folder / "graph.png", pnginfo=info)
            with Library.open(Path(scratch) / f"lib{n}") as library:
                began = time.perf_counter()
                report = library.import_paths([folder])
                imported = time.perf_counter() - began
            assert len(report.imported) == 1, report
            print(f"{label:32} {len(text) / 1000:8.0f} {read:8.3f} {imported:9.3f}")


if __name__ == "__main__":
    main()
