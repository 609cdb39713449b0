"""Engines, jobs and search through the real HTTP API, with the server's own enrichment worker."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from corpus import solid
from test_enrichment import PALETTE

from pixlstash.engines import Embedder, FaceExtractor, ModelStatus
from pixlstash.errors import ModelMissing
from pixlstash.hookspecs import hookimpl


def upload_colours(client, names) -> dict[str, int]:
    files = []
    for n, name in enumerate(names):
        buffer = io.BytesIO()
        solid(120 + n, 90, PALETTE[name]).save(buffer, "PNG")
        files.append(("file", (f"{name}.png", buffer.getvalue(), "image/png")))
    response = client.post("/api/v1/uploads", files=files)
    assert response.status_code == 200, response.text
    return {item["path"].removesuffix(".png"): item["picture_id"] for item in response.json()["imported"]}


def wait_for_jobs(client, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not client.get("/api/v1/jobs", params={"open_only": True}).json():
            return
        time.sleep(0.05)
    raise AssertionError(f"jobs still open: {client.get('/api/v1/jobs').json()}")


@pytest.fixture
def api(fake_engines, live):
    client = live.client(live.token("admin"))
    ids = upload_colours(client, ("red", "green", "blue", "yellow", "magenta"))
    wait_for_jobs(client)
    return client, ids, live


def test_engines_are_listed_per_task_with_defaults_and_settings_change(api):
    client, _, live = api
    engines = {e["id"]: e for e in client.get("/api/v1/engines").json()}
    assert {e["task"] for e in engines.values()} == {"embedder", "tagger", "captioner", "faces", "scorer"}
    colour = engines["fake/colour"]
    assert colour["is_default"] and colour["dimensions"] == 4 and colour["supports_text"] is True
    assert colour["model"]["present"] is True and colour["loaded"] is True and colour["device"] == "cpu"
    assert engines["fake/captioner"]["parameters"][0]["name"] == "prompt"
    settings = client.get("/api/v1/engines/settings").json()
    assert settings["on_import"] == ["embedder", "tagger", "faces"] and settings["device"] == "auto"
    response = client.put("/api/v1/engines/settings", json={"on_import": ["embedder"], "device": "cpu"})
    assert response.status_code == 200 and response.json()["on_import"] == ["embedder"]
    assert live.client(live.token("write")).put("/api/v1/engines/settings", json={}).status_code == 403
    assert client.put("/api/v1/engines/settings", json={"defaults": {"tagger": "nope/x"}}).status_code == 404
    assert client.put("/api/v1/engines/settings", json={"device": "tpu"}).status_code == 422


def test_imports_are_enriched_by_the_server_and_searchable(api):
    client, ids, _ = api
    jobs = client.get("/api/v1/jobs").json()
    assert {(j["task"], j["state"], j["done"]) for j in jobs} == {
        ("embedder", "done", 5),
        ("tagger", "done", 5),
        ("faces", "done", 5),
    }
    result = client.get("/api/v1/search/semantic", params={"q": "red", "limit": 3}).json()
    assert result["engine_id"] == "fake/colour"
    assert next(h["picture"]["id"] for h in result["hits"]) == ids["red"]
    assert len(result["hits"]) == 3 and result["hits"][0]["similarity"] > 0.99
    similar = client.post(
        "/api/v1/search/similar", json={"picture_ids": [ids["red"], ids["green"]], "combine": "min"}
    ).json()
    assert similar["hits"][0]["picture"]["id"] == ids["yellow"]
    assert ids["red"] not in {h["picture"]["id"] for h in similar["hits"]}
    tagged = client.get("/api/v1/search/semantic", params={"q": "red", "tags": "blue"}).json()  # filters apply
    assert {h["picture"]["id"] for h in tagged["hits"]} <= {ids["blue"], ids["magenta"]}
    picture = client.get(f"/api/v1/pictures/{ids['red']}").json()
    assert {p["name"] for p in picture["predictions"]} == {"red", "dark"}


def test_search_by_uploaded_images_and_bad_uploads(api):
    client, ids, _ = api
    buffer = io.BytesIO()
    solid(80, 80, (5, 5, 240)).save(buffer, "JPEG")
    response = client.post(
        "/api/v1/search/similar/upload", files=[("file", ("q.jpg", buffer.getvalue()))], data={"limit": "2"}
    )
    assert response.status_code == 200, response.text
    assert next(h["picture"]["id"] for h in response.json()["hits"]) == ids["blue"]
    assert len(response.json()["hits"]) == 2
    bad = client.post("/api/v1/search/similar/upload", files=[("file", ("q.jpg", b"not an image"))])
    assert bad.status_code == 415 and bad.json()["error"]["code"]
    truncated = client.post("/api/v1/search/similar/upload", files=[("file", ("q.jpg", buffer.getvalue()[:200]))])
    assert truncated.status_code == 400
    fields = client.post(
        "/api/v1/search/similar/upload", files=[("file", ("q.jpg", buffer.getvalue()))], data={"combine": "max"}
    )
    assert fields.status_code == 400
    assert list((client_library(api).tmp).iterdir()) == []  # uploaded query images never stay behind


def client_library(api):
    return api[2].library


def test_bad_search_requests_answer_clear_errors(api):
    client, _ids, _ = api
    assert client.get("/api/v1/search/semantic").status_code == 422
    assert client.get("/api/v1/search/semantic", params={"q": "red", "threshold": 2}).status_code == 422
    assert client.get("/api/v1/search/semantic", params={"q": "red", "engine": "nope/x"}).status_code == 404
    assert client.post("/api/v1/search/similar", json={"picture_ids": []}).status_code == 422
    assert client.post("/api/v1/search/similar", json={"picture_ids": [999999]}).status_code == 404
    assert client.get("/api/v1/search/faces/999999").status_code == 404


def test_jobs_are_queued_for_a_selection_watched_cancelled_and_retried(api):
    client, ids, _ = api
    response = client.post(
        "/api/v1/jobs",
        json={"task": "captioner", "picture_ids": [ids["red"], ids["blue"]], "parameters": {"prompt": "style"}},
    )
    assert response.status_code == 202
    job = response.json()["job"]
    assert job["engine_id"] == "fake/captioner" and job["total"] == 2
    wait_for_jobs(client)
    detail = client.get(f"/api/v1/jobs/{job['id']}").json()
    assert detail["job"]["state"] == "done" and detail["errors"] == []
    captions = client.get(f"/api/v1/pictures/{ids['red']}").json()["captions"]
    assert captions[0]["text"] == "a red picture, 120x90 (style)"
    again = client.post("/api/v1/jobs", json={"task": "embedder", "picture_ids": [ids["red"]]})
    assert again.status_code == 202 and again.json() == {"job": None}  # already done by this engine version
    assert client.post("/api/v1/jobs", json={"task": "captioner", "parameters": {"temperature": 1}}).status_code == 400
    assert client.post("/api/v1/jobs", json={"task": "tagger", "engine": "nope/none"}).status_code == 404
    assert client.post("/api/v1/jobs", json={"task": "painter"}).status_code == 422
    assert client.post("/api/v1/jobs/999999/cancel").status_code == 404
    cancelled = client.post(f"/api/v1/jobs/{job['id']}/cancel").json()
    assert cancelled["state"] == "done"  # finished jobs stay finished
    progress = client.get("/api/v1/jobs/progress").json()
    assert progress == []  # nothing open


class AbsentModel(Embedder):
    id = "absent/clip"
    dimensions = 4

    def embed_texts(self, texts):
        raise AssertionError("unreachable without a model")

    def embed_images(self, images):
        raise AssertionError("unreachable without a model")

    def load(self, device="cpu"):
        raise ModelMissing(
            "the model absent/clip is not on this machine: run `pixlstash models pull absent/clip` "
            "on a machine with internet, or copy its files to /models/absent"
        )


class AbsentPlugin:
    @hookimpl
    def register_embedders(self, register):
        register(AbsentModel())


def test_a_missing_model_answers_409_with_how_to_get_it(api, plugin_manager):
    client, _, _ = api
    plugin_manager.register(AbsentPlugin(), name="absent")
    response = client.get("/api/v1/search/semantic", params={"q": "red", "engine": "absent/clip"})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "model_missing" and "pixlstash models pull absent/clip" in error["message"]


class AbsentFaceModel(FaceExtractor):
    id = "absent/faces"
    dimensions = 4

    def model_status(self):
        how = "run `pixlstash models pull absent/faces` on a machine with internet"
        return ModelStatus(model="absent-face-model", present=False, how_to_get=how)

    def extract(self, images):
        raise AssertionError("unreachable without a model")


class AbsentFacesPlugin:
    @hookimpl
    def register_face_extractors(self, register):
        register(AbsentFaceModel())


def test_face_search_by_a_character_without_the_face_model_says_how_to_get_it(api, plugin_manager):
    client, ids, _ = api
    plugin_manager.register(AbsentFacesPlugin(), name="absent-faces")
    alice = client.post("/api/v1/characters", json={"name": "Alice"}).json()
    client.post(f"/api/v1/characters/{alice['id']}/pictures", json={"ids": [ids["red"]]}).raise_for_status()
    body = {"mode": "face_search", "collection_ids": [alice["id"]], "engine": "absent/faces"}
    response = client.post("/api/v1/search/likeness", json=body)
    error = response.json()["error"]
    assert response.status_code == 409 and error["code"] == "model_missing", error
    assert "pixlstash models pull absent/faces" in error["message"] and "enrich" not in error["message"]


def test_share_recipients_search_only_inside_the_share(api):
    _client, ids, live = api
    shared_set = live.library.organise.create_collection("set", "Shared")
    live.library.organise.add_members(shared_set.id, [ids["blue"], ids["green"]])
    _, secret = live.state.shares.create("set", shared_set.id)
    anonymous = live.client()
    result = anonymous.get(f"/api/v1/shared/{secret}/search/semantic", params={"q": "red"}).json()
    assert {h["picture"]["id"] for h in result["hits"]} == {ids["blue"], ids["green"]}
    escape = anonymous.get(
        f"/api/v1/shared/{secret}/search/semantic", params={"q": "red", "ids": [ids["red"], ids["blue"]]}
    ).json()
    assert ids["red"] not in {h["picture"]["id"] for h in escape["hits"]}  # asking for ids cannot widen the scope
    similar = anonymous.post(f"/api/v1/shared/{secret}/search/similar", json={"picture_ids": [ids["blue"]]}).json()
    assert [h["picture"]["id"] for h in similar["hits"]] == [ids["green"]]
    outside = anonymous.post(f"/api/v1/shared/{secret}/search/similar", json={"picture_ids": [ids["red"]]})
    assert outside.status_code == 404
    assert anonymous.get("/api/v1/search/semantic", params={"q": "red"}).status_code == 401
    assert np.isfinite(result["hits"][0]["similarity"])


def test_grid_badges_give_tiles_their_tags_suggestions_and_faces(api):
    client, ids, live = api
    for picture_id, tags in ((ids["red"], ["common", "rare"]), (ids["green"], ["common"])):
        assert client.patch(f"/api/v1/pictures/{picture_id}", json={"add_tags": tags}).status_code == 200
    assert client.patch(f"/api/v1/pictures/{ids['green']}", json={"caption": "grass"}).status_code == 200
    response = client.get("/api/v1/pictures/badges", params={"ids": [ids["green"], ids["red"], 999_999]})
    assert response.status_code == 200, response.text
    badges = {b["id"]: b for b in response.json()}
    assert set(badges) == {ids["red"], ids["green"]}  # a picture that does not exist is left out
    assert badges[ids["red"]] == {
        "id": ids["red"],
        "tags": ["rare", "common"],
        "tag_count": 2,  # rarest first
        "suggestion_count": 2,
        "face_count": 1,
        "named_face_count": 0,
        "has_caption": False,
    }
    assert badges[ids["green"]]["has_caption"] is True and badges[ids["green"]]["tags"] == ["common"]
    reader = live.client(live.token("read"))
    assert reader.get("/api/v1/pictures/badges", params={"ids": [ids["red"]]}).status_code == 200
    assert live.client().get("/api/v1/pictures/badges", params={"ids": [ids["red"]]}).status_code == 401
    assert client.get("/api/v1/pictures/badges").status_code == 422
    assert client.get("/api/v1/pictures/badges", params={"ids": list(range(1, 1002))}).status_code == 422
    assert client.get("/api/v1/pictures/badges", params={"ids": ["x"]}).status_code == 422
