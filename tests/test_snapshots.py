"""Snapshots: fields, incremental storage, damage detection, previews, full and selective restores,
retention over simulated months, and old snapshots upgraded on restore."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from live_server import make_pictures

from pixlstash.builtin.local_storage import LocalFolderStore
from pixlstash.db.database import connect
from pixlstash.db.schema import MIGRATIONS, SCHEMA_VERSION, migrate
from pixlstash.errors import Conflict
from pixlstash.library import Library
from pixlstash.snapshots import RestoreResource, SnapshotDamaged

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from synthetic_library import build


def chunk_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in (root / "snapshots" / "chunks").rglob("*.zst"))


@pytest.fixture
def snapshots(library):
    service = library.new_snapshot_service()
    yield service
    service.close()


def test_a_snapshot_read_a_window_at_a_time_restores_whole(library, tmp_path, monkeypatch):
    """Chunks are read, hashed and stored a few at a time (memory stays flat); chunks that repeat across
    windows (empty pages) are stored once, and the snapshot restores exactly."""
    from pixlstash.snapshots import service as snapshot_service

    monkeypatch.setattr(snapshot_service, "WINDOW_CHUNKS", 2)
    make_pictures(library, tmp_path / "p", 3)
    library.organise.create_project("before")
    snapshots = library.new_snapshot_service()
    taken = snapshots.take("MANUAL", "windowed")
    digests = [digest for digest, _ in snapshots.catalog.chunk_list(taken.id)]
    assert len(digests) > 2 * 2  # more than two windows
    assert len(set(digests)) < len(digests)  # some chunks repeat (empty pages) across windows
    assert taken.unique_bytes == chunk_bytes(library.root)  # each distinct chunk stored once
    snapshots.verify(taken.id)
    library.organise.create_project("after")
    snapshots.restore(taken.id)
    assert [p.name for p in library.collections.projects()] == ["before"]
    snapshots.close()


def test_incremental_storage_and_deletion(tmp_path):
    root = tmp_path / "big"
    build(root, pictures=20_000, tags_per_picture=5, sets=50, characters=10, log=lambda *_: None)
    with Library.open(root) as library:
        service = library.new_snapshot_service()
        first = service.take("MANUAL", "first")
        after_first = chunk_bytes(root)
        assert first.byte_size == after_first and first.db_bytes > 5_000_000
        second = service.take("MANUAL", "second")
        after_second = chunk_bytes(root)
        assert after_second - after_first < 0.05 * after_first  # an unchanged library costs < 5% more
        library.edits.set_fields(list(range(1, 201)), rating=5)  # 1% of pictures change
        third = service.take("MANUAL", "third")
        assert third.unique_bytes < first.byte_size
        # Deleting a snapshot frees only what no other snapshot shares.
        before = chunk_bytes(root)
        freed = service.delete(second.id)
        assert freed == 0 and chunk_bytes(root) == before  # everything it had, first and third share
        unique = service.get(third.id).unique_bytes
        service.verify(first.id)
        service.verify(third.id)
        before = chunk_bytes(root)
        freed = service.delete(first.id)
        assert freed > 0 and chunk_bytes(root) == before - freed
        service.verify(third.id)  # still whole
        assert service.get(third.id).unique_bytes > unique  # now it alone holds what it shared
        assert [s.id for s in service.list()] == [third.id]
        service.close()


def test_a_damaged_chunk_is_reported_and_nothing_is_restored(library, snapshots, tmp_path):
    ids = make_pictures(library, tmp_path / "p", 3)
    snapshot = snapshots.take("MANUAL")
    library.edits.set_fields(ids, rating=4)
    chunk = next((library.root / "snapshots" / "chunks").rglob("*.zst"))
    data = bytearray(chunk.read_bytes())
    data[-5] ^= 0xFF
    chunk.write_bytes(bytes(data))
    with pytest.raises(SnapshotDamaged):
        snapshots.verify(snapshot.id)
    with pytest.raises(SnapshotDamaged):
        snapshots.restore(snapshot.id)
    assert {library.get(i).rating for i in ids} == {4}
    assert [s.kind for s in snapshots.list()] == ["MANUAL"]  # no safety snapshot either: nothing happened


def test_damage_is_caught_when_reading_in_place_and_a_swapped_chunk_by_verify(library, snapshots, tmp_path):
    ids = make_pictures(library, tmp_path / "p", 3)
    snapshot = snapshots.take("MANUAL")
    library.edits.set_fields(ids, rating=2)
    chunks = sorted((library.root / "snapshots" / "chunks").rglob("*.zst"))
    assert len(chunks) >= 2
    originals = {chunk: chunk.read_bytes() for chunk in chunks}
    # A preview reads in place only the pages it needs, so every chunk is damaged: whichever it reads first
    # must be caught.
    for chunk, original in originals.items():
        damaged = bytearray(original)
        damaged[len(damaged) // 2] ^= 0xFF
        chunk.write_bytes(bytes(damaged))
    snapshots.chunks._cache.clear()
    with pytest.raises(SnapshotDamaged):  # the frame checksum, checked by every in-place read
        snapshots.preview(snapshot.id)
    for chunk, original in originals.items():
        chunk.write_bytes(original)
    chunks[0].write_bytes(originals[chunks[1]])  # a whole, valid chunk, but the wrong one
    with pytest.raises(SnapshotDamaged, match="does not match its checksum"):
        snapshots.verify(snapshot.id)  # the content digest, recomputed before every full restore
    chunks[0].write_bytes(originals[chunks[0]])
    snapshots.verify(snapshot.id)


def test_preview_counts_only_real_changes(library, snapshots, tmp_path):
    ids = make_pictures(library, tmp_path / "p", 6)
    snapshot = snapshots.take()
    library.edits.set_fields(ids[:2], rating=3)
    library.edits.set_fields([ids[2]], rating=1)
    library.edits.set_fields([ids[2]], rating=0)  # changed, then changed back: no change
    library.edits.scrap([ids[3]])
    library.purge([ids[3]])
    new = make_pictures(library, tmp_path / "q", 1, seed=9)
    later = library.organise.create_collection("set", "Later")
    temp = library.organise.create_project("Temp")
    preview = snapshots.preview(snapshot.id)
    assert preview["summary"] == {
        "pictures_to_revert": 2,
        "pictures_to_recreate": 1,
        "pictures_to_delete": 1,
        "pictures_unchanged": 3,
        "missing_files": 1,
        "sets_to_delete": 1,
        "characters_to_delete": 0,
        "projects_to_delete": 1,
        "sets_to_recreate": 0,
        "characters_to_recreate": 0,
        "projects_to_recreate": 0,
    }
    # What a restore deletes besides pictures is named, so nobody loses a set they did not see coming.
    assert preview["to_delete"] == [
        {"type": "project", "id": temp.id, "name": "Temp"},
        {"type": "set", "id": later.id, "name": "Later"},
    ]
    assert preview["to_recreate"] == []
    assert any("no original file" in w for w in preview["warnings"])
    result = snapshots.restore(snapshot.id)
    safety = result.pop("safety_snapshot_id")  # the one that undoes this restore
    assert [s.kind for s in snapshots.list() if s.id == safety] == ["SAFETY"]
    assert result == {"snapshot_id": snapshot.id, "resource_type": "full", "missing_files_count": 1, "errors": []}
    assert {library.get(i).rating for i in ids[:3]} == {0}
    assert library.count() == 6 and new[0] not in {p.id for p in library.page().items}
    assert snapshots.list()[0].kind == "SAFETY"


def test_selective_restore_touches_only_what_is_listed(library, snapshots, tmp_path):
    ids = make_pictures(library, tmp_path / "p", 4)
    org = library.organise
    project = org.create_project("P")
    keep = org.create_collection("set", "keep", project.id)
    org.add_members(keep.id, ids[:2])
    library.edits.tag(ids[:2], add=["before"])
    library.edits.caption(ids[0], "as it was")
    snapshot = snapshots.take()
    library.edits.set_fields(ids, rating=5)
    library.edits.tag(ids, add=["after"], remove=["before"])
    library.edits.caption(ids[0], "rewritten")
    org.remove_members(keep.id, [ids[0]])
    preview = snapshots.preview_batch(snapshot.id, [RestoreResource("picture", ids[0])])
    (change,) = preview["changes"]
    assert change["change"] == "revert" and set(change["fields"]) == {
        "rating",
        "tags",
        "captions",
        "collections",
        "projects",
    }
    assert change["fields"]["rating"] == {"now": 5, "restored": 0}
    result = snapshots.restore_batch(snapshot.id, [RestoreResource("picture", ids[0])])
    assert result == {"snapshot_id": snapshot.id, "upserted_count": 1, "errors": []}
    first = library.get(ids[0])
    assert (first.rating, [t.name for t in first.tags], first.captions[0].text) == (0, ["before"], "as it was")
    assert first.collections == [keep.id] and first.projects == [project.id]
    second = library.get(ids[1])  # not listed: exactly as it is now
    assert second.rating == 5 and [t.name for t in second.tags] == ["after"]


def test_selective_restore_of_something_deleted_needs_consent(library, snapshots, tmp_path):
    ids = make_pictures(library, tmp_path / "p", 2)
    org = library.organise
    project = org.create_project("Gone")
    group = org.create_collection("character", "Hero", project.id)
    org.add_members(group.id, ids)
    snapshot = snapshots.take()
    org.delete_collection(group.id)
    org.delete_project(project.id)
    with pytest.raises(Conflict) as refused:
        snapshots.restore_batch(snapshot.id, [RestoreResource("picture", ids[0])])
    assert {(m["type"], m["name"]) for m in refused.value.details["missing"]} == {
        ("project", "Gone"),
        ("character", "Hero"),
    }
    assert library.get(ids[0]).collections == []  # nothing changed
    snapshots.restore_batch(snapshot.id, [RestoreResource("picture", ids[0])], recreate_missing=True)
    assert library.get(ids[0]).collections == [group.id]
    assert library.organise.store.collection(group.id).name == "Hero"
    result = snapshots.restore_batch(snapshot.id, [RestoreResource("character", group.id)])
    assert result["errors"] == [] and library.organise.store.collection(group.id).member_count == 2
    missing = snapshots.restore_batch(snapshot.id, [RestoreResource("picture", 999)])
    assert missing["errors"] == [{"type": "picture", "id": 999, "error": "not in the snapshot"}]


def test_grandfather_father_son_retention_over_simulated_months(library, tmp_path):
    day = 86_400_000
    today = [1_700_000_000_000]
    snapshots = library.new_snapshot_service(clock=lambda: today[0])
    # An empty library gets no automatic snapshot: restoring one after the first import would empty it.
    assert snapshots.run_schedule() == [] and snapshots.list() == []
    make_pictures(library, tmp_path / "p", 1)
    for _ in range(460):  # about 15 months, one tick a day
        snapshots.run_schedule()
        today[0] += day
    kinds = [s.kind for s in snapshots.list()]
    assert kinds.count("DAILY") == 7 and kinds.count("WEEKLY") == 4 and kinds.count("MONTHLY") == 12
    snapshots.take("MANUAL", "keep me")
    for _ in range(40):
        snapshots.run_schedule()
        today[0] += day
    assert "keep me" in [s.label for s in snapshots.list()]  # manual snapshots stay until deleted
    snapshots.configure(schedule_enabled=False)
    today[0] += 100 * day
    assert snapshots.run_schedule() == []
    snapshots.close()


def test_an_older_snapshot_is_upgraded_on_restore(tmp_path, plugin_manager):
    root = tmp_path / "old"
    root.mkdir()
    connection = connect(root / "library.db")
    migrate(connection, MIGRATIONS[:1])  # a library as the first release wrote it
    connection.execute("INSERT INTO projects(name, created_at) VALUES ('from v1', 0)")
    connection.close()
    library = Library(root, plugin_manager=plugin_manager)  # its stores only: nothing upgrades the database
    library.store = LocalFolderStore(root / "originals")
    old_service = library.new_snapshot_service()
    old = old_service.take("MANUAL", "v1")
    assert old.schema_version == 1
    old_service.close()
    library.close()
    with Library.open(root, plugin_manager=plugin_manager) as upgraded:
        service = upgraded.new_snapshot_service()
        assert service.is_compatible(service.get(old.id))
        upgraded.organise.create_project("later")
        assert "upgraded" in service.preview(old.id)["warnings"][0]
        service.restore(old.id)
        assert upgraded.db.connection.pragma("user_version") == SCHEMA_VERSION
        assert [p.name for p in upgraded.collections.projects()] == ["from v1"]
        service.close()


def test_snapshot_api_fields_and_sessions_survive_a_restore(live, tmp_path):
    owner = live.client()
    csrf = {
        "X-CSRF-Token": owner.post("/api/v1/setup", json={"username": "me", "password": "password!"}).json()[
            "csrf_token"
        ]
    }
    token_client = live.client(live.token("admin"))
    ids = make_pictures(live.library, tmp_path / "p", 3)
    created = owner.post("/api/v1/snapshots", json={"label": "before big cleanup"}, headers=csrf)
    assert created.status_code == 201
    body = created.json()
    assert (body["kind"], body["label"], body["picture_count"]) == ("MANUAL", "before big cleanup", 3)
    listed = token_client.get("/api/v1/snapshots").json()
    assert set(listed[0]) >= {"id", "kind", "label", "created_at", "picture_count", "byte_size", "is_compatible"}
    assert listed[0]["created_at"].endswith("Z") and listed[0]["is_compatible"] is True
    token_client.patch(f"/api/v1/pictures/{ids[0]}", json={"rating": 5})
    preview = token_client.get(f"/api/v1/snapshots/{body['id']}/restore/preview").json()
    assert preview == {
        "summary": {
            "pictures_to_revert": 1,
            "pictures_to_recreate": 0,
            "pictures_to_delete": 0,
            "pictures_unchanged": 2,
            "missing_files": 0,
            "sets_to_delete": 0,
            "characters_to_delete": 0,
            "projects_to_delete": 0,
            "sets_to_recreate": 0,
            "characters_to_recreate": 0,
            "projects_to_recreate": 0,
        },
        "to_delete": [],
        "to_recreate": [],
        "warnings": [],
    }
    batch = {"resources": [{"type": "picture", "id": ids[0]}]}
    batch_preview = token_client.post(f"/api/v1/snapshots/{body['id']}/restore/batch/preview", json=batch).json()
    assert batch_preview["changes"][0]["fields"]["rating"] == {"now": 5, "restored": 0}
    restored = token_client.post(f"/api/v1/snapshots/{body['id']}/restore").json()
    assert restored == {"snapshot_id": body["id"], "resource_type": "full", "missing_files_count": 0, "errors": []}
    assert owner.get("/api/v1/auth/me").status_code == 200  # nobody is signed out
    assert token_client.get("/api/v1/tokens").status_code == 200  # tokens still work
    assert token_client.get(f"/api/v1/pictures/{ids[0]}").json()["rating"] == 0
    result = token_client.post(f"/api/v1/snapshots/{body['id']}/restore/batch", json=batch).json()
    assert result == {"snapshot_id": body["id"], "upserted_count": 1, "errors": []}
    assert token_client.put("/api/v1/snapshots/schedule", json={"enabled": False}).json() == {"enabled": False}
    assert token_client.patch(f"/api/v1/snapshots/{body['id']}", json={"label": "renamed"}).json()["label"] == "renamed"
    assert token_client.delete(f"/api/v1/snapshots/{body['id']}").status_code == 204
    assert token_client.get(f"/api/v1/snapshots/{body['id']}/restore/preview").status_code == 404
    assert live.client(live.token("write")).get("/api/v1/snapshots").status_code == 403


def test_a_restore_waits_for_a_snapshot_in_progress_then_gives_up(library, snapshots, tmp_path, monkeypatch):
    import threading
    import time

    from pixlstash.snapshots import service

    make_pictures(library, tmp_path / "p", 1)
    snapshot = snapshots.take()
    # A snapshot (the scheduled one, say) finishing while a person's restore waits: the restore goes ahead.
    holding, release = threading.Event(), threading.Event()

    def busy():
        with snapshots._exclusive(wait=True):
            holding.set()
            release.wait(10)

    other = threading.Thread(target=busy)
    other.start()
    holding.wait(10)
    threading.Timer(0.5, release.set).start()
    started = time.monotonic()
    snapshots.restore(snapshot.id)
    assert time.monotonic() - started >= 0.4
    other.join(10)
    # One that does not finish in time: refused, nothing changed.
    monkeypatch.setattr(service, "_RESTORE_WAIT", 0.3)
    with snapshots._exclusive(wait=True), pytest.raises(Conflict, match="another snapshot or restore"):
        snapshots.restore(snapshot.id)


def test_kill_9_during_snapshots_and_restores_leaves_old_or_new_state(tmp_path):
    """Interrupt restores and snapshots at random moments: the library is always whole, and equal to the
    state before or after; every snapshot the catalog lists can be read back."""
    import os
    import random
    import signal
    import subprocess
    import time

    root = tmp_path / "lib"
    build(root, pictures=20_000, tags_per_picture=5, sets=20, characters=5, log=lambda *_: None)
    with Library.open(root) as library:
        all_ids = list(range(1, 20_001))
        library.edits.set_fields(all_ids, rating=1)
        service = library.new_snapshot_service()
        state_a = service.take("MANUAL", "A").id
        service.close()
        library.edits.set_fields(all_ids, rating=2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}
    rng = random.Random(7)
    outcomes = {"A": 0, "B": 0}
    for attempt in range(14):
        action = ["restore", str(state_a)] if attempt % 2 == 0 else ["create", "--label", f"n{attempt}"]
        child = subprocess.Popen(
            [sys.executable, "-m", "pixlstash", "snapshot", *action, "--library", str(root)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        time.sleep(rng.uniform(0.4, 2.0))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        with Library.open(root) as library:
            assert library.db.connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            ratings = {r for (r,) in library.db.query("SELECT DISTINCT rating FROM pictures")}
            assert ratings in ({1}, {2}), ratings
            outcomes["A" if ratings == {1} else "B"] += 1
            service = library.new_snapshot_service()
            for snapshot in service.list():
                service.verify(snapshot.id)
            service.close()
            if ratings == {1}:
                library.edits.set_fields(all_ids, rating=2)
    assert outcomes["A"] + outcomes["B"] == 14


def test_selective_restore_brings_faces_back_with_their_vectors(library, snapshots, tmp_path):
    (picture_id,) = make_pictures(library, tmp_path / "p", 1)
    hero = library.organise.create_collection("character", "Hero")
    with library.db.write():
        face_id = library.db.query(
            "INSERT INTO faces(picture_id, engine_id, engine_version, x0, y0, x1, y1, score, character_id, created_at) "
            "VALUES (?, 'fake/faces', '1', 1, 2, 30, 40, 0.9, ?, 0) RETURNING id",
            (picture_id, hero.id),
        )[0][0]
        library.db.execute("INSERT INTO face_vectors(face_id, vector) VALUES (?, ?)", (face_id, b"\x01" * 16))
    snapshot = snapshots.take()
    with library.db.write():
        library.db.execute("DELETE FROM faces WHERE picture_id = ?", (picture_id,))
    assert snapshots.preview(snapshot.id)["summary"]["pictures_to_revert"] == 1
    snapshots.restore_batch(snapshot.id, [RestoreResource("picture", picture_id)])
    rows = library.db.query(
        "SELECT f.id, f.character_id, v.vector FROM faces f JOIN face_vectors v "
        "ON v.face_id = f.id WHERE f.picture_id = ?",
        (picture_id,),
    )
    assert rows == [(face_id, hero.id, b"\x01" * 16)]
    assert snapshots.preview(snapshot.id)["summary"]["pictures_to_revert"] == 0


def test_a_restore_on_a_terminal_says_what_it_deletes_and_asks_first(tmp_path):
    """The README's `snapshot restore 1` typed in a shell: it says what it would take out and asks; no
    leaves the library as it was, --yes does not ask."""
    import os

    from conftest import run_cli, run_in_terminal
    from corpus import photo

    library = str(tmp_path / "lib")
    photo(40, 30, seed=1).save(tmp_path / "a.png")
    run_cli("import", "--library", library, str(tmp_path / "a.png"))
    run_cli("snapshot", "create", "--label", "one", "--library", library)
    photo(40, 30, seed=2).save(tmp_path / "b.png")
    run_cli("import", "--library", library, str(tmp_path / "b.png"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}
    argv = [sys.executable, "-m", "pixlstash", "snapshot", "restore", "1", "--library", library]
    status, shown = run_in_terminal(argv, tmp_path, env, "", timeout=120, answers={b"[y/n]:": "n"})
    assert status == 1 and "nothing restored" in shown
    assert "takes 1 picture out of the library, reverts 0 and recreates 0; 1 stay as they are" in shown
    assert run_cli("ls", "--count", "--library", library).stdout.strip() == "2"
    status, shown = run_in_terminal([*argv, "--yes"], tmp_path, env, "", timeout=120, answers={b"[y/n]:": "n"})
    assert status == 0 and "restore it?" not in shown and "restored the library from snapshot 1" in shown
    assert run_cli("ls", "--count", "--library", library).stdout.strip() == "1"
