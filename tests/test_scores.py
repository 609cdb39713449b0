"""Scores: the scorer engine kind end to end: the built-in quality scorer on real thumbnails, a scorer that
reads stored vectors and prompts, sorting, range filters, statistics, pruning as one undoable step, and
engines that return what cannot be stored."""

from __future__ import annotations

import numpy as np
import pytest
from corpus import photo, solid
from PIL import Image, ImageFilter

from pixlstash.builtin.quality import QualityScorer, measure
from pixlstash.db.query import PictureQuery
from pixlstash.domain import EnrichmentSettings, PictureFilter, Sort
from pixlstash.engines import ScoreInput, Scorer, Task
from pixlstash.errors import BadInput
from pixlstash.hookspecs import hookimpl


def run_jobs(library) -> int:
    return library.new_enrichment_worker(decode_threads=2).run_until_idle()


def import_images(library, tmp_path, images: dict[str, Image.Image]) -> dict[str, int]:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    for name, image in images.items():
        image.save(folder / f"{name}.png")
    report = library.import_paths([folder])
    return {item.path.rsplit("/", 1)[-1].removesuffix(".png"): item.picture_id for item in report.imported}


def degraded(seed: int) -> dict[str, Image.Image]:
    """One photo-like picture, and the same picture blurred, noisy and underexposed."""
    sharp = photo(640, 480, seed)
    pixels = np.asarray(sharp).astype(np.float32)
    rng = np.random.default_rng(seed)
    return {
        "sharp": sharp,
        "blurred": sharp.filter(ImageFilter.GaussianBlur(6)),
        "noisy": Image.fromarray(np.clip(pixels + rng.normal(0, 40, pixels.shape), 0, 255).astype(np.uint8)),
        "dark": Image.fromarray((pixels * 0.12).astype(np.uint8)),
    }


def test_each_measure_falls_for_the_fault_it_measures():
    pictures = degraded(1)
    sharp = measure(pictures["sharp"])
    assert measure(pictures["blurred"])["sharpness"] < sharp["sharpness"] / 3
    assert measure(pictures["noisy"])["noise"] < sharp["noise"] / 3
    dark = measure(pictures["dark"])
    assert dark["exposure"] < sharp["exposure"] / 3 and dark["contrast"] < sharp["contrast"] / 3
    flat = measure(solid(64, 64, (128, 128, 128)))
    assert flat["contrast"] == 0 and flat["sharpness"] == 0 and flat["noise"] == 1
    assert measure(solid(2, 2, (9, 9, 9))) == {"sharpness": 0.0, "exposure": 0.0, "noise": 0.0, "contrast": 0.0}
    only_sharpness = QualityScorer().score(
        [pictures["sharp"]], sharpness_weight=1, exposure_weight=0, noise_weight=0, contrast_weight=0
    )
    assert only_sharpness == [pytest.approx(sharp["sharpness"])]


def test_quality_scores_sort_filter_and_prune_a_batch(library, tmp_path):
    ids = import_images(library, tmp_path, degraded(2))
    job = library.enrichment.enqueue(Task.SCORER, engine_id="pixlstash/quality")
    assert job is not None and job.total == 4
    assert run_jobs(library) == 4
    scores = {name: library.get(pid).scores for name, pid in ids.items()}
    assert all(len(s) == 1 and s[0].engine_id == "pixlstash/quality" and 0 <= s[0].value <= 1 for s in scores.values())
    value = {name: s[0].value for name, s in scores.items()}
    assert value["sharp"] == max(value.values())
    assert value["dark"] == min(value.values())

    query = PictureQuery(library.db)
    ranked = sorted(ids, key=value.get, reverse=True)
    best_first = query.page(PictureFilter(), Sort("score:pixlstash/quality"), limit=2)
    assert [p.id for p in best_first.items] == [ids[n] for n in ranked[:2]]
    assert best_first.items[0].score == pytest.approx(value["sharp"])
    rest = query.page(PictureFilter(), Sort("score:pixlstash/quality"), best_first.next_cursor, limit=2)
    assert [p.id for p in rest.items] == [ids[n] for n in ranked[2:]]
    worst_first = query.page(PictureFilter(), Sort("score:pixlstash/quality", descending=False), limit=10)
    assert [p.id for p in worst_first.items] == [ids[n] for n in sorted(ids, key=value.get)]

    middle = sorted(value.values())[1:3]
    ranged = PictureFilter(score_engine="pixlstash/quality", score_min=middle[0], score_max=middle[1])
    assert query.ids(ranged) == [ids[n] for n in ids if value[n] == middle[0]]
    with pytest.raises(BadInput, match="score_engine"):
        query.count(PictureFilter(score_min=0.5))

    stats = library.statistics()
    (histogram,) = stats.scores
    assert histogram["engine_id"] == "pixlstash/quality" and histogram["count"] == 4
    low, high = min(value.values()), max(value.values())
    expected = [0] * 10
    for v in value.values():
        expected[min(int((v - low) / ((high - low) / 10)), 9)] += 1
    assert histogram["buckets"] == expected and expected[0] >= 1 and expected[-1] >= 1
    assert histogram["low"] == pytest.approx(value["dark"]) and histogram["high"] == pytest.approx(value["sharp"])

    preview = library.prune("pixlstash/quality", PictureFilter(), lowest=2, dry_run=True)
    assert preview == [ids[n] for n in sorted(ids, key=value.get)[:2]]
    assert library.get(preview[0]).deleted_at is None  # a dry run changes nothing
    scrapped = library.prune("pixlstash/quality", PictureFilter(), lowest=2)
    assert sorted(scrapped) == sorted(preview)
    assert all(library.get(pid).deleted_at is not None for pid in scrapped)
    assert library.edits.history().steps[0].label == "Scrap the 2 lowest by pixlstash/quality"
    library.edits.undo()
    assert all(library.get(pid).deleted_at is None for pid in scrapped)  # one step brings both back
    below = library.prune("pixlstash/quality", PictureFilter(), below=value["sharp"], dry_run=True)
    assert set(below) == {ids[n] for n in ids if n != "sharp"}
    with pytest.raises(BadInput):
        library.prune("pixlstash/quality", PictureFilter())
    # Pictures a person rated or marked favourite are never proposed, unless the filter asks about them.
    worst, second = (ids[n] for n in sorted(ids, key=value.get)[:2])
    library.edits.set_fields([worst], rating=5)
    library.edits.set_fields([second], favourite=True)
    kept = library.prune("pixlstash/quality", PictureFilter(), lowest=10, dry_run=True)
    assert worst not in kept and second not in kept and len(kept) == 2
    asked = library.prune("pixlstash/quality", PictureFilter(rating_min=5), lowest=10, dry_run=True)
    assert asked == [worst]


