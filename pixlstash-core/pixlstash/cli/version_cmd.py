"""``pixlstash version``."""

from __future__ import annotations

import platform

from .. import __version__
from .common import print_json


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("version", help="print the PixlStash version", description="Print the version.")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args, pm) -> int:
    if args.json:
        print_json({"version": __version__, "python": platform.python_version()})
    else:
        print(f"pixlstash {__version__} (Python {platform.python_version()})")
    return 0
