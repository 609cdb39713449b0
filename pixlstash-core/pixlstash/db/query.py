"""One query builder for listing, counting and statistics, with keyset (cursor) pagination.

Speed at a million pictures comes from choosing how to walk:

- with no selective membership filter, walk the sort column's index and test filters row by row,
  stopping after one page (SQLite does this with our partial ``(column, id)`` indexes);
- with a selective one (a rare tag, a small set, a text match, a selection), start from its members
  and sort only those.

Walking costs about ``page × library / matches`` rows, driving costs about ``matches``; we pick the
cheaper from counts kept by triggers (tags, collections) or a capped count. Pages never use OFFSET:
a cursor holds the last row's sort value and id, so page 10,000 costs what page 1 costs.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence

import msgspec

from ..domain import AI_SOURCE_TYPES, Page, PictureFilter, PictureSummary, Sort
from ..errors import BadInput
from .collections import set_operation_sql
from .database import Database, ids_json
from .personal_marks import PersonalMarks, marking_account, personal, without_marks
from .pictures import SUMMARY_COLUMNS, row_to_summary
from .tags import TagStore
from .visibility import collection_visible_sql, mine_sql, project_visible_sql, visible_parts_sql, visible_sql

__all__ = ["CompiledFilter", "PictureQuery", "compile_filter"]

_SORT_COLUMNS = {
    "taken_at": "taken_at",
    "imported_at": "imported_at",
    "rating": "rating",
    "file_size": "file_size",
    "pixels": "pixels",
    "random": "shuffle",
}
_CURSOR_VERSION = 1
_MARK_BATCH = 256  # an account's marks checked against the filter at a time (sorting by its own rating)
_MAX_PAGE = 1000
_cursor_encoder = msgspec.msgpack.Encoder()
_cursor_decoder = msgspec.msgpack.Decoder(list)


class _Membership(msgspec.Struct):
    """A filter on membership: as a driving id set, or as a per-row test."""

    ids_sql: str
    ids_params: list
    test_sql: str
    test_params: list
    estimate: int


class CompiledFilter(msgspec.Struct):
    """SQL pieces for a filter: ``FROM`` (maybe driven by a member set) and ``WHERE`` with parameters."""

    from_sql: str
    from_params: list
    where_sql: str
    where_params: list
    empty: bool = False  # a filter that can match nothing (an unknown tag): skip the query

    @property
    def params(self) -> list:
        return [*self.from_params, *self.where_params]

    def select(self, columns: str) -> tuple[str, list]:
        """The query; its conditions on ratings and favourites are on the marks of the account in force
        (columns that must be too say so: ``personal_marks.personal``)."""
        return f"SELECT {columns} FROM {self.from_sql} WHERE {personal(self.where_sql)}", self.params


def _counted_from_index(f: PictureFilter) -> bool:
    """Whether ``pictures_access`` holds all a count of ``f`` reads: who may see a picture, whether it is
    scrapped, its stack. (A count that reads pictures' rows anyway is one pass over them, not two.)"""
    return msgspec.structs.replace(f, stack_covers=False, scrapheap=False, private=None, mine=None) == PictureFilter()


def compile_filter(
    db: Database, f: PictureFilter, *, page_size: int = 100, visible: tuple[str, list] | None = None
) -> CompiledFilter:
    """Turn a ``PictureFilter`` into SQL over ``pictures p``; ``visible``: a part of what the account in force
    may see, in place of all of it (``visible_parts_sql``)."""
    where: list[str] = ["p.deleted_at IS NOT NULL" if f.scrapheap else "p.deleted_at IS NULL"]
    params: list = []
    # What the account in force may see (pictures.visibility).
    visible, visible_params = visible_sql("p") if visible is None else visible
    if visible != "1":
        where.append(visible)
        params.extend(visible_params)
    if f.mine is not None:
        mine, mine_params = mine_sql("p")
        where.append(mine if f.mine else f"NOT {mine}")
        params.extend(mine_params)
    if f.private is not None:
        where.append("+p.private = ?")  # "+": a page walks its sort index, not pictures_access (counts')
        params.append(int(f.private))
    memberships: list[_Membership] = []
    empty = False

    def tag_ids(names: Sequence[str]) -> list[int | None]:
        store = TagStore(db)
        return [store.resolve(name) for name in names]

    for tag_id in tag_ids(f.tags):
        if tag_id is None:
            empty = True
            continue
        count = db.scalar("SELECT picture_count FROM tags WHERE id = ?", (tag_id,)) or 0
        memberships.append(
            _Membership(
                "SELECT picture_id FROM picture_tags WHERE tag_id = ?",
                [tag_id],
                "EXISTS (SELECT 1 FROM picture_tags WHERE tag_id = ? AND picture_id = p.id)",
                [tag_id],
                count,
            )
        )
    if f.any_tags:
        known = [t for t in tag_ids(f.any_tags) if t is not None]
        if not known:
            empty = True
        else:
            marks = ",".join("?" * len(known))
            count = db.scalar(f"SELECT sum(picture_count) FROM tags WHERE id IN ({marks})", known) or 0
            # The per-row test is one probe of the (picture_id, tag_id) index per tag.
            memberships.append(
                _Membership(
                    f"SELECT DISTINCT picture_id FROM picture_tags WHERE tag_id IN ({marks})",
                    known,
                    f"EXISTS (SELECT 1 FROM picture_tags WHERE picture_id = p.id AND tag_id IN ({marks}))",
                    known,
                    count,
                )
            )
    for tag_id in tag_ids(f.not_tags):
        if tag_id is not None:
            where.append("NOT EXISTS (SELECT 1 FROM picture_tags WHERE tag_id = ? AND picture_id = p.id)")
            params.append(tag_id)
    if f.project is not None:
        # A private project the account in force may not see is as empty as one that never was.
        seen = f"project_id IN (SELECT pv.id FROM projects pv WHERE {project_visible_sql('pv')})"
        ids_sql = f"SELECT picture_id FROM project_members WHERE project_id = ? AND {seen}"
        memberships.append(
            _Membership(
                ids_sql,
                [f.project],
                f"EXISTS (SELECT 1 FROM project_members WHERE project_id = ? AND {seen} AND picture_id = p.id)",
                [f.project],
                _capped_count(db, ids_sql, [f.project]),
            )
        )
    if f.collections:
        ids_sql, ids_params = set_operation_sql(f.collections, f.collection_op)
        if f.collection_op == "union":
            ids_sql = "SELECT DISTINCT" + ids_sql[len("SELECT") :]
        counts = dict(
            db.query(
                f"SELECT id, member_count FROM collections WHERE id IN ({','.join('?' * len(f.collections))})",
                list(f.collections),
            )
        )
        sizes = [counts.get(c, 0) for c in f.collections]
        estimate = {"union": sum(sizes), "overlap": min(sizes), "difference": sizes[0], "unique": sum(sizes)}[
            f.collection_op if len(sizes) > 1 else "union"
        ]
        memberships.append(_Membership(ids_sql, ids_params, f"p.id IN ({ids_sql})", ids_params, estimate))
    if f.text:
        ids_sql = _TEXT_MATCH.replace("{collections_seen}", collection_visible_sql("collections")).replace(
            "{projects_seen}", project_visible_sql("projects")
        )
        text_params = [_fts_query(f.text), *([_name_prefix(f.text)] * 4)]
        memberships.append(
            _Membership(
                ids_sql, text_params, f"p.id IN ({ids_sql})", text_params, _capped_count(db, ids_sql, text_params)
            )
        )
    if f.shown_text:
        ids_sql, text_params = _shown_text_match(f.shown_text)
        memberships.append(
            _Membership(
                ids_sql, text_params, f"p.id IN ({ids_sql})", text_params, _capped_count(db, ids_sql, text_params)
            )
        )
    if f.ids is not None:
        ids_sql = "SELECT value FROM json_each(?)"
        memberships.append(
            _Membership(ids_sql, [ids_json(f.ids)], f"p.id IN ({ids_sql})", [ids_json(f.ids)], len(f.ids))
        )
        empty = empty or not f.ids

    def scalar(condition: str, *values: object) -> None:
        where.append(condition)
        params.extend(values)

    if f.stack is not None:
        scalar("p.stack_id = ?", f.stack)
    if f.stack_covers:  # one picture per stack: its cover (a stack whose cover left shows its first member)
        scalar(
            "(p.stack_id IS NULL OR p.id = coalesce((SELECT s.cover_id FROM stacks s JOIN pictures c ON "
            "c.id = s.cover_id AND c.deleted_at IS NULL AND c.stack_id = s.id WHERE s.id = p.stack_id), "
            "(SELECT min(m.id) FROM pictures m WHERE m.stack_id = p.stack_id AND m.deleted_at IS NULL)))"
        )
    if f.rating_min is not None:
        scalar("p.rating >= ?", f.rating_min)
    # An unrated picture (0) is not "rated N stars or fewer": `scrap where --rating-max 1` must not scrap
    # every picture nobody has rated yet. With unrated=True beside it, those are wanted too.
    if f.rating_max is not None and f.unrated:
        scalar("(p.rating = 0 OR p.rating BETWEEN 1 AND ?)", f.rating_max)
    elif f.rating_max is not None:
        scalar("p.rating BETWEEN 1 AND ?", f.rating_max)
    if f.unrated is not None and not (f.unrated and f.rating_max is not None):
        scalar("p.rating = 0" if f.unrated else "p.rating > 0")
    if f.favourite is not None:
        scalar("p.favourite = ?", int(f.favourite))
    if f.flagged is not None:
        scalar("p.flagged = ?", int(f.flagged))
    if f.ai_generated is not None:
        marks = ", ".join("?" for _ in AI_SOURCE_TYPES)
        generated = "EXISTS (SELECT 1 FROM generation g WHERE g.picture_id = p.id)"
        made = f"({generated} OR coalesce(p.digital_source_type, '') IN ({marks}))"  # (NULL IN ...: not NULL)
        scalar(made if f.ai_generated else f"NOT {made}", *AI_SOURCE_TYPES)
    if f.c2pa is not None:
        states = {"trusted": ("trusted",), "valid": ("valid", "trusted"), "invalid": ("invalid",), "none": ()}[f.c2pa]
        marks = ", ".join("?" for _ in states)
        scalar(f"p.credentials ->> '$.state' IN ({marks})" if states else "p.credentials IS NULL", *states)
    if f.media_type is not None:
        scalar("p.media_type = ?", f.media_type)
    for column, op, value in (
        ("taken_at", ">=", f.taken_after),
        ("taken_at", "<", f.taken_before),
        ("imported_at", ">=", f.imported_after),
        ("imported_at", "<", f.imported_before),
        ("width", ">=", f.min_width),
        ("height", ">=", f.min_height),
        ("width", "<=", f.max_width),
        ("height", "<=", f.max_height),
    ):
        if value is not None:
            scalar(f"p.{column} {op} ?", value)
    if f.source is not None:
        scalar("p.source_id = ?", f.source)
    if f.folder is not None:
        scalar(
            "(p.source_id = (SELECT source_id FROM folders WHERE id = ?) OR EXISTS "
            "(SELECT 1 FROM folder_files WHERE picture_id = p.id AND folder_id = ?))",
            f.folder,
            f.folder,
        )
    if f.duplicates is not None:
        scalar("p.dup_group IS NOT NULL" if f.duplicates else "p.dup_group IS NULL")
    if f.missing is not None:
        scalar("p.missing = ?", int(f.missing))
    if f.faces is not None:
        scalar(("" if f.faces else "NOT ") + "EXISTS (SELECT 1 FROM faces WHERE picture_id = p.id)")
    if f.min_faces is not None:
        scalar("(SELECT count(*) FROM faces WHERE picture_id = p.id) >= ?", f.min_faces)
    if f.max_faces is not None:
        scalar("(SELECT count(*) FROM faces WHERE picture_id = p.id) <= ?", f.max_faces)
    _generation_conditions(f, scalar)
    if f.score_engine is not None:
        bounds = [("value >= ?", f.score_min), ("value < ?", f.score_max)]
        scalar(
            "EXISTS (SELECT 1 FROM picture_scores WHERE picture_id = p.id AND engine_id = ?"
            + "".join(f" AND {test}" for test, value in bounds if value is not None)
            + ")",
            f.score_engine,
            *(value for _, value in bounds if value is not None),
        )
    elif f.score_min is not None or f.score_max is not None:
        raise BadInput("a score range needs the scorer it applies to (score_engine)", fields=["score_engine"])
    if f.has_text is not None:
        scalar(f"EXISTS (SELECT 1 FROM picture_ocr WHERE picture_id = p.id AND text {'!=' if f.has_text else '='} '')")
    if f.unnamed_faces is not None:
        scalar(
            ("" if f.unnamed_faces else "NOT ")
            + "EXISTS (SELECT 1 FROM faces WHERE picture_id = p.id AND character_id IS NULL)"
        )

    from_sql, from_params = "pictures p", []
    if memberships:
        driver = min(memberships, key=lambda m: m.estimate)
        library_size = db.scalar("SELECT max(id) FROM pictures") or 0
        walk_cost = page_size * library_size / max(driver.estimate, 1)
        if driver.estimate * 2 < walk_cost:
            memberships.remove(driver)
            from_sql = f"({driver.ids_sql}) AS d CROSS JOIN pictures p ON p.id = d.{_id_column(driver.ids_sql)}"
            from_params = list(driver.ids_params)
        for membership in memberships:
            where.append(membership.test_sql)
            params.extend(membership.test_params)
    return CompiledFilter(from_sql, from_params, " AND ".join(where), params, empty)


def _generation_conditions(f: PictureFilter, scalar) -> None:
    """Generation-data filters: names as case-insensitive parts, the rest exact."""

    def generation(condition: str, *values: object) -> None:
        scalar(f"EXISTS (SELECT 1 FROM generation g WHERE g.picture_id = p.id AND {condition})", *values)

    for lora in f.loras:
        generation("EXISTS (SELECT 1 FROM json_each(g.loras) WHERE instr(lower(value ->> 'name'), lower(?)))", lora)
    if f.checkpoint is not None:
        generation("instr(lower(g.checkpoint), lower(?))", f.checkpoint)
    if f.generation_seed is not None:
        generation("g.seed = ?", f.generation_seed)
    if f.sampler is not None:
        generation("g.sampler = ? COLLATE NOCASE", f.sampler)
    if f.scheduler is not None:
        generation("g.scheduler = ? COLLATE NOCASE", f.scheduler)
    if f.steps is not None:
        generation("g.steps = ?", f.steps)


def _id_column(ids_sql: str) -> str:
    head = ids_sql.split(" FROM ", 1)[0]
    return head.replace("SELECT", "").replace("DISTINCT", "").strip()


def _capped_count(db: Database, ids_sql: str, params: list, cap: int = 50_000) -> int:
    return db.scalar(f"SELECT count(*) FROM ({ids_sql} LIMIT {cap})", params) or 0


# Control characters (NUL ends an FTS5 string early) and lone surrogates (not text) separate words.
_NOT_WORD = re.compile(r"[\s\x00-\x1f\x7f-\x9f\ud800-\udfff]+")


# The search box's words: in captions, prompts and file names (full text), or the start of the name of a
# tag (or one of its aliases), a set or character, or a project, whose pictures then match.
_TEXT_MATCH = (
    "SELECT rowid FROM picture_text WHERE picture_text MATCH ? "
    "UNION SELECT picture_id FROM picture_tags WHERE tag_id IN ("
    "SELECT id FROM tags WHERE name LIKE ? ESCAPE '\\' "
    "UNION SELECT tag_id FROM tag_aliases WHERE alias LIKE ? ESCAPE '\\') "
    "UNION SELECT picture_id FROM collection_members WHERE collection_id IN ("
    "SELECT id FROM collections WHERE name LIKE ? ESCAPE '\\' AND {collections_seen}) "
    "UNION SELECT picture_id FROM project_members WHERE project_id IN ("
    "SELECT id FROM projects WHERE name LIKE ? ESCAPE '\\' AND {projects_seen})"
)


def _shown_text_match(text: str) -> tuple[str, list[object]]:
    """The search box's words over what a share shows: the generation data (the index's prompt column
    alone), a caption holding every word, or the start of a tag's name."""
    words = [w for w in _NOT_WORD.split(text) if w][:20]
    if not words:
        raise BadInput("the text search is empty")
    like = [f"%{_like_literal(w)}%" for w in words]
    sql = (
        "SELECT rowid FROM picture_text WHERE picture_text MATCH ? "
        "UNION SELECT picture_id FROM captions WHERE "
        + " AND ".join("text LIKE ? ESCAPE '\\'" for _ in like)
        + " UNION SELECT picture_id FROM picture_tags WHERE tag_id IN "
        "(SELECT id FROM tags WHERE name LIKE ? ESCAPE '\\')"
    )
    return sql, [f"prompt : ({_fts_query(text)})", *like, _name_prefix(text)]


def _like_literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _name_prefix(text: str) -> str:
    """A LIKE pattern for names starting with ``text`` (its spaces evened out; ``%`` and ``_`` literal)."""
    return _like_literal(" ".join(w for w in _NOT_WORD.split(text) if w)) + "%"


def _fts_query(text: str) -> str:
    """Words as prefix terms, all required; quotes keep FTS5 syntax out of user input."""
    words = [w.replace('"', '""') for w in _NOT_WORD.split(text) if w]
    if not words:
        raise BadInput("the text search is empty")
    return " ".join(f'"{w}"*' for w in words[:20])


# Pictures a scorer has not scored sort after every scored one, whichever the direction.
_UNSCORED_LAST = {True: -1e308, False: 1e308}


def _order_by(sort: Sort) -> str:
    """The expression a sort orders by: a column, or a scorer's score (engine ids hold no quotes: the
    pattern of ``SortKey`` allows none, and doubling them keeps that true here)."""
    if not sort.key.startswith("score:"):
        return personal(f"p.{_SORT_COLUMNS[sort.key]}")
    engine_id = sort.key.removeprefix("score:").replace("'", "''")
    return (
        f"coalesce((SELECT value FROM picture_scores WHERE picture_id = p.id AND engine_id = '{engine_id}'), "
        f"{_UNSCORED_LAST[sort.descending]})"
    )


def _summary(row: Sequence, scored: bool) -> PictureSummary:
    """A page row (summary columns, then the sort value) as a summary; under a score sort, with its score."""
    summary = row_to_summary(row[:-1])
    if scored and abs(row[-1]) < 1e308:
        return msgspec.structs.replace(summary, score=row[-1])
    return summary


def _random_start(seed: int) -> int:
    return int.from_bytes(hashlib.blake2b(str(seed).encode(), digest_size=8).digest(), "big") >> 1


class PictureQuery:
    """Listing and counting over the compiled filter."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.marks = PersonalMarks(db)

    def page(self, f: PictureFilter, sort: Sort, cursor: str | None = None, limit: int = 100) -> Page:
        if not 1 <= limit <= _MAX_PAGE:
            raise BadInput(f"limit must be between 1 and {_MAX_PAGE}")
        compiled = compile_filter(self.db, f, page_size=limit)
        if compiled.empty:
            return Page([], None)
        state = self._decode_cursor(cursor, sort)
        if sort.key == "random":
            return self._random_page(compiled, sort, state, limit)
        if sort.key == "rating" and marking_account() is not None:
            return self._own_rating_page(compiled, sort, state, limit)
        order = _order_by(sort)
        direction = "DESC" if sort.descending else "ASC"
        sql, params = compiled.select(f"{without_marks(SUMMARY_COLUMNS)}, {order}")
        if state is not None:
            sql += f" AND ({order}, p.id) {'<' if sort.descending else '>'} (?, ?)"
            params.extend(state[:2])
        sql += f" ORDER BY {order} {direction}, p.id {direction} LIMIT ?"
        rows = self.db.query(sql, (*params, limit + 1))
        scored = sort.key.startswith("score:")
        return self._page_of(sort, rows, limit, scored)

    def _page_of(self, sort: Sort, rows: list[tuple], limit: int, scored: bool = False) -> Page:
        """A page from its rows (summary columns, then the sort value; one more than ``limit`` if more follow)."""
        items = self.marks.fill([_summary(row, scored) for row in rows[:limit]])
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = self._encode_cursor(sort, last[-1], last[0], 0)
        return Page(items, next_cursor)

    def _own_rating_page(self, compiled: CompiledFilter, sort: Sort, state: list | None, limit: int) -> Page:
        """By the rating of an account with marks of its own: the pictures it rated, walked in rating order
        from its marks' index and checked against the filter a batch at a time, and every other picture as
        unrated, by id. An ``ORDER BY`` over each row's rating would read every visible picture's mark."""
        user_id = marking_account()
        direction, after = ("DESC", "<") if sort.descending else ("ASC", ">")
        rows: list[tuple] = []
        phases = ["rated", "unrated"] if sort.descending else ["unrated", "rated"]
        for phase in phases:
            if phase == "rated":
                rows += self._rated_rows(compiled, user_id, sort.descending, state, limit + 1 - len(rows))  # type: ignore[arg-type]
            else:
                sql, params = compiled.select(f"{without_marks(SUMMARY_COLUMNS)}, 0")
                sql += " AND p.id NOT IN (SELECT picture_id FROM picture_marks WHERE user_id = ? AND rating > 0)"
                params.append(user_id)
                if state is not None:  # resume after the cursor's picture, or skip the phase it is past
                    sql += f" AND (0, p.id) {after} (?, ?)"
                    params.extend(state[:2])
                rows += self.db.query(f"{sql} ORDER BY p.id {direction} LIMIT ?", (*params, limit + 1 - len(rows)))
            if len(rows) > limit:
                break
        return self._page_of(sort, rows, limit)

    def _rated_rows(self, compiled: CompiledFilter, user_id: int, descending: bool, state, wanted: int) -> list:
        direction, after = ("DESC", "<") if descending else ("ASC", ">")
        marks_sql = "SELECT picture_id, rating FROM picture_marks WHERE user_id = ? AND rating > 0"
        position = list(state[:2]) if state is not None else None  # (rating, id) last seen
        rows: list[tuple] = []
        while len(rows) < wanted:
            sql, params = marks_sql, [user_id]
            if position is not None:
                sql += f" AND (rating, picture_id) {after} (?, ?)"
                params += position
            batch = self.db.query(
                f"{sql} ORDER BY rating {direction}, picture_id {direction} LIMIT ?", (*params, _MARK_BATCH)
            )
            if not batch:
                break
            marks = ",".join("?" * len(batch))
            select, select_params = compiled.select(f"{without_marks(SUMMARY_COLUMNS)}, 0")
            found = {
                r[0]: r
                for r in self.db.query(f"{select} AND p.id IN ({marks})", (*select_params, *(b[0] for b in batch)))
            }
            rows += [(*found[pid][:-1], rating) for pid, rating in batch if pid in found]
            position = [batch[-1][1], batch[-1][0]]
        return rows[:wanted]

    def _random_page(self, compiled: CompiledFilter, sort: Sort, state: list | None, limit: int) -> Page:
        """Random order: the ``shuffle`` index read from a seed-chosen point, wrapping around once."""
        start = _random_start(sort.seed)
        phase, after = (0, None) if state is None else (state[2], state[:2])
        items: list[tuple[int, PictureSummary]] = []
        while phase < 2 and len(items) <= limit:
            sql, params = compiled.select(f"p.shuffle, {without_marks(SUMMARY_COLUMNS)}")
            sql += " AND p.shuffle >= ?" if phase == 0 else " AND p.shuffle < ?"
            params.append(start)
            if after is not None:
                sql += " AND (p.shuffle, p.id) > (?, ?)"
                params.extend(after)
            sql += " ORDER BY p.shuffle, p.id LIMIT ?"
            rows = self.db.query(sql, (*params, limit + 1 - len(items)))
            items.extend((phase, (row[0], row_to_summary(row[1:]))) for row in rows)
            if len(items) <= limit:
                phase, after = phase + 1, None
        page = self.marks.fill([summary for _, (_, summary) in items[:limit]])
        next_cursor = None
        if len(items) > limit:
            last_phase, (shuffle, last) = items[limit - 1]
            next_cursor = self._encode_cursor(sort, shuffle, last.id, last_phase)
        return Page(page, next_cursor)

    def layout(self, f: PictureFilter, sort: Sort) -> list[tuple[int, int, int, int]]:
        """Every matching (id, width, height, sort value) in display order: what a grid needs to place any
        picture, so it can jump anywhere without walking cursor pages, and to head it by date or rating."""
        compiled = compile_filter(self.db, f, page_size=1_000_000)
        if compiled.empty:
            return []
        order = _order_by(sort)
        sql, params = compiled.select(
            f"p.id, coalesce(p.shown_width, p.width), coalesce(p.shown_height, p.height), {order}"
        )
        if sort.key == "random":  # the same order as random pages: from the seed's point, wrapping once
            sql += " ORDER BY p.shuffle < ?, p.shuffle, p.id"
            params.append(_random_start(sort.seed))
        else:
            direction = "DESC" if sort.descending else "ASC"
            sql += f" ORDER BY {order} {direction}, p.id {direction}"
        return self.db.query(sql, params)

    def count(self, f: PictureFilter) -> int:
        parts = visible_parts_sql("p") if _counted_from_index(f) else None
        if parts is None:
            compiled = compile_filter(self.db, f, page_size=1_000_000)
            if compiled.empty:
                return 0
            sql, params = compiled.select("count(*)")
            return self.db.scalar(sql, params) or 0
        # A member's count, in parts that are ranges of ``pictures_access``: what one condition would
        # test on every picture is read only where it may see. (Such a filter names no tag nor id: it is
        # never empty.)
        counts = [compile_filter(self.db, f, page_size=1_000_000, visible=part).select("count(*)") for part in parts]
        sql = " + ".join(f"({select})" for select, _ in counts)
        return self.db.scalar(f"SELECT {sql}", [p for _, params in counts for p in params]) or 0

    def ids(self, f: PictureFilter, limit: int | None = None) -> list[int]:
        """Every matching id (bulk operations on "all pictures in this view")."""
        compiled = compile_filter(self.db, f, page_size=1_000_000)
        if compiled.empty:
            return []
        sql, params = compiled.select("p.id")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [row[0] for row in self.db.query(sql, params)]

    @staticmethod
    def _encode_cursor(sort: Sort, value: float, picture_id: int, phase: int) -> str:
        raw = _cursor_encoder.encode([_CURSOR_VERSION, sort.key, sort.descending, sort.seed, value, picture_id, phase])
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def _decode_cursor(cursor: str | None, sort: Sort) -> list | None:
        if not cursor:
            return None
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            version, key, descending, seed, value, picture_id, phase = _cursor_decoder.decode(raw)
        except (ValueError, TypeError, msgspec.DecodeError):
            raise BadInput("the cursor is malformed; start again without one") from None
        if version != _CURSOR_VERSION or (key, descending, seed) != (sort.key, sort.descending, sort.seed):
            raise BadInput("the cursor belongs to another sort order; start again without one")
        if not all(isinstance(v, int) for v in (picture_id, phase)) or not isinstance(value, (int, float)):
            raise BadInput("the cursor is malformed; start again without one")
        return [value, picture_id, phase]
