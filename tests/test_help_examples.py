"""Every example in every command's ``--help`` runs, as written, against a library with the test engines.

The examples are read from the CLI itself (built-in commands and those plugins add), so a new one is
checked without being listed here. Each runs in bash, as a person would paste it, with ``$HOME`` a folder
holding the files the examples name, ``PIXLSTASH_LIBRARY`` a library of 45 pictures (a set "Best", a
character "Alice", tags) and the models folder holding the tiny test models under the published models'
names, so ``enrich --engine clip/ViT-B-32@laion2b_s34b_b79k`` really runs. An example passes when it
exits 0 (or 3, done but not for every item), or when it fails only for what a test machine lacks (the
network, a Ray cluster, a picture or person of that number), in one line naming it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click
import pytest
from conftest import run_in_terminal, self_signed_certificate
from corpus import comfyui_png, photo
from serve_process import free_port
from test_comfy_runs import INVERT

from pixlstash.cli import make_cli
from pixlstash.plugins import make_plugin_manager

PASSWORD = "correct horse battery staple"
# Examples that cannot succeed on a test machine, by a part of them, and what their one line must say.
CANNOT_SUCCEED_HERE = {
    "models pull": "no network",  # HF_HUB_OFFLINE: the only way PixlStash downloads
    "--ray auto": "Ray",  # no Ray cluster runs here to join
    # No ComfyUI listens at 127.0.0.1:8188 here (tests/test_cli_comfy.py runs these against a real one).
    "pixlstash comfy ": "ComfyUI",
    # No object storage service listens here (pixlstash-plugins/s3/tests run them against a real SeaweedFS).
    "pixlstash storage use s3://": "does not answer",
    "pixlstash storage migrate s3://": "does not answer",
    "pixlstash backup create s3://": "does not answer",
}
# A numbered thing the example names that this library does not have: the example is right, the data not.
NOT_HERE = re.compile(
    r"^error: (no (active |unnamed )?(picture|person|job|snapshot|token|face)s? \d+|no such picture: \d+|no stack \d+"
    r"|name at least one face as \w+ first)"
)
# Examples that ask for a password on the terminal: run under a pseudo-terminal (script(1)), typed in.
ON_A_TERMINAL = ("pixlstash user create", "pixlstash user password")
NEEDS_TORCH = ("clip/", "joycaption/")


def examples() -> list[list[str]]:
    """The ``Examples:`` block of every command's help (its ``pixlstash ...`` lines, in order), in command
    order."""
    cli = make_cli(make_plugin_manager())
    found: list[list[str]] = []

    def walk(command: click.Command) -> None:
        lines = (command.help or "").splitlines()
        if "Examples:" in "\n".join(lines):
            start = next(i for i, line in enumerate(lines) if line.strip() == "Examples:")
            block = []
            for line in lines[start + 1 :]:
                if not line.strip().startswith("pixlstash "):
                    break
                # A comment after two spaces, in parentheses, is the help's own: not part of the command.
                block.append(re.split(r"\s{2,}\(", line.strip())[0])
            found.append(block)
        if isinstance(command, click.Group):  # through list_commands: built-ins load only when asked for
            context = click.Context(command)
            for name in command.list_commands(context):
                walk(command.get_command(context, name))

    walk(cli)
    return found


@pytest.fixture(scope="module")
def help_env(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("help-examples")
    home, models = root / "home", root / "models"
    from tiny_pack import build_tiny_pack
    from tiny_wd import build_tiny_wd

    build_tiny_wd(models / "wd-tagger" / "wd-vit-tagger-v3")
    build_tiny_pack(models / "faces" / "buffalo_l")
    if importlib.util.find_spec("open_clip"):
        from tiny_clip import build_tiny_clip

        build_tiny_clip(models / "clip" / "ViT-B-32@laion2b_s34b_b79k", embed_dim=512)
    if importlib.util.find_spec("transformers"):
        from tiny_joycaption import build_tiny_joycaption

        build_tiny_joycaption(models / "joycaption" / "beta-one")
    # The files the examples name, under $HOME and the working folder.
    renders, output = home / "renders", home / "ComfyUI" / "output"
    renders.mkdir(parents=True)
    output.mkdir(parents=True)
    for n in range(50):
        photo(72, 56 + n, seed=n).save(renders / f"r{n:02}.png")
    comfyui_png(output / "comfy.png")
    photo(64, 64, seed=90).save(home / "one.png")
    photo(64, 64, seed=91).save(home / "ref.png")
    with zipfile.ZipFile(home / "renders.zip", "w") as archive:
        for n in range(3):
            path = root / f"z{n}.png"
            photo(50, 40, seed=100 + n).save(path)
            archive.write(path, f"z{n}.png")
    (home / "caption.txt").write_text("a lighthouse at dusk, from a file\n")
    (home / "invert_api.json").write_text(json.dumps(INVERT))
    (home / "Photos").mkdir()
    photo(60, 60, seed=120).save(home / "Photos" / "p.jpg")
    (home / "Lightroom").mkdir()
    photo(60, 60, seed=121).save(home / "Lightroom" / "l.jpg")
    self_signed_certificate(home, "localhost")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}
    env.update(
        HOME=str(home),
        PIXLSTASH_LIBRARY=str(root / "library"),
        PIXLSTASH_MODELS_DIR=str(models),
        HF_HOME=str(root / "hf"),
        HF_HUB_OFFLINE="1",
        INSIGHTFACE_HOME=str(root / "insightface"),
        PIXLSTASH_PROGRESS_SECONDS="3600",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
        RAY_ADDRESS="",
    )
    # The library each example gets a copy of: the renders in a set, a character and a project, some
    # tagged and rated, three sets in all, three tokens, a snapshot.
    for line in (
        f"pixlstash import {renders} --set Best --character Alice --project Portraits",
        f"pixlstash import {output}",
        "pixlstash tag add 1-12 cat",
        "pixlstash rate 1-6 5",
        "pixlstash set create Cats",
        "pixlstash set create Dogs",
        "pixlstash set create Drafts",
        "pixlstash add 13-20 --to-set Dogs",
        *[f"pixlstash token create --name t{n} --scope read" for n in range(3)],
        'pixlstash snapshot create --label "first"',
        'pixlstash snapshot create --label "second"',
        'pixlstash snapshot create --label "third"',
    ):
        ran = _bash(line, env, home)
        assert ran.returncode == 0, f"{line}: {ran.stdout}{ran.stderr}"
    return env


def _bash(line: str, env: dict[str, str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    if line.startswith(ON_A_TERMINAL):
        return _on_a_terminal(line, env, cwd, timeout)
    return subprocess.run(
        ["bash", "-c", line],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=f"{PASSWORD}\n{PASSWORD}\n{PASSWORD}\n",
    )


def _on_a_terminal(line: str, env: dict[str, str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``line`` in a pseudo-terminal, typing the password at each prompt as a person does. The
    terminal's output is both stdout and stderr."""
    status, shown = run_in_terminal(["/bin/bash", "-c", line], cwd, env, PASSWORD, timeout)
    text = shown.replace("\r\n", "\n")
    return subprocess.CompletedProcess(line, status, text, text)


