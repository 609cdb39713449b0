"""The newest migrations, kept apart from schema.py to keep each module short.

Migration 13: every generation field searchable. 14: stacks, linked ComfyUIs and workflow runs. 15: the
undo outbox. 16: ids of sets, characters and projects never reused. 17: where a date came from. 18:
pictures said not to be duplicates. 19: scores. 20: the text in pictures (OCR). 21: workflow runs' owners.
22: pictures' edits. 23: Flux's guidance apart from CFG; the parameter text searchable; XMP sidecars
followed. 24: many people in one library. 25: names unique among what each person sees. 26: the index of
private pictures holds what the access check reads. 27: a count over the library reads an index.

Stacks: variants grouped under a cover (a workflow run's outputs on their source, near-duplicates, a
person's pick). A picture is in one stack at most; a stack row stays when it empties, so that undoing an
edit can put its pictures back under the same id. ComfyUIs linked to the library, and the workflow runs
sent to them (remixes of a picture's graph, a workflow run on a selection)."""

from __future__ import annotations

from .fulltext import PICTURE_TEXT_INSERT_V13, PICTURE_TEXT_INSERT_V23

__all__ = [
    "NEXT_COLLECTION_ID",
    "NEXT_PROJECT_ID",
    "V13_SQL",
    "V15_SQL",
    "V16_SQL",
    "V17_SQL",
    "V18_SQL",
    "V19_SQL",
    "V20_SQL",
    "V26_SQL",
    "V27_SQL",
    "v14_sql",
    "v25_names_per_person",
]

# Generation data searchable and filterable in full: the scheduler is kept, and the full-text index gains
# the negative prompt, LoRA names, sampler, scheduler and steps. (Pictures imported before keep no scheduler:
# it was not read then.)
V13_SQL = f"""
ALTER TABLE generation ADD COLUMN scheduler TEXT;
CREATE TEMP TABLE v13_generated AS SELECT json_group_array(picture_id) AS ids FROM generation;
DELETE FROM picture_text WHERE rowid IN (SELECT value FROM json_each((SELECT ids FROM temp.v13_generated)));
{PICTURE_TEXT_INSERT_V13.replace(":ids", "(SELECT ids FROM temp.v13_generated)")};
DROP TABLE temp.v13_generated;
"""


def v14_sql(stamp: str) -> str:
    """The SQL; ``stamp`` is the expression that stamps a picture's ``meta_seq`` (see schema.py)."""
    return f"""
CREATE TABLE stacks (
    id INTEGER PRIMARY KEY,
    cover_id INTEGER REFERENCES pictures(id) ON DELETE SET NULL,
    origin TEXT NOT NULL DEFAULT 'manual' CHECK (origin IN ('manual', 'run', 'duplicates')),
    created_at INTEGER NOT NULL
);
ALTER TABLE pictures ADD COLUMN stack_id INTEGER REFERENCES stacks(id);
CREATE INDEX pictures_stack ON pictures(stack_id) WHERE stack_id IS NOT NULL;
CREATE TRIGGER pictures_stamp_stack AFTER UPDATE OF stack_id ON pictures
BEGIN UPDATE pictures SET meta_seq = {stamp} WHERE id = NEW.id; END;
CREATE TABLE comfy_links (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    token_id INTEGER,                     -- the PixlStash token made for its node pack (auth database)
    created_at INTEGER NOT NULL
);
CREATE TABLE comfy_runs (
    id INTEGER PRIMARY KEY,
    link_id INTEGER REFERENCES comfy_links(id) ON DELETE SET NULL,
    kind TEXT NOT NULL CHECK (kind IN ('remix', 'run')),
    source_id INTEGER REFERENCES pictures(id) ON DELETE SET NULL,
    graph TEXT NOT NULL,                  -- the API graph sent to ComfyUI
    prompt_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    message TEXT NOT NULL DEFAULT '',
    output_ids TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX comfy_runs_open ON comfy_runs(id) WHERE status IN ('queued', 'running');
"""


