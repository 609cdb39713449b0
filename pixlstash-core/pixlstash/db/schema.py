"""The library schema and its forward migrations, versioned with ``PRAGMA user_version``.

Each migration is applied once, in order, inside one transaction with every other pending one, so an
interrupted upgrade leaves the library exactly as it was. Never edit a released migration: add one
(migrations from 14 on are in schema_recent.py, so that this module stays readable)."""

from __future__ import annotations

from collections.abc import Callable

import apsw

from ..errors import PixlstashError
from . import schema_recent as recent
from .fulltext import PICTURE_TEXT_INSERT_V8

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "LibraryTooNew", "migrate"]


class LibraryTooNew(PixlstashError):
    """The library was written by a newer PixlStash than this one."""

    code = "library_too_new"


def _membership_triggers(*, live_only: bool) -> str:
    """Joining or leaving a set or character: its count, and the project memberships that follow.
    ``live_only``: the count leaves out scrapped pictures (schema 7 on)."""

    def counted(row: str) -> str:
        check = f"\n    AND EXISTS (SELECT 1 FROM pictures WHERE id = {row}.picture_id AND deleted_at IS NULL)"
        return check if live_only else ""

    return f"""CREATE TRIGGER collection_members_added AFTER INSERT ON collection_members
BEGIN
    UPDATE collections SET member_count = member_count + 1 WHERE id = NEW.collection_id{counted("NEW")};
    INSERT OR IGNORE INTO project_members(project_id, picture_id, direct)
    SELECT project_id, NEW.picture_id, 0 FROM collections WHERE id = NEW.collection_id AND project_id IS NOT NULL;
END;
CREATE TRIGGER collection_members_removed AFTER DELETE ON collection_members
BEGIN
    UPDATE collections SET member_count = member_count - 1 WHERE id = OLD.collection_id{counted("OLD")};
    DELETE FROM project_members
    WHERE picture_id = OLD.picture_id AND direct = 0
      AND project_id = (SELECT project_id FROM collections WHERE id = OLD.collection_id)
      AND NOT EXISTS (
          SELECT 1 FROM collection_members cm JOIN collections c ON c.id = cm.collection_id
          WHERE cm.picture_id = OLD.picture_id AND c.project_id = project_members.project_id
      );
END;"""


