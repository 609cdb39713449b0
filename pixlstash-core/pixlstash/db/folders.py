"""SQL for import sources, watched import folders, reference folders and the files found in them."""

from __future__ import annotations

from collections.abc import Sequence

import apsw
import msgspec

from ..domain import Folder, FolderOptions
from ..errors import Conflict, NotFound
from .database import Database
from .visibility import visible_sql

__all__ = ["FolderFile", "FolderStore"]

_FOLDER_COLUMNS = "id, kind, path, options, source_id, last_scan_at, created_at"


class FolderFile(msgspec.Struct, frozen=True):
    rel_path: str
    picture_id: int | None
    file_size: int
    mtime_ns: int
    content_hash: str
    sidecar_mtime_ns: int | None = None  # its .txt sidecar's, when last read or written
    xmp_mtime_ns: int | None = None  # its .xmp sidecar's, when last read


class FolderStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create_source(self, kind: str, label: str, now: int) -> int:
        return self.db.query(
            "INSERT INTO sources(kind, label, created_at) VALUES (?, ?, ?) RETURNING id", (kind, label, now)
        )[0][0]

    def sources(self) -> list[tuple[int, str, str, int]]:
        """Import sources; for an account that does not see every picture, those that brought in one it may
        see (a label names the files: an upload of private pictures is its uploader's business)."""
        visible, params = visible_sql("p")
        if visible == "1":
            return self.db.query("SELECT id, kind, label, created_at FROM sources ORDER BY id")
        return self.db.query(
            "SELECT s.id, s.kind, s.label, s.created_at FROM sources s WHERE EXISTS "
            f"(SELECT 1 FROM pictures p WHERE p.source_id = s.id AND {visible}) ORDER BY s.id",
            params,
        )

    def add(self, kind: str, path: str, options: FolderOptions, now: int) -> int:
        source_id = self.create_source(f"{kind}-folder", path, now)
        try:
            return self.db.query(
                "INSERT INTO folders(kind, path, source_id, options, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
                (kind, path, source_id, msgspec.json.encode(options).decode(), now),
            )[0][0]
        except apsw.ConstraintError:
            raise Conflict(f"{path} is already a library folder") from None

    def _row_to_folder(self, row: tuple) -> Folder:
        fid, kind, path, options, source_id, last_scan_at, created_at = row
        count = self.db.scalar("SELECT count(DISTINCT picture_id) FROM folder_files WHERE folder_id = ?", (fid,))
        if kind == "import":
            count = self.db.scalar("SELECT count(*) FROM pictures WHERE source_id = ?", (source_id,))
        return Folder(
            fid,
            kind,
            path,
            msgspec.json.decode(options, type=FolderOptions),
            source_id,
            last_scan_at,
            created_at,
            count or 0,
        )

    def get(self, folder_id: int) -> Folder:
        row = self.db.row(f"SELECT {_FOLDER_COLUMNS} FROM folders WHERE id = ?", (folder_id,))
        if row is None:
            raise NotFound(f"folder {folder_id} does not exist")
        return self._row_to_folder(row)

    def all(self, kind: str | None = None) -> list[Folder]:
        rows = self.db.query(
            f"SELECT {_FOLDER_COLUMNS} FROM folders" + (" WHERE kind = ?" if kind else "") + " ORDER BY id",
            (kind,) if kind else None,
        )
        return [self._row_to_folder(row) for row in rows]

    def set_options(self, folder_id: int, options: FolderOptions) -> None:
        self.db.execute(
            "UPDATE folders SET options = ? WHERE id = ?", (msgspec.json.encode(options).decode(), folder_id)
        )

    def remove(self, folder_id: int) -> None:
        """Forget a folder. Its pictures stay in the library (reference-only ones become missing)."""
        self.get(folder_id)
        self.db.execute("DELETE FROM folder_files WHERE folder_id = ?", (folder_id,))
        self.db.execute("DELETE FROM folders WHERE id = ?", (folder_id,))

    def mark_scanned(self, folder_id: int, now: int) -> None:
        self.db.execute("UPDATE folders SET last_scan_at = ? WHERE id = ?", (now, folder_id))

    def files(self, folder_id: int) -> dict[str, FolderFile]:
        return {
            row[0]: FolderFile(*row)
            for row in self.db.query(
                "SELECT rel_path, picture_id, file_size, mtime_ns, content_hash, sidecar_mtime_ns, xmp_mtime_ns "
                "FROM folder_files WHERE folder_id = ?",
                (folder_id,),
            )
        }

    def put_file(self, folder_id: int, record: FolderFile) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO folder_files(folder_id, rel_path, picture_id, file_size, mtime_ns, content_hash, "
            "sidecar_mtime_ns, xmp_mtime_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                folder_id,
                record.rel_path,
                record.picture_id,
                record.file_size,
                record.mtime_ns,
                record.content_hash,
                record.sidecar_mtime_ns,
                record.xmp_mtime_ns,
            ),
        )

    def drop_files(self, folder_id: int, rel_paths: Sequence[str]) -> None:
        self.db.connection.executemany(
            "DELETE FROM folder_files WHERE folder_id = ? AND rel_path = ?", [(folder_id, rel) for rel in rel_paths]
        )

    def picture_ids(self, folder_id: int) -> list[int]:
        return [
            pid
            for (pid,) in self.db.query(
                "SELECT DISTINCT picture_id FROM folder_files WHERE folder_id = ? AND picture_id IS NOT NULL",
                (folder_id,),
            )
        ]

    def set_sidecar_mtime(self, folder_id: int, rel_path: str, mtime_ns: int | None) -> None:
        self.db.execute(
            "UPDATE folder_files SET sidecar_mtime_ns = ? WHERE folder_id = ? AND rel_path = ?",
            (mtime_ns, folder_id, rel_path),
        )

    def set_xmp_mtime(self, folder_id: int, rel_path: str, mtime_ns: int | None) -> None:
        self.db.execute(
            "UPDATE folder_files SET xmp_mtime_ns = ? WHERE folder_id = ? AND rel_path = ?",
            (mtime_ns, folder_id, rel_path),
        )

    def locations(self, picture_id: int) -> list[tuple[int, str, str]]:
        """(folder id, folder path, relative path) of every reference file holding the picture."""
        return self.db.query(
            "SELECT f.id, f.path, ff.rel_path FROM folder_files ff JOIN folders f ON f.id = ff.folder_id "
            "WHERE ff.picture_id = ? AND f.kind = 'reference'",
            (picture_id,),
        )
