"""Shared test helpers: isolated plugin installs and running the real CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PLUGIN_PACKAGES = Path(__file__).resolve().parent / "plugin_packages"


def pip_install_to(target: Path, *packages: Path) -> None:
    """A real pip install of ``packages`` into ``target`` (a folder put on PYTHONPATH by the test)."""
    subprocess.run(
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
            *map(str, packages),
        ],
        check=True,
        capture_output=True,
    )


def run_cli(
    *args: str,
    pythonpath: Path | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
    input: str | None = None,  # noqa: A002 - subprocess's own word
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m pixlstash ARGS`` in a fresh interpreter (``input`` on its standard input, else none)
    and return the finished process."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}
    if pythonpath is not None:
        full_env["PYTHONPATH"] = str(pythonpath)
    full_env.update(env or {})
    result = subprocess.run(
        [sys.executable, "-m", "pixlstash", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"pixlstash {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="session")
def installed_test_plugins(tmp_path_factory) -> Path:
    """The sepia and broken test plugins, really installed with pip into a folder of their own."""
    target = tmp_path_factory.mktemp("site")
    pip_install_to(target, PLUGIN_PACKAGES / "pixlstash-sepia", PLUGIN_PACKAGES / "pixlstash-broken")
    return target


@pytest.fixture
def library(tmp_path, plugin_manager):
    """A fresh library in a temporary folder (real SQLite file, real original store)."""
    from pixlstash.library import Library

    lib = Library.open(tmp_path / "library", plugin_manager=plugin_manager)
    yield lib
    lib.close()


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


@pytest.fixture
def live(library):
    """A real uvicorn server on 127.0.0.1 over the test's library."""
    from live_server import LiveServer

    with LiveServer(library) as server:
        yield server
