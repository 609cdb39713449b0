"""The WD tagger plugin on a tiny WD-shaped ONNX model the test builds (the real input and output
signature: ``[N, S, S, 3]`` float32 BGR in, sigmoid scores ``[N, K]`` out) and a ``selected_tags.csv``
with all three categories. Scores are checked against a NumPy reference that applies the preprocessing
the models' published inference code documents; tag selection, pulling, the API and a torch-free run."""

from __future__ import annotations

import functools
import http.server
import io
import re
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import pip_install_to, run_cli
from corpus import photo
from PIL import Image

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


from tiny_wd import SIDE, TAGS, build_tiny_wd, weights  # noqa: E402

from pixlstash import ModelMissing, make_plugin_manager  # noqa: E402
from pixlstash.testing import engines_by_id  # noqa: E402

PLUGIN = Path(__file__).resolve().parent.parent


def reference_scores(image: Image.Image, seed: int = 0) -> np.ndarray:
    """The documented preprocessing, written out step by step, and the tiny graph in NumPy."""
    image = image.convert("RGBA")
    canvas = Image.new("RGBA", image.size, (255, 255, 255))
    canvas.alpha_composite(image)
    image = canvas.convert("RGB")
    max_dim = max(image.size)
    pad_left, pad_top = (max_dim - image.size[0]) // 2, (max_dim - image.size[1]) // 2
    padded = Image.new("RGB", (max_dim, max_dim), (255, 255, 255))
    padded.paste(image, (pad_left, pad_top))
    if max_dim != SIDE:
        padded = padded.resize((SIDE, SIDE), Image.BICUBIC)
    array = np.asarray(padded, dtype=np.float32)[:, :, ::-1]  # RGB -> BGR
    w, b = weights(seed)
    logits = array.reshape(1, -1).astype(np.float64) @ w.astype(np.float64) + b
    return (1 / (1 + np.exp(-logits)))[0]


def sample_images() -> list[Image.Image]:
    rgba = photo(40, 40, seed=1).convert("RGBA")
    alpha = np.zeros((40, 40), dtype=np.uint8)
    alpha[8:32, 8:32] = 255
    alpha[0:8, :] = 90  # half transparent
    rgba.putalpha(Image.fromarray(alpha))
    palette_with_transparency = photo(36, 24, seed=7).convert("P", palette=Image.Palette.ADAPTIVE)
    palette_with_transparency.info["transparency"] = 0
    return [
        rgba,
        palette_with_transparency,
        photo(40, 40, seed=8).convert("LA"),
        photo(50, 50, seed=2).convert("P", palette=Image.Palette.ADAPTIVE),
        photo(30, 30, seed=3).convert("L"),
        photo(20, 80, seed=4),  # tall
        photo(100, 25, seed=5),  # wide
        photo(SIDE, SIDE, seed=6),  # already the input size: no resize
    ]


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    root = tmp_path / "models"
    build_tiny_wd(root / "wd-tagger" / "tiny-wd")
    monkeypatch.setenv("PIXLSTASH_MODELS_DIR", str(root))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache: published models are missing
    return root


@pytest.fixture
def wd_pm(models_dir, plugin_manager):
    import pixlstash_wd_tagger

    plugin_manager.register(pixlstash_wd_tagger, name="wd-tagger")
    return plugin_manager


def test_the_plugin_registers_through_its_entry_point():
    from importlib.metadata import entry_points

    assert "wd-tagger" in {ep.name for ep in entry_points(group="pixlstash")}
    ids = set(engines_by_id(make_plugin_manager()))
    assert "wd-tagger/wd-vit-tagger-v3" in ids


def test_scores_equal_the_numpy_reference_of_the_documented_preprocessing(wd_pm):
    engine = engines_by_id(wd_pm)["wd-tagger/tiny-wd"]
    images = sample_images()
    scores = engine.scores(images)
    assert engine.input_size == SIDE  # read from the graph's input shape
    assert scores.shape == (len(images), len(TAGS))
    for image, row in zip(images, scores, strict=True):
        np.testing.assert_allclose(row, reference_scores(image), atol=1e-5)
    # Batching equals one picture at a time.
    one_by_one = np.concatenate([engine.scores([image]) for image in images])
    np.testing.assert_allclose(scores, one_by_one, atol=1e-6)


