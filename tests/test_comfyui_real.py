"""The node pack inside a real ComfyUI (``real_comfyui``, started once per session) against a real
PixlStash server with the fake engines: its declarations as ComfyUI serves them, every API workflow run
through ``/prompt`` and ``/history`` (empty results too, with ComfyUI's own PreviewImage and SaveImage and
the pack's Saver downstream), and the connection the settings dialog stores."""

from __future__ import annotations

import json
import stat

import pytest
from corpus import solid
from real_comfyui import PACK, ComfyRunError
from test_comfyui_nodes import fill_library
from test_enrichment import PALETTE

pytestmark = pytest.mark.slow
API_WORKFLOWS = sorted(p.name for p in (PACK / "api_workflows").glob("*.json"))
# What a checkpoint would make in the examples that generate: not runnable here (no checkpoint exists on
# these machines), so those nodes are swapped for ComfyUI's LoadImage of the same batch, made beforehand.
GENERATING = {"CheckpointLoaderSimple", "CLIPTextEncode", "EmptyLatentImage", "KSampler", "VAEDecode"}
GENERATED = ("green", "yellow", "magenta", "cyan")
SHOWING = {"PreviewImage", "SaveImage", "PixlStashPictureSaver"}  # output nodes that show what they got


@pytest.fixture
def library_in_comfy(fake_engines, live, comfyui):
    """The examples' library, and the real ComfyUI connected to it as a person connects it."""
    admin, ids = fill_library(live)
    answer = comfyui.connect_pack(live.url, live.token("write"))
    assert answer["check"]["ok"] and answer["check"]["scope"] == "write", answer
    frames = [solid(64, 64, PALETTE[name]) for name in GENERATED]
    frames[0].save(comfyui.base / "input" / "generations.tiff", save_all=True, append_images=frames[1:])
    solid(80, 80, PALETTE["blue"]).save(comfyui.base / "input" / "reference.png")
    return admin, ids


def api_workflow(name: str) -> dict:
    """An example as queued here: its generating nodes replaced by a LoadImage of ``GENERATED``."""
    graph = json.loads((PACK / "api_workflows" / name).read_text())
    decoders = [key for key, node in graph.items() if node["class_type"] == "VAEDecode"]
    for key in [k for k, node in graph.items() if node["class_type"] in GENERATING]:
        del graph[key]
    for key in decoders:
        graph[key] = {"class_type": "LoadImage", "inputs": {"image": "generations.tiff"}}
    return graph


def images_shown(entry: dict, node: str) -> list[dict]:
    return entry["outputs"].get(node, {}).get("images", [])


