"""The text in pictures (OCR) in the core: a text reader's regions are stored in the original's pixels,
its words are found by the search box's full-text match, "has text" / "no text" filter, and a reader that
returns what cannot be stored fails the picture and keeps the old reading."""

from __future__ import annotations

import pytest
from corpus import photo

from pixlstash.domain import PictureFilter
from pixlstash.engines import Task, TextReader, TextRegion
from pixlstash.hookspecs import hookimpl


class SignReader(TextReader):
    """Reads a sign in the top-left quarter of every landscape picture; upright ones hold no text."""

    id = "test/sign-reader"
    input_size = 128

    def __init__(self) -> None:
        self.sizes: list[tuple[int, int]] = []
        self.result = None

    def read(self, images):
        self.sizes.extend(image.size for image in images)
        if self.result is not None:
            return [self.result for _ in images]
        found = []
        for image in images:
            w, h = image.size
            quad = (0.0, 0.0, w / 2, 0.0, w / 2, h / 2, 0.0, h / 2)
            found.append([TextRegion("OPEN", quad), TextRegion("  late  ", quad)] if w > h else [])
        return found


@pytest.fixture
def reader(plugin_manager):
    engine = SignReader()

    class Plugin:
        @hookimpl
        def register_text_readers(self, register, settings):
            register(engine)

    plugin_manager.register(Plugin(), name="test-ocr")
    return engine


def run_jobs(library) -> None:
    library.new_enrichment_worker(decode_threads=2).run_until_idle()


def test_read_text_is_kept_in_original_pixels_searched_and_filtered(reader, library, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    photo(1600, 1200, seed=1).save(folder / "shop.jpg")
    photo(300, 600, seed=2).save(folder / "plain.jpg")
    photo(500, 400, seed=3).save(folder / "unread.jpg")
    report = library.import_paths([folder])
    ids = {item.path.rsplit("/", 1)[-1]: item.picture_id for item in report.imported}
    job = library.enrichment.enqueue(Task.OCR, [ids["shop.jpg"], ids["plain.jpg"]], engine_id=reader.id)
    run_jobs(library)
    assert library.enrichment.job(job.id).done == 2

    shop = library.get(ids["shop.jpg"]).text
    assert shop.engine_id == "test/sign-reader" and shop.text == "OPEN late"
    assert max(w for w, _ in reader.sizes) < 1600  # the reader saw a smaller rendition...
    assert [run.text for run in shop.runs] == ["OPEN", "late"]
    assert shop.runs[0].quad == pytest.approx([0, 0, 800, 0, 800, 600, 0, 600], abs=3)  # ...stored in the original's
    plain = library.get(ids["plain.jpg"]).text
    assert plain.text == "" and plain.runs == []
    assert library.get(ids["unread.jpg"]).text is None

    assert library.query.ids(PictureFilter(text="open")) == [ids["shop.jpg"]]
    assert library.query.ids(PictureFilter(has_text=True)) == [ids["shop.jpg"]]
    assert library.query.ids(PictureFilter(has_text=False)) == [ids["plain.jpg"]]  # unread: neither


@pytest.mark.parametrize("bad", [["not a region"], [TextRegion("x", (0, 0, 1, 0, 1, float("nan"), 0, 1))]])
def test_a_reading_that_cannot_be_stored_fails_the_picture_and_keeps_the_old_one(reader, library, tmp_path, bad):
    folder = tmp_path / "in"
    folder.mkdir()
    photo(400, 300, seed=4).save(folder / "a.jpg")
    (picture_id,) = [item.picture_id for item in library.import_paths([folder]).imported]
    library.enrichment.enqueue(Task.OCR, [picture_id], engine_id=reader.id)
    run_jobs(library)
    before = library.get(picture_id).text
    reader.result = bad
    job = library.enrichment.enqueue(Task.OCR, [picture_id], engine_id=reader.id, force=True)
    run_jobs(library)
    assert library.enrichment.job(job.id).failed == 1
    assert library.get(picture_id).text == before and before.text == "OPEN late"
