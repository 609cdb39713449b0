"""``pixlstash serve``: run the web app (from the pixlstash-web package) with uvicorn."""

from __future__ import annotations

import importlib

from ..errors import PixlstashError
from ..paths import resolve_library_path
from .common import add_library_option


def add_parser(subparsers) -> None:
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
    parser.set_defaults(func=run)


def run(args, pm) -> int:
    try:
        # Imported by name so the core never depends on Starlette.
        web = importlib.import_module("pixlstash_web.server")
    except ModuleNotFoundError as error:
        raise PixlstashError(
            f"the web server is not installed ({error.name} is missing): pip install pixlstash-web"
        ) from error
    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        raise PixlstashError("--ssl-certfile and --ssl-keyfile go together")
    web.serve(
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
