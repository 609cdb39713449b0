"""Writes made by other processes, published on this process's event bus.

Running `pixlstash import` or a script beside the server is normal use, and open browsers should see
its pictures. SQLite tells any connection cheaply that someone else committed (``data_version``); then
new pictures are found by id and changed ones by their change stamp (both indexed), and whatever this
process did not announce itself is published as ``picture.added`` / ``picture.changed`` /
``picture.removed``, followed by ``library.changed`` so views refresh their sets, counts and sidebars.
"""

from __future__ import annotations

import threading

from .events import Event, EventBus
from .storage.db import Database
from .storage.pictures import PictureStore

__all__ = ["OutsideChanges"]

_OVERLAP = 1_000_000_000  # change stamps are ms x 10^6 + random digits: look a second back, skip what was seen


class OutsideChanges:
    """Call ``check()`` periodically (always from the same thread: ``data_version`` is per connection)."""

    def __init__(self, db: Database, events: EventBus) -> None:
        self.db, self.events = db, events
        self.pictures = PictureStore(db)
        self._version: int | None = None
        self._last_id = self._last_seq = 0
        self._seen: dict[int, int] = {}  # id -> stamp of changes already accounted for, inside the overlap
        self._announced: set[int] = set()  # picture ids this process announced since the last check
        self._local_events = 0
        self._lock = threading.Lock()
        events.subscribe(self._remember)

    def _remember(self, event: Event) -> None:
        if event.data.get("outside"):
            return  # our own announcements of others' writes
        with self._lock:
            self._local_events += 1
            if len(self._announced) < 100_000:
                self._announced.update(event.picture_ids)

    def check(self) -> None:
        version = self.db.data_version()
        if self._version is None:  # the first look: everything so far is the starting point
            self._version = version
            self._last_id, self._last_seq = self.pictures.change_mark()
            return
        if version == self._version:
            return
        self._version = version
        added = self.pictures.ids_above(self._last_id)
        changed = [
            row for row in self.pictures.changes_since(self._last_seq - _OVERLAP) if self._seen.get(row[0]) != row[1]
        ]
        if added:
            self._last_id = added[-1]
        if changed:
            self._last_seq = max(self._last_seq, changed[-1][1])
        self._seen = {pid: seq for pid, seq, _ in changed if seq > self._last_seq - _OVERLAP} | {
            pid: seq for pid, seq in self._seen.items() if seq > self._last_seq - _OVERLAP
        }
        with self._lock:
            announced, self._announced = self._announced, set()
            local_events, self._local_events = self._local_events, 0
        new = [pid for pid in added if pid not in announced]
        fresh = set(added)
        scrapped = [pid for pid, _, gone in changed if gone and pid not in announced and pid not in fresh]
        edited = [pid for pid, _, gone in changed if not gone and pid not in announced and pid not in fresh]
        for kind, ids in (("picture.added", new), ("picture.changed", edited), ("picture.removed", scrapped)):
            if ids:
                self.events.publish(Event(kind, ids, {"outside": True}))
        if new or edited or scrapped or not local_events:
            # Something outside this process wrote (sets, projects, tags, a purge: no picture stamp says
            # which): views refresh what they show besides pictures.
            self.events.publish(Event("library.changed", data={"outside": True}))