def test_a_graph_exported_for_one_picture_is_fed_one_at_a_time(models_dir, monkeypatch):
    build_tiny_wd(models_dir / "wd-tagger" / "single", batch=1)
    pm = make_plugin_manager(load_entry_points=False)
    import pixlstash_wd_tagger

    pm.register(pixlstash_wd_tagger, name="wd-tagger")
    engine = engines_by_id(pm)["wd-tagger/single"]
    images = sample_images()
    for image, row in zip(images, engine.scores(images), strict=True):
        np.testing.assert_allclose(row, reference_scores(image), atol=1e-5)


def _labels(tmp_path):
    from pixlstash_wd_tagger.labels import Labels

    return Labels.read(build_tiny_wd(tmp_path / "labels") / "selected_tags.csv")


def _scores(**named: float) -> np.ndarray:
    scores = np.zeros(len(TAGS), dtype=np.float32)
    for n, (name, _) in enumerate(TAGS):
        scores[n] = named.get(name, 0.01)
    return scores


def test_tag_selection_thresholds_order_names_and_rating(tmp_path):
    from pixlstash_wd_tagger.labels import Selection, select_tags

    labels = _labels(tmp_path)
    scores = _scores(
        general=0.2, sensitive=0.7, **{"1girl": 0.99, "long_hair": 0.6, "^_^": 0.5, "smile": 0.3, "hatsune_miku": 0.9}
    )
    tags = select_tags(scores, labels, Selection())
    # Characters first, then general tags by confidence, then the one rating.
    assert [(t.name, t.category) for t in tags] == [
        ("hatsune miku", "character"),
        ("1girl", "general"),
        ("long hair", "general"),
        ("^_^", "general"),  # a kaomoji keeps its underscore
        ("sensitive", "rating"),
    ]
    assert tags[1].score == pytest.approx(0.99)
    kept = select_tags(scores, labels, Selection(replace_underscores=False, general_threshold=0.25, rating=False))
    assert [t.name for t in kept] == ["hatsune_miku", "1girl", "long_hair", "^_^", "smile"]
    strict = select_tags(scores, labels, Selection(character_threshold=0.95, max_tags=1))
    assert [t.name for t in strict] == ["1girl", "sensitive"]
    # Exclusions match either spelling.
    excluded = select_tags(scores, labels, Selection(exclude=frozenset({"long hair", "1girl"}), rating=False))
    assert [t.name for t in excluded] == ["hatsune miku", "^_^"]


def test_mcut_chooses_the_threshold_at_the_largest_gap(tmp_path):
    from pixlstash_wd_tagger.labels import Selection, mcut_threshold, select_tags

    assert mcut_threshold(np.array([0.9, 0.85, 0.3, 0.2])) == pytest.approx(0.575)
    assert mcut_threshold(np.array([0.4])) == 0.0
    labels = _labels(tmp_path)
    scores = _scores(**{"1girl": 0.95, "long_hair": 0.9, "smile": 0.2, "outdoors": 0.15, "kagamine_rin": 0.3})
    tags = select_tags(scores, labels, Selection(general_mcut=True, character_mcut=True, rating=False))
    # General: the gap between 0.9 and 0.2 decides; characters: never below 0.15 (0.3 vs 0.01: cut at 0.155).
    assert [t.name for t in tags] == ["kagamine rin", "1girl", "long hair"]


def test_parameters_arrive_typed_from_the_command_line_and_are_checked(wd_pm, tmp_path):
    from pixlstash.errors import BadInput
    from pixlstash.library import Library

    with Library.open(tmp_path / "lib", plugin_manager=wd_pm) as library:
        [picture] = library.import_paths([_save(photo(60, 40, seed=8), tmp_path / "a.png")]).imported
        job = library.enrichment.enqueue(
            library.engines.by_id("wd-tagger/tiny-wd").task,
            [picture.picture_id],
            engine_id="wd-tagger/tiny-wd",
            parameters={"general_threshold": "0.5", "general_mcut": "yes", "exclude": "a, b", "max_tags": "3"},
            force=True,
        )
        assert job is not None and job.parameters == {
            "general_threshold": 0.5,
            "general_mcut": True,
            "exclude": ["a", "b"],
            "max_tags": 3,
        }
        for bad in ({"general_threshold": "high"}, {"general_threshold": 1.5}, {"max_tags": 2.5}, {"nope": 1}):
            with pytest.raises(BadInput):
                library.enrichment.enqueue(
                    library.engines.by_id("wd-tagger/tiny-wd").task,
                    [picture.picture_id],
                    engine_id="wd-tagger/tiny-wd",
                    parameters=bad,
                    force=True,
                )


