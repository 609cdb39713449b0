"""Shared test helpers: isolated plugin installs, the real CLI (in this process or its own), and the markers."""

from __future__ import annotations

import ast
import contextlib
import inspect
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PLUGIN_PACKAGES = Path(__file__).resolve().parent / "plugin_packages"

# The tests press Ctrl+C on the processes they start, as a person at a terminal does. A test run started in
# the background (`cmd &` in a script, nohup) ignores SIGINT, and every child would inherit that and sit
# through the press; Python's own handler is reset to the default in a child, so the children get a
# terminal's Ctrl+C whatever started the run.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Python caches each module's bytecode where it first imports it (.venv, the tree; both ignored by git).
# Where PYTHONDONTWRITEBYTECODE is set (this CI machine's environment sets it), every one of the suite's
# hundreds of processes compiled torch and transformers from source again (9.5 s to import both, 4.4 s
# cached); set here, at the first import, it holds for this process and every child however pytest was started.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False


def pip_install_to(target: Path, *packages: Path) -> None:
    """A real pip install of ``packages`` into ``target`` (a folder put on PYTHONPATH by the test).

    Each package is built from a copy of its folder: a build writes ``build/`` and ``*.egg-info`` beside
    its sources, and two tests installing one package at once (on two workers) would build in each
    other's way."""
    with tempfile.TemporaryDirectory(prefix="pip-sources-") as sources:
        copies = []
        for package in packages:
            copy = Path(sources) / package.name
            shutil.copytree(package, copy, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
            copies.append(copy)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--no-build-isolation",
                "--target",
                str(target),
                *map(str, copies),
            ],
            capture_output=True,
            text=True,
        )
    if done.returncode != 0:
        raise AssertionError(f"pip install of {', '.join(p.name for p in packages)} failed:\n{done.stderr[-4000:]}")


def install_plugin_module(tmp_path: Path, name: str, source: str) -> Path:
    """A one-module plugin package ``pixlstash-NAME`` (entry point ``NAME``, module ``pixlstash_NAME``)
    really installed with pip into a folder; returns the folder, for PYTHONPATH."""
    module = f"pixlstash_{name}"
    package = tmp_path / f"pixlstash-{name}"
    (package / module).mkdir(parents=True)
    (package / module / "__init__.py").write_text(source)
    (package / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "pixlstash-{name}"\nversion = "1"\n\n'
        f'[project.entry-points.pixlstash]\n{name} = "{module}"\n'
    )
    site = tmp_path / "site"
    pip_install_to(site, package)
    return site


def self_signed_certificate(folder: Path, name: str = "127.0.0.1") -> tuple[Path, Path]:
    """A one-day self-signed certificate and its key (openssl), for ``--ssl-certfile`` / ``--ssl-keyfile``."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    alt = f"IP:{name}" if name[0].isdigit() else f"DNS:{name}"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            f"/CN={name}",
            "-addext",
            f"subjectAltName={alt}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def run_in_terminal(
    argv: list[str],
    cwd: Path,
    env: dict[str, str],
    password: str,
    timeout: float = 600,
    answers: dict[bytes, str] | None = None,
):
    """Run ``argv`` under a pseudo terminal, as in a person's shell, typing ``password`` at each password
    prompt (getpass discards whatever is typed before it asks) and ``answers[ending]`` at each other
    prompt ending so (``{b"[y/n]:": "y"}``). Returns the exit status and what the terminal showed; fails
    the test when it does not finish within ``timeout`` seconds."""
    typed = {b"password:": password, b"again:": password, **(answers or {})}
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command in a terminal
        os.chdir(cwd)
        os.execve(argv[0], argv, env)
    shown = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # the terminal closed: the command ended
                    break
                if not chunk:
                    break
                shown += chunk
                ending = next((e for e in typed if shown.rstrip().lower().endswith(e)), None)
                if ending is not None:
                    os.write(fd, typed[ending].encode() + b"\n")
                    shown += b"\n"
        else:
            os.kill(pid, 9)
            raise AssertionError(f"{' '.join(argv)} did not finish in {timeout} s:\n{shown.decode()}")
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


def wait_for(predicate, what: str, timeout: float = 120.0):
    """``predicate()``'s first true value, asked every few milliseconds; fails after a generous ceiling
    (waiting for the event, never for a fixed time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}: {predicate()}")


