"""The example plugin's command, `pixlstash aspects`: imported only when it runs."""

import click

from pixlstash.cli.common import library_option
from pixlstash.cli.library_options import open_library


@click.command("aspects")
@library_option
@click.pass_obj
def aspects_command(pm, library_path):
    """Count the library's pictures by shape: landscape, portrait or square."""
    counts = {"landscape": 0, "portrait": 0, "square": 0}
    with open_library(library_path, pm) as library:
        cursor = None
        while True:
            page = library.page(cursor=cursor, limit=1000)
            for picture in page.items:
                ratio = picture.width / picture.height
                counts["landscape" if ratio > 1.05 else "portrait" if ratio < 0.95 else "square"] += 1
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    click.echo(", ".join(f"{count} {shape}" for shape, count in counts.items()))
    return 0
