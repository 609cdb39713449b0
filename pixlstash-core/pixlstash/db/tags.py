"""SQL for the tag vocabulary, aliases, tags on pictures and engine predictions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..domain import Tag
from ..errors import BadInput, Conflict, NotFound
from .database import Database
from .names import clean_name
from .pictures import visible_sql

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

    def _counted(self) -> tuple[str, str, list]:
        """(a ``WITH`` clause, the count column, parameters): each tag's live pictures as the account in force
        may see them. For one who does not see everything, the private pictures it may not see are taken off
        the kept count (work in proportion to those pictures, not to the library), and a tag that only such
        pictures carry is left out: its name would tell of them. A tag on no picture at all is vocabulary."""
        hidden, params = visible_sql("p")
        if hidden == "1":
            return "", "t.picture_count", []
        with_sql = (
            "WITH hidden AS (SELECT pt.tag_id, count(*) AS n FROM pictures p JOIN picture_tags pt ON "
            f"pt.picture_id = p.id WHERE p.private = 1 AND p.deleted_at IS NULL AND NOT {hidden} GROUP BY pt.tag_id) "
        )
        return with_sql, "t.picture_count - coalesce((SELECT n FROM hidden WHERE hidden.tag_id = t.id), 0)", params

    def get(self, tag_id: int) -> Tag:
        with_sql, count, params = self._counted()
        row = self.db.connection.execute(
            f"{with_sql}SELECT * FROM (SELECT t.id, t.name, t.category, {count} AS shown, t.picture_count AS kept "
            "FROM tags t WHERE t.id = ?) WHERE shown > 0 OR kept = 0",
            (*params, tag_id),
        ).fetchone()
        row = row[:4] if row is not None else None
        if row is None:
            raise NotFound(f"tag {tag_id} does not exist")
        aliases = [
            r[0] for r in self.db.query("SELECT alias FROM tag_aliases WHERE tag_id = ? ORDER BY alias", (tag_id,))
        ]
        return Tag(*row, aliases=aliases)

    def vocabulary(
        self, prefix: str = "", category: str | None = None, limit: int = 100, after: str | None = None
    ) -> list[Tag]:
        """Tags by name (prefix search for autocomplete), most used first when searching."""
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
        order = "shown DESC, name" if prefix else "name"
        with_sql, count, counted_params = self._counted()
        rows = self.db.query(
            f"{with_sql}SELECT id, name, category, shown FROM (SELECT t.id, t.name, t.category, {count} AS shown, "
            f"t.picture_count AS kept FROM tags t {where}) WHERE shown > 0 OR kept = 0 ORDER BY {order} LIMIT ?",
            (*counted_params, *params, limit),
        )
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
            row = self.db.connection.execute(
                "SELECT engine_id, confidence FROM predictions WHERE picture_id = ? AND tag_id = ? "
                "ORDER BY confidence DESC LIMIT 1",
                (picture_id, tag_id),
            ).fetchone()
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
