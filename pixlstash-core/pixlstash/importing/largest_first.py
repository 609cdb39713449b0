"""The import's worker threads, taking the largest waiting file first.

Longest processing time first: a batch's big files (4K upscales, camera PNGs) start early, so none is left
decoding alone at the batch's end while the other cores wait; measured in benchmarks/README.md ("Big files
over HTTP"). Files of one size, and every file when there is one worker, are taken in the order they came.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

__all__ = ["LargestFirstPool"]


class LargestFirstPool:
    """``submit(size, fn, *args)`` returns a Future; an idle worker runs the largest waiting call."""

    def __init__(self, workers: int, thread_name_prefix: str) -> None:
        self._by_size = workers > 1  # one worker keeps the arrival order (ids follow the files)
        self._waiting: list[tuple[int, int, Future, Callable[..., Any], tuple[Any, ...]]] = []
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"{thread_name_prefix}_{n}", daemon=True) for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, size: int, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        with self._changed:
            if self._closed:
                raise RuntimeError("the pool is shut down")
            heapq.heappush(self._waiting, (-size if self._by_size else 0, next(self._order), future, fn, args))
            self._changed.notify()
        return future

    def _work(self) -> None:
        while True:
            with self._changed:
                while not self._waiting and not self._closed:
                    self._changed.wait()
                if not self._waiting:
                    return
                _, _, future, fn, args = heapq.heappop(self._waiting)
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args)
            except BaseException as error:  # handed to whoever waits on the future, as an executor does
                future.set_exception(error)
            else:
                future.set_result(result)

    def shutdown(self) -> None:
        """Run what is waiting, then stop the workers and wait for them."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        for thread in self._threads:
            thread.join()

    def __enter__(self) -> LargestFirstPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
