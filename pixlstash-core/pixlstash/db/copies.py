"""Whole-database copies for snapshots and full restores, through SQLite's online backup API."""

from __future__ import annotations

from pathlib import Path

import apsw
import msgspec

from .database import connect
from .schema import migrate
from .secrets_db import SecretStore

__all__ = [
    "DatabaseCopy",
    "check_and_upgrade",
    "copy_database",
    "copy_database_file",
    "folder_paths",
    "is_library_database",
    "keep_originals_here",
    "overwrite_with",
    "pause_folders",
    "quick_check",
    "stored_originals",
]


class DatabaseCopy(msgspec.Struct, frozen=True):
    picture_count: int
    schema_version: int
    page_size: int


def copy_database(source: apsw.Connection, path: Path) -> DatabaseCopy:
    """Copy ``source`` to a new file at ``path`` in one step, inside one read transaction: a consistent
    point in time while writers carry on (WAL)."""
    destination = apsw.Connection(str(path))
    try:
        with destination.backup("main", source, "main") as backup:
            backup.step(-1)
        count = destination.execute("SELECT count(*) FROM pictures").fetchone()[0]
        return DatabaseCopy(count, destination.pragma("user_version"), destination.pragma("page_size"))
    finally:
        destination.close()


def copy_database_file(source: Path, destination: Path) -> None:
    """Copy the database at ``source`` (any of the library's: library, auth, history, snapshot catalog) to
    ``destination``, consistent while other processes write to it (the online backup API)."""
    connection = connect(source)
    try:
        target = apsw.Connection(str(destination))
        try:
            with target.backup("main", connection, "main") as backup:
                backup.step(-1)
            target.pragma("journal_mode", "delete")  # one self-contained file: no -wal beside it
        finally:
            target.close()
    finally:
        connection.close()


def stored_originals(library_copy: Path) -> tuple[list[tuple[str, str, int]], int]:
    """(hash, suffix, size) of every original the library stores, read from a copy of its database, and
    how many pictures live in reference folders instead."""
    connection = apsw.Connection(str(library_copy), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        rows = connection.execute(
            "SELECT content_hash, suffix, file_size FROM pictures WHERE managed = 1 ORDER BY content_hash"
        ).fetchall()
        elsewhere = connection.execute("SELECT count(*) FROM pictures WHERE managed = 0").fetchone()[0]
    finally:
        connection.close()
    return [(h, s, int(n or 0)) for h, s, n in rows], int(elsewhere)


def keep_originals_here(root: Path) -> bool:
    """A library restored into ``root`` whose originals were in a bucket gets them in its own folder (the
    backup held them): point it there, keeping where they were as the store to move back to (``storage
    migrate``), with its secrets when the backup has them. True when it was changed."""
    connection = apsw.Connection(str(root / "library.db"))
    try:
        with connection:
            row = connection.execute("SELECT value FROM settings WHERE key = 'plugin:s3'").fetchone()
            values = msgspec.json.decode(row[0]) if row else None
            if not isinstance(values, dict) or not values.get("bucket"):
                return False
            connection.execute("INSERT OR REPLACE INTO settings(key, value) VALUES ('storage:previous', ?)", (row[0],))
            local = {**values, "bucket": ""}
            connection.execute(
                "UPDATE settings SET value = ? WHERE key = 'plugin:s3'", (msgspec.json.encode(local).decode(),)
            )
    finally:
        connection.close()
    secrets = SecretStore(root)
    try:
        if stored := secrets.get("plugin:s3"):
            secrets.put("storage:previous", stored)
    finally:
        secrets.close()
    return True


def pause_folders(library_copy: Path) -> list[str]:
    """Pause every watched folder of a restored library (the library it came from may still watch them:
    both would take the files dropped there); returns their paths."""
    connection = apsw.Connection(str(library_copy))
    try:
        with connection:
            rows = connection.execute("SELECT id, path, options FROM folders ORDER BY id").fetchall()
            for folder_id, _path, raw in rows:
                options = msgspec.json.decode(raw or "{}")
                if isinstance(options, dict):
                    options["paused"] = True
                    connection.execute(
                        "UPDATE folders SET options = ? WHERE id = ?",
                        (msgspec.json.encode(options).decode(), folder_id),
                    )
        return [path for _, path, _ in rows]
    finally:
        connection.close()


def folder_paths(library_copy: Path) -> list[str]:
    """The watched folders of the library database at ``library_copy`` (read only)."""
    connection = apsw.Connection(str(library_copy), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        return [row[0] for row in connection.execute("SELECT path FROM folders ORDER BY id")]
    finally:
        connection.close()


def is_library_database(path: Path) -> bool:
    """Whether the SQLite file at ``path`` is a PixlStash library (it has the pictures table)."""
    try:
        connection = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY)
    except apsw.Error:
        return False
    try:
        found = connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'pictures'")
        return found.fetchone() is not None
    except apsw.Error:
        return False
    finally:
        connection.close()


def quick_check(path: Path) -> str | None:
    """None when SQLite's quick check passes on the database at ``path``, else what it says."""
    try:
        connection = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY)
    except apsw.Error as error:
        return str(error)
    try:
        answer = connection.execute("PRAGMA quick_check").fetchone()[0]
        return None if answer == "ok" else str(answer)
    except apsw.Error as error:
        return str(error)
    finally:
        connection.close()


def overwrite_with(target: apsw.Connection, source_name: str) -> None:
    """Replace everything in ``target`` by the database ``source_name``, as one transaction."""
    source = connect(source_name, readonly=True)
    try:
        with target.backup("main", source, "main") as backup:
            backup.step(-1)
    finally:
        source.close()


def check_and_upgrade(path: Path) -> bool:
    """False when the database at ``path`` fails SQLite's quick check; else it is migrated to the newest
    schema and True."""
    connection = connect(path)
    try:
        if connection.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            return False
        migrate(connection)
        return True
    finally:
        connection.close()
