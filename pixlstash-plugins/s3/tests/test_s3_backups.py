"""Backups to a bucket of a real SeaweedFS on loopback: incremental, listed, verified (a damaged object is
found), restored into a new folder; a foreign prefix, a bad name and a manifest naming paths outside a
backup are refused in one line with nothing written; a library whose originals are in the same bucket has
them copied by the service and its backup stays whole after the library deletes one; the server's
backup (started from the API, and on a schedule) goes to a bucket too; a file over 64 MB goes up in
parts and is read back before it counts; a backup killed with -9 half way leaves the earlier one whole and
the next run clears what it began."""

from __future__ import annotations

import json
import os

import msgspec
import obstore
import pytest
from conftest import run_cli, wait_for
from seaweed import ACCESS_KEY, SECRET_KEY, SeaweedFS
from secret_search import expanded, found_secrets
from test_s3_store import CREDENTIALS, blake, cli_env, library_settings_on_a_phone, open_library, pictures

from pixlstash.backups.runner import BackupSchedule
from pixlstash.domain import PictureFilter


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory):
    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs")).start_single()
    yield server
    server.close()


def backup_json(*args: str, env: dict[str, str]) -> dict:
    return json.loads(run_cli("backup", "create", *args, "--json", env=env).stdout)


def test_backups_to_a_bucket_are_incremental_verified_and_restored(seaweed, tmp_path):
    seaweed.make_bucket("offsite")
    env = cli_env(tmp_path / "library")
    folder = pictures(tmp_path / "in", 3, size=300)
    run_cli("import", str(folder), env=env)
    target = ["s3://offsite/pixlstash", "--endpoint", seaweed.endpoint]

    first = backup_json(*target, env=env)
    assert first["target"] == f"s3://offsite/pixlstash at {seaweed.endpoint}"
    assert first["problems"] == [] and first["copied_in_bucket"] == 0
    keys = seaweed.keys("offsite")
    assert "pixlstash/pixlstash-backup.json" in keys
    originals = [k for k in keys if k.startswith("pixlstash/originals/")]
    assert len(originals) == 3
    # The objects are the originals' bytes.
    by_hash = {blake(p.read_bytes()): p for p in folder.iterdir()}
    client = seaweed.client("offsite")
    for key in originals:
        data = bytes(obstore.get(client, key).bytes())
        assert blake(data) == key.rsplit("/", 1)[1].split(".")[0] and blake(data) in by_hash

    # The next backup writes only what is new: one original and the databases.
    pictures(tmp_path / "more", 1, size=512)
    run_cli("import", str(tmp_path / "more"), env=env)
    second = backup_json(*target, env=env)
    databases = len([n for n in json.loads(run_cli("backup", "list", *target, "--json", env=env).stdout)])
    assert databases == 2
    this_set = f"pixlstash/databases/{second['backup_id']}/"
    databases_now = len([k for k in seaweed.keys("offsite") if k.startswith(this_set) and k.endswith(".db")])
    assert second["files_written"] == 1 + databases_now, second
    verified = run_cli("backup", "verify", *target, env=env)
    assert " is whole: " in verified.stdout and "4 pictures" in verified.stdout, verified.stdout

    # A damaged object is found, and a restore from it refuses, leaving nothing.
    damaged_key = originals[0]
    good = bytes(obstore.get(client, damaged_key).bytes())
    obstore.put(client, damaged_key, good[:-10] + b"0123456789")
    said = run_cli("backup", "verify", *target, check=False, env=env)
    assert said.returncode == 1 and said.stdout.startswith("damaged: " + damaged_key.removeprefix("pixlstash/"))
    refused = run_cli("backup", "restore", *target, "--to", str(tmp_path / "nothing"), check=False, env=env)
    assert refused.returncode == 1 and "cannot restore: damaged" in refused.stderr
    assert not (tmp_path / "nothing").exists() or not any((tmp_path / "nothing").iterdir())
    obstore.put(client, damaged_key, good)

    restored_root = tmp_path / "restored"
    restored = run_cli("backup", "restore", *target, "--to", str(restored_root), env=env)
    assert f"into {restored_root}" in restored.stdout
    shown = json.loads(run_cli("storage", "--json", env=cli_env(restored_root)).stdout)
    assert (shown["store"], shown["originals"]) == ("local", 4)
    restored_files = {blake(p.read_bytes()) for p in (restored_root / "originals").rglob("*") if p.is_file()}
    assert restored_files == set(by_hash) | {blake(p.read_bytes()) for p in (tmp_path / "more").iterdir()}


