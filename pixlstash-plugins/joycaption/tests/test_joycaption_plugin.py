"""The JoyCaption plugin on a tiny LLaVA model the test builds and saves in the published layout (loaded
through the same path as real weights): its captions equal a direct transformers ``generate`` on the same
prompt and image, one by one and batched; its prompts are JoyCaption's app's; tag lists become tags; and
through the API a caption is a suggestion until accepted, when it reaches a reference folder's sidecar."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from corpus import photo
from PIL import Image

pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

from tiny_joycaption import build_tiny_joycaption  # noqa: E402

from pixlstash import ModelMissing, make_plugin_manager  # noqa: E402
from pixlstash.testing import engines_by_id  # noqa: E402

PLUGIN = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return build_tiny_joycaption(tmp_path_factory.mktemp("models") / "joycaption" / "tiny")


@pytest.fixture
def models_dir(tiny_model, monkeypatch, tmp_path):
    monkeypatch.setenv("PIXLSTASH_MODELS_DIR", str(tiny_model.parent.parent))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache: published models are missing
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tiny_model.parent.parent


@pytest.fixture
def joy_pm(models_dir, plugin_manager):
    import pixlstash_joycaption

    plugin_manager.register(pixlstash_joycaption, name="joycaption")
    return plugin_manager


def images() -> list[Image.Image]:
    return [photo(96, 64, seed=1), photo(64, 96, seed=2), photo(80, 80, seed=3)]


def direct_generate(folder: Path, image: Image.Image, prompt: str, max_new_tokens: int) -> str:
    """What transformers itself writes for one image and prompt, greedily (the reference)."""
    from transformers import AutoProcessor, LlavaForConditionalGeneration

    from pixlstash.engines.caption_prompts import SYSTEM_MESSAGE

    processor = AutoProcessor.from_pretrained(folder, local_files_only=True)
    model = LlavaForConditionalGeneration.from_pretrained(folder, local_files_only=True, dtype=torch.float32).eval()
    text = processor.apply_chat_template(
        [{"role": "system", "content": SYSTEM_MESSAGE}, {"role": "user", "content": prompt}],
        tokenize=False,
        add_generation_prompt=True,
    )
    inputs = processor(text=[text], images=[image], return_tensors="pt")
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    written = out[:, inputs["input_ids"].shape[-1] :]
    return processor.batch_decode(written, skip_special_tokens=True, clean_up_tokenization_spaces=False)[0].strip()


# -- the engines ----------------------------------------------------------------------------------


def test_the_plugin_registers_a_captioner_and_a_tagger_per_model_through_its_entry_point(models_dir):
    found = engines_by_id(make_plugin_manager())
    assert {"joycaption/beta-one", "joycaption/beta-one-tags", "joycaption/tiny", "joycaption/tiny-tags"} <= set(found)
    assert found["joycaption/tiny"].task.value == "captioner" and found["joycaption/tiny-tags"].task.value == "tagger"
    assert found["joycaption/tiny"].model_status().present
    assert found["joycaption/tiny"].weights is found["joycaption/tiny-tags"].weights  # one copy of the weights


def test_captions_equal_transformers_own_generate_one_by_one_and_batched(joy_pm, tiny_model):
    from pixlstash.engines.caption_prompts import build_prompt

    engine = engines_by_id(joy_pm)["joycaption/tiny"]
    options = {"caption_type": "Straightforward", "caption_length": "short", "greedy": True, "max_new_tokens": 12}
    batch = engine.describe(images(), **options)
    singles = [engine.describe([image], **options)[0] for image in images()]
    prompt = build_prompt("Straightforward", "short")
    expected = [direct_generate(tiny_model, image, prompt, 12) for image in images()]
    assert batch == singles == expected and all(batch)
    # Different prompts in one batch are padded on the left and still match, one by one.
    prompts = [build_prompt("Descriptive", "any"), build_prompt("MidJourney", "40", ["lighting", "no_text"])]
    mixed = engine.weights.generate(
        images()[:2], prompts, {"temperature": 0, "top_p": 0.9, "greedy": True, "max_new_tokens": 8}
    )
    assert mixed == [direct_generate(tiny_model, image, p, 8) for image, p in zip(images()[:2], prompts, strict=True)]
    engine.unload()
    assert engine.weights.model is None


def test_the_tagger_parses_the_tag_list_it_writes(joy_pm, tiny_model):
    from pixlstash.engines.caption_prompts import build_prompt
    from pixlstash.engines.tag_lists import parse_tag_list

    tagger = engines_by_id(joy_pm)["joycaption/tiny-tags"]
    assert {p.name: p for p in tagger.parameters()}["caption_type"].choices == [
        "Danbooru tag list",
        "e621 tag list",
        "Rule34 tag list",
        "Booru-like tag list",
    ]
    tags = tagger.tag(images()[:1], greedy=True, max_new_tokens=10)
    text = direct_generate(tiny_model, images()[0], build_prompt("Booru-like tag list", "long"), 10)
    assert tags == [parse_tag_list(text)] and tags[0]
    tagger.unload()


def test_parameters_are_checked_and_converted(joy_pm):
    from pixlstash.errors import BadInput

    declared = {p.name: p for p in engines_by_id(joy_pm)["joycaption/tiny"].parameters()}
    assert declared["extra_options"].convert("lighting, camera_angle") == ["lighting", "camera_angle"]
    with pytest.raises(BadInput, match="caption_type is one of"):
        declared["caption_type"].convert("Haiku")
    with pytest.raises(BadInput, match="not 'sparkles'"):
        declared["extra_options"].convert(["lighting", "sparkles"])
    assert declared["caption_length"].convert("120") == "120"


def test_a_missing_model_names_itself_and_how_to_get_it(joy_pm):
    engine = engines_by_id(joy_pm)["joycaption/beta-one"]
    status = engine.model_status()
    assert not status.present and "pixlstash models pull joycaption/beta-one" in status.how_to_get
    with pytest.raises(ModelMissing, match="JoyCaption model beta-one is not on this machine"):
        engine.load("cpu")
    assert "32 GB" in engine.model_status().note  # this machine has no GPU: the note says what the CPU costs


def test_a_folder_without_its_processor_settings_or_chat_template_is_missing(tiny_model, tmp_path):
    """Such a folder would load and then fail: it is listed as incomplete instead."""
    import json
    import shutil

    from pixlstash_joycaption.catalogue import JoyCaptionModel

    assert JoyCaptionModel("tiny", None, tiny_model).files() == tiny_model
    no_processor = tmp_path / "no-processor"
    shutil.copytree(tiny_model, no_processor)
    for name in ("preprocessor_config.json", "processor_config.json"):
        (no_processor / name).unlink(missing_ok=True)
    assert JoyCaptionModel("no-processor", None, no_processor).files() is None
    no_template = tmp_path / "no-template"
    shutil.copytree(tiny_model, no_template)
    for name in ("chat_template.jinja", "chat_template.json"):
        (no_template / name).unlink(missing_ok=True)
    for name in ("tokenizer_config.json", "processor_config.json"):
        if (no_template / name).is_file():
            config = json.loads((no_template / name).read_text())
            config.pop("chat_template", None)
            (no_template / name).write_text(json.dumps(config))
    assert JoyCaptionModel("no-template", None, no_template).files() is None


# -- prompts and tags -----------------------------------------------------------------------------


def test_prompts_are_built_as_joycaptions_app_builds_them():
    from pixlstash.engines.caption_prompts import CAPTION_LENGTHS, CAPTION_TYPES, EXTRA_OPTIONS, build_prompt

    # Published templates, word for word (a sample).
    assert build_prompt("Descriptive", "any") == "Write a detailed description for this image."
    assert build_prompt("Descriptive", "50") == "Write a detailed description for this image in 50 words or less."
    assert build_prompt("Descriptive (Casual)", "short") == (
        "Write a short descriptive caption for this image in a casual tone."
    )
    assert build_prompt("Danbooru tag list", "very long").endswith(
        "Use precise Danbooru syntax. No extra text. very long length."
    )
    assert build_prompt("Art Critic", "medium-length").endswith(
        "any artistic movement it might belong to, etc. Keep it medium-length."
    )
    assert build_prompt("Social Media Post", "30") == (
        "Write a caption for this image as if it were being used for a social media post. "
        "Limit the caption to 30 words."
    )
    assert build_prompt("Straightforward", "long").startswith(
        "Write a long straightforward caption for this image. Begin with the main subject and medium."
    )
    # Every type takes every kind of length, and leaves no placeholder behind.
    for caption_type in CAPTION_TYPES:
        for length in CAPTION_LENGTHS:
            prompt = build_prompt(caption_type, length)
            assert "{" not in prompt and (length == "any" or length in prompt)
    # Extra options follow in the app's order, whatever order they are asked in; a name adds its sentence.
    prompt = build_prompt("MidJourney", "any", ["no_text", "lighting"], "Alice")
    assert prompt == (
        "Write a MidJourney prompt for this image. "
        "If there is a person/character in the image you must refer to them as Alice. "
        "Include information about lighting. Do NOT mention any text that is in the image."
    )
    assert build_prompt("MidJourney", "any", ["name"], "") == "Write a MidJourney prompt for this image."
    assert (
        build_prompt("Descriptive", "long", ["lighting"], prompt="Describe only the sky.  ") == "Describe only the sky."
    )
    assert len(EXTRA_OPTIONS) == 27 and "{" not in "".join(s for k, s in EXTRA_OPTIONS.items() if k != "name")
    with pytest.raises(ValueError):
        build_prompt("Haiku")


def test_tag_lists_become_tags():
    from pixlstash.engines.tag_lists import parse_tag_list

    tags = parse_tag_list("1girl, long_hair,, Long Hair, ^_^, character:hatsune_miku, artist:some_one,\n smile, ")
    assert [(t.name, t.category) for t in tags] == [
        ("1girl", "general"),
        ("long hair", "general"),
        ("^_^", "general"),
        ("hatsune miku", "character"),
        ("some one", "artist"),
        ("smile", "general"),
    ]
    assert all(t.score == 1.0 for t in tags)
    assert parse_tag_list("") == [] and parse_tag_list(" , ,\n") == []


# -- through the API ------------------------------------------------------------------------------


def test_describe_a_selection_through_the_api_then_accept_into_the_sidecar(joy_pm, tmp_path):
    from live_server import LiveServer
    from test_web_enrichment import wait_for_jobs

    from pixlstash.domain import EnrichmentSettings, FolderOptions
    from pixlstash.library import Library

    folder = tmp_path / "reference"
    folder.mkdir()
    for n in range(3):
        photo(96 + 8 * n, 64, seed=10 + n).save(folder / f"p{n}.png")
    with Library.open(tmp_path / "lib", plugin_manager=joy_pm) as library, LiveServer(library) as live:
        library.engines.configure(EnrichmentSettings(on_import=[]))
        added = library.folder_sync.add(
            "reference", folder, FolderOptions(write_sidecars=True, sidecar_format="caption")
        )
        library.folder_sync.scan(added.id)
        client = live.client(live.token("admin"))
        ids = sorted(p.id for p in library.page(None, None, None, 10).items)
        alice = client.post("/api/v1/characters", json={"name": "Alice"}).json()
        client.post(f"/api/v1/characters/{alice['id']}/pictures", json={"ids": ids[:1]}).raise_for_status()
        listed = {e["id"]: e for e in client.get("/api/v1/engines").json()}
        choices = {p["name"]: p for p in listed["joycaption/tiny"]["parameters"]}["caption_type"]["choices"]
        assert "Straightforward" in choices and len(choices) == 12
        parameters = {
            "caption_type": "Straightforward",
            "caption_length": "short",
            "greedy": True,
            "max_new_tokens": 6,
            "character_name": "{character}",
            "extra_options": ["lighting"],
        }
        job = client.post(
            "/api/v1/jobs",
            json={"task": "captioner", "engine": "joycaption/tiny", "picture_ids": ids, "parameters": parameters},
        ).json()["job"]
        assert job["total"] == 3
        wait_for_jobs(client, timeout=120)
        first = client.get(f"/api/v1/pictures/{ids[0]}").json()
        [suggested] = [c for c in first["captions"] if c["source"] == "joycaption/tiny"]
        assert suggested["text"] and suggested["parameters"]["character_name"] == "Alice"
        assert suggested["parameters"]["caption_type"] == "Straightforward"
        second = client.get(f"/api/v1/pictures/{ids[1]}").json()
        assert [c["parameters"]["character_name"] for c in second["captions"]] == [""]  # no character: no name
        sidecar = folder / f"{first['original_name'].rsplit('.', 1)[0]}.txt"
        assert not sidecar.exists()  # a suggestion is not written out
        accepted = client.patch(f"/api/v1/pictures/{ids[0]}", json={"accept_caption": "joycaption/tiny"})
        assert accepted.status_code == 200
        assert accepted.json()["captions"][0] == {
            **accepted.json()["captions"][0],
            "source": "user",
            "text": suggested["text"],
        }
        assert sidecar.read_text().strip() == suggested["text"]
        assert client.patch(f"/api/v1/pictures/{ids[0]}", json={"accept_caption": "nope/x"}).status_code == 404
        tagged = client.post(
            "/api/v1/jobs",
            json={
                "task": "tagger",
                "engine": "joycaption/tiny-tags",
                "picture_ids": ids[:1],
                "parameters": {"greedy": True, "max_new_tokens": 8, "caption_type": "Danbooru tag list"},
            },
        )
        assert tagged.status_code == 202, tagged.text
        wait_for_jobs(client, timeout=120)
        predictions = client.get(f"/api/v1/pictures/{ids[0]}").json()["predictions"]
        assert predictions and {p["engine_id"] for p in predictions} == {"joycaption/tiny-tags"}
        assert all(p["state"] == "pending" and p["confidence"] == 1.0 for p in predictions)
        missing = client.post(
            "/api/v1/jobs", json={"task": "captioner", "engine": "joycaption/beta-one", "picture_ids": ids}
        )
        assert missing.status_code == 409 and "pixlstash models pull joycaption/beta-one" in missing.text
        bad = client.post(
            "/api/v1/jobs",
            json={
                "task": "captioner",
                "engine": "joycaption/tiny",
                "picture_ids": ids,
                "parameters": {"caption_type": "Haiku"},
            },
        )
        assert bad.status_code == 400 and "caption_type is one of" in bad.text


# -- as JoyCaption's own app (../shared/reference/joycaption) ------------------------------------


def _app_code() -> tuple[ast.Module, dict]:
    """The app's module tree, and its prompt table, name sentence and ``build_prompt`` run from its own
    source (the module itself imports gradio and loads a model: only these definitions are executed)."""
    from consumer_venv import reference

    tree = ast.parse((reference("joycaption") / "gradio-app" / "app.py").read_text())
    wanted = {"CAPTION_TYPE_MAP", "NAME_OPTION", "build_prompt"}
    nodes = [
        n
        for n in tree.body
        if (isinstance(n, ast.FunctionDef) and n.name in wanted)
        or (
            isinstance(n, ast.Assign | ast.AnnAssign)
            and wanted & {t.id for t in ast.walk(n) if isinstance(t, ast.Name)}
        )
    ]
    namespace: dict = {}
    exec(compile(ast.Module(nodes, type_ignores=[]), "app.py", "exec"), namespace)  # the reference's own code
    return tree, namespace


def test_every_prompt_is_the_one_joycaptions_app_builds():
    from pixlstash.engines.caption_prompts import CAPTION_LENGTHS, CAPTION_TYPES, build_prompt

    _, app = _app_code()
    assert set(CAPTION_TYPES) == set(app["CAPTION_TYPE_MAP"])
    for caption_type in CAPTION_TYPES:
        for length in CAPTION_LENGTHS:
            assert build_prompt(caption_type, length) == app["build_prompt"](caption_type, length, [], ""), (
                caption_type,
                length,
            )
    named = app["build_prompt"]("Descriptive", "any", [app["NAME_OPTION"]], "Alice")
    assert build_prompt("Descriptive", "any", ["name"], "Alice") == named


def test_quantization_is_configured_as_joycaptions_app_configures_it():
    """The app keeps the vision tower and projector out of quantization (SigLIP breaks under it) and
    quantizes twice for 4 bit; what the plugin asks of bitsandbytes is read off the app's own calls. (Run
    only on CUDA: this machine has no GPU, so the quantized load itself is not run here.)"""
    from pixlstash_joycaption.engine import quantization_config

    tree, _ = _app_code()
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "BitsAndBytesConfig"]
    assert len(calls) == 2
    for call in calls:
        asked = {k.arg: ast.unparse(k.value) for k in call.keywords}
        kind = "8bit" if "load_in_8bit" in asked else "4bit"
        ours = quantization_config(kind)
        for name, value in asked.items():
            mine = getattr(ours, name)
            assert (str(mine) if name.endswith("dtype") else repr(mine)) == value, name


def test_a_tokenizer_without_a_pad_token_still_captions_a_batch(tmp_path, monkeypatch):
    """As the app: the end-of-text token pads where the tokenizer has no pad token (else every batch of
    prompts of different lengths fails with "Asking to pad but the tokenizer does not have a padding token")."""
    build_tiny_joycaption(tmp_path / "models" / "joycaption" / "nopad", pad_token=False)
    monkeypatch.setenv("PIXLSTASH_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import pixlstash_joycaption

    from pixlstash.engines.caption_prompts import build_prompt

    pm = make_plugin_manager(load_entry_points=False)
    pm.register(pixlstash_joycaption, name="joycaption")
    engine = engines_by_id(pm)["joycaption/nopad"]
    engine.load("cpu")
    try:
        prompts = [build_prompt("Descriptive", "any"), build_prompt("MidJourney", "40", ["lighting", "no_text"])]
        captions = engine.weights.generate(
            images()[:2], prompts, {"temperature": 0, "top_p": 0.9, "greedy": True, "max_new_tokens": 6}
        )
        assert len(captions) == 2 and all(captions)
        assert engine.weights.processor.tokenizer.pad_token == "<|eot_id|>"
    finally:
        engine.unload()


def test_captions_are_decoded_as_the_app_decodes_them(tiny_model):
    """Spaces stay as the model wrote them (the app turns transformers' clean-up off)."""
    from pixlstash_joycaption.engine import decoded
    from transformers import AutoProcessor

    tokenizer = AutoProcessor.from_pretrained(tiny_model, local_files_only=True).tokenizer
    ids = [tokenizer.convert_tokens_to_ids(["red", ",", "blue", "."])]
    assert decoded(tokenizer, ids) == ["red , blue ."]
    assert tokenizer.batch_decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=True) == ["red, blue."]


