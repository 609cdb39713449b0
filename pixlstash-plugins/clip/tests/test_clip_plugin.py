"""The CLIP plugin on a tiny open_clip model the test builds: same loading path as a real checkpoint,
vectors equal to open_clip's reference encoders, missing models reported, search end to end."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import python_prints
from corpus import photo

open_clip = pytest.importorskip("open_clip")
torch = pytest.importorskip("torch")

from safetensors.torch import save_file  # noqa: E402
from tiny_clip import TINY_CONFIG, build_tiny_clip, build_tiny_siglip, save_tiny_tokenizer, tiny_siglip_config  # noqa: E402

from pixlstash import ModelMissing, make_plugin_manager  # noqa: E402
from pixlstash.engines.registry import EngineRegistry  # noqa: E402
from pixlstash.testing import engines_by_id  # noqa: E402


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    root = tmp_path / "models"
    build_tiny_clip(root / "clip" / "tiny-test")
    monkeypatch.setenv("PIXLSTASH_MODELS_DIR", str(root))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache: hub models are missing
    return root


@pytest.fixture
def clip_pm(models_dir, plugin_manager):
    import pixlstash_clip

    plugin_manager.register(pixlstash_clip, name="clip")
    return plugin_manager


def reference(folder: Path):
    model, _, preprocess = open_clip.create_model_and_transforms(f"local-dir:{folder}")
    model.eval()
    return model, preprocess, open_clip.get_tokenizer(f"local-dir:{folder}")


def test_the_plugin_registers_through_its_entry_point():
    from importlib.metadata import entry_points

    assert "clip" in {ep.name for ep in entry_points(group="pixlstash")}
    assert any(e.id.startswith("clip/") for e in EngineRegistry.from_plugin_manager(make_plugin_manager()).all())


def test_vectors_equal_open_clip_reference_encoders(clip_pm, models_dir):
    engine = engines_by_id(clip_pm)["clip/tiny-test"]
    assert engine.dimensions == 64 and engine.input_size == 64 and engine.supports_text
    images = [photo(160, 120, seed=s) for s in range(3)] + [photo(90, 200, seed=9).convert("L")]
    texts = ["a photo of a cat", "two dogs on a beach", ""]
    engine.load("cpu")
    ours_images, ours_texts = engine.embed_images(images), engine.embed_texts(texts)

    model, preprocess, tokenizer = reference(models_dir / "clip" / "tiny-test")
    with torch.no_grad():
        ref_images = model.encode_image(torch.stack([preprocess(i.convert("RGB")) for i in images]))
        ref_texts = model.encode_text(tokenizer(texts))
    ref_images = (ref_images / ref_images.norm(dim=-1, keepdim=True)).numpy()
    ref_texts = (ref_texts / ref_texts.norm(dim=-1, keepdim=True)).numpy()
    assert ours_images.dtype == np.float32 and ours_images.shape == (4, 64)
    np.testing.assert_allclose(ours_images, ref_images, atol=1e-5)
    np.testing.assert_allclose(ours_texts, ref_texts, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(ours_images, axis=1), 1.0, atol=1e-5)
    # The weights really are the saved ones: another seed gives other vectors.
    other = build_tiny_clip(models_dir / "clip" / "other-seed", seed=1)
    other_model, _, _ = reference(other)
    with torch.no_grad():
        different = other_model.encode_image(torch.stack([preprocess(images[0])]))
    assert not np.allclose((different / different.norm()).numpy()[0], ours_images[0], atol=1e-3)


def test_a_missing_model_names_itself_and_how_to_get_it(clip_pm, models_dir):
    found = engines_by_id(clip_pm)
    hub = found["clip/ViT-B-32@laion2b_s34b_b79k"]  # the default: not in the (empty) cache, not copied
    status = hub.model_status()
    assert not status.present and "pixlstash models pull clip/ViT-B-32@laion2b_s34b_b79k" in status.how_to_get
    assert str(models_dir / "clip" / "ViT-B-32@laion2b_s34b_b79k") in status.how_to_get
    assert hub.dimensions == 512  # known without loading anything
    with pytest.raises(ModelMissing, match="ViT-B-32@laion2b_s34b_b79k is not on this machine"):
        hub.load("cpu")
    # Weights copied by hand into the models folder are found there.
    build_tiny_clip(models_dir / "clip" / "ViT-B-32@laion2b_s34b_b79k")
    assert hub.model_status().present
    # A folder with a config but no weights is listed as incomplete, never loaded (open_clip would
    # silently use random weights), and says what it lacks.
    (models_dir / "clip" / "tiny-test" / "open_clip_model.safetensors").unlink()
    incomplete = engines_by_id(clip_pm)["clip/tiny-test"].model_status()
    assert not incomplete.present and "lacks open_clip_model.safetensors or open_clip_pytorch_model.bin" in (
        incomplete.how_to_get
    )
    with pytest.raises(ModelMissing):
        engines_by_id(clip_pm)["clip/tiny-test"].load("cpu")


def test_importing_and_registering_loads_no_torch(models_dir):
    code = (
        "import sys, pixlstash_clip; from pixlstash import make_plugin_manager, EngineRegistry;"
        "es = [e for e in EngineRegistry.from_plugin_manager(make_plugin_manager()).all() if e.id.startswith('clip/')];"
        "[(e.model_status(), e.version) for e in es]; [e.dimensions for e in es if e.task == 'embedder'];"
        "print(sorted(e.id for e in es), 'torch' in sys.modules)"
    )
    expected = ["clip/ViT-B-32@laion2b_s34b_b79k", "clip/aesthetic", "clip/prompt-match", "clip/tiny-test"]
    assert python_prints(code) == f"{expected} False"


def test_a_search_by_text_without_its_model_is_refused_before_torch_loads(models_dir, tmp_path):
    """The model's files are looked for first: saying they are missing took ``pixlstash search`` 4.2 s (torch
    imported to choose a device, in an engine process; ``bench_cli_start.py``) and takes it 1.0 s now. Every
    interpreter of the run (the engine's process inherits the setting and the standard error) reports its
    imports."""
    code = (
        "from pixlstash import ModelMissing; from pixlstash.library import Library\n"
        f"with Library.open({str(tmp_path / 'lib')!r}) as library:\n"
        "    try: library.search.semantic('a red car', engine_id='clip/ViT-B-32@laion2b_s34b_b79k')\n"
        "    except ModelMissing as e: print('pixlstash models pull' in str(e))"
    )
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout.strip() == "True", done.stderr[-3000:]
    assert "| torch\n" not in done.stderr and "| open_clip\n" not in done.stderr


def test_semantic_and_reverse_search_through_the_api_with_tiny_clip(clip_pm, tmp_path):
    from live_server import LiveServer
    from test_web_enrichment import wait_for_jobs

    from pixlstash.domain import EnrichmentSettings
    from pixlstash.library import Library

    with Library.open(tmp_path / "lib", plugin_manager=clip_pm) as library, LiveServer(library) as live:
        library.engines.configure(EnrichmentSettings(defaults={"embedder": "clip/tiny-test"}))
        client = live.client(live.token("admin"))
        files = []
        for n in range(6):
            buffer = io.BytesIO()
            photo(300 + 10 * n, 200, seed=n).save(buffer, "JPEG")
            files.append(("file", (f"p{n}.jpg", buffer.getvalue(), "image/jpeg")))
        ids = [i["picture_id"] for i in client.post("/api/v1/uploads", files=files).json()["imported"]]
        wait_for_jobs(client, timeout=120)
        [job] = client.get("/api/v1/jobs").json()
        assert (job["engine_id"], job["state"], job["done"]) == ("clip/tiny-test", "done", 6)

        engine = engines_by_id(clip_pm)["clip/tiny-test"]
        stored = library.vectors.embeddings("clip/tiny-test", ids)
        from PIL import Image

        thumb = Image.open(library.thumbnail_path(ids[2], "grid")).convert("RGB")
        np.testing.assert_allclose(stored[ids[2]], engine.embed_images([thumb])[0], atol=1e-5)

        semantic = client.get("/api/v1/search/semantic", params={"q": "a red car"}).json()
        assert semantic["engine_id"] == "clip/tiny-test" and len(semantic["hits"]) == 6
        text = engine.embed_texts(["a red car"])[0]
        expected = sorted(ids, key=lambda i: -float(stored[i] @ text))
        assert [h["picture"]["id"] for h in semantic["hits"]] == expected

        buffer = io.BytesIO()
        thumb.save(buffer, "PNG")  # the picture itself, as the model saw it: its own best match
        upload = client.post("/api/v1/search/similar/upload", files=[("file", ("q.png", buffer.getvalue()))]).json()
        assert upload["hits"][0]["picture"]["id"] == ids[2] and upload["hits"][0]["similarity"] > 0.99
        similar = client.post("/api/v1/search/similar", json={"picture_ids": [ids[0]], "limit": 3}).json()
        assert len(similar["hits"]) == 3 and ids[0] not in {h["picture"]["id"] for h in similar["hits"]}

        missing = client.get("/api/v1/search/semantic", params={"q": "x", "engine": "clip/ViT-B-32@laion2b_s34b_b79k"})
        assert missing.status_code == 409
        assert "pixlstash models pull clip/ViT-B-32@laion2b_s34b_b79k" in missing.json()["error"]["message"]
        # A search by image with a missing model is refused before the upload is decoded (a garbage file
        # would otherwise answer 415 first: the order the answer shows).
        refused = client.post(
            "/api/v1/search/similar/upload",
            files=[("file", ("q.png", b"not an image" * 100))],
            data={"engine": "clip/ViT-B-32@laion2b_s34b_b79k"},
        )
        assert refused.status_code == 409, refused.text
        garbage = client.post("/api/v1/search/similar/upload", files=[("file", ("q.png", b"not an image" * 100))])
        assert garbage.status_code in (400, 415)
        models = client.get("/api/v1/engines").json()
        assert {m["id"]: m["model"]["present"] for m in models if m["task"] == "embedder"} == {
            "clip/ViT-B-32@laion2b_s34b_b79k": False,
            "clip/tiny-test": True,
        }


def test_a_single_checkpoint_file_of_a_named_model_loads_with_its_config(models_dir, monkeypatch, tmp_path):
    """`<models dir>/clip/<name>@<tag>.safetensors`: the model's config comes from open_clip's registry."""
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "TinyFile.json").write_text(json.dumps(TINY_CONFIG))
    open_clip.add_model_config(configs)
    torch.manual_seed(3)
    model = open_clip.model.CLIP(**TINY_CONFIG)
    save_file(model.state_dict(), str(models_dir / "clip" / "TinyFile@mine.safetensors"))
    monkeypatch.setenv("PIXLSTASH_CLIP_MODELS", "TinyFile@mine")
    pm = make_plugin_manager(load_entry_points=False)
    import pixlstash_clip

    pm.register(pixlstash_clip, name="clip")
    engine = engines_by_id(pm)["clip/TinyFile@mine"]
    assert engine.model_status().present and engine.model_status().location.endswith("TinyFile@mine.safetensors")
    image = photo(120, 90, seed=4)
    ours = engine.embed_images([image])[0]
    reference_model, _, preprocess = open_clip.create_model_and_transforms(
        "TinyFile", pretrained=str(models_dir / "clip" / "TinyFile@mine.safetensors")
    )
    reference_model.eval()
    with torch.no_grad():
        expected = reference_model.encode_image(preprocess(image)[None])
    np.testing.assert_allclose(ours, (expected / expected.norm()).numpy()[0], atol=1e-5)


def test_damaged_weights_are_named_by_models_and_a_search_says_so_in_one_line(models_dir, tmp_path):
    """Weights cut short (an interrupted copy): `pixlstash models` calls them DAMAGED with the reason, not
    present, and a search that loads them fails in one line naming the files, not with SafetensorError."""
    weights = models_dir / "clip" / "tiny-test" / "open_clip_model.safetensors"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")},
        "PIXLSTASH_MODELS_DIR": str(models_dir),
    }
    lib = str(tmp_path / "lib")

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "pixlstash", *args, "--library", lib], capture_output=True, text=True, env=env
        )

    from pixlstash.library import Library

    # A search needs a library: a command that only reads never makes one.
    Library.open(lib, plugin_manager=make_plugin_manager(load_entry_points=False)).close()
    whole = {m["engine_id"]: m for m in json.loads(cli("models", "--json").stdout)}["clip/tiny-test"]
    assert whole["present"] and whole["problems"] == []  # a real safetensors file passes the header check
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    damaged = {m["engine_id"]: m for m in json.loads(cli("models", "--json").stdout)}["clip/tiny-test"]
    assert not damaged["present"]
    cut = f"open_clip_model.safetensors: is cut short ({len(data) // 2:,} bytes of {len(data):,})"
    assert damaged["problems"] == [cut]
    listed = cli("models").stdout
    assert "clip/tiny-test" in listed and "DAMAGED" in listed and "is cut short" in listed
    searched = cli("search", "a red car", "--engine", "clip/tiny-test")
    assert searched.returncode == 1 and len(searched.stderr.splitlines()) == 1, searched.stderr
    assert searched.stderr.startswith("error: the model files of clip/tiny-test at ")
    assert "do not load" in searched.stderr and "Traceback" not in searched.stderr


# -- models whose text tower uses a Hugging Face tokenizer (SigLIP, SigLIP2) ----------------------------


def _plugin():
    pm = make_plugin_manager(load_entry_points=False)
    import pixlstash_clip

    pm.register(pixlstash_clip, name="clip")
    return pm


def _text_reference(model, tokenizer, texts) -> np.ndarray:
    with torch.no_grad():
        return torch.nn.functional.normalize(model.encode_text(tokenizer(texts)).float(), dim=-1).numpy()


TEXTS = ["a photo of a cat", "red sky"]


def test_a_siglip_style_folder_is_incomplete_without_its_tokenizer_files_and_loads_offline_with_them(models_dir):
    folder = build_tiny_siglip(models_dir / "clip" / "tiny-sig", tokenizer=False)
    with pytest.raises((OSError, ValueError)):  # what open_clip itself does with such a folder, offline
        open_clip.get_tokenizer(f"local-dir:{folder}")
    engine = engines_by_id(_plugin())["clip/tiny-sig"]
    status = engine.model_status()
    assert not status.present and "lacks its tokenizer's files (tokenizer_config.json and one of" in status.how_to_get
    with pytest.raises(ModelMissing, match="tokenizer"):
        engine.load("cpu")
    save_tiny_tokenizer(folder)
    engine = engines_by_id(_plugin())["clip/tiny-sig"]
    assert engine.model_status().present
    model, _, tokenizer = reference(folder)
    np.testing.assert_allclose(engine.embed_texts(TEXTS), _text_reference(model, tokenizer, TEXTS), atol=1e-5)


def _cache_repo(cache: Path, repo: str, files: Path) -> None:
    """A repository in the Hugging Face cache, laid out as huggingface_hub leaves a download."""
    import shutil

    cached = cache / f"models--{repo.replace('/', '--')}"
    shutil.copytree(files, cached / "snapshots" / ("0" * 40))
    (cached / "refs").mkdir()
    (cached / "refs" / "main").write_text("0" * 40)


def test_a_checkpoint_finds_its_tokenizer_beside_it_or_in_the_cache(models_dir, monkeypatch, tmp_path):
    """A single checkpoint of a model with a Hugging Face tokenizer: open_clip would fetch the tokenizer
    from the hub; offline it is read from the folder named after the checkpoint or from the cache."""
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "TinySig.json").write_text(json.dumps(tiny_siglip_config("me/tiny-sig-tokenizer")))
    open_clip.add_model_config(configs)
    torch.manual_seed(5)
    checkpoint = models_dir / "clip" / "TinySig@mine.safetensors"
    save_file(open_clip.model.CLIP(**tiny_siglip_config("me/tiny-sig-tokenizer")).state_dict(), str(checkpoint))
    monkeypatch.setenv("PIXLSTASH_CLIP_MODELS", "TinySig@mine")
    engine = engines_by_id(_plugin())["clip/TinySig@mine"]
    status = engine.model_status()
    assert (
        not status.present
        and "me/tiny-sig-tokenizer" in status.how_to_get
        and "tokenizer_config.json" in (status.how_to_get)
    )
    # The cache huggingface_hub reads (fixed when it was first imported, so pointed here for this test).
    import huggingface_hub.constants

    cache = tmp_path / "hf-cache"
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    _cache_repo(cache, "me/tiny-sig-tokenizer", save_tiny_tokenizer(tmp_path / "tok"))
    engine = engines_by_id(_plugin())["clip/TinySig@mine"]
    assert engine.model_status().present
    model, _, _ = open_clip.create_model_and_transforms("TinySig", pretrained=str(checkpoint))
    model.eval()
    # open_clip's own reading of the same tokenizer files and text config (its local-dir path).
    alike = save_tiny_tokenizer(tmp_path / "alike")
    config = {"model_cfg": tiny_siglip_config("me/tiny-sig-tokenizer")}
    (alike / "open_clip_config.json").write_text(json.dumps(config))
    tokenizer = open_clip.get_tokenizer(f"local-dir:{alike}")
    np.testing.assert_allclose(engine.embed_texts(TEXTS), _text_reference(model, tokenizer, TEXTS), atol=1e-5)


def test_models_pull_fetches_the_tokenizer_files_a_siglip_model_needs(tmp_path):
    import functools
    import http.server
    import threading

    from conftest import run_cli

    hub = tmp_path / "hub"
    build_tiny_siglip(hub / "timm" / "ViT-B-16-SigLIP" / "resolve" / "main")

    class HubLike(http.server.SimpleHTTPRequestHandler):
        """Files as the hub serves them: huggingface_hub wants a commit and an ETag with each."""

        def end_headers(self) -> None:
            self.send_header("X-Repo-Commit", "1" * 40)
            self.send_header("ETag", f'"{abs(hash(self.path))}"')
            super().end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(HubLike, directory=str(hub)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        "PIXLSTASH_MODELS_DIR": str(tmp_path / "models"),
        "PIXLSTASH_CLIP_MODELS": "ViT-B-16-SigLIP@webli",
        "HF_HOME": str(tmp_path / "hf"),
        "HF_ENDPOINT": f"http://127.0.0.1:{server.server_port}",
    }
    try:
        run_cli("models", "pull", "clip/ViT-B-16-SigLIP@webli", "--library", str(tmp_path / "l"), env=env)
    finally:
        server.shutdown()
    [snapshot] = (tmp_path / "hf" / "hub" / "models--timm--ViT-B-16-SigLIP" / "snapshots").iterdir()
    assert {"open_clip_config.json", "tokenizer.json", "tokenizer_config.json"} <= {p.name for p in snapshot.iterdir()}
    listing = run_cli("models", "--json", "--library", str(tmp_path / "l"), env={**env, "HF_HUB_OFFLINE": "1"})
    [entry] = [m for m in json.loads(listing.stdout) if m["engine_id"] == "clip/ViT-B-16-SigLIP@webli"]
    assert entry["present"] and entry["location"] == str(snapshot), entry


def test_a_pulled_model_whose_repository_lacks_its_tokenizer_is_present_and_searches(tmp_path):
    """SigLIP so400m's repository has no tokenizer files: `models pull` fetches them from the tokenizer's
    repository, and the model is then present (not MISSING) and embeds text with them."""
    import functools
    import http.server
    import threading

    from conftest import run_cli

    hub = tmp_path / "hub"
    build_tiny_siglip(hub / "timm" / "ViT-SO400M-14-SigLIP" / "resolve" / "main", tokenizer=False)
    save_tiny_tokenizer(hub / "timm" / "ViT-B-16-SigLIP" / "resolve" / "main")  # the tokenizer's repository

    class HubLike(http.server.SimpleHTTPRequestHandler):
        def end_headers(self) -> None:
            self.send_header("X-Repo-Commit", "1" * 40)
            self.send_header("ETag", f'"{abs(hash(self.path))}"')
            super().end_headers()

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(HubLike, directory=str(hub)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    key = "ViT-SO400M-14-SigLIP@webli"
    env = {
        "PIXLSTASH_MODELS_DIR": str(tmp_path / "models"),
        "PIXLSTASH_CLIP_MODELS": key,
        "HF_HOME": str(tmp_path / "hf"),
        "HF_ENDPOINT": f"http://127.0.0.1:{server.server_port}",
    }
    try:
        run_cli("models", "pull", f"clip/{key}", "--library", str(tmp_path / "l"), env=env)
    finally:
        server.shutdown()
    offline = {**env, "HF_HUB_OFFLINE": "1"}
    listing = run_cli("models", "--json", "--library", str(tmp_path / "l"), env=offline)
    [entry] = [m for m in json.loads(listing.stdout) if m["engine_id"] == f"clip/{key}"]
    assert entry["present"], entry
    photo(64, 48, seed=3).save(tmp_path / "one.png")
    run_cli("import", str(tmp_path / "one.png"), "--library", str(tmp_path / "l"), env=offline)
    searched = run_cli("search", "a red car", "--engine", f"clip/{key}", "--library", str(tmp_path / "l"), env=offline)
    assert searched.returncode == 0 and "Traceback" not in searched.stderr, searched.stderr


def _reference_image_vectors(folder: Path, images) -> np.ndarray:
    model, preprocess, _ = reference(folder)
    with torch.no_grad():
        vectors = model.encode_image(torch.stack([preprocess(i.convert("RGB")) for i in images]))
    return (vectors / vectors.norm(dim=-1, keepdim=True)).numpy()


def test_the_image_tower_on_onnx_runtime_is_exported_once_and_gives_torch_s_vectors(models_dir, monkeypatch):
    """``image_runtime=onnx``: the tower is exported into ``<models>/clip/.onnx/`` on first load, checked
    against torch, and then embeds pictures with the same vectors; text stays on torch; the torch copy of
    the tower's weights is let go."""
    import pixlstash_clip

    monkeypatch.setenv("PIXLSTASH_CLIP_IMAGE_RUNTIME", "onnx")
    pm = make_plugin_manager(load_entry_points=False)
    pm.register(pixlstash_clip, name="clip")
    found = engines_by_id(pm)
    assert ".onnx" not in " ".join(found)  # the export folder is never offered as a model
    engine = found["clip/tiny-test"]
    images = [photo(160, 120, seed=s) for s in range(3)]
    engine.load("cpu")
    vectors = engine.embed_images(images)
    exported = list((models_dir / "clip" / ".onnx").glob("*/visual.onnx"))
    assert [p.parent.name for p in exported] == [f"tiny-test-{engine.model.fingerprint()}"]
    assert engine._loaded[0].visual is None and engine.version == engine.model.fingerprint()
    np.testing.assert_allclose(vectors, _reference_image_vectors(models_dir / "clip" / "tiny-test", images), atol=1e-4)
    assert engine.embed_texts(["a cat"]).shape == (1, 64)

    made = exported[0].stat().st_mtime_ns
    engine.unload()
    engine.load("cpu")  # a later load reads the export
    assert exported[0].stat().st_mtime_ns == made
    np.testing.assert_allclose(engine.embed_images(images), vectors, atol=1e-6)


def test_the_int8_tower_is_a_version_of_its_own_with_vectors_close_to_full_precision(models_dir, monkeypatch):
    import onnx

    import pixlstash_clip

    monkeypatch.setenv("PIXLSTASH_CLIP_IMAGE_RUNTIME", "onnx-int8")
    pm = make_plugin_manager(load_entry_points=False)
    pm.register(pixlstash_clip, name="clip")
    engine = engines_by_id(pm)["clip/tiny-test"]
    assert engine.version.endswith("+int8") and engine.label.endswith("(int8)")
    images = [photo(160, 120, seed=s) for s in range(4)]
    vectors = engine.embed_images(images)
    graph = onnx.load(str(next((models_dir / "clip" / ".onnx").glob("*/visual.int8.onnx"))))
    assert "MatMulInteger" in {node.op_type for node in graph.graph.node}
    exact = _reference_image_vectors(models_dir / "clip" / "tiny-test", images)
    cosines = (vectors * exact).sum(axis=1)
    assert cosines.min() > 0.98 and not np.allclose(vectors, exact, atol=1e-4), cosines


def test_a_tower_that_cannot_be_exported_stays_on_torch_and_says_so(models_dir, monkeypatch, caplog):
    import pixlstash_clip

    (models_dir / "clip" / ".onnx").write_text("not a folder")  # nowhere to write the export
    monkeypatch.setenv("PIXLSTASH_CLIP_IMAGE_RUNTIME", "onnx")
    pm = make_plugin_manager(load_entry_points=False)
    pm.register(pixlstash_clip, name="clip")
    engine = engines_by_id(pm)["clip/tiny-test"]
    images = [photo(160, 120, seed=1)]
    vectors = engine.embed_images(images)
    assert engine._tower is None and engine._loaded[0].visual is not None
    assert "the image tower stays on torch" in caplog.text
    np.testing.assert_allclose(vectors, _reference_image_vectors(models_dir / "clip" / "tiny-test", images), atol=1e-5)