def test_bad_bucket_targets_and_foreign_manifests_are_refused_in_one_line(seaweed, tmp_path):
    seaweed.make_bucket("shared-bucket")
    env = cli_env(tmp_path / "library")
    run_cli("import", str(pictures(tmp_path / "in", 1)), env=env)
    client = seaweed.client("shared-bucket")
    obstore.put(client, "notes/todo.txt", b"someone else's")
    before = seaweed.keys("shared-bucket")
    for target, said in (
        ("s3://shared-bucket/notes", "holds other objects (todo.txt)"),
        ("s3://shared-bucket", "holds other objects (notes)"),
        ("s3://shared-bucket/../etc", "must be plain names"),
        ("s3://Shared/x", "is not a bucket name"),
    ):
        refused = run_cli("backup", "create", target, "--endpoint", seaweed.endpoint, check=False, env=env)
        assert refused.returncode == 1 and refused.stderr.count("\n") == 1 and said in refused.stderr, refused.stderr
    assert seaweed.keys("shared-bucket") == before, "nothing was written"
    missing = run_cli("backup", "create", "s3://no-such-bucket/b", "--endpoint", seaweed.endpoint, check=False, env=env)
    assert missing.returncode == 1 and "the bucket 'no-such-bucket' does not exist" in missing.stderr
    wrong = run_cli(
        "backup", "verify", "s3://shared-bucket/x", "--endpoint", seaweed.endpoint, check=False,
        env={**env, "AWS_SECRET_ACCESS_KEY": "not-the-secret"},
    )  # fmt: skip
    assert wrong.returncode == 1 and "refused the credentials" in wrong.stdout + wrong.stderr

    # A manifest in a bucket that names a path outside a backup's layout: refused whole, nothing written.
    manifest = {
        "backup_id": "20260101T000000-abcdef",
        "created_at": 0,
        "library": "/x",
        "pixlstash_version": "0.2.0",
        "with_thumbnails": False,
        "databases": {"library.db": "databases/20260101T000000-abcdef/library.db"},
        "files": {
            "databases/20260101T000000-abcdef/library.db": {"size": 1, "blake2b": "0" * 64},
            "originals/../../../escaped.txt": {"size": 1, "blake2b": "0" * 64},
        },
        "pictures": 0,
        "in_reference_folders": 0,
    }
    obstore.put(client, "evil/pixlstash-backup.json", msgspec.json.encode(manifest))
    # (obstore itself will not address a key with a ".." part, so the bucket cannot even hold that name.)
    to = tmp_path / "restore-here"
    evil = run_cli(
        "backup", "restore", "s3://shared-bucket/evil", "--endpoint", seaweed.endpoint, "--to", str(to),
        check=False, env=env,
    )  # fmt: skip
    assert evil.returncode == 1 and "not a PixlStash backup" in evil.stderr, evil.stderr
    assert not to.exists() and not list(tmp_path.glob("escaped*")) and not list(tmp_path.glob(".restore-here*"))


