"""A write counts only once the bucket holds the very bytes sent, against a real SeaweedFS behind a proxy
that changes what passes: a service whose ETag is not the body's MD5 (as AWS's for SSE-KMS) still gets
every original, checked by reading it back; a body changed on its way is refused file by file with one
line, and nothing of it stays (no picture, no object, no thumbnail)."""

from __future__ import annotations

import json
from pathlib import Path

import obstore
import pytest
from conftest import run_cli
from faulty_services import TamperingProxy
from seaweed import SeaweedFS
from test_s3_store import blake, cli_env, pictures


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory):
    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs")).start_single()
    yield server
    server.close()


def test_an_etag_that_is_not_the_md5_is_checked_by_reading_back(seaweed, tmp_path):
    seaweed.make_bucket("kms")
    folder = pictures(tmp_path / "in", 4, size=300)
    env = cli_env(tmp_path / "library")
    with TamperingProxy(seaweed.endpoint, "etag") as proxy:
        run_cli("storage", "use", "s3://kms/lib", "--endpoint", proxy.endpoint, env=env)
        said = run_cli("import", str(folder), env=env).stdout
        assert proxy.tampered == 4, "every PUT answer carried a foreign ETag"
    assert said.startswith("imported 4, duplicates 0, skipped 0"), said
    held = {Path(key).stem: key for key in seaweed.keys("kms", "lib")}
    for name in sorted(p.name for p in folder.iterdir()):
        data = (folder / name).read_bytes()
        key = held[blake(data)]
        stored = bytes(obstore.get(seaweed.client("kms", "lib"), key).bytes())
        assert stored == data, name


def test_a_body_changed_on_its_way_is_refused_and_nothing_of_it_stays(seaweed, tmp_path):
    seaweed.make_bucket("faulty")
    folder = pictures(tmp_path / "in", 3, size=300)
    root = tmp_path / "library"
    env = cli_env(root, PIXLSTASH_S3_RETRIES="0")
    with TamperingProxy(seaweed.endpoint, "flip") as proxy:
        run_cli("storage", "use", "s3://faulty/lib", "--endpoint", proxy.endpoint, env=env)
        done = run_cli("import", str(folder), check=False, env=env)
    assert done.stdout.startswith("imported 0, duplicates 0, skipped 3"), done.stdout
    skipped = done.stderr.splitlines()
    assert len(skipped) == 3, done.stderr
    for line in skipped:
        assert line.endswith(f": s3://faulty/lib at {proxy.endpoint} did not keep it whole"), line
        assert "cannot store p00" in line, line
    assert json.loads(run_cli("ls", "--json", env=env).stdout)["items"] == []
    assert seaweed.keys("faulty", "lib") == [], "no damaged object is left in the bucket"
    assert not [p for p in (root / "thumbnails").rglob("*") if p.is_file()], "no thumbnail of a file not stored"


def test_an_object_read_back_changed_is_never_served_or_backed_up_as_whole(seaweed, tmp_path):
    """The bucket (or what is between) answers a read with other bytes: a download is cut short rather
    than served as the file, a backup reads it again and says it is damaged, and verify says so too."""
    import httpx
    from live_server import LiveServer
    from test_s3_store import open_library

    from pixlstash.domain import PictureFilter

    seaweed.make_bucket("readback")
    folder = pictures(tmp_path / "in", 2, size=300)
    root = tmp_path / "library"
    env = cli_env(root, PIXLSTASH_S3_RETRIES="0")
    with TamperingProxy(seaweed.endpoint, "flip-reads") as proxy:
        run_cli("storage", "use", "s3://readback/lib", "--endpoint", proxy.endpoint, env=env)
        assert run_cli("import", str(folder), env=env).stdout.startswith("imported 2")
        library = open_library(root)
        try:
            picture = library.page(PictureFilter(), None, None, 1).items[0]
            with LiveServer(library) as live, live.client(live.token("read")) as http:
                url = f"/api/v1/media/{picture.content_hash}/original"
                with pytest.raises(httpx.HTTPError):  # cut short: the client sees an error, not a file
                    http.get(url).read()
                ranged = http.get(url, headers={"Range": "bytes=10-19"})
                assert ranged.status_code == 206 and len(ranged.content) == 10  # a range is not checked
        finally:
            library.close()
        backup = tmp_path / "backup"
        made = run_cli("backup", "create", str(backup), check=False, env=env)
    assert made.returncode == 3 and made.stderr.count("damaged in the library") == 2, made.stderr
    verified = run_cli("backup", "verify", str(backup), check=False, env=env)
    assert verified.returncode == 1 and "is not the original its name names" in verified.stdout, verified.stdout
    assert "is whole" not in verified.stdout
