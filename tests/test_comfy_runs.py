"""Workflows run from the library on the session's real ComfyUI (graphs that need no model): a remix of a
picture ComfyUI made, with a new or pinned seed; a workflow run on a selection; pre-flight refusals; and
outputs filed back with their generation data, in the source's sets and projects, stacked on it."""

from __future__ import annotations

import json

import pytest
from corpus import solid
from PIL import Image

from pixlstash.comfy import parse_graph, preflight, remix
from pixlstash.domain import PictureFilter, Sort
from pixlstash.errors import BadInput, ComfyUnreachable, NotFound, WorkflowRefused

pytestmark = pytest.mark.slow

NOISE = {  # a picture made by ComfyUI with a seed, and no model
    "1": {"class_type": "EmptyImage", "inputs": {"width": 48, "height": 32, "batch_size": 1, "color": 0x3366AA}},
    "2": {"class_type": "ImageAddNoise", "inputs": {"image": ["1", 0], "seed": 7, "strength": 0.5}},
    "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "noise"}},
}
INVERT = {  # a workflow with an image input
    "1": {"class_type": "LoadImage", "inputs": {"image": "example.png"}},
    "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
    "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "inverted"}},
}


def made_by_comfyui(comfyui, graph: dict) -> bytes:
    """The PNG ComfyUI's SaveImage wrote for ``graph`` (with the graph embedded, as every user's has)."""
    entry = comfyui.run(graph)
    image = next(i for out in entry["outputs"].values() for i in out["images"])
    return comfyui.get("/view", filename=image["filename"], subfolder=image["subfolder"], type=image["type"]).content


@pytest.fixture
def linked(library, comfyui, tmp_path):
    """The library with a ComfyUI-made picture in a set and a project, and the session's ComfyUI linked."""
    made = tmp_path / "ComfyUI_00001_.png"
    made.write_bytes(made_by_comfyui(comfyui, NOISE))
    source = library.import_paths([made]).imported[0].picture_id
    project = library.organise.create_project("Renders")
    best = library.organise.create_collection("set", "Best")
    library.organise.add_to_project(project.id, [source])
    library.organise.add_members(best.id, [source])
    link = library.comfy.link(comfyui.url)
    return library, source, link, project.id, best.id


def pixels(library, picture_id: int) -> bytes:
    return Image.open(library.original_path(picture_id)).convert("RGB").tobytes()


def test_a_remix_reruns_the_pictures_graph_with_a_new_seed_and_files_it_stacked(linked):
    library, source, link, project, best = linked
    run = library.comfy.create_remix(source, seed=8)
    assert run.status == "queued" and run.kind == "remix" and run.link_id == link.id
    done = library.comfy.carry_out(run.id)
    assert done.status == "done" and len(done.output_ids) == 1, done
    (output,) = done.output_ids
    picture = library.get(output)
    assert picture.generation.tool == "comfyui"  # read from the PNG ComfyUI's SaveImage wrote
    assert json.loads(picture.generation.raw_prompt)["2"]["inputs"]["seed"] == 8
    assert pixels(library, output) != pixels(library, source)  # another seed, other noise
    assert picture.projects == [project] and picture.collections == [best]
    stack = library.stacks.get(library.stacks.store.stacks_of([source])[source])
    assert stack.cover_id == source and stack.member_ids == [source, output] and stack.origin == "run"
    grid = library.page(PictureFilter(stack_covers=True), Sort(), limit=10).items
    assert [(p.id, p.stack_size) for p in grid] == [(source, 2)]
    # The same seed again gives the same picture: it comes back as that picture, already stacked.
    again = library.comfy.carry_out(library.comfy.create_remix(source, seed=8).id)
    assert again.status == "done" and again.output_ids == [output]
    assert library.stacks.get(stack.id).member_ids == [source, output]


def test_a_workflow_runs_on_each_picture_of_a_selection(linked, tmp_path):
    library, _, _, _, best = linked
    files = []
    for n, colour in enumerate([(200, 30, 30), (30, 200, 30)]):
        path = tmp_path / f"photo{n}.png"
        solid(40, 30, colour).save(path)
        files.append(path)
    photos = [p.picture_id for p in library.import_paths(files, collection_ids=[best]).imported]
    runs = library.comfy.create_runs(INVERT, photos)
    assert [r.source_id for r in runs] == sorted(photos) and all(r.kind == "run" for r in runs)
    for run in runs:
        done = library.comfy.carry_out(run.id)
        assert done.status == "done", done
        (output,) = done.output_ids
        inverted = Image.open(library.original_path(output)).convert("RGB")
        original = Image.open(library.original_path(run.source_id)).convert("RGB")
        got, expected = inverted.getpixel((5, 5)), [255 - c for c in original.getpixel((5, 5))]
        assert all(abs(a - b) <= 1 for a, b in zip(got, expected, strict=True))  # ComfyUI's float round trip
        assert best in library.get(output).collections
        assert library.get(output).generation.raw_prompt  # ComfyUI's SaveImage embedded the graph
        stack = library.stacks.get(library.stacks.store.stacks_of([run.source_id])[run.source_id])
        assert stack.member_ids == [run.source_id, output]


