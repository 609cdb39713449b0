"""The web package as a PixlStash plugin: it adds ``pixlstash serve`` to the command line.

Registered through the ``pixlstash`` entry-point group like any third-party plugin, so the core CLI
never names the web package: without pixlstash-web installed there is simply no ``serve``.
"""

from __future__ import annotations

from pixlstash import hookimpl
from pixlstash.cli.common import add_library_option
from pixlstash.errors import PixlstashError
from pixlstash.paths import resolve_library_path

__all__ = ["register_commands"]


@hookimpl
def register_commands(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="start the web server (API and browser UI)",
        description="Start the PixlStash web server. Binds to loopback unless told otherwise.",
    )
    add_library_option(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9537, help="port to bind (default: 9537)")
    parser.add_argument("--ssl-certfile", metavar="FILE", help="serve HTTPS with this certificate")
    parser.add_argument("--ssl-keyfile", metavar="FILE", help="private key for --ssl-certfile")
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="how others reach this server, for share links (default: the address it listens on)",
    )
    parser.add_argument(
        "--forwarded-allow-ips",
        metavar="ADDRESSES",
        help="behind a reverse proxy: the proxy addresses whose X-Forwarded-For / -Proto headers "
        "are believed (comma-separated; default: none)",
    )
    parser.set_defaults(func=_run)


def _run(args, pm) -> int:
    from .server import serve  # uvicorn and Starlette load only when serving, not for every command

    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        raise PixlstashError("--ssl-certfile and --ssl-keyfile go together")
    serve(
        library_path=resolve_library_path(args.library),
        host=args.host,
        port=args.port,
        plugin_manager=pm,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
        public_url=args.public_url,
        forwarded_allow_ips=args.forwarded_allow_ips,
    )
    return 0