def test_comfyui_serves_every_node_as_declared(comfyui):
    info = comfyui.get("/object_info").json()
    ours = {name: node for name, node in info.items() if name.startswith("PixlStash")}
    readme = (PACK / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| **PixlStash")]
    named = lambda display: any(display in row or display.rsplit(" ", 1)[-1] in row.split("|")[1] for row in rows)  # noqa: E731
    assert len(ours) == 9 and all(named(node["display_name"]) for node in ours.values())
    assert "IMPORT FAILED" not in comfyui.log.read_text().split("comfyui-pixlstash")[0][-200:]
    for name, node in ours.items():
        assert node["python_module"] == "custom_nodes.comfyui-pixlstash" and node["category"].startswith("PixlStash")
        for section in node["input"].values():
            for input_name, spec in section.items():
                if input_name == "seed":  # no "randomize after generate": a random sort stays put
                    assert spec[1]["control_after_generate"] is False, name
    saver = ours["PixlStashPictureSaver"]
    assert saver["output_node"] and saver["input"]["hidden"] == {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"}
    assert ours["PixlStashLikenessGate"]["output"] == ["IMAGE", "IMAGE", "STRING", "INT"]


@pytest.mark.parametrize("name", API_WORKFLOWS)
def test_every_api_workflow_runs_in_comfyui(library_in_comfy, comfyui, name):
    graph = api_workflow(name)
    entry = comfyui.run(graph)
    shown = {key: images_shown(entry, key) for key, node in graph.items() if node["class_type"] in SHOWING}
    assert shown and all(shown.values()), shown


def gate_graph(threshold: float, downstream: str) -> dict:
    """Generations through the Likeness Gate by likeness to every picture of the set Best (red, yellow: none
    of the generations is like both), ``downstream`` on both outputs."""
    graph = {
        "1": {"class_type": "LoadImage", "inputs": {"image": "generations.tiff"}},
        "2": {"class_type": "PixlStashSetPicker", "inputs": {"set": "Best  #1"}},
        "3": {
            "class_type": "PixlStashLikenessGate",
            "inputs": {
                "images": ["1", 0], "references": ["2", 0], "mode": "picture_likeness", "combine": "min",
                "threshold": threshold, "engine": "default",
            },
        },
    }  # fmt: skip
    for n, output in ((4, 0), (5, 1)):
        inputs = {"images": ["3", output]}
        if downstream == "SaveImage":
            inputs["filename_prefix"] = f"gate{output}"
        if downstream == "PixlStashPictureSaver":
            inputs.update(filename_prefix=f"gate{output}", tags="gated")
        graph[str(n)] = {"class_type": downstream, "inputs": inputs}
    return graph


@pytest.mark.parametrize("downstream", ["PreviewImage", "SaveImage", "PixlStashPictureSaver"])
@pytest.mark.parametrize("threshold", [-1.0, 1.0])
def test_a_gate_that_passes_all_or_nothing_leaves_downstream_nodes_quiet(
    library_in_comfy, comfyui, downstream, threshold
):
    admin, _ = library_in_comfy
    before = len(admin.get("/api/v1/pictures", params={"limit": 1000}).json()["items"])
    entry = comfyui.run(gate_graph(threshold, downstream))  # raises on any failed node
    full, empty = ("4", "5") if threshold < 0 else ("5", "4")
    assert len(images_shown(entry, full)) == len(GENERATED) and empty not in entry["outputs"]
    after = len(admin.get("/api/v1/pictures", params={"limit": 1000}).json()["items"])
    assert after - before == (len(GENERATED) if downstream == "PixlStashPictureSaver" else 0)


def test_searches_and_loaders_that_find_nothing_leave_downstream_nodes_quiet(library_in_comfy, comfyui):
    graph = {
        "1": {
            "class_type": "PixlStashSemanticSearch",
            "inputs": {
                "text": "a red picture", "threshold": 0.999, "limit": 3, "engine": "default",
                "batch_rule": "pad to largest",
            },
        },
        "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "none"}},
        "4": {
            "class_type": "PixlStashPictureLoader",
            "inputs": {
                "tags": "no-such-tag", "min_rating": 0, "sort": "random", "descending": True, "limit": 4, "seed": 3,
                "batch_rule": "pad to largest",
            },
        },
        "5": {
            "class_type": "PixlStashPictureSaver",
            "inputs": {"images": ["4", 0], "filename_prefix": "x", "tags": ""},
        },
        "6": {
            "class_type": "PixlStashPictureList",
            "inputs": {
                "tags": "no-such-tag", "min_rating": 0, "sort": "random", "descending": True, "limit": 4, "seed": 3,
            },
        },
        "7": {"class_type": "ImageInvert", "inputs": {"image": ["6", 0]}},
        "8": {"class_type": "PreviewImage", "inputs": {"images": ["7", 0]}},
        "9": {"class_type": "PreviewImage", "inputs": {"images": ["4", 0]}},
    }  # fmt: skip
    entry = comfyui.run(graph)
    assert not any(entry["outputs"].get(key) for key in ("2", "3", "5", "8", "9")), entry["outputs"]


def test_the_connection_lives_where_comfyui_does_not_serve_it(library_in_comfy, comfyui, live):
    token = live.token("read")
    answer = comfyui.connect_pack(live.url, token)
    assert answer["token"] == f"…{token[-4:]}" and answer["check"]["scope"] == "read"
    stored = comfyui.base / "user" / "pixlstash" / "connection.json"
    assert json.loads(stored.read_text()) == {"url": live.url, "token": token}
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    everything_served = [
        comfyui.get("/settings").text,
        comfyui.get("/pixlstash/connection").text,
        comfyui.get("/userdata", dir="", recurse="true").text,
        comfyui.get("/userdata/..%2Fpixlstash%2Fconnection.json").text,
        comfyui.get("/api/userdata/pixlstash%2Fconnection.json").text,
    ]
    assert not any(token in text for text in everything_served)
    # A new URL without a token forgets the token: nobody can send it to a server of theirs.
    moved = comfyui.connect_pack("http://127.0.0.1:9", None)
    assert moved["token"] is None and "no PixlStash token" in moved["check"]["message"]
    assert comfyui.post("/pixlstash/connection", {"url": "file:///etc/passwd"}).status_code == 400
    assert comfyui.post("/pixlstash/connection", ["not", "an", "object"]).status_code == 400
    comfyui.connect_pack(live.url, live.token("write"))


def test_a_failing_node_says_one_clear_line_in_comfyui(library_in_comfy, comfyui, live):
    graph = {
        "1": {"class_type": "PixlStashPictureLoader", "inputs": {
            "tags": "", "min_rating": 0, "sort": "taken_at", "descending": True, "limit": 2, "seed": 0,
            "batch_rule": "pad to largest", "picture_ids": "1, 2"}},
        "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}},
    }  # fmt: skip
    assert len(images_shown(comfyui.run(graph), "2")) == 2
    comfyui.connect_pack(live.url, "pxl_not_a_real_token_at_all")
    with pytest.raises(ComfyRunError) as refused:
        comfyui.run(graph)
    assert str(refused.value).splitlines()[0] == (
        "PixlStashPictureLoader failed: pixlstash.PixlStashError: PixlStash did not accept the token (401): create "
        "one with `pixlstash token create` and enter it in ComfyUI's settings (PixlStash), or set PIXLSTASH_TOKEN"
    )
    comfyui.connect_pack(live.url, live.token("write"))
