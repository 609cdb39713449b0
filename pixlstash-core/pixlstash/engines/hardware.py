"""Which accelerators this machine has, found without importing torch or onnxruntime.

Listings, model status and ``pixlstash doctor`` want to say "no GPU here" without paying for torch (about
450 MB of mapped CUDA libraries in a server that may never run an engine). What an engine actually runs on
is still decided by its own ``devices()`` when it loads; this only looks at the machine.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
import sys

__all__ = ["accelerators"]


@functools.cache
def accelerators() -> tuple[str, ...]:
    """The accelerators present, best first: "cuda" (an NVIDIA GPU with its driver), "mps" (Apple silicon)."""
    found = []
    if _nvidia_gpus() > 0:
        found.append("cuda")
    if sys.platform == "darwin" and platform.machine() == "arm64":
        found.append("mps")
    return tuple(found)


def _nvidia_gpus() -> int:
    if sys.platform.startswith("linux"):
        try:  # the driver lists each GPU here; no library is loaded
            return len(os.listdir("/proc/driver/nvidia/gpus"))
        except OSError:
            return 0
    if sys.platform == "win32":
        try:
            ctypes.WinDLL("nvcuda.dll")  # type: ignore[attr-defined]
        except OSError:
            return 0
        return 1
    return 0
