"""Writes made by other processes, published on this process's event bus.

Running `pixlstash import` or a script beside the server is normal use, and open browsers should see
its pictures. SQLite tells any connection cheaply that someone committed (``data_version``); when
this process committed nothing in the meantime, that someone was another process: new pictures are
found by id and changed ones by their change stamp (both indexed) and published as
``picture.added`` / ``picture.changed`` / ``picture.removed``, followed by ``library.changed`` so views
refresh their sets, counts and sidebars. This process announces its own writes itself; a look that
finds both kinds of writes at once moves on without publishing (the next view reload shows them).
"""

from __future__ import annotations

from ..db.database import Database
from ..db.pictures import PictureStore
from .events import Event, EventBus

__all__ = ["OutsideChanges"]

_OVERLAP = 1_000_000_000  # change stamps are ms x 10^6 + random digits: look a second back, skip what was seen


class OutsideChanges:
    """Call ``check()`` periodically, always from the same thread (``data_version`` is per connection)."""

    def __init__(self, db: Database, events: EventBus) -> None:
        self.db, self.events = db, events
        self.pictures = PictureStore(db)
        self._version: int | None = None
        self._commits = 0
        self._last_id = self._last_seq = 0
        self._seen: dict[int, int] = {}  # id -> stamp of changes already accounted for, inside the overlap

    def check(self) -> None:
        version, commits = self.db.data_version(), self.db.commits
        if self._version is None:  # the first look: everything so far is the starting point
            self._version, self._commits = version, commits
            self._last_id, self._last_seq = self.pictures.change_mark()
            return
        if version == self._version:
            return
        local = commits != self._commits
        self._version, self._commits = version, commits
        added = self.pictures.ids_above(self._last_id)
        changed = [
            row for row in self.pictures.changes_since(self._last_seq - _OVERLAP) if self._seen.get(row[0]) != row[1]
        ]
        if added:
            self._last_id = added[-1]
        if changed:
            self._last_seq = max(self._last_seq, changed[-1][1])
        horizon = self._last_seq - _OVERLAP
        self._seen = {pid: seq for pid, seq in self._seen.items() if seq > horizon}
        self._seen.update((pid, seq) for pid, seq, _ in changed if seq > horizon)
        if local:
            return
        fresh = set(added)
        edited = [pid for pid, _, gone in changed if not gone and pid not in fresh]
        scrapped = [pid for pid, _, gone in changed if gone and pid not in fresh]
        for kind, ids in (("picture.added", added), ("picture.changed", edited), ("picture.removed", scrapped)):
            if ids:
                self.events.publish(Event(kind, ids, {"outside": True}))
        # Sets, projects, tags or a purge leave no picture stamp to say what changed: views refresh.
        self.events.publish(Event("library.changed", data={"outside": True}))
