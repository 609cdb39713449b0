"""``pixlstash comfy`` and ``pixlstash stack`` as a person runs them, in fresh interpreters, against the
session's real ComfyUI: link, remix, run on a selection, their exit codes and output, and stacks."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli
from corpus import solid
from test_comfy_runs import INVERT, NOISE, made_by_comfyui

pytestmark = pytest.mark.slow


def test_link_remix_and_run_from_the_command_line(comfyui, tmp_path):
    library = str(tmp_path / "lib")
    made = tmp_path / "ComfyUI_00001_.png"
    made.write_bytes(made_by_comfyui(comfyui, NOISE))
    photo = tmp_path / "photo.png"
    solid(40, 30, (200, 100, 20)).save(photo)
    run_cli("import", "--library", library, str(made))  # one at a time: the ids the test names
    run_cli("import", "--library", library, str(photo))
    refused = run_cli("comfy", "remix", "1", "--library", library, check=False)
    assert refused.returncode == 1 and "link a ComfyUI first" in refused.stderr
    linked = run_cli("comfy", "link", comfyui.url, "--library", library)
    assert linked.stdout.strip() == f"linked ComfyUI 1 at {comfyui.url}"
    remixed = run_cli("comfy", "remix", "1", "--seed", "5", "--library", library)
    assert remixed.stdout.strip() == "run 1: 1 picture(s) filed: 3"
    assert "queued in ComfyUI" in remixed.stderr
    shown = json.loads(run_cli("stack", "show", "1", "--json", "--library", library).stdout)
    assert shown["cover_id"] == 1 and shown["member_ids"] == [1, 3] and shown["origin"] == "run"
    listed = lambda *flags: sorted(map(int, run_cli("ls", "--ids", *flags, "--library", library).stdout.split()))  # noqa: E731
    assert (listed(), listed("--stack-covers"), listed("--in-stack", "1")) == ([1, 2, 3], [1, 2], [1, 3])
    workflow = tmp_path / "invert_api.json"
    workflow.write_text(json.dumps(INVERT))
    ran = run_cli("comfy", "run", str(workflow), "2", "--library", library)
    assert ran.stdout.strip() == "run 2: 1 picture(s) filed: 4"
    missing = tmp_path / "missing_api.json"
    missing.write_text(json.dumps({**INVERT, "2": {"class_type": "NotInstalled", "inputs": {"image": ["1", 0]}}}))
    refused = run_cli("comfy", "run", str(missing), "2", "--library", library, check=False)
    assert refused.returncode == 1 and "node 2 (NotInstalled): this ComfyUI has no such node" in refused.stderr
    listed = json.loads(run_cli("comfy", "runs", "--json", "--library", library).stdout)
    assert [(r["id"], r["kind"], r["status"]) for r in listed] == [(2, "run", "done"), (1, "remix", "done")]
    # Stacks from the command line, each edit one undo step.
    run_cli("stack", "cover", "1", "3", "--library", library)
    assert run_cli("stack", "keep-cover", "1", "--library", library).stdout.strip() == (
        "kept the cover; moved 1 picture to the scrapheap"
    )
    assert run_cli("undo", "--library", library).stdout.startswith("undone: Keep the cover of a stack")
    assert json.loads(run_cli("stack", "show", "1", "--json", "--library", library).stdout)["member_ids"] == [3, 1]
    bad = run_cli("stack", "create", "1", "--library", library, check=False)
    assert bad.returncode != 0 and "two pictures or more" in bad.stderr
