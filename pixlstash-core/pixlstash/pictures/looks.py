"""What a change to pictures' edits (an ``EditChange``: turn, mirror, straighten, crop, revert) makes of
each picture's edit. Only pictures are edited: a video's frames are shown as they are."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from ..db.database import Database
from ..db.picture_edit_rows import EditRow, PictureEditRows
from ..domain import EditChange, PictureEdit
from ..domain import look_geometry as geometry
from ..errors import BadInput, NotFound
from ..system.events import Event, EventBus

__all__ = ["PictureLooks"]

DEFAULT_BUCKET_RESOLUTION = 1024


class PictureLooks:
    def __init__(self, db: Database, rows: PictureEditRows, events: EventBus) -> None:
        self.db, self.rows, self.events = db, rows, events

    def change(self, picture_ids: Sequence[int], change: EditChange) -> tuple[list, list]:
        """Apply ``change`` (inside a write); ([id, edit before], [id, edit after]) of the pictures it
        changed, as plain data for the undo history."""
        planned = self.planned(picture_ids, change)
        changed = {pid: pair for pid, pair in planned.items() if pair[0] != pair[1]}
        if changed:
            self._put({pid: after for pid, (_, after) in changed.items()})
        return (
            [[pid, _plain(before)] for pid, (before, _) in changed.items()],
            [[pid, _plain(after)] for pid, (_, after) in changed.items()],
        )

    def put_back(self, rows: Sequence[Sequence]) -> None:
        """Edits as the undo history keeps them ([id, plain edit or None]): an undo or a redo."""
        if rows:
            self._put({pid: None if edit is None else msgspec.convert(edit, PictureEdit) for pid, edit in rows})

    def _put(self, edits: dict[int, PictureEdit | None]) -> None:
        with self.db.write():
            self.rows.put(edits)
        self.events.publish(Event("picture.changed", sorted(edits), {"fields": ["edit"]}))

    def planned(
        self, picture_ids: Sequence[int], change: EditChange
    ) -> dict[int, tuple[PictureEdit | None, PictureEdit | None]]:
        """id -> (edit before, edit after) for each picture (videos among pictures are left out);
        ``NotFound`` for an unknown id, ``BadInput`` for videos alone or a change that does not fit a
        picture (a crop off it)."""
        ids = sorted(set(picture_ids))
        rows = self.rows.rows(ids)
        if missing := [pid for pid in ids if pid not in rows]:
            raise NotFound(f"no such picture: {', '.join(map(str, missing[:20]))}", missing=missing[:100])
        pictures = [pid for pid in ids if rows[pid].media_type != "video"]
        if ids and not pictures:
            raise BadInput(f"videos are not turned or cropped (picture {ids[0]} is a video)")
        return {pid: (rows[pid].edit, _applied(rows[pid], change)) for pid in pictures}


def _plain(edit: PictureEdit | None) -> dict | None:
    return None if edit is None else msgspec.to_builtins(edit)


def _applied(row: EditRow, change: EditChange) -> PictureEdit | None:
    w, h, edit = row.width, row.height, row.edit
    if change.revert:
        edit = None
    if change.set is not None:
        edit = geometry.tidy(change.set, w, h)
        if edit is not None and edit.crop is not None:
            geometry.with_crop(None, edit.crop, w, h)  # refuses a box off the picture
    if change.flip:
        edit = geometry.mirrored(edit, w, h)
    if change.rotate:
        edit = geometry.turned(edit, change.rotate, w, h)
    if change.angle is not None:
        edit = geometry.straightened(edit, change.angle, w, h)
    if change.uncrop:
        edit = geometry.with_crop(edit, None, w, h)
    if change.crop is not None:
        edit = geometry.with_crop(edit, change.crop, w, h)
    if change.shown_crop is not None:
        edit = geometry.with_shown_crop(edit, change.shown_crop, w, h)
    if change.aspect is not None:
        snap = change.aspect.startswith("bucket")
        edit = geometry.with_aspect(edit, _aspect(change.aspect, edit, w, h), w, h, snap=snap)
    return edit


def _aspect(text: str, edit: PictureEdit | None, width: int, height: int) -> tuple[int, int]:
    if not text.startswith("bucket"):
        return geometry.parse_aspect(text)
    from ..training.images import aspect_bucket  # (Pillow: only when a bucket is asked for)

    resolution = int(text.split(":")[1]) if ":" in text else DEFAULT_BUCKET_RESOLUTION
    if not 256 <= resolution <= 4096:
        raise BadInput("a training bucket's resolution is 256 to 4096")
    return aspect_bucket(*geometry.shown_size(edit, width, height), resolution)  # the nearest: a snap
