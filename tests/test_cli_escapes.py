"""The CLI prints control characters from file names (and anything else) as visible escapes."""

from __future__ import annotations

import json

from conftest import run_cli
from corpus import photo


def test_escape_sequences_in_file_names_are_printed_escaped(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    photo(80, 60, seed=1).save(folder / "bad\x1b[31m.jpg")
    (folder / "evil\x1b]0;owned\x07.png").write_bytes(b"not a picture")
    library = str(tmp_path / "lib")
    result = run_cli("import", str(folder), "--library", library, check=False)
    printed = result.stdout + result.stderr
    assert "\x1b" not in printed and "\x07" not in printed
    assert "evil\\x1b]0;owned\\x07.png" in result.stderr  # the skipped file, named visibly
    report = json.loads(run_cli("import", str(folder), "--library", library, "--json", check=False).stdout)
    assert report["duplicates"][0]["path"].endswith("bad\x1b[31m.jpg")  # JSON escapes it itself, exactly