def test_preflight_refuses_what_this_comfyui_cannot_run_before_anything_is_queued(linked, comfyui):
    library, source, *_ = linked
    history_before = comfyui.get("/history").json()
    missing_node = json.loads(json.dumps(INVERT))
    missing_node["2"]["class_type"] = "NoSuchNodeFromAPack"
    with pytest.raises(WorkflowRefused) as refused:
        library.comfy.create_runs(missing_node, [source])
    assert "node 2 (NoSuchNodeFromAPack): this ComfyUI has no such node" in refused.value.details["problems"][0]
    generating = json.loads((comfyui_pack_api() / "save_generations.json").read_text())
    problems = preflight(generating, comfyui.get("/object_info").json())
    assert any("ckpt_name 'sdxl_base.safetensors' is not on this ComfyUI (the model is missing" in p for p in problems)
    with pytest.raises(BadInput, match="LoadImage nodes"):
        library.comfy.create_runs(NOISE, [source])
    saves_nothing = {k: v for k, v in INVERT.items() if k != "3"}
    saves_nothing["3"] = {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}}
    with pytest.raises(WorkflowRefused, match="saves nothing"):
        library.comfy.create_runs(saves_nothing, [source])
    with pytest.raises(BadInput, match="Export \\(API\\)"):
        parse_graph({"nodes": [], "links": []})
    assert comfyui.get("/history").json() == history_before  # nothing was queued
    assert library.comfy.runs() == []


def test_remix_changes_prompt_and_lora_strengths_and_refuses_what_is_not_there():
    graph = json.loads((comfyui_pack_api() / "save_generations.json").read_text())
    graph["20"] = {
        "class_type": "LoraLoader",
        "inputs": {"model": ["4", 0], "clip": ["4", 1], "lora_name": "styles/add_detail_v2.safetensors",
                   "strength_model": 1.0, "strength_clip": 1.0},
    }  # fmt: skip
    changed, seed = remix(graph, seed=99, positive="a lighthouse at dawn", loras={"ADD_DETAIL_V2": 0.4})
    assert seed == 99 and changed["3"]["inputs"]["seed"] == 99 and graph["3"]["inputs"]["seed"] == 1234
    assert (
        changed["6"]["inputs"]["text"] == "a lighthouse at dawn"
        and changed["7"]["inputs"]["text"] == "blurry, watermark"
    )
    assert changed["20"]["inputs"]["strength_model"] == 0.4 and changed["20"]["inputs"]["strength_clip"] == 0.4
    _, new_seed = remix(graph)
    assert 0 <= new_seed < 2**53
    with pytest.raises(BadInput, match="loads no LoRA 'other'"):
        remix(graph, loras={"other": 1.0})
    with pytest.raises(BadInput, match="no sampler seed"):
        remix(INVERT)


def test_a_remix_of_a_picture_without_a_workflow_and_an_unreachable_comfyui_say_so(linked, tmp_path):
    library, *_ = linked
    plain = tmp_path / "plain.png"
    solid(20, 20, (1, 2, 3)).save(plain)
    photo = library.import_paths([plain]).imported[0].picture_id
    with pytest.raises(BadInput, match="carries no ComfyUI workflow to remix"):
        library.comfy.create_remix(photo)
    with pytest.raises(ComfyUnreachable, match="is unreachable"):
        library.comfy.link("http://127.0.0.1:9")
    with pytest.raises(BadInput, match="http\\(s\\)://host:port"):
        library.comfy.link("file:///etc/passwd")


def test_cancelling_a_queued_run_sends_nothing(linked, comfyui):
    library, source, *_ = linked
    run = library.comfy.create_remix(source, seed=11)
    assert library.comfy.cancel(run.id).status == "cancelled"
    assert library.comfy.carry_out(run.id).status == "cancelled"
    assert library.count(PictureFilter()) == 1


def comfyui_pack_api():
    from real_comfyui import PACK

    return PACK / "api_workflows"


def test_a_run_someone_asks_for_files_its_outputs_as_theirs(linked):
    from pixlstash.pictures.visibility import Audience, seen_by

    library, source, *_ = linked
    with seen_by(Audience(7, sees_all=False)):  # a member (account 7) asks; the source is shared
        run = library.comfy.create_remix(source, seed=9)
    done = library.comfy.carry_out(run.id)  # the runner works for no one in particular
    (output,) = done.output_ids
    picture = library.get(output)
    assert (picture.owner_id, picture.private) == (7, False)  # theirs, as shared as what it ran on
    library.set_private([source], True)
    # Another member cannot even ask: the source is not theirs to see.
    with seen_by(Audience(8, sees_all=False)), pytest.raises(NotFound):
        library.comfy.create_remix(source, seed=10)
    run = library.comfy.create_remix(source, seed=11)  # the owner may; a private source's outputs stay private
    (private_output,) = library.comfy.carry_out(run.id).output_ids
    assert library.get(private_output).private and library.get(private_output).owner_id is None
