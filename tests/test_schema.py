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


def test_schema_25_rebuilds_projects_and_sets_keeping_every_row_link_and_trigger(tmp_path):
    """Schema 25 drops the library-wide UNIQUE names by rebuilding both tables: every row, every table that
    points at them (members, roles, submissions, faces, rejections) and their triggers come through, nothing
    cascades on the old tables' drop, and foreign keys are on again afterwards."""
    connection = connect(tmp_path / "lib.db")
    migrate(connection, MIGRATIONS[:24])
    rows = _schema_24_rows(connection)
    assert migrate(connection) == 24
    assert connection.pragma("foreign_keys") == 1 and connection.pragma("legacy_alter_table") == 0
    assert _schema_24_rows(connection, read_only=True) == rows
    assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    with pytest.raises(RuntimeError, match="needs foreign keys off"), connection:  # a transaction keeps them on
        MIGRATIONS[24][2](connection)
    schema = " ".join(sql for (sql,) in connection.execute("SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL"))
    assert "_v25" not in schema and "UNIQUE (kind, project_id, name)" not in schema
    triggers = {name for (name,) in connection.execute("SELECT name FROM sqlite_schema WHERE type = 'trigger'")}
    assert {"collections_moved", "collections_high_water", "projects_high_water"} <= triggers
    # Two private projects of one name, and two sets of one name in a project: the people tell them apart.
    connection.execute("INSERT INTO projects(id, name, created_at, owner_id, private) VALUES (9, 'Wedding', 0, 3, 1)")
    connection.execute(
        "INSERT INTO collections(id, kind, name, project_id, created_at) VALUES (9, 'set', 'Best', 1, 0)"
    )
    # The triggers work on the new tables: moving a set carries its pictures; a deleted project lets its sets go.
    connection.execute("UPDATE collections SET project_id = 9 WHERE id = 1")
    assert connection.execute("SELECT project_id FROM project_members WHERE picture_id = 1").fetchall() == [(9,)]
    assert connection.execute("SELECT last FROM id_high_water WHERE name = 'collections'").fetchone() == (9,)
    connection.execute("DELETE FROM projects WHERE id = 9")
    assert connection.execute("SELECT project_id FROM collections WHERE id = 1").fetchone() == (None,)
    connection.execute("DELETE FROM collections WHERE id = 2")  # its members, roles and submissions go with it
    for table in ("collection_members", "collection_roles", "submissions"):
        assert connection.execute(f"SELECT count(*) FROM {table} WHERE collection_id = 2").fetchone() == (0,)


_SCHEMA_24_LINKED = """
INSERT INTO projects(id, name, created_at, owner_id, private) VALUES (1, 'Wedding', 5, 3, 1), (2, 'Zoo', 6, NULL, 0);
INSERT INTO collections(id, kind, name, project_id, created_at, owner_id, private) VALUES
    (1, 'set', 'Best', 1, 7, 3, 0), (2, 'set', 'Best', NULL, 8, 3, 1), (3, 'character', 'Ann', 2, 9, NULL, 0);
INSERT INTO collection_members(collection_id, picture_id, added_at) VALUES (1, 1, 10), (2, 2, 11), (3, 3, 12);
INSERT INTO project_members(project_id, picture_id, direct) VALUES (1, 3, 1);
INSERT INTO project_roles(project_id, user_id, role) VALUES (1, 4, 'viewer');
INSERT INTO collection_roles(collection_id, user_id, role) VALUES (2, 4, 'curator'), (2, 5, 'contributor');
INSERT INTO submissions(collection_id, picture_id, submitted_by, submitted_at) VALUES (2, 3, 5, 13);
INSERT INTO faces(id, picture_id, engine_id, engine_version, x0, y0, x1, y1, score, character_id, created_at)
    VALUES (1, 3, 'e', '1', 0, 0, 1, 1, 1, 3, 14), (2, 1, 'e', '1', 0, 0, 1, 1, 1, NULL, 14);
INSERT INTO face_rejections(character_id, face_id) VALUES (3, 2);
"""
# What points at projects and sets, read back in full after the rebuild.
_LINKED = {
    "projects": "id, name, description, color, created_at, owner_id, private",
    "collections": "id, kind, name, project_id, description, color, member_count, created_at, owner_id, private",
    "collection_members": "collection_id, picture_id, added_at",
    "project_members": "project_id, picture_id, direct",
    "project_roles": "project_id, user_id, role",
    "collection_roles": "collection_id, user_id, role",
    "submissions": "collection_id, picture_id, submitted_by, state",
    "faces": "id, picture_id, character_id",
    "face_rejections": "character_id, face_id",
    "id_high_water": "name, last",
}


def _schema_24_rows(connection, read_only: bool = False) -> dict[str, list]:
    """A schema-24 library's projects and sets with everything linked to them (made unless ``read_only``):
    a private project with a role, sets and a character in and out of it, members, a curated set's
    submissions, a named face and a rejected one; then every such row."""
    if not read_only:
        with connection:
            for n in range(1, 4):
                connection.execute(
                    "INSERT INTO pictures(id, content_hash, suffix, media_type, mime, file_size, width, height, "
                    "pixels, taken_at, imported_at, shuffle) "
                    "VALUES (?, ?, '.png', 'image', 'image/png', 1, 1, 1, 1, 0, 0, ?)",
                    (n, f"hash{n}", n),
                )
            connection.execute(_SCHEMA_24_LINKED)
    return {
        table: connection.execute(f"SELECT {columns} FROM {table} ORDER BY {columns}").fetchall()
        for table, columns in _LINKED.items()
    }
