"""Live updates as Server-Sent Events: picture added / changed / removed, job progress, and so on."""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import StreamingResponse

from pixlstash.library import Library
from pixlstash.system.events import Event

from ..api import Api, RequestContext
from ..event_streams import event_stream, sse
from ..security import Policy


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
        sees_all = ctx.principal is None or ctx.principal.audience.sees_all
        visible = None if sees_all else _visible_pictures(ctx.library)
        return sse(event_stream(ctx.request, ctx.state, Policy.READ, visible))


def _visible_pictures(library: Library) -> Callable[[list[Event]], list[Event]]:
    """Events as an account that does not see every picture may have them: only the pictures it may see
    (checked in the stream's context, where its account is in force). An event about nothing it may see is
    not sent at all, so a stream does not tell that someone else's private picture changed."""

    def visible(events: list[Event]) -> list[Event]:
        named = sorted({i for event in events for i in event.picture_ids})
        seen = set(library.pictures.existing_ids(named)) if named else set()
        kept = []
        for event in events:
            if not event.picture_ids:
                kept.append(event)
            elif ids := [i for i in event.picture_ids if i in seen]:
                kept.append(Event(event.kind, ids, event.data))
        return kept

    return visible
