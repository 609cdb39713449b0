"""Undo and redo of every kind of edit, on a real library: each step puts back exactly what it changed,
redo makes it again, a new edit discards what was undone, the history outlives the process, and a
snapshot restore clears it."""

from __future__ import annotations

import pytest
from live_server import make_pictures

from pixlstash.domain import PictureFilter
from pixlstash.errors import Conflict, NotFound
from pixlstash.library import Library


def ratings(library, ids):
    return dict(library.db.query(f"SELECT id, rating FROM pictures WHERE id IN ({','.join(map(str, ids))})"))


def tag_rows(library, name):
    return library.db.query(
        "SELECT picture_id, source, confidence FROM picture_tags JOIN tags t ON t.id = tag_id "
        "WHERE t.name = ? ORDER BY picture_id",
        (name,),
    )


def members(library, collection_id):
    rows = library.db.query(
        "SELECT picture_id FROM collection_members WHERE collection_id = ? ORDER BY 1", (collection_id,)
    )
    return [pid for (pid,) in rows]


def test_ratings_and_flags_undo_to_each_picture_s_own_value_and_redo(library, tmp_path):
    a, b, c = make_pictures(library, tmp_path / "p", 3)
    library.editor.update([a], rating=5)  # not through edits: the library's own work is not a step
    library.editor.update([b], rating=2)
    edits = library.edits
    assert edits.history().can_undo is False
    edits.set_fields([a, b, c], rating=3)
    edits.set_fields([a], favourite=True)
    history = edits.history()
    assert [s.label for s in history.steps] == ["Favourite 1 picture", "Rate 3 pictures ★★★"]
    assert edits.undo().label == "Favourite 1 picture"
    assert library.get(a).favourite is False
    assert edits.undo().label == "Rate 3 pictures ★★★"
    assert ratings(library, [a, b, c]) == {a: 5, b: 2, c: 0}
    assert edits.undo() is None
    assert edits.redo().label == "Rate 3 pictures ★★★"
    assert ratings(library, [a, b, c]) == {a: 3, b: 3, c: 3}
    # A new edit discards what could still be redone.
    edits.set_fields([c], rating=1)
    assert edits.redo() is None
    assert [s.undone for s in edits.history().steps] == [False, False]


def test_tags_come_back_with_their_source_and_confidence(library, tmp_path):
    a, b = make_pictures(library, tmp_path / "p", 2)
    engine_tag = library.tags.ensure("lighthouse")
    with library.db.write():
        library.tags.add_to_pictures([a], [engine_tag], source="wd/vit", confidence=0.73)
    edits = library.edits
    edits.tag([a, b], add=["sea", "brand-new"], remove=["lighthouse"])
    assert tag_rows(library, "lighthouse") == []
    step = edits.history().steps[0]
    assert step.label == "Tag 2 pictures +sea, +brand-new, −lighthouse" and step.count == 2
    edits.undo()
    assert tag_rows(library, "lighthouse") == [(a, "wd/vit", 0.73)]
    assert tag_rows(library, "sea") == [] and tag_rows(library, "brand-new") == []
    edits.redo()
    assert tag_rows(library, "lighthouse") == []
    assert [row[0] for row in tag_rows(library, "sea")] == [a, b]
    # Adding a tag a picture already has changes nothing, so it is no step.
    before = len(edits.history().steps)
    edits.tag([a], add=["sea"])
    assert len(edits.history().steps) == before


def test_captions_scrapheap_membership_and_renames(library, tmp_path):
    a, b, c = make_pictures(library, tmp_path / "p", 3)
    edits = library.edits
    edits.caption(a, "first words")
    edits.caption(a, "second words")
    edits.undo()
    assert library.get(a).captions[0].text == "first words"
    edits.undo()
    assert library.get(a).captions == []
    edits.redo()
    assert library.get(a).captions[0].text == "first words"

    edits.scrap([b, c])
    assert library.count() == 1
    edits.undo()
    assert library.count() == 3
    edits.redo()
    assert library.count() == 1
    edits.undo()

    keep = library.organise.create_collection("set", "Keep")
    library.organise.add_members(keep.id, [a])
    edits.add_members(keep.id, [a, b])  # a was in already: only b is the step's
    assert edits.history().steps[0].label == "Add 1 picture to Keep"
    edits.remove_members(keep.id, [a, b, c])
    assert members(library, keep.id) == []
    edits.undo()
    assert members(library, keep.id) == [a, b]
    edits.undo()
    assert members(library, keep.id) == [a]

    book = library.organise.create_project("Book")
    edits.add_to_project(book.id, [b, c])
    edits.undo()
    assert library.count(PictureFilter(project=book.id)) == 0
    edits.redo()
    assert library.count(PictureFilter(project=book.id)) == 2

    edits.edit_details("collection", keep.id, name="Keepers", color="#ff0000")
    edits.edit_details("project", book.id, name="Album")
    edits.undo()
    edits.undo()
    restored = library.organise.store.collection(keep.id)
    assert (restored.name, restored.color) == ("Keep", keep.color)
    assert library.organise.store.project(book.id).name == "Book"