def test_a_bucket_library_backs_up_into_its_own_bucket_without_passing_originals_through(seaweed, tmp_path):
    seaweed.make_bucket("photos-and-backups")
    root = tmp_path / "library"
    # Credentials kept with the library's secrets, none in the environment: a backup to the library's own
    # endpoint (no --endpoint) uses them.
    env = {k: v for k, v in cli_env(root).items() if not k.startswith("AWS_")}
    secret = tmp_path / "secret"
    secret.write_text(SECRET_KEY)
    run_cli(
        "storage", "use", "s3://photos-and-backups/main", "--endpoint", seaweed.endpoint,
        "--access-key-id", ACCESS_KEY, "--secret-access-key-file", str(secret), env=env,
    )  # fmt: skip
    folder = pictures(tmp_path / "in", 3, size=200)
    run_cli("import", str(folder), env=env)
    run_cli("snapshot", "create", "--label", "with the bucket's key configured", env=env)
    # The backup may not share the originals' prefix (either inside the other).
    for inside in ("s3://photos-and-backups/main/backups", "s3://photos-and-backups"):
        refused = run_cli("backup", "create", inside, check=False, env=env)
        assert refused.returncode == 1 and "holds the library's originals" in refused.stderr, refused.stderr
    report = backup_json("s3://photos-and-backups/backups", env=env)
    assert report["copied_in_bucket"] == 3 and report["problems"] == []
    plain = run_cli("backup", "create", "s3://photos-and-backups/backups", env=env).stdout
    assert "copied inside the bucket" not in plain, "nothing new: nothing copied again"
    backed = sorted(k for k in seaweed.keys("photos-and-backups") if k.startswith("backups/originals/"))
    kept = sorted(k for k in seaweed.keys("photos-and-backups") if k.startswith("main/"))
    assert [k.rsplit("/", 1)[1] for k in backed] == [k.rsplit("/", 1)[1] for k in kept]
    # Without --with-accounts, no object of the backup holds the secret key it was made with (nor a
    # snapshot chunk, decompressed).
    client = seaweed.client("photos-and-backups")
    objects = [
        (key, bytes(obstore.get(client, key).bytes()))
        for key in seaweed.keys("photos-and-backups")
        if key.startswith("backups/")
    ]
    assert any(key.endswith(".zst") for key, _ in objects)
    assert found_secrets(expanded(objects), [SECRET_KEY]) == []

    # The library empties its scrapheap: the backup still holds that original, and restores whole.
    library = open_library(root)
    try:
        picture_id = library.page(PictureFilter(), None, None, 1).items[0].id
        library.edits.scrap([picture_id])
        library.purge([picture_id])
    finally:
        library.close()
    assert len([k for k in seaweed.keys("photos-and-backups") if k.startswith("main/")]) == 2
    restored = tmp_path / "restored"
    # Restoring after the library is lost: the endpoint given, the credentials from the environment.
    run_cli(
        "backup", "restore", "s3://photos-and-backups/backups", "--to", str(restored),
        "--endpoint", seaweed.endpoint, env={**env, **CREDENTIALS},
    )  # fmt: skip
    hashes = {blake(p.read_bytes()) for p in (restored / "originals").rglob("*") if p.is_file()}
    assert hashes == {blake(p.read_bytes()) for p in folder.iterdir()}


def test_the_server_backs_up_to_a_bucket_now_and_on_a_schedule(seaweed, tmp_path):
    from live_server import LiveServer

    seaweed.make_bucket("server-backups")
    root = tmp_path / "library"
    run_cli("import", str(pictures(tmp_path / "in", 2)), env=cli_env(root))
    os.environ.update(CREDENTIALS)
    library = open_library(root)
    try:
        with LiveServer(library) as live:
            client = live.client(live.token("admin"))
            bad = client.post("/api/v1/backups", json={"target": "s3://Bad_Bucket/x"})
            assert bad.status_code == 400 and "is not a bucket name" in bad.json()["error"]["message"]
            started = client.post(
                "/api/v1/backups", json={"target": "s3://server-backups/now", "endpoint": seaweed.endpoint}
            )
            assert started.status_code == 202, started.text
            status = wait_for(
                lambda: (s := client.get("/api/v1/backups").json()) and not s["running"] and s, "the backup to end"
            )
            assert status["last_error"] is None, status
            assert status["last"]["target"] == f"s3://server-backups/now at {seaweed.endpoint}"
            assert "now/pixlstash-backup.json" in seaweed.keys("server-backups")
            backed_up_from_settings(live, seaweed)

            schedule = {"enabled": True, "target": "s3://server-backups/daily", "endpoint": seaweed.endpoint}
            saved = client.put("/api/v1/backups/schedule", json=schedule)
            assert saved.status_code == 200 and saved.json()["endpoint"] == seaweed.endpoint
            bad_endpoint = client.put("/api/v1/backups/schedule", json={**schedule, "endpoint": "file:///etc"})
            assert bad_endpoint.status_code == 422
            runner = live.state.instance.backups
            runner.clock = lambda: 10**12  # a day later than the last backup
            assert runner.run_if_due()
            assert runner.schedule() == BackupSchedule(**schedule)
            assert "daily/pixlstash-backup.json" in seaweed.keys("server-backups")
            assert runner.status().last.target == f"s3://server-backups/daily at {seaweed.endpoint}"
    finally:
        library.close()
    daily = ["s3://server-backups/daily", "--endpoint", seaweed.endpoint]
    verified = run_cli("backup", "verify", *daily, env=cli_env(root))
    assert "2 pictures" in verified.stdout


