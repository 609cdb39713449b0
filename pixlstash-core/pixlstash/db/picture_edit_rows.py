"""SQL for pictures' edits (turn, mirror, straighten, crop): read them with what they need (the upright
original's size), and write them with the size they give (what grids lay out)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from ..domain import PictureEdit
from ..domain.look_geometry import shown_size
from .database import Database, ids_json

__all__ = ["EditRow", "PictureEditRows"]

_decoder = msgspec.json.Decoder(PictureEdit)
_encoder = msgspec.json.Encoder()


class EditRow(msgspec.Struct, frozen=True):
    picture_id: int
    width: int  # the upright original's
    height: int
    media_type: str
    edit: PictureEdit | None


class PictureEditRows:
    def __init__(self, db: Database) -> None:
        self.db = db

    def rows(self, picture_ids: Sequence[int]) -> dict[int, EditRow]:
        return {
            pid: EditRow(pid, width, height, media_type, _decoder.decode(edit) if edit else None)
            for pid, width, height, media_type, edit in self.db.query(
                "SELECT id, width, height, media_type, edit FROM pictures WHERE id IN (SELECT value FROM json_each(?))",
                (ids_json(picture_ids),),
            )
        }

    def put(self, edits: Mapping[int, PictureEdit | None]) -> None:
        """Set (or, with None, remove) the edits (inside a write)."""
        sizes = {row.picture_id: (row.width, row.height) for row in self.rows(list(edits)).values()}
        self.db.connection.executemany(
            "UPDATE pictures SET edit = ?, shown_width = ?, shown_height = ? WHERE id = ?",
            [
                (
                    None if edit is None else _encoder.encode(edit).decode(),
                    *((None, None) if edit is None else shown_size(edit, *sizes[pid])),
                    pid,
                )
                for pid, edit in edits.items()
                if pid in sizes
            ],
        )

    def edited_ids(self) -> list[int]:
        return [pid for (pid,) in self.db.query("SELECT id FROM pictures WHERE edit IS NOT NULL ORDER BY id")]
