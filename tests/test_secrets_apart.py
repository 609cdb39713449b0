"""Plugin secrets (an API key, a bucket's secret key) live in secrets.db, never in library.db: so never in a
snapshot's chunks, and in a backup only with accounts. A library of an earlier version, whose snapshots
hold them (live and in free pages), is cleaned when it is opened; its snapshots still restore, and a
restore keeps today's secrets."""

from __future__ import annotations

import json
import stat

import pytest
from conftest import run_cli
from live_server import make_pictures
from secret_search import every_file, found_secrets

from pixlstash.db.secrets_db import SECRETS_DATABASE_NAME
from pixlstash.library import Library

API_KEY = "sk-proj-Zq8mW2vLx9TbR4nY7cK1"
BUCKET_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def _configure(library: Library) -> None:
    library.plugin_settings.update("openai-vision", {"api_key": API_KEY, "model": "local-vlm"})
    library.plugin_settings.update("s3", {"secret_access_key": BUCKET_SECRET, "access_key_id": "AKIDEXAMPLE"})


def _outside_secrets(root):
    """Every file of the library but the secrets' own store."""
    return [(name, data) for name, data in every_file(root) if f"/{SECRETS_DATABASE_NAME}" not in name]


def test_secrets_never_reach_the_library_database_snapshots_or_a_backup(tmp_path):
    root = tmp_path / "lib"
    with Library.open(root) as library:
        make_pictures(library, tmp_path / "in", 2)
        _configure(library)
        snapshots = library.new_snapshot_service()
        snapshots.take("MANUAL", "with secrets configured")
        snapshots.close()
        assert library.plugin_settings.get("openai-vision").api_key == API_KEY
        assert library.plugin_settings.get("s3").secret_access_key == BUCKET_SECRET
        assert library.plugin_settings.shown("s3")["secret_access_key"] == "********"
    assert stat.S_IMODE((root / SECRETS_DATABASE_NAME).stat().st_mode) == 0o600
    assert found_secrets(_outside_secrets(root), [API_KEY, BUCKET_SECRET]) == []
    for name in ("backup", "backup.tar"):
        made = run_cli("backup", "create", str(tmp_path / name), "--library", str(root))
        assert "openai-vision.api_key" in made.stdout and "s3.secret_access_key" in made.stdout
        assert found_secrets(every_file(tmp_path / name), [API_KEY, BUCKET_SECRET]) == []
    # With accounts, the secrets travel in secrets.db, and a restore has them.
    run_cli("backup", "create", str(tmp_path / "whole.tar"), "--library", str(root), "--with-accounts")
    run_cli("backup", "restore", str(tmp_path / "whole.tar"), "--to", str(tmp_path / "restored"))
    with Library.open(tmp_path / "restored") as library:
        assert library.plugin_settings.get("openai-vision").api_key == API_KEY
        assert library.plugin_settings.get("s3").secret_access_key == BUCKET_SECRET


def _write_as_an_earlier_version(library: Library, key: str, values: dict) -> None:
    """What versions before secrets.db did: the whole settings, secrets too, in library.db's settings table."""
    library.db.execute("INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)", (key, json.dumps(values)))


ROTATED = "sk-rotated-4f9d2c7e"  # replaced before any snapshot saw it (by a longer key): only in free space
PREVIOUS_BUCKET_SECRET = "previous/store+secret+KEY1234567890"


