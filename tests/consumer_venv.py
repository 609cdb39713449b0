"""The code our users run, for tests to read what PixlStash writes with it: the reference sources in
``../shared/reference/`` (beside the checkout; CI always has them) and a venv per consumer with that
consumer's own pins, made once and kept in ``.venv-consumers/`` at the repository's root."""

from __future__ import annotations

import fcntl
import hashlib
import json
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO.parent / "shared" / "reference"
CONSUMERS = Path(__file__).resolve().parent / "consumers"

__all__ = ["CONSUMERS", "REFERENCE", "consumer_answer", "consumer_python", "reference"]


def consumer_answer(
    command: list, *, env: dict | None = None, stdin: str | None = None, cwd: Path | None = None, timeout: int = 300
) -> tuple[Any, str]:
    """Run a consumer's own code (``command``: its python, a script and the script's arguments) and return
    the JSON its last line of output prints, and what it logged; it failing fails the test with its log's end."""
    done = subprocess.run(
        [str(part) for part in command], env=env, input=stdin, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1]), done.stderr


def reference(name: str) -> Path:
    """A reference source folder, or a skip saying what is missing."""
    folder = REFERENCE / name
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent: the consumers' reference sources live in ../shared/reference")
    return folder


def consumer_python(
    name: str, requirements: Path, without_deps: tuple[str, ...] = (), also: tuple[tuple[str, ...], ...] = ()
) -> Path:
    """The python of a venv holding ``requirements`` (exact pins) in front of this venv's packages (a .pth
    file appends this venv's site-packages, so torch, numpy and pillow are shared, not installed twice;
    pip leaves what lies outside the new venv alone); ``without_deps`` are installed without their own
    requirements, and each of ``also`` is one more pip install's arguments. Made again when any of these
    change."""
    venv = REPO / ".venv-consumers" / name
    venv.parent.mkdir(exist_ok=True)
    # One maker at a time: test processes running side by side may want the same venv at once.
    with open(venv.parent / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _made(venv, requirements, without_deps, also)


def _made(venv: Path, requirements: Path, without_deps: tuple[str, ...], also: tuple[tuple[str, ...], ...]) -> Path:
    name = venv.name
    python = venv / "bin" / "python"
    stamp = venv / "requirements.sha256"
    wanted = hashlib.sha256(requirements.read_bytes() + repr((without_deps, also)).encode()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, capture_output=True)
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # addsitedir, not a bare path: the project venv's own .pth files (its editable installs) count too.
    here = sysconfig.get_paths()["purelib"]
    Path(site, "zz_pixlstash_venv.pth").write_text(f"import site; site.addsitedir({here!r})\n")
    # --no-compile: a consumer imports a small part of what it installs (transformers, diffusers, pandas);
    # Python compiles those modules when first imported. Compiling all of it took half of each venv's
    # making (sd-scripts': 26 -> 12 s).
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile"]
    installs = [["--no-deps", *without_deps]] if without_deps else []
    installs += [["-r", str(requirements)], *[[*extra] for extra in also]]
    for extra in installs:
        done = subprocess.run([*pip, *extra], capture_output=True, text=True)
        if done.returncode:
            raise AssertionError(f"the {name} venv could not be made:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    stamp.write_text(wanted)
    return python
