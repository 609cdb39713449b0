"""kill -9 in the middle of work that writes scratch files: the work resumes, and no scratch stays.

Covers `snapshot create`, a restore killed during its safety snapshot, and an upload in flight to
`pixlstash serve` (`pixlstash enrich` is covered by test_cli_resume). Real processes, real signals.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from conftest import run_cli
from corpus import photo
from serve_process import free_port

from pixlstash.library import Library

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from synthetic_library import build

ENV = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pixlstash", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV
    )


def _kill_when(child: subprocess.Popen, ready, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert child.poll() is None, f"finished before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.002)
    child.send_signal(signal.SIGKILL)
    child.wait()


def _scratch_copies(root: Path) -> list[Path]:
    # The process being watched makes and removes these folders while we look: one that goes away
    # between listing and reading is simply not a copy (glob raises for it), so look again.
    while True:
        try:
            return list((root / "snapshots" / "scratch").glob("*/*/copy.db"))
        except FileNotFoundError:
            continue


def _leftovers(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.exists() else []


def _ratings(root: Path) -> set[int]:
    with Library.open(root) as library:
        assert library.db.scalar("PRAGMA integrity_check") == "ok"
        return {r for (r,) in library.db.query("SELECT DISTINCT rating FROM pictures")}


def test_killed_snapshot_and_restore_leave_no_scratch_and_run_again(tmp_path):
    root = tmp_path / "lib"
    build(root, pictures=20_000, tags_per_picture=5, sets=10, characters=3, log=lambda *_: None)
    with Library.open(root) as library:
        library.edits.set_fields(list(range(1, 20_001)), rating=1)

    _kill_when(
        _start("snapshot", "create", "--label", "killed", "--library", str(root)),
        lambda: _scratch_copies(root),
        "the snapshot's copy of the database",
    )
    assert _scratch_copies(root)  # a full copy of the database, left by the killed process
    run_cli("snapshot", "create", "--label", "A", "--library", str(root))
    assert _leftovers(root / "snapshots" / "scratch") == []
    listed = run_cli("snapshot", "list", "--json", "--library", str(root)).stdout
    assert '"A"' in listed and '"killed"' not in listed

    (snapshot,) = json.loads(listed)
    with Library.open(root) as library:
        library.edits.set_fields(list(range(1, 20_001)), rating=2)
    _kill_when(
        _start("snapshot", "restore", str(snapshot["id"]), "--library", str(root)),
        lambda: _scratch_copies(root),
        "the restore's safety snapshot",
    )
    assert _ratings(root) == {2}  # killed before the switch: the library is as it was
    run_cli("snapshot", "restore", str(snapshot["id"]), "--library", str(root))
    assert _ratings(root) == {1}
    assert _leftovers(root / "snapshots" / "scratch") == []


def test_a_server_killed_during_an_upload_leaves_no_scratch_and_the_upload_works_again(tmp_path):
    root, port = tmp_path / "lib", free_port()
    server = _start("serve", "--library", str(root), "--port", str(port))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/api/v1/version", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
                time.sleep(0.1)
        login = httpx.post(f"{url}/api/v1/setup", json={"username": "owner", "password": "correct horse battery"})
        assert login.status_code == 201, login.text
        image = tmp_path / "big.png"
        photo(900, 700, seed=3).save(image)
        data = image.read_bytes()
        boundary = "kill-test"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        half_sent = threading.Event()

        def body():
            yield head + data[: len(data) // 2]
            half_sent.set()
            time.sleep(30)  # the server is killed meanwhile
            yield data[len(data) // 2 :]

        def upload() -> None:
            try:
                httpx.post(
                    f"{url}/api/v1/uploads",
                    content=body(),
                    cookies=login.cookies,
                    timeout=60,
                    headers={
                        "Content-Type": f"multipart/form-data; boundary={boundary}",
                        "Origin": url,
                        "X-CSRF-Token": login.json()["csrf_token"],
                    },
                )
            except httpx.TransportError:
                pass  # the server died under it

        threading.Thread(target=upload, daemon=True).start()
        in_flight = lambda: half_sent.is_set() and any(p.is_file() for p in (root / "tmp").glob("*/*"))  # noqa: E731
        _kill_when(server, in_flight, "the upload's first half on disk")
    finally:
        server.kill()
    assert any(p.is_file() for p in (root / "tmp").glob("*/*"))  # what the killed server was receiving
    report = run_cli("import", str(image), "--library", str(root)).stdout
    assert "imported 1" in report
    assert _leftovers(root / "tmp") == []  # swept on open; the CLI's own scratch went when it closed
