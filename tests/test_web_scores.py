"""Scores over the real HTTP API: a scorer job, the score sort (pages and the grid's layout), range filters,
statistics, prune (a dry run, then one undoable step), who may prune, and shares that never show scores."""

from __future__ import annotations

import io
import struct

import pytest
from test_scores import degraded
from test_web_enrichment import wait_for_jobs


@pytest.fixture
def scored(live):
    client = live.client(live.token("admin"))
    files = []
    for name, image in degraded(4).items():
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        files.append(("file", (f"{name}.png", buffer.getvalue(), "image/png")))
    imported = client.post("/api/v1/uploads", files=files).json()["imported"]
    ids = {item["path"].removesuffix(".png"): item["picture_id"] for item in imported}
    job = client.post("/api/v1/jobs", json={"task": "scorer", "engine": "pixlstash/quality"})
    assert job.status_code == 202, job.text
    wait_for_jobs(client)
    values = {}
    for name, picture_id in ids.items():
        (score,) = client.get(f"/api/v1/pictures/{picture_id}").json()["scores"]
        values[name] = score["value"]
    return client, ids, values


def test_the_score_sort_pages_and_lays_out_the_grid_best_first(scored):
    client, ids, values = scored
    ranked = [ids[n] for n in sorted(values, key=values.get, reverse=True)]
    page = client.get("/api/v1/pictures", params={"sort": "score:pixlstash/quality", "limit": 3}).json()
    assert [p["id"] for p in page["items"]] == ranked[:3]
    assert [p["score"] for p in page["items"]] == pytest.approx(sorted(values.values(), reverse=True)[:3])
    rest = client.get(
        "/api/v1/pictures", params={"sort": "score:pixlstash/quality", "limit": 3, "cursor": page["next_cursor"]}
    ).json()
    assert [p["id"] for p in rest["items"]] == ranked[3:]
    layout = client.get("/api/v1/pictures/layout", params={"sort": "score:pixlstash/quality"}).content
    (count,) = struct.unpack_from("<I", layout)
    assert list(struct.unpack_from(f"<{count}I", layout, 4)) == ranked
    worst = client.get("/api/v1/pictures", params={"sort": "score:pixlstash/quality", "descending": "false"}).json()
    assert [p["id"] for p in worst["items"]] == ranked[::-1]
    assert client.get("/api/v1/pictures", params={"sort": "score:"}).status_code in (400, 422)
    assert client.get("/api/v1/pictures", params={"sort": "score:x'--/y"}).status_code in (400, 422)


def test_a_score_range_filters_and_the_statistics_hold_a_histogram(scored):
    client, ids, values = scored
    cut = sorted(values.values())[2]
    upper = client.get("/api/v1/pictures", params={"score_engine": "pixlstash/quality", "score_min": cut}).json()
    assert {p["id"] for p in upper["items"]} == {ids[n] for n in values if values[n] >= cut}
    stats = client.get("/api/v1/pictures/stats").json()
    (histogram,) = stats["scores"]
    assert histogram["engine_id"] == "pixlstash/quality" and sum(histogram["buckets"]) == 4
    refused = client.get("/api/v1/pictures", params={"score_min": 0.5})
    assert refused.status_code == 400 and "score_engine" in refused.text
    not_a_number = {"score_engine": "pixlstash/quality", "score_min": "nan"}
    assert client.get("/api/v1/pictures", params=not_a_number).status_code in (400, 422)


def test_prune_says_which_then_scraps_them_in_one_undoable_step(scored, live):
    client, ids, values = scored
    lowest = [ids[n] for n in sorted(values, key=values.get)[:2]]
    body = {"engine_id": "pixlstash/quality", "lowest": 2, "dry_run": True}
    preview = client.post("/api/v1/pictures/prune", json=body).json()
    assert preview["picture_ids"] == lowest and preview["dry_run"] is True
    assert preview["scores"] == sorted(values.values())[:2]
    assert client.get("/api/v1/pictures", params={"limit": 10}).json()["items"].__len__() == 4
    reader = live.client(live.token("read"))
    assert reader.post("/api/v1/pictures/prune", json={**body, "dry_run": False}).status_code == 403
    done = client.post("/api/v1/pictures/prune", json={**body, "dry_run": False}).json()
    assert sorted(done["picture_ids"]) == sorted(lowest) and done["dry_run"] is False
    live_ids = {p["id"] for p in client.get("/api/v1/pictures").json()["items"]}
    assert live_ids == set(ids.values()) - set(lowest)
    history = client.get("/api/v1/history").json()
    assert history["steps"][0]["label"] == "Scrap the 2 lowest by pixlstash/quality"
    assert client.post("/api/v1/history/undo").status_code == 200
    assert {p["id"] for p in client.get("/api/v1/pictures").json()["items"]} == set(ids.values())
    assert client.post("/api/v1/pictures/prune", json={"engine_id": "pixlstash/quality"}).status_code == 400
    assert client.post("/api/v1/pictures/prune", json={"engine_id": "bad id", "lowest": 1}).status_code in (400, 422)


def test_a_share_neither_sorts_nor_filters_by_scores(scored, live):
    client, ids, _ = scored
    shared = client.post("/api/v1/shares", json={"scope_type": "pictures", "picture_ids": list(ids.values())})
    assert shared.status_code == 201, shared.text
    base = f"/api/v1/shared/{shared.json()['token']}"
    guest = live.client(None)
    assert guest.get(f"{base}/pictures").status_code == 200
    assert "score" not in guest.get(f"{base}/pictures").json()["items"][0]
    assert guest.get(f"{base}/pictures", params={"sort": "score:pixlstash/quality"}).status_code == 400
    assert guest.get(f"{base}/pictures", params={"score_engine": "pixlstash/quality"}).status_code == 400