# The outbox's ids never repeat (AUTOINCREMENT): a process delivering rows up to id N must not drop a row
# written after it read them. The mark starts empty, as a history made before this migration does.
V15_SQL = """
CREATE TABLE history_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    previous_mark TEXT NOT NULL,
    mark TEXT NOT NULL,
    entry BLOB NOT NULL              -- zstd(JSON): {"push": {...}} or {"mark": [step_id, undone]}
);
CREATE TABLE history_mark (mark TEXT NOT NULL);
INSERT INTO history_mark(mark) VALUES ('');
"""


# Ids of sets, characters and projects are never given out twice (what AUTOINCREMENT would do, without
# rebuilding the tables): an undo puts a deleted one back under its own id, and the steps after it name it
# by that id, so a set made in the meantime must not have taken it. Inserts take NEXT_*_ID.
V16_SQL = """
CREATE TABLE id_high_water (name TEXT PRIMARY KEY, last INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO id_high_water(name, last) VALUES
    ('collections', coalesce((SELECT max(id) FROM collections), 0)),
    ('projects', coalesce((SELECT max(id) FROM projects), 0));
CREATE TRIGGER collections_high_water AFTER INSERT ON collections
BEGIN UPDATE id_high_water SET last = max(last, NEW.id) WHERE name = 'collections'; END;
CREATE TRIGGER projects_high_water AFTER INSERT ON projects
BEGIN UPDATE id_high_water SET last = max(last, NEW.id) WHERE name = 'projects'; END;
"""
# The larger of the mark and the newest id: rows written with their triggers off (a bulk load) count too.
NEXT_COLLECTION_ID = (
    "(SELECT max(last, coalesce((SELECT max(id) FROM collections), 0)) + 1 FROM id_high_water "
    "WHERE name = 'collections')"
)
NEXT_PROJECT_ID = (
    "(SELECT max(last, coalesce((SELECT max(id) FROM projects), 0)) + 1 FROM id_high_water WHERE name = 'projects')"
)

# Where a picture's date came from: 'exif' (the camera's or editor's date), 'embedded' (a date the file
# holds elsewhere: a PNG's Creation Time), 'file' (the file's modified time: kept by folder and CLI imports,
# sent by the browser with each upload), 'import' (nothing better), 'hand' (set by a person). NULL for
# pictures imported before this was kept.
V17_SQL = "ALTER TABLE pictures ADD COLUMN taken_from TEXT;"

# Pictures a person said are not duplicates of their group: out of every near-duplicate group from then on
# (their perceptual hashes are not compared again).
V18_SQL = "ALTER TABLE pictures ADD COLUMN dup_distinct INTEGER NOT NULL DEFAULT 0;"

# One number per picture per scorer engine (quality, aesthetic, prompt match), with the engine version that
# gave it. Sorted and range-filtered per engine, so the index leads with the engine.
V19_SQL = """
CREATE TABLE picture_scores (
    picture_id INTEGER NOT NULL REFERENCES pictures(id) ON DELETE CASCADE,
    engine_id TEXT NOT NULL,
    engine_version TEXT NOT NULL,
    value REAL NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (picture_id, engine_id)
) WITHOUT ROWID;
CREATE INDEX picture_scores_by_value ON picture_scores(engine_id, value, picture_id);
"""

# The text an OCR engine read in each picture (one reader's reading per picture): the words in reading order
# (searched through the full-text index, whose caption column carries them), and each run of text with its
# quadrilateral in the original's pixels, as JSON [[text, [x0, y0, x1, y1, x2, y2, x3, y3]], ...].
V20_SQL = """
CREATE TABLE picture_ocr (
    picture_id INTEGER PRIMARY KEY REFERENCES pictures(id) ON DELETE CASCADE,
    engine_id TEXT NOT NULL,
    engine_version TEXT NOT NULL,
    text TEXT NOT NULL,
    regions TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
"""


