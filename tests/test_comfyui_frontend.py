"""The node pack in ComfyUI's own frontend, in headless Chromium against the session's real ComfyUI:
its templates are listed, have thumbnails and open with every node known and no error, and each queues
exactly the API workflow kept beside it; the settings page stores a connection with the token masked."""

from __future__ import annotations

import json

import pytest
from comfy_frontend import open_comfy
from PIL import Image
from real_comfyui import PACK
from ui_support import screenshot

pytestmark = [pytest.mark.slow, pytest.mark.browser]
TEMPLATES = sorted(p.stem for p in (PACK / "example_workflows").glob("*.json"))


@pytest.fixture
def editor(comfyui):
    from playwright.sync_api import sync_playwright

    Image.new("RGB", (64, 64), (90, 90, 90)).save(comfyui.base / "input" / "example.png")  # as ComfyUI ships
    with sync_playwright() as playwright:
        browser, page = open_comfy(playwright, comfyui)
        yield page
        browser.close()


def test_the_templates_are_listed_with_thumbnails_and_open_cleanly(comfyui, editor):
    listed = comfyui.get("/workflow_templates").json()
    assert list(listed) == ["comfyui-pixlstash"] and sorted(listed["comfyui-pixlstash"]) == TEMPLATES
    assert sorted(p.stem for p in (PACK / "api_workflows").glob("*.json")) == TEMPLATES
    for name in TEMPLATES:
        thumbnail = comfyui.get(f"/api/workflow_templates/comfyui-pixlstash/{name}.jpg")
        assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/jpeg"
        workflow = json.loads((PACK / "example_workflows" / f"{name}.json").read_text())
        assert workflow["version"] == 0.4 and workflow["nodes"] and workflow["links"]
        opened = editor.load_template(name)
        assert opened["missing"] == [], name
        assert opened["prompt"] == json.loads((PACK / "api_workflows" / f"{name}.json").read_text()), name
    assert editor.problems == [] and editor.toasts() == []
    # The template browser, as a person opens it: the pack's section, a card with its picture per template.
    editor.command("Comfy.BrowseTemplates")
    editor.page.get_by_role("button", name="comfyui-pixlstash").or_(
        editor.page.get_by_text("comfyui-pixlstash", exact=True)
    ).first.click()
    cards = editor.page.locator("[data-testid^='template-workflow-']")
    cards.first.wait_for()
    assert cards.count() == len(TEMPLATES)
    editor.page.wait_for_function(
        "[...document.querySelectorAll(\"[data-testid^='template-workflow-'] img\")]"
        ".every((img) => img.complete && img.naturalWidth > 0)"
    )
    screenshot(editor.page, "comfyui-templates")
    assert editor.problems == []


def test_the_settings_page_stores_the_connection_and_shows_the_token_masked(comfyui, editor, live):
    token = live.token("write")
    editor.command("Comfy.ShowSettingsDialog")
    editor.page.get_by_role("option", name="PixlStash").or_(
        editor.page.get_by_text("PixlStash", exact=True)
    ).first.click()
    status = editor.page.locator(".pixlstash-status")
    status.wait_for()
    url, secret = editor.page.locator("#pixlstash-url"), editor.page.locator("#pixlstash-token")
    assert secret.get_attribute("type") == "password"
    url.fill(live.url)
    secret.fill(token)
    editor.page.get_by_role("button", name="Save and check").click()
    editor.page.wait_for_function("document.querySelector('.pixlstash-status').textContent.includes('Connected')")
    stored = comfyui.base / "user" / "pixlstash" / "connection.json"
    assert status.text_content() == (
        f"Connected: the server takes this write token. Server {live.url} with token …{token[-4:]}, from {stored}."
    )
    assert token not in editor.page.content() and secret.input_value() == ""
    screenshot(editor.page, "comfyui-settings-pixlstash")
    assert token not in comfyui.get("/settings").text
    assert editor.problems == []