_V1 = (
    """
CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('upload', 'file', 'folder', 'archive', 'import-folder', 'reference-folder')),
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE folders (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('import', 'reference')),
    path TEXT NOT NULL UNIQUE,
    source_id INTEGER NOT NULL REFERENCES sources(id),
    options TEXT NOT NULL DEFAULT '{}',  -- JSON: delete_after_import, write_sidecars, allow_purge, targets
    last_scan_at INTEGER,
    created_at INTEGER NOT NULL
);

CREATE TABLE pictures (
    id INTEGER PRIMARY KEY,
    content_hash TEXT NOT NULL UNIQUE,
    suffix TEXT NOT NULL,
    media_type TEXT NOT NULL CHECK (media_type IN ('image', 'video')),
    mime TEXT NOT NULL,
    file_size INTEGER NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    pixels INTEGER NOT NULL,
    duration REAL,
    codec TEXT,
    taken_at INTEGER NOT NULL,            -- unix ms: EXIF time, else file time, else import time
    imported_at INTEGER NOT NULL,         -- unix ms
    rating INTEGER NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),  -- 0: unrated
    favourite INTEGER NOT NULL DEFAULT 0,
    flagged INTEGER NOT NULL DEFAULT 0,
    phash INTEGER,                        -- 64-bit perceptual hash, signed
    dup_group INTEGER,                    -- id of the first picture of its near-duplicate group
    shuffle INTEGER NOT NULL,             -- random key: "random" sort
    source_id INTEGER REFERENCES sources(id),
    original_name TEXT NOT NULL DEFAULT '',
    managed INTEGER NOT NULL DEFAULT 1,   -- 1: original in our store; 0: only in reference folders
    missing INTEGER NOT NULL DEFAULT 0,   -- 1: no readable original anywhere
    camera TEXT,
    orientation INTEGER,
    exif TEXT,                            -- JSON of selected EXIF fields
    deleted_at INTEGER                    -- scrapheap: soft-deleted at (unix ms)
);
CREATE INDEX pictures_taken ON pictures(taken_at, id) WHERE deleted_at IS NULL;
CREATE INDEX pictures_imported ON pictures(imported_at, id) WHERE deleted_at IS NULL;
CREATE INDEX pictures_rating ON pictures(rating, id) WHERE deleted_at IS NULL;
CREATE INDEX pictures_size ON pictures(file_size, id) WHERE deleted_at IS NULL;
CREATE INDEX pictures_pixels ON pictures(pixels, id) WHERE deleted_at IS NULL;
CREATE INDEX pictures_shuffle ON pictures(shuffle, id) WHERE deleted_at IS NULL;
CREATE INDEX pictures_media ON pictures(media_type) WHERE deleted_at IS NULL;
CREATE INDEX pictures_dup_group ON pictures(dup_group) WHERE dup_group IS NOT NULL;
CREATE INDEX pictures_deleted ON pictures(deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX pictures_source ON pictures(source_id);

-- Where reference-folder pictures live (several files may hold the same content).
CREATE TABLE folder_files (
    folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    rel_path TEXT NOT NULL,
    picture_id INTEGER REFERENCES pictures(id) ON DELETE SET NULL,
    file_size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    sidecar_mtime_ns INTEGER,
    PRIMARY KEY (folder_id, rel_path)
) WITHOUT ROWID;
CREATE INDEX folder_files_picture ON folder_files(picture_id);
CREATE INDEX folder_files_hash ON folder_files(content_hash);

CREATE TABLE tags (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    category TEXT NOT NULL DEFAULT 'general',
    picture_count INTEGER NOT NULL DEFAULT 0   -- live pictures carrying it (kept by triggers)
);
CREATE TABLE tag_aliases (
    alias TEXT PRIMARY KEY COLLATE NOCASE,
    tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE
);
CREATE TABLE picture_tags (
    tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    picture_id INTEGER NOT NULL REFERENCES pictures(id) ON DELETE CASCADE,
    source TEXT NOT NULL DEFAULT 'user',      -- 'user', or the engine id that predicted it
    confidence REAL,
    PRIMARY KEY (tag_id, picture_id)
) WITHOUT ROWID;
CREATE INDEX picture_tags_picture ON picture_tags(picture_id, tag_id);

-- Confidence histogram per tag over live pictures: bucket 0-9 = confidence deciles, 10 = none (user).
CREATE TABLE tag_stats (
    tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    bucket INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (tag_id, bucket)
) WITHOUT ROWID;

-- Engine predictions, kept apart from user tags until accepted (moved to picture_tags) or rejected.
CREATE TABLE predictions (
    picture_id INTEGER NOT NULL REFERENCES pictures(id) ON DELETE CASCADE,
    engine_id TEXT NOT NULL,
    tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    engine_version TEXT NOT NULL,
    confidence REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'rejected')),
    PRIMARY KEY (picture_id, engine_id, tag_id)
) WITHOUT ROWID;

CREATE TABLE captions (
    picture_id INTEGER NOT NULL REFERENCES pictures(id) ON DELETE CASCADE,
    source TEXT NOT NULL,                 -- 'user' or an engine id
    engine_version TEXT,
    text TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (picture_id, source)
) WITHOUT ROWID;

CREATE TABLE generation (
    picture_id INTEGER PRIMARY KEY REFERENCES pictures(id) ON DELETE CASCADE,
    tool TEXT NOT NULL,                   -- 'comfyui' | 'a1111'
    positive TEXT NOT NULL DEFAULT '',
    negative TEXT NOT NULL DEFAULT '',
    checkpoint TEXT,
    loras TEXT NOT NULL DEFAULT '[]',     -- JSON [{"name": ..., "weight": ...}]
    seed INTEGER,
    sampler TEXT,
    steps INTEGER,
    cfg REAL,
    raw_parameters TEXT,                  -- A1111 "parameters" text
    raw_prompt TEXT,                      -- ComfyUI API-format prompt JSON
    raw_workflow TEXT                     -- ComfyUI UI workflow JSON
);

CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    description TEXT NOT NULL DEFAULT '',
    color TEXT NOT NULL DEFAULT '#6b7280',
    created_at INTEGER NOT NULL
);
CREATE TABLE collections (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('character', 'set')),
    name TEXT NOT NULL,
    project_id INTEGER REFERENCES projects(id) ON DELETE SET NULL,
    description TEXT NOT NULL DEFAULT '',
    color TEXT NOT NULL DEFAULT '#6b7280',
    member_count INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    UNIQUE (kind, project_id, name)
);
CREATE TABLE collection_members (
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    picture_id INTEGER NOT NULL REFERENCES pictures(id) ON DELETE CASCADE,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (collection_id, picture_id)
) WITHOUT ROWID;
CREATE INDEX collection_members_picture ON collection_members(picture_id, collection_id);

-- Project membership: direct (added to the project itself) or through one of its collections.
CREATE TABLE project_members (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    picture_id INTEGER NOT NULL REFERENCES pictures(id) ON DELETE CASCADE,
    direct INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, picture_id)
) WITHOUT ROWID;
CREATE INDEX project_members_picture ON project_members(picture_id);

CREATE VIRTUAL TABLE picture_text USING fts5(caption, prompt, name, tokenize = 'unicode61 remove_diacritics 2');

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL                   -- JSON
) WITHOUT ROWID;

-- Triggers keep counters and derived membership right whatever writes them (restore included).
CREATE TRIGGER picture_tags_added AFTER INSERT ON picture_tags
WHEN EXISTS (SELECT 1 FROM pictures WHERE id = NEW.picture_id AND deleted_at IS NULL)
BEGIN
    UPDATE tags SET picture_count = picture_count + 1 WHERE id = NEW.tag_id;
    INSERT INTO tag_stats(tag_id, bucket, n)
    VALUES (NEW.tag_id, coalesce(min(CAST(NEW.confidence * 10 AS INTEGER), 9), 10), 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER picture_tags_removed AFTER DELETE ON picture_tags
WHEN EXISTS (SELECT 1 FROM pictures WHERE id = OLD.picture_id AND deleted_at IS NULL)
BEGIN
    UPDATE tags SET picture_count = picture_count - 1 WHERE id = OLD.tag_id;
    UPDATE tag_stats SET n = n - 1
    WHERE tag_id = OLD.tag_id AND bucket = coalesce(min(CAST(OLD.confidence * 10 AS INTEGER), 9), 10);
END;
CREATE TRIGGER picture_tags_changed AFTER UPDATE OF confidence ON picture_tags
WHEN EXISTS (SELECT 1 FROM pictures WHERE id = NEW.picture_id AND deleted_at IS NULL)
BEGIN
    UPDATE tag_stats SET n = n - 1
    WHERE tag_id = OLD.tag_id AND bucket = coalesce(min(CAST(OLD.confidence * 10 AS INTEGER), 9), 10);
    INSERT INTO tag_stats(tag_id, bucket, n)
    VALUES (NEW.tag_id, coalesce(min(CAST(NEW.confidence * 10 AS INTEGER), 9), 10), 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER pictures_scrapped AFTER UPDATE OF deleted_at ON pictures
WHEN (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
BEGIN
    UPDATE tags SET picture_count = picture_count + (CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END)
    WHERE id IN (SELECT tag_id FROM picture_tags WHERE picture_id = NEW.id);
    INSERT INTO tag_stats(tag_id, bucket, n)
    SELECT tag_id, coalesce(min(CAST(confidence * 10 AS INTEGER), 9), 10),
           CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END
    FROM picture_tags WHERE picture_id = NEW.id AND true
    ON CONFLICT DO UPDATE SET n = n + excluded.n;
END;

"""
    + _membership_triggers(live_only=False)
    + """
-- Moving a character or set: its pictures join the new project, and leave the old one only when
-- nothing else there (a direct membership, another collection) still holds them.
CREATE TRIGGER collections_moved AFTER UPDATE OF project_id ON collections
WHEN OLD.project_id IS NOT NEW.project_id
BEGIN
    INSERT OR IGNORE INTO project_members(project_id, picture_id, direct)
    SELECT NEW.project_id, picture_id, 0 FROM collection_members
    WHERE collection_id = NEW.id AND NEW.project_id IS NOT NULL;
    DELETE FROM project_members
    WHERE project_id = OLD.project_id AND direct = 0
      AND picture_id IN (SELECT picture_id FROM collection_members WHERE collection_id = NEW.id)
      AND NOT EXISTS (
          SELECT 1 FROM collection_members cm JOIN collections c ON c.id = cm.collection_id
          WHERE cm.picture_id = project_members.picture_id AND c.project_id = OLD.project_id
      );
END;
"""
)

