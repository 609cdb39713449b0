"""Plugins' commands on the command line (issue 65): `--help` lists them from the installed metadata and a
cache checked against it, without importing a plugin; a declared command imports its own module only when
it runs; a command added by the older `register_commands` hook still lists and runs. Each plugin here is
really installed with pip, and each command runs in a fresh interpreter."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, pip_install_to, run_cli

HELLO = '''
import click

@click.command("hello")
@click.option("--name", default="world")
def hello_command(name):
    """Greet someone from a plugin. More text that --help leaves out."""
    import sys
    click.echo(f"hello {name}; hello_plugin loaded: {'pixlstash_hello' in sys.modules}")
    return 0


@click.command("secret", hidden=True)
def secret_command():
    """Not listed."""
'''

HOOKED = '''
import click
from pixlstash import hookimpl

@click.command("legacy")
def legacy_command():
    """An older plugin's command, added through the hook."""
    click.echo("legacy ran")
    return 0

@hookimpl
def register_commands(cli):
    cli.add_command(legacy_command)
'''


def _package(tmp_path: Path, name: str, modules: dict[str, str], pyproject_tail: str) -> Path:
    package = tmp_path / f"src-{name}"
    for module, source in modules.items():
        (package / module).mkdir(parents=True, exist_ok=True)
        (package / module / "__init__.py").write_text(source)
    (package / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "pixlstash-{name}"\nversion = "1"\n\n'
        f"[tool.setuptools]\npackages = {json.dumps(sorted(modules))}\n\n{pyproject_tail}"
    )
    return package


def _hello(tmp_path: Path, extra_command: str = "") -> Path:
    return _package(
        tmp_path,
        "hello",
        {"pixlstash_hello": "", "pixlstash_hello_cmds": HELLO},
        '[project.entry-points.pixlstash]\nhello = "pixlstash_hello"\n\n'
        '[project.entry-points."pixlstash.commands"]\n'
        'hello = "pixlstash_hello_cmds:hello_command"\nsecret = "pixlstash_hello_cmds:secret_command"\n'
        + extra_command,
    )


def _listed(help_text: str) -> dict[str, str]:
    rows = {}
    for line in help_text.split("Commands:", 1)[1].splitlines():
        if line.startswith("  ") and line.split():
            name, _, summary = line.strip().partition(" ")
            rows[name] = summary.strip()
    return rows


def _modules_after(argv: list[str], env: dict[str, str]) -> set[str]:
    code = (
        "import sys, json\nfrom pixlstash.cli import main\nsys.stdout = open('/dev/null', 'w')\n"
        f"status = main({argv!r})\nsys.stderr.write(json.dumps([status, sorted(sys.modules)]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    status, modules = json.loads(done.stderr.strip().splitlines()[-1])
    assert status == 0, done.stderr
    return set(modules)


def test_every_plugin_of_the_repository_is_installed_here():
    """What the import checks below stand on: `--help` is measured with every plugin installed."""
    installed = {entry.value.split(":")[0] for entry in importlib.metadata.entry_points(group="pixlstash")}
    for project in (REPO / "pixlstash-plugins").iterdir():
        module = "pixlstash_" + project.name.replace("-", "_")
        assert module in installed, f"{project.name} is not installed in this environment"


@pytest.mark.cli  # (a cache folder of its own: a variable not PixlStash's)
def test_help_with_every_plugin_installed_imports_no_plugin(tmp_path):
    import os

    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("PIXLSTASH_LOAD_PLUGINS", None)
    env.pop("PIXLSTASH_DISABLED_PLUGINS", None)
    first = run_cli("--help", env={"XDG_CACHE_HOME": env["XDG_CACHE_HOME"]})
    assert "serve" in _listed(first.stdout)  # the first start after an install loads the plugins once
    for argv in (["--help"], ["version"]):
        modules = _modules_after(argv, env)
        plugins = sorted(m for m in modules if m.startswith("pixlstash_") or m in ("pluggy", "pixlstash.plugins"))
        assert plugins == [], f"{argv} imported {plugins}"
    again = run_cli("--help", env={"XDG_CACHE_HOME": env["XDG_CACHE_HOME"]})
    assert again.stdout == first.stdout


def test_a_declared_command_lists_from_metadata_and_runs_alone(tmp_path):
    site = tmp_path / "site"
    pip_install_to(site, _hello(tmp_path), REPO / "tests" / "plugin_packages" / "pixlstash-sepia")
    cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}

    listed = _listed(run_cli("--help", pythonpath=site, env=cache).stdout)
    assert listed["hello"] == "Greet someone from a plugin."
    assert "secret" not in listed
    assert list(listed)[-2:] in (["serve", "hello"], ["hello", "serve"])
    assert json.loads((tmp_path / "cache" / "pixlstash" / "plugin-commands.json").read_text())["commands"]

    ran = run_cli("hello", "--name", "curator", pythonpath=site, env=cache)
    # Its own module only: the plugin's package, the other plugins and the plugin manager are not loaded.
    assert ran.stdout.strip() == "hello curator; hello_plugin loaded: False"
    modules = _modules_after(["hello"], {"PYTHONPATH": str(site), **cache, "PATH": "/usr/bin:/bin"})
    assert "pixlstash_hello_cmds" in modules
    assert not {"pixlstash_hello", "pixlstash_sepia", "pixlstash_wd_tagger", "pluggy"} & modules
    assert run_cli("secret", pythonpath=site, env=cache).returncode == 0  # hidden, not gone

    # Installed again with one more command: the cache no longer matches the metadata, and is made again.
    tail = 'wave = "pixlstash_hello_cmds:hello_command"\n'
    site = tmp_path / "site2"  # (pip --target does not replace what a folder holds)
    pip_install_to(site, _hello(tmp_path / "v2", tail), REPO / "tests" / "plugin_packages" / "pixlstash-sepia")
    assert "wave" in _listed(run_cli("--help", pythonpath=site, env=cache).stdout)

    # Left out with its plugin: neither listed nor run.
    only = {**cache, "PIXLSTASH_LOAD_PLUGINS": "sepia"}
    assert "hello" not in _listed(run_cli("--help", pythonpath=site, env=only).stdout)
    refused = run_cli("hello", pythonpath=site, env=only, check=False)
    assert refused.returncode == 2 and "No such command 'hello'" in refused.stderr


def test_a_command_from_the_hook_still_lists_and_runs(tmp_path):
    site = tmp_path / "site"
    pip_install_to(
        site,
        _package(
            tmp_path,
            "legacy",
            {"pixlstash_legacy": HOOKED},
            '[project.entry-points.pixlstash]\nlegacy = "pixlstash_legacy"\n',
        ),
    )
    cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    for _ in range(2):  # made, then read from the cache
        listed = _listed(run_cli("--help", pythonpath=site, env=cache).stdout)
        assert listed["legacy"] == "An older plugin's command, added through the hook."
    assert run_cli("legacy", pythonpath=site, env=cache).stdout.strip() == "legacy ran"


def test_a_broken_command_or_cache_costs_one_line(tmp_path):
    site = tmp_path / "site"
    broken = _package(
        tmp_path,
        "hello",
        {"pixlstash_hello": "", "pixlstash_hello_cmds": HELLO + "\nraise ImportError('needs libfoo')\n"},
        '[project.entry-points.pixlstash]\nhello = "pixlstash_hello"\n\n'
        '[project.entry-points."pixlstash.commands"]\nhello = "pixlstash_hello_cmds:hello_command"\n',
    )
    pip_install_to(site, broken)
    cache_home = tmp_path / "cache"
    cache = {"XDG_CACHE_HOME": str(cache_home)}
    listed = _listed(run_cli("--help", pythonpath=site, env=cache).stdout)
    assert "hello" not in listed and "serve" in listed  # the rest of the command line works

    # A cache that is not JSON, or one naming a command whose module fails: one line, exit 1.
    path = cache_home / "pixlstash" / "plugin-commands.json"
    good = json.loads(path.read_text())
    path.write_text("{not json")
    assert "serve" in _listed(run_cli("--help", pythonpath=site, env=cache).stdout)
    good["commands"].append(["hello", "Greet.", False, "pixlstash_hello_cmds:hello_command"])
    path.write_text(json.dumps(good))
    failed = run_cli("hello", pythonpath=site, env=cache, check=False)
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines() == [
        "Error: the plugin command hello (pixlstash_hello_cmds:hello_command) failed to load: needs libfoo"
    ]

    # An unwritable cache folder: every start loads the plugins, and lists the same.
    (tmp_path / "file").write_text("")
    unwritable = {"XDG_CACHE_HOME": str(tmp_path / "file")}
    assert "serve" in _listed(run_cli("--help", pythonpath=site, env=unwritable).stdout)
