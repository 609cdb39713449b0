"""Backups someone crafted to write, read or fill where they should not, and the mistakes that used to
replace a good backup: each is refused with one line, and nothing outside the target is ever touched."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import apsw
import pytest
from conftest import run_cli
from live_server import make_pictures

from pixlstash.auth import Authenticator
from pixlstash.backups import create_backup, kept_backups, restore_backup, verify_backup
from pixlstash.backups.archive import MANIFEST
from pixlstash.errors import PixlstashError
from pixlstash.library import Library


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=32).hexdigest()


@pytest.fixture
def library_root(tmp_path) -> Path:
    root = tmp_path / "lib"
    with Library.open(root) as library:
        ids = make_pictures(library, tmp_path / "in", 3)
        library.edits.tag(ids, add=["kept"])
    auth = Authenticator(root)
    auth.create_user("owner", "correct horse battery")
    auth.close()
    return root


@pytest.fixture
def good_tar(library_root, tmp_path) -> Path:
    target = tmp_path / "good.tar"
    with Library.open(library_root) as library:
        create_backup(library.backup_source(), target)
    return target


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def _crafted_tar(good: Path, out: Path, extra: dict[str, bytes], manifest_change=None) -> Path:
    """The good backup again, with ``extra`` members listed in its manifest (as a crafted one would be)."""
    members = _members(good)
    manifest = json.loads(members.pop(MANIFEST))
    for name, data in extra.items():
        manifest["files"][name] = {"size": len(data), "blake2b": _digest(data)}
    if manifest_change:
        manifest_change(manifest)
    with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in {**members, **extra, MANIFEST: json.dumps(manifest).encode()}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def _refused(source: Path, to: Path, *words: str) -> str:
    done = run_cli("backup", "restore", str(source), "--to", str(to), check=False)
    assert done.returncode == 1, (done.stdout, done.stderr)
    lines = [line for line in done.stderr.strip().splitlines() if line]
    assert len(lines) == 1 and all(word in lines[0] for word in words), lines
    assert not to.exists()
    return lines[0]


def test_member_names_outside_the_layout_are_refused_and_nothing_is_written(good_tar, tmp_path):
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "abs_escape.txt").write_text("mine")
    relative = _crafted_tar(good_tar, tmp_path / "rel.tar", {"../../rel_escape.txt": b"escaped"})
    absolute = _crafted_tar(good_tar, tmp_path / "abs.tar", {str(victim / "abs_escape.txt"): b"overwritten"})

    def evil_database(manifest):
        manifest["databases"]["../../../x.txt"] = "databases/evil/x.db"

    place = _crafted_tar(good_tar, tmp_path / "place.tar", {"databases/evil/x.db": b"x"}, evil_database)
    for crafted in (relative, absolute, place):
        to = deep / f"restored-{crafted.stem}"
        line = _refused(crafted, to, "not a PixlStash backup")
        assert "rel_escape" in line or "abs_escape" in line or "x.txt" in line or "evil" in line
        checked = run_cli("backup", "verify", str(crafted), check=False)
        assert checked.returncode == 1 and "not a PixlStash backup" in checked.stdout
    assert not list(tmp_path.rglob("rel_escape.txt")) and not list(tmp_path.rglob("x.txt"))
    assert (victim / "abs_escape.txt").read_text() == "mine"
    assert sorted(p.name for p in deep.iterdir()) == []  # no staging folder left behind either


def test_a_folder_backup_is_read_without_leaving_it(library_root, tmp_path):
    backup = tmp_path / "backup"
    with Library.open(library_root) as library:
        create_backup(library.backup_source(), backup)
    secret = tmp_path / "outside_secret.txt"
    secret.write_text("the neighbour's diary")
    # A manifest entry that names a file outside the backup is refused by name ...
    manifest = json.loads((backup / MANIFEST).read_text())
    manifest["files"]["../outside_secret.txt"] = {"size": 21, "blake2b": _digest(secret.read_bytes())}
    (backup / MANIFEST).write_text(json.dumps(manifest))
    _refused(backup, tmp_path / "r1", "not a PixlStash backup", "outside_secret")
    # ... and an original's place that is a link to it is never followed.
    manifest["files"].pop("../outside_secret.txt")
    name = next(n for n in manifest["files"] if n.startswith("originals/"))
    link_name = name.rsplit("/", 1)[0] + "/" + "ab" * 32 + ".png"
    link_name = f"originals/ab/ab/{'ab' * 32}.png"
    (backup / link_name).parent.mkdir(parents=True)
    os.symlink(secret, backup / link_name)
    manifest["files"][link_name] = {"size": 21, "blake2b": _digest(secret.read_bytes())}
    (backup / MANIFEST).write_text(json.dumps(manifest))
    _refused(backup, tmp_path / "r2", "is a link")
    # a link on the way (a folder) is not followed either
    os.unlink(backup / link_name)
    (backup / "originals" / "ab" / "ab").rmdir()
    outside_folder = tmp_path / "elsewhere"
    outside_folder.mkdir()
    shutil.copy(secret, outside_folder / f"{'ab' * 32}.png")
    os.symlink(outside_folder, backup / "originals" / "ab" / "ab")
    _refused(backup, tmp_path / "r3", "is a link")
    assert verify_backup(backup)[1] and "is a link" in verify_backup(backup)[1][0]
    assert not list(tmp_path.glob("r?"))


def _replace_member(good: Path, out: Path, name_part: str, data: bytes) -> Path:
    """The good backup with the member whose name ends in ``name_part`` replaced (manifest updated to match)."""
    members = _members(good)
    manifest = json.loads(members.pop(MANIFEST))
    [name] = [n for n in members if n.endswith(name_part)]
    members[name] = data
    manifest["files"][name] = {"size": len(data), "blake2b": _digest(data)}
    with tarfile.open(out, "w") as tar:
        for member, content in {**members, MANIFEST: json.dumps(manifest).encode()}.items():
            info = tarfile.TarInfo(member)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return out


def test_a_database_that_is_not_one_is_refused_by_restore_as_by_verify(good_tar, tmp_path):
    text = _replace_member(good_tar, tmp_path / "text.tar", "/library.db", b"not a database at all " * 100)
    assert any("fails SQLite's check" in p for p in verify_backup(text)[1])
    _refused(text, tmp_path / "r1", "fails SQLite's check")
    other = tmp_path / "other.db"
    connection = apsw.Connection(str(other))
    connection.execute("CREATE TABLE notes(text)")
    connection.close()
    foreign = _replace_member(good_tar, tmp_path / "foreign.tar", "/library.db", other.read_bytes())
    _refused(foreign, tmp_path / "r2", "not a PixlStash library")


def test_a_sparse_or_oversized_member_cannot_fill_the_disk(good_tar, tmp_path):
    # GNU tar's sparse member: a 2 GiB file of holes in an archive of a few kilobytes.
    holes = tmp_path / "sparse" / "originals" / "cd" / "cd" / f"{'cd' * 32}.png"
    holes.parent.mkdir(parents=True)
    with open(holes, "wb") as out:
        out.truncate(2 << 30)
    sparse = tmp_path / "sparse.tar"
    subprocess.run(["tar", "--sparse", "-cf", str(sparse), "-C", str(tmp_path / "sparse"), "originals"], check=True)
    assert sparse.stat().st_size < 1 << 20
    members = _members(good_tar)
    manifest = json.loads(members.pop(MANIFEST))
    manifest["files"][f"originals/cd/cd/{'cd' * 32}.png"] = {"size": 2 << 30, "blake2b": "0" * 64}
    with tarfile.open(sparse, "a") as tar:
        for name, data in {**members, MANIFEST: json.dumps(manifest).encode()}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with tarfile.open(sparse) as tar:
        assert any(m.issparse() for m in tar.getmembers())
    line = _refused(sparse, tmp_path / "r1", "sparse")
    assert "cdcd" in line
    # A plain member longer than its manifest entry is read no further than one byte past it.
    data = os.urandom(4 << 20)
    big = _crafted_tar(good_tar, tmp_path / "big.tar", {f"originals/ef/ef/{'ef' * 32}.png": data})
    members = _members(big)
    manifest = json.loads(members[MANIFEST])
    manifest["files"][f"originals/ef/ef/{'ef' * 32}.png"]["size"] = 10
    _crafted_tar(big, tmp_path / "lying.tar", {}, lambda m: m["files"].update(manifest["files"]))
    _refused(tmp_path / "lying.tar", tmp_path / "r2", "larger than the manifest says")
    # A manifest that asks for more room than the disk has is refused before anything is written.
    huge = _crafted_tar(good_tar, tmp_path / "huge.tar", {})
    members = _members(huge)
    manifest = json.loads(members[MANIFEST])
    first = next(n for n in manifest["files"] if n.startswith("originals/"))
    manifest["files"][first]["size"] = 1 << 60
    _crafted_tar(huge, tmp_path / "huge2.tar", {}, lambda m: m["files"].update(manifest["files"]))
    _refused(tmp_path / "huge2.tar", tmp_path / "r3", "not enough space")


def test_a_damaged_archive_is_said_so(good_tar, tmp_path):
    data = bytearray(good_tar.read_bytes())
    data[148:156] = b"0000000\x00"  # the first header's checksum
    broken = tmp_path / "broken.tar"
    broken.write_bytes(bytes(data))
    checked = run_cli("backup", "verify", str(broken), check=False)
    assert checked.returncode == 1
    assert checked.stdout.strip().startswith("damaged archive:") and "Traceback" not in checked.stderr
    cut = tmp_path / "cut.tar"
    cut.write_bytes(good_tar.read_bytes()[: good_tar.stat().st_size // 2])
    assert any(p.startswith(("damaged archive", "missing", "not a complete")) for p in verify_backup(cut)[1])
    _refused(broken, tmp_path / "r1", "damaged archive")


def test_a_link_inside_the_backup_folder_is_never_followed(library_root, tmp_path):
    victim = tmp_path / "victim"
    (victim / "Photos2025").mkdir(parents=True)
    (victim / "Photos2025" / "beach.jpg").write_bytes(b"holiday")
    backup = tmp_path / "backup"
    with Library.open(library_root) as library:
        create_backup(library.backup_source(), backup)
        shutil.rmtree(backup / "databases")
        os.symlink(victim, backup / "databases")
        with pytest.raises(PixlstashError, match="is a link"):
            create_backup(library.backup_source(), backup)
    assert (victim / "Photos2025" / "beach.jpg").read_bytes() == b"holiday"
    done = run_cli("backup", "create", str(backup), "--library", str(library_root), check=False)
    assert done.returncode == 1 and "is a link" in done.stderr
    assert (victim / "Photos2025" / "beach.jpg").read_bytes() == b"holiday"


def test_a_mistyped_library_is_refused_and_a_smaller_one_never_replaces_a_backup(library_root, tmp_path):
    backup = tmp_path / "backup"
    assert run_cli("backup", "create", str(backup), "--library", str(library_root)).returncode == 0
    typo = tmp_path / "libb"
    done = run_cli("backup", "create", str(backup), "--library", str(typo), check=False)
    assert done.returncode == 1 and "no library at" in done.stderr
    assert not typo.exists()  # nothing was made there
    assert verify_backup(backup)[0].pictures == 3
    for command in (["ls"], ["tag", "add", "1", "x"], ["snapshot", "list"], ["export", "1", "--to", str(tmp_path)]):
        refused = run_cli(*command, "--library", str(typo), check=False)
        assert refused.returncode == 1 and "no library at" in refused.stderr, command
        assert not typo.exists(), command
    # A library with fewer pictures does not replace the backup of more without --force ...
    smaller = tmp_path / "smaller"
    with Library.open(smaller) as library:
        make_pictures(library, tmp_path / "few", 1, seed=4)
    done = run_cli("backup", "create", str(backup), "--library", str(smaller), check=False)
    assert done.returncode == 1 and "holds a backup of 3 pictures" in done.stderr
    assert verify_backup(backup)[0].pictures == 3
    # ... and with it, the earlier backups' databases stay in the folder, restorable by id.
    forced = run_cli("backup", "create", str(backup), "--library", str(smaller), "--force")
    assert forced.returncode == 0, forced.stderr
    for _ in range(2):
        run_cli("backup", "create", str(backup), "--library", str(smaller))
    kept = kept_backups(backup)
    assert [m.pictures for m in kept] == [1, 1, 1]  # the last three
    listed = run_cli("backup", "list", str(backup)).stdout.strip().splitlines()
    assert len(listed) == 3 and all("1 picture" in line for line in listed)
    forced = run_cli("backup", "create", str(backup), "--library", str(library_root), "--force")
    oldest = kept_backups(backup)[-1]
    restore_backup(backup, tmp_path / "older", backup_id=oldest.backup_id)
    with Library.open(tmp_path / "older") as library:
        assert library.db.scalar("SELECT count(*) FROM pictures") == 1
    restore_backup(backup, tmp_path / "newest")
    with Library.open(tmp_path / "newest") as library:
        assert library.db.scalar("SELECT count(*) FROM pictures") == 3


def test_accounts_and_plugin_secrets_stay_out_unless_asked_for(library_root, tmp_path):
    with Library.open(library_root) as library:
        library.plugin_settings.update("openai-vision", {"api_key": "sk-very-secret-key"})
        library.db.execute(
            "INSERT INTO settings(key, value) VALUES ('plugin:gone', ?)",
            (json.dumps({"access_token": "tok-of-a-plugin-no-longer-here", "size": 3}),),
        )
    backup = tmp_path / "backup.tar"
    made = run_cli("backup", "create", str(backup), "--library", str(library_root))
    assert "accounts and the secret settings" in made.stdout and "openai-vision.api_key" in made.stdout
    raw = backup.read_bytes()
    assert b"sk-very-secret-key" not in raw and b"tok-of-a-plugin" not in raw and b"auth.db" not in raw
    restored = tmp_path / "restored"
    done = run_cli("backup", "restore", str(backup), "--to", str(restored))
    assert "first-run setup" in done.stdout
    auth = Authenticator(restored)
    assert auth.store.user_count() == 0  # the server starts with first-run setup
    auth.close()
    with Library.open(restored) as library:
        assert library.plugin_settings.get("openai-vision").api_key == ""
    with_accounts = tmp_path / "with.tar"
    made = run_cli("backup", "create", str(with_accounts), "--library", str(library_root), "--with-accounts")
    assert "in clear" in made.stdout
    assert b"sk-very-secret-key" in with_accounts.read_bytes()
