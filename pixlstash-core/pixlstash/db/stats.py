"""Statistics for whatever a filter selects: counts, tags with confidence histograms, ratings, sizes.

The whole live library is answered from counters the triggers keep (``tags.picture_count``,
``tag_stats``) plus one pass over the pictures table; a narrower filter is computed over its rows.
"""

from __future__ import annotations

import itertools

from ..domain import PictureFilter, Statistics
from .database import Database
from .personal_marks import marking_account, personal
from .query import compile_filter
from .scores import ScoreStore
from .visibility import visible_sql

__all__ = ["FILE_SIZE_BUCKETS", "RESOLUTION_BUCKETS", "statistics"]

FILE_SIZE_BUCKETS = [100_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 50_000_000]  # bytes
RESOLUTION_BUCKETS = [0.5, 1, 2, 4, 8, 16, 32]  # megapixels
_UNFILTERED = PictureFilter()


def _bucket_case(column: str, bounds: list[float]) -> str:
    cases = " ".join(f"WHEN {column} <= {b} THEN {i}" for i, b in enumerate(bounds))
    return f"CASE {cases} ELSE {len(bounds)} END"


def _histogram(rows: list[tuple], bounds: list[float], label: str) -> list[dict[str, object]]:
    counts = dict(rows)
    return [{label: bounds[i] if i < len(bounds) else None, "count": counts.get(i, 0)} for i in range(len(bounds) + 1)]


def _whole_library_rows(db: Database) -> list[tuple]:
    """The same figures for the whole live library, each from a covering index (no table scan)."""
    rows = [
        ("r", r, n, 0)
        for r, n in db.query("SELECT rating, count(*) FROM pictures WHERE deleted_at IS NULL GROUP BY rating")
    ]
    for kind, column, bounds, scale in (
        ("s", "file_size", FILE_SIZE_BUCKETS, 1),
        ("x", "pixels", RESOLUTION_BUCKETS, 1_000_000),
    ):
        edges = [-1, *(int(b * scale) for b in bounds), 1 << 62]
        for bucket, (low, high) in enumerate(itertools.pairwise(edges)):
            n, total = db.query(
                f"SELECT count(*), coalesce(sum({column}), 0) FROM pictures "
                f"WHERE deleted_at IS NULL AND {column} > ? AND {column} <= ?",
                (low, high),
            )[0]
            rows.append((kind, bucket, n, 0))
            if kind == "s":
                rows.append(("b", bucket, 0, total))
    rows += [
        ("m", m, n, 0)
        for m, n in db.query("SELECT media_type, count(*) FROM pictures WHERE deleted_at IS NULL GROUP BY media_type")
    ]
    return rows


def statistics(db: Database, f: PictureFilter, top_tags: int = 50) -> Statistics:
    compiled = compile_filter(db, f, page_size=1_000_000)
    if compiled.empty:
        return Statistics(
            0,
            0,
            {},
            [],
            _histogram([], FILE_SIZE_BUCKETS, "max_bytes"),
            _histogram([], RESOLUTION_BUCKETS, "max_megapixels"),
            {},
        )
    # The whole library's figures come from indexes kept up to date, when they are what the caller may see
    # (every picture) with the marks in force (the picture's own).
    whole = f == _UNFILTERED and visible_sql()[0] == "1" and marking_account() is None
    if whole:
        rows = _whole_library_rows(db)
    else:
        base_sql, params = compiled.select(personal("p.id, p.rating AS rating, p.file_size, p.pixels, p.media_type"))
        size_case = _bucket_case("file_size", FILE_SIZE_BUCKETS)
        mp_case = _bucket_case("pixels / 1000000.0", RESOLUTION_BUCKETS)
        # One pass over the selected rows (materialised once) for every per-picture figure.
        rows = db.query(
            f"WITH f AS MATERIALIZED ({base_sql}) SELECT 'r', rating, count(*), sum(file_size) FROM f GROUP BY rating "
            f"UNION ALL SELECT 's', {size_case}, count(*), 0 FROM f GROUP BY 2 "
            f"UNION ALL SELECT 'x', {mp_case}, count(*), 0 FROM f GROUP BY 2 "
            f"UNION ALL SELECT 'm', media_type, count(*), 0 FROM f GROUP BY 2",
            params,
        )
    rating = {int(k): n for kind, k, n, _ in rows if kind == "r"}
    total_bytes = sum(b for kind, _, _, b in rows if kind in ("r", "b"))
    media = {str(k): n for kind, k, n, _ in rows if kind == "m"}
    count = sum(rating.values())

    if whole:
        tag_rows = db.query(
            "SELECT t.id, t.name, t.category, t.picture_count FROM tags t WHERE t.picture_count > 0 "
            "ORDER BY t.picture_count DESC LIMIT ?",
            (top_tags,),
        )
        histogram_rows = (
            db.query(
                f"SELECT tag_id, bucket, n FROM tag_stats WHERE tag_id IN ({','.join('?' * len(tag_rows))})",
                [r[0] for r in tag_rows],
            )
            if tag_rows
            else []
        )
    else:
        id_sql, id_params = compiled.select("p.id")
        tag_rows = db.query(
            f"WITH f AS ({id_sql}) SELECT t.id, t.name, t.category, count(*) AS n FROM f "
            "JOIN picture_tags pt ON pt.picture_id = f.id JOIN tags t ON t.id = pt.tag_id "
            "GROUP BY t.id ORDER BY n DESC LIMIT ?",
            (*id_params, top_tags),
        )
        histogram_rows = (
            db.query(
                f"WITH f AS ({id_sql}) SELECT pt.tag_id, coalesce(min(CAST(pt.confidence * 10 AS INTEGER), 9), 10), "
                f"count(*) FROM f JOIN picture_tags pt ON pt.picture_id = f.id "
                f"WHERE pt.tag_id IN ({','.join('?' * len(tag_rows))}) GROUP BY 1, 2",
                (*id_params, *[r[0] for r in tag_rows]),
            )
            if tag_rows
            else []
        )
    histograms: dict[int, list[int]] = {r[0]: [0] * 11 for r in tag_rows}
    for tag_id, bucket, n in histogram_rows:
        histograms[tag_id][int(bucket)] += n
    tags = [
        {
            "id": tag_id,
            "name": name,
            "category": category,
            "count": n,
            "confidence": histograms[tag_id][:10],
            "no_confidence": histograms[tag_id][10],
        }
        for tag_id, name, category, n in tag_rows
    ]
    return Statistics(
        count=count,
        total_bytes=total_bytes or 0,
        rating={r: rating.get(r, 0) for r in range(6)},
        tags=tags,
        file_size=_histogram([(k, n) for kind, k, n, _ in rows if kind == "s"], FILE_SIZE_BUCKETS, "max_bytes"),
        resolution=_histogram([(k, n) for kind, k, n, _ in rows if kind == "x"], RESOLUTION_BUCKETS, "max_megapixels"),
        media_type=media,
        scores=ScoreStore(db).histograms(compiled),
    )
