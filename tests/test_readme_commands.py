"""Every command the README shows runs here, in order, against a fresh library, so the README cannot drift.

The ```sh blocks are run line by line by one bash (variables carry from line to line), under a pseudo
terminal as a person would run them: a password prompt is answered when it appears. Each line's output
goes to its own files. The pictures the lines name are made first. A line that cannot succeed on a test
machine (no network, no model files, no faces found) must fail the way a user is told it does: status 1
and one line on standard error naming what to do, never a traceback.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
import zipfile
from pathlib import Path

from conftest import run_in_terminal
from corpus import a1111_png, comfyui_png, photo
from serve_process import free_port

from pixlstash.library import Library

ROOT = Path(__file__).resolve().parent.parent
SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
PASSWORD = "correct horse battery staple"

# README lines (by a part of them) that cannot succeed here, and what their one-line error must say.
CANNOT_SUCCEED_HERE = {
    "models pull clip": "no network",
    "models pull wd-tagger": "no network",
    "enrich --engine wd-tagger": "is not on this machine",
    "enrich --engine joycaption": "is not on this machine",
    'search "a lighthouse': "is not on this machine",
    "search --similar": "is not on this machine",
    "search --image": "is not on this machine",
    "faces name 812": "no unnamed person 812",
    "faces suggest Alice": "name at least one face as Alice first",
    "faces reject Alice 4411": "no face 4411, 4412",
    "faces remove Alice 4410": "no face 4410",
    # No object storage service listens here (pixlstash-plugins/s3/tests run them against a real SeaweedFS).
    "backup create s3://offsite": "does not answer",
    "backup verify s3://offsite": "does not answer",
    "backup restore s3://offsite": "does not answer",
}


def readme_blocks() -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    return [[line for line in block.splitlines() if line.strip()] for block in SH_BLOCK.findall(text)]


def readme_lines() -> list[str]:
    return [line for block in readme_blocks() for line in block]


def _make_pictures(home: Path, work: Path) -> None:
    """What the README's lines name: a folder of renders, a zip, single files, watched folders."""
    batch = home / "Pictures" / "batch1"
    batch.mkdir(parents=True)
    comfyui_png(batch / "lighthouse.png")
    a1111_png(batch / "fox.png")
    for n in range(3):
        photo(320, 240, seed=10 + n).save(batch / f"photo{n}.jpg", quality=90)
    with zipfile.ZipFile(work / "renders.zip", "w") as archive:
        for n in range(2):
            photo(200, 200, seed=20 + n).save(work / f"render{n}.png")
            archive.write(work / f"render{n}.png", f"render{n}.png")
            (work / f"render{n}.png").unlink()
    photo(256, 256, seed=30).save(work / "one.png")
    photo(300, 200, seed=31).save(work / "reference.jpg", quality=90)
    for folder, seeds in ((home / "Inbox", (40,)), (home / "Photos", (41, 42))):
        folder.mkdir()
        for seed in seeds:
            photo(240, 180, seed=seed).save(folder / f"img{seed}.jpg", quality=90)
    hour_ago = time.time() - 3600  # files at rest, as a folder's are (a fresh one waits for the next scan)
    for path in [*home.rglob("*"), *work.rglob("*")]:
        os.utime(path, (hour_ago, hour_ago))


def _script(blocks: list[list[str]], port: int, results: Path) -> str:
    """One bash script: each line with its output, errors and status in files; `serve &` waited for. After
    each block, what people's edits left in the library goes to ``state-K.json``; after the first, the
    snapshot a running server takes on its own once pictures arrive is taken, as it would be."""
    venv_bin = str(Path(sys.executable).parent)
    state = f"{sys.executable} {Path(__file__).resolve().parent / 'readme_state.py'}"
    ends = {sum(len(b) for b in blocks[: k + 1]) - 1: k for k in range(len(blocks))}
    lines = [line for block in blocks for line in block]
    out = ["set -u"]
    for n, line in enumerate(lines):
        command = line.replace(".venv/bin/", venv_bin + "/").replace("9537", str(port))
        command = command.replace("/mnt/usb/", f"{results.parent}/usb/")  # never the machine's own /mnt
        if re.search(r"\bserve\b.*&", command):
            out.append(f"{command.split('&')[0]} > {results}/{n}.out 2> {results}/{n}.err &")
            out.append(f"SERVER=$!; echo 0 > {results}/{n}.rc")
            out.append(
                f"for i in $(seq 100); do curl -sf http://127.0.0.1:{port}/api/v1/version >/dev/null && break; "
                "sleep 0.2; done"
            )
        else:
            out.append(f"{{ {command}\n}} > {results}/{n}.out 2> {results}/{n}.err; echo $? > {results}/{n}.rc")
        if n in ends:
            out.append(f"{state} dump {results}/state-{ends[n]}.json")
            if ends[n] == 0:
                out.append(f"{state} auto-snapshot")
    out.append("kill $SERVER; wait $SERVER; exit 0")  # the server stops on SIGTERM (status 143)
    return "\n".join(out) + "\n"


