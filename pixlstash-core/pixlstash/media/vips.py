"""The optional libvips accelerator for grid thumbnails of PNGs (the core's ``vips`` extra: pyvips and pyvips-binary).

Measured on this project's 2-core machine (benchmarks/README.md, "Import"): libvips makes a PNG's grid
thumbnail in 90 ms of CPU where Pillow takes 131 ms (libspng decodes faster, and libvips never holds the
whole decoded image), while for JPEG Pillow's draft mode is faster (24 ms against 34). So libvips is used
for PNG only, when it is installed; Pillow remains the path that always works, and the one for every
other format. ``PIXLSTASH_NO_VIPS=1`` turns the accelerator off.
"""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

from PIL import Image

from ..errors import UnsupportedMedia

__all__ = ["vips_available", "vips_grid"]

log = logging.getLogger(__name__)

_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


@functools.cache
def _load():
    """pyvips, set up; None where it is missing. Loaded on first use, not with every command."""
    try:
        import pyvips
    except (ImportError, OSError):  # not installed, or its library is missing
        return None
    pyvips.cache_set_max(0)  # every file is seen once: an operation cache only holds memory
    pyvips.concurrency_set(1)  # the import runs one file per core already; libvips' own threads only contend
    return pyvips


def vips_available() -> bool:
    """Whether the accelerator is installed and not turned off (read each time: tests switch it)."""
    return _load() is not None and not os.environ.get("PIXLSTASH_NO_VIPS")


def vips_grid(path: Path, box: int) -> Image.Image:
    """The picture at ``path`` shrunk to fit ``box`` (never enlarged), turned upright by its orientation
    tag, as an 8-bit Pillow image. Raises ``UnsupportedMedia`` for data libvips cannot decode whole."""
    pyvips = _load()
    try:
        # From the bytes, not the name: libvips reads options from a name ("a[page=2].png") and wants
        # UTF-8 names, which a file system does not promise.
        # (thumbnail_buffer would ignore fail_on and let a damaged deflate stream through.)
        loaded = pyvips.Image.new_from_buffer(path.read_bytes(), "", fail_on="error", access="sequential")
        image = loaded.thumbnail_image(box, height=box, size="down")
        if image.format != "uchar":
            image = image.colourspace("b-w" if image.bands < 3 else "srgb").cast("uchar")
        if image.bands not in _MODES:
            image = image.extract_band(0, n=3)
        return Image.frombytes(_MODES[image.bands], (image.width, image.height), image.write_to_memory())
    except pyvips.Error as error:
        message = str(error).strip().splitlines()[-1] if str(error).strip() else "unreadable"
        raise UnsupportedMedia(f"corrupt or truncated image: {message}") from None
