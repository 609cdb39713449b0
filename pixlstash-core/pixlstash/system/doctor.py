"""``pixlstash doctor``'s checks: is this installation one we tested, can each engine run here, is the
library whole. Each check gives one line with a status; none of them changes anything.

Runtimes (torch, onnxruntime, bitsandbytes) are probed in child processes: a native crash, the very thing
being looked for, then fails one check instead of ending the doctor.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.resources
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Literal

import msgspec

from ..engines.hardware import accelerators

__all__ = ["KNOWN_BAD", "Check", "environment_checks", "library_checks", "locked_versions", "runtime_checks"]

Status = Literal["ok", "warn", "FAIL"]


class Check(msgspec.Struct, frozen=True):
    status: Status
    name: str
    detail: str


class KnownBad(msgspec.Struct, frozen=True):
    """Installed versions of ``package`` in ``versions`` are broken when ``with_package`` is installed too
    (or always, when it is empty)."""

    package: str
    versions: frozenset[str]
    with_package: str
    why: str


KNOWN_BAD = (
    KnownBad(
        "usearch",
        frozenset({"2.26.2", "2.26.3", "2.26.4", "2.26.5", "2.26.6"}),
        "onnxruntime",
        "a process that imports usearch before onnxruntime crashes (segmentation fault in onnxruntime's start-up)",
    ),
)

_LOW_DISK = 2 * 1024**3  # below this a warning: an import of a few thousand pictures would fill it
_NO_DISK = 200 * 1024**2


def _installed(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def locked_versions() -> dict[str, str]:
    """The lock (``constraints.txt``, shipped inside the core package) as {normalised name: version}."""
    try:
        text = importlib.resources.files("pixlstash").joinpath("constraints.txt").read_text()
    except (FileNotFoundError, OSError):
        return {}
    pins = {}
    for line in text.splitlines():
        name, sep, version = line.split("#", 1)[0].strip().partition("==")
        if sep:
            pins[_normalised(name)] = version.strip()
    return pins


def lock_file() -> str:
    """Where the lock is on this machine: the copy inside the installed core (a wheel's user has no clone)."""
    return str(importlib.resources.files("pixlstash").joinpath("constraints.txt"))


def _normalised(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def environment_checks() -> Iterator[Check]:
    """Python, every watched package against the lock, and the combinations known to break."""
    python = ".".join(map(str, sys.version_info[:3]))
    yield Check("ok" if sys.version_info >= (3, 11) else "FAIL", "python", f"{python} ({sys.executable})")
    locked = locked_versions()
    if not locked:
        yield Check("warn", "lock", "no tested versions shipped with this installation: versions not compared")
    differ = sorted(
        f"{dist.metadata['Name']} {dist.version} (tested: {locked[name]})"
        for dist in importlib.metadata.distributions()
        if (name := _normalised(dist.metadata["Name"] or "")) in locked and dist.version != locked[name]
    )
    if differ:
        yield Check(
            "warn",
            "versions",
            "not the tested set: " + ", ".join(differ) + f"; pip install -c {lock_file()} gives the tested set",
        )
    elif locked:
        yield Check("ok", "versions", "the installed packages are the tested ones")
    for bad in KNOWN_BAD:
        version = _installed(bad.package)
        if version in bad.versions and (not bad.with_package or _installed(bad.with_package)):
            yield Check(
                "FAIL",
                f"{bad.package} {version}",
                f"{bad.why}; install another version: pip install -c {lock_file()} '{bad.package}'",
            )
    yield from _torch_pair()
    if _installed("opencv-python") and _installed("opencv-python-headless"):
        yield Check("FAIL", "opencv", "opencv-python and opencv-python-headless both write cv2: uninstall one")


def _torch_pair() -> Iterator[Check]:
    """torchvision is built for one torch release; another one fails at import (``torchvision::nms``)."""
    torch, vision = _installed("torch"), _installed("torchvision")
    if torch is None or vision is None:
        return
    wanted = next(
        (
            r.split("==", 1)[1].split(";")[0].strip()
            for r in importlib.metadata.requires("torchvision") or []
            if r.replace(" ", "").startswith("torch==")
        ),
        None,
    )
    if wanted and wanted.split("+")[0] != torch.split("+")[0]:
        yield Check("FAIL", "torchvision", f"torchvision {vision} is built for torch {wanted}, not {torch}")


# What each runtime says about itself, run in a child interpreter (see the module docstring).
_PROBES = {
    "torch": (
        "import torch, json; mps = getattr(torch.backends, 'mps', None);"
        "print(json.dumps({'version': torch.__version__, 'cuda': torch.cuda.is_available(),"
        " 'cuda_version': torch.version.cuda, 'mps': bool(mps and mps.is_available())}))"
    ),
    "onnxruntime": (
        "import onnxruntime, json; from pixlstash.engines.onnx_sessions import cuda_problem;"
        "print(json.dumps({'version': onnxruntime.__version__, 'providers': onnxruntime.get_available_providers(),"
        " 'cuda_problem': cuda_problem()}))"
    ),
    "bitsandbytes": "import bitsandbytes, json; print(json.dumps({'version': bitsandbytes.__version__}))",
}
_PROBE_AFTER_CORE = "import pixlstash.index.vector_index\n"  # the order the CLI's enrich reaches
PROBE_SECONDS = 120  # for all of them: torch's first import from a cold disk can take a minute


def runtime_checks(modules: set[str]) -> Iterator[Check]:
    """Each engine runtime in ``modules`` (torch, onnxruntime, bitsandbytes), loaded after the core's own
    native libraries as ``pixlstash enrich`` loads them, and the devices it sees. Each probe imports its
    runtime afresh (torch and bitsandbytes: seconds each), so they run side by side; lines come in order.
    Each writes to files, not pipes: a pipe not read until its turn would stall a probe that says much."""
    wanted = [module for module in ("torch", "onnxruntime", "bitsandbytes") if module in modules]
    deadline = time.monotonic() + PROBE_SECONDS
    probes: dict[str, tuple[subprocess.Popen, IO[bytes], IO[bytes]]] = {}
    with contextlib.ExitStack() as files:
        try:
            for module in wanted:
                if importlib.util.find_spec(module) is not None:
                    out, err = (files.enter_context(tempfile.TemporaryFile()) for _ in range(2))
                    command = [sys.executable, "-c", _PROBE_AFTER_CORE + _PROBES[module]]
                    probes[module] = (subprocess.Popen(command, stdout=out, stderr=err), out, err)
            for module in wanted:
                if module not in probes:
                    if module != "bitsandbytes":  # optional: only JoyCaption's 8- and 4-bit loading needs it
                        yield Check("FAIL", module, "not installed, and an installed plugin needs it: pip install it")
                    continue
                probe, out, err = probes[module]
                try:
                    probe.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    yield Check("FAIL", module, f"did not load within {PROBE_SECONDS} s")
                    continue
                yield _probe_line(module, probe.returncode, _tail(out), _tail(err))
        finally:  # the doctor ended early, or a probe hung: none is left behind
            for probe, _, _ in probes.values():
                if probe.poll() is None:
                    probe.kill()
                    probe.wait()


def _tail(file: IO[bytes], size: int = 65_536) -> str:
    """The end of what a probe wrote (its last line is what the doctor reports)."""
    file.seek(max(0, file.seek(0, 2) - size))
    return file.read().decode("utf-8", "replace")


def _probe_line(module: str, status: int, out: str, err: str) -> Check:
    if status < 0:
        return Check(
            "FAIL",
            module,
            f"crashed while loading (signal {-status}): run `pixlstash doctor` "
            f"after `pip install -c {lock_file()}` to get the tested versions",
        )
    if status != 0:
        last = (err.strip().splitlines() or ["?"])[-1]
        return Check("FAIL", module, f"does not load: {last}")
    return _runtime_line(module, json.loads(out.strip().splitlines()[-1]))


def _runtime_line(module: str, facts: dict) -> Check:
    gpu = "cuda" in accelerators()
    if module == "torch":
        devices = [d for d in ("cuda", "mps") if facts[d]] + ["cpu"]
        detail = f"{facts['version']} on {', '.join(devices)}"
        if gpu and not facts["cuda"]:
            return Check("warn", "torch", f"{detail}: this machine has an NVIDIA GPU but this torch has no CUDA")
        return Check("ok", "torch", detail)
    if module == "onnxruntime":
        providers = [p.removesuffix("ExecutionProvider") for p in facts["providers"]]
        detail = f"{facts['version']} with {', '.join(providers)}"
        if gpu and facts.get("cuda_problem"):  # the WD tagger, faces and anime engines run on the CPU
            return Check("warn", "onnxruntime", f"{detail}: ONNX engines on the CPU: {facts['cuda_problem']}")
        return Check("ok", "onnxruntime", f"{detail}{': ONNX engines on the GPU' if gpu else ''}")
    if not gpu:
        return Check("warn", "bitsandbytes", f"{facts['version']}: 8- and 4-bit loading needs CUDA, not found here")
    return Check("ok", "bitsandbytes", facts["version"])


def library_checks(root: Path) -> Iterator[Check]:
    """Free disk, each database's ``PRAGMA quick_check``, and who holds the services lock."""
    from ..db.database import quick_check
    from ..instance import ServiceLock

    probe = root if root.exists() else next((p for p in root.parents if p.exists()), Path("/"))
    free = shutil.disk_usage(probe).free
    status: Status = "FAIL" if free < _NO_DISK else "warn" if free < _LOW_DISK else "ok"
    yield Check(status, "disk", f"{free / 1024**3:.1f} GB free in {probe}")
    if not (root / "library.db").exists():
        yield Check("warn", "library", f"no library at {root} yet (it is made on first use)")
        return
    for name in ("library.db", "auth.db", "history.db"):
        path = root / name
        if not path.exists():
            continue
        problems = quick_check(path)
        if problems:
            yield Check(
                "FAIL",
                name,
                f"damaged: {'; '.join(problems[:3])} (copy the library folder aside before trying anything else)",
            )
        else:
            yield Check("ok", name, "quick_check ok")
    holder = ServiceLock(root).holder()
    yield Check("ok", "services", f"run by {holder}" if holder else "no server or worker runs for this library")
