"""Running the app under uvicorn (``pixlstash serve``)."""

from __future__ import annotations

from pathlib import Path

import uvicorn

from pixlstash.instance import InstanceBusy, ServiceLock

from .app import WebSettings, create_app

__all__ = ["serve", "uvicorn_options"]


def uvicorn_options(forwarded_allow_ips: str | None = None) -> dict:
    """How uvicorn runs PixlStash. ``X-Forwarded-For`` is believed only from the proxies the owner names:
    believed from anyone on loopback, it would let any local program pose as any address (and so dodge
    the per-address sign-in limit)."""
    return {
        "proxy_headers": bool(forwarded_allow_ips),
        "forwarded_allow_ips": forwarded_allow_ips or "",
        "server_header": False,
        "timeout_graceful_shutdown": 5,
    }


def serve(
    library_path: Path,
    host: str = "127.0.0.1",
    port: int = 9537,
    plugin_manager=None,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
    public_url: str | None = None,
    forwarded_allow_ips: str | None = None,
) -> None:
    """Serve the library at ``library_path`` until interrupted."""
    holder = ServiceLock(library_path).holder() if (Path(library_path) / "library.db").exists() else None
    if holder is not None:  # said here, in one line, rather than as a failed start-up with a traceback
        raise InstanceBusy(
            f"{holder} already runs the background services of {library_path}: stop it first, or use that "
            "one (pixlstash import, ls, snapshot and the other commands work beside it)"
        )
    settings = WebSettings(secure_cookies=bool(ssl_certfile), public_url=public_url)
    app = create_app(settings=settings, library_path=library_path, plugin_manager=plugin_manager)
    uvicorn.run(
        app,
        host=host,
        port=port,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        log_level="info",
        **uvicorn_options(forwarded_allow_ips),
    )
