"""The ``pixlstash`` command line, on click. Each subcommand lives in its own module; plugins add theirs
through the ``register_commands(cli)`` hook, which hands them this click group.

Exit statuses: 0 success, 1 an error (one line on standard error, a traceback only with ``--debug``),
2 bad usage, 3 some items failed (a partial import, restore or export; the reasons on standard error),
130 interrupted.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Sequence

import click

from .. import __version__
from ..errors import PixlstashError
from ..plugins import make_plugin_manager
from . import (
    auth_cmds,
    backup_cmd,
    comfy_cmd,
    docs_cmd,
    doctor_cmd,
    edit_cmds,
    enrich_cmd,
    export_cmd,
    faces_cmd,
    folders_cmd,
    history_cmd,
    import_cmd,
    jobs_cmd,
    ls_cmd,
    models_cmd,
    organise_cmds,
    plugins_cmd,
    previews_cmd,
    prune_cmd,
    search_cmd,
    snapshot_cmd,
    stack_cmd,
    version_cmd,
    worker_cmd,
)
from .common import EscapingStream
from .crashes import enable_crash_reports, run_supervised, should_supervise

__all__ = ["main", "make_cli"]

# Order here is the order in ``--help``: getting pictures in, finding them, organising, enriching, the rest.
BUILT_IN = (
    import_cmd.import_command,
    ls_cmd.ls_command,
    search_cmd.search_command,
    *edit_cmds.COMMANDS,
    prune_cmd.prune_command,
    *history_cmd.COMMANDS,
    organise_cmds.project_group,
    organise_cmds.set_group,
    organise_cmds.character_group,
    stack_cmd.stack_group,
    enrich_cmd.enrich_command,
    jobs_cmd.jobs_command,
    faces_cmd.faces_group,
    export_cmd.export_command,
    comfy_cmd.comfy_group,
    snapshot_cmd.snapshot_group,
    backup_cmd.backup_group,
    folders_cmd.folders_group,
    previews_cmd.previews_command,
    models_cmd.models_group,
    auth_cmds.user_group,
    auth_cmds.token_group,
    plugins_cmd.plugins_group,
    worker_cmd.worker_command,
    doctor_cmd.doctor_command,
    docs_cmd.docs_command,
    version_cmd.version_command,
)


class PixlstashGroup(click.Group):
    """Commands listed in the order they were added (the order above, then plugins'), not alphabetically."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


def make_cli(pm) -> click.Group:
    """The full command line: built-in commands, then those plugins add through ``register_commands``."""

    @click.group(
        "pixlstash",
        cls=PixlstashGroup,
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    )
    @click.version_option(__version__, "--version", prog_name="pixlstash", message="%(prog)s %(version)s")
    @click.option("-v", "--verbose", is_flag=True, help="log debug messages to standard error")
    @click.option("--debug", is_flag=True, help="show the traceback of an error (for bug reports)")
    def cli(verbose: bool, debug: bool) -> None:
        """PixlStash: a private, self-hosted picture and video library.

        Every command that works on a library takes --library PATH (default: $PIXLSTASH_LIBRARY, then the
        per-user data folder). `pixlstash COMMAND --help` explains a command, with examples.

        \b
        Shell completion (bash; zsh and fish alike, see `pixlstash docs`):
          eval "$(_PIXLSTASH_COMPLETE=bash_source pixlstash)"
        """
        logging.basicConfig(
            level=logging.DEBUG if verbose or debug else logging.WARNING,
            format="%(levelname)s %(name)s: %(message)s",
        )

    for command in BUILT_IN:
        cli.add_command(command)
    pm.hook.register_commands(cli=cli)
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
    pm = make_plugin_manager()
    cli = make_cli(pm)
    try:
        status = cli.main(args=args, prog_name="pixlstash", standalone_mode=False, obj=pm)
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
