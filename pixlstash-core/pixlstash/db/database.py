"""SQLite connections through apsw: our own ``connect()`` with best-practice settings, one per thread."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import apsw

__all__ = ["IN_IDS", "Database", "connect", "ids_json", "quick_check"]

BUSY_TIMEOUT_MS = 10_000
WAL_CHECKPOINT_BYTES = 4 << 20
T = TypeVar("T")


def ids_json(ids: Sequence[int]) -> str:
    """Ids as one JSON array parameter, read back in SQL with ``json_each(?)`` (any count, one statement)."""
    return "[" + ",".join(str(int(i)) for i in ids) + "]"


# A column among the ids one ``ids_json`` parameter holds: ``f"WHERE id {IN_IDS}"``.
IN_IDS = "IN (SELECT value FROM json_each(?))"


def connect(path: Path | str, *, readonly: bool = False) -> apsw.Connection:
    """Open ``path`` with WAL, foreign keys, a busy timeout and no double-quoted string literals."""
    flags = apsw.SQLITE_OPEN_READONLY if readonly else apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE
    # URI names are understood (snapshots attach through ``file:...?vfs=``); plain paths are unaffected.
    connection = apsw.Connection(str(path), flags=flags | apsw.SQLITE_OPEN_URI)
    connection.set_busy_timeout(BUSY_TIMEOUT_MS)
    # Double-quoted strings silently become literals when a column name is misspelt: forbid them.
    connection.config(apsw.SQLITE_DBCONFIG_DQS_DML, 0)
    connection.config(apsw.SQLITE_DBCONFIG_DQS_DDL, 0)
    connection.pragma("foreign_keys", True)
    if not readonly:
        # 16 KiB pages for new databases (ignored by existing ones): fewer, fuller pages for rows with
        # vectors, and a quarter of the page reads when a snapshot is read through its chunks.
        connection.pragma("page_size", 16384)
        connection.pragma("journal_mode", "wal")
    else:
        return connection
    connection.pragma("synchronous", "normal")  # durable at checkpoints; safe against corruption in WAL
    # SQLite's automatic checkpoint counts pages: its default of 1,000 is 16 MiB with our pages. Checkpoint
    # at about 4 MiB as with default pages, and cut a WAL that grew past that back down when it restarts.
    connection.pragma("wal_autocheckpoint", WAL_CHECKPOINT_BYTES // 16384)
    connection.pragma("journal_size_limit", WAL_CHECKPOINT_BYTES)
    connection.pragma("temp_store", "memory")
    # 8 MiB of page cache per connection; the OS page cache is shared by all. No mmap: each connection
    # would map the file again, and a server with many threads would count it many times over.
    connection.pragma("cache_size", -8_000)
    return connection


def quick_check(path: Path | str) -> list[str]:
    """What ``PRAGMA quick_check`` finds wrong with the database at ``path`` (empty when it is whole), read
    only; a file that is not a database at all is one problem."""
    try:
        connection = connect(path, readonly=True)
        try:
            rows = [row[0] for row in connection.execute("PRAGMA quick_check")]
        finally:
            connection.close()
    except apsw.Error as error:
        return [str(error)]
    return [] if rows == ["ok"] else rows


class Database:
    """A library database: a connection per thread, and serialised write transactions.

    Reads use the calling thread's connection directly. Writes go through ``write()``, which takes a
    process-wide lock and ``BEGIN IMMEDIATE`` so writers queue instead of failing with SQLITE_BUSY.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self.write_lock = threading.RLock()  # also held by a full restore while it swaps the data
        self._all: list[tuple[threading.Thread, apsw.Connection]] = []
        self._all_lock = threading.Lock()
        self.closed = False
        self.commits = 0  # write transactions this process committed (other processes' are not counted)

    @property
    def connection(self) -> apsw.Connection:
        """This thread's connection, opened on first use."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            if self.closed:
                raise RuntimeError("the library is closed")
            connection = connect(self.path)
            self._local.connection = connection
            with self._all_lock:
                self._close_orphans()
                self._all.append((threading.current_thread(), connection))
        return connection

    def _close_orphans(self) -> None:
        """Close the connections of threads that have ended (an import's worker threads, say): nothing
        can use them again, and each holds a page cache and a file descriptor."""
        alive = []
        for thread, connection in self._all:
            if thread.is_alive():
                alive.append((thread, connection))
            else:
                with contextlib.suppress(apsw.Error):
                    connection.close()
        self._all = alive

    def execute(self, sql: str, bindings: tuple | dict | None = None) -> apsw.Cursor:
        """Run one statement on this thread's connection."""
        return self.connection.execute(sql, bindings)

    def query(self, sql: str, bindings: tuple | dict | None = None) -> list[tuple]:
        """Run a read and return every row."""
        return self.connection.execute(sql, bindings).fetchall()

    def row(
        self, sql: str, bindings: tuple | dict | None = None, make: Callable[..., T] | None = None
    ) -> T | tuple | None:
        """The first row, or None: a tuple, or ``make(*row)`` where a row type is named."""
        row = self.connection.execute(sql, bindings).fetchone()
        if row is None:
            return None
        return tuple(row) if make is None else make(*row)

    def scalar(self, sql: str, bindings: tuple | dict | None = None) -> object:
        """The first column of the first row, or None."""
        row = self.connection.execute(sql, bindings).fetchone()
        return None if row is None else row[0]

    @contextlib.contextmanager
    def write(self) -> Iterator[apsw.Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises. Re-entrant."""
        connection = self.connection
        with self.write_lock:
            if connection.in_transaction:
                with connection:  # nested: a savepoint inside the outer transaction
                    yield connection
                return
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            self.commits += 1

    def optimize(self) -> None:
        """Let SQLite refresh the statistics its planner uses (cheap; after large changes, and on close)."""
        self.connection.pragma("optimize")

    def vacuum(self) -> None:
        """Rewrite the database into a new file: nothing deleted or replaced lingers in free pages."""
        with self.write_lock:
            self.connection.execute("VACUUM")

    def checkpoint(self) -> bool:
        """Copy the WAL into the database and truncate it to nothing, unless a reader or writer is busy
        with it (then it is left for later: this never waits). Returns whether it was truncated."""
        connection = self.connection
        if connection.in_transaction:
            return False
        connection.set_busy_timeout(0)
        try:
            connection.wal_checkpoint(mode=apsw.SQLITE_CHECKPOINT_TRUNCATE)  # raises BusyError when busy
            return True
        except apsw.BusyError:
            return False
        finally:
            connection.set_busy_timeout(BUSY_TIMEOUT_MS)

    def wal_bytes(self) -> int:
        """The WAL file's size now."""
        wal = Path(f"{self.path}-wal")
        return wal.stat().st_size if wal.exists() else 0

    def data_version(self) -> int:
        """A number that changes when another connection (of any process) commits, as seen by this thread's
        connection: SQLite's cheap way to learn that someone else wrote."""
        return self.connection.pragma("data_version")

    def close(self) -> None:
        """Close every connection this database opened, on every thread."""
        self.closed = True
        with self._all_lock:
            for _, connection in self._all:
                with contextlib.suppress(apsw.Error):
                    connection.close()
            self._all.clear()
        self._local = threading.local()
