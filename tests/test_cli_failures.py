"""How the CLI fails: a native crash inside an engine ends ``pixlstash enrich`` with the stack and one line
(never a silent exit) and the work resumes; a taken port is one line and exit 1; ``pixlstash doctor``
reports a known-bad combination and a damaged database and exits 1, and passes on a healthy install."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from conftest import REPO, install_plugin_module, run_cli
from corpus import solid

from pixlstash.library import Library
from pixlstash.system import doctor
from pixlstash.system.doctor import KNOWN_BAD, lock_file, locked_versions, runtime_checks

CRASHING_PLUGIN = """
import ctypes, os
from pixlstash import hookimpl
from pixlstash.testing import FakeCaptioner

class CrashingCaptioner(FakeCaptioner):
    id = "crasher/captioner"

    def describe(self, images, prompt=None):
        if os.environ.get("CRASH_NOW"):
            ctypes.string_at(0)  # reads address 0: a segmentation fault, as a broken native library would
        return super().describe(images, prompt)

@hookimpl
def register_captioners(register):
    register(CrashingCaptioner())
"""


def test_a_segmentation_fault_in_an_engine_is_reported_and_the_work_resumes(tmp_path):
    site = install_plugin_module(tmp_path, "crasher", CRASHING_PLUGIN)
    folder, library = tmp_path / "in", str(tmp_path / "lib")
    folder.mkdir()
    for n in range(3):
        solid(40, 30, (80 * n, 40, 200)).save(folder / f"{n}.png")
    run_cli("import", str(folder), "--library", library, pythonpath=site)

    crashed = run_cli(
        "enrich",
        "--engine",
        "crasher/captioner",
        "--library",
        library,
        pythonpath=site,
        env={"CRASH_NOW": "1"},
        check=False,
    )
    assert crashed.returncode == 1
    assert "Fatal Python error: Segmentation fault" in crashed.stderr  # faulthandler: where it happened
    assert "pixlstash_crasher/__init__.py" in crashed.stderr
    last = crashed.stderr.strip().splitlines()[-1]
    assert last.startswith("error: pixlstash enrich crashed with a segmentation fault (signal 11) inside a native")
    assert "pixlstash doctor" in last

    resumed = run_cli("enrich", "--engine", "crasher/captioner", "--library", library, pythonpath=site)
    assert "resuming 1 unfinished job(s)" in resumed.stdout
    assert "done, 3 done, 0 failed" in resumed.stdout


def test_a_taken_port_is_one_line_and_exit_1(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ran = run_cli("serve", "--library", str(tmp_path / "lib"), "--port", str(port), check=False, process=True)
    assert ran.returncode == 1
    assert ran.stderr.strip() == (
        f"error: port {port} on 127.0.0.1 is taken (another PixlStash, or another program, listens there): "
        "choose another with --port, e.g. --port 9538"
    )
    assert not (tmp_path / "lib").exists()  # refused before anything was made


def _doctor(library, **kw) -> subprocess.CompletedProcess[str]:
    return run_cli("doctor", "--library", str(library), "--json", check=False, **kw)


def test_doctor_passes_on_the_tested_install_and_names_what_it_checked(tmp_path):
    run_cli("token", "create", "--library", str(tmp_path / "lib"), "--scope", "read")
    ran = _doctor(tmp_path / "lib")
    checks = {c["name"]: c for c in json.loads(ran.stdout)}
    assert ran.returncode == 0, ran.stdout
    assert checks["versions"]["status"] == "ok"  # scripts/setup installed the lock
    assert checks["library.db"]["detail"] == "quick_check ok"
    assert checks["services"]["detail"] == "no server or worker runs for this library"
    assert checks["onnxruntime"]["status"] == "ok" and "CPU" in checks["onnxruntime"]["detail"]
    assert "wd-tagger/wd-vit-tagger-v3" in checks  # the model, missing here, with how to get it
    assert "pixlstash models pull wd-tagger/wd-vit-tagger-v3" in checks["wd-tagger/wd-vit-tagger-v3"]["detail"]


def test_doctor_fails_on_a_damaged_database_and_a_known_bad_version(tmp_path):
    library = tmp_path / "lib"
    run_cli("token", "create", "--library", str(library), "--scope", "read")
    assert not (library / "library.db-wal").exists() or (library / "library.db-wal").stat().st_size == 0
    data = bytearray((library / "library.db").read_bytes())
    for page in range(1, len(data) // 16384):  # every b-tree page but the first gets a bad page type
        data[page * 16384] = 0x63
    (library / "library.db").write_bytes(bytes(data))
    # A fake usearch distribution of a known-bad version, found first on the path.
    site = tmp_path / "site"
    bad = sorted(KNOWN_BAD[0].versions)[0]
    info = site / f"usearch-{bad}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: usearch\nVersion: {bad}\n")
    ran = _doctor(library, pythonpath=site)
    checks = {c["name"]: c for c in json.loads(ran.stdout)}
    assert ran.returncode == 1
    assert checks["library.db"]["status"] == "FAIL"
    assert checks[f"usearch {bad}"]["status"] == "FAIL"
    assert "segmentation fault" in checks[f"usearch {bad}"]["detail"]
    assert checks["versions"]["status"] == "warn"  # not the tested set
    assert f"usearch {bad}" in checks["versions"]["detail"]


def _stand_in(tmp_path, monkeypatch, module: str, body: str) -> Path:
    """A module of that name found first, here and in every child (the probes are children)."""
    site = tmp_path / "site"
    (site / module).mkdir(parents=True)
    (site / module / "__init__.py").write_text(body)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])))
    return site


def test_doctor_s_probes_run_side_by_side_and_a_crash_fails_its_own_line_only(tmp_path, monkeypatch):
    _stand_in(tmp_path, monkeypatch, "bitsandbytes", "import ctypes\nctypes.string_at(0)\n")  # a segfault
    lines = list(runtime_checks({"torch", "onnxruntime", "bitsandbytes"}))
    assert [line.name for line in lines] == ["torch", "onnxruntime", "bitsandbytes"]  # in order, all there
    assert lines[0].status == "ok" and "cpu" in lines[0].detail
    assert lines[1].status == "ok" and "CPU" in lines[1].detail
    assert lines[2].status == "FAIL" and lines[2].detail.startswith("crashed while loading (signal 11)")


def test_a_probe_that_says_much_runs_beside_the_others_and_its_last_line_is_reported(tmp_path, monkeypatch):
    """The probes write to files: one that writes a megabyte to stderr is not held up until its turn
    (through a pipe it stalled at 64 KB while the doctor waited for the probe before it). Here the
    first probe waits for the second to have said it all."""
    said = tmp_path / "said"
    _stand_in(
        tmp_path,
        monkeypatch,
        "onnxruntime",
        f"""import pathlib, sys
