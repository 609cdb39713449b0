"""A killed `pixlstash enrich` is resumed by the next one: claims its process held go back to the queue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from conftest import install_plugin_module, run_cli
from corpus import solid

from pixlstash.db.database import connect

SLOW_PLUGIN = """
import time
from pixlstash import hookimpl
from pixlstash.testing import FakeCaptioner

class SlowCaptioner(FakeCaptioner):
    id = "slowpoke/captioner"
    preferred_batch_size = 2

    def describe(self, images, prompt=None):
        time.sleep(0.15)
        return super().describe(images, prompt)

@hookimpl
def register_captioners(register):
    register(SlowCaptioner())
"""


def _states(root) -> dict[str, int]:
    connection = connect(root / "library.db", readonly=True)
    try:
        return dict(connection.execute("SELECT state, count(*) FROM job_items GROUP BY state").fetchall())
    finally:
        connection.close()


def test_a_killed_enrich_is_resumed_by_the_next_enrich(tmp_path):
    site = install_plugin_module(tmp_path, "slowpoke", SLOW_PLUGIN)
    folder, root = tmp_path / "in", tmp_path / "lib"
    folder.mkdir()
    for n in range(30):
        solid(60 + n, 40, (8 * n, 255 - 8 * n, 90)).save(folder / f"{n}.png")
    run_cli("import", str(folder), "--library", str(root), pythonpath=site)

    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}, "PYTHONPATH": str(site)}
    child = subprocess.Popen(
        [sys.executable, "-m", "pixlstash", "enrich", "--engine", "slowpoke/captioner", "--library", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + 60
    while _states(root).get("done", 0) < 4:
        assert time.monotonic() < deadline and child.poll() is None
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    left = _states(root)
    assert left.get("running", 0) > 0 and left.get("queued", 0) > 0, left

    rerun = run_cli("enrich", "--engine", "slowpoke/captioner", "--library", str(root), pythonpath=site)
    assert "resuming 1 unfinished job(s)" in rerun.stdout and "nothing to do" not in rerun.stdout
    assert "done, 30 done, 0 failed" in rerun.stdout
    assert _states(root) == {"done": 30}
    again = run_cli("enrich", "--engine", "slowpoke/captioner", "--library", str(root), pythonpath=site)
    assert "nothing to do" in again.stdout
