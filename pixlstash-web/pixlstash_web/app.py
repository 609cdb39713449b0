"""The application factory: ``create_app(library=None, settings=None)``."""

from __future__ import annotations

import contextlib
import os
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

from pixlstash.clock import now_ms
from pixlstash.instance import Instance, InstanceOptions
from pixlstash.library import Library

from .api import Api, PolicyRoute
from .errors import exception_handlers
from .pages import RECIPIENT_HTML
from .routes import MODULES
from .security import Policy
from .ui import index, static_file

__all__ = ["AppState", "WebSettings", "build_api", "create_app"]


class WebSettings(msgspec.Struct, frozen=True):
    max_upload_file_bytes: int = 2 << 30
    max_upload_request_bytes: int = 8 << 30
    secure_cookies: bool = False  # set under TLS: session cookies get the Secure flag
    watch_folders: bool = True  # poll import folders (and, less often, reference folders)
    folder_poll_seconds: float = 5.0
    sse_heartbeat: float = 15.0
    update_check_poll_seconds: float = 3600.0
    worker_threads: int = max(4, 4 * (os.cpu_count() or 1))
    snapshot_schedule: bool = True  # take DAILY / WEEKLY / MONTHLY snapshots (the catalog can also turn it off)
    snapshot_check_seconds: float = 3600.0  # how often the schedule looks for a snapshot that is due
    enrichment: bool = True  # run queued enrichment jobs in this process
    outside_changes_seconds: float = 1.0  # how often writes by other processes are looked for
    clock: Callable[[], int] = now_ms  # Unix ms for snapshot stamps and the schedule (simulations set their own)
    public_url: str | None = None  # how others reach this server (share links); default: where it listens
    password_checks: int = 2  # password hashes computed at once (each takes a core and 32 MiB)

    def instance_options(self) -> InstanceOptions:
        """The settings of the library's long-lived services (the core runs them)."""
        return InstanceOptions(**{name: getattr(self, name) for name in InstanceOptions.__struct_fields__})


class AppState:
    """The shared objects of one running app (kept in ``app.state.pixlstash``, never in globals): the
    library's running instance, and what only the web needs."""

    def __init__(self, instance: Instance, settings: WebSettings) -> None:
        self.instance = instance
        self.settings = settings
        self.library = instance.library
        self.auth = instance.auth
        self.shares = instance.shares
        self.updates = instance.updates
        self.snapshots = instance.snapshots
        self.worker = instance.worker
        self.password_checks = anyio.CapacityLimiter(settings.password_checks)


def build_api() -> Api:
    api = Api()
    for module in MODULES:
        module.register(api)
    return api


async def _recipient(request: Request) -> Response:
    return HTMLResponse(RECIPIENT_HTML, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


def create_app(
    library: Library | None = None,
    settings: WebSettings | None = None,
    *,
    library_path: Path | None = None,
    plugin_manager=None,
) -> Starlette:
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
        instance = Instance(opened, settings.instance_options())
        try:
            instance.start()
            app.state.pixlstash = AppState(instance, settings)
            yield
        finally:
            instance.stop()
            if library is None:
                opened.close()

    routes = [
        *api.routes(),
        PolicyRoute("/", index, methods=["GET"], policy=Policy.PUBLIC, include_in_schema=False),
        PolicyRoute("/ui/{path:path}", static_file, methods=["GET"], policy=Policy.PUBLIC, include_in_schema=False),
        PolicyRoute("/s/{share_token}", _recipient, methods=["GET"], policy=Policy.PUBLIC, include_in_schema=False),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(GZipMiddleware, minimum_size=2048)],
        exception_handlers=exception_handlers,
        lifespan=lifespan,
    )
    app.state.api = api
    return app