# -- precision and batches (issue 61: the GPU's path, run on the CPU) -----------------------------------


def _with_precision(pm, precision: str, decoding: str = "auto") -> dict:
    import pixlstash_joycaption

    from pixlstash.plugin_settings import PluginSettings

    settings = PluginSettings(pm).all()
    settings["joycaption"] = pixlstash_joycaption.JoyCaptionSettings(precision=precision, decoding=decoding)
    return engines_by_id(pm, settings)


def test_the_static_cache_writes_transformers_own_captions(joy_pm, tiny_model):
    """The GPU's decoding (transformers' static key-value cache, which it compiles on CUDA) run on the CPU:
    the same greedy captions as transformers' own generate. "auto" keeps the dynamic cache off CUDA (what
    a failed static cache does: tests/test_decoding.py)."""
    from pixlstash.engines.caption_prompts import build_prompt

    static = _with_precision(joy_pm, "auto", "static")["joycaption/tiny"]
    auto = _with_precision(joy_pm, "auto")["joycaption/tiny"]
    asked = {"greedy": True, "max_new_tokens": 10, "caption_type": "Straightforward", "caption_length": "short"}
    prompt = build_prompt("Straightforward", "short")
    try:
        assert static.describe(images(), **asked) == [direct_generate(tiny_model, i, prompt, 10) for i in images()]
        assert static.device_note() == "float32, static cache"
        auto.load("cpu")
        assert not auto.weights.static_cache() and auto.device_note() == "float32, dynamic cache"
    finally:
        static.unload()
        auto.unload()


