"""The application factory: ``create_app(library=None, settings=None)``."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
import anyio.to_thread
import msgspec
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from pixlstash.auth import Authenticator
from pixlstash.clock import now_ms
from pixlstash.enrichment import EnrichmentWorker
from pixlstash.folders import FolderWatcher
from pixlstash.library import Library
from pixlstash.shares import ShareService
from pixlstash.snapshots import SnapshotService
from pixlstash.updates import UpdateChecker

from .api import Api, PolicyRoute
from .errors import exception_handlers
from .pages import RECIPIENT_HTML
from .routes import MODULES
from .security import Policy
from .ui import index, static_file

__all__ = ["AppState", "WebSettings", "build_api", "create_app"]

log = logging.getLogger("pixlstash_web")


class WebSettings(msgspec.Struct, frozen=True):
    max_upload_file_bytes: int = 2 << 30
    max_upload_request_bytes: int = 8 << 30
    secure_cookies: bool = False          # set under TLS: session cookies get the Secure flag
    watch_folders: bool = True            # poll import folders (and, less often, reference folders)
    folder_poll_seconds: float = 5.0
    sse_heartbeat: float = 15.0
    update_check_poll_seconds: float = 3600.0
    worker_threads: int = max(4, 4 * (os.cpu_count() or 1))
    snapshot_schedule: bool = True        # take DAILY / WEEKLY / MONTHLY snapshots (the catalog can also turn it off)
    snapshot_check_seconds: float = 3600.0  # how often the schedule looks for a snapshot that is due
    clock: Callable[[], int] = now_ms     # Unix ms for snapshot stamps and the schedule (simulations set their own)
    public_url: str | None = None         # how others reach this server (share links); default: where it listens
    password_checks: int = 2              # password hashes computed at once (each takes a core and 32 MiB)
    enrichment: bool = True               # run queued enrichment jobs in this process


class AppState:
    """The shared objects of one running app (kept in ``app.state.pixlstash``, never in globals)."""

    def __init__(self, library: Library, settings: WebSettings) -> None:
        self.library = library
        self.settings = settings
        self.auth = Authenticator(library.root)
        self.shares = ShareService(library, self.auth)
        self.updates = UpdateChecker(self.auth.store)
        self.snapshots = SnapshotService(library, clock=settings.clock)
        self.watcher = FolderWatcher(library, settings.folder_poll_seconds) if settings.watch_folders else None
        self.worker = EnrichmentWorker(library) if settings.enrichment else None
        self.password_checks = anyio.CapacityLimiter(settings.password_checks)
        self._stop = threading.Event()

    def start(self) -> None:
        if self.watcher is not None:
            self.watcher.start()
        if self.worker is not None:
            self.worker.start()
        threading.Thread(target=self._update_loop, name="pixlstash-update-check", daemon=True).start()
        if self.settings.snapshot_schedule:
            threading.Thread(target=self._snapshot_loop, name="pixlstash-snapshots", daemon=True).start()

    def _snapshot_loop(self) -> None:
        """Daily, weekly and monthly snapshots while the server runs (if the schedule is on)."""
        interval = self.settings.snapshot_check_seconds
        delay = min(60.0, interval)  # the first check a minute after start, then one every interval
        while not self._stop.wait(delay):
            try:
                self.snapshots.run_schedule()
            except Exception:  # a failed automatic snapshot must not stop the next one
                log.exception("automatic snapshot failed")
            delay = interval

    def _update_loop(self) -> None:
        while not self._stop.wait(5.0):
            self.updates.check_if_due()  # does nothing unless the owner turned the check on
            if self._stop.wait(self.settings.update_check_poll_seconds):
                return

    def stop(self) -> None:
        self._stop.set()
        if self.watcher is not None:
            self.watcher.stop()
        if self.worker is not None:
            self.worker.stop()
        self.auth.close()
        self.snapshots.close()


def build_api() -> Api:
    api = Api()
    for module in MODULES:
        module.register(api)
    return api


async def _recipient(request: Request) -> Response:
    return HTMLResponse(RECIPIENT_HTML, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


def create_app(library: Library | None = None, settings: WebSettings | None = None, *,
               library_path: Path | None = None, plugin_manager=None) -> Starlette:
    """Build the ASGI app over an open ``library`` (the caller closes it) or one opened at ``library_path``."""
    settings = settings or WebSettings()
    if library is None and library_path is None:
        raise ValueError("create_app needs a library or a library_path")
    api = build_api()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Handlers run in worker threads, each with its own SQLite connection: a few per core is plenty,
        # and far fewer than anyio's default 40 keeps memory flat under load.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        opened = library or Library.open(library_path, plugin_manager=plugin_manager)
        state = AppState(opened, settings)
        app.state.pixlstash = state
        state.start()
        try:
            yield
        finally:
            state.stop()
            if library is None:
                opened.close()

    routes = [
        *api.routes(),
        PolicyRoute("/", index, methods=["GET"], policy=Policy.PUBLIC, include_in_schema=False),
        PolicyRoute("/ui/{path:path}", static_file, methods=["GET"], policy=Policy.PUBLIC, include_in_schema=False),
        PolicyRoute("/s/{share_token}", _recipient, methods=["GET"], policy=Policy.PUBLIC, include_in_schema=False),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(GZipMiddleware, minimum_size=2048)],
                    exception_handlers=exception_handlers, lifespan=lifespan)
    app.state.api = api
    return app
