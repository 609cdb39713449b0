"""Which key-value cache a generating engine (a captioner writing tokens) decodes with.

transformers' dynamic cache grows a tensor per layer at every step, and each step waits on Python: measured
on an H200 with JoyCaption's 8B decoder at batch 4, a decode step took ~22 ms where reading the weights
takes ~4. Its static cache is allocated once at the longest length, and on CUDA transformers compiles the
decode step into CUDA graphs (about 8 ms a step, same card). Compiling can fail where the machine cannot
build kernels (Triton needs a C compiler); then the engine says so once and goes on with the dynamic cache.
Off CUDA the static cache gains nothing, and bitsandbytes' quantized layers do not compile.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from .base import is_out_of_memory

__all__ = ["DECODINGS", "Decoding", "KeyValueCache"]

log = logging.getLogger(__name__)

Decoding = Literal["auto", "static", "dynamic"]
DECODINGS: tuple[str, ...] = ("auto", "static", "dynamic")


class KeyValueCache:
    """The ``decoding`` setting of one model's weights, and what became of it."""

    def __init__(self, setting: str = "auto", engine: str = "") -> None:
        if setting not in DECODINGS:
            raise ValueError(f"decoding is one of {', '.join(DECODINGS)}, not {setting!r}")
        self.setting, self.engine = setting, engine
        self.failed = ""  # why the static cache was given up, once it was

    def static(self, device: str | None, quantized: bool = False) -> bool:
        """Whether to decode with the static cache on ``device``."""
        if self.setting != "auto":
            return self.setting == "static"
        return device == "cuda" and not quantized and not self.failed

    def generate(self, model: Any, static: bool, **arguments: Any) -> Any:
        """``model.generate(**arguments)`` with the static cache when ``static``; a static cache that fails
        for a reason other than memory (which the runtime handles by halving the batch) is given up, said
        once, and the same call made with the dynamic cache. A static cache asked for by name is not."""
        if not static:
            return model.generate(**arguments)
        try:
            return model.generate(**arguments, cache_implementation="static")
        except Exception as error:
            if is_out_of_memory(error) or self.setting == "static":
                raise
            self.failed = f"{type(error).__name__}: {str(error).splitlines()[0][:160] if str(error) else ''}"
            log.warning("%s: the static cache failed (%s); the dynamic one from now on", self.engine, error)
            return model.generate(**arguments)

    def note(self, static: bool) -> str:
        """ "static cache", or "dynamic cache" and why the static one was given up."""
        gave_up = f" (the static one failed: {self.failed})" if self.failed else ""
        return f"{'static' if static else 'dynamic'} cache{gave_up}"
