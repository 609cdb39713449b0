"""Run ``pixlstash ARGS`` in this interpreter as if only some plugins were installed: the others' plugins
do not load (``PIXLSTASH_LOAD_PLUGINS``) and the libraries only they bring cannot be imported, so the
process holds exactly the native code that install shape would hold.

    python install_shape_boot.py SHAPE_PLUGINS -- ARGS...

``SHAPE_PLUGINS`` is a comma-separated list (``wd-tagger,faces``; empty for the core alone); the word
``extras`` among them keeps the core's optional extras (video, heif, jxl, raw, vips), hidden otherwise. When
``SHAPE_REPORT`` names a file, the heavy modules this process imported are written there at exit.
The CLI may start this same command line again as its watched child (``pixlstash.cli.crashes``).
"""

from __future__ import annotations

import atexit
import importlib.abc
import json
import os
import sys

# What each plugin brings that nothing else in PixlStash imports.
PLUGIN_LIBRARIES = {
    "clip": {"torch", "torchvision", "open_clip", "timm"},
    "joycaption": {"torch", "torchvision", "transformers", "accelerate", "bitsandbytes"},
    "wd-tagger": {"onnxruntime"},
    "faces": {"onnxruntime", "insightface", "cv2", "skimage", "scipy"},
}
HEAVY = sorted(set().union(*PLUGIN_LIBRARIES.values()))
# The core's optional extras: native libraries of their own (PyAV, libheif, libvips) that load early.
EXTRAS = {"av", "pyvips", "pillow_heif", "pillow_jxl", "rawpy"}


class _Hiding(importlib.abc.MetaPathFinder):
    """One of the interpreter's finders, finding nothing of ``names``: to ``import`` and to
    ``importlib.util.find_spec`` (which libraries use to see what is installed) they are not there."""

    def __init__(self, finder, names: set[str]) -> None:
        self.finder, self.names = finder, names

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".", 1)[0] in self.names:
            return None
        return self.finder.find_spec(fullname, path, target)

    def __getattr__(self, name):
        return getattr(self.finder, name)


def _report(path: str) -> None:
    with open(path, "w") as handle:
        json.dump(sorted(m for m in HEAVY if m in sys.modules), handle)


def main() -> int:
    words = [p for p in sys.argv[1].split(",") if p]
    shape = [p for p in words if p != "extras"]
    args = sys.argv[sys.argv.index("--") + 1 :]
    present = set().union(*(PLUGIN_LIBRARIES[p] for p in shape)) if shape else set()
    hidden = set(HEAVY) - present | (set() if "extras" in words else EXTRAS)
    sys.meta_path[:] = [_Hiding(finder, hidden) for finder in sys.meta_path]
    os.environ["PIXLSTASH_LOAD_PLUGINS"] = ",".join(["web", *shape])
    if os.environ.get("SHAPE_REPORT"):
        atexit.register(_report, os.environ["SHAPE_REPORT"])
    sys.argv = [sys.argv[0], *args]  # as the pixlstash script sees its command line

    from pixlstash.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
