"""The library commands of the CLI in real subprocesses: import, ls, folders."""

from __future__ import annotations

import json

from conftest import run_cli
from corpus import bad_corpus, photo


def test_import_then_ls_with_filters(tmp_path):
    lib = str(tmp_path / "lib")
    for n in range(3):
        photo(100 + n, 100, seed=n).save(tmp_path / f"{n}.png")
    bad_corpus(tmp_path / "bad")
    partial = run_cli(
        "import",
        "--library",
        lib,
        "--json",
        str(tmp_path / "0.png"),
        str(tmp_path / "1.png"),
        str(tmp_path / "bad"),
        check=False,
    )
    assert partial.returncode == 3  # done, but not for every file: the reasons are in the report
    report = json.loads(partial.stdout)
    assert len(report["imported"]) == 2 and len(report["skipped"]) == 6
    text = run_cli("import", "--library", lib, str(tmp_path / "1.png"), str(tmp_path / "2.png"))
    assert text.stdout.startswith("imported 1, duplicates 1, skipped 0")
    listing = json.loads(run_cli("ls", "--library", lib, "--json", "--sort", "pixels", "--ascending").stdout)
    assert [item["width"] for item in listing["items"]] == [100, 101, 102]
    page = json.loads(run_cli("ls", "--library", lib, "--json", "--limit", "2").stdout)
    rest = json.loads(run_cli("ls", "--library", lib, "--json", "--limit", "2", "--cursor", page["next_cursor"]).stdout)
    assert len(page["items"]) == 2 and len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert run_cli("ls", "--library", lib, "--count", "--min-width", "101").stdout.strip() == "2"
    stats = json.loads(run_cli("ls", "--library", lib, "--stats", "--json").stdout)
    assert stats["count"] == 3


def test_import_into_named_project_and_errors(tmp_path):
    lib = str(tmp_path / "lib")
    photo(50, 50).save(tmp_path / "a.png")
    result = run_cli("import", "--library", lib, "--project", "Nope", str(tmp_path / "a.png"))
    assert "created project 'Nope'" in result.stderr  # a name that does not exist yet is made (issue 17)
    result = run_cli("import", "--library", lib, "--project", "999", str(tmp_path / "a.png"), check=False)
    assert result.returncode == 1 and "999" in result.stderr  # an id is never made up
    result = run_cli("ls", "--library", lib, "--cursor", "garbage", check=False)
    assert result.returncode == 1 and "cursor is malformed" in result.stderr


def test_library_option_defaults_to_the_environment(tmp_path):
    photo(50, 50).save(tmp_path / "a.png")
    env = {"PIXLSTASH_LIBRARY": str(tmp_path / "envlib")}
    run_cli("import", str(tmp_path / "a.png"), env=env)
    assert (tmp_path / "envlib" / "library.db").is_file()
    assert run_cli("ls", "--count", env=env).stdout.strip() == "1"


def test_folders_commands(tmp_path):
    lib = str(tmp_path / "lib")
    ref = tmp_path / "ref"
    ref.mkdir()
    photo(80, 80, seed=1).save(ref / "a.png")
    added = json.loads(run_cli("folders", "add", "--library", lib, "reference", str(ref), "--json").stdout)
    assert added["folder"]["kind"] == "reference" and len(added["scan"]["report"]["imported"]) == 1
    photo(80, 80, seed=2).save(ref / "b.png")
    rescan = run_cli("folders", "rescan", "--library", lib).stdout
    assert "imported 1" in rescan
    listed = json.loads(run_cli("folders", "list", "--library", lib, "--json").stdout)
    assert listed[0]["picture_count"] == 2
    run_cli("folders", "remove", "--library", lib, str(listed[0]["id"]))
    assert json.loads(run_cli("folders", "list", "--library", lib, "--json").stdout) == []
    assert run_cli("ls", "--library", lib, "--count").stdout.strip() == "2"
    assert (ref / "a.png").exists()