def test_face_names_undo_and_the_picture_leaves_the_character_it_joined(library, tmp_path):
    (picture_id,) = make_pictures(library, tmp_path / "p", 1)
    hero = library.organise.create_collection("character", "Hero")
    with library.db.write():
        face_id = library.db.scalar(
            "INSERT INTO faces(picture_id, engine_id, engine_version, x0, y0, x1, y1, score, created_at) "
            "VALUES (?, 'fake/faces', '1', 1, 2, 30, 40, 0.9, 0) RETURNING id",
            (picture_id,),
        )
    edits = library.edits
    edits.assign_faces([face_id], hero.id)
    assert edits.history().steps[0].label == "Name 1 face Hero"
    assert members(library, hero.id) == [picture_id]
    edits.undo()
    assert library.db.scalar("SELECT character_id FROM faces WHERE id = ?", (face_id,)) is None
    assert members(library, hero.id) == []
    edits.redo()
    assert members(library, hero.id) == [picture_id]


def test_one_action_of_several_edits_is_one_step(library, tmp_path):
    (a,) = make_pictures(library, tmp_path / "p", 1)
    edits = library.edits
    with edits.step("Edit picture"):
        edits.set_fields([a], rating=4)
        edits.tag([a], add=["dune"])
        edits.caption(a, "sand")
    assert [s.label for s in edits.history().steps] == ["Edit picture"]
    edits.undo()
    picture = library.get(a)
    assert (picture.rating, picture.tags, picture.captions) == (0, [], [])


def test_the_history_outlives_the_process_and_a_restore_clears_it(tmp_path):
    root = tmp_path / "lib"
    with Library.open(root) as library:
        a, b = make_pictures(library, tmp_path / "p", 2)
        library.edits.set_fields([a, b], rating=2)
    with Library.open(root) as library:
        assert library.edits.history().can_undo
        assert library.edits.undo().label == "Rate 2 pictures ★★"
        assert library.edits.history().can_redo
        snapshots = library.new_snapshot_service()
        snapshot = snapshots.take()
        library.edits.set_fields([a], rating=5)
        snapshots.restore(snapshot.id)  # full restore
        history = library.edits.history()
        assert (history.steps, history.can_undo, history.can_redo) == ([], False, False)
        library.edits.set_fields([b], rating=4)
        from pixlstash.snapshots import RestoreResource

        snapshots.restore_batch(snapshot.id, [RestoreResource("picture", b)])  # selective
        assert library.edits.history().steps == []
        snapshots.close()


def test_a_step_that_fails_half_way_leaves_nothing_changed_and_nothing_recorded(library, tmp_path):
    (a,) = make_pictures(library, tmp_path / "p", 1)
    edits = library.edits
    with pytest.raises(NotFound), edits.step("Edit picture"):
        edits.set_fields([a], rating=4)
        edits.tag([a], add=["dune"])
        edits.set_fields([a + 1000], rating=1)  # no such picture
    picture = library.get(a)
    assert (picture.rating, picture.tags) == (0, [])
    assert edits.history().steps == []


def add_face(library, picture_id, *, cluster=None):
    with library.db.write():
        return library.db.scalar(
            "INSERT INTO faces(picture_id, engine_id, engine_version, x0, y0, x1, y1, score, created_at, cluster_id) "
            "VALUES (?, 'fake/faces', '1', 1, 2, 30, 40, 0.9, 0, ?) RETURNING id",
            (picture_id, cluster),
        )


def collection_state(library, collection_id):
    """Everything a set or character is: its row, members with their times, named and rejected faces, and
    the project memberships it brings."""
    return (
        library.db.query("SELECT * FROM collections WHERE id = ?", (collection_id,)),
        library.db.query("SELECT * FROM collection_members WHERE collection_id = ? ORDER BY 2", (collection_id,)),
        library.db.query("SELECT id, assigned_by FROM faces WHERE character_id = ? ORDER BY 1", (collection_id,)),
        library.db.query("SELECT face_id FROM face_rejections WHERE character_id = ?", (collection_id,)),
        library.db.query("SELECT * FROM project_members ORDER BY 1, 2"),
    )


