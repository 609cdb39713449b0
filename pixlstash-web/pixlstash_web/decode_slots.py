"""Work that decodes a picture on a request's behalf, a few at a time per credential.

A missing thumbnail or preview, a face crop made on first view, a share's watermark render or an
original stripped of its metadata: each reads and decodes an original, up to hundreds of megabytes for
a 48 MP photo. Without a bound, a handful of requests from one read token kept every worker busy for
minutes (and the owner waited). Here each credential (a session, a token, a share link from one
address) runs at most ``per_credential`` such jobs at once; the rest wait without holding a worker
thread, up to ``waiting`` of them, and past that get 429. All credentials together run at most
``total`` (the machine's cores), on threads of their own, so the owner's other requests never queue
behind decodes.

A share link's recipients together (every address) run at most ``per_share_link`` at once, so one link
passed around cannot take every core; and when a core frees, work for the owner (a session or a token)
waiting for one goes before work for a share link: a share's downloads never make the owner wait for a
new preview.
"""

from __future__ import annotations

import contextlib
import os
from collections import deque
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


class _Cores:
    """At most ``size`` holders; a freed place goes to waiting owner work (priority 0) before shared work."""

    def __init__(self, size: int) -> None:
        self.free = size
        self.waiting: tuple[deque[anyio.Event], deque[anyio.Event]] = (deque(), deque())

    async def acquire(self, priority: int) -> None:
        if self.free > 0 and not any(self.waiting):
            self.free -= 1
            return
        handed = anyio.Event()
        self.waiting[priority].append(handed)
        try:
            await handed.wait()
        except BaseException:  # cancelled: give up the place, or pass it on if it was handed over meanwhile
            if handed.is_set():
                self.release()
            else:
                self.waiting[priority].remove(handed)
            raise

    def release(self) -> None:
        for queue in self.waiting:
            if queue:
                queue.popleft().set()  # the place passes straight to the next in line
                return
        self.free += 1


class DecodeSlots:
    """Lives on the event loop: every method is called from it, so no lock is needed."""

    def __init__(
        self, per_credential: int = 2, waiting: int = 64, total: int | None = None, per_share_link: int = 2
    ) -> None:
        self.per_credential, self.waiting, self.per_share_link = per_credential, waiting, per_share_link
        cores = total or max(1, os.cpu_count() or 1)
        self.cores = _Cores(cores)
        self.threads = anyio.CapacityLimiter(cores)  # never waited on: the cores above come first
        self._slots: dict[tuple, _Slot] = {}

    def _enter(self, key: tuple, size: int) -> _Slot:
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _Slot(size)
        if slot.users >= size + self.waiting:
            raise RateLimited("too many pictures are being prepared for you at once; try again", retry_after=1)
        slot.users += 1
        return slot

    def _leave(self, key: tuple) -> None:
        slot = self._slots[key]
        slot.users -= 1
        if slot.users == 0:
            del self._slots[key]

    async def run(self, who: tuple, work: Callable[[], T]) -> T:
        """``work()`` on a worker thread once ``who`` (and its share link) has a free slot and the machine a
        free core."""
        link = ("share link", who[1]) if who[0] == "share" else None
        held: list[tuple] = []
        try:
            async with contextlib.AsyncExitStack() as stack:
                for key, size in ((who, self.per_credential), (link, self.per_share_link)):
                    if key is not None:
                        slot = self._enter(key, size)
                        held.append(key)
                        await stack.enter_async_context(slot.semaphore)
                await self.cores.acquire(0 if who[0] in ("session", "token") else 1)
                try:
                    return await anyio.to_thread.run_sync(work, limiter=self.threads)
                finally:
                    self.cores.release()
        finally:
            for key in held:
                self._leave(key)

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