def _run_in_terminal(script: Path, cwd: Path, env: dict[str, str], timeout: float = 600) -> str:
    """Run ``bash script`` under a pseudo terminal, typing the password when asked; returns what it showed."""
    status, shown = run_in_terminal(["/bin/bash", str(script)], cwd, env, PASSWORD, timeout)
    assert status == 0, shown
    return shown


def test_every_readme_command_runs_on_a_fresh_library(tmp_path):
    assert shutil.which("curl"), "the README's API example uses curl"
    blocks = readme_blocks()
    lines = readme_lines()
    assert len(lines) >= 40 and all(line.startswith((".venv/bin/", "TOKEN=", "curl ")) for line in lines), lines
    home, work, results = tmp_path / "home", tmp_path / "work", tmp_path / "results"
    for folder in (home, work, results):
        folder.mkdir()
    _make_pictures(home, work)
    library = home / "library"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIXLSTASH_", "HF_"))}
    env.update(HOME=str(home), PIXLSTASH_LIBRARY=str(library), TERM="dumb", COLUMNS="120")
    script = tmp_path / "readme.sh"
    script.write_text(_script(blocks, free_port(), results))
    terminal = _run_in_terminal(script, work, env)

    failures = []
    for n, line in enumerate(lines):
        status = int((results / f"{n}.rc").read_text())
        err = (results / f"{n}.err").read_text()
        expected = next((why for part, why in CANNOT_SUCCEED_HERE.items() if part in line), None)
        if "Traceback" in err:
            failures.append(f"{line}\n    a traceback:\n{err}")
        elif expected is None and status != 0:
            failures.append(f"{line}\n    exit {status}: {err.strip()}")
        elif expected is not None and not (
            status == 1 and len(err.strip().splitlines()) == 1 and err.startswith("error: ") and expected in err
        ):
            failures.append(f"{line}\n    expected to fail with '{expected}', got exit {status}: {err.strip()}")
    assert not failures, "\n".join(failures) + "\n" + terminal

    # No block undoes an earlier one: what each block's edits added is still there at the end.
    states = [{tuple(f) for f in json.loads((results / f"state-{k}.json").read_text())} for k in range(len(blocks))]
    for k in range(1, len(blocks)):
        lost = (states[k] - states[k - 1]) - states[-1]
        assert not lost, f"block {k + 1} ({blocks[k][0][:60]}...) was undone later: {sorted(lost)[:5]}"

    def output(part: str) -> str:
        return (results / f"{next(n for n, line in enumerate(lines) if part in line)}.out").read_text()

    assert output("import ~/Pictures").startswith("imported 8, duplicates 0, skipped 0")
    assert json.loads(output("curl -s"))["items"]  # the read token lists pictures
    assert json.loads(output("token create --scope admin --json"))["token"].startswith("pxl_")
    assert output("--lora film_grain").splitlines()[1].split()[1] == "lighthouse.png"
    with Library.open(library) as opened:
        cats = next(c for c in opened.collections.collections("set") if c.name == "Cats")
        alice = next(c for c in opened.collections.collections("character") if c.name == "Alice")
        assert cats.member_count == 2 and alice.member_count == 3  # 3 cats, one removed from the set again
        assert opened.get(1).captions[0].text == "a tabby cat on a sunny wall"
        assert opened.count() == 8 + 3  # the import, the inbox and the reference folder; nothing left scrapped
    dataset = home / "datasets" / "alice" / "10_ohwx"
    assert len(list(dataset.glob("*.txt"))) == 3 and all(
        t.read_text().startswith("ohwx, ") for t in dataset.glob("*.txt")
    )
