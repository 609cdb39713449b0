"""ONNX Runtime for plugins whose models are (or are exported to) ONNX graphs: one way to open a session
on the device asked for, why CUDA is (not) usable, and the int8 (CPU) and fp16 (GPU) copies of a graph.

The int8 copy is ONNX Runtime's dynamic quantization: weights int8 per output channel, activations
quantized per batch. ``reduce_range`` keeps weights to 7 bits because CPUs without VNNI multiply
uint8 by int8 with an instruction that saturates at int16: measured here on CLIP ViT-B/32, the full
range lost ten times more (embedding cosine 0.9967 against 0.9997) for no gain in speed. The copy is made
once, next to the plugin's models, and written atomically: a crash leaves no half-written graph.

The fp16 copy halves the bytes a GPU reads per picture and runs on its tensor cores: onnxruntime's own
float16 converter, inputs and outputs kept float32 so callers feed and read the same arrays.

onnxruntime's CUDA provider is a library of its own that needs the CUDA 12 and cuDNN 9 libraries; when one
of them is missing onnxruntime falls back to the CPU with a line on stderr. ``cuda_problem`` loads the
provider the way onnxruntime does and names the library that is missing, for ``doctor`` and ``jobs``.

onnxruntime (and onnx, for rewriting graphs) load when first needed, never on import.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import io
import logging
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ModelMissing
from .hardware import accelerators

__all__ = [
    "cuda_problem",
    "fp16_copy",
    "int8_copy",
    "move_into_place",
    "onnx_devices",
    "open_session",
    "provider_library_problem",
    "session_note",
]

log = logging.getLogger(__name__)


def open_session(path: Path, device: str = "cpu", threads: int = 0, engine_id: str = "") -> Any:
    """An ``onnxruntime.InferenceSession`` for the graph at ``path``: on CUDA when asked and onnxruntime
    can use it (else on the CPU, said once), with ``threads`` intra-op threads (0: one per core)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads or os.cpu_count() or 1
    options.inter_op_num_threads = 1  # one graph at a time: a second pool would only contend for the cores
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.enable_cpu_mem_arena = True
    providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if device == "cuda" else ["CPUExecutionProvider"]
    session = onnxruntime.InferenceSession(str(path), options, providers=providers)
    if device == "cuda" and "CUDAExecutionProvider" not in session.get_providers():
        # onnxruntime falls back to the CPU with a line on stderr when CUDA libraries are missing: say why.
        log.warning("%s: on the CPU, not the GPU: %s", engine_id or path, cuda_problem() or "onnxruntime fell back")
    return session


def onnx_devices() -> list[str]:
    """The devices an ONNX engine can run on here, best first."""
    return (["cuda"] if not cuda_problem() else []) + ["cpu"]


@functools.cache
def cuda_problem() -> str:
    """Why onnxruntime cannot run on the GPU here ("" when it can), in words a user can act on."""
    if "cuda" not in accelerators():
        return "no NVIDIA GPU here"
    import onnxruntime

    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        return "this onnxruntime has no CUDA provider: install onnxruntime-gpu in its place (the cuda image has it)"
    preload = getattr(onnxruntime, "preload_dlls", None)
    if preload is not None:  # CUDA libraries installed as pip packages (onnxruntime-gpu[cuda,cudnn]), or torch's
        # It prints its warnings; the check below names what is missing.
        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(Exception):
            preload()
    return provider_library_problem(Path(onnxruntime.__file__).parent / "capi")


def provider_library_problem(folder: Path, name: str = "libonnxruntime_providers_cuda.so") -> str:
    """Load onnxruntime's provider library ``name`` from ``folder`` as onnxruntime would: "" when it loads,
    else which library it could not find."""
    path = folder / name
    if not path.is_file():
        return f"onnxruntime's CUDA provider ({name}) is not in {folder}"
    shared = folder / "libonnxruntime_providers_shared.so"
    try:
        if shared.is_file():  # the provider resolves symbols from it, as onnxruntime loads it first
            ctypes.CDLL(str(shared), mode=os.RTLD_GLOBAL)
        ctypes.CDLL(str(path))
    except OSError as error:
        missing = re.match(r"([^\s:]+\.so[.\d]*): cannot open shared object file", str(error))
        if missing:
            return (
                f"onnxruntime's CUDA provider needs {missing.group(1)}, which is not installed: install the CUDA 12 "
                "and cuDNN 9 runtime libraries, or pip install 'onnxruntime-gpu[cuda,cudnn]'"
            )
        return f"onnxruntime's CUDA provider does not load: {error}"
    return ""


def session_note(session: Any) -> str:
    """What ``jobs`` says of a session on the CPU on a machine with a GPU: why ("" otherwise)."""
    if "CUDAExecutionProvider" in session.get_providers() or "cuda" not in accelerators():
        return ""
    return f"on the CPU: {cuda_problem() or 'onnxruntime fell back to it'}"


def int8_copy(source: Path, target: Path) -> Path:
    """``target``: the int8 copy of the graph at ``source``, made now when it is not there yet. Name the
    target after the source's fingerprint, so new weights get a new copy."""
    if target.is_file():  # made before: onnx is not needed to use it
        return target
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as error:  # onnx is missing: the int8 option needs it to rewrite the graph
        raise ModelMissing(
            f"the int8 option needs the onnx package to quantize {source.name} ({error}): pip install onnx"
        ) from None

    def quantize(scratch: str) -> None:
        quantize_dynamic(str(source), scratch, weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)

    return _copy_once(source, target, "int8", quantize)


def fp16_copy(source: Path, target: Path) -> Path:
    """``target``: the float16 copy of the graph at ``source`` (float32 in and out), made now when it is not
    there yet. Raises ``ModelMissing`` when the onnx package it needs is not installed."""
    if target.is_file():
        return target
    try:
        import onnx
        from onnxruntime.transformers.float16 import convert_float_to_float16
    except ImportError as error:
        raise ModelMissing(
            f"fp16 needs the onnx package to convert {source.name} ({error}): pip install onnx"
        ) from None

    def convert(scratch: str) -> None:
        model = convert_float_to_float16(onnx.load(str(source)), keep_io_types=True)
        onnx.save(model, scratch)

    return _copy_once(source, target, "fp16", convert)


def _copy_once(source: Path, target: Path, kind: str, write: Callable[[str], None]) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=".onnx", dir=target.parent)
    os.close(handle)
    try:
        log.info("writing the %s copy of %s to %s (once)", kind, source, target)
        write(scratch)
        move_into_place(Path(scratch), target)  # readable as any file made here
    finally:
        Path(scratch).unlink(missing_ok=True)
    return target


def move_into_place(scratch: Path, target: Path) -> None:
    """Put a finished file where it belongs in one step, readable as any file made here would be (a
    scratch file from ``mkstemp`` is private to its owner)."""
    os.chmod(scratch, 0o666 & ~_umask())
    os.replace(scratch, target)


def _umask() -> int:
    """The process's umask, read without setting it (``os.umask`` would change it for every thread)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:  # not Linux
        pass
    return 0o022
