"""What the command line says: sentences, not Python reprs; and exit statuses a script can rely on
(0 done, 1 an error, 2 bad usage, 3 done but not for every item, with the reasons on standard error)."""

from __future__ import annotations

import json

from conftest import run_cli
from corpus import solid

from pixlstash.library import Library


def test_snapshot_commands_speak_in_sentences_and_fail_with_a_status(tmp_path):
    lib = str(tmp_path / "lib")
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(3):
        solid(100 + n, 80, (200, 40 * n, 0)).save(folder / f"p{n}.png")
    run_cli("import", str(folder), "--library", lib)
    assert "no snapshots yet" in run_cli("snapshot", "list", "--library", lib).stdout
    taken = run_cli("snapshot", "create", "--label", "before", "--library", lib).stdout
    assert taken.startswith("took snapshot 1 'before' of 3 pictures (") and "SnapshotRow" not in taken
    preview = run_cli("snapshot", "preview", "1", "--library", lib).stdout
    assert preview.startswith("restoring snapshot 1 would revert 0 pictures, recreate 0 and delete 0")
    assert "{" not in preview
    assert json.loads(run_cli("snapshot", "preview", "1", "--json", "--library", lib).stdout)["summary"]
    with Library.open(tmp_path / "lib") as library:
        later = library.organise.create_collection("set", "Later")
    named = run_cli("snapshot", "preview", "1", "--library", lib).stdout
    # What a restore removes is named before it does.
    assert ["deletes", "set", str(later.id), "Later"] in [line.split() for line in named.splitlines()]
    partial = run_cli(
        "snapshot", "restore", "1", "--only", "picture:1", "--only", "set:99", "--library", lib, check=False
    )
    assert partial.returncode == 3 and "restored 1 of 2 from snapshot 1" in partial.stdout
    assert "not restored: set:99: not in the snapshot" in partial.stderr
    nothing = run_cli("snapshot", "restore", "1", "--only", "picture:77", "--library", lib, check=False)
    assert nothing.returncode == 1 and "not restored: picture:77" in nothing.stderr
    full = run_cli("snapshot", "restore", "1", "--library", lib).stdout
    assert full.strip().splitlines() == [
        "restored the library from snapshot 1",
        "what the library held before is in safety snapshot 2: `pixlstash snapshot restore 2` undoes this",
    ]
    deleted = run_cli("snapshot", "delete", "1", "--library", lib).stdout
    assert deleted.startswith("deleted snapshot 1, freeing ")


def test_an_import_that_skips_files_says_why_and_exits_3(tmp_path):
    lib = str(tmp_path / "lib")
    solid(90, 60, (10, 200, 10)).save(tmp_path / "good.png")
    done = run_cli(
        "import", str(tmp_path / "good.png"), str(tmp_path / "nowhere.jpg"), "--library", lib, check=False, process=True
    )
    assert done.returncode == 3
    assert done.stdout.startswith("imported 1, duplicates 0, skipped 1")
    assert "skipped " in done.stderr and "nowhere.jpg" in done.stderr
    usage = run_cli("import", "--library", lib, "--no-such-flag", check=False, process=True)
    assert usage.returncode == 2


def test_ls_names_each_picture_marks_missing_ones_and_says_when_nothing_matches(tmp_path):
    lib = str(tmp_path / "lib")
    for name in ("sunset.png", "harbour.png"):
        solid(120 if name == "sunset.png" else 121, 80, (200, 120, 40)).save(tmp_path / name)
    run_cli("import", str(tmp_path / "sunset.png"), str(tmp_path / "harbour.png"), "--library", lib)
    with Library.open(tmp_path / "lib") as library:
        [harbour] = [p.id for p in library.page().items if library.get(p.id).original_name == "harbour.png"]
        with library.db.write():  # as the check of originals marks a picture whose file has gone
            library.pictures.set_missing(harbour, True)
    listed = run_cli("ls", "--library", lib).stdout.splitlines()
    assert listed[0].split() == ["ID", "FILE", "PIXELS", "SIZE", "RATING", "TAGS", "TAKEN"]
    assert any(" sunset.png " in line and "MISSING" not in line for line in listed)
    assert any(" harbour.png  MISSING " in line for line in listed)
    assert "no pictures match" in run_cli("ls", "--tag", "nope", "--library", lib).stdout


def test_the_readmes_first_import_works_on_a_new_library(tmp_path):
    import zipfile

    lib = str(tmp_path / "lib")
    batch = tmp_path / "batch1"
    batch.mkdir()
    solid(100, 70, (200, 0, 0)).save(batch / "a.png")
    solid(101, 70, (0, 200, 0)).save(tmp_path / "one.png")
    solid(102, 70, (0, 0, 200)).save(tmp_path / "b.png")
    with zipfile.ZipFile(tmp_path / "renders.zip", "w") as archive:
        archive.write(tmp_path / "b.png", "b.png")
    done = run_cli(
        "import",
        str(batch),
        str(tmp_path / "renders.zip"),
        str(tmp_path / "one.png"),
        "--project",
        "Portraits",
        "--set",
        "Best",
        "--library",
        lib,
    )
    assert done.stdout.startswith("imported 3, duplicates 0, skipped 0")
    assert "created project 'Portraits'" in done.stderr and "created set 'Best'" in done.stderr
    again = run_cli("import", str(tmp_path / "one.png"), "--set", "best", "--library", lib)
    assert "created" not in again.stderr  # names match whatever their case
    with Library.open(tmp_path / "lib") as library:
        [best] = library.collections.collections("set")
        assert best.name == "Best" and best.member_count == 3
        assert [p.picture_count for p in library.collections.projects()] == [3]
    unknown = run_cli("import", str(tmp_path / "one.png"), "--set", "999", "--library", lib, check=False)
    assert unknown.returncode == 1 and "999" in unknown.stderr  # an id is never made up
