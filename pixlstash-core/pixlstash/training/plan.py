"""What an export writes, planned before a file is written: each picture's image file and caption, and
the pictures it cannot export. The export writes it (``export``); the dataset check reads it
(``dataset_check``)."""

from __future__ import annotations

import msgspec

from ..domain import PersonRegion

__all__ = ["ExportFile", "ExportMissing", "ExportPlan"]


class ExportFile(msgspec.Struct, frozen=True):
    """One picture of the export: its image file (relative to the export), caption and source."""

    picture_id: int
    content_hash: str
    image: str
    caption: str
    tags: list[str]
    source: str  # the original's path
    suffix: str  # the original's suffix
    video: bool = False
    edited: bool = False  # written as its edit shows it (turned, cropped) before any resize
    # What its .xmp sidecar says (``ExportOptions.xmp``): the picture's own tags, rating and caption, the
    # people in it (their face boxes as fractions of the image written) and that image's size.
    keywords: list[str] = []
    rating: int = 0
    description: str = ""
    people: list[PersonRegion] = []
    size: tuple[int, int] | None = None


class ExportMissing(msgspec.Struct, frozen=True):
    picture_id: int
    name: str
    reason: str


class ExportPlan(msgspec.Struct, frozen=True):
    files: list[ExportFile]
    missing: list[ExportMissing]  # listed, never silently skipped
    videos_left_out: list[int]
    folder: str  # "" or kohya's "<repeats>_<trigger>"
    uncaptioned: list[int] = []  # pictures whose caption is empty: no caption file is written for them
    warnings: list[str] = []  # what a trainer will not do with this export, said before it is written
