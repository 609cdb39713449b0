"""The text OCR engines read in pictures: one reading per picture (the latest), its words for the full-text
index and its regions for the viewer."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from ..domain import PictureText, TextRun
from .database import Database

__all__ = ["TextStore"]


class TextStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, picture_id: int, engine_id: str, engine_version: str, runs: Sequence[TextRun], now: int) -> None:
        """Store a reading (no runs: the picture was read and holds no text)."""
        self.db.execute(
            "INSERT INTO picture_ocr(picture_id, engine_id, engine_version, text, regions, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET engine_id = excluded.engine_id, "
            "engine_version = excluded.engine_version, text = excluded.text, regions = excluded.regions, "
            "created_at = excluded.created_at",
            (
                picture_id,
                engine_id,
                engine_version,
                " ".join(run.text for run in runs),
                msgspec.json.encode([[run.text, run.quad] for run in runs]).decode(),
                now,
            ),
        )

    def reading(self, picture_id: int) -> PictureText | None:
        row = self.db.row(
            "SELECT engine_id, engine_version, text, regions, created_at FROM picture_ocr WHERE picture_id = ?",
            (picture_id,),
        )
        if row is None:
            return None
        engine_id, version, text, regions, created = row
        runs = [TextRun(item[0], item[1]) for item in msgspec.json.decode(regions)]
        return PictureText(engine_id, text, runs, version, created)
