"""The import's order with several workers (issue 65): the workers take the largest file first, yet
pictures are recorded in the order the files came (ids follow the files), and of two files with the same
bytes the first is the one recorded, with its name, whichever worker hashed it first, while those bytes
are analysed once."""

from __future__ import annotations

import shutil

import pytest
from corpus import photo

from pixlstash.domain import ImportReport
from pixlstash.importing.importer import ImportTarget
from pixlstash.importing.sources import ImportItem


def _item(path) -> ImportItem:
    return ImportItem(path, path.name, path.name)


def test_the_first_of_two_files_with_the_same_bytes_is_recorded_though_the_later_was_analysed(library, tmp_path):
    """The race a worker pool allows, played by hand: the later file hashed first, so it holds the claim
    and the only analysis; the earlier one waits for that analysis and becomes the picture with it."""
    photo(300, 200, seed=1).save(tmp_path / "first.png")
    shutil.copy(tmp_path / "first.png", tmp_path / "again.png")
    importer = library.new_importer(workers=2)
    run = object()
    late = importer._prepare(_item(tmp_path / "again.png"), None, run, 1)
    early = importer._prepare(_item(tmp_path / "first.png"), None, run, 0)
    assert type(late).__name__ == "_Prepared"
    assert type(early).__name__ == "_Duplicate" and early.picture_id is None and early.claimant == 1
    assert importer._prepare(_item(tmp_path / "first.png"), None, object(), 0).claimant is None  # another run's

    assert importer._in_turn(0, {0: early}) is None  # the analysis is not done yet: the turn waits
    ready = {0: early, 1: late}
    first = importer._in_turn(0, ready)
    assert type(first).__name__ == "_Prepared" and first.item.display == "first.png"
    assert first.analysis is late.analysis  # analysed once
    second = importer._in_turn(1, ready)
    assert type(second).__name__ == "_Duplicate" and second.item.display == "again.png" and not ready

    report, waiting = ImportReport(), []
    for result in (first, second):  # committed in the files' order
        importer._finish(result, report, None, ImportTarget(), None, waiting, None)
    assert [(p.path, p.picture_id) for p in report.imported] == [("first.png", 1)]
    assert [duplicate.item.display for duplicate in waiting] == ["again.png"]  # reported at the run's end
    assert library.get(1).original_name == "first.png"


def test_a_run_lets_its_claims_go_when_it_ends(library, tmp_path):
    """Claims are for the files of running imports; an importer that lives as long as the server must not
    keep one for every picture it ever imported."""
    for n in range(3):
        photo(200, 150, seed=40 + n).save(tmp_path / f"{n}.png")
    shutil.copy(tmp_path / "0.png", tmp_path / "copy.png")
    importer = library.new_importer(workers=2)
    report = importer.run([_item(path) for path in sorted(tmp_path.iterdir())])
    assert len(report.imported) == 3 and [p.path for p in report.duplicates] == ["copy.png"]
    assert importer._claims == {}


@pytest.mark.parametrize("workers", [2, 4])
def test_ids_follow_the_files_and_the_first_copy_keeps_its_name_with_several_workers(library, tmp_path, workers):
    """Files that grow along the batch (the workers take the largest waiting first), each copied just
    after the next one: the copies race their firsts."""
    folder = tmp_path / "in"
    folder.mkdir()
    names, paths = [], []
    for n in range(10):
        name = f"{n:02}-pic.png"
        photo(120 + 40 * n, 100 + 30 * n, seed=10 + n).save(folder / name)
        shutil.copy(folder / name, folder / f"{n:02}-copy.png")
        names.append(name)
        paths.append(folder / name)
        if n:
            paths.append(folder / f"{n - 1:02}-copy.png")  # each copy after the next picture
    paths.append(folder / "09-copy.png")
    report = library.import_paths(paths, workers=workers)
    assert [p.path.rsplit("/", 1)[-1] for p in report.imported] == names
    imported = {p.path.rsplit("/", 1)[-1]: p.picture_id for p in report.imported}
    assert sorted(imported.values()) == [imported[name] for name in names]  # ids in the files' order
    assert {p.path.rsplit("/", 1)[-1]: p.picture_id for p in report.duplicates} == {
        f"{name[:2]}-copy.png": imported[name] for name in names
    }
    assert [library.get(imported[name]).original_name for name in names] == names