def python_prints(code: str, env: dict[str, str] | None = None, timeout: int = 120) -> str:
    """What ``code`` prints when run by a fresh interpreter (with ``env`` as its whole environment, if given):
    for what a new process imports and sees. It failing fails the test with its log's end."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def run_cli(
    *args: str,
    pythonpath: Path | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
    input: str | None = None,  # noqa: A002 - subprocess's own word
    process: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``pixlstash ARGS`` (``input`` on its standard input, else none) and return how it finished.

    In this process by default, through the CLI's own ``main`` with click's ``CliRunner`` isolation (its
    own standard streams and environment): 4 ms instead of a 0.2 s interpreter start. In a fresh
    ``python -m pixlstash`` when the test is about the process itself (``process=True``: start-up imports,
    signals, exit codes), needs other installed packages (``pythonpath``), or sets a variable that is not
    PixlStash's own: PixlStash reads its variables when it uses them, but other libraries read theirs once,
    on import (huggingface_hub's HF_ENDPOINT and HF_HOME), which in this process has long happened."""
    foreign = any(not name.startswith("PIXLSTASH_") for name in env or {})
    if os.environ.get("PIXLSTASH_TEST_CLI_PROCESS"):
        result = _run_cli_process(args, pythonpath, env, input)
    elif process or foreign or pythonpath is not None:
        running = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
        if running in _FAST_TIER:  # (the `cli` marker's pattern cannot read what a test's env holds)
            raise AssertionError("this test starts pixlstash in a process of its own: mark it @pytest.mark.cli")
        result = _run_cli_process(args, pythonpath, env, input)
    else:
        result = _run_cli_here(args, env, input)
    if check and result.returncode != 0:
        raise AssertionError(f"pixlstash {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def _run_cli_process(args, pythonpath, env, input) -> subprocess.CompletedProcess[str]:  # noqa: A002
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}
    if pythonpath is not None:
        full_env["PYTHONPATH"] = str(pythonpath)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pixlstash", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
    )


def _run_cli_here(args, env, input) -> subprocess.CompletedProcess[str]:  # noqa: A002
    """``pixlstash.cli.main(args)`` as a fresh process would see it: no PIXLSTASH_ variable but ``env``'s,
    empty standard input unless given, and the root logger unset so the CLI's own logging set-up writes
    to its standard error, not to pytest's capture."""
    import logging

    from click.testing import CliRunner

    from pixlstash.cli import main

    overrides = {k: None for k in os.environ if k.startswith("PIXLSTASH_")} | (env or {})
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    root.handlers.clear()
    root.setLevel(logging.WARNING)
    try:
        with CliRunner().isolation(input=input or "", env=overrides) as (out, err, _mixed):
            try:
                status = main(list(args))
            except SystemExit as stop:  # a command that exits itself (click's --version, ctx.exit)
                status = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            sys.stdout.flush()
            sys.stderr.flush()
            stdout, stderr = out.getvalue(), err.getvalue()
    finally:
        for handler in root.handlers[:]:
            root.removeHandler(handler)
        root.handlers[:] = handlers
        root.setLevel(level)
    return subprocess.CompletedProcess(
        ["pixlstash", *args], status, stdout.decode(errors="replace"), stderr.decode(errors="replace")
    )


@pytest.fixture(scope="session")
def installed_test_plugins(tmp_path_factory) -> Path:
    """The sepia and broken test plugins, really installed with pip into a folder of their own."""
    target = tmp_path_factory.mktemp("site")
    pip_install_to(target, PLUGIN_PACKAGES / "pixlstash-sepia", PLUGIN_PACKAGES / "pixlstash-broken")
    return target


@pytest.fixture
def library(request, tmp_path, plugin_manager):
    """A fresh library in a temporary folder (real SQLite file, real original store); in a module that has a
    ``library_template`` fixture (a library it made once, as ``(root, ...)``), a copy of that one."""
    from pixlstash.library import Library

    if hasattr(request.module, "library_template"):
        root = request.getfixturevalue("library_template")[0]
        with copy_of_library(root, tmp_path / "library", plugin_manager) as lib:
            yield lib
        return
    lib = Library.open(tmp_path / "library", plugin_manager=plugin_manager)
    yield lib
    lib.close()


