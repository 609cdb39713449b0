"""A restored library does not race the library it came from for its watched import folder: its folders
start paused (the restore says so), and resuming one that another running library watches is refused in
one line, until that library stops (even killed with -9)."""

from __future__ import annotations

import fcntl
import json
import os

import httpx
import pytest
from conftest import run_cli, wait_for
from corpus import photo
from serve_process import ServeProcess

from pixlstash.domain import FolderOptions
from pixlstash.errors import Conflict
from pixlstash.importing.folder_claims import CLAIM_NAME
from pixlstash.library import Library


def _count(root) -> int:
    with Library.open(root, create=False) as library:
        return library.db.scalar("SELECT count(*) FROM pictures")


def _claimed(inbox) -> bool:
    """Whether a running process holds the inbox's claim (tried as another process would)."""
    path = inbox / CLAIM_NAME
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


@pytest.fixture
def watched(tmp_path):
    """A library watching ~/Inbox (files deleted once stored), backed up and restored beside it."""
    inbox, main = tmp_path / "Inbox", tmp_path / "main"
    inbox.mkdir()
    with Library.open(main) as library:
        library.folder_sync.add("import", inbox, FolderOptions(delete_after_import=True, settle_seconds=0))
    run_cli("backup", "create", str(tmp_path / "backup.tar"), "--library", str(main))
    restored = run_cli("backup", "restore", str(tmp_path / "backup.tar"), "--to", str(tmp_path / "restored"))
    assert "1 watched folder" in restored.stdout and "are paused" in restored.stdout and str(inbox) in restored.stdout
    return inbox, main, tmp_path / "restored"


def test_a_restored_library_served_beside_its_original_takes_nothing_from_its_inbox(watched):
    inbox, main, restored = watched
    listed = run_cli("folders", "list", "--library", str(restored))
    assert "import (paused)" in listed.stdout
    first, copy = ServeProcess(main), ServeProcess(restored)
    try:
        wait_for(lambda: _claimed(inbox), "the library's server to watch its inbox")
        for n in range(20):
            photo(80 + n, 60, seed=100 + n).save(inbox / f"render-{n:02d}.png")
        wait_for(lambda: not any(inbox.glob("*.png")) and _count(main) == 20, "the library to take all 20 files")
        # Resuming in the copy is refused while the library watches the inbox; the server says so too.
        refused = run_cli("folders", "resume", "1", "--library", str(restored), check=False)
        assert refused.returncode != 0 and f"watched by the library at {main}" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
        with httpx.Client(base_url=copy.url) as http:
            token = run_cli("token", "create", "--library", str(restored), "--scope", "admin", "--json").stdout
            headers = {"Authorization": f"Bearer {json.loads(token)['token']}"}
            answer = http.patch("/api/v1/folders/1", json={"paused": False}, headers=headers)
            assert answer.status_code == 409 and "watched by the library at" in answer.json()["error"]["message"]
    finally:
        copy.stop()
        first.kill()  # kill -9: the claim ends with the process
    assert _count(restored) == 0
    resumed = run_cli("folders", "resume", "1", "--library", str(restored))
    assert "watching again folder 1: " in resumed.stdout
    photo(70, 50, seed=7).save(inbox / "after.png")
    run_cli("folders", "rescan", "--library", str(restored))
    assert _count(restored) == 1


def test_another_library_cannot_add_a_watched_inbox_and_a_paused_folder_is_not_scanned(watched, tmp_path):
    inbox, main, restored = watched
    server = ServeProcess(main)
    try:
        wait_for(lambda: _claimed(inbox), "the library's server to watch its inbox")
        added = run_cli("folders", "add", "import", str(inbox), "--library", str(tmp_path / "third"), check=False)
        assert added.returncode != 0 and "watched by the library at" in added.stderr
        # Its own library's commands beside the server are not refused.
        assert run_cli("folders", "rescan", "1", "--library", str(main)).returncode == 0
    finally:
        server.stop()
    with Library.open(restored) as library, pytest.raises(Conflict, match="is paused: resume it first"):
        library.folder_sync.scan(1)
    assert "(paused)" in run_cli("folders", "list", "--library", str(restored)).stdout


def test_a_missing_inbox_is_named_with_how_to_make_it(tmp_path):
    missing = tmp_path / "Inbox"
    said = run_cli("folders", "add", "import", str(missing), "--library", str(tmp_path / "lib"), check=False)
    assert said.returncode != 0 and said.stderr.strip() == (
        f"error: {missing} does not exist: make it first (mkdir -p {missing}), then add it"
    )


def test_a_claim_file_planted_in_the_inbox_is_never_followed_nor_trusted(tmp_path):
    """The claim lies in a folder others may write to: a link there is not followed (what it points to is
    never written), and what a held claim says is shown as one line of plain text."""
    import subprocess
    import sys

    from pixlstash.importing.folder_claims import FolderClaims

    inbox, precious = tmp_path / "Inbox", tmp_path / "precious.txt"
    inbox.mkdir()
    precious.write_text("not yours")
    (inbox / CLAIM_NAME).symlink_to(precious)
    claims = FolderClaims(tmp_path / "lib")
    claims.claim(inbox)  # nothing to claim it with: no error, and the link's target is untouched
    assert precious.read_text() == "not yours"
    claims.release_all()
    (inbox / CLAIM_NAME).unlink()
    (inbox / CLAIM_NAME).write_text("/somewhere\nerror: forged second line\x1b[31m")
    holder = subprocess.Popen(  # another process holds the claim, as a running library would
        [sys.executable, "-c", "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR); "
         "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(600)", str(inbox / CLAIM_NAME)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(Conflict) as refused:
            FolderClaims(tmp_path / "lib").claim(inbox)
        assert "\n" not in refused.value.message and "\x1b" not in refused.value.message
        assert "watched by the library at /somewhere," in refused.value.message
    finally:
        holder.kill()
        holder.wait()
