"""The one clock everything is stamped with: Unix time in milliseconds."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Clock", "now_ms"]

Clock = Callable[[], int]  # milliseconds since the Unix epoch


def now_ms() -> int:
    return int(time.time() * 1000)
