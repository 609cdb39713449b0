"""The ComfyUI node pack, loaded and run the way ComfyUI loads and runs it (``comfy_harness``), against a
real PixlStash server with the fake engines: every declaration meets ComfyUI's contract, every example
workflow runs, results equal the server's own searches, and every failure is one clear line."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from comfy_harness import ComfyEnvironment, GraphError, contract_problems, load_pack, run_graph
from corpus import solid
from PIL import Image
from test_enrichment import PALETTE
from test_web_enrichment import AbsentPlugin, upload_colours, wait_for_jobs

torch = pytest.importorskip("torch")

PACK = Path(__file__).resolve().parent.parent / "comfyui-pixlstash"
NAMES = ("red", "green", "blue", "yellow", "magenta", "cyan", "white")


def fill_library(live) -> tuple:
    """A library the examples fit: project 1 "Portraits" (every picture), set 1 "Best" (red, yellow),
    character 2 "Alice" (the magenta picture's face). (admin client, picture ids by colour)"""
    admin = live.client(live.token("admin"))
    ids = upload_colours(admin, NAMES)
    wait_for_jobs(admin)
    project = admin.post("/api/v1/projects", json={"name": "Portraits"}).json()
    admin.post(f"/api/v1/projects/{project['id']}/pictures", json={"ids": list(ids.values())}).raise_for_status()
    best = admin.post("/api/v1/sets", json={"name": "Best"}).json()
    admin.post(f"/api/v1/sets/{best['id']}/pictures", json={"ids": [ids["red"], ids["yellow"]]}).raise_for_status()
    alice = admin.post("/api/v1/characters", json={"name": "Alice"}).json()
    assert (project["id"], best["id"], alice["id"]) == (1, 1, 2)
    face = live.library.db.query("SELECT id FROM faces WHERE picture_id = ?", (ids["magenta"],))[0][0]
    admin.patch(f"/api/v1/faces/{face}", json={"character_id": alice["id"]}).raise_for_status()
    return admin, ids


@pytest.fixture
def world(fake_engines, live, tmp_path, monkeypatch):
    """The examples' library (``fill_library``); the pack loaded in a ComfyUI folder."""
    admin, ids = fill_library(live)
    comfy = ComfyEnvironment(tmp_path / "ComfyUI")
    comfy.install()
    solid(80, 80, PALETTE["blue"]).save(comfy.root / "input" / "reference.png")
    monkeypatch.setenv("PIXLSTASH_URL", live.url)
    monkeypatch.setenv("PIXLSTASH_TOKEN", live.token("write"))
    yield types.SimpleNamespace(
        live=live, admin=admin, ids=ids, comfy=comfy, pack=load_pack(PACK), monkeypatch=monkeypatch
    )
    ComfyEnvironment.uninstall()


def nodes(pack) -> types.SimpleNamespace:
    """The pack's nodes beside stand-ins for ComfyUI's core nodes, as in a ComfyUI install."""
    import comfy_core_nodes

    return types.SimpleNamespace(
        NODE_CLASS_MAPPINGS={**comfy_core_nodes.NODE_CLASS_MAPPINGS, **pack.NODE_CLASS_MAPPINGS}
    )


def example(name: str) -> dict:  # every one runs in a real ComfyUI too: test_comfyui_real.py
    return json.loads((PACK / "api_workflows" / name).read_text())


def colour_of(image) -> str:
    """The palette colour an IMAGE tensor (one picture) is painted."""
    mean = image.reshape(-1, 3).mean(0).numpy() * 255
    return min(PALETTE, key=lambda name: float(np.abs(np.asarray(PALETTE[name]) - mean).sum()))


def server_ids(result: dict) -> list[int]:
    return [h["picture"]["id"] for h in result["hits"]]


# -- the contract ---------------------------------------------------------------------------------


def test_every_node_meets_comfyuis_contract(world):
    assert contract_problems(world.pack) == []
    assert set(world.pack.NODE_DISPLAY_NAME_MAPPINGS.values()) >= {
        "PixlStash Likeness Search",
        "PixlStash Semantic Search",
        "PixlStash Picture Saver",
        "PixlStash Picture Loader",
        "PixlStash Likeness Gate",
    }
    for cls in world.pack.NODE_CLASS_MAPPINGS.values():
        assert cls.CATEGORY.startswith("PixlStash") and "comfyui" not in cls.__name__.lower()
        specs = {**cls.INPUT_TYPES()["required"], **cls.INPUT_TYPES().get("optional", {})}
        assert not {"token", "url", "server", "api_key"} & set(specs)  # credentials are never in a workflow
    # The checker itself catches what ComfyUI would reject.
    broken = types.SimpleNamespace(
        NODE_CLASS_MAPPINGS={
            "Bad": type(
                "Bad",
                (),
                {
                    "INPUT_TYPES": classmethod(lambda c: {"required": {"x": ("INT", {"default": 9, "max": 3})}}),
                    "RETURN_TYPES": ["IMAGE"],
                    "FUNCTION": "nope",
                    "CATEGORY": 1,
                },
            )
        },
        NODE_DISPLAY_NAME_MAPPINGS={},
        __file__=str(PACK / "__init__.py"),
    )
    assert len(contract_problems(broken)) == 5


def test_the_pack_imports_without_pixlstash_installed(world):
    code = (
        "import sys; sys.modules['pixlstash'] = None; sys.modules['pixlstash_web'] = None\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from pathlib import Path; from comfy_harness import load_pack, contract_problems\n"
        f"pack = load_pack(Path({str(PACK)!r})); print(len(pack.NODE_CLASS_MAPPINGS), contract_problems(pack))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PIXLSTASH_URL": "http://127.0.0.1:9", "PIXLSTASH_TOKEN": "x"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "9 []"
    for source in PACK.glob("*.py"):
        assert "import pixlstash" not in source.read_text() and "from pixlstash" not in source.read_text()


# -- the saver ------------------------------------------------------------------------------------


def test_saver_stores_generations_with_their_workflow_filed_and_tagged(world):
    prompt = example("save_generations.json")
    workflow = {"last_node_id": 12, "nodes": [{"id": 3, "type": "KSampler"}]}
    run = run_graph(nodes(world.pack), prompt, extra_pnginfo={"workflow": workflow})
    ids = [int(i) for i in run.output("9").split(",")]
    assert len(ids) == 2
    for picture_id, colour in zip(ids, ("green", "yellow"), strict=True):  # seed 1234: palette 1234 % 7 = 2, 3
        picture = world.admin.get(f"/api/v1/pictures/{picture_id}").json()
        generation = picture["generation"]
        assert generation["checkpoint"] == "sdxl_base.safetensors" and generation["seed"] == "1234"
        assert generation["positive"] == "a lighthouse at dusk, volumetric fog" and generation["sampler"] == "dpmpp_2m"
        assert {t["name"] for t in picture["tags"]} >= {"comfyui", "lighthouse"}
        assert set(picture["collections"]) == {1, 2} and picture["projects"] == [1]
        original = world.admin.get(f"/api/v1/media/{picture['content_hash']}/original").content
        with Image.open(io.BytesIO(original)) as png:  # embedded exactly as ComfyUI's SaveImage does
            assert png.text["prompt"] == json.dumps(prompt) and png.text["workflow"] == json.dumps(workflow)
            assert colour_of(torch.from_numpy(np.asarray(png.convert("RGB"), np.float32) / 255)) == colour
    [ui] = run.ui["9"]
    assert len(ui["images"]) == 2 and all((world.comfy.root / "temp" / i["filename"]).is_file() for i in ui["images"])


def test_saver_honours_disable_metadata_and_refuses_a_read_token(world):
    world.comfy.disable_metadata = True
    world.comfy.install()
    prompt = example("save_generations.json")
    prompt["3"]["inputs"]["seed"] = 40
    run = run_graph(nodes(world.pack), prompt, extra_pnginfo={"workflow": {}})
    first = int(run.output("9").split(",")[0])
    picture = world.admin.get(f"/api/v1/pictures/{first}").json()
    assert picture["generation"] is None
    world.monkeypatch.setenv("PIXLSTASH_TOKEN", world.live.token("read"))
    error = one_line_error(lambda: run_graph(nodes(world.pack), example("save_generations.json")))
    assert "needs a token with the write scope" in error


# -- searches -------------------------------------------------------------------------------------


def likeness_graph(**inputs) -> dict:
    base = {
        "mode": "picture_likeness",
        "combine": "mean",
        "threshold": -1.0,
        "limit": 10,
        "sample": 0,
        "seed": 0,
        "engine": "default",
        "batch_rule": "pad to largest",
    }
    return {"1": {"class_type": "PixlStashLikenessSearch", "inputs": {**base, **inputs}}}


@pytest.mark.parametrize("mode", ["picture_likeness", "face_search"])
@pytest.mark.parametrize("combine", ["mean", "min"])
def test_likeness_search_by_a_set_and_a_character_equals_the_servers_search(world, mode, combine):
    graph = {
        "2": {"class_type": "PixlStashSetPicker", "inputs": {"set": "Best  #1"}},
        "3": {"class_type": "PixlStashCharacterPicker", "inputs": {"character": "Alice  #2", "and": ["2", 0]}},
        **likeness_graph(mode=mode, combine=combine, references=["3", 0]),
    }
    run = run_graph(nodes(world.pack), graph)
    images, masks, ids, scores = (run.output("1", n) for n in range(4))
    server = world.admin.post(
        "/api/v1/search/likeness",
        json={"mode": mode, "combine": combine, "collection_ids": [1, 2], "threshold": -1.0, "limit": 10},
    ).json()
    assert [int(i) for i in ids.split(",")] == server_ids(server)
    assert [float(s) for s in scores.split(",")] == pytest.approx([h["similarity"] for h in server["hits"]], abs=1e-4)
    assert images.shape[0] == masks.shape[0] == len(server["hits"]) and images.dtype == torch.float32
    by_id = {v: k for k, v in world.ids.items()}
    assert [colour_of(image) for image in images] == [by_id[i] for i in server_ids(server)]
    widths = [h["picture"]["width"] for h in server["hits"]]  # padded to the widest: padding alone is masked
    assert [int((mask[0] == 0).sum()) for mask in masks] == widths and images.shape[2] == max(widths)


def test_likeness_search_by_an_image_and_by_ids_with_sampling_and_scope(world):
    graph = {
        "1": {"class_type": "LoadImage", "inputs": {"image": "reference.png"}},
        "2": likeness_graph(mode="face_search", images=["1", 0], limit=3)["1"],
    }
    run = run_graph(nodes(world.pack), graph)
    assert run.output("2", 2).split(",")[0] == str(world.ids["blue"])
    by_ids = run_graph(nodes(world.pack), likeness_graph(picture_ids=f"{world.ids['red']}, {world.ids['green']}"))
    server = world.admin.post(
        "/api/v1/search/similar", json={"picture_ids": [world.ids["red"], world.ids["green"]], "limit": 10}
    ).json()
    assert [int(i) for i in by_ids.output("1", 2).split(",")] == server_ids(server)
    sampled = run_graph(nodes(world.pack), likeness_graph(picture_ids=str(world.ids["red"]), sample=2, seed=7))
    pool = run_graph(nodes(world.pack), likeness_graph(picture_ids=str(world.ids["red"])))
    picked = [int(i) for i in sampled.output("1", 2).split(",")]
    ranked = [int(i) for i in pool.output("1", 2).split(",")]
    assert len(picked) == 2 and picked == [i for i in ranked if i in picked]  # drawn from the pool, in rank order
    scoped = run_graph(
        nodes(world.pack),
        {
            "2": {"class_type": "PixlStashSetPicker", "inputs": {"set": "Best  #1"}},
            **likeness_graph(picture_ids=str(world.ids["blue"]), within=["2", 0]),
        },
    )
    assert sorted(int(i) for i in scoped.output("1", 2).split(",")) == sorted([world.ids["red"], world.ids["yellow"]])


def test_semantic_search_with_threshold_limit_and_project(world):
    run = run_graph(nodes(world.pack), example("semantic_search.json"))
    server = world.admin.get(
        "/api/v1/search/semantic", params={"q": "a red picture", "threshold": 0.2, "limit": 3, "project": 1}
    ).json()
    assert [int(i) for i in run.output("2", 2).split(",")] == server_ids(server)
    assert all(float(s) >= 0.2 for s in run.output("2", 3).split(","))
    assert run.output("2", 0).shape[0] == len(server["hits"]) <= 3


# -- loaders, gates, examples ---------------------------------------------------------------------


def test_loader_by_every_source(world):
    ids = world.ids
    load = {
        "class_type": "PixlStashPictureLoader",
        "inputs": {
            "tags": "",
            "min_rating": 0,
            "sort": "taken_at",
            "descending": True,
            "limit": 10,
            "seed": 0,
            "batch_rule": "pad to largest",
        },
    }
    world.admin.patch(
        f"/api/v1/pictures/{ids['red']}", json={"caption": "a red square\non two lines", "add_tags": ["warm", "flat"]}
    )
    by_ids = json.loads(json.dumps(load))
    by_ids["inputs"]["picture_ids"] = f"{ids['blue']},{ids['red']}"
    run = run_graph(nodes(world.pack), {"1": by_ids})
    images, masks, got, captions, tags = (run.output("1", n) for n in range(5))
    assert got == f"{ids['blue']},{ids['red']}" and [colour_of(i) for i in images] == ["blue", "red"]
    # blue is 122 wide, red 120: red is centred on blue's width and its two columns of padding masked
    assert images.shape[1:3] == (90, 122) and masks[0].max() == 0 and int((masks[1][0] == 1).sum()) == 2
    assert captions.split("\n") == ["", "a red square on two lines"]  # one line per picture
    assert tags.split("\n") == ["", "flat, warm"]
    world.admin.post("/api/v1/pictures/bulk", json={"ids": [ids["cyan"]], "operation": {"action": "rate", "rating": 4}})
    world.admin.post(
        "/api/v1/pictures/bulk",
        json={"ids": [ids["cyan"], ids["white"]], "operation": {"action": "tag", "tags": ["keep"]}},
    )
    rated = json.loads(json.dumps(load))
    rated["inputs"].update(tags="keep", min_rating=3)
    assert run_graph(nodes(world.pack), {"1": rated}).output("1", 2) == str(ids["cyan"])
    for picker, expected in (
        ({"class_type": "PixlStashCharacterPicker", "inputs": {"character": "Alice  #2"}}, {ids["magenta"]}),
        ({"class_type": "PixlStashProjectPicker", "inputs": {"project": "Portraits  #1"}}, set(ids.values())),
    ):
        source = json.loads(json.dumps(load))
        source["inputs"]["collections" if "Character" in picker["class_type"] else "project"] = ["2", 0]
        got = run_graph(nodes(world.pack), {"2": picker, "1": source}).output("1", 2)
        assert {int(i) for i in got.split(",")} == expected
    listed = run_graph(nodes(world.pack), example("load_pictures.json"))
    singles, single_ids = listed.output("4", 0), [int(i) for i in listed.output("4", 2)]
    # each its own size. Which comes first is the import's: both are dated by it, and the upload's two
    # files are analysed side by side, so either may be committed first.
    widths = {world.ids["red"]: 120, world.ids["yellow"]: 123}
    assert sorted(single_ids) == sorted(widths)
    assert [tuple(t.shape) for t in singles] == [(1, 90, widths[i], 3) for i in single_ids]
    assert listed.output("2", 0).shape == (2, 90, 123, 3) and listed.ui["5"] and len(listed.ui["5"]) == 2


def test_the_loader_gives_the_edited_look_unless_told_to_load_originals(world):
    red = world.ids["red"]  # 120 x 90
    turned = world.admin.patch(f"/api/v1/pictures/{red}", json={"edit": {"crop": [0, 0, 60, 90], "rotate": 90}})
    assert turned.status_code == 200, turned.text
    load = {
        "class_type": "PixlStashPictureLoader",
        "inputs": {"tags": "", "min_rating": 0, "sort": "taken_at", "descending": True, "limit": 1, "seed": 0,
                   "batch_rule": "pad to largest", "picture_ids": str(red)},
    }  # fmt: skip
    edited = run_graph(nodes(world.pack), {"1": load}).output("1", 0)
    assert tuple(edited.shape) == (1, 60, 90, 3) and colour_of(edited[0]) == "red"
    load["inputs"]["edited"] = False
    assert tuple(run_graph(nodes(world.pack), {"1": load}).output("1", 0).shape) == (1, 90, 120, 3)


def test_likeness_gate_splits_a_batch_by_a_characters_face(world):
    run = run_graph(nodes(world.pack), example("likeness_gate.json"))
    accepted, rejected, scores, count = (run.output("11", n) for n in range(4))
    assert count == 1 and [colour_of(i) for i in accepted] == ["magenta"]
    assert [colour_of(i) for i in rejected] == ["green", "yellow", "cyan"]
    assert len(scores.split(",")) == 4 and float(scores.split(",")[2]) == pytest.approx(1.0, abs=1e-3)
    images = torch.zeros((2, 32, 32, 3))  # black: no face at all
    gate = world.pack.NODE_CLASS_MAPPINGS["PixlStashLikenessGate"]()
    refs = [{"id": 1, "kind": "set", "name": "Best"}]
    kept, dropped, text, n = gate.gate(images, refs, "face_search", "mean", 0.0, "default")
    assert n == 0 and kept.shape[0] == 0 and dropped.shape[0] == 2 and text == "none,none"


# -- errors ---------------------------------------------------------------------------------------


def one_line_error(action) -> str:
    from importlib import import_module

    error_type = import_module("comfyui-pixlstash.client").PixlStashError
    with pytest.raises(error_type) as caught:
        action()
    message = str(caught.value)
    error = caught.value  # one line, and no chain of tracebacks behind it
    assert "\n" not in message and error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    return message


def test_every_failure_is_one_clear_line(world, plugin_manager):
    graph = likeness_graph(picture_ids=str(world.ids["red"]))
    world.monkeypatch.setenv("PIXLSTASH_TOKEN", "pxl_wrong")
    assert "did not accept the token (401)" in one_line_error(lambda: run_graph(nodes(world.pack), graph))
    world.monkeypatch.setenv("PIXLSTASH_TOKEN", world.live.token("read"))
    plugin_manager.register(AbsentPlugin(), name="absent")
    missing = json.loads(json.dumps(graph))
    missing["1"]["inputs"]["engine"] = "absent/clip"
    message = one_line_error(
        lambda: world.pack.NODE_CLASS_MAPPINGS["PixlStashLikenessSearch"]().search(**missing["1"]["inputs"])
    )
    assert "pixlstash models pull absent/clip" in message
    plugin_manager.unregister(name="absent")
    world.monkeypatch.setenv("PIXLSTASH_URL", "http://127.0.0.1:9")  # nothing listens there
    assert "is unreachable" in one_line_error(lambda: run_graph(nodes(world.pack), graph))
    world.monkeypatch.delenv("PIXLSTASH_URL")
    world.monkeypatch.delenv("PIXLSTASH_TOKEN")
    settings = world.comfy.root / "user" / "default" / "comfy.settings.json"
    assert "no PixlStash token" in one_line_error(lambda: run_graph(nodes(world.pack), graph))
    settings.parent.mkdir(parents=True)
    read_token = world.live.token("read")
    settings.write_text(json.dumps({"PixlStash.ServerURL": world.live.url, "PixlStash.Token": read_token}))
    # A token an older pack kept in ComfyUI's settings (which ComfyUI serves) moves to the pack's own file.
    assert run_graph(nodes(world.pack), graph).output("1", 2)
    assert json.loads(settings.read_text()) == {}
    moved = world.comfy.root / "user" / "pixlstash" / "connection.json"
    assert json.loads(moved.read_text()) == {"url": world.live.url, "token": read_token}
    world.comfy.multi_user = True
    world.comfy.install()
    assert "--multi-user" in one_line_error(lambda: run_graph(nodes(world.pack), graph))
    with pytest.raises(GraphError, match="value not in list"):
        run_graph(nodes(world.pack), likeness_graph(mode="nearby", picture_ids="1"))


def test_the_settings_page_says_when_the_environment_sets_the_connection(world):
    from importlib import import_module

    connection = import_module("comfyui-pixlstash.connection").current()  # the world sets both variables
    assert (connection.url, connection.url_from, connection.token_from) == (
        world.live.url,
        "PIXLSTASH_URL",
        "PIXLSTASH_TOKEN",
    )
    world.monkeypatch.delenv("PIXLSTASH_TOKEN")
    assert import_module("comfyui-pixlstash.connection").current().token is None  # no file yet, no token
