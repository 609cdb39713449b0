"""What the command line says when a name belongs to a plugin that is not here, and `--library` given
before the command."""

from __future__ import annotations

import pytest
from conftest import run_cli

from pixlstash.library import Library

WITHOUT_CLIP = {"PIXLSTASH_DISABLED_PLUGINS": "clip"}


@pytest.mark.parametrize(
    "command",
    [
        ["enrich", "--engine", "clip/ViT-B-32@laion2b_s34b_b79k"],
        ["models", "pull", "clip/ViT-B-32@laion2b_s34b_b79k"],
        ["plugins", "config", "clip"],
        ["ls", "--score", "aesthetic"],
        ["prune", "--by", "aesthetic", "--below", "4.5", "--dry-run"],
    ],
    ids=lambda command: " ".join(command[:2]),
)
def test_a_name_from_a_missing_plugin_says_which_plugin_to_install(tmp_path, command):
    Library.open(tmp_path / "lib").close()
    said = run_cli(*command, "--library", str(tmp_path / "lib"), env=WITHOUT_CLIP, check=False)
    assert said.returncode != 0
    line = said.stderr.strip()
    assert len(line.splitlines()) == 1 and "pixlstash-clip" in line and "pip install" in line, said.stderr


def test_library_before_the_command_is_the_library_every_command_uses(tmp_path):
    from corpus import photo

    photo(64, 48, seed=1).save(tmp_path / "one.png")
    run_cli("--library", str(tmp_path / "first"), "import", str(tmp_path / "one.png"))
    assert "one.png" in run_cli("--library", str(tmp_path / "first"), "ls").stdout
    # A command's own --library names another library: it wins.
    listed = run_cli("--library", str(tmp_path / "first"), "ls", "--library", str(tmp_path / "first"), "--json")
    assert '"one.png"' in listed.stdout or "one.png" in listed.stdout
    other = run_cli("--library", str(tmp_path / "first"), "ls", "--library", str(tmp_path / "none"), check=False)
    assert other.returncode != 0 and "no library at" in other.stderr