# Which process works a running workflow run (its scratch area's name, whose lock lives as long as it does):
# a run whose process died (kill -9, a crash) is adopted by the next runner instead of staying "running".
V21_SQL = "ALTER TABLE comfy_runs ADD COLUMN owner TEXT;"


def v22_sql(stamp: str) -> str:
    """A picture's edit (rotate, mirror, straighten, crop; JSON of ``PictureEdit``, NULL for none) and the
    size it gives, so grids lay the picture out as shown. ``stamp`` stamps ``meta_seq`` (see schema.py):
    other processes follow an edit as they follow every other change."""
    return f"""
ALTER TABLE pictures ADD COLUMN edit TEXT;
ALTER TABLE pictures ADD COLUMN shown_width INTEGER;
ALTER TABLE pictures ADD COLUMN shown_height INTEGER;
CREATE TRIGGER pictures_stamp_edit AFTER UPDATE OF edit ON pictures
BEGIN UPDATE pictures SET meta_seq = {stamp} WHERE id = NEW.id; END;
"""


# A guidance-distilled model's guidance (Flux's FluxGuidance, Forge's "Distilled CFG Scale") is a number apart
# from the sampler's CFG (pictures read before keep what was read then: the guidance stood for CFG where the
# graph had none); the generator's parameter text as written joins the full-text index. A reference file's
# .xmp sidecar has its modified time kept, so that a rescan reads it again when photo software changed it.
# How a picture was made, as its IPTC digital source type says (trainedAlgorithmicMedia: by generative AI),
# and its Content Credentials (C2PA) as read and verified at import (JSON of ContentCredentials).
V23_SQL = f"""
ALTER TABLE generation ADD COLUMN guidance REAL;
ALTER TABLE folder_files ADD COLUMN xmp_mtime_ns INTEGER;
ALTER TABLE pictures ADD COLUMN digital_source_type TEXT;
ALTER TABLE pictures ADD COLUMN credentials TEXT;
CREATE TEMP TABLE v23_written AS
    SELECT json_group_array(picture_id) AS ids FROM generation WHERE raw_parameters IS NOT NULL;
DELETE FROM picture_text WHERE rowid IN (SELECT value FROM json_each((SELECT ids FROM temp.v23_written)));
{PICTURE_TEXT_INSERT_V23.replace(":ids", "(SELECT ids FROM temp.v23_written)")};
DROP TABLE temp.v23_written;
"""


