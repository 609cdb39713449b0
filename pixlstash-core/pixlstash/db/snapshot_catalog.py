"""SQL for the snapshot catalog (``snapshots/catalog.db``): snapshots, their chunk lists, the chunks.

The catalog lives beside the chunks, not in the library database: restoring the library never
changes which snapshots exist.
"""

from __future__ import annotations

import msgspec

from .database import Database

__all__ = ["CATALOG_MIGRATIONS", "SnapshotCatalog", "SnapshotRow"]

_CATALOG_V1 = """
CREATE TABLE snapshots (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('DAILY', 'WEEKLY', 'MONTHLY', 'MANUAL', 'SAFETY')),
    label TEXT,
    created_at INTEGER NOT NULL,          -- unix ms
    picture_count INTEGER NOT NULL,
    schema_version INTEGER NOT NULL,
    page_size INTEGER NOT NULL,
    db_bytes INTEGER NOT NULL,
    chunk_bytes INTEGER NOT NULL
);
CREATE TABLE snapshot_chunks (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    chunk TEXT NOT NULL,
    PRIMARY KEY (snapshot_id, seq)
) WITHOUT ROWID;
CREATE INDEX snapshot_chunks_chunk ON snapshot_chunks(chunk);
CREATE TABLE chunks (
    hash TEXT PRIMARY KEY,                -- BLAKE2b-256 of the uncompressed bytes: name and checksum
    raw_bytes INTEGER NOT NULL,
    stored_bytes INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE catalog_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""

CATALOG_MIGRATIONS: list[tuple[int, str, str]] = [(1, "snapshots, chunk lists, chunks", _CATALOG_V1)]


class SnapshotRow(msgspec.Struct, frozen=True):
    id: int
    kind: str
    label: str | None
    created_at: int
    picture_count: int
    schema_version: int
    page_size: int
    db_bytes: int
    chunk_bytes: int
    byte_size: int = 0  # stored bytes of every chunk it uses: what it alone would need
    unique_bytes: int = 0  # stored bytes no other snapshot shares: what deleting it frees


_COLUMNS = "id, kind, label, created_at, picture_count, schema_version, page_size, db_bytes, chunk_bytes"


class SnapshotCatalog:
    def __init__(self, db: Database) -> None:
        self.db = db

    def known_chunks(self, hashes: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(hashes), 500):
            part = hashes[start : start + 500]
            found |= {
                r[0]
                for r in self.db.query(f"SELECT hash FROM chunks WHERE hash IN ({','.join('?' * len(part))})", part)
            }
        return found

    def add_chunk(self, digest: str, raw_bytes: int, stored_bytes: int) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO chunks(hash, raw_bytes, stored_bytes) VALUES (?, ?, ?)",
            (digest, raw_bytes, stored_bytes),
        )

    def add_snapshot(
        self,
        kind: str,
        label: str | None,
        created_at: int,
        picture_count: int,
        schema_version: int,
        page_size: int,
        db_bytes: int,
        chunk_bytes: int,
        chunks: list[str],
    ) -> int:
        snapshot_id = self.db.query(
            f"INSERT INTO snapshots({_COLUMNS[4:]}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (kind, label, created_at, picture_count, schema_version, page_size, db_bytes, chunk_bytes),
        )[0][0]
        self.db.connection.executemany(
            "INSERT INTO snapshot_chunks(snapshot_id, seq, chunk) VALUES (?, ?, ?)",
            [(snapshot_id, seq, digest) for seq, digest in enumerate(chunks)],
        )
        return snapshot_id

    def _sized(self, rows: list[tuple]) -> list[SnapshotRow]:
        if not rows:
            return []
        ids = [r[0] for r in rows]
        marks = ",".join("?" * len(ids))
        sizes = {
            sid: (total or 0, unique or 0)
            for sid, total, unique in self.db.query(
                f"""SELECT sc.snapshot_id, sum(c.stored_bytes),
                       sum(CASE WHEN (SELECT count(DISTINCT o.snapshot_id) FROM snapshot_chunks o
                                      WHERE o.chunk = sc.chunk) = 1 THEN c.stored_bytes ELSE 0 END)
                FROM (SELECT DISTINCT snapshot_id, chunk FROM snapshot_chunks WHERE snapshot_id IN ({marks})) sc
                JOIN chunks c ON c.hash = sc.chunk GROUP BY sc.snapshot_id""",
                ids,
            )
        }
        return [SnapshotRow(*row, *sizes.get(row[0], (0, 0))) for row in rows]

    def snapshots(self) -> list[SnapshotRow]:
        return self._sized(self.db.query(f"SELECT {_COLUMNS} FROM snapshots ORDER BY created_at DESC, id DESC"))

    def snapshot(self, snapshot_id: int, *, sized: bool = True) -> SnapshotRow | None:
        """One snapshot; ``sized=False`` skips working out its byte sizes (left at 0), which means looking at
        every chunk: a restore does not need them."""
        rows = self.db.query(f"SELECT {_COLUMNS} FROM snapshots WHERE id = ?", (snapshot_id,))
        rows = self._sized(rows) if sized else [SnapshotRow(*row) for row in rows]
        return rows[0] if rows else None

    def chunk_list(self, snapshot_id: int) -> list[tuple[str, int]]:
        return self.db.query(
            "SELECT sc.chunk, c.raw_bytes FROM snapshot_chunks sc JOIN chunks c ON c.hash = sc.chunk "
            "WHERE sc.snapshot_id = ? ORDER BY sc.seq",
            (snapshot_id,),
        )

    def ids_of_kind(self, kind: str) -> list[int]:
        """Snapshots of a kind, newest first."""
        return [
            r[0]
            for r in self.db.query("SELECT id FROM snapshots WHERE kind = ? ORDER BY created_at DESC, id DESC", (kind,))
        ]

    def newest(self, kind: str) -> int | None:
        return self.db.scalar("SELECT max(created_at) FROM snapshots WHERE kind = ?", (kind,))

    def relabel(self, snapshot_id: int, label: str | None) -> bool:
        self.db.execute("UPDATE snapshots SET label = ? WHERE id = ?", (label, snapshot_id))
        return self.db.connection.changes() > 0

    def delete(self, snapshot_id: int) -> bool:
        self.db.execute("DELETE FROM snapshot_chunks WHERE snapshot_id = ?", (snapshot_id,))
        self.db.execute("DELETE FROM snapshots WHERE id = ?", (snapshot_id,))
        return self.db.connection.changes() > 0

    def unreferenced_chunks(self) -> list[str]:
        return [
            r[0]
            for r in self.db.query(
                "SELECT hash FROM chunks WHERE NOT EXISTS (SELECT 1 FROM snapshot_chunks WHERE chunk = chunks.hash)"
            )
        ]

    def forget_chunks(self, hashes: list[str]) -> None:
        self.db.connection.executemany("DELETE FROM chunks WHERE hash = ?", [(h,) for h in hashes])

    def chunk_sizes(self) -> list[tuple[str, int]]:
        """Every chunk with its uncompressed size."""
        return self.db.query("SELECT hash, raw_bytes FROM chunks ORDER BY hash")

    def replace_chunk(self, old: str, new: str) -> None:
        """Every snapshot that used chunk ``old`` uses ``new`` in its place."""
        self.db.execute("UPDATE snapshot_chunks SET chunk = ? WHERE chunk = ?", (new, old))

    def smallest_page_size(self) -> int:
        """The smallest database page size of any snapshot (4096, SQLite's default, when there is none)."""
        return int(self.db.scalar("SELECT min(page_size) FROM snapshots") or 4096)

    def all_chunk_hashes(self) -> set[str]:
        return {r[0] for r in self.db.query("SELECT hash FROM chunks")}