sys.stderr.write("warning: a long-winded runtime\\n" * 32_768)  # 1 MB
sys.stderr.flush()
pathlib.Path({str(said)!r}).touch()
sys.exit("onnxruntime: said a lot")
""",
    )
    _stand_in(
        tmp_path,
        monkeypatch,
        "torch",
        f"""import pathlib, sys, time
while not pathlib.Path({str(said)!r}).exists():
    time.sleep(0.01)
sys.exit("torch: heard it")
""",
    )
    monkeypatch.setattr(doctor, "PROBE_SECONDS", 60)  # only reached if the second probe stalls
    lines = list(runtime_checks({"torch", "onnxruntime"}))
    assert [(line.name, line.status, line.detail) for line in lines] == [
        ("torch", "FAIL", "does not load: torch: heard it"),
        ("onnxruntime", "FAIL", "does not load: onnxruntime: said a lot"),
    ]


def test_a_probe_that_hangs_fails_at_the_deadline_and_is_not_left_running(tmp_path, monkeypatch):
    site = _stand_in(tmp_path, monkeypatch, "bitsandbytes", "import time\ntime.sleep(3600)\n")
    monkeypatch.setattr(doctor, "PROBE_SECONDS", 2)
    [line] = runtime_checks({"bitsandbytes"})
    assert (line.status, line.detail) == ("FAIL", "did not load within 2 s")
    left = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if str(site).encode() in environ.read_bytes():
                left.append(environ.parent.name)
        except OSError:  # gone meanwhile, or not ours to read
            pass
    assert left == []  # no process started with the stand-in's path (this one's /proc environ is its first)


def test_the_lock_shipped_with_the_core_is_the_repositorys_and_excludes_the_known_bad():
    locked = locked_versions()
    assert locked["torch"] == "2.14.1" and locked["torchvision"] == "0.29.1"
    # doctor's advice names the lock where an installed core keeps it (a wheel's user has no clone).
    assert Path(lock_file()).is_file() and Path(lock_file()).name == "constraints.txt"
    for bad in KNOWN_BAD:
        assert locked[bad.package] not in bad.versions
    assert sys.version_info >= (3, 11)


def test_a_task_without_an_engine_names_the_plugin_that_brings_one(tmp_path):
    Library.open(tmp_path / "lib").close()
    for task, plugin in (("faces", "pixlstash-faces"), ("captioner", "pixlstash-joycaption")):
        ran = run_cli(
            "enrich",
            "--task",
            task,
            "--library",
            str(tmp_path / "lib"),
            env={"PIXLSTASH_LOAD_PLUGINS": ""},
            check=False,
        )
        assert ran.returncode == 1
        folder = plugin.removeprefix("pixlstash-")
        assert ran.stderr.strip() == (
            f"error: no {task} engine is installed (install {plugin}: from a clone of PixlStash, "
            f"pip install -c constraints.txt ./pixlstash-plugins/{folder}, then restart)"
        )
        assert (REPO / "pixlstash-plugins" / folder / "pyproject.toml").is_file()  # the hint names a real folder
    serve = run_cli("serve", "--library", str(tmp_path / "lib"), env={"PIXLSTASH_LOAD_PLUGINS": ""}, check=False)
    assert serve.returncode == 2 and "serve comes with PixlStash's web package" in serve.stderr
    assert "Installing by hand" in serve.stderr and "### Installing by hand" in (REPO / "README.md").read_text()
