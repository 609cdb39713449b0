"""Workflow runs against a ComfyUI that misbehaves or a PixlStash that is stopped: outputs are streamed to
disk one at a time (never all held in memory), a run left "running" by a process killed with -9 is adopted
and filed by the next runner, Ctrl+C on the CLI cancels its run and tells ComfyUI to drop only that
prompt, and linking a ComfyUI again leaves one live token."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest
from comfy_peer import GRAPH, comfy_peer
from conftest import REPO, wait_for
from PIL import Image, PngImagePlugin

from pixlstash.auth import Authenticator
from pixlstash.comfy.runner import ComfyRunner
from pixlstash.library import Library

ENV = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}


def _png(width: int, height: int, seed: int = 0, prompt: dict | None = None) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    info = PngImagePlugin.PngInfo()
    if prompt is not None:
        info.add_text("prompt", json.dumps(prompt))
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG", pnginfo=info, compress_level=1)
    return buffer.getvalue()


@pytest.fixture
def peer():
    with comfy_peer() as peer:
        yield peer


@pytest.fixture
def root(tmp_path, peer):
    """A library with one picture ComfyUI made (its graph embedded), linked to the peer."""
    root = tmp_path / "lib"
    made = tmp_path / "ComfyUI_00001_.png"
    made.write_bytes(_png(64, 48, prompt=GRAPH))
    with Library.open(root) as library:
        library.import_paths([made])
        library.comfy.link(peer.url)
    return root


def test_outputs_are_streamed_to_disk_not_held_in_memory(root, peer):
    peer.state, peer.content = "done", _png(1700, 1700, seed=3)
    peer.outputs = [f"out_{n:02}.png" for n in range(12)]
    assert len(peer.content) > 8_000_000
    with Library.open(root) as library:
        run = library.comfy.create_remix(1)
        tracemalloc.start()
        try:
            ran = library.comfy.carry_out(run.id)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert ran.status == "done", ran.message
    assert ran.output_ids  # filed (the twelve are one picture: the same bytes)
    # The old runner held all twelve outputs at once (about 100 MB); now one block at a time.
    assert peak < 2 * len(peer.content), peak


def _child(root, code: str, kill_on: str) -> None:
    """Run ``code`` in a child that SIGKILLs itself on the first call of ``ComfyClient.<kill_on>``."""
    script = textwrap.dedent(
        f"""
        import os, signal
        from pixlstash.comfy.client import ComfyClient
        from pixlstash.library import Library
        real = ComfyClient.{kill_on}

        def dying(self, *args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)

        ComfyClient.{kill_on} = dying
        with Library.open({str(root)!r}) as library:
        """
    ) + textwrap.indent(textwrap.dedent(code), "    ")
    done = subprocess.run([sys.executable, "-c", script], env=ENV, capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr


def test_a_run_left_running_by_a_killed_process_is_adopted_and_filed(root, peer):
    # Killed while waiting on ComfyUI (after the prompt was queued there) ...
    _child(root, "library.comfy.carry_out(library.comfy.create_remix(1).id)\n", "queued")
    # ... and another killed before ComfyUI had its prompt.
    _child(root, "library.comfy.carry_out(library.comfy.create_remix(1).id)\n", "queue")
    with Library.open(root) as library:
        waiting, unsent = sorted(library.comfy.runs(), key=lambda r: r.id)
        assert waiting.status == unsent.status == "running"
        assert waiting.prompt_id == "peer-1" and unsent.prompt_id is None
        peer.state, peer.outputs, peer.content = "done", ["ComfyUI_00002_.png"], _png(80, 60, seed=9)
        runner = ComfyRunner(library.comfy, library.events)
        runner.wake()  # what a server does at start
        try:
            wait_for(lambda: all(r.status not in ("queued", "running") for r in library.comfy.runs()), "adoption")
        finally:
            runner.stop()
        waiting, unsent = sorted(library.comfy.runs(), key=lambda r: r.id)
        assert waiting.status == "done" and waiting.message == "1 picture(s) filed", waiting
        assert library.get(waiting.output_ids[0]).generation is not None or waiting.output_ids
        assert unsent.status == "failed" and "stopped before ComfyUI had it" in unsent.message


def test_a_run_comfyui_forgot_fails_with_a_reason(root, peer):
    _child(root, "library.comfy.carry_out(library.comfy.create_remix(1).id)\n", "queued")
    peer.state = "forgotten"  # ComfyUI restarted: the prompt is in neither its queue nor its history
    with Library.open(root) as library:
        [adopted] = library.comfy.adopt_orphans()
    assert adopted.status == "failed" and "no longer knows this run" in adopted.message


def test_ctrl_c_on_the_cli_cancels_the_run_and_only_its_prompt(root, peer):
    command = [sys.executable, "-m", "pixlstash", "comfy", "remix", "1", "--library", str(root)]
    child = subprocess.Popen(command, env=ENV, cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: peer.seen("GET", "/queue"), "the CLI to wait on ComfyUI")
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 130, stderr
    assert "cancelled" in stderr
    with Library.open(root) as library:
        [run] = library.comfy.runs()
    assert run.status == "cancelled"
    [interrupt] = peer.seen("POST", "/interrupt")
    assert json.loads(interrupt) == {"prompt_id": run.prompt_id}  # ours only, not every user's
    assert {"delete": [run.prompt_id]} in [json.loads(b) for b in peer.seen("POST", "/queue")]


def test_linking_again_revokes_the_token_it_replaces(root, peer):
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "pixlstash", "comfy", "link", peer.url, "--library", str(root),
             "--pixlstash-url", "http://127.0.0.1:9537"],
            env=ENV, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    auth = Authenticator(root)
    live = [t for t in auth.tokens() if t.name == f"ComfyUI at {peer.url}" and not t.revoked]
    made = [t for t in auth.tokens() if t.name == f"ComfyUI at {peer.url}"]
    auth.close()
    assert len(made) == 2 and len(live) == 1
    with Library.open(root) as library:
        [link] = library.comfy.links()
    assert link.token_id == live[0].id


def test_a_raw_picture_goes_to_comfyui_as_a_png_it_can_read(root, peer, tmp_path):
    """ComfyUI's LoadImage reads what a plain Pillow reads: a DNG is sent as a PNG rendition."""
    from comfy_peer import RUN_GRAPH
    from test_raw_and_jxl import write_dng

    raw = write_dng(tmp_path / "camera.dng")
    with Library.open(root) as library:
        [item] = library.import_paths([raw]).imported
        [run] = library.comfy.create_runs(RUN_GRAPH, [item.picture_id])
        peer.state, peer.outputs, peer.content = "done", ["ComfyUI_00003_.png"], _png(80, 60, seed=2)
        done = library.comfy.carry_out(run.id)
    assert done.status == "done", done.message
    [upload] = peer.seen("POST", "/upload/image")
    assert b'filename="pixlstash-' in upload and b'.png"' in upload and b".dng" not in upload
    assert b"\x89PNG\r\n\x1a\n" in upload  # the rendition itself, not the DNG's bytes
    uploaded = upload.split(b"\r\n\r\n", 1)[1]
    with Image.open(io.BytesIO(uploaded)) as image:
        # Upright, as the DNG's orientation says (this one embeds no preview: a half-size demosaic).
        assert image.format == "PNG" and image.size == (213, 320)
