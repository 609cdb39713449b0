"""``pixlstash previews``: make the overlay's previews now, or have the server make them when idle."""

from __future__ import annotations

import click

from ..domain import PreviewSettings
from .common import SOME_FAILED, SectionedCommand, json_option, library_option, print_json
from .library_options import open_library


@click.command("previews", cls=SectionedCommand)
@library_option
@click.argument("action", type=click.Choice(["status", "make", "ahead"]), default="status")
@click.argument("value", type=click.Choice(["on", "off"]), required=False)
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="for `make`: at most N previews")
@json_option
@click.pass_obj
def previews_command(pm, library_path, action, value, limit, as_json) -> int:
    """Make previews now, or have the server make them in the background.

    Previews (1024 px, for the overlay) are made on a picture's first view, which keeps the library small.
    `previews make` makes the missing ones now, newest pictures first (Ctrl-C stops it; what was made
    stays). `previews ahead on` has the server make them whenever it is idle.

    \b
    Examples:
      pixlstash previews
      pixlstash previews make --limit 1000
      pixlstash previews ahead on
    """
    if action == "ahead" and value is None:
        raise click.UsageError("say `pixlstash previews ahead on` or `... ahead off`")
    with open_library(library_path, pm) as library:
        previews = library.previews
        if action == "make":
            try:
                made = previews.run(limit=limit)
            except KeyboardInterrupt:
                made = previews.made
            failed = previews.failed
            if as_json:
                print_json({"made": made, "failed": failed})
            else:
                failures = f"; {failed} failed (see the log)" if failed else ""
                print(f"made {made} preview{'s' if made != 1 else ''}{failures}")
            return SOME_FAILED if failed else 0
        if action == "ahead":
            previews.configure(PreviewSettings(ahead=value == "on"))
        settings = previews.settings()
    if as_json:
        print_json(settings)
    elif settings.ahead:
        print("previews are made on first view, and by a running server whenever it is idle")
    else:
        print("previews are made on first view (`pixlstash previews ahead on` makes them in the background)")
    return 0
