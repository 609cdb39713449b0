"""Rebuild the UI's icon sprite from Lucide (https://lucide.dev, ISC licence).

The sprite and the licence are committed inside the web package, so installing PixlStash needs no build
step and the UI asks no other host for anything. Run this only to add an icon or move to a newer Lucide:

    npm pack lucide-static && tar xzf lucide-static-*.tgz
    python scripts/vendor_icons.py package

and name the new icon in ICONS below. The UI uses an icon as ``<svg class="i"><use href="/ui/icons/
lucide.svg#NAME"/></svg>`` (``icon(NAME)`` in ui.js).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ICONS = [
    "menu",
    "upload",
    "list-todo",
    "chart-column",
    "users",
    "history",
    "archive-restore",
    "settings",
    "circle-help",
    "log-out",
    "search",
    "sliders-horizontal",
    "scissors",
    "arrow-down-wide-narrow",
    "arrow-up-narrow-wide",
    "layout-grid",
    "layout-dashboard",
    "x",
    "chevron-left",
    "chevron-right",
    "star",
    "heart",
    "flag",
    "trash-2",
    "tag",
    "folder-plus",
    "share-2",
    "scan-search",
    "download",
    "check",
    "plus",
    "ellipsis",
    "images",
    "user-round",
    "undo-2",
    "redo-2",
    "filter",
    "image",
    "folder",
    "chevron-down",
    "user-round-plus",
    "image-plus",
    "folder-sync",
    "folder-input",
    "library",
    "info",
]

OUT = Path(__file__).resolve().parent.parent / "pixlstash-web" / "pixlstash_web" / "static" / "icons"


def main(package: Path) -> None:
    version = json.loads((package / "package.json").read_text())["version"]
    symbols = []
    for name in ICONS:
        svg = (package / "icons" / f"{name}.svg").read_text()
        body = re.search(r"<svg[^>]*>(.*)</svg>", svg, re.S).group(1)
        body = re.sub(r"\s+", " ", body).strip()
        symbols.append(f'<symbol id="{name}" viewBox="0 0 24 24">{body}</symbol>')
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "lucide.svg").write_text(
        f"<!-- Lucide {version} (ISC licence: LICENSE beside this file), the icons PixlStash uses -->\n"
        '<svg xmlns="http://www.w3.org/2000/svg" fill="none" stroke="currentColor" stroke-width="2" '
        'stroke-linecap="round" stroke-linejoin="round">\n' + "\n".join(symbols) + "\n</svg>\n"
    )
    (OUT / "LICENSE").write_text((package / "LICENSE").read_text())
    print(f"{len(symbols)} icons from Lucide {version} written to {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
