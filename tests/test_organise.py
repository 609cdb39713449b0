"""Tags, ratings, captions, predictions, projects, characters, sets and the scrapheap."""

from __future__ import annotations

import pytest
from corpus import photo

from pixlstash.domain import PictureFilter
from pixlstash.errors import BadInput, Conflict, NotFound


@pytest.fixture
def pictures(library, tmp_path):
    """Eight imported pictures; returns their ids in import order."""
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(8):
        photo(100 + n, 80, seed=n).save(folder / f"{n}.png")
    report = library.import_paths([folder])
    return sorted(i.picture_id for i in report.imported)


def ids_of(library, **filters) -> set[int]:
    return {p.id for p in library.page(PictureFilter(**filters), limit=1000).items}


def test_tags_vocabulary_aliases_and_merge(library, pictures):
    a, b, c = pictures[:3]
    library.edits.tag([a, b], add=["Red Fox", "snow"])
    library.edits.tag([c], add=["red fox"])  # same tag, case-insensitive
    fox = library.tags.resolve("RED FOX")
    assert library.tags.get(fox).picture_count == 3
    library.edits.alias_tag(fox, "vulpes")
    assert ids_of(library, tags=["vulpes"]) == {a, b, c}
    snow = library.tags.resolve("snow")
    library.edits.merge_tags(snow, fox)
    assert library.tags.resolve("snow") == fox  # the merged name lives on as an alias
    assert library.tags.get(fox).picture_count == 3
    library.edits.tag([a], remove=["red fox"])
    assert ids_of(library, tags=["red fox"]) == {b, c}
    assert [t.name for t in library.tags.vocabulary(prefix="re")] == ["Red Fox"]
    with pytest.raises(BadInput):
        library.edits.tag([a], add=["   "])
    library.edits.rename_tag(fox, category="character")
    assert library.get(b).tags[0].category == "character"


def test_unknown_tag_filter_matches_nothing(library, pictures):
    assert ids_of(library, tags=["never-used"]) == set()
    assert library.count(PictureFilter(tags=["never-used"])) == 0
    assert ids_of(library, not_tags=["never-used"]) == set(pictures)


def test_rating_flags_and_caption(library, pictures):
    a, b = pictures[:2]
    assert library.edits.set_fields([a, b], rating=4, favourite=True) == 2
    library.edits.set_fields([b], rating=2)
    assert ids_of(library, rating_min=3) == {a}
    assert ids_of(library, favourite=True) == {a, b}
    assert len(ids_of(library, unrated=True)) == len(pictures) - 2
    with pytest.raises(BadInput):
        library.edits.set_fields([a], rating=6)
    with pytest.raises(BadInput):
        library.edits.set_fields([a], content_hash="x")
    with pytest.raises(NotFound):
        library.edits.set_fields([999999], rating=1)
    library.edits.caption(a, "An orange cat asleep on the keyboard")
    assert library.get(a).captions[0].text == "An orange cat asleep on the keyboard"
    assert ids_of(library, text="keyboard") == {a}
    library.edits.caption(a, None)
    assert library.get(a).captions == [] and ids_of(library, text="keyboard") == set()


def test_predictions_stay_apart_until_accepted(library, pictures):
    a = pictures[0]
    with library.db.write():
        library.tags.set_predictions(
            a, "fake/tagger", "1", [(library.tags.ensure("cat"), 0.91), (library.tags.ensure("dog"), 0.40)]
        )
    picture = library.get(a)
    assert picture.tags == [] and {p.name for p in picture.predictions} == {"cat", "dog"}
    assert ids_of(library, tags=["cat"]) == set()
    library.edits.review_predictions(a, accept=["cat"], reject=["dog"])
    picture = library.get(a)
    assert [(t.name, t.source, t.confidence) for t in picture.tags] == [("cat", "fake/tagger", 0.91)]
    assert [(p.name, p.state) for p in picture.predictions] == [("dog", "rejected")]
    with library.db.write():  # a re-run proposes again only what was not rejected
        library.tags.set_predictions(a, "fake/tagger", "2", [(library.tags.resolve("dog"), 0.5)])
    assert [(p.name, p.state) for p in library.get(a).predictions] == [("dog", "rejected")]
    stats = library.statistics()
    cat = next(t for t in stats.tags if t["name"] == "cat")
    assert cat["confidence"][9] == 1 and cat["count"] == 1


