"""ONNX Runtime for plugins whose models are (or are exported to) ONNX graphs: one way to open a session
on the device asked for, and the opt-in int8 copy of a graph.

The int8 copy is ONNX Runtime's dynamic quantization: weights int8 per output channel, activations
quantized per batch. ``reduce_range`` keeps weights to 7 bits because CPUs without VNNI multiply
uint8 by int8 with an instruction that saturates at int16: measured here on CLIP ViT-B/32, the full
range lost ten times more (embedding cosine 0.9967 against 0.9997) for no gain in speed. The copy is made
once, next to the plugin's models, and written atomically: a crash leaves no half-written graph.

onnxruntime (and onnx, for quantizing) load when a session or copy is first made, never on import.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from ..errors import ModelMissing

__all__ = ["int8_copy", "move_into_place", "open_session"]

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
        # onnxruntime falls back to the CPU silently when CUDA libraries are missing: say so once.
        log.warning("%s: CUDA was asked for but onnxruntime could not use it; running on the CPU", engine_id or path)
    return session


def int8_copy(source: Path, target: Path) -> Path:
    """``target``: the int8 copy of the graph at ``source``, made now when it is not there yet. Name the
    target after the source's fingerprint, so new weights get a new copy."""
    if target.is_file():
        return target
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as error:  # onnx is missing: the int8 option needs it to rewrite the graph
        raise ModelMissing(
            f"the int8 option needs the onnx package to quantize {source.name} ({error}): pip install onnx"
        ) from None
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=".onnx", dir=target.parent)
    os.close(handle)
    try:
        log.info("writing the int8 copy of %s to %s (once)", source, target)
        quantize_dynamic(str(source), scratch, weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)
        os.replace(scratch, target)
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