def test_a_file_over_64_mb_goes_up_in_parts_and_is_read_back_before_it_counts(seaweed, tmp_path):
    from pixlstash_s3 import S3OriginalStore, S3Settings

    from pixlstash import StorageUnavailable

    seaweed.make_bucket("large-files")
    store = S3OriginalStore(S3Settings(bucket="large-files", endpoint=seaweed.endpoint), environ=CREDENTIALS)
    data = os.urandom(70 << 20)  # over the single PUT's 64 MB: 16 MB parts
    path = tmp_path / "large.bin"
    path.write_bytes(data)
    content_hash = blake(data)
    store.put(content_hash, path, ".bin")
    assert store.size(content_hash, ".bin") == len(data)
    assert blake(b"".join(store.read_range(content_hash, ".bin", 0, len(data)))) == content_hash
    # Read back, the parts do not make the hash it was stored under: removed again, and said.
    wrong = "0" * 64
    with pytest.raises(StorageUnavailable, match="did not keep it whole"):
        store.put(wrong, path, ".bin")
    assert not store.exists(wrong, ".bin")


def test_kill_9_during_a_backup_to_a_bucket_leaves_the_earlier_one_whole(seaweed, tmp_path):
    from test_backup import _killed

    seaweed.make_bucket("killed")
    root, env = tmp_path / "library", cli_env(tmp_path / "library")
    run_cli("import", str(pictures(tmp_path / "in", 3)), env=env)
    target = ["s3://killed/b", "--endpoint", seaweed.endpoint]
    first = backup_json(*target, env=env)
    run_cli("import", str(pictures(tmp_path / "more", 3, size=140)), env=env)
    code = f"""
os.environ.update({CREDENTIALS!r})
from pixlstash.backups.bucket import open_backup_place
from pixlstash.plugins import make_plugin_manager
pm = make_plugin_manager(environ={{"PIXLSTASH_LOAD_PLUGINS": "s3"}})
with Library.open(Path({str(root)!r}), plugin_manager=pm) as library:
    create_backup(library.backup_source(), open_backup_place(pm, "s3://killed/b", {{"endpoint": {seaweed.endpoint!r}}}))
"""
    # Three databases (no accounts), then the new originals: killed on the second of them.
    _killed(code, "pixlstash_s3.backup_bucket", "S3BackupBucket.upload", 5)
    whole = run_cli("backup", "verify", *target, env=env).stdout
    assert f"backup {first['backup_id']} is whole" in whole and "3 pictures" in whole, whole
    assert len(json.loads(run_cli("backup", "list", *target, "--json", env=env).stdout)) == 1
    again = backup_json(*target, env=env)
    assert "6 pictures" in run_cli("backup", "verify", *target, env=env).stdout
    sets = {k.split("/")[2] for k in seaweed.keys("killed") if k.startswith("b/databases/")}
    assert sets == {first["backup_id"], again["backup_id"]}, "the set the killed run began is gone"


def backed_up_from_settings(live, seaweed) -> None:
    """A person types a bucket and its endpoint into Settings, on a phone, and backs up."""
    from playwright.sync_api import expect
    from ui_support import screenshot

    with library_settings_on_a_phone(live) as page:
        section = page.locator("#backup-section")
        section.scroll_into_view_if_needed()
        section.get_by_label("Folder on the server, or s3://BUCKET/PREFIX").fill("s3://server-backups/from-phone")
        section.get_by_label("Bucket's endpoint").fill(seaweed.endpoint)
        section.get_by_role("button", name="Back up now").click()
        state = section.get_by_role("status")
        expect(state).to_contain_text(f"to s3://server-backups/from-phone at {seaweed.endpoint}", timeout=60_000)
        expect(state).to_contain_text("Backed up")
        box = section.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # no sideways overflow
        screenshot(page, "settings-backup-bucket-phone")
    assert "from-phone/pixlstash-backup.json" in seaweed.keys("server-backups")