@pytest.fixture
def earlier_library(tmp_path):
    """A library as an earlier version left it: secrets in library.db, in two snapshots' chunks (one of
    them in a page's free space), and in the store a migration remembered."""
    root = tmp_path / "old"
    with Library.open(root) as library:
        make_pictures(library, tmp_path / "in", 3)
        snapshots = library.new_snapshot_service()  # made first: it reads the settings once, as they were
        _write_as_an_earlier_version(library, "plugin:openai-vision", {"api_key": ROTATED, "model": "m"})
        _write_as_an_earlier_version(library, "plugin:s3", {"secret_access_key": BUCKET_SECRET, "retries": 2})
        _write_as_an_earlier_version(
            library, "storage:previous", {"bucket": "old-bucket", "secret_access_key": PREVIOUS_BUCKET_SECRET}
        )
        # A key changed later: the old row's place in its page is freed, not cleared.
        _write_as_an_earlier_version(library, "plugin:openai-vision", {"api_key": API_KEY, "model": "m"})
        first = snapshots.take("MANUAL", "first")
        library.edits.set_fields(library.pictures.ids_above(0, limit=10), rating=5)
        snapshots.take("MANUAL", "second")
        chunk_files = [(str(p), p.read_bytes()) for p in (root / "snapshots" / "chunks").rglob("*.zst")]
        snapshots.close()
    held = found_secrets(every_file(root / "snapshots"), [ROTATED, API_KEY, BUCKET_SECRET, PREVIOUS_BUCKET_SECRET])
    # The test means something only if the snapshots really held them, the replaced key included.
    assert any(ROTATED in line for line in held) and any(PREVIOUS_BUCKET_SECRET in line for line in held)
    assert chunk_files
    return root, first.id


def test_an_earlier_librarys_secrets_leave_library_db_and_every_snapshot_on_upgrade(earlier_library, tmp_path):
    root, first = earlier_library
    secrets = [ROTATED, API_KEY, BUCKET_SECRET, PREVIOUS_BUCKET_SECRET]
    with Library.open(root) as library:
        assert library.plugin_settings.get("openai-vision").api_key == API_KEY  # still works, from secrets.db
        assert library.plugin_settings.get("s3").retries == 2
        assert library.plugin_settings.load("storage:previous", "s3")["secret_access_key"] == PREVIOUS_BUCKET_SECRET
        assert library.db.scalar("SELECT count(*) FROM settings WHERE key = 'secrets:scrub-owed'") == 0
    assert found_secrets(_outside_secrets(root), secrets) == []
    with Library.open(root) as library:
        snapshots = library.new_snapshot_service()
        for row in snapshots.list():
            snapshots.verify(row.id)  # every chunk whole and named by its content
        # Today's key changes; restoring a snapshot from before keeps it (and the snapshot's scrubbed one
        # never counts).
        library.plugin_settings.update("openai-vision", {"api_key": "sk-today-9b1c4d2e8f7a"})
        snapshots.restore(first)
        snapshots.close()
        assert library.plugin_settings.get("openai-vision").api_key == "sk-today-9b1c4d2e8f7a"
        assert library.plugin_settings.get("s3").secret_access_key == BUCKET_SECRET
        assert library.db.scalar("SELECT count(*) FROM pictures") == 3
    with Library.open(root) as library:  # the restored library.db's scrubbed fields are cleaned on open
        assert library.plugin_settings.get("openai-vision").api_key == "sk-today-9b1c4d2e8f7a"
    assert found_secrets(_outside_secrets(root), [*secrets, "sk-today-9b1c4d2e8f7a"]) == []


def test_a_backup_of_an_upgraded_library_holds_no_secret_anywhere(earlier_library, tmp_path):
    root, _ = earlier_library
    secrets = [ROTATED, API_KEY, BUCKET_SECRET, PREVIOUS_BUCKET_SECRET]
    for name in ("backup", "backup.tar"):
        made = run_cli("backup", "create", str(tmp_path / name), "--library", str(root))
        assert "openai-vision.api_key" in made.stdout
        assert found_secrets(every_file(tmp_path / name), secrets) == []
    restored = tmp_path / "restored"
    run_cli("backup", "restore", str(tmp_path / "backup.tar"), "--to", str(restored))
    with Library.open(restored) as library:
        assert library.plugin_settings.get("openai-vision").api_key == ""
        snapshots = library.new_snapshot_service()
        assert [row.label for row in snapshots.list()] == ["second", "first"]
        snapshots.verify(snapshots.list()[-1].id)
        snapshots.close()
