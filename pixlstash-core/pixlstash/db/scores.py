"""Scores: one number per picture per scorer engine, written by enrichment, read by sorts, range filters,
statistics and the prune view (the lowest of a selection)."""

from __future__ import annotations

from collections.abc import Sequence

from ..domain import PictureFilter
from .database import Database, ids_json
from .query import CompiledFilter, compile_filter

__all__ = ["SCORE_BUCKETS", "ScoreStore"]

SCORE_BUCKETS = 10  # equal-width buckets between a scorer's lowest and highest score in view


class ScoreStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, picture_id: int, engine_id: str, engine_version: str, value: float | None, now: int) -> None:
        """Store a picture's score (None: the scorer found nothing to score; an old score goes)."""
        if value is None:
            self.db.execute(
                "DELETE FROM picture_scores WHERE picture_id = ? AND engine_id = ?", (picture_id, engine_id)
            )
            return
        self.db.execute(
            "INSERT INTO picture_scores(picture_id, engine_id, engine_version, value, created_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET engine_version = excluded.engine_version, "
            "value = excluded.value, created_at = excluded.created_at",
            (picture_id, engine_id, engine_version, float(value), now),
        )

    def values(self, engine_id: str, picture_ids: Sequence[int]) -> dict[int, float]:
        """The scores ``engine_id`` gave these pictures (those it scored)."""
        return dict(
            self.db.query(
                "SELECT picture_id, value FROM picture_scores WHERE engine_id = ? "
                "AND picture_id IN (SELECT value FROM json_each(?))",
                (engine_id, ids_json(picture_ids)),
            )
        )

    def lowest(self, engine_id: str, f: PictureFilter, *, count: int | None, below: float | None) -> list[int]:
        """Of the pictures a filter selects that ``engine_id`` scored, the ``count`` lowest, or those scored
        under ``below`` (both: the lowest ``count`` of those), lowest first; ties go to the older id."""
        compiled = compile_filter(self.db, f, page_size=1_000_000)
        if compiled.empty:
            return []
        sql = (
            f"SELECT p.id FROM {compiled.from_sql} JOIN picture_scores s ON s.picture_id = p.id "
            f"AND s.engine_id = ? WHERE {compiled.where_sql}"
        )
        params = [*compiled.from_params, engine_id, *compiled.where_params]
        if below is not None:
            sql += " AND s.value < ?"
            params.append(below)
        sql += " ORDER BY s.value, p.id"
        if count is not None:
            sql += " LIMIT ?"
            params.append(count)
        return [row[0] for row in self.db.query(sql, params)]

    def histograms(self, compiled: CompiledFilter) -> list[dict[str, object]]:
        """Per scorer with scores among the selected pictures: how many, the lowest and highest, and the
        counts in ``SCORE_BUCKETS`` equal buckets between them."""
        id_sql, params = compiled.select("p.id")
        ranges = self.db.query(
            f"WITH f AS MATERIALIZED ({id_sql}) SELECT s.engine_id, count(*), min(s.value), max(s.value) "
            "FROM f JOIN picture_scores s ON s.picture_id = f.id GROUP BY s.engine_id ORDER BY s.engine_id",
            params,
        )
        found = []
        for engine_id, count, low, high in ranges:
            width = (high - low) / SCORE_BUCKETS or 1.0
            buckets = [0] * SCORE_BUCKETS
            for bucket, n in self.db.query(
                f"WITH f AS ({id_sql}) SELECT min(CAST((s.value - ?) / ? AS INTEGER), ?), count(*) FROM f "
                "JOIN picture_scores s ON s.picture_id = f.id AND s.engine_id = ? GROUP BY 1",
                (*params, low, width, SCORE_BUCKETS - 1, engine_id),
            ):
                buckets[int(bucket)] = n
            found.append({"engine_id": engine_id, "count": count, "low": low, "high": high, "buckets": buckets})
        return found

    def engines(self) -> list[str]:
        """Every scorer that has scores stored (installed or not)."""
        return [r[0] for r in self.db.query("SELECT DISTINCT engine_id FROM picture_scores ORDER BY engine_id")]
