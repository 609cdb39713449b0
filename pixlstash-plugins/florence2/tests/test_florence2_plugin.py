"""The Florence-2 plugin on a tiny random-weight Florence-2 the test builds, loaded by the plugin's own code:
regions parsed as the reference processor parses them; captions and OCR through the library's worker equal
to transformers' reference pipeline on the same image, the regions scaled to the original's pixels and
searchable; a missing model says how to get it; importing the plugin imports no torch."""

from __future__ import annotations

import pytest
from conftest import python_prints
from corpus import photo

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
if not hasattr(transformers, "Florence2ForConditionalGeneration"):
    pytest.skip("this transformers has no native Florence-2", allow_module_level=True)

from tiny_florence import build_tiny_florence  # noqa: E402

from pixlstash import ModelMissing, TextRegion, make_plugin_manager  # noqa: E402
from pixlstash.domain import EnrichmentSettings, PictureFilter  # noqa: E402
from pixlstash.engines import Task  # noqa: E402
from pixlstash.library import Library  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_florence(tmp_path_factory.mktemp("models") / "florence2" / "tiny")


@pytest.fixture
def models(tiny, monkeypatch, tmp_path):
    monkeypatch.setenv("PIXLSTASH_MODELS_DIR", str(tiny.parent.parent))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("PIXLSTASH_FLORENCE2_MODELS", "tiny")
    return tiny


@pytest.fixture
def library(models, tmp_path):
    pm = make_plugin_manager(load_entry_points=False)
    import pixlstash_florence2

    pm.register(pixlstash_florence2, name="florence2")
    with Library.open(tmp_path / "lib", plugin_manager=pm) as library:
        library.engines.configure(EnrichmentSettings(on_import=[]))
        yield library


def reference(folder):
    from transformers import AutoProcessor, Florence2ForConditionalGeneration

    return AutoProcessor.from_pretrained(folder), Florence2ForConditionalGeneration.from_pretrained(folder).eval()


def reference_answer(processor, model, image, task: str, max_new_tokens: int):
    """transformers' own Florence-2 pipeline, as its model card runs it."""
    inputs = processor(text=task, images=image, return_tensors="pt")
    with torch.no_grad():
        generated = model.generate(**inputs, max_new_tokens=max_new_tokens, num_beams=3, do_sample=False)
    text = processor.batch_decode(generated, skip_special_tokens=False)[0]
    return processor.post_process_generation(text, task=task, image_size=image.size)[task]


def test_ocr_regions_are_what_the_reference_processor_parses(tiny):
    from pixlstash_florence2.engine import regions_from

    processor, _ = reference(tiny)
    answer = (
        "</s><s>OPEN<loc_100><loc_100><loc_200><loc_100><loc_200><loc_200><loc_100><loc_200>"
        "late\x00 today<loc_300><loc_300><loc_400><loc_300><loc_400><loc_400><loc_300><loc_400>"
        "\x01<loc_5><loc_5><loc_6><loc_5><loc_6><loc_6><loc_5><loc_6></s>"
    )
    parsed = processor.post_process_generation(answer, task="<OCR_WITH_REGION>", image_size=(1000, 800))
    quads = parsed["<OCR_WITH_REGION>"]["quad_boxes"]
    assert regions_from(parsed["<OCR_WITH_REGION>"]) == [
        TextRegion("OPEN", tuple(float(v) for v in quads[0])),
        TextRegion("late today", tuple(float(v) for v in quads[1])),  # a control character dropped
    ]  # the third run holds no text: left out
    assert quads[0] == [100, 80, 200, 80, 200, 160, 100, 160]  # pixels of the 1000 x 800 image, not grid steps


def test_captions_and_text_through_the_worker_equal_the_reference_pipeline(library, models, tmp_path):
    from pixlstash.engines.inputs import load_input

    folder = tmp_path / "in"
    folder.mkdir()
    photo(1200, 900, seed=1).save(folder / "sign.jpg")
    photo(600, 800, seed=2).save(folder / "street.jpg")
    ids = [item.picture_id for item in library.import_paths([folder]).imported]
    caption = library.enrichment.enqueue(
        Task.CAPTIONER, ids, engine_id="florence2/tiny", parameters={"length": "short"}
    )
    ocr = library.enrichment.enqueue(Task.OCR, ids, engine_id="florence2/tiny-ocr")
    library.new_enrichment_worker(decode_threads=2).run_until_idle()
    for job in (caption, ocr):
        assert library.enrichment.job(job.id).state == "done" and library.enrichment.job(job.id).failed == 0

    from pixlstash_florence2.engine import regions_from

    processor, model = reference(models)
    found_words = False
    for picture_id in ids:
        picture = library.get(picture_id)
        content_hash, width, height, media_type = library.pictures.media_inputs([picture_id])[picture_id]
        image = load_input(library.files, picture_id, content_hash, width, height, media_type, 768)
        (stored,) = [c for c in picture.captions if c.source == "florence2/tiny"]
        assert stored.text == reference_answer(processor, model, image, "<CAPTION>", 64).strip()
        expected = regions_from(reference_answer(processor, model, image, "<OCR_WITH_REGION>", 1024))
        sx, sy = width / image.width, height / image.height
        assert picture.text.engine_id == "florence2/tiny-ocr"
        assert [run.text for run in picture.text.runs] == [region.text for region in expected]
        for run, region in zip(picture.text.runs, expected, strict=True):
            scaled = [v * (sx if n % 2 == 0 else sy) for n, v in enumerate(region.quad)]
            assert run.quad == pytest.approx(scaled, abs=0.1)
        if expected:
            found_words = True
            word = expected[0].text.split()[0]
            assert picture_id in library.query.ids(PictureFilter(text=word))
            assert picture_id in library.query.ids(PictureFilter(has_text=True))
    assert found_words  # the random model wrote some text, so the comparison above compared something


def test_a_missing_model_says_how_to_get_it(models, monkeypatch, tmp_path):
    monkeypatch.setenv("PIXLSTASH_FLORENCE2_MODELS", "base")
    pm = make_plugin_manager(load_entry_points=False)
    import pixlstash_florence2

    pm.register(pixlstash_florence2, name="florence2")
    with Library.open(tmp_path / "lib2", plugin_manager=pm) as library:
        status = library.engines.by_id("florence2/base-ocr").model_status()
        assert not status.present and "pixlstash models pull florence2/base" in status.how_to_get
        assert "florence-community/Florence-2-base" in status.how_to_get
        with pytest.raises(ModelMissing, match="florence2/base"):
            library.enrichment.enqueue(Task.OCR, engine_id="florence2/base-ocr")
        with pytest.raises(ModelMissing, match="Florence-2 model base is not on this machine: run `pixlstash"):
            library.engines.by_id("florence2/base-ocr").load("cpu")


def test_importing_and_registering_loads_no_torch(models):
    code = (
        "import sys, pixlstash_florence2; from pixlstash import make_plugin_manager, EngineRegistry;"
        "es = EngineRegistry.from_plugin_manager(make_plugin_manager()).all();"
        "es = [e for e in es if e.id.startswith('florence2/')];"
        "[(e.model_status(), e.version) for e in es];"
        "print(sorted(e.id for e in es), 'torch' in sys.modules)"
    )
    assert python_prints(code) == "['florence2/tiny', 'florence2/tiny-ocr'] False"


def test_bf16_loads_florence_in_bfloat16_and_still_captions(models, monkeypatch):
    """The GPU's number format, run on the CPU: the setting reaches the weights, and captions come."""
    monkeypatch.setenv("PIXLSTASH_FLORENCE2_PRECISION", "bf16")
    pm = make_plugin_manager(load_entry_points=False)
    import pixlstash_florence2

    from pixlstash.engines.registry import EngineRegistry
    from pixlstash.plugin_settings import PluginSettings

    pm.register(pixlstash_florence2, name="florence2")
    registry = EngineRegistry.from_plugin_manager(pm, PluginSettings(pm).all())
    captioner = {e.id: e for e in registry.all()}["florence2/tiny"]
    captioner.load("cpu")
    try:
        assert {p.dtype for p in captioner.weights.model.parameters()} == {torch.bfloat16}
        [caption] = captioner.describe([photo(120, 90, seed=4)], length="short")
        assert isinstance(caption, str)
    finally:
        captioner.unload()


def test_a_gpus_batch_comes_from_the_memory_florence_2_large_takes():
    """Florence-2-large's shape (DaViT at 768 px, BART-large) in bfloat16, three beams."""
    from pixlstash_florence2.engine import batch_for_config
    from tiny_florence import LARGE_TEXT, LARGE_VISION
    from transformers import BartConfig, Florence2Config, Florence2VisionConfig

    config = Florence2Config(vision_config=Florence2VisionConfig(**LARGE_VISION), text_config=BartConfig(**LARGE_TEXT))
    gib = 1 << 30
    # A picture: ~300 MB for the first stage, ~240 MB of caches for three beams; 0.7 of what is free.
    assert batch_for_config(config, 2, 3, 20 * gib, fallback=4) == 24  # a 24 GB card with the model in
    assert batch_for_config(config, 2, 3, 120 * gib, fallback=4) == 64  # an H200: the cap
    assert batch_for_config(config, 2, 3, None, fallback=4) == 4  # no GPU: what the engine prefers


def test_the_static_cache_writes_the_dynamic_cache_s_captions(models, monkeypatch):
    """The GPU's decoding (transformers' static cache, compiled on CUDA) on the CPU, beams and all."""
    pm = make_plugin_manager(load_entry_points=False)
    import pixlstash_florence2

    from pixlstash.engines.registry import EngineRegistry
    from pixlstash.plugin_settings import PluginSettings

    pm.register(pixlstash_florence2, name="florence2")
    found = {}
    for decoding in ("static", "dynamic"):
        monkeypatch.setenv("PIXLSTASH_FLORENCE2_DECODING", decoding)
        registry = EngineRegistry.from_plugin_manager(pm, PluginSettings(pm).all())
        found[decoding] = {e.id: e for e in registry.all()}["florence2/tiny"]
    pictures = [photo(120, 90, seed=n) for n in range(3)]
    try:
        static = found["static"].describe(pictures, length="detailed")
        assert found["static"].device_note() == "float32, static cache"
        assert static == found["dynamic"].describe(pictures, length="detailed")
        assert found["dynamic"].device_note() == "float32, dynamic cache"
    finally:
        for captioner in found.values():
            captioner.unload()