def _custom_sampler_templates() -> list[str]:
    """ComfyUI's own templates (the package its server serves at /templates) on the custom-sampler path."""
    import subprocess
    from pathlib import Path

    from consumer_venv import CONSUMERS, consumer_python

    python = consumer_python("comfyui", CONSUMERS / "comfyui-requirements.txt")
    found = subprocess.run(
        [str(python), "-c",
         "import comfyui_workflow_templates, os; print(os.path.dirname(comfyui_workflow_templates.__file__))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    folder = Path(found.stdout.strip()) / "templates"
    return sorted(p.stem for p in folder.glob("*.json") if "SamplerCustomAdvanced" in p.read_text())


SAMPLERS = ("SamplerCustomAdvanced", "SamplerCustom", "KSampler", "KSamplerAdvanced")


def _expected(prompt: dict) -> dict:
    """What a reader must find in an API graph, looked up by node class the way the template wires it."""
    by_class: dict[str, list[dict]] = {}
    for node in prompt.values():
        by_class.setdefault(node["class_type"], []).append(node["inputs"])

    def first(kind: str, name: str):
        return next((i[name] for i in by_class.get(kind, []) if not isinstance(i.get(name), list)), None)

    return {
        "seed": None if first("RandomNoise", "noise_seed") is None else str(first("RandomNoise", "noise_seed")),
        "sampler": first("KSamplerSelect", "sampler_name"),
        "steps": first("BasicScheduler", "steps"),
        "scheduler": first("BasicScheduler", "scheduler"),
        "cfg": first("CFGGuider", "cfg"),  # a distilled model's guidance is a number of its own:
        "guidance": first("FluxGuidance", "guidance") or first("CLIPTextEncodeFlux", "guidance"),
        # every text typed into an encoder (SD3's and Flux's have several)
        "texts": {
            v
            for kind, rows in by_class.items()
            if "TextEncode" in kind
            for i in rows
            for v in i.values()
            if isinstance(v, str)
        },
    }


def _json_package_templates() -> dict[str, dict]:
    """The custom-sampler templates of ``comfyui-workflow-templates-json`` (660 templates in the editor's
    format, newer than the package this ComfyUI serves; subgraphs included), by name."""
    from pathlib import Path

    import comfyui_workflow_templates_json

    folder = Path(comfyui_workflow_templates_json.__file__).parent / "templates"
    return {
        p.stem: json.loads(p.read_text())
        for p in sorted(folder.glob("*.json"))
        if "SamplerCustomAdvanced" in p.read_text() or '"SamplerCustom"' in p.read_text()
    }


# Opens a workflow as the browser opens one and queues it as ComfyUI would: the API graph, or why not
# (node types this ComfyUI lacks, at the top or inside a subgraph; an error of the frontend's own).
CONVERT = """async ([name, given]) => {
    const workflow = given || await (await fetch(window.app.api.fileURL(`/templates/${name}.json`))).json();
    const subgraphs = (workflow.definitions && workflow.definitions.subgraphs) || [];
    const ids = new Set(subgraphs.map((g) => g.id));
    const types = [...workflow.nodes, ...subgraphs.flatMap((g) => g.nodes || [])].map((n) => n.type);
    const missing = [...new Set(types)].filter((t) => !ids.has(t) && !window.LiteGraph.registered_node_types[t]);
    if (missing.length) return { workflow, missing };
    try {
        await window.app.loadGraphData(workflow, true, true, name);
        await new Promise((r) => setTimeout(r, 300));
        return { workflow, prompt: (await window.app.graphToPrompt()).output, missing };
    } catch (error) {
        return { workflow, missing, error: String(error) };
    }
}"""


def test_comfyuis_custom_sampler_templates_keep_their_generation_data(comfyui, editor, tmp_path):
    """Each of ComfyUI's own templates on the custom-sampler path (the package this ComfyUI serves, and the
    newer comfyui-workflow-templates-json), turned into the API format by ComfyUI's own frontend and
    embedded as SaveImage embeds it, is read back with its seed, sampler, steps, scheduler, guidance and
    prompt, and its prompt is found by a search."""
    from PIL import PngImagePlugin

    from pixlstash.domain import PictureFilter
    from pixlstash.library import Library
    from pixlstash.plugins import make_plugin_manager

    names = _custom_sampler_templates()
    assert len(names) >= 8, names
    packaged = _json_package_templates()
    assert len(packaged) >= 70, len(packaged)
    folder = tmp_path / "renders"
    folder.mkdir()
    converted, workflows, unusable = {}, {}, {}
    for name, given in [*((n, None) for n in names), *((f"json-{n}", w) for n, w in packaged.items())]:
        loaded = editor.page.evaluate(CONVERT, [name, given])
        if loaded["missing"] or loaded.get("error"):  # nodes newer than this ComfyUI: it cannot queue them
            unusable[name] = loaded["missing"] or loaded["error"]
            continue
        info = PngImagePlugin.PngInfo()  # as ComfyUI's SaveImage writes them
        info.add_text("prompt", json.dumps(loaded["prompt"]))
        info.add_text("workflow", json.dumps(loaded["workflow"]))
        Image.new("RGB", (64, 64), (40, 80, 120)).save(folder / f"{name}.png", pnginfo=info)
        converted[name], workflows[name] = loaded["prompt"], loaded["workflow"]
    assert not any(name in unusable for name in names), unusable  # every template this ComfyUI ships opens
    # (Most newer templates need nodes newer than the ComfyUI that runs here; those it can queue are read.)
    assert len(converted) >= 20, (len(converted), unusable)
    with Library.open(tmp_path / "lib", plugin_manager=make_plugin_manager(load_entry_points=False)) as library:
        report = library.import_paths([folder])
        assert report.skipped == []
        read = {item.path.rsplit("/", 1)[-1][:-4]: library.get(item.picture_id).generation for item in report.imported}
        checked = prompted = 0
        for name, prompt in converted.items():
            expected, generation = _expected(prompt), read[name]
            samplers = [n for n in prompt.values() if n["class_type"] in SAMPLERS]
            for field in ("seed", "sampler", "steps", "scheduler", "cfg", "guidance") if len(samplers) == 1 else ():
                # (a graph of several samplers, each with its own settings, names no one value to compare)
                if expected[field] is not None:
                    assert getattr(generation, field) == expected[field], (name, field)
                    checked += 1
            lines = [line for line in generation.positive.split("\n") if line]
            assert set(lines) <= expected["texts"], (name, generation.positive)
            if expected["texts"] - {"", None}:  # a template with a text prompt: read, and found by a search
                assert lines, (name, "no positive prompt")
                word = max(lines[0].split(), key=len)
                assert library.count(PictureFilter(text=word)) >= 1, (name, word)
                prompted += 1
        assert checked >= 3 * (len(converted) - 2) and prompted >= len(converted) - 2
    # A picture that kept only the editor's workflow (no prompt chunk) is read for the same fields.
    from pixlstash.media.generators.comfyui import parse_comfyui

    compared = 0
    for name, prompt in converted.items():
        workflow = workflows[name]
        if (workflow.get("definitions") or {}).get("subgraphs"):
            continue  # nodes inside subgraphs are the frontend's to expand
        whole, alone = parse_comfyui(json.dumps(prompt), None), parse_comfyui(None, json.dumps(workflow))
        for field in ("seed", "sampler", "steps", "scheduler", "cfg", "guidance", "checkpoint", "positive", "negative"):
            assert getattr(alone, field) == getattr(whole, field), (name, field)
        compared += 1
    flat = [name for name in converted if not (workflows[name].get("definitions") or {}).get("subgraphs")]
    assert compared == len(flat) >= 15, (compared, len(flat))
