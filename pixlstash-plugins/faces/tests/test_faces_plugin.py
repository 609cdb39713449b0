"""The faces plugin on a tiny model pack the test builds (no torch): the boxes, landmarks and embeddings
it stores equal what insightface's own ``FaceAnalysis`` returns for the same pack and pictures, on
insightface's real photos too; alignment geometry; missing packs; the API end to end."""

from __future__ import annotations

import io
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import python_prints
from corpus import photo
from PIL import Image

insightface = pytest.importorskip("insightface")
cv2 = pytest.importorskip("cv2")

from insightface.app import FaceAnalysis  # noqa: E402
from insightface.utils import face_align  # noqa: E402
from tiny_pack import build_tiny_pack  # noqa: E402

from pixlstash import make_plugin_manager  # noqa: E402
from pixlstash.testing import engines_by_id  # noqa: E402

PHOTOS = Path(insightface.__file__).parent / "data" / "images"


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    root = tmp_path / "models"
    build_tiny_pack(root / "faces" / "tiny-pack")
    monkeypatch.setenv("PIXLSTASH_MODELS_DIR", str(root))
    monkeypatch.setenv("INSIGHTFACE_HOME", str(tmp_path / "insightface"))  # empty: published packs are missing
    return root


@pytest.fixture
def faces_pm(models_dir, plugin_manager):
    import pixlstash_faces

    plugin_manager.register(pixlstash_faces, name="faces")
    return plugin_manager


def reference(folder: Path, det_size: int = 640, det_thresh: float = 0.5) -> FaceAnalysis:
    app = FaceAnalysis(
        name=str(folder), allowed_modules=["detection", "recognition"], providers=["CPUExecutionProvider"]
    )
    app.prepare(ctx_id=-1, det_thresh=det_thresh, det_size=(det_size, det_size))
    return app


def pictures() -> list[Image.Image]:
    return [
        Image.open(PHOTOS / "t1.jpg").convert("RGB"),  # insightface's own group photo
        Image.open(PHOTOS / "Tom_Hanks_54745.png").convert("RGB"),
        photo(800, 600, seed=3),
        photo(300, 900, seed=4),
    ]


def test_the_plugin_registers_through_its_entry_point():
    from importlib.metadata import entry_points

    assert "faces" in {ep.name for ep in entry_points(group="pixlstash")}
    assert "faces/buffalo_l" in engines_by_id(make_plugin_manager())


def test_a_pull_checks_and_names_where_insightface_downloads_from():
    """insightface fetches its packs from its GitHub releases: a pull first tries that host (and names it
    when it cannot be reached), not the Hugging Face hub."""
    from urllib.parse import urlsplit

    from insightface.utils.storage import BASE_REPO_URL

    engine = engines_by_id(make_plugin_manager())["faces/buffalo_l"]
    assert urlsplit(engine.download_source()).hostname == urlsplit(BASE_REPO_URL).hostname == "github.com"


@pytest.mark.parametrize(("det_size", "det_thresh"), [(640, 0.5), (320, 0.3)])
def test_faces_equal_insightface_face_analysis(faces_pm, models_dir, det_size, det_thresh):
    engine = engines_by_id(faces_pm)["faces/tiny-pack"]
    images = pictures()
    found = engine.extract(images, det_size=det_size, det_thresh=det_thresh)
    app = reference(models_dir / "faces" / "tiny-pack", det_size, det_thresh)
    total = 0
    for image, faces in zip(images, found, strict=True):
        expected = app.get(np.ascontiguousarray(np.asarray(image)[:, :, ::-1]))
        assert len(faces) == len(expected)
        total += len(faces)
        for face, ref in zip(faces, expected, strict=True):
            np.testing.assert_allclose(face.box, ref.bbox, atol=1e-3)
            np.testing.assert_allclose(face.landmarks, ref.kps, atol=1e-3)
            assert face.score == pytest.approx(float(ref.det_score), abs=1e-6)
            np.testing.assert_allclose(face.embedding, ref.normed_embedding, atol=1e-5)
            assert np.linalg.norm(face.embedding) == pytest.approx(1.0, abs=1e-5)
    assert total > 0  # the tiny detector does find "faces" in these pictures