# Change tracking for snapshots: every change to a picture's metadata stamps ``pictures.meta_seq`` with
# the time in milliseconds and six random digits (so two changes in one millisecond still differ).
# Comparing a snapshot with the live library then only looks closely at pictures whose stamps differ.
_STAMP = "(CAST(unixepoch('subsec') * 1000 AS INTEGER) * 1000000 + abs(random() % 1000000))"
_PICTURE_OWNED = ("picture_tags", "predictions", "captions", "collection_members", "project_members", "generation")


def _stamp_triggers(table: str) -> str:
    """Any change to a row of ``table`` stamps its picture's ``meta_seq``."""
    return "".join(
        f"""CREATE TRIGGER {table}_stamp_{event.lower()} AFTER {event} ON {table}
BEGIN UPDATE pictures SET meta_seq = {_STAMP} WHERE id = {row}.picture_id; END;
"""
        for event, row in (("INSERT", "NEW"), ("DELETE", "OLD"), ("UPDATE", "NEW"))
    )


_V2 = (
    "ALTER TABLE pictures ADD COLUMN meta_seq INTEGER NOT NULL DEFAULT 0;\n"
    + "".join(_stamp_triggers(table) for table in _PICTURE_OWNED)
    + f"""CREATE TRIGGER pictures_stamp
AFTER UPDATE OF rating, favourite, flagged, taken_at, deleted_at, content_hash ON pictures
BEGIN UPDATE pictures SET meta_seq = {_STAMP} WHERE id = NEW.id; END;
-- Comparing stamps reads this small index instead of every picture row.
CREATE INDEX pictures_stamps ON pictures(id, meta_seq);
"""
)

