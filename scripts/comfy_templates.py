"""Write the node pack's ComfyUI templates from its API-format workflows, with ComfyUI's own frontend.

    .venv/bin/python scripts/comfy_templates.py

For each ``comfyui-pixlstash/api_workflows/<name>.json`` it starts the real ComfyUI of the tests
(../shared/reference/ComfyUI), loads the graph in ComfyUI's editor in headless Chromium, and writes
``comfyui-pixlstash/example_workflows/<name>.json`` (the editor's own workflow format, with its version)
and ``<name>.jpg`` (the thumbnail ComfyUI's template browser shows), and rewrites the API workflow as the
editor queues it (every widget's value, titles under ``_meta``). Run it after changing an API
workflow; tests/test_comfyui_frontend.py fails while the two disagree."""

from __future__ import annotations

import io
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from comfy_frontend import open_comfy  # noqa: E402
from PIL import Image  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from real_comfyui import PACK, RealComfyUI  # noqa: E402

THUMBNAIL_WIDTH = 640


def main() -> None:
    out = PACK / "example_workflows"
    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as base, sync_playwright() as playwright:
        comfy = RealComfyUI(Path(base)).start()
        # ComfyUI's checkout ships input/example.png, which the examples' LoadImage names.
        Image.new("RGB", (512, 512), (128, 128, 128)).save(Path(base) / "input" / "example.png")
        try:
            browser, editor = open_comfy(playwright, comfy, width=2200, height=1300)
            for source in sorted((PACK / "api_workflows").glob("*.json")):
                workflow, queued = editor.load_api_graph(json.loads(source.read_text()), source.stem)
                (out / source.name).write_text(json.dumps(_without_nulls(workflow), indent=2) + "\n")
                source.write_text(json.dumps(queued, indent=2) + "\n")  # as the editor queues it
                shot = Image.open(io.BytesIO(editor.page.locator("#graph-canvas").screenshot())).convert("RGB")
                shot.thumbnail((THUMBNAIL_WIDTH, THUMBNAIL_WIDTH))
                shot.save(out / f"{source.stem}.jpg", quality=85)
                print(f"wrote {out / source.name} and its thumbnail")
            browser.close()
        finally:
            comfy.stop()


def _without_nulls(value):
    """The serialized graph less its unset slot fields (``"color_on": null`` and the like), which the
    editor writes but its own schema check rejects when the workflow is opened again."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


if __name__ == "__main__":
    main()