def test_min_face_leaves_small_faces_out(faces_pm):
    engine = engines_by_id(faces_pm)["faces/tiny-pack"]
    [every] = engine.extract(pictures()[:1])
    sides = sorted(min(f.box[2] - f.box[0], f.box[3] - f.box[1]) for f in every)
    cut = sides[len(sides) // 2]
    [kept] = engine.extract(pictures()[:1], min_face=int(cut) + 1)
    assert 0 < len(kept) < len(every) or len(set(sides)) == 1
    assert all(min(f.box[2] - f.box[0], f.box[3] - f.box[1]) >= int(cut) + 1 for f in kept)


def test_alignment_brings_a_tilted_face_upright_and_centred():
    """Dots drawn at landmarks rotated by 30 degrees land, in insightface's 112 px aligned crop, on the
    template positions ArcFace was trained with."""
    template = face_align.arcface_dst
    angle = np.deg2rad(30)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    landmarks = (template - 56) @ rotation.T * 2.5 + np.array([300, 260])
    for n, expected in enumerate(template):
        canvas = np.zeros((600, 600, 3), dtype=np.uint8)  # one dot at a time: its centroid is unambiguous
        cv2.circle(canvas, (int(np.rint(landmarks[n][0])), int(np.rint(landmarks[n][1]))), 5, (255, 255, 255), -1)
        crop = face_align.norm_crop(canvas, landmark=landmarks.astype(np.float32), image_size=112)
        weight = crop[:, :, 0].astype(np.float64)
        assert weight.sum() > 0, f"landmark {n} missing from the crop"
        ys, xs = np.mgrid[: crop.shape[0], : crop.shape[1]]
        centre = ((xs * weight).sum() / weight.sum(), (ys * weight).sum() / weight.sum())
        assert np.hypot(centre[0] - expected[0], centre[1] - expected[1]) < 1.0, (n, centre, expected)


def test_a_missing_pack_names_itself_and_how_to_get_it(faces_pm, models_dir):
    from pixlstash import ModelMissing

    engine = engines_by_id(faces_pm)["faces/buffalo_l"]
    status = engine.model_status()
    assert not status.present
    assert "pixlstash models pull faces/buffalo_l" in status.how_to_get
    assert str(models_dir / "faces" / "buffalo_l") in status.how_to_get
    with pytest.raises(ModelMissing, match="buffalo_l"):
        engine.load()


def test_a_pack_in_insightfaces_own_folder_is_found(faces_pm, tmp_path):
    build_tiny_pack(tmp_path / "insightface" / "models" / "buffalo_l" / "buffalo_l")  # nested, as antelopev2 unzips
    engine = engines_by_id(faces_pm)["faces/buffalo_l"]
    assert engine.model_status().present
    assert engine.extract(pictures()[:1])[0]


def test_faces_through_the_api_with_the_real_plugin(faces_pm, tmp_path):
    from live_server import LiveServer
    from test_web_enrichment import wait_for_jobs

    from pixlstash.domain import EnrichmentSettings
    from pixlstash.library import Library

    with Library.open(tmp_path / "lib", plugin_manager=faces_pm) as library, LiveServer(library) as live:
        library.engines.configure(EnrichmentSettings(on_import=["faces"], defaults={"faces": "faces/tiny-pack"}))
        client = live.client(live.token("admin"))
        files = [("file", ("t1.jpg", (PHOTOS / "t1.jpg").read_bytes(), "image/jpeg"))]
        [picture_id] = [i["picture_id"] for i in client.post("/api/v1/uploads", files=files).json()["imported"]]
        wait_for_jobs(client, timeout=60)
        [job] = client.get("/api/v1/jobs").json()
        assert (job["engine_id"], job["state"], job["failed"]) == ("faces/tiny-pack", "done", 0)
        stored = client.get(f"/api/v1/pictures/{picture_id}").json()["faces"]
        # No preview has been viewed, so the worker fed the original, decoded at the smallest JPEG scale
        # whose short side covers the detector's 640 px; boxes come back in the original's pixels.
        assert not library.files.has_thumbnail(picture_id, "preview")
        source = Image.open(PHOTOS / "t1.jpg")
        source.draft("RGB", (640, 640))
        source = source.convert("RGB")
        expected = engines_by_id(faces_pm)["faces/tiny-pack"].extract([source])[0]
        assert len(stored) == len(expected) > 0
        scale = 1280 / source.width
        got = sorted(tuple(round(v / scale, 1) for v in f["box"]) for f in stored)
        want = sorted(tuple(round(v, 1) for v in f.box) for f in expected)
        np.testing.assert_allclose(got, want, atol=0.2)
        # Face crops: square, the face centred with a margin, from the original; immutable.
        original = Image.open(PHOTOS / "t1.jpg").convert("RGB")

        def region(box):
            x0, y0, x1, y1 = box
            side = max(x1 - x0, y1 - y0) * 1.5
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            return tuple(round(v) for v in (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2))

        inside = [
            f
            for f in stored
            if min(region(f["box"])[:2]) >= 0
            and region(f["box"])[2] <= original.width
            and region(f["box"])[3] <= original.height
        ]
        assert inside, "the tiny detector should find at least one face away from the edges"
        face = inside[0]
        crop = client.get(f"/api/v1/faces/{face['id']}/crop.webp")
        assert crop.status_code == 200 and crop.headers["content-type"] == "image/webp"
        assert "immutable" in crop.headers["cache-control"]
        again = client.get(f"/api/v1/faces/{face['id']}/crop.webp", headers={"If-None-Match": crop.headers["etag"]})
        assert again.status_code == 304
        got = np.asarray(Image.open(io.BytesIO(crop.content)).convert("RGB"), dtype=np.float64)
        want = np.asarray(
            original.crop(region(face["box"])).resize((128, 128), Image.Resampling.LANCZOS), dtype=np.float64
        )
        assert got.shape == (128, 128, 3) and np.abs(got - want).mean() < 6
        assert client.get("/api/v1/faces/999999/crop.webp").status_code == 404
        similar = client.get(f"/api/v1/search/faces/{stored[0]['id']}", params={"limit": 3})
        assert similar.status_code == 200, similar.text
        missing = client.post(
            "/api/v1/jobs", json={"task": "faces", "engine": "faces/buffalo_l", "picture_ids": [picture_id]}
        )
        crops = list(library.thumbnails.root.rglob("*.face*.webp"))
        assert len(crops) == 1
        library.edits.scrap([picture_id])
        library.purge([picture_id])
        assert not any(path.exists() for path in crops)  # purged with the picture
        assert (
            missing.status_code == 409 and "pixlstash models pull faces/buffalo_l" in missing.json()["error"]["message"]
        )


def test_the_plugin_detects_without_torch(tmp_path, models_dir):
    script = textwrap.dedent(f"""
        import sys
        from PIL import Image
        from pixlstash import make_plugin_manager
        from pixlstash.engines.registry import EngineRegistry
        import pixlstash_faces
        pm = make_plugin_manager(load_entry_points=False)
        pm.register(pixlstash_faces, name="faces")
        engine = {{e.id: e for e in EngineRegistry.from_plugin_manager(pm).all()}}["faces/tiny-pack"]
        faces = engine.extract([Image.open({str(PHOTOS / "t1.jpg")!r}).convert("RGB")])[0]
        assert faces and len(faces[0].embedding) == 512
        assert "torch" not in sys.modules, "torch was imported"
        print("ok")
    """)
    env = {
        "PIXLSTASH_MODELS_DIR": str(models_dir),
        "INSIGHTFACE_HOME": str(tmp_path / "insightface"),
        "PATH": "/usr/bin",
    }
    assert python_prints(script, env=env) == "ok"


def _compare(python: Path, pack: Path, tmp_path: Path, env: dict | None = None) -> dict:
    from consumer_venv import consumer_answer

    paths = []
    for n, image in enumerate(pictures()):
        paths.append(tmp_path / f"{n}.png")
        image.save(paths[-1])
    # Sizes in turn on one engine, as a library's jobs with different det_size do. The tiny pack's random
    # detector finds 31, 4 and 46 faces at these; at a threshold of 0.3 it found 9,637 at 320, and their
    # recognition took 24 of the comparison's 26 s. The engine that kept its first det_size fails at both.
    settings = ["640,0.5", "320,0.6", "960,0.5", "640,0.5"]
    answer, _ = consumer_answer(
        [python, Path(__file__).parent / "compare_with_insightface.py", pack, "1", *settings, "--", *paths], env=env
    )
    return answer


@pytest.mark.slow
def test_each_det_size_and_the_threads_setting_take_effect_on_insightface_2_and_0_7_3(tmp_path):
    """insightface 0.7.3's detector kept the first det_size it was prepared with, and its get_model dropped
    the session options (threads): the engine's results now equal a fresh FaceAnalysis at every det_size
    in turn, and every session runs on the threads asked for, on 2.x and on 0.7.3 alike."""
    import os
    import shutil

    from consumer_venv import CONSUMERS, REPO, consumer_python, reference

    pack = build_tiny_pack(tmp_path / "tiny-pack")
    current = _compare(Path(sys.executable), pack, tmp_path)
    # Built from a copy (pip builds in the source folder), kept beside the venvs so the venv is made once;
    # built on the venv's own Cython, numpy and setuptools, not in isolation: an isolated build installs
    # those again first, 18 of its 30 s.
    source = REPO / ".venv-consumers" / "src" / "insightface-0.7.3"
    if not source.is_dir():
        shutil.copytree(reference("insightface-0.7.3") / "python-package", source)
    old = consumer_python(
        "insightface-0.7.3",
        CONSUMERS / "insightface-0.7.3-requirements.txt",
        also=(("--no-build-isolation", str(source)),),
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    previous = _compare(old, pack, tmp_path, env)
    assert current["insightface"].startswith("2.") and previous["insightface"] == "0.7.3"
    for run in (current, previous):
        assert run["differences"] == [], run
        assert run["threads"] == [1, 1]
        assert run["faces"][0] != run["faces"][2]  # det_size changes what is found: the check has teeth


def test_a_strip_and_a_100_megapixel_picture_enrich_quietly(models_dir, tmp_path):
    """Through the real command line: a 1x100000 strip has no faces (it used to fail with a raw OpenCV
    assertion), and a picture over Pillow's own limit but within PixlStash's prints no Pillow warning."""
    from conftest import run_cli

    folder = tmp_path / "odd"
    folder.mkdir()
    Image.new("RGB", (1, 100_000), (30, 60, 90)).save(folder / "strip.png")
    Image.new("RGB", (10_000, 9_500), (90, 60, 30)).save(folder / "big.png")  # 95 MP: under our 179 MP
    env = {"PIXLSTASH_MODELS_DIR": str(models_dir), "PIXLSTASH_LIBRARY": str(tmp_path / "lib")}
    run_cli("import", str(folder), env=env)
    done = run_cli("enrich", "--engine", "faces/tiny-pack", env=env)
    assert "2 done, 0 failed" in done.stdout, done.stdout + done.stderr
    assert "Warning" not in done.stderr and "OpenCV" not in done.stderr, done.stderr
