"""The command line starts at once: a command imports only what it uses (issue 46). These check what is
imported, not how long it takes (benchmarks/bench_cli_start.py measures that)."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest

import pixlstash
from pixlstash.cli.lazy_commands import BUILT_IN

HEAVY = ("numpy", "PIL", "usearch", "pyvips", "onnxruntime", "torch", "pixlstash.library")


def _modules_after(argv: list[str], env_extra: dict[str, str] | None = None) -> set[str]:
    code = (
        "import sys, json\n"
        "from pixlstash.cli import main\n"
        "sys.stdout = open('/dev/null', 'w')\n"
        f"status = main({argv!r})\n"
        "sys.stderr.write(json.dumps([status, sorted(sys.modules)]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    status, modules = json.loads(done.stderr.strip().splitlines()[-1])
    assert status == 0, done.stderr
    return set(modules)


@pytest.mark.parametrize("argv", [["--help"], ["version"]])
def test_help_and_version_import_no_engine_runtime(argv):
    modules = _modules_after(argv)
    loaded = sorted(m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY)
    assert loaded == [], f"{argv} imported {loaded}"
    engine_modules = sorted(m for m in modules if m.startswith("pixlstash_") and m.endswith(".engine"))
    assert engine_modules == [], f"{argv} imported plugin engines {engine_modules}"


def test_root_help_still_lists_plugin_commands():
    done = subprocess.run(
        [sys.executable, "-m", "pixlstash", "--help"], capture_output=True, text=True, timeout=120, check=True
    )
    lines = [line.split()[0] for line in done.stdout.splitlines() if line.startswith("  ") and line.split()]
    assert "serve" in lines  # declared by the web package in the pixlstash.commands entry-point group
    names = [command.name for command in BUILT_IN]
    assert lines[lines.index("import") : lines.index("import") + len(names)] == names


def test_the_table_agrees_with_each_command():
    for entry in BUILT_IN:
        command = entry.load()
        assert command.name == entry.name
        for limit in (45, 300):
            summary = click.Command(entry.name, help=entry.summary).get_short_help_str(limit)
            assert summary == command.get_short_help_str(limit), entry.name


def test_every_public_name_of_the_core_resolves():
    for name in pixlstash.__all__:
        assert getattr(pixlstash, name) is not None, name
    with pytest.raises(AttributeError):
        pixlstash.NoSuchThing  # noqa: B018
