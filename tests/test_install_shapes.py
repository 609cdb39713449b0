"""Every install shape in fresh processes: the core alone, the core with each plugin alone, all plugins.

Each shape runs the CLI's commands, the server's start and each engine's first call through
``pixlstash enrich`` on the tiny test models, as real subprocesses (``install_shape_boot.py`` makes one
interpreter hold only what that shape installs). Listings and the server's start must not import an engine
runtime. Separately, every ordered pair of the native libraries PixlStash can load is imported in a fresh
interpreter: usearch 2.26.2-2.26.6 then onnxruntime crashed with a segmentation fault, and only the
import order hid it from the server. A native crash fails the test with the shape and the order.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from corpus import photo
from serve_process import free_port

BOOT = Path(__file__).resolve().parent / "install_shape_boot.py"
# The core alone and with each plugin alone without its optional extras (what `pip install ./pixlstash-core
# ./pixlstash-plugins/X` gives); everything with the extras (what scripts/setup --dev gives).
SHAPES = {
    "core": (),
    "core+wd-tagger": ("wd-tagger",),
    "core+faces": ("faces",),
    "core+clip": ("clip",),
    "core+joycaption": ("joycaption",),
    "all": ("extras", "wd-tagger", "faces", "clip", "joycaption"),
}
TINY_ENGINES = {
    "wd-tagger": ["wd-tagger/tiny-wd"],
    "faces": ["faces/tiny-pack"],
    "clip": ["clip/tiny-clip"],
    "joycaption": ["joycaption/tiny", "joycaption/tiny-tags"],
}
# The native libraries the core and the plugins load, in the modules that load them.
NATIVE = [
    "usearch.index",  # the library itself: a bad version in the lock fails here even where our loader copes
    "pixlstash.index.usearch_loader",  # how PixlStash imports it
    "av",
    "pyvips",
    "pillow_heif",
    "pillow_jxl",
    "rawpy",
    "pyexiv2",  # exiv2 reads XMP at import
    "c2pa",  # Content Credentials at import (c2pa-rs)
    "onnxruntime",
    "cv2",
    "torch",
]


def _signal_name(status: int) -> str:
    return signal.Signals(-status).name if status < 0 else f"exit {status}"


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> Path:
    """One tiny model per engine kind, in the folders the plugins offer as engines."""
    root = tmp_path_factory.mktemp("shape-models")
    from tiny_pack import build_tiny_pack
    from tiny_wd import build_tiny_wd

    build_tiny_wd(root / "wd-tagger" / "tiny-wd")
    build_tiny_pack(root / "faces" / "tiny-pack")
    if importlib.util.find_spec("open_clip"):
        from tiny_clip import build_tiny_clip

        build_tiny_clip(root / "clip" / "tiny-clip")
    if importlib.util.find_spec("transformers"):
        from tiny_joycaption import build_tiny_joycaption

        build_tiny_joycaption(root / "joycaption" / "tiny")
    return root


@pytest.fixture(scope="session")
def shape_env(tiny_models, tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("shape-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}
    env.update(
        PIXLSTASH_MODELS_DIR=str(tiny_models),
        HF_HOME=str(home / "hf"),
        HF_HUB_OFFLINE="1",
        INSIGHTFACE_HOME=str(home / "insightface"),
    )
    return env


@pytest.fixture(scope="session")
def template_library(shape_env, tmp_path_factory) -> Path:
    """Three pictures imported by the core alone (nothing queued: no engine there)."""
    folder = tmp_path_factory.mktemp("shape-pictures")
    for n in range(3):
        photo(96, 80, seed=n).save(folder / f"p{n}.png")
    root = tmp_path_factory.mktemp("shape-template") / "lib"
    ran = _run("core", shape_env, "import", str(folder), "--library", str(root))
    assert ran.returncode == 0, ran.stderr
    return root


def _run(shape: str, env: dict[str, str], *args: str, report: Path | None = None, timeout: float = 300):
    full = {**env, **({"SHAPE_REPORT": str(report)} if report else {})}
    command = [sys.executable, str(BOOT), ",".join(SHAPES[shape]), "--", *args]
    return subprocess.run(command, env=full, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def _heavy(report: Path) -> list[str]:
    return json.loads(report.read_text())


def _checked(shape: str, ran, args) -> None:
    where = f"install shape {shape}: `pixlstash {' '.join(args)}`"
    assert ran.returncode >= 0, f"{where} died of {_signal_name(ran.returncode)}\n{ran.stderr[-3000:]}"
    assert "crashed with" not in ran.stderr, f"{where}: a native crash\n{ran.stderr[-3000:]}"
    assert ran.returncode == 0, f"{where} failed ({ran.returncode}):\n{ran.stdout}\n{ran.stderr}"


TASK_OF = {"wd-tagger": "tagger", "faces": "faces", "clip": "embedder", "joycaption": "captioner"}


def _serve(shape: str, env: dict[str, str], library: Path, report: Path, engines_to_run: list[str]) -> list[str]:
    """Start the server in this shape, list engines and pictures, run each engine once on a picture (in
    its own process), stop it; the engines it offered."""
    token = _run(shape, env, "token", "create", "--library", str(library), "--scope", "write")
    _checked(shape, token, ["token", "create"])
    port = free_port()
    command = [sys.executable, str(BOOT), ",".join(SHAPES[shape]), "--", "serve", "--library", str(library)]
    server = subprocess.Popen(
        [*command, "--port", str(port)],
        env={**env, "SHAPE_REPORT": str(report)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, f"shape {shape}: serve ended ({_signal_name(server.returncode)})"
            try:
                httpx.get(f"{url}/api/v1/version", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, f"shape {shape}: the server did not answer within 60 s"
                time.sleep(0.2)
        headers = {"Authorization": f"Bearer {token.stdout.strip()}"}
        engines = httpx.get(f"{url}/api/v1/engines", headers=headers, timeout=30)
        assert engines.status_code == 200, engines.text
        pictures = httpx.get(f"{url}/api/v1/pictures", headers=headers, timeout=30)
        assert pictures.status_code == 200 and len(pictures.json()["items"]) == 3, pictures.text
        for engine in engines_to_run:
            body = {"task": TASK_OF[engine.split("/")[0]], "engine": engine, "picture_ids": [1], "force": True}
            job = httpx.post(f"{url}/api/v1/jobs", headers=headers, json=body, timeout=30).json()["job"]
            deadline = time.monotonic() + 120
            while (state := httpx.get(f"{url}/api/v1/jobs/{job['id']}", headers=headers, timeout=30).json())["job"][
                "state"
            ] in ("queued", "running"):
                assert time.monotonic() < deadline, f"shape {shape}: {engine} did not finish in the server"
                time.sleep(0.1)
            assert state["job"]["state"] == "done" and state["job"]["failed"] == 0, state
        time.sleep(1.5)  # the services' first rounds (queue catch-up, index check) run while idle
    finally:
        # Ctrl+C, as a person stops it: uvicorn shuts down, then hands the interrupt on (exit 130), and the
        # report of imported modules is written at exit (a SIGTERM would end the process before atexit).
        server.send_signal(signal.SIGINT)
        _, stderr = server.communicate(timeout=60)
    assert server.returncode in (0, 130), f"shape {shape}: serve ended with {_signal_name(server.returncode)}\n{stderr}"
    return [engine["id"] for engine in engines.json()]


@pytest.mark.slow
@pytest.mark.parametrize("shape", list(SHAPES))
def test_each_install_shape_lists_serves_and_runs_its_engines(shape, shape_env, template_library, tmp_path):
    plugins = [p for p in SHAPES[shape] if p != "extras"]
    if {"clip", "joycaption"} & set(plugins) and not importlib.util.find_spec("torch"):
        pytest.skip("the torch plugins are not installed here (scripts/setup --dev installs them)")
    library = tmp_path / "lib"
    shutil.copytree(template_library, library)
    report = tmp_path / "modules.json"

    for args in (["--help"], ["ls", "--library", str(library)], ["models", "--library", str(library)]):
        ran = _run(shape, shape_env, *args, report=report)
        _checked(shape, ran, args)
        assert _heavy(report) == [], f"shape {shape}: `pixlstash {' '.join(args)}` imported {_heavy(report)}"

    # Each engine's first call in a fresh process (forced: the first run also catches up with the on-import
    # tasks of every engine it finds); with every plugin, all of them in one process, in the order the
    # default tasks reach them (embedder, tagger, faces).
    expected = sorted(e for plugin in plugins for e in TINY_ENGINES[plugin])
    for engine in expected if len(plugins) == 1 else []:  # "all": each engine ran alone in its own shape
        args = ["enrich", "--library", str(library), "--engine", engine, "--force"]
        ran = _run(shape, shape_env, *args)
        _checked(shape, ran, args)
        assert "done, 3 done, 0 failed" in ran.stdout, ran.stdout
    if len(plugins) > 1:
        args = ["enrich", "--library", str(library), "--force"]
        ran = _run(shape, shape_env, *args)
        _checked(shape, ran, args)
        assert ran.stdout.count("0 failed") >= 3, ran.stdout

    # Served with nothing left to do, the server loads no engine runtime at start or while idle, nor when it
    # runs an engine: that happens in the engine's own process.
    offered = _serve(shape, shape_env, library, report, expected[:1])
    assert _heavy(report) == [], f"shape {shape}: the server (start, idle, an engine's job) imported {_heavy(report)}"
    assert sorted(e for e in offered if "tiny" in e) == expected


def _import_pair(first: str, second: str) -> str | None:
    """Why importing ``first`` then ``second`` in a fresh interpreter failed, or None."""
    ran = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", f"import {first}; import {second}"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    if ran.returncode == 0:
        return None
    return f"importing {first} then {second}: {_signal_name(ran.returncode)}\n{ran.stderr[-2000:]}"


@pytest.mark.slow
def test_native_libraries_load_in_either_order():
    """Every ordered pair of the native libraries, each pair in a fresh interpreter (three at a time)."""
    present = [m for m in NATIVE if importlib.util.find_spec(m.split(".", 1)[0]) is not None]
    assert "onnxruntime" in present and "usearch.index" in present  # the pair that crashed is always checked
    pairs = list(itertools.permutations(present, 2))
    with ThreadPoolExecutor(3) as pool:
        failures = [f for f in pool.map(lambda pair: _import_pair(*pair), pairs) if f]
    assert not failures, "\n\n".join(failures)
