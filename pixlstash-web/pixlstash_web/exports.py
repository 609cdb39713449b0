"""Export tickets: a training-set export asked for by a POST and downloaded by a plain GET (so a browser
saves a 20 GB zip as it streams, without holding it). A ticket names what to export, not who may: the GET
needs the same authentication as any read. Tickets live in memory for a quarter of an hour, at most
``MAX_TICKETS`` of them (the oldest go first): a client asking again and again cannot grow the server
without bound."""

from __future__ import annotations

import secrets
import threading
import time

import msgspec

from pixlstash.domain import PictureFilter
from pixlstash.errors import NotFound
from pixlstash.training import ExportOptions

__all__ = ["ExportTicket", "ExportTickets"]

_LIFETIME = 15 * 60
MAX_TICKETS = 64


class ExportTicket(msgspec.Struct):
    id: str
    filter: PictureFilter
    options: ExportOptions
    name: str
    pictures: int
    done: int = 0
    finished: bool = False
    created: float = 0.0


class ExportTickets:
    def __init__(self) -> None:
        self._tickets: dict[str, ExportTicket] = {}
        self._lock = threading.Lock()

    def create(self, f: PictureFilter, options: ExportOptions, name: str, pictures: int) -> ExportTicket:
        ticket = ExportTicket(secrets.token_urlsafe(16), f, options, name, pictures, created=time.monotonic())
        with self._lock:
            self._forget_old()
            while len(self._tickets) >= MAX_TICKETS:
                del self._tickets[next(iter(self._tickets))]  # insertion order: the oldest
            self._tickets[ticket.id] = ticket
        return ticket

    def get(self, ticket_id: str) -> ExportTicket:
        with self._lock:
            self._forget_old()
            ticket = self._tickets.get(ticket_id)
        if ticket is None:
            raise NotFound("no such export (they last 15 minutes): ask for it again")
        return ticket

    def _forget_old(self) -> None:
        now = time.monotonic()
        for key in [k for k, t in self._tickets.items() if now - t.created > _LIFETIME]:
            del self._tickets[key]
