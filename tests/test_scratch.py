"""Scratch space: a process never removes another live process's files, and what dead ones left goes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import httpx
from conftest import run_cli
from corpus import photo
from live_server import LiveServer

from pixlstash.system.scratch import ScratchArea, sweep

HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from pixlstash.system.scratch import ScratchArea
    area = ScratchArea(Path(sys.argv[1]))
    (area.path / "copy.db").write_bytes(b"x" * 4096)
    print(area.path, flush=True)
    time.sleep(600)
""")


def _holder(parent) -> tuple[subprocess.Popen, str]:
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(parent)], stdout=subprocess.PIPE, text=True)
    return child, child.stdout.readline().strip()


def test_live_scratch_is_kept_and_a_killed_process_scratch_is_swept(tmp_path):
    parent = tmp_path / "tmp"
    child, child_folder = _holder(parent)
    try:
        mine = ScratchArea(parent)  # sweeps on creation: the live child's folder must survive
        assert os.path.isdir(child_folder) and sweep(parent) == 0
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert os.path.isdir(child_folder)  # the kernel dropped the lock, the files are still there
        assert sweep(parent) == 2  # the folder and its lock file
        assert not os.path.exists(child_folder) and mine.path.is_dir()
        mine.close()
        assert list(parent.iterdir()) == []
    finally:
        child.kill()


def test_a_cli_command_during_an_upload_leaves_the_upload_alone(library, tmp_path):
    """`pixlstash ls --count` used to empty tmp/, failing every upload and archive import in flight."""
    image = tmp_path / "slow.png"
    photo(300, 200, seed=5).save(image)
    boundary = "pixlstash-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    data = image.read_bytes()
    tail = f"\r\n--{boundary}--\r\n".encode()
    in_flight = []

    def body():
        yield head + data[: len(data) // 2]
        in_flight.append(True)
        # While the first half waits in this process's scratch folder, another process opens the library.
        counted = run_cli("ls", "--count", "--library", str(library.root))
        assert counted.stdout.strip() == "0"
        yield data[len(data) // 2 :] + tail

    with LiveServer(library) as server:
        response = httpx.post(
            f"{server.url}/api/v1/uploads",
            content=body(),
            timeout=60,
            headers={
                "Authorization": f"Bearer {server.token('write')}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
    assert in_flight and response.status_code == 200, response.text
    assert len(response.json()["imported"]) == 1 and library.count() == 1


def test_a_killed_snapshot_copy_is_swept_at_start_and_before_each_snapshot(library, tmp_path):

    parent = library.root / "snapshots" / "scratch"
    service = library.new_snapshot_service()  # a long-running process (the server)
    try:
        child, child_folder = _holder(parent)
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert os.path.exists(os.path.join(child_folder, "copy.db"))
        service.take("MANUAL")  # before each snapshot
        assert not os.path.exists(child_folder)
        child, child_folder = _holder(parent)
        child.send_signal(signal.SIGKILL)
        child.wait()
        started = library.new_snapshot_service()  # and at start
        assert not os.path.exists(child_folder)
        started.close()
    finally:
        service.close()
    deadline = time.monotonic() + 5
    while list(parent.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(parent.iterdir()) == []
