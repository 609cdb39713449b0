"""Version, API description and docs page, plugins, engines, sources and the update check."""

from __future__ import annotations

import functools
import platform
from typing import Any

import msgspec
from starlette.responses import HTMLResponse, Response

from pixlstash import __version__
from pixlstash.db.schema import SCHEMA_VERSION
from pixlstash.files.store_choice import StorageState, storage_state
from pixlstash.plugins import PluginInfo, PluginLoadError
from pixlstash.system.updates import UpdateSettings, UpdateStatus

from ..api import Api, RequestContext, json_response
from ..openapi import DOCS_HTML, openapi_document
from ..schemas import UpdateSettingsRequest, Version
from ..security import Policy


class PluginsReport(msgspec.Struct):
    plugins: list[PluginInfo]
    engines: list[dict[str, str]]
    errors: list[PluginLoadError]


class SystemInfo(msgspec.Struct):
    version: str  # PixlStash's (every package and the image carry the same one; CHANGELOG.md)
    schema: int  # the library schema this version writes; older libraries are upgraded when opened
    library_schema: int  # the schema of the library this server opened
    python: str


class Health(msgspec.Struct):
    status: str  # "ok", or "unavailable" (then with the reason and status 503)
    library_open: bool
    version: str
    reason: str | None = None


class Source(msgspec.Struct):
    id: int
    kind: str
    label: str
    created_at: int


def register(api: Api) -> None:
    @api.get("/version", policy=Policy.PUBLIC, tag="system", summary="The PixlStash version")
    def version(ctx: RequestContext) -> Version:
        return Version(__version__)

    @api.get(
        "/health",
        policy=Policy.PUBLIC,
        raw=True,
        response=Health,
        tag="system",
        summary="Whether the server runs with its library open (200) or not (503): for health checks",
    )
    def health(ctx: RequestContext) -> Response:
        try:
            ctx.library.db.scalar("SELECT 1")  # the database answers, not only the process
        except Exception as error:  # a closed or failing library: say so, as a health check expects
            reason = f"library unavailable: {type(error).__name__}"
            return json_response(Health("unavailable", False, __version__, reason), status=503)
        return json_response(Health("ok", True, __version__))

    @api.get(
        "/system",
        policy=Policy.READ,
        tag="system",
        summary="The version, the library schema it writes and the one it opened, and Python's version",
    )
    def system(ctx: RequestContext) -> SystemInfo:
        opened = int(ctx.library.db.scalar("PRAGMA user_version"))
        return SystemInfo(__version__, SCHEMA_VERSION, opened, platform.python_version())

    @api.get(
        "/storage",
        policy=Policy.ADMIN,
        tag="system",
        summary="Where the originals live (the library's folder or a bucket), how many, and whether it answers",
    )
    def storage(ctx: RequestContext) -> StorageState:
        return storage_state(ctx.library.store, ctx.library.pictures)

    @functools.cache  # every route is declared before the first request; making it takes 0.18 s
    def openapi_body() -> bytes:
        return msgspec.json.encode(openapi_document(api))

    @api.get("/openapi.json", policy=Policy.PUBLIC, raw=True, tag="system", summary="This API as OpenAPI 3.1")
    def openapi(ctx: RequestContext) -> Response:
        return Response(openapi_body(), media_type="application/json")

    @api.get(
        "/docs",
        policy=Policy.PUBLIC,
        raw=True,
        tag="system",
        response_media="text/html",
        summary="API documentation page (works offline)",
    )
    def docs(ctx: RequestContext) -> Response:
        return HTMLResponse(DOCS_HTML)

    @api.get(
        "/plugins",
        policy=Policy.ADMIN,
        tag="system",
        summary="Loaded plugins, their engines and load errors",
    )
    def plugins(ctx: RequestContext) -> PluginsReport:
        pm = ctx.library.plugin_manager
        engines = [
            {"id": e.id, "task": str(e.task), "version": e.version, "label": e.label}
            for e in ctx.library.engines.registry.all()
        ]
        return PluginsReport(pm.plugin_infos(), engines, pm.load_errors)

    @api.get(
        "/plugins/{name}/settings",
        policy=Policy.ADMIN,
        tag="system",
        summary="A plugin's settings (defaults, what is stored, environment overrides)",
    )
    def plugin_settings(ctx: RequestContext) -> dict[str, Any]:
        return ctx.library.plugin_settings.shown(ctx.path["name"])

    @api.put(
        "/plugins/{name}/settings",
        policy=Policy.ADMIN,
        tag="system",
        summary="Change some of a plugin's settings (checked against the plugin's declared schema)",
    )
    def set_plugin_settings(ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
        settings = ctx.library.plugin_settings
        return settings.shown(ctx.path["name"], settings.update(ctx.path["name"], body))

    @api.get(
        "/sources",
        policy=Policy.READ,
        tag="import",
        summary="Import sources (uploads, folders, archives), for filtering",
    )
    def sources(ctx: RequestContext) -> list[Source]:
        return [Source(*row) for row in ctx.library.folders.sources()]

    @api.get(
        "/updates",
        policy=Policy.ADMIN,
        tag="system",
        summary="Whether an update exists (only known when the update check is on)",
    )
    def updates(ctx: RequestContext) -> UpdateStatus:
        return ctx.state.updates.status()

    @api.put(
        "/settings/update-check",
        policy=Policy.ADMIN,
        tag="system",
        summary="Turn the update check on or off (off by default)",
    )
    def configure_updates(ctx: RequestContext, body: UpdateSettingsRequest) -> UpdateSettings:
        return ctx.state.updates.configure(body.enabled, body.url)

    @api.post(
        "/updates/check",
        policy=Policy.ADMIN,
        tag="system",
        summary="Check for an update now, if the check is on and due",
    )
    def check_updates(ctx: RequestContext) -> UpdateStatus:
        return ctx.state.updates.check_if_due()
