"""The application factory: ``create_app(library=None, settings=None)``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware

from pixlstash.instance import Instance
from pixlstash.library import Library

from .api import Api, PolicyRoute
from .errors import exception_handlers
from .resource_policy import SameOriginResources
from .routes import MODULES
from .security import Policy
from .state import AppState, LifespanState, WebSettings
from .ui import index, service_worker, share_page, static_file

__all__ = ["AppState", "WebSettings", "build_api", "create_app"]


def build_api() -> Api:
    api = Api()
    for module in MODULES:
        module.register(api)
    return api


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
    async def lifespan(app: Starlette) -> AsyncIterator[LifespanState]:
        # Handlers run in worker threads, each with its own SQLite connection: a few per core is plenty,
        # and far fewer than anyio's default 40 keeps memory flat under load.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        opened = library or Library.open(library_path, plugin_manager=plugin_manager)
        instance = Instance(opened, settings.services)
        try:
            instance.start()
            state = AppState(instance, settings)
            # Starlette hands a copy of this to every request as ``request.state``.
            yield {"pixlstash": state}
            state.close()
        finally:
            instance.stop()
            if library is None:
                opened.close()

    routes = [
        *api.routes(),
        PolicyRoute("/", index, methods=["GET"], policy=Policy.PUBLIC, include_in_schema=False),
        PolicyRoute("/ui/{path:path}", static_file, methods=["GET"], policy=Policy.PUBLIC, include_in_schema=False),
        PolicyRoute("/sw.js", service_worker, methods=["GET"], policy=Policy.PUBLIC, include_in_schema=False),
        PolicyRoute("/s/{share_token}", share_page, methods=["GET"], policy=Policy.PUBLIC, include_in_schema=False),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SameOriginResources), Middleware(GZipMiddleware, minimum_size=2048)],
        exception_handlers=exception_handlers,
        lifespan=lifespan,
    )
    app.state.api = api
    return app
