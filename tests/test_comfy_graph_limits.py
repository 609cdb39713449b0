"""A ComfyUI graph made to be expensive imports in time proportional to its size, and a long chain imports
at all (it used to end in a recursion error, and the picture could not be imported)."""

from __future__ import annotations

import json

from conftest import run_cli
from hostile_graphs import as_text, chain, shared_fan
from PIL import Image, PngImagePlugin

from pixlstash.library import Library
from pixlstash.media.generators import comfyui


class _CountingNodes(dict):
    """A graph that counts how often a reader looks a node up."""

    lookups = 0

    def __getitem__(self, key):
        _CountingNodes.lookups += 1
        return super().__getitem__(key)

    def __contains__(self, key) -> bool:
        _CountingNodes.lookups += 1
        return super().__contains__(key)


def _png(path, graph: dict) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", as_text(graph))
    Image.new("RGB", (64, 48), (90, 120, 150)).save(path, pnginfo=info)


def test_a_shared_node_is_walked_once_not_once_per_sampler(monkeypatch):
    graph = shared_fan(2_500, 2_500)
    real_loads = json.loads
    monkeypatch.setattr(comfyui.json, "loads", lambda raw: _CountingNodes(real_loads(raw)))
    _CountingNodes.lookups = 0
    generation = comfyui.parse_comfyui(as_text(graph), None)
    assert _CountingNodes.lookups < 10 * len(graph), _CountingNodes.lookups  # linear, not 2,500 x 2,500
    assert generation.steps == 20 and generation.sampler == "euler" and generation.seed == "0"
    texts = generation.positive.split("\n")
    assert texts[:3] == ["prompt part 0", "prompt part 1", "prompt part 2"]
    assert len(texts) == comfyui.MAX_TEXTS  # a bound on what one graph puts in the search index


def test_a_long_chain_imports_with_its_prompt(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    _png(folder / "chain.png", chain(14_000))
    _png(folder / "fan.png", shared_fan(300, 300))
    with Library.open(tmp_path / "lib") as library:
        report = library.import_paths([folder])
        assert report.skipped == [] and len(report.imported) == 2
        rows = library.db.query("SELECT positive, seed, steps FROM generation ORDER BY positive")
    assert ("at the end of the chain", "7", 4) in [tuple(r) for r in rows], rows


def test_a_graph_past_the_cap_is_kept_raw_not_read_and_the_import_says_so(tmp_path):
    graph = chain(3)
    for n in range(comfyui.MAX_NODES):
        graph[f"x{n}"] = {"class_type": "Note", "inputs": {}}
    folder = tmp_path / "in"
    folder.mkdir()
    _png(folder / "huge-graph.png", graph)
    done = run_cli("import", str(folder), "--library", str(tmp_path / "lib"))
    assert done.returncode == 0, done.stderr
    assert "note: " in done.stderr and "huge-graph.png: its ComfyUI graph has 100,004 nodes" in done.stderr
    with Library.open(tmp_path / "lib") as library:
        [(positive, raw)] = library.db.query("SELECT positive, raw_prompt FROM generation")
    assert positive == "" and raw == as_text(graph)  # kept as it is, never lost
