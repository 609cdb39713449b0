"""``pixlstash ls``: list pictures with the library's filters and sorts."""

from __future__ import annotations

import datetime as dt

from .common import add_library_option, print_json
from .library_options import add_filter_options, filter_from_args, open_library


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "ls",
        help="list pictures (filters, sorts, pages)",
        description="List pictures. Filters combine with AND; pages continue with --cursor.",
    )
    add_library_option(parser)
    add_filter_options(parser)
    parser.add_argument("--limit", type=int, default=50, help="pictures per page (default 50, at most 1000)")
    parser.add_argument("--cursor", help="continue after the page that printed this cursor")
    parser.add_argument("--count", action="store_true", help="print only how many pictures match")
    parser.add_argument("--stats", action="store_true", help="print statistics for the matching pictures")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args, pm) -> int:
    with open_library(args, pm) as library:
        f, sort = filter_from_args(library, args)
        if args.count:
            count = library.count(f)
            print_json({"count": count}) if args.json else print(count)
            return 0
        if args.stats:
            print_json(library.statistics(f))
            return 0
        page = library.page(f, sort, args.cursor, args.limit)
        names = library.pictures.original_names([item.id for item in page.items])
    if args.json:
        print_json(page)
        return 0
    if not page.items:
        print("no pictures match" if args.cursor is None else "no more pictures")
    for item in page.items:
        taken = dt.datetime.fromtimestamp(item.taken_at / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M")
        stars = "*" * item.rating if item.rating else "-"
        missing = "  MISSING" if item.missing else ""
        print(f"{item.id:>8}  {taken}  {item.width:>5}x{item.height:<5}  {stars:<5}  {names.get(item.id, '')}{missing}")
    if page.next_cursor:
        print(f"next page: --cursor {page.next_cursor}")
    return 0
