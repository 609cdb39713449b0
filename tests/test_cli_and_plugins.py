"""The CLI in real subprocesses, with really installed third-party plugins."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO, pip_install_to, python_prints, run_cli
from PIL import Image

from pixlstash import __version__


def test_version_and_help():
    from pixlstash.db.schema import SCHEMA_VERSION

    assert run_cli("version").stdout.startswith(f"pixlstash {__version__} (library schema {SCHEMA_VERSION}, ")
    assert json.loads(run_cli("version", "--json").stdout)["schema"] == SCHEMA_VERSION
    help_text = run_cli("--help").stdout
    for command in ("serve", "plugins", "version"):
        assert re.search(rf"^\s+{command}\s", help_text, re.M), command


def test_installed_plugin_is_listed_and_its_engine_used(installed_test_plugins):
    report = json.loads(run_cli("plugins", "--json", pythonpath=installed_test_plugins).stdout)
    sepia = next(p for p in report["plugins"] if p["name"] == "sepia")
    assert sepia["distribution"] == "pixlstash-sepia"
    assert sepia["version"] == "1.2.3"
    assert sepia["hooks"] == ["register_taggers"]
    assert {"id": "sepia/warmth", "task": "tagger", "version": "1", "label": ""} in report["engines"]

    # The core's registry hands out the plugin's engine, and the engine really runs.
    code = (
        "from PIL import Image; from pixlstash import make_plugin_manager, EngineRegistry;"
        "t = EngineRegistry.from_plugin_manager(make_plugin_manager()).get('tagger', 'sepia/warmth');"
        "print(t.tag([Image.new('RGB', (4, 4), (200, 120, 40))])[0][0].name)"
    )
    assert python_prints(code, env={"PYTHONPATH": str(installed_test_plugins), "PATH": "/usr/bin:/bin"}) == "sepia"


def test_broken_plugin_is_reported_and_skipped(installed_test_plugins):
    result = run_cli("plugins", "--json", pythonpath=installed_test_plugins)
    report = json.loads(result.stdout)
    (error,) = [e for e in report["errors"] if e["name"] == "broken"]
    assert error["distribution"] == "pixlstash-broken"
    assert "needs a library that is not installed" in error["error"]
    assert "broken" not in {p["name"] for p in report["plugins"]}
    text = run_cli("plugins", pythonpath=installed_test_plugins).stdout
    assert "failed to load:" in text and "broken (pixlstash-broken)" in text


def test_load_plugins_env_chooses_which_load(installed_test_plugins):
    none = json.loads(
        run_cli("plugins", "--json", pythonpath=installed_test_plugins, env={"PIXLSTASH_LOAD_PLUGINS": ""}).stdout
    )
    assert {p["name"] for p in none["plugins"]} == {"local-storage", "watermark", "quality"}  # the built-ins
    assert none["errors"] == []
    only = json.loads(
        run_cli("plugins", "--json", pythonpath=installed_test_plugins, env={"PIXLSTASH_LOAD_PLUGINS": "sepia"}).stdout
    )
    assert "sepia" in {p["name"] for p in only["plugins"]} and only["errors"] == []
    disabled = json.loads(
        run_cli(
            "plugins", "--json", pythonpath=installed_test_plugins, env={"PIXLSTASH_DISABLED_PLUGINS": "sepia,broken"}
        ).stdout
    )
    assert "sepia" not in {p["name"] for p in disabled["plugins"]} and disabled["errors"] == []


def test_docs_example_plugin_installs_and_runs(tmp_path):
    pip_install_to(tmp_path, REPO / "docs" / "examples" / "pixlstash-aspect-tagger")
    report = json.loads(run_cli("plugins", "--json", pythonpath=tmp_path).stdout)
    assert any(e["id"] == "aspect/ratio" and e["task"] == "tagger" for e in report["engines"])
    code = (
        "from PIL import Image; from pixlstash import make_plugin_manager, EngineRegistry;"
        "t = EngineRegistry.from_plugin_manager(make_plugin_manager()).get('tagger', 'aspect/ratio');"
        "print([r[0].name for r in t.tag([Image.new('RGB', (30, 10)), Image.new('RGB', (10, 30))])])"
    )
    assert (
        python_prints(code, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}) == "['landscape', 'portrait']"
    )

    # Its command: listed by --help without importing it, and run on a library.
    listed = run_cli("--help", pythonpath=tmp_path, env={"XDG_CACHE_HOME": str(tmp_path / "cache")}).stdout
    assert "  aspects " in listed and "Count the library's pictures by shape" in listed
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    for n, size in enumerate([(30, 10), (10, 30), (20, 20), (40, 20)]):
        Image.new("RGB", size, (n * 40, 90, 200)).save(pictures / f"{n}.png")
    library = str(tmp_path / "library")
    run_cli("import", str(pictures), "--library", library, pythonpath=tmp_path)
    counted = run_cli("aspects", "--library", library, pythonpath=tmp_path)
    assert counted.stdout.strip() == "2 landscape, 1 portrait, 1 square"


def test_docs_example_matches_the_shipped_example():
    doc = (REPO / "docs" / "plugins.md").read_text()
    example = (REPO / "docs" / "examples" / "pixlstash-aspect-tagger" / "pixlstash_aspect_tagger.py").read_text()
    assert example.strip() in doc
    assert len(example.strip().splitlines()) <= 25


def test_importing_core_and_listing_plugins_loads_no_torch_or_starlette():
    code = (
        "import sys, pixlstash, pixlstash.testing, pixlstash.cli;"
        "from pixlstash import make_plugin_manager, EngineRegistry;"
        "EngineRegistry.from_plugin_manager(make_plugin_manager());"
        "bad = [m for m in ('torch', 'starlette', 'uvicorn', 'transformers') if m in sys.modules];"
        "print(bad)"
    )
    assert python_prints(code) == "[]"


def test_core_source_never_imports_web_or_torch():
    core = REPO / "pixlstash-core" / "pixlstash"
    pattern = re.compile(r"^\s*(from|import)\s+(starlette|uvicorn|torch|pixlstash_web|transformers)\b", re.M)
    offenders = [str(p.relative_to(REPO)) for p in core.rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


def test_every_hookspec_has_a_reference_heading():
    import inspect

    from pixlstash import hookspecs

    doc = (REPO / "docs" / "plugins.md").read_text()
    headings = set(re.findall(r"^### (\w+\([^)]*\))$", doc, re.M))
    specs = [f for name, f in vars(hookspecs).items() if callable(f) and hasattr(f, "pixlstash_spec")]
    assert specs, "no hookspecs found"
    for spec in specs:
        params = ", ".join(inspect.signature(spec).parameters)
        assert f"{spec.__name__}({params})" in headings, f"docs/plugins.md lacks '### {spec.__name__}({params})'"
        assert spec.__doc__, spec.__name__


def test_no_module_is_too_long():
    too_long = [
        str(p.relative_to(REPO))
        for p in REPO.glob("pixlstash-*/**/*.py")
        if ".venv" not in p.parts and len(p.read_text().splitlines()) > 600
    ]
    assert too_long == []


def test_serve_answers_version(tmp_path):
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "pixlstash", "serve", "--library", str(tmp_path / "lib"), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/version", timeout=2) as r:
                    body = json.loads(r.read())
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        assert body["version"] == __version__
    finally:
        proc.terminate()
        proc.wait(10)
    assert Path(tmp_path).exists()
