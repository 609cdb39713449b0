"""Live updates as Server-Sent Events: picture added / changed / removed, job progress, and so on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import StreamingResponse

from pixlstash.errors import PixlstashError
from pixlstash.events import Event

from ..api import Api, RequestContext
from ..security import Policy, authorise
from ..state import AppState

log = logging.getLogger("pixlstash_web")

_encoder = msgspec.json.Encoder()
_QUEUE_LIMIT = 1000


async def event_stream(
    request: Request, state: AppState, policy: Policy, accept: Callable[[Event], Event | None]
) -> AsyncIterator[bytes]:
    """Events that ``accept`` lets through (possibly trimmed), with heartbeats, until the client leaves or
    its credentials stop being valid: they are checked again before every event and heartbeat, so a
    revoked token, session or share link ends its streams at once."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Event] = asyncio.Queue(_QUEUE_LIMIT)

    def deliver(event: Event) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closing
            loop.call_soon_threadsafe(lambda: queue.full() or queue.put_nowait(event))

    unsubscribe = state.library.events.subscribe(deliver)
    try:
        yield b"retry: 3000\n: connected\n\n"
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), timeout=state.settings.sse_heartbeat)
            except TimeoutError:
                if await request.is_disconnected() or not await _still_allowed(request, state, policy):
                    return
                yield b": heartbeat\n\n"
                continue
            if not await _still_allowed(request, state, policy):
                return
            visible = await run_in_threadpool(accept, event)
            if visible is not None:
                yield b"event: " + visible.kind.encode() + b"\ndata: " + _encoder.encode(visible) + b"\n\n"
    finally:
        unsubscribe()


async def _still_allowed(request: Request, state: AppState, policy: Policy) -> bool:
    try:
        await authorise(request, state, policy)
    except PixlstashError as error:
        log.info("ending the event stream of %s: %s", request.url.path, error.message)
        return False
    return True


def sse(stream: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(
        stream, media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )


def register(api: Api) -> None:
    @api.get(
        "/events",
        policy=Policy.READ,
        raw=True,
        tag="events",
        response_media="text/event-stream",
        summary="Server-Sent Events of library changes and job progress",
    )
    async def events(ctx: RequestContext) -> StreamingResponse:
        return sse(event_stream(ctx.request, ctx.state, Policy.READ, lambda event: event))
