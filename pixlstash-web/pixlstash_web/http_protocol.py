"""uvicorn's HTTP/1.1 protocol with a deadline for each request's head (slowloris).

uvicorn arms no timer on a new connection, and its keep-alive timer stops at the first byte of the next
request: a client that sends a header line every few seconds holds its connection (and its file
descriptor) for as long as it likes, and 2,000 such clients were held open by the server. Here every
request line and its headers must arrive within ``seconds`` of the connection opening or of the previous
response; a connection still short of its head then is closed.
"""

from __future__ import annotations

import asyncio
import logging

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["HEAD_TIMEOUT", "with_head_deadline"]

log = logging.getLogger("pixlstash_web")

HEAD_TIMEOUT = 10.0  # seconds; a browser or script sends its head in milliseconds


def with_head_deadline(seconds: float = HEAD_TIMEOUT) -> type[H11Protocol]:
    """The protocol class to give uvicorn (``http=``)."""

    class HeadDeadlineH11Protocol(H11Protocol):
        _head_deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def handle_events(self) -> None:
            super().handle_events()
            if self.conn.their_state is not h11.IDLE:  # the head arrived (or the connection ended)
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
                self._arm()  # the next request on this connection gets the same deadline

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._head_deadline = self.loop.call_later(seconds, self._too_slow)

        def _disarm(self) -> None:
            if self._head_deadline is not None:
                self._head_deadline.cancel()
                self._head_deadline = None

        def _too_slow(self) -> None:
            self._head_deadline = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                client = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
                log.info("closed the connection of %s: no complete request head within %.0f s", client, seconds)
                self.transport.close()

    return HeadDeadlineH11Protocol
