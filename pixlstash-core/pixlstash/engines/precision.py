"""The number format a torch engine computes in, and the batch it runs at, chosen from the device.

A GPU multiplies bfloat16 (or float16) matrices several times faster than float32: measured on one H200,
787 TFLOP/s against 51 (benchmarks/README.md). So on an accelerator an engine infers in bfloat16 (float16
where the card has no bfloat16: NVIDIA compute capability under 8.0; Apple's MPS), under torch's autocast,
which keeps in float32 the operations that need it (softmax, norms, reductions); on the CPU in float32.
A plugin's ``precision`` setting overrides the choice (``fp32`` for whoever wants the old numbers exactly).

A batch on a GPU is sized from the memory free on it, not from a constant tuned on a 2-core CPU: enough
pictures to keep the card busy, within what fits. Nothing here imports torch; the caller passes it in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Literal

__all__ = [
    "PRECISIONS",
    "Precision",
    "autocast",
    "batch_for_memory",
    "dtype_name",
    "free_device_bytes",
    "torch_dtype",
]

Precision = Literal["auto", "fp32", "bf16", "fp16"]
PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16", "fp16")
_NAMES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}


def dtype_name(device: str, precision: str, bf16_supported: bool = True) -> str:
    """``float32``, ``bfloat16`` or ``float16``: what an engine on ``device`` computes in for the
    ``precision`` setting. ``auto``: bfloat16 on CUDA where the card has it, else float16; float16 on MPS;
    float32 on the CPU (where bfloat16 is slower on most processors)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision is one of {', '.join(PRECISIONS)}, not {precision!r}")
    if precision != "auto":
        if precision == "bf16" and device == "cuda" and not bf16_supported:
            return "float16"  # asked for on a card without it: the nearest it has
        return _NAMES[precision]
    if device == "cuda":
        return "bfloat16" if bf16_supported else "float16"
    if device == "mps":
        return "float16"
    return "float32"


def torch_dtype(torch: Any, device: str, precision: str) -> Any:
    """The torch dtype for ``device`` and ``precision`` (asks the card whether it has bfloat16)."""
    bf16 = bool(device != "cuda" or torch.cuda.is_bf16_supported())
    return getattr(torch, dtype_name(device, precision, bf16))


@contextlib.contextmanager
def autocast(torch: Any, device: str, dtype: Any) -> Iterator[None]:
    """torch's autocast to ``dtype`` on ``device`` (nothing for float32): matrix products and convolutions
    in the lower precision, what needs float32 kept in it."""
    if dtype == torch.float32:
        yield
        return
    with torch.autocast(device_type=device, dtype=dtype):
        yield


def free_device_bytes(torch: Any, device: str) -> int | None:
    """The memory free on ``device`` now (CUDA), or None where it cannot be told (the CPU, MPS)."""
    if device != "cuda":
        return None
    free, _total = torch.cuda.mem_get_info()
    return int(free)


def batch_for_memory(
    free_bytes: int | None,
    per_item_bytes: int,
    *,
    fallback: int,
    fixed_bytes: int = 0,
    share: float = 0.7,
    high: int = 512,
    multiple: int = 8,
) -> int:
    """How many items to run at once with ``free_bytes`` free: a ``share`` of it, less ``fixed_bytes``
    (what one call takes whatever its size), over what each item takes, rounded down to a ``multiple``
    (the GPU's kernels like them) and at most ``high``; at least 1. ``fallback`` where the free memory is
    not known (the CPU)."""
    if free_bytes is None:
        return fallback
    room = int(free_bytes * share) - fixed_bytes
    fits = room // max(1, per_item_bytes)
    if fits >= multiple:
        fits -= fits % multiple
    return max(1, min(high, fits))