def test_projects_characters_sets_and_reference_aware_moves(library, pictures):
    p1, p2, p3, p4 = pictures[:4]
    org = library.organise
    alpha, beta = org.create_project("Alpha", color="#ff0000"), org.create_project("Beta")
    with pytest.raises(Conflict):
        org.create_project("alpha")
    with pytest.raises(BadInput):
        org.create_project("Gamma", color="red")
    hero = org.create_collection("character", "Hero", alpha.id)
    shots = org.create_collection("set", "Best shots", alpha.id)
    org.add_members(hero.id, [p1, p2])
    org.add_members(shots.id, [p2, p3])
    org.add_to_project(alpha.id, [p4])
    assert ids_of(library, project=alpha.id) == {p1, p2, p3, p4}
    assert library.organise.store.collection(hero.id).member_count == 2
    # Moving Hero to Beta: p1 leaves Alpha; p2 stays (still in Best shots), p4 is a direct member.
    org.move_collection(hero.id, beta.id)
    assert ids_of(library, project=alpha.id) == {p2, p3, p4}
    assert ids_of(library, project=beta.id) == {p1, p2}
    assert sorted(library.get(p2).projects) == [alpha.id, beta.id]
    org.remove_from_project(alpha.id, [p4])
    assert ids_of(library, project=alpha.id) == {p2, p3}
    # Deleting a set never deletes pictures.
    org.delete_collection(shots.id)
    assert ids_of(library, project=alpha.id) == set()  # p2, p3 were members only through the set
    assert library.count() == len(pictures)
    assert [b.name for b in org.breadcrumbs(collection_id=hero.id)] == ["Library", "Beta", "Hero"]
    assert [b.kind for b in org.breadcrumbs(project_id=alpha.id)] == ["library", "project"]
    org.delete_project(beta.id)
    assert library.organise.store.collection(hero.id).project_id is None
    assert library.count() == len(pictures)


def test_set_operations(library, pictures):
    a, b, c, d, e = pictures[:5]
    org = library.organise
    s1 = org.create_collection("set", "one")
    s2 = org.create_collection("set", "two")
    ch = org.create_collection("character", "three")
    org.add_members(s1.id, [a, b, c])
    org.add_members(s2.id, [b, c, d])
    org.add_members(ch.id, [c, e])
    ids = [s1.id, s2.id, ch.id]
    assert org.set_operation(ids, "union") == [a, b, c, d, e]
    assert org.set_operation(ids, "overlap") == [c]
    assert org.set_operation(ids, "difference") == [a]
    assert org.set_operation(ids, "unique") == [a, d, e]
    for op, expected in (("union", {a, b, c, d, e}), ("overlap", {c}), ("difference", {a}), ("unique", {a, d, e})):
        assert ids_of(library, collections=ids, collection_op=op) == expected
        assert library.count(PictureFilter(collections=ids, collection_op=op)) == len(expected)
    saved = library.edits.save_set_operation([s1.id, s2.id], "overlap", "both", None)
    assert org.store.collection(saved).member_count == 2
    with pytest.raises(BadInput):
        org.set_operation([], "union")


def test_scrapheap_restore_and_purge(library, pictures):
    a, b, c = pictures[:3]
    library.edits.tag([a, b], add=["keep"])
    set_ = library.organise.create_collection("set", "s")
    library.organise.add_members(set_.id, [a, b])
    members = lambda: library.organise.store.collection(set_.id).member_count  # noqa: E731
    assert members() == 2
    assert library.edits.scrap([a, b]) == [a, b]
    assert a not in ids_of(library) and ids_of(library, scrapheap=True) == {a, b}
    assert library.tags.get(library.tags.resolve("keep")).picture_count == 0
    assert members() == 0  # counts, like tags', leave the scrapheap out
    library.organise.remove_members(set_.id, [b])
    library.organise.add_members(set_.id, [b])
    assert members() == 0
    assert library.edits.unscrap([b]) == [b]
    assert library.tags.get(library.tags.resolve("keep")).picture_count == 1
    assert members() == 1
    with pytest.raises(BadInput):
        library.purge([c])  # live pictures cannot be purged
    original = library.store.local_path(*library.pictures.address(a)[:2])
    assert original.is_file()
    assert library.purge() == [a]
    assert not original.exists()
    with pytest.raises(NotFound):
        library.get(a)
    assert members() == 1
    assert library.count() == len(pictures) - 1


def test_names_are_unique_per_kind_and_project_in_any_case_outside_projects_too(library):
    org = library.organise
    cats = org.create_collection("set", "Cats")
    with pytest.raises(Conflict, match="a set named 'cats' already exists outside projects"):
        org.create_collection("set", "cats")  # no project: SQLite's UNIQUE alone lets this through
    org.create_collection("character", "Cats")  # another kind may share it
    dogs = org.create_collection("set", "Dogs")
    with pytest.raises(Conflict, match="already exists"):
        org.update_collection(dogs.id, name="CATS")
    org.update_collection(cats.id, name="CATS")  # a new case of its own name is fine
    book = org.create_project("Book")
    org.create_collection("set", "Dogs", book.id)
    with pytest.raises(Conflict, match="in that project"):
        org.move_collection(dogs.id, book.id)
