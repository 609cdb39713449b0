"""The command line as a first-class client: organising a library, reading it, scripting it (issue 17).

Each test runs the real ``pixlstash`` in a fresh interpreter against a real library, and checks the result
through the library itself.
"""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest
from conftest import run_cli
from corpus import a1111_png, comfyui_png, photo

from pixlstash.library import Library


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """A library of five pictures imported by the CLI: a ComfyUI render, an A1111 render and three photos
    (ids 1-5). Made once; each test works on its own copy."""
    root = tmp_path_factory.mktemp("cli-library")
    folder = root / "in"
    folder.mkdir()
    comfyui_png(folder / "comfy.png")
    a1111_png(folder / "fox.png")
    for n in range(3):
        photo(200, 150, seed=n).save(folder / f"photo{n}.jpg", quality=90)
    path = root / "lib"
    for name in ("comfy.png", "fox.png", ""):  # one by one: ids follow commits, which run in parallel
        run_cli("import", str(folder / name), "--library", str(path), check=False)
    return path


@pytest.fixture
def lib(imported, tmp_path):
    """This test's own copy of the imported library (the CLI processes that made it have all exited)."""
    shutil.copytree(imported, tmp_path / "lib")
    return str(tmp_path / "lib")


def cli(lib, *args, check=True, **kwargs):
    return run_cli(*args, "--library", lib, check=check, **kwargs)


def test_projects_sets_and_characters_are_made_listed_renamed_shown_and_deleted(lib, tmp_path):
    assert cli(lib, "project", "create", "Portraits").stdout.strip() == "created project 1 'Portraits'"
    assert cli(lib, "set", "create", "Best", "--project", "portraits").stdout.strip() == "created set 1 'Best'"
    assert cli(lib, "character", "create", "Alice").stdout.strip() == "created character 2 'Alice'"
    taken = cli(lib, "set", "create", "best", check=False)
    assert (
        taken.returncode == 1
        and taken.stderr == "error: there is a set named 'best' already (id 1): choose another name\n"
    )
    listed = cli(lib, "set", "list").stdout.splitlines()
    assert listed[0].split() == ["ID", "NAME", "PICTURES", "PROJECT"] and listed[1].split() == [
        "1",
        "Best",
        "0",
        "Portraits",
    ]
    assert cli(lib, "set", "rename", "Best", "Favourites").stdout.strip() == "renamed set 1 'Best' to 'Favourites'"
    cli(lib, "add", "1-3", "--to-set", "Favourites")
    shown = cli(lib, "set", "show", "favourites").stdout
    assert shown.startswith("set 1 'Favourites': 3 pictures") and "comfy.png" in shown
    assert json.loads(cli(lib, "project", "show", "1", "--json").stdout)["members"][0]["name"] == "Favourites"
    assert "deleted character 2 'Alice'; its pictures stay" in cli(lib, "character", "delete", "Alice").stdout
    assert "its sets and characters stay" in cli(lib, "project", "delete", "Portraits").stdout
    with Library.open(tmp_path / "lib") as library:
        [favourites] = library.collections.collections("set")
        assert favourites.project_id is None and favourites.member_count == 3
        assert library.collections.collections("character") == [] and library.count() == 5
    missing = cli(lib, "set", "show", "Nope", check=False)
    assert missing.returncode == 1 and missing.stderr == "error: no set named 'Nope'\n"


