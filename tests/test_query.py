"""The query builder against a brute-force reference on a synthetic library, both planning paths."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from pixlstash.db import query as query_module
from pixlstash.domain import PictureFilter, Sort
from pixlstash.errors import BadInput
from pixlstash.library import Library

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from synthetic_library import build


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic") / "lib"
    build(root, pictures=3000, tags_per_picture=6, sets=30, characters=10, seed=7, log=lambda *_: None)
    lib = Library.open(root)
    rows = lib.db.query(
        "SELECT id, taken_at, imported_at, rating, file_size, pixels, shuffle, media_type, width, height FROM pictures"
    )
    tags: dict[int, set[str]] = {}
    for pid, name in lib.db.query("SELECT pt.picture_id, t.name FROM picture_tags pt JOIN tags t ON t.id = pt.tag_id"):
        tags.setdefault(pid, set()).add(name)
    members: dict[int, set[int]] = {}
    for cid, pid in lib.db.query("SELECT collection_id, picture_id FROM collection_members"):
        members.setdefault(cid, set()).add(pid)
    yield lib, {r[0]: r for r in rows}, tags, members
    lib.close()


def walk_all(lib, f: PictureFilter, sort: Sort, limit: int) -> list[int]:
    ids, cursor = [], None
    while True:
        page = lib.page(f, sort, cursor, limit)
        ids.extend(p.id for p in page.items)
        cursor = page.next_cursor
        if cursor is None:
            return ids


COLUMN = {"taken_at": 1, "imported_at": 2, "rating": 3, "file_size": 4, "pixels": 5}


def reference(rows, tags, members, keep, key: str, descending: bool) -> list[int]:
    chosen = [r for r in rows.values() if keep(r[0])]
    chosen.sort(key=lambda r: (r[COLUMN[key]], r[0]), reverse=descending)
    return [r[0] for r in chosen]


def common_tag(tags) -> str:
    counts: dict[str, int] = {}
    for names in tags.values():
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    return max(counts, key=counts.get)


@pytest.mark.parametrize("key", ["taken_at", "imported_at", "rating", "file_size", "pixels"])
@pytest.mark.parametrize("descending", [True, False])
def test_keyset_pages_equal_a_full_sort(synthetic, key, descending):
    lib, rows, tags, members = synthetic
    got = walk_all(lib, PictureFilter(), Sort(key=key, descending=descending), 333)
    assert got == reference(rows, tags, members, lambda _: True, key, descending)


@pytest.mark.parametrize("force", ["walk", "drive"])
def test_filters_match_the_reference_on_both_planning_paths(synthetic, monkeypatch, force):
    lib, rows, tags, members = synthetic
    # Make the planner take one path whatever the counts say.
    original = query_module.compile_filter

    def forced(db, f, *, page_size=100):
        return original(db, f, page_size=10**12 if force == "drive" else 0)

    monkeypatch.setattr(query_module, "compile_filter", forced)
    common = common_tag(tags)
    rare = sorted({n for names in tags.values() for n in names})[-1]
    s1, s2, s3 = sorted(members)[:3]
    cases = [
        (PictureFilter(tags=[common]), lambda i: common in tags.get(i, ())),
        (PictureFilter(tags=[rare]), lambda i: rare in tags.get(i, ())),
        (PictureFilter(tags=[common], rating_min=3), lambda i: common in tags.get(i, ()) and rows[i][3] >= 3),
        (PictureFilter(any_tags=[common, rare]), lambda i: bool({common, rare} & tags.get(i, set()))),
        (PictureFilter(not_tags=[common], unrated=True), lambda i: common not in tags.get(i, ()) and rows[i][3] == 0),
        # Unrated (0) is not "at most two stars"; asked for beside rating_max, it is added.
        (PictureFilter(rating_max=2), lambda i: 1 <= rows[i][3] <= 2),
        (PictureFilter(rating_max=2, unrated=True), lambda i: rows[i][3] <= 2),
        (PictureFilter(rating_max=2, unrated=False), lambda i: 1 <= rows[i][3] <= 2),
        (PictureFilter(collections=[s1, s2], collection_op="overlap"), lambda i: i in members[s1] & members[s2]),
        (PictureFilter(collections=[s1, s2], collection_op="union"), lambda i: i in members[s1] | members[s2]),
        (
            PictureFilter(collections=[s1, s2, s3], collection_op="difference"),
            lambda i: i in members[s1] - members[s2] - members[s3],
        ),
        (PictureFilter(collections=[s1, s2], collection_op="unique"), lambda i: i in members[s1] ^ members[s2]),
        (PictureFilter(ids=[5, 17, 99, 2500]), lambda i: i in {5, 17, 99, 2500}),
        (PictureFilter(media_type="video"), lambda i: rows[i][7] == "video"),
        (PictureFilter(min_width=2048, max_height=2000), lambda i: rows[i][8] >= 2048 and rows[i][9] <= 2000),
        (
            PictureFilter(taken_after=rows[10][1], taken_before=rows[10][1] + 86_400_000 * 400),
            lambda i: rows[10][1] <= rows[i][1] < rows[10][1] + 86_400_000 * 400,
        ),
    ]
    for f, keep in cases:
        for key in ("taken_at", "rating"):
            expected = reference(rows, tags, members, keep, key, True)
            assert walk_all(lib, f, Sort(key=key), 97) == expected, (f, key)
            assert lib.count(f) == len(expected), f


def test_random_sort_is_a_seeded_permutation(synthetic):
    lib, rows, _, _ = synthetic
    first = walk_all(lib, PictureFilter(), Sort(key="random", seed=1), 250)
    assert sorted(first) == sorted(rows)
    assert walk_all(lib, PictureFilter(), Sort(key="random", seed=1), 77) == first  # page size does not matter
    assert walk_all(lib, PictureFilter(), Sort(key="random", seed=2), 250) != first
    common = common_tag(synthetic[2])
    subset = walk_all(lib, PictureFilter(tags=[common]), Sort(key="random", seed=3), 40)
    assert sorted(subset) == sorted(i for i, names in synthetic[2].items() if common in names)


def test_cursor_errors(synthetic):
    lib = synthetic[0]
    page = lib.page(PictureFilter(), Sort(), None, 10)
    with pytest.raises(BadInput, match="another sort order"):
        lib.page(PictureFilter(), Sort(key="rating"), page.next_cursor, 10)
    with pytest.raises(BadInput, match="malformed"):
        lib.page(PictureFilter(), Sort(), "!!!not-a-cursor", 10)
    with pytest.raises(BadInput, match="limit"):
        lib.page(PictureFilter(), Sort(), None, 0)
    with pytest.raises(BadInput):
        lib.page(PictureFilter(text="   "), Sort(), None, 10)


def test_statistics_match_counts(synthetic):
    lib, rows, tags, _ = synthetic
    stats = lib.statistics()
    assert stats.count == len(rows)
    assert sum(stats.rating.values()) == len(rows)
    assert stats.rating[5] == sum(1 for r in rows.values() if r[3] == 5)
    assert sum(b["count"] for b in stats.file_size) == len(rows)
    top = stats.tags[0]
    assert top["count"] == sum(1 for names in tags.values() if top["name"] in names)
    assert sum(top["confidence"]) + top["no_confidence"] == top["count"]
    filtered = lib.statistics(PictureFilter(rating_min=4))
    assert filtered.count == sum(1 for r in rows.values() if r[3] >= 4)
    assert set(filtered.rating) == set(range(6)) and filtered.rating[0] == 0
    random_tag = random.Random(1).choice(filtered.tags)
    expected = sum(1 for i, r in rows.items() if r[3] >= 4 and random_tag["name"] in tags.get(i, ()))
    assert random_tag["count"] == expected
