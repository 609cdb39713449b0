"""The "Testing a plugin" example of docs/plugins.md, run as written (the docs quote this file)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docs" / "examples" / "pixlstash-aspect-tagger"))

import pixlstash_aspect_tagger
from PIL import Image

from pixlstash import EngineRegistry


def test_aspect(plugin_manager):
    plugin_manager.register(pixlstash_aspect_tagger)
    plugin_manager.check_pending()  # catches misspelt hook names
    tagger = EngineRegistry.from_plugin_manager(plugin_manager).get("tagger", "aspect/ratio")
    assert tagger.tag([Image.new("RGB", (30, 10))])[0][0].name == "landscape"