def v24_sql(stamp: str) -> str:
    """Many people in one library. ``owner_id``: the account that brought the picture in (NULL: the library's
    owner, for everything brought in before accounts). ``private``: seen only by the accounts that hold it
    (0: shared with the library, as every earlier picture stays). ``picture_holders``: the accounts that have
    the picture among their own (who brought it in, and whoever added it to their library since: one copy of
    the bytes, several people's). ``extra_holders``: how many of them are not its uploader (kept by triggers;
    never fewer than there are), so that a member's check of a private picture looks at the holders only when
    someone besides its uploader holds it. A change of either column is stamped like every other change. A
    workflow run keeps who asked for it (its outputs are theirs) and whether its outputs are private (as the
    picture it ran on was). A set may have contributors and curators (``collection_roles``): one with a
    curator is curated, and its contributors submit pictures (``submissions``) for its curators to accept.
    ``picture_marks``: each account's own rating and favourite (the owner's stay the picture's columns). A set,
    character or project has the account that made it (NULL: the owner) and may be private: seen only by it,
    admins and the accounts with a role in it (``viewer`` among them); a private project hides its sets."""
    return f"""
ALTER TABLE pictures ADD COLUMN owner_id INTEGER;
ALTER TABLE pictures ADD COLUMN private INTEGER NOT NULL DEFAULT 0 CHECK (private IN (0, 1));
ALTER TABLE pictures ADD COLUMN extra_holders INTEGER NOT NULL DEFAULT 0;
ALTER TABLE comfy_runs ADD COLUMN requested_by INTEGER;
ALTER TABLE collections ADD COLUMN owner_id INTEGER;
ALTER TABLE collections ADD COLUMN private INTEGER NOT NULL DEFAULT 0 CHECK (private IN (0, 1));
ALTER TABLE projects ADD COLUMN owner_id INTEGER;
ALTER TABLE projects ADD COLUMN private INTEGER NOT NULL DEFAULT 0 CHECK (private IN (0, 1));
CREATE TABLE project_roles (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'contributor', 'curator')),
    PRIMARY KEY (project_id, user_id)
) WITHOUT ROWID;
CREATE TABLE collection_roles (
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'contributor', 'curator')),
    PRIMARY KEY (collection_id, user_id)
) WITHOUT ROWID;
CREATE TABLE submissions (
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    picture_id INTEGER NOT NULL REFERENCES pictures(id) ON DELETE CASCADE,
    submitted_by INTEGER NOT NULL,
    submitted_at INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'accepted', 'rejected')),
    decided_by INTEGER,
    decided_at INTEGER,
    PRIMARY KEY (collection_id, picture_id)
) WITHOUT ROWID;
ALTER TABLE comfy_runs ADD COLUMN outputs_private INTEGER NOT NULL DEFAULT 0;
CREATE INDEX pictures_private ON pictures(id) WHERE private = 1;
CREATE TABLE picture_holders (
    user_id INTEGER NOT NULL,
    picture_id INTEGER NOT NULL REFERENCES pictures(id) ON DELETE CASCADE,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, picture_id)
) WITHOUT ROWID;
CREATE INDEX picture_holders_picture ON picture_holders(picture_id);
CREATE TABLE picture_marks (
    user_id INTEGER NOT NULL,
    picture_id INTEGER NOT NULL REFERENCES pictures(id) ON DELETE CASCADE,
    rating INTEGER NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
    favourite INTEGER NOT NULL DEFAULT 0 CHECK (favourite IN (0, 1)),
    PRIMARY KEY (user_id, picture_id)
) WITHOUT ROWID;
CREATE INDEX picture_marks_rating ON picture_marks(user_id, rating);
CREATE TRIGGER picture_holders_added AFTER INSERT ON picture_holders
WHEN NEW.user_id IS NOT (SELECT owner_id FROM pictures WHERE id = NEW.picture_id)
BEGIN UPDATE pictures SET extra_holders = extra_holders + 1 WHERE id = NEW.picture_id; END;
CREATE TRIGGER picture_holders_removed AFTER DELETE ON picture_holders
WHEN OLD.user_id IS NOT (SELECT owner_id FROM pictures WHERE id = OLD.picture_id)
BEGIN UPDATE pictures SET extra_holders = max(extra_holders - 1, 0) WHERE id = OLD.picture_id; END;
CREATE TRIGGER pictures_stamp_visibility AFTER UPDATE OF owner_id, private ON pictures
BEGIN UPDATE pictures SET meta_seq = {stamp} WHERE id = NEW.id; END;
{_SORT_INDEXES_WITH_PRIVATE}
"""


# The grid walks a sort index and tests each picture; with what decides who sees it in the index, whether a
# member may see it is read from the index too (only a private picture someone besides its uploader holds
# needs a look at its holders), so a member's page costs what the owner's does, not a table lookup each.
_SORT_INDEXES_WITH_PRIVATE = "".join(
    f"DROP INDEX pictures_{name};\n"
    f"CREATE INDEX pictures_{name} ON pictures({column}, id, private, owner_id, extra_holders) "
    "WHERE deleted_at IS NULL;\n"
    for name, column in (
        ("taken", "taken_at"),
        ("imported", "imported_at"),
        ("rating", "rating"),
        ("size", "file_size"),
        ("pixels", "pixels"),
        ("shuffle", "shuffle"),
    )
)