def _serve(line: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """A server example: it must come up, then stop cleanly on Ctrl+C. It listens on a free port (9537 or
    8080 may be in use on this machine: by a PixlStash the developer runs, say)."""
    line = re.sub(r" --port \d+", "", line) + f" --port {free_port()}"
    server = subprocess.Popen(
        ["bash", "-c", f"exec {line}"], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    seen = b""
    deadline = time.monotonic() + 90
    while b"Uvicorn running" not in seen and server.poll() is None and time.monotonic() < deadline:
        if select.select([server.stderr], [], [], 0.2)[0]:
            seen += os.read(server.stderr.fileno(), 65536)
    server.send_signal(signal.SIGINT)
    out, err = server.communicate(timeout=60)
    return subprocess.CompletedProcess(line, server.returncode, out.decode(), (seen + err).decode(errors="replace"))


def test_the_help_has_examples_for_the_main_commands():
    found = [line for block in examples() for line in block]
    assert len(found) >= 50
    for command in ("import", "enrich", "export", "models pull", "doctor", "serve", "snapshot restore"):
        assert any(line.startswith(f"pixlstash {command}") for line in found), command


def _failure(line: str, env: dict[str, str], home: Path) -> str | None:
    """Why ``line`` did not run as it should, or None."""
    serving = line.startswith("pixlstash serve")
    ran = _serve(line, env, home) if serving else _bash(line, env, home)
    errors = [e for e in ran.stderr.strip().splitlines() if e.startswith("error:")]
    expected_here = next((why for part, why in CANNOT_SUCCEED_HERE.items() if part in line), None)
    if serving:
        ok = ran.returncode in (0, 130) and "Uvicorn running" in ran.stderr and "Shutting down" in ran.stderr
    elif expected_here:
        ok = ran.returncode in (0, 3) or (ran.returncode == 1 and len(errors) == 1 and expected_here in errors[0])
    else:
        ok = ran.returncode in (0, 3) or (ran.returncode == 1 and len(errors) == 1 and bool(NOT_HERE.match(errors[0])))
    if ok and "Traceback" not in ran.stderr:
        return None
    return f"{line}\n  exit {ran.returncode}\n  {ran.stdout[-600:]}\n  {ran.stderr[-1200:]}"


@pytest.mark.slow
def test_every_help_example_runs_as_written(help_env):
    home, template = Path(help_env["HOME"]), Path(help_env["PIXLSTASH_LIBRARY"])

    def run_block(n: int, block: list[str]) -> list[str]:
        """One help's examples in order (create, rename, show) on a copy of the library of their own."""
        library = template.with_name(f"library-{n}")
        shutil.copytree(template, library)
        env = {**help_env, "PIXLSTASH_LIBRARY": str(library)}
        failures = []
        for line in block:
            if any(marker in line for marker in NEEDS_TORCH) and not importlib.util.find_spec("torch"):
                continue
            failure = _failure(line, env, home)
            if failure:
                failures.append(failure)
        return failures

    # The blocks share nothing but $HOME's inputs, so they run side by side (mostly interpreter start-up).
    with ThreadPoolExecutor(3) as pool:
        failures = [f for found in pool.map(run_block, *zip(*enumerate(examples()), strict=True)) for f in found]
    assert not failures, "help examples that do not run:\n" + "\n".join(failures)
