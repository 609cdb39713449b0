"""The ``pixlstash`` command line, on click. Each subcommand lives in its own module; plugins add theirs
through the ``register_commands(cli)`` hook, which hands them this click group.

Exit statuses: 0 success, 1 an error (one line on standard error, a traceback only with ``--debug``),
2 bad usage, 3 some items failed (a partial import, restore or export; the reasons on standard error),
130 interrupted.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import traceback
from collections.abc import Sequence

import click

from .. import __version__
from ..errors import PixlstashError
from .common import EscapingStream
from .crashes import enable_crash_reports, run_supervised, should_supervise
from .lazy_commands import BUILT_IN, PixlstashGroup, PluginsOnDemand

__all__ = ["main", "make_cli"]


def make_cli(pm) -> click.Group:
    """The full command line: built-in commands, then those plugins add through ``register_commands``.

    ``pm`` is a plugin manager or a :class:`PluginsOnDemand`; plugins load only when a command needs them.
    """

    @click.group(
        "pixlstash",
        cls=PixlstashGroup,
        built_in=BUILT_IN,
        plugins=pm,
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    )
    @click.version_option(__version__, "--version", prog_name="pixlstash", message="%(prog)s %(version)s")
    @click.option("-v", "--verbose", is_flag=True, help="log debug messages to standard error")
    @click.option("--debug", is_flag=True, help="show the traceback of an error (for bug reports)")
    @click.option(
        "--library",
        "library_path",
        metavar="PATH",
        help="the library every command works on, unless it names another (default: $PIXLSTASH_LIBRARY)",
    )
    @click.option(
        "--as",
        "as_account",
        metavar="NAME",
        help="act for this account: see what it sees, import as its pictures, undo its steps",
    )
    @click.pass_context
    def cli(ctx: click.Context, verbose: bool, debug: bool, library_path: str | None, as_account: str | None) -> None:
        """PixlStash: a private, self-hosted picture and video library.

        Every command that works on a library takes --library PATH, after the command or before it
        (default: $PIXLSTASH_LIBRARY, then the per-user data folder). `pixlstash COMMAND --help` explains a
        command, with examples.

        \b
        Shell completion (bash; zsh and fish alike, see `pixlstash docs`):
          eval "$(_PIXLSTASH_COMPLETE=bash_source pixlstash)"
        """
        ctx.meta["library_path"] = library_path  # each command's --library falls back to it
        ctx.meta["as_account"] = as_account  # read where the library opens (cli/library_options.acting_for)
        logging.basicConfig(
            level=logging.DEBUG if verbose or debug else logging.WARNING,
            format="%(levelname)s %(name)s: %(message)s",
        )

    return cli


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pixlstash`` script; returns the exit status."""
    enable_crash_reports()
    args = list(sys.argv[1:] if argv is None else argv)
    if should_supervise(args):
        return run_supervised(args)
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = EscapingStream(sys.stdout), EscapingStream(sys.stderr)
    try:
        return _main(args)
    finally:
        sys.stdout.flush()
        sys.stdout, sys.stderr = streams


def _main(args: list[str]) -> int:
    debug = "--debug" in args
    pm = PluginsOnDemand()
    cli = make_cli(pm)
    try:
        # In a context of its own: what the command puts in force (the --as account's audience) ends with it,
        # also where main() runs twice in one process (an embedding host, the tests).
        status = contextvars.copy_context().run(
            cli.main, args=args, prog_name="pixlstash", standalone_mode=False, obj=pm
        )
    except click.ClickException as error:  # usage errors (2) and click's own
        if "No such command 'serve'" in error.format_message():  # a core-only install: say what brings it
            # (The core never names the web package, even in a message: the README's install section does.)
            print(
                "error: serve comes with PixlStash's web package, which is not installed here (the README's "
                "'Installing by hand' says how), or is left out by PIXLSTASH_LOAD_PLUGINS",
                file=sys.stderr,
            )
            return 2
        error.show()
        return error.exit_code
    except click.exceptions.Abort:
        print("aborted", file=sys.stderr)
        return 130
    except PixlstashError as error:
        if debug:
            traceback.print_exc()
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a bug or an unexpected failure: one line, the traceback on request
        if debug:
            traceback.print_exc()
        print(
            f"error: {type(error).__name__}: {error}" + ("" if debug else " (run again with --debug for the details)"),
            file=sys.stderr,
        )
        return 1
    return int(status or 0)
