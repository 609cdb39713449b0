"""Backups from Settings through the API and in Chromium: to a folder on the server, with progress, the
result and its problems said, on a schedule; admin only."""

from __future__ import annotations

import time

import pytest
from live_server import LiveServer, make_pictures

from pixlstash.backups import restore_backup, verify_backup
from pixlstash.instance import InstanceOptions
from pixlstash_web.app import WebSettings


@pytest.fixture
def live(library, tmp_path):
    make_pictures(library, tmp_path / "in", 4)
    settings = WebSettings(services=InstanceOptions(watch_folders=False, snapshot_schedule=False))
    with LiveServer(library, settings) as server:
        yield server


def _finished(client, seconds: float = 30) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        status = client.get("/api/v1/backups").json()
        if not status["running"]:
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.1)


def test_an_admin_backs_up_from_settings_and_it_restores(live, tmp_path):
    admin = live.client(live.token("admin"))
    target = tmp_path / "usb" / "pixlstash-backup"
    started = admin.post("/api/v1/backups", json={"target": str(target)})
    assert started.status_code == 202, started.text
    status = _finished(admin)
    assert status["last_error"] is None
    assert status["last"]["target"] == str(target) and status["last"]["problems"] == []
    assert status["done_bytes"] == status["total_bytes"] > 0  # progress reached the end
    assert verify_backup(target)[1] == []
    restore_backup(target, tmp_path / "restored")
    again = admin.post("/api/v1/backups", json={"target": str(target)})
    assert again.status_code == 202
    assert _finished(admin)["last"]["files_written"] < status["last"]["files_written"]  # incremental


def test_backups_are_admin_only_and_refuse_bad_targets(live, tmp_path):
    writer = live.client(live.token("write"))
    assert writer.get("/api/v1/backups").status_code == 403
    assert writer.post("/api/v1/backups", json={"target": str(tmp_path / "b")}).status_code == 403
    admin = live.client(live.token("admin"))
    relative = admin.post("/api/v1/backups", json={"target": "backups/here"})
    assert relative.status_code == 400 and "absolute path" in relative.json()["error"]["message"]
    admin.post("/api/v1/backups", json={"target": str(live.library.root / "inside")})
    status = _finished(admin)
    assert "inside the library" in status["last_error"]
    assert not (live.library.root / "inside").exists()
    assert admin.put("/api/v1/backups/schedule", json={"enabled": True}).status_code == 400  # no folder


def test_the_scheduled_backup_runs_when_due_and_not_before(live, tmp_path):
    admin = live.client(live.token("admin"))
    target = tmp_path / "nightly"
    schedule = {
        "enabled": True,
        "target": str(target),
        "every_hours": 24,
        "with_thumbnails": True,
        "with_accounts": False,
        "endpoint": None,
    }
    assert admin.put("/api/v1/backups/schedule", json=schedule).json() == schedule
    runner = live.state.instance.backups
    assert runner.run_if_due() is True  # never backed up: due now
    manifest, problems = verify_backup(target)
    assert problems == [] and manifest.with_thumbnails
    assert runner.run_if_due() is False  # not again within the day
    assert admin.get("/api/v1/backups").json()["schedule"] == schedule
