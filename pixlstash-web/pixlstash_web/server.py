"""Running the app under uvicorn (``pixlstash serve``)."""

from __future__ import annotations

import errno
import socket
import sys
from pathlib import Path

import uvicorn

from pixlstash import __version__
from pixlstash.errors import Conflict
from pixlstash.instance import InstanceBusy, ServiceLock
from pixlstash.library import Library
from pixlstash.system.memory import keep_one_heap

from .app import WebSettings, create_app
from .first_run import owner_from_environment
from .http_protocol import HEAD_TIMEOUT, with_head_deadline

__all__ = ["check_port_free", "serve", "uvicorn_options"]


def uvicorn_options(forwarded_allow_ips: str | None = None, head_timeout: float = HEAD_TIMEOUT) -> dict:
    """How uvicorn runs PixlStash. ``X-Forwarded-For`` is believed only from the proxies the owner names:
    believed from anyone on loopback, it would let any local program pose as any address (and so dodge
    the per-address sign-in limit). A request's head must arrive within ``head_timeout`` seconds."""
    return {
        "http": with_head_deadline(head_timeout),
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
    check_port_free(host, port)
    keep_one_heap()  # before uvicorn's and the library's threads start: RSS returns after an import
    settings = WebSettings(
        secure_cookies=bool(ssl_certfile), public_url=public_url, owner_from_file=owner_from_environment()
    )
    # Opened before uvicorn starts: what stops a start (settings that do not check, a store whose plugin
    # is missing) is said in one line, not as a failed start-up with a traceback.
    library = Library.open(library_path, plugin_manager=plugin_manager)
    try:
        library.plugin_settings.all()
        library.store  # noqa: B018
        print(f"PixlStash {__version__} serves the library at {library.root}", file=sys.stderr, flush=True)
        uvicorn.run(
            create_app(settings=settings, library=library),
            host=host,
            port=port,
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            log_level="info",
            **uvicorn_options(forwarded_allow_ips),
        )
    finally:
        library.close()


def check_port_free(host: str, port: int) -> None:
    """Say in one line that the address is taken, before the library opens and uvicorn logs a raw errno."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise Conflict(
            f"cannot serve on {host}: {error.strerror}; give an address of this machine with --host"
        ) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no obstacle
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise Conflict(
                    f"port {port} on {host} is taken (another PixlStash, or another program, listens there): "
                    "choose another with --port, e.g. --port 9538"
                ) from None
            if error.errno == errno.EACCES:
                raise Conflict(f"no permission to listen on port {port}: use a port above 1023 with --port") from None
            raise Conflict(f"cannot listen on {host}:{port}: {error.strerror}; check --host and --port") from None
