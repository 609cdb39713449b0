"""Several processes on one library, with real processes: one server runs the background services (a
second refuses to start and names the first, a crashed one leaves nothing held), and writes made by
other processes beside it reach its live stream."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time

import httpx
from conftest import run_cli
from corpus import photo

ENV = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(root, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pixlstash", "serve", "--library", str(root), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def _wait_up(server: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/version", timeout=1)
            return
        except httpx.TransportError:
            assert server.poll() is None, server.communicate()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)


def test_one_server_per_library_and_a_crash_frees_it(tmp_path):
    root = tmp_path / "lib"
    first_port = _port()
    first = _serve(root, first_port)
    try:
        _wait_up(first, first_port)
        second = _serve(root, _port())
        _, err = second.communicate(timeout=60)
        assert second.returncode == 1
        assert f"PixlStash server (process {first.pid}) already runs the background services of" in err, err
        assert "Traceback" not in err
        first.send_signal(signal.SIGKILL)
        first.wait()
        third_port = _port()
        third = _serve(root, third_port)  # the kernel dropped the crashed server's lock
        try:
            _wait_up(third, third_port)
        finally:
            third.terminate()
            third.wait(20)
    finally:
        first.kill()


def test_a_headless_worker_runs_the_services_and_keeps_a_server_out(tmp_path):
    """``pixlstash worker`` is the same running instance without the web: it takes the service lock, watches
    import folders, and stops cleanly on SIGTERM, after which a server starts."""
    root, inbox = tmp_path / "lib", tmp_path / "inbox"
    inbox.mkdir()
    run_cli("folders", "add", "import", str(inbox), "--library", str(root))
    worker = subprocess.Popen(
        [sys.executable, "-m", "pixlstash", "worker", "--library", str(root), "--no-enrichment"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        assert "running folder watching, the snapshot schedule" in worker.stdout.readline()
        server = _serve(root, _port())
        _, err = server.communicate(timeout=60)
        assert server.returncode == 1
        assert f"PixlStash worker (process {worker.pid}) already runs the background services of" in err, err
        photo(200, 150, seed=3).save(inbox / "dropped.jpg")
        os.utime(inbox / "dropped.jpg", (time.time() - 60, time.time() - 60))  # settled: written a minute ago
        deadline = time.monotonic() + 30
        while "200x150" not in run_cli("ls", "--library", str(root)).stdout:
            assert time.monotonic() < deadline, "the worker did not import from the watched folder"
            time.sleep(0.5)
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
        assert worker.returncode == 0, err
        assert "stopped" in out and "Traceback" not in err
        port = _port()
        after = _serve(root, port)
        try:
            _wait_up(after, port)
        finally:
            after.terminate()
            after.wait(20)
    finally:
        worker.kill()


CHANGE_RATING = textwrap.dedent("""
    import sys
    from pixlstash.library import Library
    with Library.open(sys.argv[1]) as library:
        library.edits.set_fields([int(sys.argv[2])], rating=4)
""")


def test_writes_by_other_processes_reach_the_servers_live_stream(tmp_path):
    root, port = tmp_path / "lib", _port()
    server = _serve(root, port)
    try:
        _wait_up(server, port)
        token = json.loads(run_cli("token", "create", "--scope", "read", "--json", "--library", str(root)).stdout)
        events: list[dict] = []
        connected = threading.Event()

        def listen() -> None:
            headers = {"Authorization": f"Bearer {token['token']}"}
            url = f"http://127.0.0.1:{port}/api/v1/events"
            kind = None
            with contextlib.suppress(httpx.HTTPError), httpx.stream("GET", url, headers=headers, timeout=60) as stream:
                for line in stream.iter_lines():  # until the server stops
                    connected.set()
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: "):
                        events.append({"kind": kind, **json.loads(line[6:])})

        threading.Thread(target=listen, daemon=True).start()
        assert connected.wait(10)
        time.sleep(1.5)  # the server has taken its first look at the database

        def wait_for(kind: str) -> dict:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                found = [e for e in events if e["kind"] == kind]
                if found:
                    return found[0]
                time.sleep(0.05)
            raise AssertionError(f"no {kind} event; got {events}")

        image = tmp_path / "cli.png"
        photo(200, 150, seed=9).save(image)
        imported = run_cli("import", str(image), "--library", str(root), "--json").stdout
        picture_id = json.loads(imported)["imported"][0]["picture_id"]
        added = wait_for("picture.added")
        assert added["picture_ids"] == [picture_id]
        subprocess.run([sys.executable, "-c", CHANGE_RATING, str(root), str(picture_id)], check=True, env=ENV)
        assert wait_for("picture.changed")["picture_ids"] == [picture_id]
        assert wait_for("library.changed")
        # And the server sees the new state itself.
        listed = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/pictures", headers={"Authorization": f"Bearer {token['token']}"}
        ).json()["items"]
        assert [(p["id"], p["rating"]) for p in listed] == [(picture_id, 4)]
    finally:
        server.terminate()
        server.wait(20)


def test_stopping_lets_a_run_in_progress_finish():
    """A periodic run that is under way when the instance stops (a snapshot) finishes before stop returns,
    so nothing it uses is closed under it."""
    from pixlstash.instance import Periodic

    started, finished = threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        time.sleep(0.5)
        finished.set()

    task = Periodic("slow", slow, interval=60, first_delay=0, finish_seconds=30)
    task.start()
    assert started.wait(5)
    task.stop()
    assert finished.is_set()


def test_the_snapshot_schedule_is_waited_for_on_stop(library):
    from pixlstash.instance import Instance, InstanceOptions

    instance = Instance(library, InstanceOptions(watch_folders=False, update_check=False, outside_changes=False))
    snapshots = next(task for task in instance.tasks if task.name == "snapshots")
    others = [task for task in instance.tasks if task.name != "snapshots"]
    assert snapshots.finish_seconds >= 600 and all(task.finish_seconds <= 10 for task in others)
    if instance.worker is not None:
        instance.worker.stop()