# Migration 25: names of projects, sets and characters are unique among what each person sees, not in the
# whole library: the tables' own UNIQUE answered 409 to someone naming a project (or a set in a shared
# project) as another person's private one, telling of it. The tables are rebuilt without it (SQLite cannot
# drop a constraint), by its own procedure: foreign keys off (``migrate``), a new table, the rows copied, the
# old one dropped, the new one renamed with ``legacy_alter_table`` on (so the other tables' triggers, which
# name it, are left as they are); its own triggers made again from what the schema held.
V25_TABLES = {
    "projects": """CREATE TABLE projects_v25 (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL COLLATE NOCASE,
    description TEXT NOT NULL DEFAULT '',
    color TEXT NOT NULL DEFAULT '#6b7280',
    created_at INTEGER NOT NULL,
    owner_id INTEGER,
    private INTEGER NOT NULL DEFAULT 0 CHECK (private IN (0, 1))
)""",
    "collections": """CREATE TABLE collections_v25 (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('character', 'set')),
    name TEXT NOT NULL,
    project_id INTEGER REFERENCES projects(id) ON DELETE SET NULL,
    description TEXT NOT NULL DEFAULT '',
    color TEXT NOT NULL DEFAULT '#6b7280',
    member_count INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    owner_id INTEGER,
    private INTEGER NOT NULL DEFAULT 0 CHECK (private IN (0, 1))
)""",
}
V25_INDEXES = """
CREATE INDEX projects_name ON projects(name);
CREATE INDEX collections_name ON collections(kind, project_id, name COLLATE NOCASE);
"""


def v25_names_per_person(connection) -> None:
    """Projects and collections rebuilt without their UNIQUE names (run by ``migrate``, foreign keys off)."""
    if connection.pragma("foreign_keys"):  # on, dropping the old tables would empty the ones pointing at them
        raise RuntimeError("migration 25 needs foreign keys off: run it through migrate(), outside a transaction")
    own = [
        sql
        for (sql,) in connection.execute(
            "SELECT sql FROM sqlite_schema WHERE tbl_name IN ('projects', 'collections') "
            "AND type IN ('index', 'trigger') AND sql IS NOT NULL"
        )
    ]
    connection.pragma("legacy_alter_table", True)
    try:
        for table, create in V25_TABLES.items():
            columns = ", ".join(row[1] for row in connection.execute(f"PRAGMA table_info({table})"))
            connection.execute(create)
            connection.execute(f"INSERT INTO {table}_v25({columns}) SELECT {columns} FROM {table}")
            connection.execute(f"DROP TABLE {table}")
            connection.execute(f"ALTER TABLE {table}_v25 RENAME TO {table}")
    finally:
        connection.pragma("legacy_alter_table", False)
    for sql in own:
        connection.execute(sql)
    connection.execute(V25_INDEXES)


# Migration 26: the private pictures' index holds what deciding who sees one reads (its uploader, whether
# others hold it, the scrapheap), so the counts taken off for an account (a tag's, a set's, a project's)
# read that small index, not each picture's row: a member's tag suggestions 10x faster at 100,000 pictures.
V26_SQL = """
DROP INDEX pictures_private;
CREATE INDEX pictures_private ON pictures(id, owner_id, extra_holders, deleted_at) WHERE private = 1;
"""


# Migration 27: a count over the library (the grid's "N pictures", the scrapheap's) reads this index, not
# every picture's large row: 3x faster at 100,000 pictures. A member's count reads three ranges of it
# (``db.visibility.visible_parts_sql``): the shared pictures, its own private ones, the held few. No other
# query constrains ``private`` by itself, so none is drawn to this index.
V27_SQL = """
CREATE INDEX pictures_access ON pictures(private, deleted_at, extra_holders, owner_id, stack_id);
"""