def test_sets_made_and_deleted_are_steps_and_come_back_whole_under_their_own_id(library, tmp_path):
    a, b, c = make_pictures(library, tmp_path / "p", 3)
    edits = library.edits
    project = edits.create_project("Autumn")
    picks = edits.create_collection("set", "Picks", project.id, "the best", "#ff0000")
    edits.add_members(picks.id, [a, b])
    before = collection_state(library, picks.id)
    edits.delete_collection(picks.id)
    assert [s.label for s in edits.history().steps][:3] == [
        "Delete the set Picks",
        "Add 2 pictures to Picks",
        "Create the set Picks",
    ]
    assert library.db.query("SELECT * FROM project_members") == []
    edits.undo()  # the set is back: same id, members (with their times), its project's pictures
    assert collection_state(library, picks.id) == before
    assert library.collections.collection(picks.id).member_count == 2
    edits.undo()  # the step before it finds it under its own id
    assert members(library, picks.id) == []
    edits.undo()
    with pytest.raises(NotFound):
        library.collections.collection(picks.id)
    edits.redo(), edits.redo(), edits.redo()
    with pytest.raises(NotFound):
        library.collections.collection(picks.id)
    edits.undo()
    assert collection_state(library, picks.id) == before
    # A set made again under the name since (by a ComfyUI run, say: not a step): the undo says so, changes
    # nothing, and stays next in line.
    edits.delete_collection(picks.id)
    other = library.organise.create_collection("set", "PICKS", project.id)
    with pytest.raises(Conflict, match="exists again"):
        edits.undo()
    assert edits.history().steps[0].label == "Delete the set Picks" and not edits.history().steps[0].undone
    assert [x.id for x in library.collections.collections("set")] == [other.id]
    edits.edit_details("collection", other.id, name="Picks from ComfyUI")
    edits.undo()  # the rename goes first, then the delete can be undone
    with pytest.raises(Conflict):
        edits.undo()
    library.organise.update_collection(other.id, name="Picks from ComfyUI")
    edits.undo()
    assert collection_state(library, picks.id)[:3] == before[:3]
    assert c not in members(library, picks.id)


def test_characters_come_back_with_named_and_rejected_faces(library, tmp_path):
    a, b = make_pictures(library, tmp_path / "p", 2)
    edits = library.edits
    hero = edits.create_collection("character", "Hero")
    named, rejected = add_face(library, a), add_face(library, b)
    edits.assign_faces([named], hero.id)
    with library.db.write():
        library.db.execute("UPDATE faces SET assigned_by = 'auto' WHERE id = ?", (named,))
        library.db.execute("INSERT INTO face_rejections(character_id, face_id) VALUES (?, ?)", (hero.id, rejected))
    before = collection_state(library, hero.id)
    edits.delete_collection(hero.id)
    assert library.db.scalar("SELECT character_id FROM faces WHERE id = ?", (named,)) is None
    edits.undo()
    assert collection_state(library, hero.id) == before


def test_merging_characters_and_naming_a_person_are_one_step_each(library, tmp_path):
    a, b, c, d = make_pictures(library, tmp_path / "p", 4)
    edits, people = library.edits, library.people
    ann = edits.create_collection("character", "Ann")
    anne = edits.create_collection("character", "Anne")
    edits.assign_faces([add_face(library, a)], ann.id)
    edits.add_members(ann.id, [b])
    edits.assign_faces([add_face(library, c)], anne.id)
    ann_before, anne_before = collection_state(library, ann.id), collection_state(library, anne.id)
    people.merge(ann.id, anne.id)
    assert edits.history().steps[0].label == "Merge Ann into Anne"
    assert members(library, anne.id) == [a, b, c]
    edits.undo()
    assert collection_state(library, ann.id) == ann_before
    assert collection_state(library, anne.id)[:4] == anne_before[:4]
    edits.redo()
    assert members(library, anne.id) == [a, b, c]
    with pytest.raises(NotFound):
        library.collections.collection(ann.id)

    stranger = add_face(library, d, cluster=4242)
    people.name_cluster(4242, name="Bob")
    assert edits.history().steps[0].label == "Name a person Bob"
    (bob,) = [x for x in library.collections.collections("character") if x.name == "Bob"]
    assert members(library, bob.id) == [d]
    edits.undo()  # the faces unnamed and the character gone, in one step
    assert library.db.scalar("SELECT character_id FROM faces WHERE id = ?", (stranger,)) is None
    assert "Bob" not in {x.name for x in library.collections.collections("character")}
    assert [(s.label, s.undone) for s in edits.history().steps[:2]] == [
        ("Name a person Bob", True),
        ("Merge Ann into Anne", False),
    ]


