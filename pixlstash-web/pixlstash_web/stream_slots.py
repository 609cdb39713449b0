"""Caps on the live update streams share links hold open: per link and per client address."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable

from pixlstash.auth import RateLimited

__all__ = ["StreamSlots"]


class StreamSlots:
    """How many anonymous streams are open per share link and per client address, with caps. A slot is
    given back when its stream ends, or when the stream is dropped before it ever started."""

    def __init__(self, per_link: int, per_address: int) -> None:
        self.per_link = per_link
        self.per_address = per_address
        self._lock = threading.Lock()
        self._open: dict[tuple[str, object], int] = {}

    def take(self, share_id: int, address: str, owner: object) -> Callable[[], None]:
        """Count a stream for ``owner`` (its response); 429 when a cap is reached. Returns what gives the
        slot back (once, however often it is called); dropping ``owner`` gives it back too."""
        keys = (("link", share_id), ("address", address))
        with self._lock:
            if self._open.get(keys[0], 0) >= self.per_link:
                raise _too_many(f"this share link already has {self.per_link} live update streams open")
            if self._open.get(keys[1], 0) >= self.per_address:
                raise _too_many(f"{self.per_address} live update streams are already open from this address")
            for key in keys:
                self._open[key] = self._open.get(key, 0) + 1
        return weakref.finalize(owner, self._give_back, keys)

    def _give_back(self, keys: tuple[tuple[str, object], ...]) -> None:
        with self._lock:
            for key in keys:
                left = self._open.get(key, 0) - 1
                if left > 0:
                    self._open[key] = left
                else:
                    self._open.pop(key, None)

    def count(self, share_id: int) -> int:
        with self._lock:
            return self._open.get(("link", share_id), 0)


def _too_many(message: str) -> RateLimited:
    return RateLimited(message + "; close one, or try again later", retry_after=30)
