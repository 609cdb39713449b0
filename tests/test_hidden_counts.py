"""The counts an account sees leave out the pictures it may not see (issue 62): a tag's count in the
suggestions, a set's and a project's count, taken off through the small index of private pictures (schema
26), and the grid's count, read in two parts (shared, then private: schema 27). Here on a real library, each
person's numbers against what they may see, counted by hand and as the grid's pages list them."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import photo

from pixlstash.domain import PictureFilter, Sort
from pixlstash.library import Library
from pixlstash.pictures.visibility import Audience, seen_by
from pixlstash.plugins import make_plugin_manager

BOB, CAROL, DAVE = 2, 3, 4  # members; account 1 is the owner


@pytest.fixture(scope="module")
def library_template(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    """Six pictures tagged "dusk", in one set and one project: two shared, bob's private one, bob's private
    one in the scrapheap, carol's private one that dave holds too, and dave's private one, stacked under the
    second shared one."""
    root, folder = tmp_path_factory.mktemp("hidden") / "library", tmp_path_factory.mktemp("files")
    whose = {"shared-a": None, "shared-b": None, "bob": BOB, "bob-scrapped": BOB, "carol": CAROL, "dave": DAVE}
    with Library.open(root, plugin_manager=make_plugin_manager(load_entry_points=False)) as library:
        ids = {}
        for n, (name, owner) in enumerate(whose.items()):
            photo(40 + n, 30, seed=900 + n).save(folder / f"{name}.png")
            report = library.import_paths([folder / f"{name}.png"], owner_id=owner, private=owner is not None)
            ids[name] = report.imported[0].picture_id
        every = list(ids.values())
        library.edits.tag(every, add=["dusk"])
        chosen = library.edits.create_collection("set", "evening")
        library.edits.add_members(chosen.id, every)
        project = library.edits.create_project("harbour")
        library.edits.add_to_project(project.id, every)
        library.pictures.visibility.add_holders(DAVE, [ids["carol"]], 0)
        library.edits.scrap([ids["bob-scrapped"]])
        library.stacks.stack([ids["shared-b"], ids["dave"]], cover_id=ids["shared-b"])
        ids["set"], ids["project"] = chosen.id, project.id
    return root, ids


@pytest.mark.parametrize(
    "audience, live, everything",
    [
        (Audience(1, sees_all=True, is_owner=True), 5, 6),
        (Audience(BOB, sees_all=False), 3, 4),  # the shared two and bob's own (one of them scrapped)
        (Audience(CAROL, sees_all=False), 3, 3),
        (Audience(DAVE, sees_all=False), 4, 4),  # carol's too: dave holds it
    ],
    ids=["owner", "bob", "carol", "dave"],
)
def test_each_person_counts_what_they_may_see(library, library_template, audience, live, everything):
    ids = library_template[1]
    with seen_by(audience):
        assert library.count(PictureFilter(tags=["dusk"])) == live  # the grid's own count, to compare with
        (dusk,) = [tag for tag in library.tags.vocabulary("du") if tag.name == "dusk"]
        assert dusk.picture_count == live
        assert library.tags.get(dusk.id).picture_count == live
        (chosen,) = [c for c in library.collections.collections("set") if c.id == ids["set"]]
        assert chosen.member_count == live
        assert library.collections.project(ids["project"]).picture_count == everything


@pytest.mark.parametrize(
    "audience, live",
    [
        (Audience(1, sees_all=True, is_owner=True), 5),
        (Audience(BOB, sees_all=False), 3),
        (Audience(DAVE, sees_all=False), 4),
    ],
    ids=["owner", "bob", "dave"],
)
def test_each_person_counts_the_library_as_its_pages_list_it(library, audience, live):
    views = [
        PictureFilter(),
        PictureFilter(stack_covers=True),
        PictureFilter(scrapheap=True),
        PictureFilter(private=True),
        PictureFilter(mine=True),
        PictureFilter(mine=False, stack_covers=True),
        PictureFilter(media_type="image", unrated=True),
    ]
    with seen_by(audience):
        assert library.count() == live
        for view in views:
            listed = [summary.id for summary in library.page(view, limit=100).items]
            assert library.count(view) == len(listed), view


def test_no_page_is_drawn_to_the_count_index_in_a_library_without_statistics(library):
    """A library just made or upgraded has no planner statistics, and SQLite then takes any equality on an
    index's first column as selective: a page (by date, or filtered to private pictures) must still walk its
    sort index, never read ``pictures_access`` and sort every picture. The count reads that index."""
    library.db.execute("DELETE FROM sqlite_stat1")
    library.db.execute("ANALYZE sqlite_schema")  # the planner forgets what it read
    statements: list[tuple[str, tuple]] = []

    def traced(call) -> list[str]:
        statements.clear()
        library.db.connection.exec_trace = lambda _cursor, sql, bindings: statements.append((sql, bindings)) or True
        try:
            call()
        finally:
            library.db.connection.exec_trace = None
        return [
            row[-1]
            for sql, bindings in statements
            if "FROM pictures p" in sql
            for row in library.db.query(f"EXPLAIN QUERY PLAN {sql}", bindings or ())
        ]

    for audience in (Audience(1, sees_all=True, is_owner=True), Audience(BOB, sees_all=False)):
        with seen_by(audience):
            for view in (PictureFilter(stack_covers=True), PictureFilter(private=True)):
                plan = traced(lambda view=view: library.page(view, Sort("taken_at")))
                assert any("pictures_taken" in step for step in plan), plan
                assert not any("pictures_access" in step or "TEMP B-TREE" in step for step in plan), plan
            plan = traced(lambda: library.count(PictureFilter(stack_covers=True)))
            assert any("COVERING INDEX pictures_access" in step for step in plan), plan
