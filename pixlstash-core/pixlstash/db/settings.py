"""Settings kept in a key/value table, one typed value (a msgspec Struct, stored as JSON) per key.

The same store serves the library's ``settings`` (enrichment), the snapshot catalog's
``catalog_settings`` (the schedule) and auth's ``instance_settings`` (the update check).
"""

from __future__ import annotations

from typing import TypeVar

import msgspec

from .database import Database

__all__ = ["SettingsStore"]

T = TypeVar("T")
_TABLES = {"settings", "catalog_settings", "instance_settings"}  # the tables made by the migrations


class SettingsStore:
    def __init__(self, db: Database, table: str) -> None:
        if table not in _TABLES:
            raise ValueError(f"no settings table named {table!r}")
        self.db, self.table = db, table

    def get(self, key: str, kind: type[T], default: T) -> T:
        """The value stored under ``key``, or ``default`` when there is none."""
        raw = self.db.scalar(f"SELECT value FROM {self.table} WHERE key = ?", (key,))
        return default if raw is None else msgspec.json.decode(raw, type=kind)

    def put(self, key: str, value: object) -> None:
        """Store ``value`` under ``key``, in a write transaction of its own (or the caller's)."""
        with self.db.write():
            self.db.execute(
                f"INSERT OR REPLACE INTO {self.table}(key, value) VALUES (?, ?)",
                (key, msgspec.json.encode(value).decode()),
            )

    def entries(self) -> list[tuple[str, object]]:
        """Every key with its value (the settings tables hold tens of rows)."""
        return [(key, msgspec.json.decode(raw)) for key, raw in self.db.query(f"SELECT key, value FROM {self.table}")]

    def delete(self, key: str) -> None:
        with self.db.write():
            self.db.execute(f"DELETE FROM {self.table} WHERE key = ?", (key,))