@contextlib.contextmanager
def copy_of_library(template: Path, into: Path, plugin_manager):
    """A library opened on a copy of ``template``: a library a module made once and closed, so each test
    starts from the same pictures without importing them again (the ids are the template's)."""
    from pixlstash.library import Library

    shutil.copytree(template, into)
    with Library.open(into, plugin_manager=plugin_manager) as library:
        yield library


def library_snapshot(lib) -> dict:
    """Everything a bad import must leave unchanged: database rows and the files of every original."""
    tables = [
        "pictures",
        "picture_tags",
        "tags",
        "captions",
        "generation",
        "collection_members",
        "collections",
        "projects",
        "project_members",
        "folder_files",
    ]
    rows = {t: lib.db.query(f"SELECT * FROM {t} ORDER BY 1") for t in tables}
    files = {str(p.relative_to(lib.root)): p.read_bytes() for p in (lib.root / "originals").rglob("*") if p.is_file()}
    return {"rows": rows, "files": files}


@pytest.fixture(scope="session")
def comfyui(tmp_path_factory):
    """A real ComfyUI with the node pack, started once for the whole session (see real_comfyui)."""
    from real_comfyui import RealComfyUI

    comfy = RealComfyUI(tmp_path_factory.mktemp("comfyui")).start()
    yield comfy
    comfy.stop()


@pytest.fixture(scope="session")
def comfyui_without_pack(tmp_path_factory):
    """A real ComfyUI without the node pack (its owner has not installed it), started once a session."""
    from real_comfyui import RealComfyUI

    comfy = RealComfyUI(tmp_path_factory.mktemp("bare-comfyui"), with_pack=False).start()
    yield comfy
    comfy.stop()


class SharedChromium:
    """One Chromium (and one Playwright driver) per test process, kept from one browser test to the next,
    across modules: starting both for every module cost 1-2 s of CPU each time. Playwright's
    sync API marks its event loop as running in this thread while it lives, so ``asyncio.run`` (and another
    ``sync_playwright``) fails beside it: it is stopped before any test that does not use it, wherever that
    test lives (a plugin object's hook, not a conftest's: those see only the tests below their folder)."""

    def __init__(self) -> None:
        self._driver = None
        self._browser = None

    def get(self):
        if self._browser is None or not self._browser.is_connected():
            self.stop()
            from playwright.sync_api import sync_playwright
            from ui_support import launch

            self._driver = sync_playwright()
            self._browser = launch(self._driver.start())
        return self._browser

    def stop(self) -> None:
        driver, browser, self._driver, self._browser = self._driver, self._browser, None, None
        if browser is not None and browser.is_connected():
            browser.close()
        if driver is not None:
            driver.__exit__(None, None, None)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        if "browser" not in item.fixturenames:
            self.stop()

    def pytest_sessionfinish(self):
        self.stop()


def pytest_configure(config):
    config.pluginmanager.register(SharedChromium(), "shared-chromium")


@pytest.fixture
def browser(pytestconfig):
    """Debian's Chromium, headless, driven by Playwright (ui_support says how); shared by the process's
    browser tests that follow one another. Asked for by each test, not once a module: a test without it in
    between stops it."""
    return pytestconfig.pluginmanager.get_plugin("shared-chromium").get()


@pytest.fixture
def live(library):
    """A real uvicorn server on 127.0.0.1 over the test's library."""
    from live_server import LiveServer

    with LiveServer(library) as server:
        yield server