def _save(image: Image.Image, path: Path) -> Path:
    image.save(path)
    return path


def test_a_missing_model_names_itself_and_how_to_get_it(wd_pm, models_dir):
    engine = engines_by_id(wd_pm)["wd-tagger/wd-vit-tagger-v3"]
    status = engine.model_status()
    assert not status.present
    assert "pixlstash models pull wd-tagger/wd-vit-tagger-v3" in status.how_to_get
    assert str(models_dir / "wd-tagger" / "wd-vit-tagger-v3") in status.how_to_get
    with pytest.raises(ModelMissing, match=re.escape("huggingface.co/SmilingWolf/wd-vit-tagger-v3")):
        engine.load()


def test_a_model_in_the_hugging_face_cache_is_found(models_dir, tmp_path, wd_pm):
    snapshot = tmp_path / "hf" / "hub" / "models--SmilingWolf--wd-vit-tagger-v3" / "snapshots" / "abc123"
    build_tiny_wd(snapshot)
    (snapshot.parent.parent / "refs").mkdir()
    (snapshot.parent.parent / "refs" / "main").write_text("abc123")
    engine = engines_by_id(wd_pm)["wd-tagger/wd-vit-tagger-v3"]
    assert engine.model_status().present and engine.model_status().location == str(snapshot)
    np.testing.assert_allclose(engine.scores([photo(30, 20)])[0], reference_scores(photo(30, 20)), atol=1e-5)


def test_models_pull_downloads_the_two_files_when_asked(tmp_path, models_dir):
    """`pixlstash models pull` fetches model.onnx and selected_tags.csv (here from a local stand-in for the
    hub, named by HF_ENDPOINT as huggingface_hub reads it) into the models folder."""
    hub = tmp_path / "hub"
    build_tiny_wd(hub / "SmilingWolf" / "wd-vit-tagger-v3" / "resolve" / "main")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(hub))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {
            "PIXLSTASH_MODELS_DIR": str(models_dir),
            "HF_HOME": str(tmp_path / "hf"),
            "HF_ENDPOINT": f"http://127.0.0.1:{server.server_port}",
        }
        result = run_cli("models", "pull", "wd-tagger/wd-vit-tagger-v3", "--library", str(tmp_path / "l"), env=env)
    finally:
        server.shutdown()
    target = models_dir / "wd-tagger" / "wd-vit-tagger-v3"
    assert (target / "model.onnx").read_bytes() == (
        hub / "SmilingWolf/wd-vit-tagger-v3/resolve/main/model.onnx"
    ).read_bytes()
    assert (target / "selected_tags.csv").is_file() and not list(target.glob(".*part"))
    listing = run_cli("models", "--library", str(tmp_path / "l"), env=env).stdout
    assert "wd-tagger/wd-vit-tagger-v3" in listing and result.returncode == 0


def test_tagging_through_the_api_with_the_engine_chosen_per_request(wd_pm, tmp_path):
    from live_server import LiveServer
    from test_web_enrichment import wait_for_jobs

    from pixlstash.domain import EnrichmentSettings
    from pixlstash.library import Library

    with Library.open(tmp_path / "lib", plugin_manager=wd_pm) as library, LiveServer(library) as live:
        library.engines.configure(EnrichmentSettings(on_import=[]))
        client = live.client(live.token("admin"))
        files = []
        for n in range(5):
            buffer = io.BytesIO()
            photo(300 + 20 * n, 200, seed=n).save(buffer, "PNG")
            files.append(("file", (f"p{n}.png", buffer.getvalue(), "image/png")))
        ids = [i["picture_id"] for i in client.post("/api/v1/uploads", files=files).json()["imported"]]
        engine_list = {e["id"]: e for e in client.get("/api/v1/engines").json()}
        assert engine_list["wd-tagger/tiny-wd"]["model"]["present"]
        assert not engine_list["wd-tagger/wd-vit-tagger-v3"]["model"]["present"]
        assert {p["name"] for p in engine_list["wd-tagger/tiny-wd"]["parameters"]} >= {"general_threshold", "exclude"}
        queued = client.post(
            "/api/v1/jobs",
            json={
                "task": "tagger",
                "engine": "wd-tagger/tiny-wd",
                "picture_ids": ids,
                "parameters": {"general_threshold": 0.3, "character_threshold": 0.3},
            },
        )
        assert queued.status_code in (200, 201, 202), queued.text
        wait_for_jobs(client, timeout=60)
        [job] = client.get("/api/v1/jobs").json()
        assert (job["engine_id"], job["state"], job["done"], job["failed"]) == ("wd-tagger/tiny-wd", "done", 5, 0)

        engine = engines_by_id(wd_pm)["wd-tagger/tiny-wd"]
        picture = client.get(f"/api/v1/pictures/{ids[0]}").json()
        predictions = picture["predictions"]
        assert predictions and all(p["engine_id"] == "wd-tagger/tiny-wd" for p in predictions)
        # The stored confidences are the model's scores for what the worker fed it (the grid thumbnail).
        thumb = Image.open(library.thumbnail_path(ids[0], "grid"))
        expected = {t.name: t.score for t in engine.tag([thumb], general_threshold=0.3, character_threshold=0.3)[0]}
        assert {p["name"]: pytest.approx(p["confidence"], abs=1e-4) for p in predictions} == expected
        assert sum(p["category"] == "rating" for p in predictions) == 1

        accepted = predictions[0]["name"]
        patched = client.patch(f"/api/v1/pictures/{ids[0]}", json={"accept_predictions": [accepted]}).json()
        assert accepted in {t["name"] for t in patched["tags"]}
        stats = client.get("/api/v1/pictures/stats").json()
        [row] = [t for t in stats["tags"] if t["name"] == accepted]
        assert sum(row["confidence"]) == 1  # the accepted tag keeps the engine's confidence

        # A character tag becomes a character: accepted, and the picture filed under it.
        retag = client.post(
            "/api/v1/jobs",
            json={
                "task": "tagger",
                "engine": "wd-tagger/tiny-wd",
                "picture_ids": [ids[1]],
                "force": True,
                "parameters": {"character_threshold": 0.0},
            },
        )
        assert retag.status_code < 300, retag.text
        wait_for_jobs(client, timeout=60)
        offered = [
            p for p in client.get(f"/api/v1/pictures/{ids[1]}").json()["predictions"] if p["category"] == "character"
        ]
        assert {p["name"] for p in offered} == {"hatsune miku", "kagamine rin"}
        filed = client.patch(f"/api/v1/pictures/{ids[1]}", json={"accept_as_characters": ["hatsune miku"]}).json()
        assert "hatsune miku" in {t["name"] for t in filed["tags"]}
        [character] = client.get("/api/v1/characters").json()
        assert character["name"] == "hatsune miku"
        members = client.get("/api/v1/pictures", params={"collections": character["id"]}).json()
        assert [p["id"] for p in members["items"]] == [ids[1]]

        missing = client.post(
            "/api/v1/jobs", json={"task": "tagger", "engine": "wd-tagger/wd-vit-tagger-v3", "picture_ids": ids}
        )
        assert missing.status_code == 409  # said at once, not as a job that can only fail
        assert "pixlstash models pull wd-tagger/wd-vit-tagger-v3" in missing.json()["error"]["message"]


def test_the_plugin_tags_without_torch(tmp_path, models_dir):
    """Installed on its own (no dependencies pulled in), the plugin tags a picture and never imports torch."""
    target = tmp_path / "site"
    pip_install_to(target, PLUGIN)
    script = textwrap.dedent(f"""
        import sys
        from PIL import Image
        from pixlstash import make_plugin_manager
        from pixlstash.engines.registry import EngineRegistry
        import pixlstash_wd_tagger
        assert pixlstash_wd_tagger.__file__.startswith({str(target)!r}), pixlstash_wd_tagger.__file__
        pm = make_plugin_manager(load_entry_points=False)
        pm.register(pixlstash_wd_tagger, name="wd-tagger")
        engine = {{e.id: e for e in EngineRegistry.from_plugin_manager(pm).all()}}["wd-tagger/tiny-wd"]
        tags = engine.tag([Image.new("RGB", (32, 24), (200, 30, 30))], general_threshold=0.0)[0]
        assert len(tags) == 7, tags
        assert "torch" not in sys.modules, "torch was imported"
        print("ok")
    """)
    env = {"PYTHONPATH": str(target), "PIXLSTASH_MODELS_DIR": str(models_dir), "HF_HOME": str(tmp_path / "hf")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert result.stdout.strip() == "ok", result.stderr


def test_the_command_line_says_in_one_line_how_to_get_a_missing_model(tmp_path, models_dir):
    env = {"PIXLSTASH_MODELS_DIR": str(models_dir), "HF_HOME": str(tmp_path / "hf")}
    library = str(tmp_path / "lib")
    photo(60, 40).save(tmp_path / "a.jpg")
    run_cli("import", str(tmp_path / "a.jpg"), "--library", library, env=env)
    result = run_cli("enrich", "--engine", "wd-tagger/wd-vit-tagger-v3", "--library", library, env=env, check=False)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.strip()]
    assert "pixlstash models pull wd-tagger/wd-vit-tagger-v3" in line
    tagged = run_cli("enrich", "--engine", "wd-tagger/tiny-wd", "--library", library, env=env)
    assert "done, 1 done, 0 failed" in tagged.stdout


def test_a_transparent_picture_reaches_the_tagger_on_white_through_the_library(wd_pm, tmp_path):
    """SmilingWolf's app composites alpha on white before anything else. The worker used to hand engines RGB
    only, so the plugin's compositing came too late: transparent pixels (black in the file) were black."""
    from pixlstash import Task
    from pixlstash.domain import EnrichmentSettings
    from pixlstash.library import Library

    sticker = Image.new("RGBA", (96, 96), (0, 0, 0, 0))  # what a cut-out's file holds: transparent black
    sticker.paste(photo(48, 48, seed=3).convert("RGBA"), (24, 24))
    folder = tmp_path / "in"
    folder.mkdir()
    sticker.save(folder / "sticker.png")
    with Library.open(tmp_path / "lib", plugin_manager=wd_pm) as library:
        library.engines.configure(EnrichmentSettings(on_import=[]))
        [imported] = library.import_paths([folder]).imported
        thresholds = {"general_threshold": 0.0, "character_threshold": 0.0}
        library.enrichment.enqueue(
            Task("tagger"), [imported.picture_id], engine_id="wd-tagger/tiny-wd", parameters=thresholds
        )
        library.new_enrichment_worker(decode_threads=1).run_until_idle()
        stored = {p.name: p.confidence for p in library.get(imported.picture_id).predictions}
        seen = Image.open(library.thumbnail_path(imported.picture_id, "grid"))  # what the worker reads
        seen.load()
    assert seen.mode == "RGBA"
    names = [name for name, _ in TAGS]
    on_white = dict(zip(names, reference_scores(seen), strict=True))
    on_black = dict(zip(names, reference_scores(seen.convert("RGB")), strict=True))
    general = [t for t in stored if t in on_white]
    assert general
    for tag in general:
        assert stored[tag] == pytest.approx(on_white[tag], abs=1e-4)
    assert any(abs(on_white[t] - on_black[t]) > 1e-3 for t in general)  # the background does matter here