# Derived vectors: one embedding per picture and engine, and detected faces with their own embeddings.
# Vectors are float32 little-endian blobs (the source of truth; vector indexes are rebuilt from them).
_V3 = """
CREATE TABLE embeddings (
    id INTEGER PRIMARY KEY,
    picture_id INTEGER NOT NULL REFERENCES pictures(id) ON DELETE CASCADE,
    engine_id TEXT NOT NULL,
    engine_version TEXT NOT NULL,
    dims INTEGER NOT NULL,
    vector BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (engine_id, picture_id)
);
CREATE INDEX embeddings_picture ON embeddings(picture_id);
CREATE TABLE faces (
    id INTEGER PRIMARY KEY,
    picture_id INTEGER NOT NULL REFERENCES pictures(id) ON DELETE CASCADE,
    engine_id TEXT NOT NULL,
    engine_version TEXT NOT NULL,
    x0 REAL NOT NULL, y0 REAL NOT NULL, x1 REAL NOT NULL, y1 REAL NOT NULL,
    score REAL NOT NULL,
    landmarks TEXT NOT NULL DEFAULT '[]',
    character_id INTEGER REFERENCES collections(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX faces_picture ON faces(picture_id);
-- Face vectors apart from faces: the face rows stay small, so reading faces never drags vectors along.
CREATE TABLE face_vectors (
    face_id INTEGER PRIMARY KEY REFERENCES faces(id) ON DELETE CASCADE,
    vector BLOB NOT NULL
);
CREATE INDEX faces_character ON faces(character_id) WHERE character_id IS NOT NULL;
""" + "".join(
    f"""CREATE TRIGGER faces_stamp_{event.lower()} AFTER {event} ON faces
BEGIN UPDATE pictures SET meta_seq = {_STAMP} WHERE id = {row}.picture_id; END;
"""
    for event, row in (("INSERT", "NEW"), ("DELETE", "OLD"), ("UPDATE", "NEW"))
)

