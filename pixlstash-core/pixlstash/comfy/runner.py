"""The thread that works the queued workflow runs of a long-running process (the web server), one at a
time, in the order they were made; each change of a run is published as a ``comfy.run`` event (the task
panel follows them)."""

from __future__ import annotations

import logging
import threading

from ..system.events import Event
from .runs import ComfyRuns

__all__ = ["ComfyRunner"]

log = logging.getLogger("pixlstash")


class ComfyRunner:
    def __init__(self, runs: ComfyRuns, events) -> None:
        self.runs, self.events = runs, events
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def wake(self) -> None:
        """New runs were queued: start the thread if it is not running, and let it look."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="pixlstash-comfy-runs", daemon=True)
                self._thread.start()
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _work(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:  # runs a process that died left "running": followed to their end, or failed with a reason
                self.runs.adopt_orphans(on_change=self._publish)
            except Exception:
                log.exception("adopting workflow runs")
            queued = [r for r in reversed(self.runs.runs(open_only=True, limit=1000)) if r.status == "queued"]
            for run in queued:
                if self._stop.is_set():
                    return
                try:
                    self.runs.carry_out(run.id, on_change=self._publish)
                except Exception:  # a bug must not end the thread: the next run still goes
                    log.exception("workflow run %d", run.id)
            if not queued:
                self._wake.wait(30)  # also how often runs of a process that died are looked for

    def _publish(self, run) -> None:
        self.events.publish(Event("comfy.run", list(run.output_ids), {"run": run.id, "status": run.status}))
