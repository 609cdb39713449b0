"""``pixlstash ls``: list pictures with the library's filters and sorts."""

from __future__ import annotations

import datetime as dt

import click

from .common import SectionedCommand, json_option, library_option, print_json, print_jsonl
from .library_options import filter_from_args, filter_options, open_library
from .output import Column, counted, human_bytes, print_table, stars
from .stats_view import print_statistics

_PAGE = 1000


@click.command("ls", cls=SectionedCommand)
@library_option
@filter_options
@click.option("--limit", type=click.IntRange(1, 1000), help="pictures per page (default 50; --ids/--jsonl: all)")
@click.option("--cursor", help="continue after the page that printed this cursor")
@click.option("--count", is_flag=True, help="print only how many pictures match")
@click.option("--stats", is_flag=True, help="a summary of the matching pictures: ratings, sizes, top tags")
@json_option
@click.option("--jsonl", is_flag=True, help="every matching picture, one JSON object per line")
@click.option("--ids", "ids_only", is_flag=True, help="every matching picture's id, one per line (for pipes)")
@click.pass_obj
def ls_command(pm, library_path, where, limit, cursor, count, stats, as_json, jsonl, ids_only) -> int:
    """List pictures: id, file name, size, rating and tags.

    Filters combine with AND; a page continues with --cursor. --ids and --jsonl stream every match (or
    --limit of them) for scripts.

    \b
    Examples:
      pixlstash ls --tag cat --rating-min 4
      pixlstash ls --lora add_detail --sampler euler_ancestral --json
      pixlstash ls --tag cat --ids | pixlstash add - --to-set Cats
      pixlstash ls --in-set Best --stats
      pixlstash ls --sort score:quality --ascending --limit 20
      pixlstash ls --score aesthetic --score-min 6
    """
    with open_library(library_path, pm) as library:
        f, sort = filter_from_args(library, where)
        if count:
            number = library.count(f)
            print_json({"count": number}) if as_json else print(number)
            return 0
        if stats:
            statistics = library.statistics(f)
            print_json(statistics) if as_json else print_statistics(statistics)
            return 0
        if ids_only or jsonl:
            _stream(library, f, sort, cursor, limit, ids_only)
            return 0
        page = library.page(f, sort, cursor, limit or 50)
        ids = [item.id for item in page.items]
        names = library.pictures.original_names(ids)
        tags = {badge.id: badge for badge in library.badges(ids)}
    if as_json:
        print_json(page)
        return 0
    if not page.items:
        print("no pictures match" if cursor is None else "no more pictures")
        return 0
    scored = sort.key.startswith("score:")
    rows = []
    for item in page.items:
        name = names.get(item.id, "") + ("  MISSING" if item.missing else "") + ("  (edited)" if item.edit else "")
        taken = dt.datetime.fromtimestamp(item.taken_at / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M")
        rows.append(
            (
                item.id,
                name,
                f"{item.width}x{item.height}",
                human_bytes(item.file_size),
                stars(item.rating),
                _tags(tags.get(item.id)),
                taken,
                *([f"{item.score:.3f}" if item.score is not None else "-"] if scored else []),
            )
        )
    print_table(
        [
            Column("ID", right=True),
            Column("FILE", wide=True),
            Column("PIXELS", right=True),
            Column("SIZE", right=True),
            Column("RATING"),
            Column("TAGS", wide=True),
            Column("TAKEN"),
            *([Column("SCORE", right=True)] if scored else []),
        ],
        rows,
    )
    if page.next_cursor:
        print(f"{counted(len(page.items), 'picture')} shown; next page: --cursor {page.next_cursor}")
    return 0


def _tags(badge) -> str:
    """The picture's most distinctive tags, and how many more it has."""
    if badge is None:
        return ""
    more = badge.tag_count - len(badge.tags)
    return ", ".join(badge.tags) + (f" +{more}" if more > 0 else "")


def _stream(library, f, sort, cursor, limit, ids_only) -> None:
    """Every match (or ``limit`` of them), page by page, written as it is read."""
    left = limit
    while left is None or left > 0:
        page = library.page(f, sort, cursor, min(_PAGE, left or _PAGE))
        if ids_only:
            click.echo("\n".join(str(item.id) for item in page.items) + ("\n" if page.items else ""), nl=False)
        else:
            print_jsonl(page.items)
        if left is not None:
            left -= len(page.items)
        cursor = page.next_cursor
        if not cursor or not page.items:
            return