# Enrichment: a durable job queue, what each engine has already done to each picture, and a stamp per
# vector set that changes with every vector written (a vector index on disk is current only while the
# stamp it was saved with is still the database's). Deletions leave the stamp alone: searches filter
# hits through the pictures table, so a deleted picture's leftover vector in an index is never returned.
_V4 = """
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    task TEXT NOT NULL,
    engine_id TEXT NOT NULL,
    engine_version TEXT NOT NULL,
    parameters TEXT NOT NULL DEFAULT '{}',      -- JSON, passed to the engine
    reason TEXT NOT NULL DEFAULT 'request',     -- 'import' or 'request'
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    error TEXT,
    total INTEGER NOT NULL DEFAULT 0,
    done INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
);
CREATE INDEX jobs_open ON jobs(id) WHERE state IN ('queued', 'running');
CREATE TABLE job_items (
    job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    picture_id INTEGER NOT NULL REFERENCES pictures(id) ON DELETE CASCADE,
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    PRIMARY KEY (job_id, picture_id)
) WITHOUT ROWID;
CREATE INDEX job_items_open ON job_items(job_id, picture_id) WHERE state IN ('queued', 'running');
CREATE INDEX job_items_picture ON job_items(picture_id);
CREATE TABLE enrichments (
    picture_id INTEGER NOT NULL REFERENCES pictures(id) ON DELETE CASCADE,
    engine_id TEXT NOT NULL,
    engine_version TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (engine_id, picture_id)
) WITHOUT ROWID;
CREATE INDEX enrichments_picture ON enrichments(picture_id);
CREATE TABLE vector_stamps (
    engine_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('image', 'face')),
    stamp INTEGER NOT NULL,
    PRIMARY KEY (engine_id, kind)
) WITHOUT ROWID;
INSERT INTO vector_stamps SELECT engine_id, 'image', random() FROM (SELECT DISTINCT engine_id FROM embeddings);
INSERT INTO vector_stamps SELECT engine_id, 'face', random() FROM (SELECT DISTINCT engine_id FROM faces);
""" + "".join(
    f"""CREATE TRIGGER {table}_vector_stamp_{event.lower()} AFTER {event} ON {table}
BEGIN
    INSERT INTO vector_stamps(engine_id, kind, stamp)
    VALUES ({"NEW.engine_id" if table == "embeddings" else "(SELECT engine_id FROM faces WHERE id = NEW.face_id)"},
            '{kind}', random())
    ON CONFLICT DO UPDATE SET stamp = excluded.stamp;
END;
"""
    for table, kind in (("embeddings", "image"), ("face_vectors", "face"))
    for event in ("INSERT", "UPDATE")
)

# A picture's tags with their source and confidence straight from the index: listing a picture's tags and
# comparing them with a snapshot's (read chunk by chunk) then skips one table lookup per tag.
_V5 = """
DROP INDEX picture_tags_picture;
CREATE INDEX picture_tags_picture ON picture_tags(picture_id, tag_id, source, confidence);
"""

# A change log for vector indexes. Each (engine, kind) keeps an epoch (``stamp``, random, changed by a
# full restore) and a counter (``seq``) that every vector write increments and copies onto the row it
# wrote. An index saved at (epoch, seq) then catches up by reading only the rows with a higher seq,
# instead of being rebuilt from every vector. Existing rows start at seq 0, which is exactly where an
# index saved under the old scheme with the same stamp stands.
_V6 = """
ALTER TABLE vector_stamps ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE embeddings ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE face_vectors ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX embeddings_seq ON embeddings(engine_id, seq);
CREATE INDEX face_vectors_seq ON face_vectors(seq);
DROP TRIGGER embeddings_vector_stamp_insert;
DROP TRIGGER embeddings_vector_stamp_update;
DROP TRIGGER face_vectors_vector_stamp_insert;
DROP TRIGGER face_vectors_vector_stamp_update;
""" + "".join(
    f"""CREATE TRIGGER {table}_vector_seq_{event.split()[0].lower()} AFTER {event} ON {table}
BEGIN
    INSERT INTO vector_stamps(engine_id, kind, stamp, seq) VALUES ({engine}, '{kind}', random(), 1)
    ON CONFLICT DO UPDATE SET seq = seq + 1;
    UPDATE {table} SET seq = (SELECT seq FROM vector_stamps WHERE engine_id = {engine} AND kind = '{kind}')
    WHERE {key} = NEW.{key};
END;
"""
    for table, kind, key, engine in (
        ("embeddings", "image", "id", "NEW.engine_id"),
        ("face_vectors", "face", "face_id", "(SELECT engine_id FROM faces WHERE id = NEW.face_id)"),
    )
    # Only a new vector counts as a change: the trigger's own write of ``seq`` must not fire it again.
    for event in ("INSERT", "UPDATE OF vector")
)

