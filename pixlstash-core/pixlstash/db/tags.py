"""SQL for the tag vocabulary, aliases, tags on pictures and engine predictions."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from ..domain import Tag
from ..errors import BadInput, Conflict, NotFound
from .database import Database
from .names import clean_name
from .visibility import visible_sql

__all__ = ["TAG_CATEGORIES", "TagStore", "normalise_tag"]

TAG_CATEGORIES = ("general", "character", "artist", "copyright", "rating", "meta", "style")
_MAX_TAG_LENGTH = 200


def normalise_tag(name: str) -> str:
    """Tags are trimmed, inner whitespace collapsed; case is kept but compared case-insensitively."""
    return clean_name(name, "a tag", _MAX_TAG_LENGTH)


class TagStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- vocabulary -----------------------------------------------------------------------------

    def resolve(self, name: str) -> int | None:
        """The id of a tag by name or alias, or None."""
        name = normalise_tag(name)
        found = self.db.scalar("SELECT id FROM tags WHERE name = ?", (name,))
        if found is None:
            found = self.db.scalar("SELECT tag_id FROM tag_aliases WHERE alias = ?", (name,))
        return found

    def ensure(self, name: str, category: str = "general") -> int:
        """The id of a tag, created in ``category`` when new (inside the caller's write transaction)."""
        found = self.resolve(name)
        if found is not None:
            return found
        if category not in TAG_CATEGORIES:
            raise BadInput(f"unknown tag category {category!r} (one of {', '.join(TAG_CATEGORIES)})")
        return self.db.query(
            "INSERT INTO tags(name, category) VALUES (?, ?) RETURNING id", (normalise_tag(name), category)
        )[0][0]

    def _hidden_counts(self, tag_ids: Sequence[int]) -> dict[int, int] | None:
        """For an account that does not see everything: how many live pictures it may not see carry each tag
        (None for one that sees everything). Work in proportion to those tags' pictures, each a probe of
        the small index of private pictures, which holds all the check reads (the pictures' rows would be
        a read of a large row each: 10x slower at 100,000 pictures)."""
        hidden, params = visible_sql("p")
        if hidden == "1":
            return None
        if not tag_ids:
            return {}
        return dict(
            self.db.query(
                "SELECT pt.tag_id, count(*) FROM picture_tags pt "
                "JOIN pictures p INDEXED BY pictures_private ON p.id = pt.picture_id "
                f"WHERE pt.tag_id IN (SELECT value FROM json_each(?)) AND p.private = 1 AND p.deleted_at IS NULL "
                f"AND NOT {hidden} GROUP BY pt.tag_id",
                (json.dumps(list(tag_ids)), *params),
            )
        )

    def _as_seen(self, rows: list, limit: int, by_count: bool) -> list:
        """``rows`` (id, name, category, count) with the counts the account in force may see; a tag that only
        pictures it may not see carry is left out (its name would tell of them). A tag on no picture is
        vocabulary, seen by all."""
        hidden = self._hidden_counts([r[0] for r in rows])
        if hidden is None:
            return rows[:limit]
        seen = [(r[0], r[1], r[2], r[3] - hidden.get(r[0], 0)) for r in rows]
        seen = [row for row, kept in zip(seen, rows, strict=True) if row[3] > 0 or kept[3] == 0]
        if by_count:
            seen.sort(key=lambda row: (-row[3], row[1]))
        return seen[:limit]

    def get(self, tag_id: int) -> Tag:
        rows = self.db.query("SELECT id, name, category, picture_count FROM tags WHERE id = ?", (tag_id,))
        rows = self._as_seen(rows, 1, False)
        if not rows:
            raise NotFound(f"tag {tag_id} does not exist")
        aliases = [
            r[0] for r in self.db.query("SELECT alias FROM tag_aliases WHERE tag_id = ? ORDER BY alias", (tag_id,))
        ]
        return Tag(*rows[0], aliases=aliases)

    def vocabulary(
        self, prefix: str = "", category: str | None = None, limit: int = 100, after: str | None = None
    ) -> list[Tag]:
        """Tags by name (prefix search for autocomplete), most used first when searching. For an account that
        does not see every picture, twice as many candidates as asked (and 20 more) are counted again as it
        sees them, so a page may hold fewer tags than asked when many are hidden."""
        conditions, params = [], []
        if prefix:
            conditions.append("name LIKE ? ESCAPE '\\'")
            params.append(prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        if category:
            conditions.append("category = ?")
            params.append(category)
        if after:
            conditions.append("name > ?")
            params.append(after)
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        order = "picture_count DESC, name" if prefix else "name"
        candidates = limit if visible_sql("p")[0] == "1" else limit * 2 + 20
        rows = self.db.query(
            f"SELECT id, name, category, picture_count FROM tags {where} ORDER BY {order} LIMIT ?",
            (*params, candidates),
        )
        rows = self._as_seen(rows, limit, bool(prefix))
        aliases: dict[int, list[str]] = {}
        if rows:
            marks = ",".join("?" * len(rows))
            for alias, tag_id in self.db.query(
                f"SELECT alias, tag_id FROM tag_aliases WHERE tag_id IN ({marks})", [r[0] for r in rows]
            ):
                aliases.setdefault(tag_id, []).append(alias)
        return [Tag(*row, aliases=sorted(aliases.get(row[0], []))) for row in rows]

    def update(self, tag_id: int, *, name: str | None = None, category: str | None = None) -> None:
        self.get(tag_id)
        if category is not None:
            if category not in TAG_CATEGORIES:
                raise BadInput(f"unknown tag category {category!r}")
            self.db.execute("UPDATE tags SET category = ? WHERE id = ?", (category, tag_id))
        if name is not None:
            name = normalise_tag(name)
            other = self.resolve(name)
            if other is not None and other != tag_id:
                raise Conflict(f"a tag named {name!r} already exists; merge the tags instead", tag_id=other)
            self.db.execute("UPDATE tags SET name = ? WHERE id = ?", (name, tag_id))

    def add_alias(self, tag_id: int, alias: str) -> None:
        alias = normalise_tag(alias)
        self.get(tag_id)
        existing = self.resolve(alias)
        if existing is not None and existing != tag_id:
            raise Conflict(f"{alias!r} already names tag {existing}")
        if existing is None:
            self.db.execute("INSERT INTO tag_aliases(alias, tag_id) VALUES (?, ?)", (alias, tag_id))

    def merge(self, source_id: int, target_id: int) -> None:
        """Fold tag ``source_id`` into ``target_id``: its pictures, predictions and name (as an alias)."""
        if source_id == target_id:
            return
        source, _ = self.get(source_id), self.get(target_id)
        self.db.execute(
            "INSERT OR IGNORE INTO picture_tags(tag_id, picture_id, source, confidence) "
            "SELECT ?, picture_id, source, confidence FROM picture_tags WHERE tag_id = ?",
            (target_id, source_id),
        )
        self.db.execute(
            "INSERT OR IGNORE INTO predictions(picture_id, engine_id, tag_id, engine_version, confidence, state) "
            "SELECT picture_id, engine_id, ?, engine_version, confidence, state FROM predictions WHERE tag_id = ?",
            (target_id, source_id),
        )
        self.db.execute("UPDATE tag_aliases SET tag_id = ? WHERE tag_id = ?", (target_id, source_id))
        self.db.execute("DELETE FROM picture_tags WHERE tag_id = ?", (source_id,))
        self.db.execute("DELETE FROM tags WHERE id = ?", (source_id,))
        self.db.execute("INSERT OR IGNORE INTO tag_aliases(alias, tag_id) VALUES (?, ?)", (source.name, target_id))

    def delete(self, tag_id: int) -> None:
        self.get(tag_id)
        self.db.execute("DELETE FROM picture_tags WHERE tag_id = ?", (tag_id,))
        self.db.execute("DELETE FROM tags WHERE id = ?", (tag_id,))

    # -- tags on pictures -----------------------------------------------------------------------

    def add_to_pictures(
        self, picture_ids: Sequence[int], tag_ids: Iterable[int], source: str = "user", confidence: float | None = None
    ) -> None:
        for tag_id in tag_ids:
            self.db.connection.executemany(
                "INSERT INTO picture_tags(tag_id, picture_id, source, confidence) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                [(tag_id, pid, source, confidence) for pid in picture_ids],
            )

    def from_source(self, picture_id: int, source: str) -> list[int]:
        """The ids of the picture's tags that came from ``source``."""
        return [
            tid for (tid,) in self.db.query(
                "SELECT tag_id FROM picture_tags WHERE picture_id = ? AND source = ?", (picture_id, source)
            )
        ]  # fmt: skip

    def remove_from_pictures(self, picture_ids: Sequence[int], tag_ids: Iterable[int]) -> None:
        for tag_id in tag_ids:
            self.db.connection.executemany(
                "DELETE FROM picture_tags WHERE tag_id = ? AND picture_id = ?", [(tag_id, pid) for pid in picture_ids]
            )

    # -- predictions ----------------------------------------------------------------------------

    def set_predictions(
        self, picture_id: int, engine_id: str, engine_version: str, scores: Sequence[tuple[int, float]]
    ) -> None:
        """Replace an engine's pending predictions for a picture; rejected ones stay rejected."""
        self.db.execute(
            "DELETE FROM predictions WHERE picture_id = ? AND engine_id = ? AND state = 'pending'",
            (picture_id, engine_id),
        )
        self.db.connection.executemany(
            "INSERT INTO predictions(picture_id, engine_id, tag_id, engine_version, confidence) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET engine_version = excluded.engine_version, "
            "confidence = excluded.confidence",
            [(picture_id, engine_id, tag_id, engine_version, score) for tag_id, score in scores],
        )

    def accept_predictions(self, picture_id: int, tag_ids: Sequence[int]) -> int:
        """Move predictions into the picture's tags (source: the engine, with its confidence)."""
        accepted = 0
        for tag_id in tag_ids:
            row = self.db.row(
                "SELECT engine_id, confidence FROM predictions WHERE picture_id = ? AND tag_id = ? "
                "ORDER BY confidence DESC LIMIT 1",
                (picture_id, tag_id),
            )
            if row is None:
                continue
            self.db.execute(
                "INSERT INTO picture_tags(tag_id, picture_id, source, confidence) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (tag_id, picture_id, row[0], row[1]),
            )
            self.db.execute("DELETE FROM predictions WHERE picture_id = ? AND tag_id = ?", (picture_id, tag_id))
            accepted += 1
        return accepted

    def reject_predictions(self, picture_id: int, tag_ids: Sequence[int]) -> int:
        rejected = 0
        for tag_id in tag_ids:
            self.db.execute(
                "UPDATE predictions SET state = 'rejected' WHERE picture_id = ? AND tag_id = ?", (picture_id, tag_id)
            )
            rejected += self.db.connection.changes()
        return rejected
