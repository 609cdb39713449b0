"""``pixlstash docs``: the command-line guide (a session's transcript, the ``--json`` shapes, exit statuses,
shell completion), shipped inside the package so that an install from a wheel has it too."""

from __future__ import annotations

import importlib.resources

import click

from .common import SectionedCommand


@click.command("docs", cls=SectionedCommand)
@click.option("--path", "path_only", is_flag=True, help="print where the guide is instead of the guide")
def docs_command(path_only: bool) -> int:
    """Show the command-line guide: a typical session, each command's --json shape, exit statuses and
    shell completion.

    \b
    Examples:
      pixlstash docs
      pixlstash docs --path
    """
    guide = importlib.resources.files("pixlstash").joinpath("cli.md")
    if path_only:
        print(guide)
        return 0
    click.echo_via_pager(guide.read_text(encoding="utf-8"))
    return 0
