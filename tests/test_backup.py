"""Whole-library backups through the CLI, on a real library: what is in them, incremental runs, checks
that find damage, restores into a new folder that opens as the same library, backups made while
another process writes, and kill -9 in the middle of a backup or a restore."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from conftest import run_cli
from corpus import photo
from live_server import make_pictures

from pixlstash.auth import Authenticator
from pixlstash.backups import create_backup, restore_backup, verify_backup
from pixlstash.library import Library

ENV = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}


@pytest.fixture
def filled(tmp_path):
    """A library with originals, an edit in its history, an account, a snapshot, and a reference folder."""
    root = tmp_path / "lib"
    with Library.open(root) as library:
        ids = make_pictures(library, tmp_path / "in", 6)
        library.edits.set_fields(ids[:3], rating=4)
        library.edits.tag(ids[:2], add=["kept"])
        snapshots = library.new_snapshot_service()
        snapshots.take("MANUAL", "before the backup")
        snapshots.close()
        ref = tmp_path / "ref"
        ref.mkdir()
        photo(200, 150, seed=77).save(ref / "where-it-is.png")
        folder = library.folder_sync.add("reference", ref)
        library.folder_sync.scan(folder.id)
    auth = Authenticator(root)
    auth.create_user("owner", "correct horse battery")
    auth.close()
    return root


def _state(root: Path) -> dict:
    """What a person would notice: pictures and ratings, tags, snapshots, the undo history."""
    with Library.open(root) as library:
        snapshots = library.new_snapshot_service()
        labels = [s.label for s in snapshots.list()]
        snapshots.close()
        return {
            "pictures": library.db.query("SELECT content_hash, rating, managed FROM pictures ORDER BY content_hash"),
            "tags": library.db.query(
                "SELECT p.content_hash, t.name FROM picture_tags pt JOIN pictures p ON p.id = pt.picture_id"
                " JOIN tags t ON t.id = pt.tag_id ORDER BY 1, 2"
            ),
            "snapshots": labels,
            "steps": [step.label for step in library.edits.history().steps],
        }


@pytest.mark.parametrize("kind", ["folder", "tar"])
def test_a_backup_restores_into_the_same_library(filled, tmp_path, kind):
    target = tmp_path / ("backup" if kind == "folder" else "backup.tar")
    made = run_cli("backup", "create", str(target), "--library", str(filled), "--json", "--with-accounts")
    assert made.returncode == 0, made.stderr
    report = json.loads(made.stdout)
    assert report["problems"] == [] and report["files_written"] == report["files"]
    checked = run_cli("backup", "verify", str(target))
    assert checked.returncode == 0 and "is whole" in checked.stdout and "1 in reference folders" in checked.stdout
    restored = tmp_path / "restored"
    done = run_cli("backup", "restore", str(target), "--to", str(restored))
    assert done.returncode == 0, done.stderr
    assert _state(restored) == _state(filled)
    with Library.open(restored) as library:  # the originals are there, byte for byte
        for content_hash, suffix, managed, _missing in library.pictures.file_states():
            if managed:
                assert library.store.exists(content_hash, suffix)
    auth = Authenticator(restored)
    assert auth.login("owner", "correct horse battery", "127.0.0.1").secret  # the account came along
    auth.close()


def test_the_next_backup_into_a_folder_writes_only_what_is_new(filled, tmp_path):
    target = tmp_path / "backup"
    with Library.open(filled) as library:
        first = create_backup(library.backup_source(), target)
        again = create_backup(library.backup_source(), target)
        assert again.files_written == 3  # the databases only: library, history, snapshot catalog (no accounts)
        assert again.bytes_written < first.bytes_written and again.files == first.files
        make_pictures(library, tmp_path / "more", 1, seed=9)
        third = create_backup(library.backup_source(), target)
    assert third.files_written == 4  # three databases and the one new original
    manifest, problems = verify_backup(target)
    assert problems == [] and manifest.pictures == 8


def test_damage_is_found_and_a_damaged_backup_restores_nothing(filled, tmp_path):
    target = tmp_path / "backup"
    with Library.open(filled) as library:
        create_backup(library.backup_source(), target)
    [original] = sorted((target / "originals").rglob("*.png"))[:1]
    data = bytearray(original.read_bytes())
    data[len(data) // 2] ^= 0xFF
    original.write_bytes(bytes(data))
    manifest_db = next((target / "databases").rglob("history.db"))
    manifest_db.unlink()
    checked = run_cli("backup", "verify", str(target), check=False)
    assert checked.returncode == 1
    lines = checked.stdout.strip().splitlines()
    assert any(line.startswith("damaged: originals/") for line in lines), lines
    assert any(line.startswith("missing: databases/") and line.endswith("history.db") for line in lines), lines
    refused = run_cli("backup", "restore", str(target), "--to", str(tmp_path / "restored"), check=False)
    assert refused.returncode != 0 and "backup is damaged" in refused.stderr
    assert not (tmp_path / "restored").exists()
    assert not list(tmp_path.glob(".restored.restoring-*"))


def test_restore_only_into_a_new_or_empty_folder(filled, tmp_path):
    target = tmp_path / "backup"
    with Library.open(filled) as library:
        create_backup(library.backup_source(), target)
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("mine")
    refused = run_cli("backup", "restore", str(target), "--to", str(occupied), check=False)
    assert refused.returncode != 0 and "not empty" in refused.stderr
    assert (occupied / "keep.txt").read_text() == "mine"
    inside = run_cli("backup", "create", str(filled / "backups"), "--library", str(filled), check=False)
    assert inside.returncode != 0 and "inside the library" in inside.stderr
    assert run_cli("backup", "verify", str(tmp_path / "nothing-here"), check=False).returncode == 1


def test_a_backup_made_while_another_process_writes_is_consistent(filled, tmp_path):
    writing = threading.Event()
    stop = threading.Event()

    def write() -> None:
        with Library.open(filled) as library:
            ids = [row[0] for row in library.db.query("SELECT id FROM pictures")]
            n = 0
            while not stop.is_set():
                library.edits.set_fields(ids, rating=n % 5 + 1)
                writing.set()
                n += 1

    writer = threading.Thread(target=write)
    writer.start()
    writing.wait(30)
    try:
        for n in range(3):
            made = run_cli("backup", "create", str(tmp_path / f"b{n}"), "--library", str(filled), process=True)
            assert made.returncode == 0, made.stderr
    finally:
        stop.set()
        writer.join(30)
    for n in range(3):
        assert verify_backup(tmp_path / f"b{n}")[1] == []
        restore_backup(tmp_path / f"b{n}", tmp_path / f"r{n}")
        with Library.open(tmp_path / f"r{n}") as library:
            assert library.db.scalar("PRAGMA integrity_check") == "ok"
            assert len({r for (r,) in library.db.query("SELECT rating FROM pictures WHERE managed = 1")}) == 1


def _killed(code: str, module: str, attribute: str, nth: int) -> None:
    """Run ``code`` in a child that SIGKILLs itself on the ``nth`` call of ``module.attribute`` (the real
    code otherwise: only that one callable is wrapped)."""
    owner, _, name = f"target.{attribute}".rpartition(".")
    script = (
        textwrap.dedent(
            f"""
        import os, signal
        from pathlib import Path
        import {module} as target
        from pixlstash.backups import create_backup, restore_backup
        from pixlstash.library import Library
        calls = [0]
        real = getattr({owner}, {name!r})

        def dying(*args, **kwargs):
            calls[0] += 1
            if calls[0] == {nth}:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)

        setattr({owner}, {name!r}, dying)
        """
        )
        + code
        + "\nraise SystemExit('not killed')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], env=ENV, capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr


@pytest.mark.parametrize("kind", ["folder", "tar"])
def test_kill_9_during_a_backup_leaves_nothing_that_passes_for_one(filled, tmp_path, kind):
    suffix = "" if kind == "folder" else ".tar"
    earlier, fresh = tmp_path / f"earlier{suffix}", tmp_path / f"fresh{suffix}"
    writer = "_FolderWriter" if kind == "folder" else "_TarWriter"
    with Library.open(filled) as library:
        create_backup(library.backup_source(), earlier)
        make_pictures(library, tmp_path / "more", 2, seed=5)
    for path in (earlier, fresh):  # an earlier backup being made again, and a first one
        code = (
            f"with Library.open({str(filled)!r}) as library:\n"
            f"    create_backup(library.backup_source(), Path({str(path)!r}))"
        )
        # Three databases (no accounts), then the originals: killed on the second original.
        _killed(code, "pixlstash.backups.archive", f"{writer}.put_file", 5)
    manifest, problems = verify_backup(earlier)  # the earlier backup is still whole, as it was
    assert problems == [] and manifest.pictures == 7
    assert verify_backup(fresh)[1] != []  # the one cut short does not pass for a backup
    with Library.open(filled) as library:  # and the next run completes
        create_backup(library.backup_source(), fresh)
        create_backup(library.backup_source(), earlier)
    assert verify_backup(fresh)[1] == [] and verify_backup(earlier)[0].pictures == 9
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".") and "partial" in p.name]  # nothing left over


def test_kill_9_during_a_restore_leaves_no_library(filled, tmp_path):
    target = tmp_path / "backup"
    with Library.open(filled) as library:
        create_backup(library.backup_source(), target)
    to = tmp_path / "restored"
    _killed(f"restore_backup(Path({str(target)!r}), Path({str(to)!r}))", "pixlstash.backups.restore", "_check_file", 4)
    assert not to.exists()  # a restore cut short is not a library
    restore_backup(target, to)  # what it left is cleared, and a restore works
    assert not list(tmp_path.glob(".restored.restoring-*"))
    assert _state(to) == _state(filled)


def test_a_backup_killed_with_the_server_is_reported_unfinished(filled, tmp_path):
    target = tmp_path / "nightly"
    code = (
        "from pixlstash.backups.runner import BackupRunner\n"
        "from pixlstash.db.settings import SettingsStore\n"
        f"with Library.open({str(filled)!r}) as library:\n"
        "    settings = SettingsStore(library.db, 'settings')\n"
        "    runner = BackupRunner(library.plugin_manager, library.plugin_settings, library.backup_source, settings)\n"
        f"    runner.start({str(target)!r})\n"
        "    runner.wait()\n"
    )
    _killed(code, "pixlstash.backups.archive", "_FolderWriter.put_file", 2)
    from pixlstash.backups.runner import BackupRunner
    from pixlstash.db.settings import SettingsStore

    with Library.open(filled) as library:
        settings = SettingsStore(library.db, "settings")
        runner = BackupRunner(library.plugin_manager, library.plugin_settings, library.backup_source, settings)
        status = runner.status()
        assert not status.running and status.last is None
        assert f"the backup to {target} did not finish" in status.last_error
        runner.start(str(target))  # the next one runs, and says nothing of the old failure once done
        runner.wait()
        status = runner.status()
        assert status.last_error is None and status.last.target == str(target)
