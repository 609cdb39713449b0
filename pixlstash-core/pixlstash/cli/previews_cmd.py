"""``pixlstash previews``: make the overlay's previews now, or have the server make them when idle."""

from __future__ import annotations

import sys

from ..domain import PreviewSettings
from .common import add_library_option, print_json
from .library_options import open_library


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "previews",
        help="make previews now, or turn making them in the background on or off",
        description="Previews (1024 px, for the overlay) are made on a picture's first view, which keeps the "
        "library small. `previews make` makes the missing ones now, newest pictures first (Ctrl-C stops it; "
        "what was made stays). `previews ahead on` has the server make them whenever it is idle.",
    )
    add_library_option(parser)
    parser.add_argument("action", nargs="?", choices=["status", "make", "ahead"], default="status")
    parser.add_argument("value", nargs="?", choices=["on", "off"], help="for `ahead`: on or off")
    parser.add_argument("--limit", type=int, metavar="N", help="for `make`: at most N previews")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args, pm) -> int:
    if args.action == "ahead" and args.value is None:
        print("say `pixlstash previews ahead on` or `... ahead off`", file=sys.stderr)
        return 2
    with open_library(args, pm) as library:
        previews = library.previews
        if args.action == "make":
            try:
                made = previews.run(limit=args.limit)
            except KeyboardInterrupt:
                made = previews.made
            failed = previews.failed
            if args.json:
                print_json({"made": made, "failed": failed})
            else:
                failures = f"; {failed} failed (see the log)" if failed else ""
                print(f"made {made} preview{'s' if made != 1 else ''}{failures}")
            return 3 if failed else 0
        if args.action == "ahead":
            previews.configure(PreviewSettings(ahead=args.value == "on"))
        settings = previews.settings()
        if args.json:
            print_json(settings)
        elif settings.ahead:
            print("previews are made on first view, and by a running server whenever it is idle")
        else:
            print("previews are made on first view (`pixlstash previews ahead on` makes them in the background)")
        return 0
