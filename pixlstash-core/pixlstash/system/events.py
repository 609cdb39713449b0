"""An in-process publish/subscribe of library changes (the web's live stream listens here)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Literal

import msgspec

__all__ = ["Event", "EventBus"]

EventKind = Literal[
    "picture.added",
    "picture.changed",
    "picture.removed",
    "picture.restored",
    "collection.changed",
    "project.changed",
    "tag.changed",
    "folder.changed",
    "import.progress",
    "job.progress",
    "comfy.run",
    "library.restored",
    "library.changed",
]


class Event(msgspec.Struct, frozen=True):
    kind: EventKind
    picture_ids: list[int] = []
    data: dict[str, Any] = {}


class EventBus:
    """Subscribers are called synchronously from the publishing thread; keep them quick (enqueue)."""

    def __init__(self) -> None:
        self._subscribers: list[Callable[[Event], None]] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Add a subscriber; returns the function that removes it."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def publish(self, event: Event) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(event)
            except Exception:  # a broken listener must not break the writer
                import logging

                logging.getLogger(__name__).exception("event subscriber failed")
