"""What pip users get: distributions named so that only ours can be installed (``pixlstash`` on PyPI is
another project), licence texts and project URLs in every wheel, and the files the CLI points to inside
the core's wheel (the lock for ``pixlstash doctor``, the guide for ``pixlstash docs``)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = [REPO / "pixlstash-core", REPO / "pixlstash-web", *sorted((REPO / "pixlstash-plugins").iterdir())]


def _requirement_names(pyproject: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    return [re.match(r"[A-Za-z0-9_.\-]+", r).group(0).lower() for r in requirements]


def test_nothing_depends_on_the_name_another_project_holds():
    pyprojects = [p / "pyproject.toml" for p in PACKAGES]
    pyprojects += sorted((REPO / "tests" / "plugin_packages").glob("*/pyproject.toml"))
    pyprojects += sorted((REPO / "docs" / "examples").glob("*/pyproject.toml"))
    for pyproject in pyprojects:
        names = _requirement_names(pyproject)
        assert "pixlstash" not in names, f"{pyproject} depends on 'pixlstash', another project's name on PyPI"
    assert tomllib.loads((REPO / "pixlstash-core" / "pyproject.toml").read_text())["project"]["name"] == (
        "pixlstash-core"
    )
    for package in PACKAGES[1:]:
        assert "pixlstash-core" in _requirement_names(package / "pyproject.toml"), package


def test_every_package_carries_the_licence_and_declares_it():
    licence = (REPO / "LICENSE").read_text()
    assert "Apache License" in licence and "Version 2.0" in licence
    for package in PACKAGES:
        assert (package / "LICENSE").read_text() == licence, package
        project = tomllib.loads((package / "pyproject.toml").read_text())["project"]
        assert project["license"] == "Apache-2.0" and project["license-files"] == ["LICENSE"]
        assert project["urls"]["Homepage"].startswith("https://")
    assert "MIT License" in (REPO / "comfyui-pixlstash" / "LICENSE").read_text()


@pytest.mark.slow
def test_the_core_wheel_holds_its_licence_urls_lock_and_guide(tmp_path):
    # Built from a copy: a build writes build/ beside the sources, in the way of any other build at once.
    # The copy keeps the links to the lock and the guide, as the wheel's package data names them.
    source = tmp_path / "pixlstash-core"
    shutil.copytree(
        REPO / "pixlstash-core", source, symlinks=False, ignore=shutil.ignore_patterns("build", "*.egg-info")
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("pixlstash_core-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        lock = archive.read("pixlstash/constraints.txt").decode()
        guide = archive.read("pixlstash/cli.md").decode()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "Name: pixlstash-core\n" in metadata and "Project-URL: Homepage, https://" in metadata
    assert "usearch!=2.26.2" in metadata  # the known-bad releases excluded where pip sees them
    assert lock == (REPO / "constraints.txt").read_text()  # the link became the file
    assert guide == (REPO / "docs" / "cli.md").read_text()
