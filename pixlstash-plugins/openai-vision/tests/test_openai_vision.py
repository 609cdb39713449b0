"""The OpenAI-compatible vision plugin against a real server (``transformers serve`` on a tiny random LLaVA):
captions and tag lists through the library's worker, equal to what the official ``openai`` client gets for
the same request; retries, the bearer key, concurrency; a server that is down makes the work wait, not
fail; an address off this machine is refused until allowed; the key is never shown."""

from __future__ import annotations

import base64
import io
import json
import logging

import pytest
from corpus import photo
from openai_server import RecordingProxy, free_port, transformers_serve

pytest.importorskip("fastapi")  # transformers serve needs it (scripts/setup --dev installs it)
openai = pytest.importorskip("openai")

from pixlstash import make_plugin_manager  # noqa: E402
from pixlstash.domain import EnrichmentSettings  # noqa: E402
from pixlstash.engines import Task  # noqa: E402
from pixlstash.engines.caption_prompts import build_prompt  # noqa: E402
from pixlstash.engines.tag_lists import parse_tag_list  # noqa: E402
from pixlstash.errors import EngineNotFound, ModelMissing  # noqa: E402
from pixlstash.library import Library  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tiny_joycaption import build_tiny_joycaption

    folder = build_tiny_joycaption(tmp_path_factory.mktemp("model") / "tiny-llava")
    with transformers_serve(folder, tmp_path_factory.mktemp("hf")) as base_url:
        yield base_url, str(folder)


@pytest.fixture
def library(tmp_path):
    pm = make_plugin_manager(load_entry_points=False)
    import pixlstash_openai_vision

    pm.register(pixlstash_openai_vision, name="openai-vision")
    with Library.open(tmp_path / "lib", plugin_manager=pm) as library:
        library.engines.configure(EnrichmentSettings(on_import=[]))  # each test asks for its own work
        yield library


def configure(library, **settings) -> None:
    library.plugin_settings.update("openai-vision", {"temperature": 0, "max_tokens": 12, "retries": 0, **settings})


def import_photos(library, tmp_path, count: int) -> list[int]:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    for n in range(count):
        photo(200 + 10 * n, 150, seed=n).save(folder / f"p{n}.jpg")
    return [item.picture_id for item in library.import_paths([folder]).imported]


def run_jobs(library) -> None:
    library.new_enrichment_worker(decode_threads=2).run_until_idle()


def reference_answer(base_url: str, model: str, image, prompt: str) -> str:
    """What the official openai client gets for one picture, sent as the plugin sends it."""
    copy = image.convert("RGB")
    copy.thumbnail((768, 768))
    buffer = io.BytesIO()
    copy.save(buffer, "JPEG", quality=90)
    url = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()
    client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0)
    answer = client.chat.completions.create(
        model=model,
        temperature=0,
        max_tokens=12,
        messages=[{"role": "user", "content": [
            {"type": "text", "text": prompt}, {"type": "image_url", "image_url": {"url": url}}]}],
    )  # fmt: skip
    return answer.choices[0].message.content.strip()


def engine_input(library, picture_id: int):
    from pixlstash.engines.inputs import load_input

    content_hash, width, height, media_type = library.pictures.media_inputs([picture_id])[picture_id]
    return load_input(library.files, picture_id, content_hash, width, height, media_type, 768)


def test_captions_and_tags_are_what_the_official_client_gets_from_the_server(server, library, tmp_path):
    base_url, model = server
    configure(library, base_url=base_url, model=model)
    ids = import_photos(library, tmp_path, 3)
    caption_job = library.enrichment.enqueue(Task.CAPTIONER, ids, engine_id="openai-vision/caption")
    tag_job = library.enrichment.enqueue(
        Task.TAGGER, ids, engine_id="openai-vision/tags", parameters={"caption_type": "Danbooru tag list"}
    )
    run_jobs(library)
    for job in (caption_job, tag_job):
        assert library.enrichment.job(job.id).state == "done" and library.enrichment.job(job.id).failed == 0
    caption_prompt = build_prompt("Descriptive", "long")
    tag_prompt = build_prompt("Danbooru tag list", "long")
    for picture_id in ids:
        picture = library.get(picture_id)
        image = engine_input(library, picture_id)
        (caption,) = [c for c in picture.captions if c.source == "openai-vision/caption"]
        assert caption.text == reference_answer(base_url, model, image, caption_prompt) and caption.text
        expected = parse_tag_list(reference_answer(base_url, model, image, tag_prompt))
        got = [(p.name, p.category) for p in picture.predictions if p.engine_id == "openai-vision/tags"]
        assert sorted(got) == sorted((t.name, t.category) for t in expected) and got


def test_requests_carry_the_key_retry_a_busy_server_and_run_side_by_side(server, library, tmp_path):
    base_url, model = server
    proxy = RecordingProxy(base_url, fail_first=2, fail_status=503)
    try:
        configure(library, base_url=proxy.base_url, model=model, api_key="sk-local-123", retries=3, concurrency=4)
        ids = import_photos(library, tmp_path, 8)
        job = library.enrichment.enqueue(Task.CAPTIONER, ids, engine_id="openai-vision/caption")
        run_jobs(library)
        assert library.enrichment.job(job.id).done == 8 and library.enrichment.job(job.id).failed == 0
        chats = [r for r in proxy.requests if r[1].endswith("/chat/completions")]
        assert len(chats) == 8 + 2  # two refused with 503, each tried again
        assert all(r[2].get("Authorization") == "Bearer sk-local-123" for r in chats)
        body = json.loads(chats[-1][3])
        assert body["model"] == model and body["max_tokens"] == 12 and body["stream"] is False
        parts = body["messages"][-1]["content"]
        assert parts[0]["type"] == "text" and parts[1]["image_url"]["url"].startswith("data:image/jpeg;base64,")
        assert proxy.most_in_flight >= 2  # four at a time were asked for
    finally:
        proxy.close()


def test_a_server_that_is_down_makes_the_work_wait_and_says_so_once(server, library, tmp_path, caplog):
    base_url, model = server
    closed = f"http://127.0.0.1:{free_port()}/v1"
    configure(library, base_url=closed, model=model)
    ids = import_photos(library, tmp_path, 3)
    job = library.enrichment.enqueue(Task.CAPTIONER, ids, engine_id="openai-vision/caption")
    with caplog.at_level(logging.WARNING):
        run_jobs(library)
    waiting = library.enrichment.job(job.id)
    assert waiting.state in ("queued", "running") and waiting.queued == 3 and waiting.failed == waiting.done == 0
    said = [r.getMessage() for r in caplog.records if "cannot be reached" in r.getMessage()]
    assert len(said) == 1 and closed in said[0] and "wait in the queue" in said[0]
    status = library.engines.by_id("openai-vision/caption").model_status()
    assert status.present and not status.available and "down" in status.note

    configure(library, base_url=base_url, model=model)  # the server is back (here: it was elsewhere)
    run_jobs(library)
    assert library.enrichment.job(job.id).state == "done" and library.enrichment.job(job.id).done == 3


def test_an_address_off_this_machine_is_refused_until_allowed_and_then_shown(library, tmp_path):
    configure(library, base_url="http://192.0.2.10:8000/v1", model="some-vlm")  # TEST-NET-1: never routed
    ids = import_photos(library, tmp_path, 1)
    status = library.engines.by_id("openai-vision/caption").model_status()
    assert not status.present and "allow_remote=true" in status.how_to_get
    with pytest.raises(ModelMissing, match="not this machine"):
        library.enrichment.enqueue(Task.CAPTIONER, ids, engine_id="openai-vision/caption")
    # Addresses Python's urlsplit would read as loopback and an HTTP client as somewhere else are off it too.
    for lookalike in ("http://[::1].example:8000/v1", "http://u@[127.0.0.1]x.example/v1", "http://0x7f000001/v1"):
        configure(library, base_url=lookalike)
        assert not library.engines.by_id("openai-vision/caption").model_status().present, lookalike
    configure(library, base_url="http://192.0.2.10:8000/v1", allow_remote=True, timeout_seconds=1)
    status = library.engines.by_id("openai-vision/caption").model_status()
    assert status.present and status.note.startswith("sends pictures to http://192.0.2.10:8000/v1 (not this machine)")


def test_no_model_chosen_says_how_to_choose_one(library):
    status = library.engines.by_id("openai-vision/caption").model_status()
    assert not status.present and "openai-vision model=NAME" in status.how_to_get


def test_the_key_is_stored_but_only_shown_as_set(library):
    configure(library, api_key="sk-very-secret")
    settings = library.plugin_settings
    assert settings.get("openai-vision").api_key == "sk-very-secret"
    assert settings.shown("openai-vision")["api_key"] == "********"
    settings.update("openai-vision", {"api_key": "********", "model": "m"})  # the mask sent back: kept
    assert settings.get("openai-vision").api_key == "sk-very-secret"
    settings.update("openai-vision", {"api_key": ""})
    assert settings.shown("openai-vision")["api_key"] == ""


def test_installed_and_set_up_it_sends_nothing_until_the_owner_names_it(server, tmp_path):
    """With no tagger model on the machine, the first engine ready used to be this one: the server queued the
    whole library and every import for it, sending each picture to the server."""
    base_url, model = server
    proxy = RecordingProxy(base_url)
    pm = make_plugin_manager(load_entry_points=False)
    import pixlstash_openai_vision

    pm.register(pixlstash_openai_vision, name="openai-vision")
    try:
        with Library.open(tmp_path / "lib", plugin_manager=pm) as library:
            configure(library, base_url=proxy.base_url, model=model)
            assert library.engines.settings().on_import == EnrichmentSettings().on_import  # the defaults
            ids = import_photos(library, tmp_path, 2)
            assert library.enrichment.queue_missing() == []
            run_jobs(library)
            assert not [r for r in proxy.requests if r[1].endswith("/chat/completions")]
            with pytest.raises(EngineNotFound, match="send pictures to a server"):
                library.engines.get(Task.TAGGER)
            # Named by the owner (a request, or the default in Settings), it runs.
            library.enrichment.enqueue(Task.TAGGER, ids[:1], engine_id="openai-vision/tags")
            run_jobs(library)
            assert len([r for r in proxy.requests if r[1].endswith("/chat/completions")]) == 1
            library.engines.configure(EnrichmentSettings(defaults={"tagger": "openai-vision/tags"}))
            assert library.engines.get(Task.TAGGER).id == "openai-vision/tags"
            assert [job.engine_id for job in library.enrichment.queue_missing()] == ["openai-vision/tags"]
    finally:
        proxy.close()
