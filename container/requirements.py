"""Print the third-party requirements of an image variant's packages, read from their pyproject.toml files.

The image installs these first, in a layer of their own, so that a change to PixlStash's code rebuilds only
the small layer with PixlStash's packages (installed with --no-deps on top).

    python3 container/requirements.py cpu|cuda
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# (folder, extras) per variant: what each image holds.
VARIANTS = {
    "cpu": [
        ("pixlstash-core", ("video", "heif", "jxl", "raw", "vips", "c2pa")),
        ("pixlstash-web", ()),
        ("pixlstash-plugins/wd-tagger", ()),
        ("pixlstash-plugins/faces", ()),
        ("pixlstash-plugins/openai-vision", ()),
        ("pixlstash-plugins/s3", ()),
    ],
}
VARIANTS["cuda"] = [
    *VARIANTS["cpu"],
    ("pixlstash-plugins/clip", ("onnx",)),
    ("pixlstash-plugins/joycaption", ()),
    ("pixlstash-plugins/florence2", ()),
]
# The cuda image runs ONNX models on the GPU: onnxruntime-gpu provides the same module.
SWAPS = {"cuda": {"onnxruntime": "onnxruntime-gpu"}}


def requirements(variant: str) -> list[str]:
    found: list[str] = []
    for folder, extras in VARIANTS[variant]:
        if not (ROOT / folder / "pyproject.toml").is_file():
            continue  # an older tree (a test builds the previous version's image) may lack a newer plugin
        project = tomllib.loads((ROOT / folder / "pyproject.toml").read_text())["project"]
        wanted = list(project.get("dependencies", []))
        for extra in extras:
            wanted += project.get("optional-dependencies", {}).get(extra, [])  # an older tree may lack one
        for requirement in wanted:
            name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)
            if name.lower().startswith("pixlstash"):
                continue  # our own packages come in the next layer
            swapped = SWAPS.get(variant, {}).get(name.lower())
            found.append(requirement.replace(name, swapped, 1) if swapped else requirement)
    return sorted(set(found), key=str.lower)


def packages(variant: str) -> list[str]:
    return [folder for folder, _ in VARIANTS[variant] if (ROOT / folder / "pyproject.toml").is_file()]


if __name__ == "__main__":
    what, variant = (sys.argv[1], sys.argv[2]) if len(sys.argv) == 3 else ("requirements", sys.argv[1])
    print("\n".join(requirements(variant) if what == "requirements" else packages(variant)))
