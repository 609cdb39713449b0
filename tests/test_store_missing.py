"""A library whose originals are in a bucket, opened where the plugin that reads the bucket is missing (an
image without it, PIXLSTASH_LOAD_PLUGINS leaving it out): nothing that reads or writes originals runs, each
says in one line which plugin to install, and nothing lands in the library's own folder, where the library
would not look once the plugin is back."""

from __future__ import annotations

import subprocess
import sys

from conftest import run_cli
from corpus import photo

from pixlstash.library import Library

WITHOUT_S3 = {"PIXLSTASH_DISABLED_PLUGINS": "s3"}


def _bucket_library(tmp_path):
    root = tmp_path / "lib"
    with Library.open(root) as library:
        # What `storage use s3://photos/main` leaves; the endpoint is never contacted here.
        library.plugin_settings.update("s3", {"bucket": "photos", "prefix": "main", "endpoint": "http://127.0.0.1:9"})
    return root


def test_without_its_store_plugin_a_bucket_library_refuses_what_needs_originals(tmp_path):
    root = _bucket_library(tmp_path)
    photo(64, 48, seed=1).save(tmp_path / "new.png")
    refused = run_cli("import", str(tmp_path / "new.png"), "--library", str(root), env=WITHOUT_S3, check=False)
    assert refused.returncode != 0
    assert "s3://photos/main" in refused.stderr and "pip install pixlstash-s3" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert not (root / "originals").exists() or not any((root / "originals").rglob("*.*"))
    with Library.open(root) as library:
        assert library.db.scalar("SELECT count(*) FROM pictures") == 0

    doctor = run_cli("doctor", "--library", str(root), env=WITHOUT_S3, check=False)
    assert doctor.returncode != 0
    line = next(line for line in doctor.stdout.splitlines() if "originals" in line)
    assert "FAIL" in line and "pip install pixlstash-s3" in line

    # The server does not start on it: every picture it would serve is in the bucket.
    serve = subprocess.run(
        [sys.executable, "-m", "pixlstash", "serve", "--library", str(root), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**WITHOUT_S3, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert serve.returncode != 0 and "pip install pixlstash-s3" in serve.stderr, serve.stderr[-2000:]

    # What reads only the database still works: the library is not locked away.
    listed = run_cli("ls", "--library", str(root), env=WITHOUT_S3)
    assert listed.returncode == 0


def test_a_crafted_library_gets_one_line_not_a_traceback(tmp_path):
    """A library whose database was changed outside PixlStash: a picture's content hash that would name a
    path outside the library, and plugin settings that do not check."""
    from live_server import LiveServer, make_pictures

    root = tmp_path / "lib"
    with Library.open(root) as library:
        [picture_id] = make_pictures(library, tmp_path / "in", 1)
        library.db.execute("UPDATE pictures SET content_hash = '../../../../etc/passwd' WHERE id = ?", (picture_id,))
        with LiveServer(library) as live, live.client(live.token("read")) as http:
            for route in ("grid.webp", "preview.webp", "frame.webp"):
                answer = http.get(f"/api/v1/pictures/{picture_id}/{route}")
                assert answer.status_code == 409, (route, answer.status_code, answer.text)
                assert answer.json()["error"]["code"] == "damaged"
                assert "damaged" in answer.json()["error"]["message"]
        library.db.execute(
            "INSERT OR REPLACE INTO settings(key, value) VALUES ('plugin:s3', ?)", ('{"retries": "many"}',)
        )
    serve = subprocess.run(
        [sys.executable, "-m", "pixlstash", "serve", "--library", str(root), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert serve.returncode != 0 and "Traceback" not in serve.stderr
    assert serve.stderr.strip().splitlines() == [serve.stderr.strip()] and "invalid settings for s3" in serve.stderr
