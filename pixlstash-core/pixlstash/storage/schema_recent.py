"""The newest migrations, kept apart from schema.py to keep each module short.

Migration 14: stacks, linked ComfyUIs and workflow runs.

Stacks: variants grouped under a cover (a workflow run's outputs on their source, near-duplicates, a
person's pick). A picture is in one stack at most; a stack row stays when it empties, so that undoing an
edit can put its pictures back under the same id. ComfyUIs linked to the library, and the workflow runs
sent to them (remixes of a picture's graph, a workflow run on a selection)."""

from __future__ import annotations

__all__ = ["V15_SQL", "v14_sql"]


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