def test_tag_rate_caption_scrap_and_unscrap_by_ids_ranges_stdin_and_filters(lib, tmp_path):
    assert cli(lib, "tag", "add", "1,3-4", "cat", "outdoors").stdout.strip() == "tagged 3 pictures with cat, outdoors"
    assert cli(lib, "rate", "where", "4", "--tag", "cat").stdout.strip() == "rated 3 pictures 4 stars"
    assert cli(lib, "tag", "remove", "4", "outdoors").stdout.strip() == "removed outdoors from 1 picture"
    assert cli(lib, "caption", "2", "a red fox in deep snow").stdout.strip() == "captioned picture 2"
    piped = run_cli("caption", "5", "-", "--library", lib, input="a harbour at noon\n")
    assert piped.returncode == 0
    # ls --ids feeds another command, as in a shell pipe.
    ids = cli(lib, "ls", "--tag", "cat", "--ids").stdout
    assert sorted(ids.split()) == ["1", "3", "4"]
    added = run_cli("add", "-", "--to-set", "Cats", "--library", lib, input=ids)
    assert added.stdout.strip() == "added 3 pictures to set 'Cats'" and added.stderr == "created set 'Cats'\n"
    assert cli(lib, "remove", "4", "--from-set", "Cats").stdout.startswith("removed 1 picture from set 'Cats'")
    # The README's `scrap where --rating-max 1`: pictures nobody rated are not "at most one star".
    assert cli(lib, "scrap", "where", "--rating-max", "1").stdout.startswith("moved 0 pictures to the scrapheap")
    assert cli(lib, "ls", "--rating-max", "1", "--unrated", "--count").stdout.strip() == "2"
    assert cli(lib, "scrap", "where", "--unrated").stdout.startswith("moved 2 pictures to the scrapheap")
    assert cli(lib, "ls", "--count").stdout.strip() == "3"
    assert cli(lib, "unscrap", "2").stdout.strip() == "brought 1 picture back from the scrapheap"
    with Library.open(tmp_path / "lib") as library:
        assert {p: library.get(p).rating for p in range(1, 6)} == {1: 4, 2: 0, 3: 4, 4: 4, 5: 0}
        assert [t.name for t in library.get(4).tags] == ["cat"]
        assert library.get(2).captions[0].text == "a red fox in deep snow"
        assert library.get(5).captions[0].text == "a harbour at noon" and library.get(5).deleted_at is not None
        [cats] = library.collections.collections("set")
        assert cats.member_count == 2
    # Bad selections are usage errors or one-line errors, and change nothing.
    for args, status, message in (
        (("rate", "99", "3"), 1, "error: no such picture: 99\n"),
        (("rate", "1", "9"), 2, "9 is not in the range 0<=x<=5"),
        (("tag", "add", "x1", "cat"), 2, "'x1' is not a picture id or a range like 20-30"),
        (("rate", "1", "3", "--tag", "cat"), 2, "filter flags choose pictures only with `where`"),
        (("add", "1"), 2, "say where to: --to-set SET"),
        (("caption", "1"), 2, "give the caption TEXT, or --clear"),
    ):
        result = cli(lib, *args, check=False)
        assert result.returncode == status and message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    with Library.open(tmp_path / "lib") as library:
        assert library.get(1).rating == 4


def test_ls_shows_a_table_streams_ids_and_jsonl_and_summarises_readably(lib):
    cli(lib, "tag", "add", "1", "lighthouse", "fog")
    cli(lib, "rate", "1", "5")
    table = cli(lib, "ls", "--tag", "lighthouse").stdout.splitlines()
    assert table[0].split() == ["ID", "FILE", "PIXELS", "SIZE", "RATING", "TAGS", "TAKEN"]
    assert table[1].split()[:6] == ["1", "comfy.png", "256x256", table[1].split()[3], "KB", "*****"]
    assert "fog, lighthouse" in table[1] or "lighthouse, fog" in table[1]
    lines = cli(lib, "ls", "--jsonl", "--sort", "imported_at", "--ascending").stdout.splitlines()
    assert [json.loads(line)["id"] for line in lines] == [1, 2, 3, 4, 5]
    assert cli(lib, "ls", "--ids", "--limit", "2", "--sort", "imported_at").stdout.split() == ["5", "4"]
    stats = cli(lib, "ls", "--stats").stdout
    assert stats.startswith("5 pictures (5 images)") and "{" not in stats
    assert "  *****    " in stats and "unrated" in stats and "over 50.0 MB" in stats
    assert [line.split()[:3] for line in stats.splitlines() if line.startswith("fog ")] == [["fog", "general", "1"]]
    assert json.loads(cli(lib, "ls", "--stats", "--json").stdout)["count"] == 5
    assert cli(lib, "ls", "--tag", "nope").stdout.strip() == "no pictures match"


