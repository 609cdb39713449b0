"""Live updates as Server-Sent Events: picture added / changed / removed, job progress, and so on."""

from __future__ import annotations

from starlette.responses import StreamingResponse

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
        return sse(event_stream(ctx.request, ctx.state, Policy.READ))