# Sets and characters count only pictures outside the scrapheap, as tags already do: scrapping or
# restoring a picture moves the counts of the collections it belongs to.
_V7 = (
    """
DROP TRIGGER collection_members_added;
DROP TRIGGER collection_members_removed;
"""
    + _membership_triggers(live_only=True)
    + """
CREATE TRIGGER pictures_scrapped_members AFTER UPDATE OF deleted_at ON pictures
WHEN (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
BEGIN
    UPDATE collections SET member_count = member_count + (CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END)
    WHERE id IN (SELECT collection_id FROM collection_members WHERE picture_id = NEW.id);
END;
UPDATE collections SET member_count = (
    SELECT count(*) FROM collection_members cm JOIN pictures p ON p.id = cm.picture_id
    WHERE cm.collection_id = collections.id AND p.deleted_at IS NULL);
"""
)

# Seeds as exact decimal text: ComfyUI's reach 2^64 - 1 and A1111 writes any integer, past SQLite's
# 64-bit integers (such a file could not be imported at all). The table is rebuilt, as SQLite cannot
# change a column's type, and the seed joins the full-text index so a seed finds its pictures.
_V8 = (
    """
CREATE TABLE generation_v8 (
    picture_id INTEGER PRIMARY KEY REFERENCES pictures(id) ON DELETE CASCADE,
    tool TEXT NOT NULL,                   -- 'comfyui' | 'a1111'
    positive TEXT NOT NULL DEFAULT '',
    negative TEXT NOT NULL DEFAULT '',
    checkpoint TEXT,
    loras TEXT NOT NULL DEFAULT '[]',     -- JSON [{"name": ..., "weight": ...}]
    seed TEXT,                            -- decimal digits, exact at any size
    sampler TEXT,
    steps INTEGER,
    cfg REAL,
    raw_parameters TEXT,                  -- A1111 "parameters" text
    raw_prompt TEXT,                      -- ComfyUI API-format prompt JSON
    raw_workflow TEXT                     -- ComfyUI UI workflow JSON
);
INSERT INTO generation_v8 SELECT picture_id, tool, positive, negative, checkpoint, loras, CAST(seed AS TEXT),
    sampler, steps, cfg, raw_parameters, raw_prompt, raw_workflow FROM generation;
DROP TABLE generation;
ALTER TABLE generation_v8 RENAME TO generation;
"""
    + _stamp_triggers("generation")
    + f"""
CREATE TEMP TABLE v8_seeded AS SELECT json_group_array(picture_id) AS ids FROM generation WHERE seed IS NOT NULL;
DELETE FROM picture_text WHERE rowid IN (SELECT value FROM json_each((SELECT ids FROM temp.v8_seeded)));
{PICTURE_TEXT_INSERT_V8.replace(":ids", "(SELECT ids FROM temp.v8_seeded)")};
DROP TABLE temp.v8_seeded;
"""
)

# Pictures by change stamp: the server finds what other processes changed since it last looked (a CLI
# import or tagging beside it) in time proportional to the changes, at any library size.
_V9 = """
CREATE INDEX pictures_changed ON pictures(meta_seq);
"""

# Characters by face: a suggested face the user said is not this character is never suggested for it again;
# unnamed faces are grouped into clusters of one person (named by their lowest face id); and a face named
# automatically says so, so the naming can be undone.
_V10 = """
ALTER TABLE faces ADD COLUMN cluster_id INTEGER;
ALTER TABLE faces ADD COLUMN assigned_by TEXT;
CREATE INDEX faces_cluster ON faces(cluster_id) WHERE cluster_id IS NOT NULL;
-- Faces waiting to be placed: the periodic update finds them without reading every face.
CREATE INDEX faces_unplaced ON faces(engine_id, id) WHERE cluster_id IS NULL AND character_id IS NULL;
CREATE TABLE face_rejections (
    character_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    face_id INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
    PRIMARY KEY (character_id, face_id)
) WITHOUT ROWID;
CREATE INDEX face_rejections_face ON face_rejections(face_id);
"""

