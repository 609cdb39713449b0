"""Near-duplicate detection on 64-bit perceptual hashes.

All hashes live in one numpy array (8 bytes a picture: 8 MB at a million), so a new picture is
compared with every other in a few milliseconds; pictures within ``max_distance`` bits share a group,
recorded in ``pictures.dup_group`` so listing groups and filtering on them is plain SQL.
"""

from __future__ import annotations

import threading

import numpy as np

from ..db.database import Database
from ..db.pictures import PictureStore

__all__ = ["DEFAULT_MAX_DISTANCE", "NearDuplicateIndex"]

DEFAULT_MAX_DISTANCE = 6


class NearDuplicateIndex:
    def __init__(self, db: Database, max_distance: int = DEFAULT_MAX_DISTANCE) -> None:
        self.db = db
        self.max_distance = max_distance
        self._lock = threading.Lock()
        self._ids: np.ndarray | None = None
        self._hashes: np.ndarray | None = None
        self._size = 0

    def _load(self) -> None:
        rows = PictureStore(self.db).duplicates.live_phashes()
        capacity = max(1024, len(rows) * 2)
        self._ids = np.zeros(capacity, dtype=np.int64)
        self._hashes = np.zeros(capacity, dtype=np.uint64)
        if rows:
            data = np.array(rows, dtype=np.int64)
            self._ids[: len(rows)] = data[:, 0]
            self._hashes[: len(rows)] = data[:, 1].view(np.uint64)
        self._size = len(rows)

    def matches(self, phash: int) -> list[int]:
        """Ids of live pictures within ``max_distance`` bits of ``phash``."""
        with self._lock:
            if self._ids is None:
                self._load()
            if not self._size:
                return []
            target = np.array([phash], dtype=np.int64).view(np.uint64)[0]
            distances = np.bitwise_count(self._hashes[: self._size] ^ target)
            return self._ids[: self._size][distances <= self.max_distance].tolist()

    def add(self, picture_id: int, phash: int) -> None:
        with self._lock:
            if self._ids is None:
                return  # loaded from the database on first use, which will include this row
            if self._size == len(self._ids):
                self._ids = np.concatenate([self._ids, np.zeros_like(self._ids)])
                self._hashes = np.concatenate([self._hashes, np.zeros_like(self._hashes)])
            self._ids[self._size] = picture_id
            self._hashes[self._size] = np.array([phash], dtype=np.int64).view(np.uint64)[0]
            self._size += 1

    def assign(self, picture_id: int, phash: int) -> None:
        """Join a new picture to the near-duplicate group of the pictures it resembles (inside a write)."""
        pictures = PictureStore(self.db)
        matches = [m for m in self.matches(phash) if m != picture_id]
        if matches:
            groups = pictures.duplicates.dup_groups_of(matches)
            group = min(groups | set(matches))
            members = set(matches) | {picture_id} | set(pictures.duplicates.dup_group_members(groups))
            pictures.duplicates.set_dup_group(sorted(members), group)
        self.add(picture_id, phash)

    def invalidate(self) -> None:
        """Forget the cache (after deletes or a restore); it reloads on next use."""
        with self._lock:
            self._ids = self._hashes = None
            self._size = 0
