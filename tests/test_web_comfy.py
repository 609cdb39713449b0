"""ComfyUI from the library over the API, against a real uvicorn server and the session's real ComfyUI:
linking hands the node pack a token of its own, remixes and runs are worked by the server's runner and
come back stacked, cancel and scopes hold; and the stack edits, each one undo step."""

from __future__ import annotations

import time

import pytest
from corpus import solid
from test_comfy_runs import INVERT, NOISE, made_by_comfyui

pytestmark = pytest.mark.slow


@pytest.fixture
def served(live, comfyui, tmp_path):
    """A server whose library has a ComfyUI-made picture, and an admin client."""
    made = tmp_path / "ComfyUI_00001_.png"
    made.write_bytes(made_by_comfyui(comfyui, NOISE))
    source = live.library.import_paths([made]).imported[0].picture_id
    return live, live.client(live.token("admin")), source


def finished(client, run_id: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/api/v1/comfy/runs/{run_id}").json()
        if run["status"] not in ("queued", "running"):
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish: {run}")


def test_linking_a_comfyui_gives_its_nodes_a_token_of_their_own(served, comfyui):
    live, admin, _ = served
    answer = admin.post("/api/v1/comfy/links", json={"url": comfyui.url, "pixlstash_url": live.url})
    assert answer.status_code == 201, answer.text
    linked = answer.json()
    assert linked["pack_configured"] and linked["comfyui_version"] and linked["link"]["url"] == comfyui.url
    token = next(t for t in admin.get("/api/v1/tokens").json() if t["id"] == linked["link"]["token_id"])
    assert token["scope"] == "write" and token["name"] == f"ComfyUI at {comfyui.url}"
    connection = comfyui.get("/pixlstash/connection").json()
    assert connection["url"] == live.url and connection["token"].startswith("…")
    # The pack works with it: its loader reads this library.
    graph = {
        "1": {"class_type": "PixlStashPictureLoader", "inputs": {
            "tags": "", "min_rating": 0, "sort": "taken_at", "descending": True, "limit": 1, "seed": 0,
            "batch_rule": "pad to largest"}},
        "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}},
    }  # fmt: skip
    assert comfyui.run(graph)["outputs"]["2"]["images"]
    assert admin.get("/api/v1/comfy/links").json() == [linked["link"]]
    unreachable = admin.post("/api/v1/comfy/links", json={"url": "http://127.0.0.1:9"})
    assert unreachable.status_code == 502 and unreachable.json()["error"]["code"] == "comfy_unreachable"
    assert admin.post("/api/v1/comfy/links", json={"url": "javascript:alert(1)"}).status_code == 400
    # Unlinking revokes the token: the pack is refused from then on.
    assert admin.delete(f"/api/v1/comfy/links/{linked['link']['id']}").status_code == 204
    assert next(t for t in admin.get("/api/v1/tokens").json() if t["id"] == token["id"])["revoked"]
    with pytest.raises(AssertionError, match="did not accept the token"):
        comfyui.run(graph)


def test_remix_and_run_over_the_api_come_back_stacked(served, comfyui, tmp_path):
    live, admin, source = served
    assert admin.post("/api/v1/comfy/links", json={"url": comfyui.url, "pixlstash_url": live.url}).status_code == 201
    reader = live.client(live.token("read"))
    assert reader.post("/api/v1/comfy/remix", json={"picture_id": source}).status_code == 403
    queued = admin.post("/api/v1/comfy/remix", json={"picture_id": source, "seed": 42})
    assert queued.status_code == 202 and queued.json()["status"] in ("queued", "running")
    run = finished(admin, queued.json()["id"])
    assert run["status"] == "done" and len(run["output_ids"]) == 1, run
    tiles = admin.get("/api/v1/pictures", params={"stack_covers": "true"}).json()["items"]
    assert [(t["id"], t["stack_size"]) for t in tiles] == [(source, 2)]
    members = admin.get("/api/v1/pictures", params={"stack": tiles[0]["stack_id"]}).json()["items"]
    assert sorted(m["id"] for m in members) == sorted([source, *run["output_ids"]])
    photo = tmp_path / "photo.png"
    solid(40, 30, (10, 120, 240)).save(photo)
    photo_id = live.library.import_paths([photo]).imported[0].picture_id
    runs = admin.post("/api/v1/comfy/runs", json={"picture_ids": [photo_id], "workflow": INVERT})
    assert runs.status_code == 202, runs.text
    done = finished(admin, runs.json()[0]["id"])
    assert done["status"] == "done" and done["source_id"] == photo_id
    refused = admin.post(
        "/api/v1/comfy/runs",
        json={"picture_ids": [photo_id], "workflow": {**INVERT, "9": {"class_type": "Nope", "inputs": {}}}},
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "workflow_refused"
    assert "Nope" in refused.json()["error"]["details"]["problems"][0]
    events = admin.get("/api/v1/comfy/runs").json()
    assert [r["status"] for r in events] == ["done", "done"]


def test_stack_edits_over_the_api_each_undo_in_one_step(live, tmp_path):
    admin = live.client(live.token("admin"))
    paths = []
    for n in range(4):
        path = tmp_path / f"{n}.png"
        solid(30 + n, 30, (40 * n, 90, 200)).save(path)
        paths.append(path)
    ids = sorted(p.picture_id for p in live.library.import_paths(paths).imported)
    made = admin.post("/api/v1/stacks", json={"ids": ids[:3], "cover_id": ids[1]})
    assert made.status_code == 201 and made.json()["member_ids"] == [ids[1], ids[0], ids[2]]
    stack = made.json()["id"]

    def tiles() -> list[tuple[int, int]]:
        query = {"stack_covers": "true", "sort": "imported_at", "descending": "false"}
        return sorted((t["id"], t["stack_size"]) for t in admin.get("/api/v1/pictures", params=query).json()["items"])

    assert tiles() == [(ids[1], 3), (ids[3], 0)]
    assert len(admin.get("/api/v1/pictures").json()["items"]) == 4  # elsewhere, a stack counts as its members
    assert admin.put(f"/api/v1/stacks/{stack}/cover", json={"picture_id": ids[2]}).json()["cover_id"] == ids[2]
    assert admin.put(f"/api/v1/stacks/{stack}/cover", json={"picture_id": ids[3]}).status_code == 400
    assert admin.post("/api/v1/stacks/take-out", json={"ids": [ids[2]]}).json() == {"ids": [ids[2]]}
    assert admin.get(f"/api/v1/stacks/{stack}").json()["member_ids"] == [ids[0], ids[1]]  # the next cover
    scrapped = admin.post(f"/api/v1/stacks/{stack}/keep-cover").json()["ids"]
    assert scrapped == [ids[1]] and len(admin.get("/api/v1/pictures").json()["items"]) == 3
    undone = admin.post("/api/v1/history/undo").json()
    assert undone["label"].startswith("Keep the cover of a stack")
    assert admin.get(f"/api/v1/stacks/{stack}").json()["member_ids"] == [ids[0], ids[1]]
    assert len(admin.get("/api/v1/pictures").json()["items"]) == 4
    admin.post("/api/v1/history/undo")  # the take-out
    admin.post("/api/v1/history/undo")  # the cover
    assert admin.get(f"/api/v1/stacks/{stack}").json()["cover_id"] == ids[1]
    assert admin.delete(f"/api/v1/stacks/{stack}").json()["ids"] == [ids[1], ids[0], ids[2]]
    assert tiles() == [(i, 0) for i in ids]
    assert admin.post("/api/v1/stacks", json={"ids": [ids[0]]}).status_code == 400
    assert admin.post("/api/v1/stacks", json={"ids": [ids[0], 99999]}).status_code == 404


def test_a_stack_without_a_cover_named_is_under_the_first_picture_given(live, tmp_path):
    paths = []
    for n in range(2):
        path = tmp_path / f"{n}.png"
        solid(30, 30 + n, (90, 40 * n, 200)).save(path)
        paths.append(path)
    low, high = sorted(p.picture_id for p in live.library.import_paths(paths).imported)
    made = live.client(live.token("write")).post("/api/v1/stacks", json={"ids": [high, low]}).json()
    assert made["cover_id"] == high and made["member_ids"] == [high, low]
