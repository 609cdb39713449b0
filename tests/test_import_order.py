"""The import's order with several workers (issue 65): the workers take the largest file first, yet
pictures are recorded in the order the files came (ids follow the files), and of two files with the same
bytes the first is the one recorded, with its name, whichever worker hashed it first."""

from __future__ import annotations

import shutil

import pytest
from corpus import photo

from pixlstash.domain import ImportReport
from pixlstash.importing.importer import ImportTarget
from pixlstash.importing.sources import ImportItem


def _item(path) -> ImportItem:
    return ImportItem(path, path.name, path.name)


def test_the_first_of_two_files_with_the_same_bytes_is_recorded_though_the_later_was_done_first(library, tmp_path):
    """The race a worker pool allows, played by hand in the order that used to record the later file: the
    later file hashed and analysed before the earlier one is looked at."""
    photo(300, 200, seed=1).save(tmp_path / "first.png")
    shutil.copy(tmp_path / "first.png", tmp_path / "again.png")
    importer = library.new_importer(workers=2)
    late = importer._prepare(_item(tmp_path / "again.png"), None, 1)  # done before the first file is hashed
    early = importer._prepare(_item(tmp_path / "first.png"), None, 0)  # takes the claim all the same
    assert type(late).__name__ == type(early).__name__ == "_Prepared"
    report, waiting = ImportReport(), []
    for result in (early, late):  # committed in the files' order
        importer._finish(result, report, None, ImportTarget(), None, waiting, None)
    assert [(p.path, p.picture_id) for p in report.imported] == [("first.png", 1)]
    assert [(p.path, p.picture_id) for p in report.duplicates] == [("again.png", 1)]
    assert library.get(1).original_name == "first.png"

    # The common order: the earlier file claimed the bytes first; the later one is a duplicate of it at
    # once, without being analysed.
    photo(300, 200, seed=2).save(tmp_path / "second.png")
    shutil.copy(tmp_path / "second.png", tmp_path / "second-again.png")
    importer = library.new_importer(workers=2)
    assert type(importer._prepare(_item(tmp_path / "second.png"), None, 0)).__name__ == "_Prepared"
    later = importer._prepare(_item(tmp_path / "second-again.png"), None, 1)
    assert type(later).__name__ == "_Duplicate" and later.picture_id is None


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