def test_a_deleted_project_comes_back_with_its_sets_and_pictures(library, tmp_path):
    a, b = make_pictures(library, tmp_path / "p", 2)
    edits = library.edits
    project = edits.create_project("Client work", "for Jo")
    chosen = edits.create_collection("set", "Chosen", project.id)
    edits.add_members(chosen.id, [a])
    edits.add_to_project(project.id, [b])
    before = (
        library.db.query("SELECT * FROM projects"),
        library.db.query("SELECT * FROM project_members ORDER BY 2"),
        library.db.query("SELECT id, project_id FROM collections"),
    )
    edits.delete_project(project.id)
    assert library.db.query("SELECT id, project_id FROM collections") == [(chosen.id, None)]
    edits.undo()
    after = (
        library.db.query("SELECT * FROM projects"),
        library.db.query("SELECT * FROM project_members ORDER BY 2"),
        library.db.query("SELECT id, project_id FROM collections"),
    )
    assert after == before
    edits.undo(), edits.undo(), edits.undo(), edits.undo()
    assert library.db.query("SELECT * FROM projects") == []


def test_pictures_said_not_to_be_duplicates_leave_their_group_for_good_and_undo_brings_it_back(library, tmp_path):
    from corpus import photo

    folder = tmp_path / "series"
    folder.mkdir()
    scene = photo(320, 240, seed=5)
    scene.save(folder / "a.png")
    scene.resize((160, 120)).save(folder / "b.png")
    scene.save(folder / "c.jpg", quality=60)
    library.import_paths([folder])
    groups = library.duplicate_groups()
    assert len(groups) == 1 and len(groups[0].picture_ids) == 3
    a, b, c = groups[0].picture_ids
    library.edits.not_duplicates([a, b])  # c is left alone: no group of one
    assert library.duplicate_groups() == []
    # Another copy of the scene joins only the picture nobody ruled on.
    scene.save(tmp_path / "d.webp")
    (d,) = [i.picture_id for i in library.import_paths([tmp_path / "d.webp"]).imported]
    assert [sorted(g.picture_ids) for g in library.duplicate_groups()] == [sorted([c, d])]
    library.edits.undo()  # the three back together, as they were
    assert any({a, b, c} <= set(g.picture_ids) for g in library.duplicate_groups())
    library.edits.redo()
    assert all(not {a, b} & set(g.picture_ids) for g in library.duplicate_groups())


def test_deleting_a_tag_is_one_undo_step_and_undo_puts_it_back(tmp_path):
    from live_server import make_pictures

    from pixlstash.library import Library

    with Library.open(tmp_path / "lib") as library:
        ids = make_pictures(library, tmp_path / "in", 3)
        library.edits.set_fields(ids, rating=3)
        library.edits.tag(ids[:2], add=["sunset"])
        tag_id = library.tags.resolve("sunset")
        library.edits.delete_tag(tag_id)
        assert library.tags.resolve("sunset") is None
        assert library.edits.history().steps[0].label == "Delete the tag sunset"  # newest first
        library.edits.undo()  # the deletion, not the tagging or the rating before it
        back = library.tags.resolve("sunset")
        assert back is not None
        assert sorted(pid for pid, *_ in library.edits.state.tag_rows(ids, back)) == ids[:2]
        assert {library.get(pid).rating for pid in ids} == {3}


def test_a_selective_restore_drops_only_the_steps_that_changed_what_it_brought_back(tmp_path):
    from pixlstash.snapshots import RestoreResource

    with Library.open(tmp_path / "lib") as library:
        a, b, c = make_pictures(library, tmp_path / "p", 3)
        snapshots = library.new_snapshot_service()
        snapshot = snapshots.take()
        library.edits.set_fields([b], rating=3)  # about b only
        library.edits.set_fields([a, c], rating=5)  # about a (restored below) and c
        library.edits.tag([c], add=["dune"])  # about c only
        snapshots.restore_batch(snapshot.id, [RestoreResource("picture", a)])
        snapshots.close()
        assert library.get(a).rating == 0  # restored
        labels = [step.label for step in library.edits.history().steps]
        assert labels == ["Tag 1 picture +dune", "Rate 1 picture ★★★"]  # the step naming a went
        assert library.edits.undo().label == "Tag 1 picture +dune"
        assert library.edits.undo().label == "Rate 1 picture ★★★"
        assert (library.get(b).rating, library.get(c).tags, library.get(a).rating) == (0, [], 0)
        assert library.edits.undo() is None
