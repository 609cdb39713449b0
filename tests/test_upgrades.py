"""A library made by any earlier version opens with today's code with nothing lost (issue 46).

tests/fixtures/libraries/schema-NN.tar.zst are libraries that earlier commits of this repository made
themselves (scripts/fixture_libraries.py: the newest commit of each schema era, run in a git worktree, filling
a library through that version's own API). Each holds pictures, ratings, tags, captions, the scrapheap,
projects, sets and characters, and where the version had them: embeddings, faces, a snapshot, undo history,
the owner, a token and a share link. Its expected.json says what was made. Each is opened here with today's
code: every count must hold, and the snapshot restores, undo undoes, the token and the share link work.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
import zstandard
from conftest import REPO

from pixlstash.auth import Authenticator
from pixlstash.db.schema import SCHEMA_VERSION
from pixlstash.domain import PictureFilter
from pixlstash.library import Library
from pixlstash.plugins import make_plugin_manager

FIXTURES = sorted((REPO / "tests" / "fixtures" / "libraries").glob("schema-*.tar.zst"))


def test_there_is_a_fixture_for_every_earlier_schema():
    eras = {int(path.name.split("-")[1].split(".")[0]) for path in FIXTURES}
    assert eras == set(range(1, SCHEMA_VERSION)), "scripts/fixture_libraries.py makes the missing ones"


def _unpack(fixture: Path, into: Path) -> tuple[Path, dict]:
    data = zstandard.ZstdDecompressor().decompress(fixture.read_bytes(), max_output_size=64 << 20)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into, json.loads((into / "expected.json").read_text())


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda path: path.name.split(".")[0])
def test_an_earlier_library_opens_with_everything_in_it(fixture, tmp_path):
    root, expected = _unpack(fixture, tmp_path / "library")
    assert expected["schema"] < SCHEMA_VERSION
    library = Library.open(root, create=False, plugin_manager=make_plugin_manager(load_entry_points=False))
    try:
        assert library.db.scalar("PRAGMA user_version") == SCHEMA_VERSION  # upgraded on opening
        ids = sorted(int(i) for i in expected["names"])
        assert library.pictures.original_names(ids) == {int(i): name for i, name in expected["names"].items()}
        assert library.count(PictureFilter()) == expected["active"]
        assert library.count(PictureFilter(scrapheap=True)) == expected["scrapped"]
        for picture_id, rating in expected.get("ratings", {}).items():
            assert library.get(int(picture_id)).rating == rating
        for name, count in expected.get("tags", {}).items():
            assert library.count(PictureFilter(tags=[name])) == count, name
        for picture_id, text in expected.get("captions", {}).items():
            assert text in [caption.text for caption in library.get(int(picture_id)).captions]
        projects = {project.name: project.id for project in library.collections.projects()}
        for name, count in expected.get("projects", {}).items():
            assert library.count(PictureFilter(project=projects[name])) == count, name
        for kind, members in expected["collections"].items():
            found = {c.name: c.id for c in library.collections.collections(kind)}
            for name, count in members.items():
                assert library.count(PictureFilter(collections=[found[name]])) == count, (kind, name)
        if expected.get("embeddings"):
            engines = {engine_id: (dims, count) for engine_id, dims, count in library.vectors.embedding_engines()}
            assert engines["fixture/embedder"] == (16, expected["embeddings"])
            vectors = library.vectors.embeddings("fixture/embedder", ids)
            assert len(vectors) == expected["embeddings"] and all(len(v) == 16 for v in vectors.values())
        if expected.get("faces"):
            faces = library.vectors.faces_on("fixture/faces", ids)
            assert len(faces) == expected["faces"]
            assert len(library.vectors.face_vectors(faces)) == expected["faces"]
        if expected.get("history_steps"):
            assert len(library.edits.history().steps) >= expected["history_steps"]
            undone = library.edits.undo()  # the old version's newest step: a tag on the third picture
            assert undone is not None
            assert "undo me" not in [tag.name for tag in library.get(ids[2]).tags]
        if expected.get("snapshots"):
            service = library.new_snapshot_service()
            try:
                [row] = [row for row in service.list() if row.label == "before the upgrade"]
                service.verify(row.id)
                library.edits.tag([ids[0]], add=["after the upgrade"])
                service.restore(row.id)
                assert "after the upgrade" not in [tag.name for tag in library.get(ids[0]).tags]
                assert library.count(PictureFilter(tags=["fox"])) == expected["tags"]["fox"]
            finally:
                service.close()
        accounts = expected.get("accounts")
        if accounts:
            auth = Authenticator(root)
            try:
                assert auth.login(accounts["owner"], accounts["password"], "127.0.0.1").secret
                assert auth.token(accounts["token"]).scope == "read"
                if "share" in accounts:
                    share, _ = library.new_share_service(auth).resolve(accounts["share"])
                    assert share.scope_type == "set"
            finally:
                auth.close()
    finally:
        library.close()
