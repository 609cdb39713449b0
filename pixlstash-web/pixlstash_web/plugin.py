"""The web package as a PixlStash plugin: it adds ``pixlstash serve`` to the command line.

Registered through the ``pixlstash`` entry-point group like any third-party plugin, and ``serve`` declared in
the ``pixlstash.commands`` group (``--help`` lists it without importing this module), so the core CLI never
names the web package: without pixlstash-web installed there is simply no ``serve``.
"""

from __future__ import annotations

import click

from pixlstash.cli.common import SectionedCommand, library_option
from pixlstash.system.paths import resolve_library_path

__all__ = ["serve_command"]


@click.command("serve", cls=SectionedCommand)
@library_option
@click.option(
    "--host", default="127.0.0.1", show_default=True, envvar="PIXLSTASH_HOST", show_envvar=True, help="address to bind"
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=9537,
    show_default=True,
    envvar="PIXLSTASH_PORT",
    show_envvar=True,
    help="port to bind",
)
@click.option(
    "--ssl-certfile",
    metavar="FILE",
    envvar="PIXLSTASH_SSL_CERTFILE",
    show_envvar=True,
    help="serve HTTPS with this certificate",
)
@click.option(
    "--ssl-keyfile",
    metavar="FILE",
    envvar="PIXLSTASH_SSL_KEYFILE",
    show_envvar=True,
    help="private key for --ssl-certfile",
)
@click.option(
    "--public-url",
    metavar="URL",
    envvar="PIXLSTASH_PUBLIC_URL",
    show_envvar=True,
    help="how others reach this server, for share links",
)
@click.option(
    "--forwarded-allow-ips",
    metavar="ADDRESSES",
    envvar="PIXLSTASH_FORWARDED_ALLOW_IPS",
    show_envvar=True,
    help="behind a reverse proxy: the proxy addresses whose X-Forwarded-For / -Proto headers are believed "
    "(comma-separated; default: none)",
)
@click.pass_obj
def serve_command(pm, library_path, host, port, ssl_certfile, ssl_keyfile, public_url, forwarded_allow_ips) -> int:
    """Start the web server: the API and the browser UI. Binds to loopback unless told otherwise.

    Every option can come from the environment instead (PIXLSTASH_HOST, PIXLSTASH_PORT, ...; the library
    from PIXLSTASH_LIBRARY), as in a container. The owner can be made unattended: PIXLSTASH_OWNER_NAME and
    PIXLSTASH_OWNER_PASSWORD_FILE (a file holding the password, as Docker secrets give it).

    \b
    Examples:
      pixlstash serve
      pixlstash serve --port 8080 --library ~/Pictures/stash
      pixlstash serve --host 0.0.0.0 --ssl-certfile cert.pem --ssl-keyfile key.pem
    """
    from .server import serve  # uvicorn and Starlette load only when serving, not for every command

    if bool(ssl_certfile) != bool(ssl_keyfile):
        raise click.UsageError("--ssl-certfile and --ssl-keyfile go together")
    serve(
        library_path=resolve_library_path(library_path),
        host=host,
        port=port,
        plugin_manager=pm,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        public_url=public_url,
        forwarded_allow_ips=forwarded_allow_ips,
    )
    return 0
