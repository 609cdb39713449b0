"""The transcript in docs/cli.md is what these commands print on a fresh library, so it stays true.

Run with PIXLSTASH_UPDATE_DOCS=1 to write the transcript into docs/cli.md after changing the CLI's output.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from corpus import a1111_png, comfyui_png, photo

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "cli.md"
START, END = "<!-- transcript: start -->", "<!-- transcript: end -->"

# A typical session: import, look, organise, find, snapshot, a mistake, a preview, a restore.
SESSION = [
    "pixlstash import renders/ --project Portraits --set Best",
    "pixlstash ls",
    "pixlstash tag add 3,4 lighthouse coast",
    "pixlstash rate where 5 --tag lighthouse",
    'pixlstash caption 2 "a red fox curled up in the snow"',
    "pixlstash edit crop 3 --aspect 1:1",
    "pixlstash edit show 3",
    "pixlstash ls --tag lighthouse --ids | pixlstash add - --to-set Keepers --to-character Keeper",
    "pixlstash set list",
    "pixlstash ls --lora film_grain --sampler dpmpp_2m",
    'pixlstash ls --text "red fox"',
    "pixlstash ls --stats --in-set Keepers",
    'pixlstash snapshot create --label "before cleanup"',
    "pixlstash set delete Keepers",
    "pixlstash scrap where --tag lighthouse",
    "pixlstash snapshot preview 1",
    "pixlstash snapshot restore 1",
    "pixlstash ls --count",
    "pixlstash set show Keepers",
    "pixlstash rate 99 3",
]
# What changes from run to run: how long an import took.
_TIMING = re.compile(r"in \d+\.\d s \(\d+\.\d/s\)")


def _make_session_files(work: Path) -> None:
    renders = work / "renders"
    renders.mkdir(parents=True)
    comfyui_png(renders / "lighthouse.png")
    photo(320, 240, seed=5).save(renders / "harbour.jpg", quality=90)
    a1111_png(renders / "fox.png")
    photo(240, 240, seed=6).save(renders / "dunes.jpg", quality=90)
    taken = 1_780_000_000  # 2026-05-28 20:26 UTC: a fixed "taken" time for files without EXIF
    for path in renders.iterdir():
        os.utime(path, (taken, taken))


def transcript(tmp_path: Path) -> str:
    """Run the session one command at a time, as a person at a shell would (in a pipe, not a terminal:
    plain tables), and write it down as Markdown."""
    work = tmp_path / "work"
    _make_session_files(work)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}
    env.update(
        PIXLSTASH_LIBRARY=str(tmp_path / "library"),
        PIXLSTASH_LOAD_PLUGINS="local-storage",  # what the commands show does not depend on ML plugins
        PIXLSTASH_PROGRESS_SECONDS="3600",
        PIXLSTASH_IMPORT_WORKERS="1",  # ids in the order the files come (by name), the same on every run
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
    )
    parts = []
    for command in SESSION:
        ran = subprocess.run(
            ["bash", "-c", f'{command} 2>&1; echo "[exit $?]"'],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        shown, status = ran.stdout.rsplit("[exit ", 1)
        shown = _TIMING.sub("in … s (…/s)", shown)
        exit_note = "" if status.startswith("0]") else f"# exit status {status.split(']')[0]}\n"
        parts.append(f"$ {command}\n{shown}{exit_note}")
    return "```console\n" + "\n".join(parts).rstrip("\n") + "\n```"


def test_the_transcript_in_docs_cli_md_is_what_the_commands_print(tmp_path):
    made = transcript(tmp_path)
    text = DOC.read_text()
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    if os.environ.get("PIXLSTASH_UPDATE_DOCS") == "1":
        DOC.write_text(f"{before}{START}\n{made}\n{END}{after}")
        return
    assert f"{START}\n{made}\n{END}" in text, (
        "docs/cli.md's transcript is out of date; run PIXLSTASH_UPDATE_DOCS=1 .venv/bin/python -m pytest "
        f"tests/test_cli_transcript.py to rewrite it. Now:\n{made}"
    )
