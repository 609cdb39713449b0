"""The anime plugin on random-weight graphs the tests build with the real signatures (nothing downloaded,
no torch): its boxes, CCIP features, likeness and the library's clusters equal what dghs-imgutils' own
functions make of the same graphs and pictures (run in a venv of its own, offline, from a Hugging Face
cache); missing models say how to get them; the API names, suggests and undoes as for photo faces."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import python_prints
from PIL import Image, ImageDraw

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from tiny_anime import REVISION, build_tiny_models

from pixlstash import make_plugin_manager
from pixlstash.testing import engines_by_id

HEADS, FACES = "anime/head_detect_v2.0_s", "anime/face_detect_v1.4_s"
THRESHOLD = 0.92  # the library's likeness; imgutils' difference threshold and DBSCAN eps are 1 - this


def pictures() -> list[Image.Image]:
    """Illustration-like pictures: flat backgrounds with one to three figures (a head with hair of one
    colour over a body); pink and blue recur, green once, and one picture has nobody."""
    hair = {"pink": (240, 120, 180), "blue": (60, 110, 230), "green": (40, 170, 90)}
    scenes = [
        ((1024, 768), (250, 250, 245), [("pink", 300, 300, 150)]),
        ((768, 1024), (230, 240, 255), [("blue", 380, 350, 170)]),
        ((1200, 800), (255, 245, 230), [("pink", 300, 330, 140), ("blue", 850, 360, 150)]),
        ((900, 900), (40, 40, 60), [("pink", 450, 420, 200)]),
        ((800, 600), (250, 250, 250), [("green", 400, 280, 120)]),
        ((640, 640), (200, 220, 200), []),
        ((1024, 1024), (255, 255, 255), [("blue", 300, 300, 130), ("blue", 700, 650, 110), ("pink", 750, 250, 100)]),
    ]
    made = []
    for size, background, figures in scenes:
        image = Image.new("RGB", size, background)
        draw = ImageDraw.Draw(image)
        for colour, x, y, r in figures:
            draw.rectangle((x - r, y + r, x + r, min(size[1], y + 4 * r)), fill=(90, 90, 110))
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 225, 205))
            draw.chord((x - r, y - r, x + r, y + r), 180, 360, fill=hair[colour])
            for eye in (x - r // 3, x + r // 3):
                draw.ellipse((eye - 8, y, eye + 8, y + 20), fill=(30, 30, 30))
        made.append(image)
    return made


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """The graphs in a Hugging Face cache (where imgutils and the plugin both find them); the models
    folder is empty."""
    cache = tmp_path / "hub"
    build_tiny_models(cache, detectors=("head_detect_v2.0_s", "face_detect_v1.4_s"))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("PIXLSTASH_MODELS_DIR", str(tmp_path / "models"))
    return cache


def anime_pm():
    import pixlstash_anime

    pm = make_plugin_manager(load_entry_points=False)
    pm.register(pixlstash_anime, name="anime")
    return pm


def engines(pm, **settings) -> dict:
    """The plugin's engines, by id."""
    return {key: e for key, e in engines_by_id(pm, settings or None).items() if key.startswith("anime/")}


def test_the_plugin_registers_through_its_entry_point():
    from importlib.metadata import entry_points

    assert "pixlstash_anime" in {e.value for e in entry_points(group="pixlstash") if e.name == "anime"}


@pytest.fixture(scope="module")
def imgutils_python():
    from consumer_venv import CONSUMERS, consumer_python

    return consumer_python("imgutils", CONSUMERS / "imgutils-requirements.txt")