def test_generation_data_is_filterable_and_in_the_full_text_index(lib):
    """The ComfyUI render: sdxl_base checkpoint, film_grain LoRA, dpmpp_2m with karras, seed 123456789, 30
    steps, negative "blurry, watermark". The A1111 one: dreamshaper_8, fluffy LoRA, Euler a, seed 42."""

    def ids(*flags):
        return cli(lib, "ls", "--ids", *flags).stdout.split()

    assert ids("--lora", "FILM") == ["1"] and ids("--lora", "fluffy") == ["2"] and ids("--lora", "nope") == []
    assert ids("--checkpoint", "dreamshaper") == ["2"] and ids("--checkpoint", "sdxl") == ["1"]
    assert ids("--seed", "123456789") == ["1"] and ids("--seed", "42") == ["2"] and ids("--seed", "4") == []
    assert (
        ids("--sampler", "euler a") == ["2"] and ids("--scheduler", "Karras") == ["1"] and ids("--steps", "25") == ["2"]
    )
    assert ids("--lora", "film", "--sampler", "euler a") == []  # filters combine with AND
    for words, found in (("watermark", "1"), ("film_grain", "1"), ("karras", "1"), ("fluffy", "2"), ("lowres", "2")):
        assert ids("--text", words) == [found], words
    # The same filters through the API and its query strings.
    from live_server import LiveServer

    with Library.open(lib) as library, LiveServer(library) as server:
        client = server.client(server.token("read"))
        listed = client.get("/api/v1/pictures", params={"loras": "film_grain", "sampler": "DPMPP_2M"}).json()
        assert [p["id"] for p in listed["items"]] == [1]
        assert client.get("/api/v1/pictures", params={"generation_seed": "12x"}).status_code == 422
        seeded = client.get("/api/v1/pictures", params={"generation_seed": "42", "sort": "random", "seed": 3}).json()
        assert [p["id"] for p in seeded["items"]] == [2]
        detail = client.get("/api/v1/pictures/1").json()
        assert detail["generation"]["scheduler"] == "karras"


def test_folders_list_counts_in_words_and_a_rescan_says_why_files_wait(lib, tmp_path):
    watched = tmp_path / "watched"
    watched.mkdir()
    photo(100, 100, seed=7).save(watched / "old.jpg")
    hour_ago = time.time() - 3600
    os.utime(watched / "old.jpg", (hour_ago, hour_ago))
    cli(lib, "folders", "add", "import", str(watched))
    listed = cli(lib, "folders", "list").stdout.splitlines()
    assert listed[0].split() == ["ID", "KIND", "PICTURES", "LAST", "SCAN", "PATH"]
    assert listed[1].split()[:3] == ["1", "import", "1"] and listed[1].endswith(str(watched))
    # A file still being written: empty so far. (A file written just now would also wait, but only for the
    # settle time, which a slow CLI start on a busy machine can outlast.)
    (watched / "new.jpg").touch()
    rescan = cli(lib, "folders", "rescan").stdout
    assert "folder 1: imported 0, duplicates 0, skipped 0" in rescan
    assert "waiting for 1 file modified in the last few seconds or still empty" in rescan
    assert "waiting 1" not in rescan