@pytest.mark.slow
def test_the_real_tag_list_preprocessing_and_mcut_equal_the_wd_tagger_app_s_own_code(tmp_path):
    """Against SmilingWolf's app itself (../shared/reference/wd-tagger), on its real v3 tag list: the same
    names (kaomojis keep their underscores) and categories, the same prepared arrays bit for bit for every
    kind of picture (transparency, palettes, grey, tall, wide), the same MCut thresholds."""
    import json

    from consumer_venv import CONSUMERS, consumer_python, reference
    from pixlstash_wd_tagger.labels import Labels, display_name, mcut_threshold
    from pixlstash_wd_tagger.preprocess import prepare

    app = reference("wd-tagger")
    csv_path = app / "model" / "selected_tags.csv"
    python = consumer_python("wd-tagger-app", CONSUMERS / "wd-tagger-app-requirements.txt")
    paths = []
    for n, image in enumerate(sample_images()):
        paths.append(tmp_path / f"{n}.png")
        image.save(paths[-1])
    scores = np.random.default_rng(4).random((6, 300)).astype(np.float32)
    np.save(tmp_path / "scores.npy", scores)
    size = 448  # the v3 models' input
    runner = Path(__file__).parent / "wd_app_reference.py"
    done = subprocess.run(
        [str(python), str(runner), str(app / "app.py"), str(csv_path), str(size), str(tmp_path), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    theirs = json.loads((tmp_path / "labels.json").read_text())
    ours = Labels.read(csv_path)
    assert len(ours.names) == len(theirs["names"]) == 10861
    assert [display_name(n, True) for n in ours.names] == theirs["names"]
    assert [ours.rating.tolist(), ours.general.tolist(), ours.character.tolist()] == [
        theirs["rating"],
        theirs["general"],
        theirs["character"],
    ]
    assert any("_" in name for name in theirs["names"])  # kaomojis, as the app keeps them
    for n, path in enumerate(paths):
        with Image.open(path) as image:
            np.testing.assert_array_equal(prepare(image, size), np.load(tmp_path / f"{n}.npy"))
    assert [mcut_threshold(row) for row in scores] == pytest.approx(json.loads((tmp_path / "mcut.json").read_text()))


def test_the_int8_option_tags_with_a_quantized_copy_made_once_beside_the_models(models_dir, monkeypatch):
    """``int8`` quantizes the graph once into ``<models>/wd-tagger/.int8/`` (named after the model's files),
    tags with it under a version of its own, and agrees with the full-precision graph on what it finds."""
    import pixlstash_wd_tagger
    from pixlstash_wd_tagger.catalogue import WdSettings

    pm = make_plugin_manager(load_entry_points=False)
    pm.register(pixlstash_wd_tagger, name="wd-tagger")
    full = engines_by_id(pm)["wd-tagger/tiny-wd"]
    monkeypatch.setenv("PIXLSTASH_WD_TAGGER_INT8", "true")
    quantized = engines_by_id(pm)["wd-tagger/tiny-wd"]
    assert quantized.int8 and not full.int8
    assert quantized.version == full.version + "+int8" and quantized.label.endswith("(int8)")

    images = sample_images()
    exact, approximate = full.scores(images), quantized.scores(images)
    copies = list((models_dir / "wd-tagger" / ".int8").glob("*.onnx"))
    assert [c.name for c in copies] == [f"tiny-wd-{full.model.fingerprint()}.onnx"]
    import onnx

    graph = onnx.load(str(copies[0]))
    assert {"DynamicQuantizeLinear", "MatMulInteger"} <= {node.op_type for node in graph.graph.node}
    assert not np.array_equal(exact, approximate)  # it really ran the other graph
    # Confidences move by hundredths at most, so a tag changes only where it sits at the threshold.
    np.testing.assert_allclose(approximate, exact, atol=0.03)

    # Made once: a later load reads the copy; and the hidden folder is never offered as a model.
    made = copies[0].stat().st_mtime_ns
    quantized.unload()
    quantized.load("cpu")
    assert copies[0].stat().st_mtime_ns == made
    assert not [e for e in engines_by_id(pm) if ".int8" in e]
    assert WdSettings().int8 is False


# -- the GPU's path (issue 61), run on the CPU ----------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Specified provider 'CUDAExecutionProvider'")
def test_on_a_gpu_the_engine_tags_with_a_float16_copy_within_float16_rounding(models_dir):
    """``load("cuda")`` takes the GPU's path: the float16 copy, made once beside the models. On a machine
    without CUDA onnxruntime runs that copy on the CPU, which is how its scores are checked here."""
    from pixlstash_wd_tagger.catalogue import WdModel
    from pixlstash_wd_tagger.engine import WdTagger

    model = WdModel("tiny-wd", None, models_dir / "wd-tagger" / "tiny-wd")
    full, half, kept = WdTagger(model, threads=1), WdTagger(model, threads=1), WdTagger(model, 1, precision="fp32")
    full.load("cpu")
    half.load("cuda")
    kept.load("cuda")
    assert model.fp16_path().is_file() and model.fp16_path().parent.name == ".fp16"
    assert (full.device_note(), half.device_note(), kept.device_note()) == ("", "float16", "")
    images = sample_images()
    expected, got = full.scores(images), half.scores(images)
    assert np.abs(expected - got).max() < 2e-3
    np.testing.assert_allclose(kept.scores(images), expected, atol=1e-6)  # fp32: the published graph
    assert half.batch_size("cuda") == 64 and half.batch_size("cpu") == half.preferred_batch_size