def _imgutils(python: Path, cache: Path, paths: list[Path]) -> dict:
    from consumer_venv import consumer_answer

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env |= {"HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "ONNX_MODE": "cpu"}
    answer, _ = consumer_answer(
        [python, Path(__file__).parent / "compare_with_imgutils.py", THRESHOLD, "--", *paths], env=env
    )
    return answer


def _saved(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "pictures"
    folder.mkdir(exist_ok=True)
    paths = []
    for n, image in enumerate(pictures()):
        paths.append(folder / f"scene{n}.png")
        image.save(paths[-1])
    return paths


def _partition(labels: list[int]) -> set[frozenset[int]]:
    """Groups of positions; imgutils' noise (-1) is each a group of its own."""
    groups: dict[object, set[int]] = {}
    for n, label in enumerate(labels):
        groups.setdefault(label if label >= 0 else ("noise", n), set()).add(n)
    return {frozenset(g) for g in groups.values()}


@pytest.mark.slow
def test_boxes_features_likeness_and_clusters_equal_imgutils(hub, tmp_path, imgutils_python):
    paths = _saved(tmp_path)
    reference = _imgutils(imgutils_python, hub, paths)
    assert reference["imgutils"] == "0.19.0"
    from pixlstash_anime import AnimeSettings

    found = engines(anime_pm(), anime=AnimeSettings(detectors=["head_detect_v2.0_s", "face_detect_v1.4_s"]))
    heads, faces = found[HEADS], found[FACES]
    from conftest import run_cli

    env = {"HF_HUB_CACHE": str(hub), "PIXLSTASH_MODELS_DIR": str(tmp_path / "models")}
    listed = run_cli("models", "--library", str(tmp_path / "lib"), env=env).stdout
    assert f"{HEADS}" in listed and "MISSING" not in listed.split(HEADS)[1].split("\n")[0]
    assert "DAMAGED" not in listed.split(HEADS)[1].split("\n")[0]  # found in the Hugging Face cache, whole
    images = [Image.open(p) for p in paths]
    for engine, want in ((heads, reference["heads"]), (faces, reference["faces"])):
        conf = None if engine is heads else 0.2  # the heads at imgutils' default (0.4)
        got = [engine.detect(image, conf) for image in images]
        # Boxes of equal confidence (a flat region gives many) come in either order: compare them sorted.
        assert [sorted((tuple(b), label) for b, label, _ in boxes) for boxes in got] == [
            sorted((tuple(b), label) for b, label, _ in boxes) for boxes in want
        ]
        np.testing.assert_allclose(
            [s for boxes in got for s in sorted(s for _, _, s in boxes)],
            [s for boxes in want for s in sorted(s for _, _, s in boxes)],
            rtol=1e-5,
        )
    assert sum(map(len, reference["heads"])) >= 2 and sum(map(len, reference["faces"])) > 20  # NMS had work
    assert [] in reference["heads"]  # and some pictures are recognised whole

    extracted = heads.extract(images)
    vectors = np.asarray([f.embedding for picture in extracted for f in picture], dtype=np.float32)
    np.testing.assert_allclose(vectors, reference["features"], rtol=1e-4, atol=1e-4)
    for picture, image, want in zip(extracted, images, reference["heads"], strict=True):
        whole = [((0.0, 0.0, float(image.width), float(image.height)), "head", 0.0)]
        assert [(f.box, f.score) for f in picture] == [(tuple(map(float, b)), s) for b, _, s in want or whole]
    n = len(vectors)
    left, right = np.repeat(vectors, n, axis=0), np.tile(vectors, (n, 1))
    likeness = np.asarray(heads.likeness(left, right)).reshape(n, n)
    np.testing.assert_allclose(1 - likeness, reference["differences"], atol=1e-5)
    assert ((likeness >= THRESHOLD) == np.asarray(reference["same"])).all()
    assert heads.likeness_threshold() == pytest.approx(1 - 0.3)  # the model's metrics.json

    # The library: import, find characters through the worker, cluster at THRESHOLD.
    from pixlstash.domain import EnrichmentSettings, PeopleSettings
    from pixlstash.library import Library

    with Library.open(tmp_path / "lib", plugin_manager=anime_pm()) as library:
        library.engines.configure(EnrichmentSettings(on_import=["faces"], defaults={"faces": HEADS}))
        report = library.import_paths([paths[0].parent])
        ids = {Path(item.path).name: item.picture_id for item in report.imported}
        library.new_enrichment_worker(decode_threads=2).run_until_idle()
        # Face ids in imgutils' order: by picture, then as detected (the library keeps its own order).
        by_box = {
            (picture, (x0, y0, x1, y1)): face
            for face, picture, x0, y0, x1, y1 in library.db.query("SELECT id, picture_id, x0, y0, x1, y1 FROM faces")
        }
        order = []
        for path, image, found in zip(paths, images, reference["heads"], strict=True):
            boxes = [tuple(map(float, b)) for b, _, _ in found] or [(0.0, 0.0, float(image.width), float(image.height))]
            order += [by_box[(ids[path.name], box)] for box in boxes]
        assert len(order) == n
        stored = library.vectors.face_vectors(order)
        # Kept as CCIP gave them, not normalised (the metric reads their length).
        np.testing.assert_allclose([stored[f] for f in order], reference["features"], rtol=1e-4, atol=1e-4)
        # A learned metric clusters at its model's threshold (0.7 here), not the ArcFace one; a user may
        # set another for the engine.
        assert library.people.clustering.threshold_for(HEADS) == pytest.approx(0.7)
        library.people.configure(PeopleSettings(engine_thresholds={HEADS: THRESHOLD}))
        library.people.update()
        clusters = dict(library.db.query("SELECT id, cluster_id FROM faces"))
        got = _partition([clusters[f] for f in order])
        want = _partition(reference["clusters"])
        assert got == want
        assert 1 < len(want) < n  # some faces joined, some did not: the check has teeth
        # "More of this character": faces like the first, scored by the metric graph, not the cosine.
        hits = library.search.faces_like(HEADS, stored[order[0]][None, :], limit=n)
        position = {face: i for i, face in enumerate(order)}
        assert len(hits) == n
        np.testing.assert_allclose(
            [h.similarity for h in hits],
            [1 - reference["differences"][0][position[h.face_id]] for h in hits],
            atol=1e-5,
        )
        assert [h.similarity for h in hits] == sorted((h.similarity for h in hits), reverse=True)


def test_a_missing_model_names_itself_and_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    monkeypatch.setenv("PIXLSTASH_MODELS_DIR", str(tmp_path / "models"))
    from pixlstash import ModelMissing

    engine = engines(anime_pm())[HEADS]
    status = engine.model_status()
    assert not status.present
    assert f"pixlstash models pull {HEADS}" in status.how_to_get
    assert "huggingface.co/deepghs/anime_head_detection" in status.how_to_get
    assert "huggingface.co/deepghs/ccip_onnx" in status.how_to_get
    with pytest.raises(ModelMissing, match=r"head_detect_v2\.0_s and ccip-caformer-24-randaug-pruned"):
        engine.extract([pictures()[0]])


def test_models_in_the_models_folder_and_settings_choose_the_engines(tmp_path, monkeypatch):
    """The models folder's layout mirrors the repositories; a detector folder found there is offered too."""
    hub = tmp_path / "hub"
    folders = build_tiny_models(hub, detectors=("head_detect_v2.0_n", "face_detect_v1.4_n"))
    models = tmp_path / "models" / "anime"
    for name, folder in folders.items():
        repo = {"ccip": "ccip_onnx", "face_detect_v1.4_n": "anime_face_detection"}.get(name, "anime_head_detection")
        target = models / repo / folder.name
        target.parent.mkdir(parents=True, exist_ok=True)
        folder.rename(target)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    monkeypatch.setenv("PIXLSTASH_MODELS_DIR", str(tmp_path / "models"))
    found = engines(anime_pm())
    assert set(found) == {HEADS, "anime/head_detect_v2.0_n", "anime/face_detect_v1.4_n"}
    assert not found[HEADS].model_status().present  # the default, not here
    small = found["anime/face_detect_v1.4_n"]
    assert small.model_status().present and "faces" in small.label
    assert small.extract([pictures()[2]])[0]
    from pixlstash_anime import AnimeSettings

    chosen = engines(anime_pm(), anime=AnimeSettings(detectors=["face_detect_v1.4_n"]))
    assert set(chosen) == {"anime/face_detect_v1.4_n", "anime/head_detect_v2.0_n"}


def test_the_plugin_runs_without_torch(hub, tmp_path):
    script = textwrap.dedent(f"""
        import sys
        from PIL import Image
        from pixlstash import make_plugin_manager
        from pixlstash.engines.registry import EngineRegistry
        import pixlstash_anime
        pm = make_plugin_manager(load_entry_points=False)
        pm.register(pixlstash_anime, name="anime")
        engine = {{e.id: e for e in EngineRegistry.from_plugin_manager(pm).all()}}[{HEADS!r}]
        Image.new("RGB", (300, 200), "white").save({str(tmp_path / "w.png")!r})
        faces = engine.extract([Image.open({str(tmp_path / "w.png")!r}).convert("RGB")])[0]
        assert len(faces) == 1 and len(faces[0].embedding) == 768
        assert "torch" not in sys.modules, "torch was imported"
        print("ok")
    """)
    env = {"HF_HUB_CACHE": str(hub), "PIXLSTASH_MODELS_DIR": str(tmp_path / "models"), "PATH": "/usr/bin"}
    assert python_prints(script, env=env) == "ok"


@pytest.fixture
def loopback_hub(tmp_path):
    """A loopback stand-in for huggingface.co serving the tiny graphs at ``/<repo>/resolve/main/<path>``;
    ``broken`` names files it answers with 500, and ``asked`` lists what was asked for."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    cache = tmp_path / "served"
    build_tiny_models(cache, detectors=("head_detect_v2.0_s",))
    state = {"broken": set(), "asked": []}

    class Hub(BaseHTTPRequestHandler):
        def do_GET(self):
            state["asked"].append(self.path)
            owner, name, _, _, *rest = self.path.lstrip("/").split("/")
            path = cache / f"models--{owner}--{name}" / "snapshots" / REVISION / "/".join(rest)
            if rest[-1] in state["broken"]:
                self.send_error(500)
            elif path.is_file():
                body = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                self.send_error(404)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", state
    server.shutdown()


def test_models_pull_fetches_the_detector_and_ccip_and_a_failed_pull_leaves_nothing(tmp_path, loopback_hub):
    from conftest import run_cli

    endpoint, state = loopback_hub
    models = tmp_path / "models"
    env = {"HF_ENDPOINT": endpoint, "HF_HUB_CACHE": str(tmp_path / "empty-hub"), "PIXLSTASH_MODELS_DIR": str(models)}
    state["broken"].add("model_metrics.onnx")
    failed = run_cli("models", "pull", HEADS, "--library", str(tmp_path / "lib"), env=env, check=False)
    assert failed.returncode != 0 and "500" in failed.stderr, failed.stderr
    ccip_folder = models / "anime" / "ccip_onnx" / "ccip-caformer-24-randaug-pruned"
    assert not list(ccip_folder.glob(".*.part")) and not (ccip_folder / "model_metrics.onnx").exists()
    listed = run_cli("models", "--library", str(tmp_path / "lib"), env=env, check=False).stdout
    assert HEADS in listed and "MISSING" in listed

    state["broken"].clear()
    pulled = run_cli("models", "pull", HEADS, "--library", str(tmp_path / "lib"), env=env)
    assert f"pulling {HEADS}" in pulled.stdout
    assert (models / "anime" / "anime_head_detection" / "head_detect_v2.0_s" / "model.onnx").is_file()
    assert {p.name for p in ccip_folder.iterdir()} == {"model_feat.onnx", "model_metrics.onnx", "metrics.json"}
    assert "/deepghs/ccip_onnx/resolve/main/ccip-caformer-24-randaug-pruned/model_feat.onnx" in state["asked"]
    env["HF_ENDPOINT"] = "http://127.0.0.1:9"  # nothing is fetched again: the engine runs from the models folder
    engine_ok = run_cli("models", "--library", str(tmp_path / "lib"), env=env).stdout
    assert "MISSING" not in engine_ok.split(HEADS, 1)[1].splitlines()[0]


@pytest.mark.parametrize(
    "assignment", ["detectors=../../../etc", "detectors=head_detect_v2.0_s,a/b", "ccip=..", "ccip=/abs"]
)
def test_a_model_name_that_is_a_path_is_refused_in_one_line(tmp_path, assignment):
    from conftest import run_cli

    library = str(tmp_path / "lib")
    run_cli("plugins", "config", "anime", "threads=1", "--library", library)
    refused = run_cli("plugins", "config", "anime", assignment, "--library", library, check=False)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "is not a model name" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    shown = run_cli("plugins", "config", "anime", "--library", library).stdout
    assert "threads" in shown and "etc" not in shown and "abs" not in shown  # nothing stored changed