def test_long_commands_report_progress_in_a_log(lib, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(12):
        photo(64, 64, seed=100 + n).save(folder / f"p{n}.png")
    env = {"PIXLSTASH_PROGRESS_SECONDS": "0"}  # a line per step, as a slow import writes every 2 s
    imported = run_cli("import", str(folder), "--library", lib, env=env)
    lines = [line for line in imported.stderr.splitlines() if line.startswith("importing: ")]
    assert lines and lines[-1].startswith("importing: 12 files") and "\x1b" not in imported.stderr
    snapshot = run_cli("snapshot", "create", "--library", lib, env=env)
    assert snapshot.stderr.startswith("taking a snapshot ...")


@pytest.mark.cli  # (click's completion variable)
def test_errors_are_one_line_unless_debug_and_help_reads_well(lib):
    broken = cli(lib, "ls", "--in-set", "Nope", check=False)
    assert broken.returncode == 1 and broken.stderr == "error: no set named 'Nope'\n"
    debug = run_cli("--debug", "ls", "--in-set", "Nope", "--library", lib, check=False)
    assert (
        debug.returncode == 1 and "Traceback" in debug.stderr and debug.stderr.endswith("error: no set named 'Nope'\n")
    )
    usage = run_cli("ls", "--rating-min", "x", check=False)
    assert usage.returncode == 2 and "Invalid value for '--rating-min'" in usage.stderr
    top = run_cli("--help").stdout
    for command in ("import", "ls", "tag", "rate", "caption", "add", "remove", "scrap", "project", "set", "character"):
        assert f"\n  {command} " in top, command
    for command in (["import"], ["ls"], ["tag", "add"], ["rate"], ["add"], ["set", "create"], ["snapshot", "restore"]):
        text = run_cli(*command, "--help").stdout
        assert text.startswith(f"Usage: pixlstash {' '.join(command)} "), command
        assert "Example" in text or command[0] in ("set", "snapshot"), command
    assert "--lora NAME" in run_cli("ls", "--help").stdout
    completion = run_cli(env={"_PIXLSTASH_COMPLETE": "bash_source"}).stdout
    assert "_pixlstash_completion()" in completion


@pytest.mark.cli  # (HF_ENDPOINT: read when huggingface_hub is imported)
def test_models_pull_without_network_fails_at_once_in_one_line(tmp_path):
    started = time.monotonic()
    pulled = run_cli(
        "models",
        "pull",
        "wd-tagger",
        "--library",
        str(tmp_path / "lib"),
        check=False,
        env={"HF_ENDPOINT": "http://127.0.0.1:9"},  # a closed port: as quick a refusal as no network
    )
    assert time.monotonic() - started < 15
    assert pulled.returncode == 1 and len(pulled.stderr.splitlines()) == 1, pulled.stderr
    assert pulled.stderr.startswith("error: no network (127.0.0.1 cannot be reached")
    assert "copy the model files of wd-tagger/" in pulled.stderr and "Traceback" not in pulled.stderr


def test_on_a_terminal_tables_are_drawn_progress_shown_and_names_escaped(lib, tmp_path):
    """A person at a terminal gets rich's table and a live bar; a hostile file name is shown escaped."""
    import pty
    import sys

    folder = tmp_path / "more"
    folder.mkdir()
    photo(90, 90, seed=50).save(folder / "bad\x1b[31mred.png")
    for n in range(5):
        photo(90, 90, seed=60 + n).save(folder / f"more{n}.png")

    def at_terminal(*args: str) -> str:
        pid, fd = pty.fork()
        if pid == 0:
            env = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}
            env.update(COLUMNS="150", TERM="xterm")
            os.execve(sys.executable, [sys.executable, "-m", "pixlstash", *args, "--library", lib], env)
        shown = b""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
        os.waitpid(pid, 0)
        os.close(fd)
        return shown.decode(errors="replace")

    imported = at_terminal("import", str(folder))
    assert "imported 6, duplicates 0, skipped 0" in imported
    listed = at_terminal("ls", "--sort", "imported_at")
    assert "ID" in listed and "FILE" in listed and "─" in listed  # rich's header rule
    assert "bad\\x1b[31mred.png" in listed and "\x1b[31mred" not in listed


def test_undo_redo_and_history_share_the_browser_s_steps(lib):
    cli(lib, "rate", "1,2", "4")
    cli(lib, "set", "create", "Keep")
    cli(lib, "add", "1", "--to-set", "Keep")
    history = cli(lib, "history").stdout
    assert history.splitlines()[0].split() == ["ID", "WHEN", "STATE", "STEP"]
    assert "Add 1 picture to Keep" in history and "Rate 2 pictures ★★★★" in history
    assert cli(lib, "undo").stdout == "undone: Add 1 picture to Keep\n"
    assert cli(lib, "undo").stdout == "undone: Create the set Keep\n"
    assert cli(lib, "undo").stdout == "undone: Rate 2 pictures ★★★★\n"
    with Library.open(lib) as library:
        assert [library.get(i).rating for i in (1, 2)] == [0, 0]
        assert library.collections.collections("set") == []
        assert library.edits.history().can_redo  # the same history a browser on this library sees
    assert json.loads(cli(lib, "redo", "--json").stdout)["label"] == "Rate 2 pictures ★★★★"
    cli(lib, "redo")
    cli(lib, "redo")
    with Library.open(lib) as library:
        (keep,) = library.collections.collections("set")
        assert (keep.name, keep.member_count) == ("Keep", 1)
    nothing = cli(lib, "redo", check=False)
    assert (nothing.returncode, nothing.stderr) == (1, "nothing to redo\n")
    assert json.loads(cli(lib, "history", "--json").stdout)["can_redo"] is False
    # One command that files pictures in several places is one step, undone at once.
    cli(lib, "add", "1,2", "--to-set", "Keep", "--to-character", "Kept")
    assert cli(lib, "undo").stdout == "undone: Add 2 pictures to character 'Kept', set 'Keep'\n"
    with Library.open(lib) as library:
        assert [c.member_count for c in library.collections.collections("set")] == [1]
        assert [c.member_count for c in library.collections.collections("character")] == [0]
