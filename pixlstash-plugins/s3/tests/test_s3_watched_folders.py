"""A watched folder that deletes what it imported, for a library whose originals are in a SeaweedFS
bucket: a file goes from the folder only once the bucket holds it; with the service down, every file
stays where it is (each failure said in one line) and the next scan, with the service back, takes them."""

from __future__ import annotations

import os
import time
from pathlib import Path

from conftest import run_cli
from seaweed import SeaweedFS
from test_s3_store import blake, cli_env, open_library, pictures

from pixlstash.domain import FolderOptions


def files(folder: Path) -> list[Path]:
    """What a person sees in the folder (not the hidden file that says which library watches it)."""
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def settled(folder) -> None:
    stamp = time.time() - 60
    for path in folder.iterdir():
        os.utime(path, (stamp, stamp))


def test_a_watched_folder_keeps_each_file_until_the_bucket_holds_it(tmp_path):
    server = SeaweedFS(tmp_path / "seaweedfs").start_single()
    try:
        server.make_bucket("inbox-originals")
        root = tmp_path / "library"
        env = cli_env(root, PIXLSTASH_S3_RETRIES="0")
        run_cli("storage", "use", "s3://inbox-originals/lib", "--endpoint", server.endpoint, env=env)
        inbox = pictures(tmp_path / "inbox", 3)
        first = {blake(p.read_bytes()) for p in files(inbox)}
        settled(inbox)
        os.environ["PIXLSTASH_S3_RETRIES"] = "0"  # a stopped service fails at once, not after the backoff
        library = open_library(root)
        try:
            folder = library.folder_sync.add("import", inbox, FolderOptions(delete_after_import=True, settle_seconds=0))
            scan = library.folder_sync.scan(folder.id)
            assert len(scan.report.imported) == 3 and files(inbox) == []
            assert {k.rsplit("/", 1)[1].split(".")[0] for k in server.keys("inbox-originals")} == first

            # The service dies: new files are not imported and stay in the folder, untouched.
            server.kill("server")
            for n, path in enumerate(sorted(pictures(tmp_path / "later", 2, size=120).iterdir())):
                path.rename(inbox / f"later-{n}.jpg")
            settled(inbox)
            before = {p.name: p.read_bytes() for p in files(inbox)}
            down = library.folder_sync.scan(folder.id)
            assert down.report.imported == [] and len(down.report.skipped) == 2
            for skip in down.report.skipped:
                assert "cannot store later-" in skip.reason and "does not answer" in skip.reason, skip.reason
            assert {p.name: p.read_bytes() for p in files(inbox)} == before

            # Back: the next scan takes them, and only then are they gone from the folder.
            server.restart("server")
            server.wait()
            back = library.folder_sync.scan(folder.id)
            assert len(back.report.imported) == 2 and files(inbox) == []
            stored = {k.rsplit("/", 1)[1].split(".")[0] for k in server.keys("inbox-originals")}
            assert stored == first | {blake(data) for data in before.values()}
        finally:
            del os.environ["PIXLSTASH_S3_RETRIES"]
            library.close()
    finally:
        server.close()
