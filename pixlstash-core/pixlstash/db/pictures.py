"""SQL for pictures: insert, read, edit, soft delete (scrapheap), restore, purge."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence

import msgspec

from ..domain import (
    Caption,
    ContentCredentials,
    Generation,
    Picture,
    PictureBadges,
    PictureEdit,
    PictureFace,
    PictureScore,
    PictureSummary,
    PictureTag,
    Prediction,
)
from ..domain.look_geometry import edit_key, shown_box, shown_size
from ..errors import BadInput, NotFound
from .database import Database, ids_json
from .fulltext import PICTURE_TEXT_INSERT
from .near_duplicate_rows import NearDuplicateRows
from .ocr import TextStore
from .personal_marks import MARK_FIELDS, PersonalMarks, marking_account, personal, without_marks
from .visibility import VisibilityStore, collection_visible_sql, mine_sql, project_visible_sql, visible_sql

__all__ = ["SUMMARY_COLUMNS", "PictureStore", "edit_fields", "row_to_summary"]

SUMMARY_COLUMNS = (
    "p.id, p.content_hash, p.media_type, coalesce(p.shown_width, p.width), coalesce(p.shown_height, p.height), "
    "p.rating, p.taken_at, p.imported_at, "
    "p.file_size, p.favourite, p.flagged, p.missing, p.deleted_at, p.stack_id, "
    "CASE WHEN p.stack_id IS NULL THEN 0 ELSE (SELECT count(*) FROM pictures m "
    "WHERE m.stack_id = p.stack_id AND m.deleted_at IS NULL) END, p.original_name, p.duration, p.edit"
)
_PICTURE_COLUMNS = (
    "id, content_hash, suffix, media_type, mime, file_size, width, height, taken_at, imported_at, p.rating, "
    "p.favourite, flagged, original_name, managed, missing, duration, codec, camera, orientation, exif, "
    "phash, dup_group, source_id, deleted_at, taken_from, edit, digital_source_type, credentials, owner_id, private"
)
_generation_decoder = msgspec.json.Decoder(list)


def row_to_summary(row: Sequence) -> PictureSummary:
    return PictureSummary(
        id=row[0],
        content_hash=row[1],
        media_type=row[2],
        width=row[3],
        height=row[4],
        rating=row[5],
        taken_at=row[6],
        imported_at=row[7],
        file_size=row[8],
        favourite=bool(row[9]),
        flagged=bool(row[10]),
        missing=bool(row[11]),
        deleted_at=row[12],
        stack_id=row[13],
        stack_size=row[14],
        original_name=row[15],
        duration=row[16],
        **edit_fields(row[17]),
    )


_edit_decoder = msgspec.json.Decoder(PictureEdit)


def edit_fields(stored: str | None) -> dict:
    """The ``edit`` and ``edit_key`` of a picture from its stored edit (JSON, or NULL)."""
    if stored is None:
        return {}
    edit = _edit_decoder.decode(stored)
    return {"edit": edit, "edit_key": edit_key(edit)}


def _chunks(ids: Sequence[int], size: int = 500) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


class PictureStore:
    """Rows of ``pictures`` and what hangs off them."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.visibility = VisibilityStore(db)  # uploader, privacy and holders
        self.marks = PersonalMarks(db)  # each account's own ratings and favourites
        self.duplicates = NearDuplicateRows(db)  # perceptual hashes and near-duplicate groups

    # -- writing --------------------------------------------------------------------------------

    def insert(self, fields: dict[str, object]) -> int:
        """Insert one picture (inside the caller's write transaction); returns its id."""
        fields = {**fields, "shuffle": secrets.randbits(63)}
        columns = ", ".join(fields)
        marks = ", ".join(f":{name}" for name in fields)
        self.db.execute(f"INSERT INTO pictures ({columns}) VALUES ({marks})", fields)
        return self.db.connection.last_insert_rowid()

    def set_generation(self, picture_id: int, generation: Generation) -> None:
        row = msgspec.structs.asdict(generation)
        row["loras"] = msgspec.json.encode(generation.loras).decode()
        row["picture_id"] = picture_id
        columns = ", ".join(row)
        self.db.execute(
            f"INSERT OR REPLACE INTO generation ({columns}) VALUES ({', '.join(':' + c for c in row)})", row
        )

    def refresh_text(self, picture_ids: Iterable[int]) -> None:
        """Rebuild the full-text row (captions, prompts, name) of each picture, a few statements for any count."""
        wanted = json.dumps(sorted(set(picture_ids)))
        self.db.execute("DELETE FROM picture_text WHERE rowid IN (SELECT value FROM json_each(?))", (wanted,))
        self.db.execute(PICTURE_TEXT_INSERT, {"ids": wanted})

    def change_mark(self) -> tuple[int, int]:
        """(highest picture id, highest change stamp): where ``changes_since`` starts."""
        row = self.db.connection.execute("SELECT coalesce(max(id), 0), coalesce(max(meta_seq), 0) FROM pictures")
        return tuple(row.fetchone())

    def changes_since(self, since_seq: int, limit: int = 10_000) -> list[tuple[int, int, bool]]:
        """(id, stamp, scrapped) of pictures whose change stamp is above ``since_seq``, oldest change first."""
        return self.db.query(
            "SELECT id, meta_seq, deleted_at IS NOT NULL FROM pictures WHERE meta_seq > ? ORDER BY meta_seq LIMIT ?",
            (since_seq, limit),
        )

    def file_states(self) -> list[tuple[str, str, int, int]]:
        """(content hash, suffix, managed, missing) of every picture."""
        return self.db.query("SELECT content_hash, suffix, managed, missing FROM pictures")

    # -- near-duplicate groups --------------------------------------------------------------------

    def ids_above(self, picture_id: int, limit: int = 10_000) -> list[int]:
        """Pictures added after ``picture_id`` (ids only grow)."""
        return [
            r[0] for r in self.db.query("SELECT id FROM pictures WHERE id > ? ORDER BY id LIMIT ?", (picture_id, limit))
        ]

    def images_below(self, picture_id: int, limit: int = 500) -> list[tuple[int, str]]:
        """(id, content hash) of live images with ids below ``picture_id``, newest first (a keyset page)."""
        return self.db.query(
            "SELECT id, content_hash FROM pictures WHERE id < ? AND media_type = 'image' AND deleted_at IS NULL "
            "ORDER BY id DESC LIMIT ?",
            (picture_id, limit),
        )

    _EDITABLE = {"rating", "favourite", "flagged", "taken_at", "digital_source_type"}

    def update(self, picture_ids: Sequence[int], **fields: object) -> int:
        """Set plain fields (rating, favourite, flagged, taken_at) on pictures; returns rows changed."""
        unknown = set(fields) - self._EDITABLE
        if unknown:
            raise BadInput(f"cannot edit {', '.join(sorted(unknown))}")
        if "rating" in fields and not (isinstance(fields["rating"], int) and 0 <= fields["rating"] <= 5):
            raise BadInput("rating must be an integer from 0 (unrated) to 5")
        user_id = marking_account()
        marks = {name: fields.pop(name) for name in MARK_FIELDS if name in fields and user_id is not None}
        changed = self.marks.set(user_id, picture_ids, marks) if marks else 0  # type: ignore[arg-type]
        if not fields:
            return changed
        assignments = ", ".join(f"{name} = :{name}" for name in fields)
        if "taken_at" in fields:
            assignments += ", taken_from = 'hand'"  # a date a person set is theirs, whatever it replaced
        for chunk in _chunks(list(picture_ids)):
            params = {k: int(v) if isinstance(v, bool) else v for k, v in fields.items()}
            params.update({f"i{n}": pid for n, pid in enumerate(chunk)})
            marks = ",".join(f":i{n}" for n in range(len(chunk)))
            self.db.execute(f"UPDATE pictures SET {assignments} WHERE id IN ({marks})", params)
            changed += self.db.connection.changes()
        return changed

    def set_caption(
        self,
        picture_id: int,
        source: str,
        text: str | None,
        engine_version: str | None,
        now: int,
        parameters: dict | None = None,
    ) -> None:
        if text is None or not text.strip():
            self.db.execute("DELETE FROM captions WHERE picture_id = ? AND source = ?", (picture_id, source))
        else:
            self.db.execute(
                "INSERT OR REPLACE INTO captions(picture_id, source, engine_version, text, created_at, parameters) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    picture_id,
                    source,
                    engine_version,
                    text.strip(),
                    now,
                    msgspec.json.encode(parameters).decode() if parameters else None,
                ),
            )
        self.refresh_text([picture_id])

    def scrap(self, picture_ids: Sequence[int], now: int) -> list[int]:
        """Soft-delete live pictures into the scrapheap; returns the ids that moved."""
        return self._set_deleted(picture_ids, now, "deleted_at IS NULL")

    def unscrap(self, picture_ids: Sequence[int]) -> list[int]:
        """Bring scrapheap pictures back; returns the ids that moved."""
        return self._set_deleted(picture_ids, None, "deleted_at IS NOT NULL")

    def _set_deleted(self, picture_ids: Sequence[int], value: int | None, condition: str) -> list[int]:
        moved: list[int] = []
        for chunk in _chunks(list(picture_ids)):
            marks = ",".join("?" * len(chunk))
            rows = self.db.query(
                f"UPDATE pictures SET deleted_at = ? WHERE id IN ({marks}) AND {condition} RETURNING id",
                (value, *chunk),
            )
            moved.extend(row[0] for row in rows)
        return sorted(moved)

    def delete_rows(self, picture_ids: Sequence[int]) -> None:
        """Remove pictures for good (purge). Membership rows go first so counters and triggers stay right."""
        for chunk in _chunks(list(picture_ids)):
            marks = ",".join("?" * len(chunk))
            self.db.execute(f"DELETE FROM collection_members WHERE picture_id IN ({marks})", chunk)
            self.db.execute(f"DELETE FROM picture_tags WHERE picture_id IN ({marks})", chunk)
            self.db.execute(f"DELETE FROM picture_text WHERE rowid IN ({marks})", chunk)
            self.db.execute(f"UPDATE pictures SET dup_group = NULL WHERE dup_group IN ({marks})", chunk)
            self.db.execute(f"DELETE FROM pictures WHERE id IN ({marks})", chunk)

    def adopt(self, picture_id: int) -> None:
        """The library now holds its own copy of a picture it only referenced: managed, and not missing."""
        self.db.execute("UPDATE pictures SET managed = 1, missing = 0 WHERE id = ?", (picture_id,))

    def set_missing(self, picture_id: int, missing: bool) -> None:
        self.db.execute(
            "UPDATE pictures SET missing = ? WHERE id = ? AND missing <> ?", (int(missing), picture_id, int(missing))
        )

    def set_place(self, picture_id: int, place: dict[str, float]) -> None:
        """Replace where the picture was taken (its EXIF's ``gps_*`` fields), as a changed sidecar says."""
        self.db.execute(
            "UPDATE pictures SET exif = json_patch(json_remove(coalesce(exif, '{}'), '$.gps_latitude', "
            "'$.gps_longitude', '$.gps_altitude'), ?) WHERE id = ?",
            (msgspec.json.encode(place).decode(), picture_id),
        )

    def repoint(self, picture_id: int, analysis) -> None:
        """Point a picture at new content (its reference file changed in place); user data stays,
        what was derived from the old content (predictions, generation data, duplicate group) goes."""
        a = analysis
        self.db.execute(
            "UPDATE pictures SET content_hash = ?, suffix = ?, media_type = ?, mime = ?, file_size = ?, width = ?, "
            "height = ?, pixels = ?, duration = ?, codec = ?, phash = ?, dup_group = NULL, camera = ?, "
            "orientation = ?, exif = ?, missing = 0 WHERE id = ?",
            (
                a.content_hash,
                a.suffix,
                a.media_type,
                a.mime,
                a.file_size,
                a.width,
                a.height,
                a.width * a.height,
                a.duration,
                a.codec,
                a.phash,
                a.camera,
                a.orientation,
                msgspec.json.encode(a.exif).decode() if a.exif else None,
                picture_id,
            ),
        )
        self.db.execute("DELETE FROM predictions WHERE picture_id = ?", (picture_id,))
        self.db.execute("DELETE FROM generation WHERE picture_id = ?", (picture_id,))
        if a.generation is not None:
            self.set_generation(picture_id, a.generation)
        self.refresh_text([picture_id])

    # -- reading --------------------------------------------------------------------------------

    def id_for_hash(self, content_hash: str) -> int | None:
        visible, params = visible_sql()
        return self.db.scalar(
            f"SELECT id FROM pictures p WHERE content_hash = ? AND {visible}", (content_hash, *params)
        )

    def summaries(self, picture_ids: Sequence[int]) -> list[PictureSummary]:
        found: list[PictureSummary] = []
        for chunk in _chunks(list(picture_ids)):
            marks = ",".join("?" * len(chunk))
            visible, params = visible_sql()
            found.extend(
                row_to_summary(r)
                for r in self.db.query(
                    f"SELECT {without_marks(SUMMARY_COLUMNS)} FROM pictures p WHERE p.id IN ({marks}) AND {visible}",
                    [*chunk, *params],
                )
            )
        return self.marks.fill(found)

    def badges(self, picture_ids: Sequence[int], tags: int = 3) -> list[PictureBadges]:
        """A grid tile's tags and counts for each existing picture, every lookup through an index."""
        rows = self.db.query(
            """SELECT p.id,
                      (SELECT json_group_array(name) FROM (SELECT t.name FROM picture_tags pt
                          JOIN tags t ON t.id = pt.tag_id WHERE pt.picture_id = p.id
                          ORDER BY t.picture_count, t.name LIMIT ?)),
                      (SELECT count(*) FROM picture_tags WHERE picture_id = p.id),
                      (SELECT count(*) FROM predictions WHERE picture_id = p.id AND state = 'pending'),
                      (SELECT count(*) FROM faces WHERE picture_id = p.id),
                      (SELECT count(character_id) FROM faces WHERE picture_id = p.id),
                      EXISTS (SELECT 1 FROM captions WHERE picture_id = p.id)
               FROM pictures p WHERE p.id IN (SELECT value FROM json_each(?)) ORDER BY p.id""",
            (tags, json.dumps(list(picture_ids))),
        )
        return [
            PictureBadges(pid, json.loads(names), n_tags, n_suggestions, n_faces, n_named, bool(caption))
            for pid, names, n_tags, n_suggestions, n_faces, n_named, caption in rows
        ]

    def positive_prompts(self, picture_ids: Sequence[int]) -> dict[int, str]:
        """id -> positive prompt, for the pictures with generation data that has one."""
        return dict(
            self.db.query(
                "SELECT picture_id, positive FROM generation WHERE positive != '' "
                "AND picture_id IN (SELECT value FROM json_each(?))",
                (ids_json(picture_ids),),
            )
        )

    def media_inputs(self, picture_ids: Sequence[int]) -> dict[int, tuple[str, int, int, str]]:
        """id -> (content hash, width, height, media type): what the enrichment worker needs to load images."""
        found = {}
        for chunk in _chunks(list(picture_ids)):
            marks = ",".join("?" * len(chunk))
            for pid, content_hash, width, height, media_type in self.db.query(
                f"SELECT id, content_hash, width, height, media_type FROM pictures WHERE id IN ({marks})", chunk
            ):
                found[pid] = (content_hash, width, height, media_type)
        return found

    def managed_originals(self) -> list[tuple[str, str, int]]:
        """(content hash, suffix, size) of every original the store keeps (not reference-folder files)."""
        return [
            (h, suffix, int(size or 0))
            for h, suffix, size in self.db.query(
                "SELECT DISTINCT content_hash, suffix, file_size FROM pictures WHERE managed = 1 ORDER BY content_hash"
            )
        ]

    def managed_original_count(self) -> int:
        return int(self.db.scalar("SELECT count(DISTINCT content_hash) FROM pictures WHERE managed = 1") or 0)

    def original_names(self, picture_ids: Sequence[int]) -> dict[int, str]:
        """id -> the file name the picture was imported under (for listings a person reads)."""
        found: dict[int, str] = {}
        for chunk in _chunks(list(picture_ids)):
            marks = ",".join("?" * len(chunk))
            found.update(self.db.query(f"SELECT id, original_name FROM pictures WHERE id IN ({marks})", chunk))
        return found

    def character_names(self, picture_ids: Sequence[int]) -> dict[int, list[str]]:
        """id -> the names of the characters the picture belongs to, alphabetically."""
        found: dict[int, list[str]] = {}
        for chunk in _chunks(list(picture_ids)):
            marks = ",".join("?" * len(chunk))
            for pid, name in self.db.query(
                f"SELECT m.picture_id, c.name FROM collection_members m JOIN collections c ON c.id = m.collection_id "
                f"WHERE c.kind = 'character' AND m.picture_id IN ({marks}) AND {collection_visible_sql('c')} "
                "ORDER BY c.name COLLATE NOCASE",
                chunk,
            ):
                found.setdefault(pid, []).append(name)
        return found

    def existing_ids(self, picture_ids: Sequence[int], *, live_only: bool = False) -> list[int]:
        found: list[int] = []
        condition = " AND deleted_at IS NULL" if live_only else ""
        visible, params = visible_sql()
        for chunk in _chunks(list(picture_ids)):
            marks = ",".join("?" * len(chunk))
            found.extend(
                r[0]
                for r in self.db.query(
                    f"SELECT id FROM pictures p WHERE id IN ({marks}){condition} AND {visible}", [*chunk, *params]
                )
            )
        return sorted(found)

    def require(self, picture_ids: Sequence[int]) -> list[int]:
        """The sorted, unique ids; ``NotFound`` naming any that do not exist (live or in the scrapheap)."""
        ids = sorted(set(int(i) for i in picture_ids))
        missing = sorted(set(ids) - set(self.existing_ids(ids)))
        if missing:
            raise NotFound(f"no such picture: {', '.join(map(str, missing[:20]))}", missing=missing[:100])
        return ids

    def address(self, picture_id: int) -> tuple[str, str, bool]:
        """(content hash, suffix, managed) of a picture: where its original is."""
        visible, params = visible_sql()
        row = self.db.row(
            f"SELECT content_hash, suffix, managed FROM pictures p WHERE id = ? AND {visible}", (picture_id, *params)
        )
        if row is None:
            raise NotFound(f"picture {picture_id} does not exist")
        return row[0], row[1], bool(row[2])

    def _mine(self, picture_id: int) -> bool:
        mine, params = mine_sql("p")
        if mine == "0":  # no account in force: no one's own
            return False
        return bool(self.db.scalar(f"SELECT {mine} FROM pictures p WHERE p.id = ?", (*params, picture_id)))

    def get(self, picture_id: int) -> Picture:
        """One picture with its tags, predictions, captions, generation data, memberships and locations."""
        visible, params = visible_sql()
        row = self.db.row(
            f"SELECT {personal(_PICTURE_COLUMNS)} FROM pictures p WHERE id = ? AND {visible}", (picture_id, *params)
        )
        if row is None:
            raise NotFound(f"picture {picture_id} does not exist")
        (
            pid,
            content_hash,
            suffix,
            media_type,
            mime,
            file_size,
            width,
            height,
            taken_at,
            imported_at,
            rating,
            favourite,
            flagged,
            original_name,
            managed,
            missing,
            duration,
            codec,
            camera,
            orientation,
            exif,
            phash,
            dup_group,
            source_id,
            deleted_at,
            taken_from,
            stored_edit,
            digital_source_type,
            credentials,
            owner_id,
            private,
        ) = row
        q = self.db.query
        tags = [
            PictureTag(n, c, s, conf)
            for n, c, s, conf in q(
                "SELECT t.name, t.category, pt.source, pt.confidence FROM picture_tags pt "
                "JOIN tags t ON t.id = pt.tag_id WHERE pt.picture_id = ? ORDER BY t.name",
                (pid,),
            )
        ]
        predictions = [
            Prediction(*r)
            for r in q(
                "SELECT t.name, t.category, pr.engine_id, pr.engine_version, pr.confidence, pr.state "
                "FROM predictions pr JOIN tags t ON t.id = pr.tag_id WHERE pr.picture_id = ? "
                "ORDER BY pr.confidence DESC",
                (pid,),
            )
        ]
        captions = [
            Caption(source, text, version, created, msgspec.json.decode(parameters) if parameters else None)
            for source, text, version, created, parameters in q(
                "SELECT source, text, engine_version, created_at, parameters FROM captions WHERE picture_id = ? "
                "ORDER BY source = 'user' DESC, source = 'sidecar' DESC, created_at DESC",
                (pid,),
            )
        ]
        generation = None
        columns = ("tool", "positive", "negative", "checkpoint", "loras", "seed", "sampler", "scheduler", "steps")
        columns += ("cfg", "guidance", "raw_parameters", "raw_prompt", "raw_workflow")
        grow = self.db.row(f"SELECT {', '.join(columns)} FROM generation WHERE picture_id = ?", (pid,))
        if grow:
            row = dict(zip(columns, grow, strict=True))
            row["loras"] = msgspec.json.decode(row["loras"] or "[]")
            generation = msgspec.convert(row, Generation)
        seen = collection_visible_sql("c")  # a private set or character of someone else's is not named
        collections = [
            r[0]
            for r in q(
                "SELECT m.collection_id FROM collection_members m JOIN collections c ON c.id = m.collection_id "
                f"WHERE m.picture_id = ? AND {seen}",
                (pid,),
            )
        ]
        projects = [
            r[0]
            for r in q(
                "SELECT m.project_id FROM project_members m JOIN projects pv ON pv.id = m.project_id "
                f"WHERE m.picture_id = ? AND {project_visible_sql('pv')}",
                (pid,),
            )
        ]
        edit = _edit_decoder.decode(stored_edit) if stored_edit else None
        shown = shown_size(edit, width, height)
        faces = [
            PictureFace(
                fid,
                (x0, y0, x1, y1),
                score,
                engine,
                character,
                frame,
                seconds,
                shown_box((x0, y0, x1, y1), edit, width, height),
            )
            for fid, x0, y0, x1, y1, score, engine, character, frame, seconds in q(
                "SELECT f.id, x0, y0, x1, y1, score, engine_id, CASE WHEN c.id IS NULL OR "
                f"{seen} THEN f.character_id END, frame, frame_seconds FROM faces f "
                "LEFT JOIN collections c ON c.id = f.character_id WHERE f.picture_id = ? ORDER BY frame, x0",
                (pid,),
            )
        ]
        scores = [
            PictureScore(*r)
            for r in q(
                "SELECT engine_id, value, engine_version, created_at FROM picture_scores WHERE picture_id = ? "
                "ORDER BY engine_id",
                (pid,),
            )
        ]
        locations = [
            f"{root}/{rel}"
            for root, rel in q(
                "SELECT f.path, ff.rel_path FROM folder_files ff JOIN folders f ON f.id = ff.folder_id "
                "WHERE ff.picture_id = ?",
                (pid,),
            )
        ]
        return Picture(
            id=pid,
            content_hash=content_hash,
            suffix=suffix,
            media_type=media_type,
            mime=mime,
            file_size=file_size,
            width=shown[0],
            height=shown[1],
            original_width=width,
            original_height=height,
            **edit_fields(stored_edit),
            taken_at=taken_at,
            taken_from=taken_from,
            digital_source_type=digital_source_type,
            credentials=msgspec.json.decode(credentials, type=ContentCredentials) if credentials else None,
            imported_at=imported_at,
            rating=rating,
            favourite=bool(favourite),
            flagged=bool(flagged),
            original_name=original_name,
            managed=bool(managed),
            missing=bool(missing),
            duration=duration,
            codec=codec,
            camera=camera,
            orientation=orientation,
            exif=json.loads(exif) if exif else {},
            phash=None if phash is None else f"{phash & ((1 << 64) - 1):016x}",
            dup_group=dup_group,
            source_id=source_id,
            deleted_at=deleted_at,
            owner_id=owner_id,
            private=bool(private),
            mine=self._mine(pid),
            tags=tags,
            predictions=predictions,
            captions=captions,
            generation=generation,
            collections=sorted(collections),
            projects=sorted(projects),
            locations=locations,
            faces=faces,
            scores=scores,
            text=TextStore(self.db).reading(pid),
        )