def test_bf16_loads_the_whole_model_in_bfloat16_and_writes_captions_close_to_float32s(joy_pm):
    full = _with_precision(joy_pm, "fp32")["joycaption/tiny"]
    half = _with_precision(joy_pm, "bf16")["joycaption/tiny"]
    full.load("cpu")
    half.load("cpu")
    try:
        model = half.weights.model
        assert {p.dtype for p in model.parameters()} == {torch.bfloat16}  # the vision tower included
        assert {p.dtype for p in full.weights.model.parameters()} == {torch.float32}
        asked = {"greedy": True, "max_new_tokens": 12, "caption_type": "Descriptive", "caption_length": "short"}
        ours, reference = half.describe(images(), **asked), full.describe(images(), **asked)
        tokenizer = half.weights.processor.tokenizer
        agree = [
            sum(a == b for a, b in zip(tokenizer(x)["input_ids"], tokenizer(y)["input_ids"], strict=False))
            / max(1, len(tokenizer(y)["input_ids"]))
            for x, y in zip(ours, reference, strict=True)
        ]
        print(f"bf16 captions against fp32: token agreement {sum(agree) / len(agree):.2f}, least {min(agree):.2f}")
        assert all(ours) and len(ours) == len(reference)
    finally:
        full.unload()
        half.unload()


def test_a_gpus_caption_batch_comes_from_the_key_value_cache_its_memory_holds():
    """JoyCaption's shape (SigLIP so400m at 384 px, Llama-3.1-8B), as its config says, in bfloat16."""
    from pixlstash_joycaption.engine import batch_for_config
    from transformers import LlamaConfig, LlavaConfig, SiglipVisionConfig

    config = LlavaConfig(
        vision_config=SiglipVisionConfig(image_size=384, patch_size=14, hidden_size=1152),
        text_config=LlamaConfig(
            hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
            num_key_value_heads=8,
        ),
    )  # fmt: skip
    gib = 1 << 30
    # An H200 with the 16 GB of weights loaded: about 125 GB free; the cache of one 1,337-token sequence
    # is ~175 MB, the prefill ~40 MB: the cap.
    assert batch_for_config(config, 2, 125 * gib, fallback=4) == 128
    # A 24 GB card with the weights in: ~7 GB free, 0.7 of it for the batch.
    assert batch_for_config(config, 2, 7 * gib, fallback=4) == 16
    assert batch_for_config(config, 2, None, fallback=4) == 4  # no GPU: what the engine prefers
