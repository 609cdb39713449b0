"""Work that decodes a picture on a request's behalf, a few at a time per credential.

A missing thumbnail or preview, a face crop made on first view, a share's watermark render or an
original stripped of its metadata: each reads and decodes an original, up to hundreds of megabytes for
a 48 MP photo. Without a bound, a handful of requests from one read token kept every worker busy for
minutes (and the owner waited). Here each credential (a session, a token, a share link from one
address) runs at most ``per_credential`` such jobs at once; the rest wait without holding a worker
thread, up to ``waiting`` of them, and past that get 429. All credentials together run at most
``total`` (the machine's cores), on threads of their own, so the owner's other requests never queue
behind decodes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

from pixlstash.auth import Principal, RateLimited

__all__ = ["DecodeSlots"]

T = TypeVar("T")


class _Slot:
    __slots__ = ("semaphore", "users")

    def __init__(self, size: int) -> None:
        self.semaphore = anyio.Semaphore(size)
        self.users = 0


class DecodeSlots:
    """Lives on the event loop: every method is called from it, so no lock is needed."""

    def __init__(self, per_credential: int = 2, waiting: int = 64, total: int | None = None) -> None:
        self.per_credential, self.waiting = per_credential, waiting
        self.total = anyio.CapacityLimiter(total or max(1, os.cpu_count() or 1))
        self._slots: dict[tuple, _Slot] = {}

    async def run(self, who: tuple, work: Callable[[], T]) -> T:
        """``work()`` on a worker thread once ``who`` has a free slot and the machine a free core."""
        slot = self._slots.get(who)
        if slot is None:
            slot = self._slots[who] = _Slot(self.per_credential)
        if slot.users >= self.per_credential + self.waiting:
            raise RateLimited("too many pictures are being prepared for you at once; try again", retry_after=1)
        slot.users += 1
        try:
            async with slot.semaphore:
                return await anyio.to_thread.run_sync(work, limiter=self.total)
        finally:
            slot.users -= 1
            if slot.users == 0:
                del self._slots[who]

    def in_use(self, who: tuple) -> int:
        slot = self._slots.get(who)
        return 0 if slot is None else slot.users


def credential(principal: Principal | None, address: str) -> tuple:
    """Whose decodes these are: a share link's recipients count per address (one link, many people)."""
    if principal is None:
        return ("anonymous", address)
    if principal.kind == "share":
        return ("share", principal.id, address)
    return (principal.kind, principal.id)
