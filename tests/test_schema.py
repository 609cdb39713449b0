"""Schema versioning: fresh creation, forward upgrades in one transaction, refusing newer libraries."""

from __future__ import annotations

import apsw
import pytest

from pixlstash.db.database import connect
from pixlstash.db.schema import MIGRATIONS, SCHEMA_VERSION, LibraryTooNew, migrate
from pixlstash.library import DATABASE_NAME, Library


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
    extra = [
        *v1,
        (2, "add a column", "ALTER TABLE projects ADD COLUMN archived INTEGER NOT NULL DEFAULT 0"),
        (3, "index it", "CREATE INDEX projects_archived ON projects(archived)"),
    ]
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


def insert_two_pictures(connection) -> None:
    connection.execute(
        "INSERT INTO pictures(id, content_hash, suffix, media_type, mime, file_size, width, height, "
        "pixels, taken_at, imported_at, shuffle) VALUES (1, 'a', '.png', 'image', 'image/png', 1, 1, "
        "1, 1, 0, 0, 0), (2, 'b', '.png', 'image', 'image/png', 1, 1, 1, 1, 0, 0, 1)"
    )


def test_upgrading_a_library_with_vectors_stamps_each_engine_once(tmp_path):
    connection = connect(tmp_path / "lib.db")
    migrate(connection, MIGRATIONS[:3])
    insert_two_pictures(connection)
    for picture in (1, 2):
        for engine in ("clip/a", "clip/b"):
            connection.execute(
                "INSERT INTO embeddings(picture_id, engine_id, engine_version, dims, vector, created_at)"
                " VALUES (?, ?, '1', 1, x'0000803f', 0)",
                (picture, engine),
            )
        connection.execute(
            "INSERT INTO faces(picture_id, engine_id, engine_version, x0, y0, x1, y1, score, "
            "created_at) VALUES (?, 'faces/x', '1', 0, 0, 1, 1, 1, 0)",
            (picture,),
        )
    assert migrate(connection) == 3
    stamps = connection.execute("SELECT engine_id, kind FROM vector_stamps ORDER BY 1").fetchall()
    assert stamps == [("clip/a", "image"), ("clip/b", "image"), ("faces/x", "face")]


def test_upgrading_recounts_sets_without_the_scrapheap(tmp_path):
    connection = connect(tmp_path / "lib.db")
    migrate(connection, MIGRATIONS[:6])
    insert_two_pictures(connection)
    connection.execute("INSERT INTO collections(id, kind, name, created_at) VALUES (1, 'set', 's', 0)")
    connection.execute(
        "INSERT INTO collection_members(collection_id, picture_id, added_at) VALUES (1, 1, 0), (1, 2, 0)"
    )
    connection.execute("UPDATE pictures SET deleted_at = 5 WHERE id = 2")
    count = "SELECT member_count FROM collections WHERE id = 1"
    assert connection.execute(count).fetchone()[0] == 2  # version 6 counted the scrapped picture
    assert migrate(connection) == 6
    assert connection.execute(count).fetchone()[0] == 1
    connection.execute("UPDATE pictures SET deleted_at = NULL WHERE id = 2")
    assert connection.execute(count).fetchone()[0] == 2


def test_a_pictures_tags_come_from_the_index_alone(library):
    """Snapshot comparisons read a picture's tags chunk by chunk: one lookup per tag would cost a page each."""
    plan = library.db.connection.execute(
        "EXPLAIN QUERY PLAN SELECT tag_id, source, confidence FROM picture_tags WHERE picture_id = ?", (1,)
    ).fetchall()
    assert any("COVERING INDEX picture_tags_picture" in row[-1] for row in plan), plan
