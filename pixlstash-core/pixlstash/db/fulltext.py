"""What the full-text index (``picture_text``) holds for a picture, as SQL the storage layer and the
migrations that change it share."""

from __future__ import annotations

__all__ = ["PICTURE_TEXT_INSERT", "PICTURE_TEXT_INSERT_V8", "PICTURE_TEXT_INSERT_V13", "PICTURE_TEXT_INSERT_V23"]

# What the full-text index held for each picture in ``ids`` (a JSON array) from version 8 to 12: captions,
# prompt, checkpoint and seed, and the file name. Kept as it was for the version 8 migration.
PICTURE_TEXT_INSERT_V8 = """INSERT INTO picture_text(rowid, caption, prompt, name)
SELECT p.id,
       (SELECT group_concat(text, ' ') FROM captions WHERE picture_id = p.id),
       (SELECT positive || ' ' || coalesce(checkpoint, '') || ' ' || coalesce(seed, '')
        FROM generation WHERE picture_id = p.id),
       p.original_name
FROM pictures p WHERE p.id IN (SELECT value FROM json_each(:ids))"""

# What it held from version 13 to 19 (before OCR), kept as it was for the version 13 migration.
PICTURE_TEXT_INSERT_V13 = """INSERT INTO picture_text(rowid, caption, prompt, name)
SELECT p.id,
       (SELECT group_concat(text, ' ') FROM captions WHERE picture_id = p.id),
       (SELECT concat_ws(' ', positive, negative, checkpoint,
                         (SELECT group_concat(value ->> 'name', ' ') FROM json_each(loras)),
                         sampler, scheduler, seed, steps)
        FROM generation WHERE picture_id = p.id),
       p.original_name
FROM pictures p WHERE p.id IN (SELECT value FROM json_each(:ids))"""

# What the full-text index holds for each picture in ``ids`` (a JSON array): captions and the text read in
# the picture (OCR); the generation data (both prompts, checkpoint, LoRA names, sampler, scheduler, seed,
# steps) and the generator's parameter text as written (Civitai's resources, Forge's version and every
# setting no field holds); the file name. Used by the storage layer and by migrations that change it.
PICTURE_TEXT_INSERT_V23 = """INSERT INTO picture_text(rowid, caption, prompt, name)
SELECT p.id,
       concat_ws(' ', (SELECT group_concat(text, ' ') FROM captions WHERE picture_id = p.id),
                 (SELECT nullif(text, '') FROM picture_ocr WHERE picture_id = p.id)),
       (SELECT concat_ws(' ', positive, negative, checkpoint,
                         (SELECT group_concat(value ->> 'name', ' ') FROM json_each(loras)),
                         sampler, scheduler, seed, steps, raw_parameters)
        FROM generation WHERE picture_id = p.id),
       p.original_name
FROM pictures p WHERE p.id IN (SELECT value FROM json_each(:ids))"""
PICTURE_TEXT_INSERT = PICTURE_TEXT_INSERT_V23  # (a later change adds a version and keeps this one as it is)
