"""The ``pixlstash`` command line. Each subcommand lives in its own module with an ``add_parser``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import PixlstashError
from ..plugins import make_plugin_manager
from . import (
    auth_cmds,
    enrich_cmd,
    export_cmd,
    faces_cmd,
    folders_cmd,
    import_cmd,
    jobs_cmd,
    ls_cmd,
    models_cmd,
    plugins_cmd,
    previews_cmd,
    search_cmd,
    snapshot_cmd,
    version_cmd,
    worker_cmd,
)
from .common import EscapingStream

__all__ = ["build_parser", "main"]

# Order here is the order in ``--help``.
COMMAND_MODULES = (
    import_cmd,
    ls_cmd,
    search_cmd,
    enrich_cmd,
    faces_cmd,
    export_cmd,
    jobs_cmd,
    models_cmd,
    folders_cmd,
    previews_cmd,
    snapshot_cmd,
    auth_cmds,
    plugins_cmd,
    worker_cmd,
    version_cmd,
)


def build_parser(pm) -> argparse.ArgumentParser:
    """The full parser: built-in subcommands plus those plugins add through ``register_commands``."""
    parser = argparse.ArgumentParser(
        prog="pixlstash",
        description="PixlStash: a private, self-hosted picture and video library.",
        epilog="Every command that works on a library takes --library PATH "
        "(default: $PIXLSTASH_LIBRARY, then the per-user data folder).",
    )
    parser.add_argument("--version", action="version", version=f"pixlstash {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for module in COMMAND_MODULES:
        module.add_parser(subparsers)
    pm.hook.register_commands(subparsers=subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pixlstash`` script; returns the exit status."""
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = EscapingStream(sys.stdout), EscapingStream(sys.stderr)
    try:
        return _main(argv)
    finally:
        sys.stdout.flush()
        sys.stdout, sys.stderr = streams


def _main(argv: Sequence[str] | None) -> int:
    pm = make_plugin_manager()
    parser = build_parser(pm)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args, pm) or 0)
    except PixlstashError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