class PromptLikeness(Scorer):
    """Reads stored vectors and prompts: the first component of the vector when the prompt names red."""

    id = "test/prompt-likeness"
    reads = "embedding"
    embedder_id = "fake/colour"
    needs_prompt = True

    def __init__(self) -> None:
        self.seen: list[ScoreInput] = []

    def score(self, items):
        self.seen.extend(items)
        return [float(item.vector[0]) if "red" in item.prompt else None for item in items]


class BrokenScorer(Scorer):
    id = "test/broken"

    def __init__(self, result) -> None:
        self.result = result

    def score(self, items):
        return [self.result for _ in items]


def register_scorer(plugin_manager, scorer, name: str) -> None:
    """``scorer`` registered through the real hook, as a plugin named ``name``."""

    class Plugin:
        @hookimpl
        def register_scorers(self, register, settings):
            register(scorer)

    plugin_manager.register(Plugin(), name=name)


def test_a_scorer_reads_stored_vectors_and_prompts_and_never_an_image(fake_engines, plugin_manager, library, tmp_path):
    scorer = PromptLikeness()

    register_scorer(plugin_manager, scorer, "test-scorer")
    from corpus import a1111_png

    folder = tmp_path / "gen"
    folder.mkdir()
    a1111_png(folder / "generated.png")
    solid(80, 60, (200, 20, 20)).save(folder / "plain.png")
    report = library.import_paths([folder])
    ids = {item.path.rsplit("/", 1)[-1]: item.picture_id for item in report.imported}
    unembedded = library.enrichment.enqueue(Task.SCORER, engine_id=scorer.id)
    run_jobs(library)  # the import's embedder job runs first; so the scorer finds its vectors
    assert library.enrichment.job(unembedded.id).failed == 0

    prompt = library.get(ids["generated.png"]).generation.positive
    assert prompt and {item.prompt for item in scorer.seen} == {prompt, ""}
    assert all(isinstance(item.vector, np.ndarray) for item in scorer.seen)
    vectors = library.vectors.embeddings("fake/colour", list(ids.values()))
    generated = library.get(ids["generated.png"]).scores
    if "red" in prompt:
        assert generated[0].value == pytest.approx(float(vectors[ids["generated.png"]][0]))
    else:
        assert generated == []
    assert library.get(ids["plain.png"]).scores == []  # no prompt: nothing to match, nothing stored


def test_a_picture_without_the_vectors_a_scorer_reads_fails_alone_and_says_why(plugin_manager, library, tmp_path):
    scorer = PromptLikeness()

    register_scorer(plugin_manager, scorer, "test-scorer")
    ids = import_images(library, tmp_path, {"a": solid(40, 40, (1, 2, 3))})
    job = library.enrichment.enqueue(Task.SCORER, engine_id=scorer.id)
    run_jobs(library)
    (error,) = library.enrichment.job_errors(job.id)
    assert error.picture_id == ids["a"] and "no fake/colour embedding" in error.error
    assert scorer.seen == []


@pytest.mark.parametrize("result", [float("nan"), 1.5, -0.1, "high", True])
def test_scores_that_cannot_be_stored_fail_the_picture_and_keep_its_score(plugin_manager, library, tmp_path, result):
    broken = BrokenScorer(0.25)

    register_scorer(plugin_manager, broken, "test-broken")
    ids = import_images(library, tmp_path, {"a": solid(40, 40, (1, 2, 3))})
    library.enrichment.enqueue(Task.SCORER, engine_id="test/broken")
    run_jobs(library)
    assert [s.value for s in library.get(ids["a"]).scores] == [0.25]
    broken.result = result
    job = library.enrichment.enqueue(Task.SCORER, engine_id="test/broken", force=True)
    run_jobs(library)
    assert library.enrichment.job(job.id).failed == 1
    assert [s.value for s in library.get(ids["a"]).scores] == [0.25]


def test_several_scorers_run_on_import_when_named_in_the_settings(fake_engines, library, tmp_path):
    settings = EnrichmentSettings(on_import=["embedder", "pixlstash/quality"])
    library.engines.configure(settings)
    ids = import_images(library, tmp_path, {"a": photo(100, 80, 3)})
    assert {job.engine_id for job in library.enrichment.list_jobs()} == {"fake/colour", "pixlstash/quality"}
    run_jobs(library)
    assert [s.engine_id for s in library.get(ids["a"]).scores] == ["pixlstash/quality"]
    with pytest.raises(Exception, match="no engine 'nobody/here'"):
        library.engines.configure(EnrichmentSettings(on_import=["nobody/here"]))
