"""Generation data with integers past 64 bits (ComfyUI seeds reach 2^64 - 1; A1111 writes any integer)
is imported, kept exactly and searchable; a file whose commit fails leaves nothing behind."""

from __future__ import annotations

import copy
import json

from corpus import COMFY_PROMPT, photo
from live_server import LiveServer
from PIL import PngImagePlugin

from pixlstash.domain import PictureFilter

COMFY_SEED = 18446744073709551000
A1111_SEED = 99999999999999999999


def _png(path, seed: int, **texts: str):
    info = PngImagePlugin.PngInfo()
    for key, value in texts.items():
        info.add_text(key, value)
    photo(200, 160, seed).save(path, "PNG", pnginfo=info)
    return path


def _comfy_prompt(seed: int, steps: int = 30) -> str:
    prompt = copy.deepcopy(COMFY_PROMPT)
    prompt["3"]["inputs"].update(seed=seed, steps=steps)
    return json.dumps(prompt)


def _files_under(folder) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*") if p.is_file())


def test_seeds_past_64_bits_are_kept_exactly_and_found_by_text(library, tmp_path):
    comfy = _png(tmp_path / "comfy.png", 1, prompt=_comfy_prompt(COMFY_SEED, steps=2**70))
    a1111 = _png(
        tmp_path / "a1111.png",
        2,
        parameters=(
            f"a red fox\nNegative prompt: blurry\nSteps: 25, Sampler: Euler a, CFG scale: 7, Seed: {A1111_SEED}"
        ),
    )
    report = library.import_paths([comfy, a1111])
    assert report.skipped == [] and len(report.imported) == 2
    ids = {i.path.rsplit("/", 1)[-1]: i.picture_id for i in report.imported}
    comfy_generation = library.get(ids["comfy.png"]).generation
    assert comfy_generation.seed == str(COMFY_SEED)
    assert comfy_generation.steps is None  # a count past 64 bits is no count: dropped, the raw prompt kept
    assert str(COMFY_SEED) in comfy_generation.raw_prompt
    assert library.get(ids["a1111.png"]).generation.seed == str(A1111_SEED)
    for name, seed in (("comfy.png", COMFY_SEED), ("a1111.png", A1111_SEED)):
        assert [p.id for p in library.page(PictureFilter(text=str(seed))).items] == [ids[name]]
    with LiveServer(library) as server, server.client(server.token("read")) as http:
        body = http.get(f"/api/v1/pictures/{ids['comfy.png']}").json()
        assert body["generation"]["seed"] == "18446744073709551000"  # text: exact in JavaScript too


def test_a_file_whose_commit_fails_leaves_no_original_or_thumbnail(library, tmp_path):
    # A real failure inside the commit's transaction: this connection's database refuses generation rows.
    library.db.execute(
        "CREATE TEMP TRIGGER refuse BEFORE INSERT ON main.generation BEGIN SELECT RAISE(ABORT, 'the disk said no'); END"
    )
    before = _files_under(library.root / "originals") + _files_under(library.root / "thumbnails")
    report = library.import_paths([_png(tmp_path / "g.png", 3, prompt=_comfy_prompt(7))])
    assert report.imported == [] and "could not record" in report.skipped[0].reason
    assert _files_under(library.root / "originals") + _files_under(library.root / "thumbnails") == before
    library.db.execute("DROP TRIGGER temp.refuse")
    assert len(library.import_paths([tmp_path / "g.png"]).imported) == 1  # and it imports once it can


def test_upgrading_keeps_stored_seeds_and_makes_them_searchable(tmp_path):
    from pixlstash.db.database import connect
    from pixlstash.db.schema import MIGRATIONS, migrate

    connection = connect(tmp_path / "library.db")
    migrate(connection, MIGRATIONS[:7])
    connection.execute(
        "INSERT INTO pictures(id, content_hash, suffix, media_type, mime, file_size, width, height, pixels, "
        "taken_at, imported_at, original_name, shuffle) VALUES (1, 'ab', '.png', 'image', 'image/png', 1, 1, 1, 1, "
        "0, 0, 'old.png', 1)"
    )
    connection.execute("INSERT INTO generation(picture_id, tool, positive, seed) VALUES (1, 'a1111', 'a cat', 42)")
    migrate(connection)
    assert connection.execute("SELECT seed, typeof(seed) FROM generation").fetchall() == [("42", "text")]
    assert connection.execute("SELECT rowid FROM picture_text WHERE picture_text MATCH '42'").fetchall() == [(1,)]
    stamp = connection.execute("SELECT meta_seq FROM pictures").fetchone()[0]
    connection.execute("UPDATE generation SET seed = '7' WHERE picture_id = 1")  # the stamp triggers came back
    assert connection.execute("SELECT meta_seq FROM pictures").fetchone()[0] != stamp
    connection.close()
