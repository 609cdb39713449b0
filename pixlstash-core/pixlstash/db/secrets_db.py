"""The plugins' secret settings (``secrets.db``): an API key, a bucket's secret key.

Kept apart from ``library.db`` on purpose: every snapshot is a chunked copy of the whole library database,
and a backup without accounts copies the snapshots' chunks too. A secret in ``library.db`` would be in
every snapshot and every backup. Like ``auth.db``, this file is never part of a snapshot and is in a
backup only when accounts are asked for; restoring a snapshot keeps today's secrets. The file is readable
by its owner only.

The values are stored as the plugin gave them (a plugin needs the key itself, not a digest), one JSON
object of ``field: value`` per settings key (``plugin:s3``, ``storage:previous``).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import msgspec

from .database import Database
from .schema import migrate

__all__ = ["SECRETS_DATABASE_NAME", "SecretStore"]

SECRETS_DATABASE_NAME = "secrets.db"

_SECRETS_V1 = """
CREATE TABLE secrets (
    key TEXT PRIMARY KEY,                 -- the settings key the values belong to (plugin:s3)
    value TEXT NOT NULL                   -- JSON object: {field: value}
) WITHOUT ROWID;
"""

SECRETS_MIGRATIONS: list[tuple[int, str, str]] = [(1, "plugin secrets, apart from the library", _SECRETS_V1)]


class SecretStore:
    """The secrets of one library folder; the file is made (owner-only) by the first write."""

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / SECRETS_DATABASE_NAME
        self._db: Database | None = None
        self._lock = threading.Lock()

    def _open(self, create: bool) -> Database | None:
        with self._lock:
            if self._db is None:
                if not self.path.exists():
                    if not create:
                        return None
                    # Owner-only from the start; SQLite gives its -wal and -shm files the same mode.
                    os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
                db = Database(self.path)
                migrate(db.connection, SECRETS_MIGRATIONS)
                self._db = db
            return self._db

    def get(self, key: str) -> dict[str, str]:
        """The secret fields stored for ``key`` (none: an empty dict)."""
        db = self._open(create=False)
        raw = None if db is None else db.scalar("SELECT value FROM secrets WHERE key = ?", (key,))
        return {} if raw is None else msgspec.json.decode(raw, type=dict[str, str])

    def put(self, key: str, values: dict[str, str]) -> None:
        """Store the non-empty ``values`` for ``key`` (replacing what was there); none left removes the key."""
        kept = {field: value for field, value in values.items() if value}
        db = self._open(create=bool(kept))
        if db is None:
            return
        with db.write():
            if kept:
                db.execute(
                    "INSERT OR REPLACE INTO secrets(key, value) VALUES (?, ?)",
                    (key, msgspec.json.encode(dict(sorted(kept.items()))).decode()),
                )
            else:
                db.execute("DELETE FROM secrets WHERE key = ?", (key,))

    def all(self) -> dict[str, dict[str, str]]:
        """Every key's secret fields."""
        db = self._open(create=False)
        rows = [] if db is None else db.query("SELECT key, value FROM secrets ORDER BY key")
        return {key: msgspec.json.decode(raw, type=dict[str, str]) for key, raw in rows}

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