# -- markers, set from what a test uses ---------------------------------------------------------------
# Each test is marked by what it needs, read from its own code, the fixtures it uses and the module-level
# helpers it calls (one level): `scripts/test --fast` runs the tests that need none of these.
NEEDS = {
    "browser": r"playwright|chromium|\bpage\.(goto|locator|get_by_\w+|click|keyboard|mouse|wait_for\w*)\b",
    "comfyui": r"\bcomfyui(_without_pack)?\b|RealComfyUI|real_comfyui",
    # run_cli runs in this process unless asked for its own (process=True) or given other packages (pythonpath=).
    "cli": (
        r"\bprocess=True|\bpythonpath=|run_in_terminal\(|\"-m\", \"pixlstash\"|ServeProcess|serve_process\b"
        r"|\bst\b.*schemathesis"
    ),
    "install": (
        r"pip_install_to|install_plugin_module|installed_test_plugins|consumer_python|\"pip\",\s*\"(install|wheel)\"|\bvenv\b"
    ),
    "ray": r"\bray\b",
    "models": r"full_models|tiny_[a-z_]+\(|from_pretrained|onnx\.helper|open_clip\.create",
    "container": r"podman|\bdocker\b|Dockerfile",
    "s3": r"seaweed|SeaweedFS|\bweed\b",
}
_NEEDS = {name: re.compile(pattern) for name, pattern in NEEDS.items()}
SHARED_SERVICES = {"comfyui", "ray", "s3", "container"}


def _source(thing) -> str:
    try:
        return inspect.getsource(thing)
    except (OSError, TypeError):
        return ""


def _module_helpers(module) -> dict[str, str]:
    helpers = getattr(module, "_pixlstash_helpers", None)
    if helpers is None:
        helpers = {
            name: _source(value)
            for name, value in vars(module).items()
            if inspect.isfunction(value) and value.__module__ == module.__name__ and not name.startswith("test_")
        }
        module._pixlstash_helpers = helpers
    return helpers


def needs_of(item) -> set[str]:
    """What a test needs, from its code, its fixtures' code and the module's helpers it names."""
    function = getattr(item, "function", None)
    own = _source(function)
    texts = [own]
    for name in item.fixturenames:
        for definition in item._fixtureinfo.name2fixturedefs.get(name, ()):
            texts.append(name + " " + _source(definition.func))
    helpers = _module_helpers(item.module) if getattr(item, "module", None) else {}
    try:
        called = {node.id for node in ast.walk(ast.parse(inspect.cleandoc("\n" + own))) if isinstance(node, ast.Name)}
    except SyntaxError:
        called = set(helpers)
    texts += [helpers[name] for name in called & set(helpers)]
    text = "\n".join(texts)
    # A module may also say it outright (pytestmark): its tests then share the service's one worker too.
    declared = {mark.name for mark in item.iter_markers() if mark.name in NEEDS}
    return declared | {name for name, pattern in _NEEDS.items() if pattern.search(text)}


def pytest_addoption(parser):
    parser.addoption(
        "--fast", action="store_true", help="only the tests not marked slow that need none of: " + ", ".join(NEEDS)
    )


def _grouped(config, item, group: str) -> None:
    """pytest-xdist 3.8 keeps a group on one worker by the "@group" its worker appends to each test's node
    id, but it appends to ``_nodeid``, which pytest 9.2 no longer reads (``nodeid`` is made from ``_id``):
    every group was spread over the workers (two container builds at once, one worker's clean-up under
    the other's build). In a loadgroup worker, the id gets its suffix here, as xdist means it to."""
    if getattr(config.option, "loadgroup", False) and "@" not in item.nodeid:
        from _pytest.nodeid import NodeId

        item._id = NodeId.parse(f"{item.nodeid}@{group}")


# The ids of the tests `--fast` runs. (Not a runtest hook: a conftest's runtest hooks see only the tests below
# its folder, and the plugins' tests are elsewhere.)
_FAST_TIER: set[str] = set()


# First: pytest-xdist's worker reads the xdist_group marks in its own collection hook, which pluggy would
# otherwise call before this one.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    kept, left_out = [], []
    for item in items:
        needs = needs_of(item)
        for name in needs:
            item.add_marker(name)
        # Tests that share a session's service (one ComfyUI, one Ray cluster, one SeaweedFS, the container
        # build) run on one worker when the suite runs on several (scripts/test: --dist loadgroup).
        if shared := sorted(needs & SHARED_SERVICES):
            item.add_marker(pytest.mark.xdist_group(shared[0]))
            _grouped(config, item, shared[0])
        elif group := item.get_closest_marker("xdist_group"):  # a group a test asks for (a costly fixture)
            _grouped(config, item, group.args[0] if group.args else group.kwargs["name"])
        heavy = needs or item.get_closest_marker("slow")
        (left_out if heavy and config.getoption("--fast") else kept).append(item)
        if not heavy:
            _FAST_TIER.add(item.nodeid)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept
