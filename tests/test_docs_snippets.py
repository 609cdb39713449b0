"""Every code block in docs/plugins.md is quoted, verbatim, from a file that the tests run or install:
the guide cannot drift from the code it describes."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCES = [
    "docs/examples/**/*.py",
    "docs/examples/**/pyproject.toml",
    "pixlstash-plugins/*/pixlstash_*/*.py",
    "pixlstash-plugins/*/pyproject.toml",
    "tests/*.py",
]


def test_every_code_block_in_the_plugin_guide_is_quoted_from_real_files():
    guide = (REPO / "docs" / "plugins.md").read_text()
    blocks = re.findall(r"^```(?:python|toml)\n(.*?)^```$", guide, re.M | re.S)
    assert len(blocks) >= 6
    texts = [p.read_text() for pattern in SOURCES for p in REPO.glob(pattern) if "build" not in p.parts]
    missing = [block[:80] for block in blocks if not any(block.rstrip("\n") in text for text in texts)]
    assert missing == []
