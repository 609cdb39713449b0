"""Watched import folders and in-place reference folders, on real files."""

from __future__ import annotations

import os
import time

import pytest
from corpus import photo

from pixlstash.domain import FolderOptions, PictureFilter
from pixlstash.errors import BadInput, NotFound


def age(path, seconds: float = 60) -> None:
    """Make a file look settled (written a while ago)."""
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))


def tree_state(root) -> dict:
    """Bytes and modification times of every file under root: a reference folder must keep both."""
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}


def test_import_folder_waits_for_settled_files_and_never_imports_twice(library, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    folder = library.folder_sync.add("import", inbox, FolderOptions(settle_seconds=30))
    photo(120, 90, seed=1).save(inbox / "fresh.png")  # just written: must wait
    photo(120, 90, seed=2).save(inbox / "settled.png")
    age(inbox / "settled.png")
    first = library.folder_sync.scan(folder.id)
    assert [os.path.basename(i.path) for i in first.report.imported] == ["settled.png"]
    assert first.waiting == 1
    again = library.folder_sync.scan(folder.id)
    assert again.report.imported == [] and again.report.duplicates == []
    age(inbox / "fresh.png")
    third = library.folder_sync.scan(folder.id)
    assert [os.path.basename(i.path) for i in third.report.imported] == ["fresh.png"]
    assert library.count(PictureFilter(folder=folder.id)) == 2
    assert (inbox / "fresh.png").exists()  # kept: delete-after-import is off
    assert library.folders.get(folder.id).picture_count == 2


def test_import_folder_delete_after_import(library, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    project = library.organise.create_project("Inbox project")
    folder = library.folder_sync.add(
        "import", inbox, FolderOptions(delete_after_import=True, settle_seconds=0, project_id=project.id)
    )
    photo(100, 100, seed=3).save(inbox / "a.jpg")
    (inbox / "sub").mkdir()
    photo(100, 100, seed=4).save(inbox / "sub" / "b.png")
    for p in inbox.rglob("*.*"):
        age(p)
    scan = library.folder_sync.scan(folder.id)
    assert len(scan.report.imported) == 2
    assert not (inbox / "a.jpg").exists() and not (inbox / "sub" / "b.png").exists()
    assert library.count(PictureFilter(project=project.id)) == 2
    for item in scan.report.imported:  # the library's own copy is there before the source went
        path = library.original_path(item.picture_id)
        assert path.is_file() and library.root in path.parents


def test_reference_folder_is_indexed_in_place_and_never_modified(library, tmp_path):
    ref = tmp_path / "photos"
    (ref / "2024").mkdir(parents=True)
    photo(300, 200, seed=1).save(ref / "2024" / "one.jpg")
    photo(300, 200, seed=2).save(ref / "two.png")
    (ref / "two.txt").write_text("sunset, beach,  golden hour\n")
    before = tree_state(ref)
    folder = library.folder_sync.add("reference", ref)
    scan = library.folder_sync.scan(folder.id)
    assert len(scan.report.imported) == 2
    assert tree_state(ref) == before  # nothing written, moved or touched
    assert list((library.root / "originals").rglob("*.*")) == []  # no copies
    two = next(i.picture_id for i in scan.report.imported if i.path.endswith("two.png"))
    assert {t.name for t in library.get(two).tags} == {"sunset", "beach", "golden hour"}
    assert library.original_path(two) == ref / "two.png"
    assert library.get(two).locations == [f"{ref}/two.png"]
    assert library.count(PictureFilter(folder=folder.id)) == 2


def test_importing_a_referenced_picture_keeps_a_copy(library, tmp_path):
    ref = tmp_path / "photos"
    ref.mkdir()
    photo(300, 200, seed=3).save(ref / "three.png")
    folder = library.folder_sync.add("reference", ref)
    [item] = library.folder_sync.scan(folder.id).report.imported
    assert not library.get(item.picture_id).managed
    outside = tmp_path / "elsewhere" / "three-copy.png"
    outside.parent.mkdir()
    outside.write_bytes((ref / "three.png").read_bytes())
    report = library.import_paths([outside])
    assert [d.picture_id for d in report.duplicates] == [item.picture_id] and report.imported == []
    assert library.get(item.picture_id).managed and outside.is_file()  # copied, the source left alone
    stored = library.original_path(item.picture_id)
    assert stored.is_relative_to(library.root) and stored.read_bytes() == outside.read_bytes()
    (ref / "three.png").unlink()
    library.folder_sync.scan(folder.id)
    picture = library.get(item.picture_id)
    assert not picture.missing and picture.locations == []  # the reference is gone, the picture is not


def test_reference_rescan_finds_new_changed_moved_and_removed(library, tmp_path):
    ref = tmp_path / "ref"
    ref.mkdir()
    photo(200, 200, seed=1).save(ref / "a.png")
    photo(200, 200, seed=2).save(ref / "b.png")
    photo(200, 200, seed=3).save(ref / "c.png")
    folder = library.folder_sync.add("reference", ref)
    first = library.folder_sync.scan(folder.id)
    ids = {os.path.basename(i.path): i.picture_id for i in first.report.imported}
    library.edits.tag([ids["a.png"]], add=["keeper"])
    library.edits.set_fields([ids["a.png"]], rating=5)

    (ref / "moved").mkdir()
    os.rename(ref / "b.png", ref / "moved" / "b-renamed.png")  # moved
    photo(220, 200, seed=9).save(ref / "a.png")  # changed in place
    os.utime(ref / "a.png", (time.time() + 5, time.time() + 5))
    (ref / "c.png").unlink()  # removed
    photo(200, 200, seed=4).save(ref / "d.png")  # new
    scan = library.folder_sync.scan(folder.id)
    assert (scan.moved, scan.changed, scan.removed) == (1, 1, 1)
    assert [os.path.basename(i.path) for i in scan.report.imported] == ["d.png"]
    a = library.get(ids["a.png"])
    assert (a.width, a.rating, [t.name for t in a.tags]) == (220, 5, ["keeper"])  # user data kept
    assert library.get(ids["b.png"]).locations == [f"{ref}/moved/b-renamed.png"]
    assert library.get(ids["c.png"]).missing
    assert library.count(PictureFilter(missing=True)) == 1
    photo(200, 200, seed=3).save(ref / "c-back.png")  # the same content reappears
    library.folder_sync.scan(folder.id)
    assert not library.get(ids["c.png"]).missing
    library.edits.scrap([ids["b.png"]])
    os.rename(ref / "moved" / "b-renamed.png", ref / "b-again.png")
    photo(200, 200, seed=2).save(ref / "b-copy.png")
    library.folder_sync.scan(folder.id)
    assert library.get(ids["b.png"]).deleted_at is not None  # a rescan is no request to bring it back


def test_sidecars_are_written_back_only_when_enabled(library, tmp_path):
    ref = tmp_path / "set"
    ref.mkdir()
    photo(100, 100, seed=5).save(ref / "x.png")
    photo(100, 100, seed=6).save(ref / "y.png")
    (ref / "y.txt").write_text("a caption that stays")
    folder = library.folder_sync.add("reference", ref)
    (item_x, item_y) = sorted(library.folder_sync.scan(folder.id).report.imported, key=lambda i: i.path)
    library.edits.tag([item_x.picture_id], add=["cat"])
    assert not (ref / "x.txt").exists()
    library.folders.set_options(folder.id, FolderOptions(write_sidecars=True))
    library.edits.tag([item_x.picture_id], add=["sleeping"])
    assert (ref / "x.txt").read_text() == "cat, sleeping\n"
    assert (ref / "y.txt").read_text() == "a caption that stays"  # only changed pictures are written
    assert [t.name for t in library.get(item_y.picture_id).tags] == ["a caption that stays"]
    with pytest.raises(BadInput):
        library.folder_sync.add("reference", library.root)
    with pytest.raises(BadInput):
        library.folder_sync.add("reference", tmp_path / "nope")


def test_purge_keeps_reference_files_unless_allowed(library, tmp_path):
    ref = tmp_path / "ref"
    ref.mkdir()
    photo(100, 100, seed=7).save(ref / "keep.png")
    folder = library.folder_sync.add("reference", ref)
    (item,) = library.folder_sync.scan(folder.id).report.imported
    library.edits.scrap([item.picture_id])
    library.purge([item.picture_id])
    assert (ref / "keep.png").exists()
    library.folder_sync.scan(folder.id)
    assert library.count() == 0  # a purged reference picture is not brought back by rescans ...
    photo(100, 100, seed=17).save(ref / "keep.png")
    library.folder_sync.scan(folder.id)  # ... until its file changes
    (again,) = library.page().items
    library.folders.set_options(folder.id, FolderOptions(allow_purge=True))
    library.edits.scrap([again.id])
    library.purge()
    assert not (ref / "keep.png").exists()


def test_unreachable_reference_folder_changes_nothing(library, tmp_path):
    ref = tmp_path / "usb"
    ref.mkdir()
    photo(100, 100, seed=8).save(ref / "p.png")
    folder = library.folder_sync.add("reference", ref)
    library.folder_sync.scan(folder.id)
    (ref / "p.png").rename(tmp_path / "p.png")
    ref.rmdir()  # the drive is unplugged
    scan = library.folder_sync.scan(folder.id)
    assert "not reachable" in scan.report.skipped[0].reason
    assert library.count(PictureFilter(missing=True)) == 0


def test_a_damaged_reference_file_is_skipped_with_its_reason_and_never_stops_a_rescan(library, tmp_path):
    ref = tmp_path / "ref"
    ref.mkdir()
    photo(200, 200, seed=1).save(ref / "a.png")
    folder = library.folder_sync.add("reference", ref)
    [first] = library.folder_sync.scan(folder.id).report.imported
    good = (ref / "a.png").read_bytes()
    (ref / "a.png").write_bytes(good[: len(good) // 3])  # damaged in place (a sync cut short)
    os.utime(ref / "a.png", (time.time() + 5, time.time() + 5))
    photo(200, 200, seed=2).save(ref / "b.png")  # new beside it
    for _ in range(2):  # every rescan, not only the first
        scan = library.folder_sync.scan(folder.id)
        assert [os.path.basename(s.path) for s in scan.report.skipped] == ["a.png"], scan.report.skipped
        assert scan.report.skipped[0].reason.startswith("damaged:")
    assert library.count(PictureFilter()) == 2  # b.png indexed beside it
    assert library.get(first.picture_id).width == 200  # the picture keeps what it had


def test_links_out_of_a_reference_folder_are_never_indexed_or_served(library, tmp_path):
    ref, elsewhere = tmp_path / "ref", tmp_path / "elsewhere"
    ref.mkdir()
    elsewhere.mkdir()
    photo(200, 150, seed=1).save(ref / "a.png")
    photo(200, 150, seed=2).save(elsewhere / "private.png")
    photo(200, 150, seed=3).save(ref / "b.png")
    (ref / "outside.png").symlink_to(elsewhere / "private.png")  # planted before the first scan
    (ref / "inside.png").symlink_to(ref / "b.png")  # a link within the folder is fine
    folder = library.folder_sync.add("reference", ref)
    scan = library.folder_sync.scan(folder.id)
    indexed = sorted(os.path.basename(i.path) for i in scan.report.imported + scan.report.duplicates)
    assert indexed == ["a.png", "b.png", "inside.png"]  # the inside link is b.png again (one picture)
    assert len(scan.report.imported) == 2
    [skipped] = scan.report.skipped
    assert (os.path.basename(skipped.path), skipped.reason) == ("outside.png", "a link to somewhere outside the folder")
    a = next(i.picture_id for i in scan.report.imported if i.path.endswith("a.png"))
    assert library.original_path(a) == ref / "a.png"

    # After indexing, a.png is replaced by a link to the library's own credentials.
    (ref / "a.png").unlink()
    (ref / "a.png").symlink_to(library.root / "auth.db")
    with pytest.raises(NotFound):
        library.original_path(a)  # refused at serve time, before any rescan
    rescan = library.folder_sync.scan(folder.id)
    assert ("a.png", "a link to somewhere outside the folder") in {
        (os.path.basename(s.path), s.reason) for s in rescan.report.skipped
    }
    assert library.get(a).missing  # what it pointed to is gone from the library's view


def test_an_option_the_folder_s_kind_would_ignore_is_refused_in_one_line(library, tmp_path):
    """Sidecars and purges on an import folder, deleting after import on a reference folder: refused by the
    API (400, one line) and the CLI, and no folder is added."""
    from conftest import run_cli
    from live_server import LiveServer

    inbox, photos = tmp_path / "inbox", tmp_path / "photos"
    inbox.mkdir()
    photos.mkdir()
    with LiveServer(library) as live, live.client(live.token("admin")) as http:
        answer = http.post("/api/v1/folders", json={"kind": "import", "path": str(inbox), "write_xmp": True})
        assert answer.status_code == 400
        assert answer.json()["error"]["message"] == (
            "keeping .xmp sidecars: only for a reference folder (an import folder's files are copied in)"
        )
        answer = http.post(
            "/api/v1/folders", json={"kind": "reference", "path": str(photos), "delete_after_import": True}
        )
        assert answer.status_code == 400 and "only for an import folder" in answer.json()["error"]["message"]
        assert http.get("/api/v1/folders").json() == []
    refused = run_cli(
        "folders",
        "add",
        "import",
        str(inbox),
        "--write-sidecars",
        "--allow-purge",
        "--library",
        library.root,
        check=False,
    )
    assert refused.returncode != 0
    assert "writing .txt sidecars and letting a purge delete its files: only for a reference folder" in refused.stderr
    assert library.folders.all() == []
    assert library.folder_sync.add("import", inbox).options.write_xmp is False  # as it should be: fine
