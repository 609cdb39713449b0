"""Server-Sent Event streams that cannot hold up the library's writers or the owner's requests.

A bulk edit of 3,000 pictures publishes one event naming them all, and every open stream gets it. What
each stream does with it must stay cheap however many streams are open (an attack held 40 share
streams open and the owner's requests went from 6 ms to 44 s):

- a stream's waiting events are merged (consecutive events of one kind and data become one) and
  bounded: past the bound they collapse into one ``library.changed``, which makes a client reload;
- a stream sends at most one batch per ``_BATCH_INTERVAL``, checks its credentials once per batch, and
  does a share's scope check as one query per batch;
- share streams check scope one at a time (a limiter of one thread), so the worker threads stay free
  for everyone else's requests;
- anonymous share streams are capped per link and per client address (``StreamSlots``, 429 past a cap).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable

import anyio
import msgspec
from starlette.requests import Request
from starlette.responses import StreamingResponse

from pixlstash.errors import PixlstashError
from pixlstash.system.events import Event

from .security import Policy, authorise
from .state import AppState

__all__ = ["Mailbox", "event_stream", "sse"]

log = logging.getLogger("pixlstash_web")

_encoder = msgspec.json.Encoder()
_WAITING_EVENTS = 256  # past this many waiting events (or ids), a stream is told to reload instead
_WAITING_IDS = 100_000
_BATCH_INTERVAL = 0.25  # seconds: events arriving meanwhile go out together
_RELOAD = Event("library.changed", data={"reload": True})


class Mailbox:
    """The events waiting for one stream. ``put`` is called on the publishing thread (a writer), so it
    only appends under a lock; the stream's task takes everything waiting at once."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._waiting: list[Event] = []
        self._ids = 0
        self._overflowed = False
        self._wake = asyncio.Event()

    def put(self, event: Event) -> None:
        with self._lock:
            if self._overflowed:
                return
            was_empty = not self._waiting
            last = self._waiting[-1] if self._waiting else None
            if last is not None and _mergeable(last, event):
                merged = list(dict.fromkeys([*last.picture_ids, *event.picture_ids]))
                self._waiting[-1] = Event(event.kind, merged, event.data)
            else:
                self._waiting.append(event)
            self._ids += len(event.picture_ids)
            if len(self._waiting) > _WAITING_EVENTS or self._ids > _WAITING_IDS:
                self._waiting, self._overflowed = [], True
        if was_empty:
            with contextlib.suppress(RuntimeError):  # the loop is closing
                self._loop.call_soon_threadsafe(self._wake.set)

    async def take(self, timeout: float) -> list[Event]:
        """Everything waiting (raises TimeoutError when nothing came for ``timeout`` seconds)."""
        await asyncio.wait_for(self._wake.wait(), timeout)
        with self._lock:
            events, overflowed = self._waiting, self._overflowed
            self._waiting, self._ids, self._overflowed = [], 0, False
            self._wake.clear()
        return [_RELOAD] if overflowed else events


def _mergeable(earlier: Event, later: Event) -> bool:
    return (
        earlier.kind == later.kind
        and earlier.kind.startswith("picture.")
        and earlier.data == later.data
        and bool(earlier.picture_ids)
        and bool(later.picture_ids)
    )


async def event_stream(
    request: Request,
    state: AppState,
    policy: Policy,
    visible: Callable[[list[Event]], list[Event]] | None = None,
    limiter: anyio.CapacityLimiter | None = None,
) -> AsyncIterator[bytes]:
    """Events (those ``visible`` keeps, run on a worker thread under ``limiter``), with heartbeats,
    until the client leaves or its credentials stop being valid: they are checked again before every
    batch and heartbeat, so a revoked token, session or share link ends its streams at once."""
    mailbox = Mailbox(asyncio.get_running_loop())
    unsubscribe = state.library.events.subscribe(mailbox.put)
    try:
        yield b"retry: 3000\n: connected\n\n"
        while True:
            try:
                events = await mailbox.take(state.settings.sse_heartbeat)
            except TimeoutError:
                if await request.is_disconnected() or not await _still_allowed(request, state, policy):
                    return
                yield b": heartbeat\n\n"
                continue
            if not events:
                continue
            if not await _still_allowed(request, state, policy):
                return
            if visible is not None:
                events = await anyio.to_thread.run_sync(visible, events, limiter=limiter)
            if events:
                yield b"".join(_frame(event) for event in events)
            await asyncio.sleep(_BATCH_INTERVAL)
    finally:
        unsubscribe()


def _frame(event: Event) -> bytes:
    return b"event: " + event.kind.encode() + b"\ndata: " + _encoder.encode(event) + b"\n\n"


async def _still_allowed(request: Request, state: AppState, policy: Policy) -> bool:
    try:
        await authorise(request, state, policy)
    except PixlstashError as error:
        log.info("ending the event stream of %s: %s", request.url.path, error.message)
        return False
    return True


class EventStreamResponse(StreamingResponse):
    """A stream that is closed when its response ends, however it ends: Starlette cancels the sending
    task when the client leaves, which leaves the generator suspended (still subscribed, its slot
    taken) until the garbage collector finds it. Closing it runs its ``finally`` at once."""

    def __init__(self, stream: AsyncIterator[bytes], on_close: Callable[[], object] | None = None) -> None:
        super().__init__(
            stream, media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        )
        self.on_close = on_close

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                with contextlib.suppress(RuntimeError):  # already running elsewhere: it ends by itself
                    await self.body_iterator.aclose()  # type: ignore[attr-defined]
                if self.on_close is not None:
                    self.on_close()


def sse(stream: AsyncIterator[bytes], on_close: Callable[[], object] | None = None) -> StreamingResponse:
    return EventStreamResponse(stream, on_close)