# A video's faces come from several of its frames: which one (0: the poster, or a still) and its time.
_V11 = """
ALTER TABLE faces ADD COLUMN frame INTEGER NOT NULL DEFAULT 0;
ALTER TABLE faces ADD COLUMN frame_seconds REAL;
"""

# A machine caption keeps the parameters it was written with (caption type, length, ...).
_V12 = "ALTER TABLE captions ADD COLUMN parameters TEXT;"
# (version, description, SQL or a function of the connection). Version N is applied to a library at N - 1.
MIGRATIONS: list[tuple[int, str, str | Callable[[apsw.Connection], None]]] = [
    (1, "pictures, tags, captions, generation metadata, projects, collections, folders", _V1),
    (2, "change stamps on pictures, for snapshot previews and selective restores", _V2),
    (3, "embeddings and faces", _V3),
    (4, "enrichment jobs and vector index stamps", _V4),
    (5, "picture tags indexed with their source and confidence", _V5),
    (6, "a change log for vector indexes", _V6),
    (7, "sets and characters count only pictures outside the scrapheap", _V7),
    (8, "generation seeds kept exactly, at any size, and searchable", _V8),
    (9, "pictures indexed by change stamp, to follow other processes' writes", _V9),
    (10, "characters by face: rejected suggestions, clusters of unnamed faces, automatic naming", _V10),
    (11, "faces on several frames of a video", _V11),
    (12, "machine captions remember their parameters", _V12),
    (13, "every generation field searchable; the scheduler kept", recent.V13_SQL),
    (14, "stacks of variants under a cover; linked ComfyUIs and the workflows run on them", recent.v14_sql(_STAMP)),
    (15, "undo steps commit with their edits (an outbox delivered to the history)", recent.V15_SQL),
    (16, "ids of sets, characters and projects are never reused (undo puts a deleted one back)", recent.V16_SQL),
    (17, "where each picture's date came from", recent.V17_SQL),
    (18, "pictures said not to be duplicates stay out of near-duplicate groups", recent.V18_SQL),
    (19, "scores: one number per picture per scorer (quality, aesthetic, prompt match)", recent.V19_SQL),
    (20, "the text in pictures, with its regions (OCR)", recent.V20_SQL),
    (21, "workflow runs remember which process works them (a dead one's runs are adopted)", recent.V21_SQL),
    (22, "pictures' edits: turned, mirrored, straightened and cropped, the original untouched", recent.v22_sql(_STAMP)),
    (23, "Flux's guidance apart from CFG; the parameter text searchable; XMP sidecars followed", recent.V23_SQL),
    (24, "each picture's uploader, and private pictures", recent.v24_sql(_STAMP)),
    (25, "names of projects, sets and characters unique among what each person sees", recent.v25_names_per_person),
    (26, "the index of private pictures holds what the access check reads", recent.V26_SQL),
    (27, "a count over the library reads an index, not each picture's row", recent.V27_SQL),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def migrate(connection: apsw.Connection, migrations: list | None = None) -> int:
    """Bring the database to the newest schema in one transaction; return the version it had before."""
    migrations = MIGRATIONS if migrations is None else migrations
    newest = migrations[-1][0]
    current = connection.pragma("user_version")
    if current > newest:
        raise LibraryTooNew(
            f"this library uses schema version {current}, but this PixlStash only knows up to {newest}: "
            "upgrade PixlStash (pip install -U pixlstash) to open it",
            library_version=current, supported_version=newest,
        )  # fmt: skip
    if current == newest:
        return current
    # Off while migrating, as SQLite's table rebuild asks (25): a dropped table must not cascade to others.
    connection.pragma("foreign_keys", False)
    try:
        with connection:
            for version, _description, step in migrations:
                if version > current:
                    connection.execute(step) if isinstance(step, str) else step(connection)
                    connection.pragma("user_version", version)
    finally:
        connection.pragma("foreign_keys", True)
    return current
