"""Schema versioning: fresh creation, forward upgrades in one transaction, refusing newer libraries."""

from __future__ import annotations

import apsw
import pytest

from pixlstash.library import DATABASE_NAME, Library
from pixlstash.storage.db import connect
from pixlstash.storage.schema import MIGRATIONS, SCHEMA_VERSION, LibraryTooNew, migrate


def test_new_library_has_the_newest_schema_and_best_practice_settings(library):
    connection = library.db.connection
    assert connection.pragma("user_version") == SCHEMA_VERSION
    assert connection.pragma("journal_mode") == "wal"
    assert connection.pragma("foreign_keys") == 1
    with pytest.raises(apsw.SQLError):  # double-quoted strings are identifiers, never silent literals
        connection.execute('SELECT "no such column" FROM pictures')


def test_older_library_is_upgraded_in_order(tmp_path):
    path = tmp_path / "old.db"
    connection = connect(path)
    v1 = MIGRATIONS[:1]
    migrate(connection, v1)
    connection.execute("INSERT INTO projects(name, created_at) VALUES ('kept', 0)")
    extra = [*v1, (2, "add a column", "ALTER TABLE projects ADD COLUMN archived INTEGER NOT NULL DEFAULT 0"),
             (3, "index it", "CREATE INDEX projects_archived ON projects(archived)")]
    assert migrate(connection, extra) == 1
    assert connection.pragma("user_version") == 3
    assert connection.execute("SELECT name, archived FROM projects").fetchall() == [("kept", 0)]


def test_a_failing_migration_leaves_the_library_as_it_was(tmp_path):
    connection = connect(tmp_path / "lib.db")
    migrate(connection, MIGRATIONS[:1])
    broken = [*MIGRATIONS[:1], (2, "fine", "CREATE TABLE extra(x)"), (3, "broken", "CREATE TABLE oops(")]
    with pytest.raises(apsw.SQLError):
        migrate(connection, broken)
    assert connection.pragma("user_version") == 1
    assert connection.execute("SELECT count(*) FROM sqlite_master WHERE name = 'extra'").fetchone()[0] == 0


def test_a_newer_library_is_refused_with_a_clear_message(tmp_path, plugin_manager):
    root = tmp_path / "lib"
    Library.open(root, plugin_manager=plugin_manager).close()
    connection = connect(root / DATABASE_NAME)
    connection.pragma("user_version", SCHEMA_VERSION + 5)
    connection.close()
    with pytest.raises(LibraryTooNew, match="upgrade PixlStash"):
        Library.open(root, plugin_manager=plugin_manager)
