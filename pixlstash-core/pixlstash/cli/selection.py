"""PICTURES on the command line: ids and ranges, ids read from standard input, or every picture the
filter flags match. What ``tag``, ``rate``, ``caption``, ``add``, ``remove``, ``scrap`` and ``unscrap`` act on."""

from __future__ import annotations

import re
import sys

import click

from ..library import Library
from .library_options import filter_from_args, filter_options, has_filter

__all__ = ["PICTURES_HELP", "picture_ids", "picture_selection"]

PICTURES_HELP = (
    "PICTURES is ids and ranges (12 or 3,7,20-30), `-` for ids on standard input (what `pixlstash ls --ids` "
    "prints), or `where` for every picture the filter flags match (`where --tag cat`)."
)
_MOST = 10_000_000  # ids one argument may name through ranges
_SEPARATORS = re.compile(r"[\s,]+")


def picture_selection(command):
    """A command's PICTURES argument and the filter flags that ``where`` reads (it gets ``pictures`` and
    ``where``, for ``picture_ids``)."""
    return click.argument("pictures", metavar="PICTURES")(filter_options(order=False)(command))


def picture_ids(library: Library, spec: str, where) -> list[int]:
    """The picture ids ``spec`` names (checked to exist), or the filter's matches for ``where``."""
    if spec == "where":
        f, _ = filter_from_args(library, where)
        return library.query.ids(f)
    if has_filter(where):
        raise click.UsageError(f"filter flags choose pictures only with `where` as PICTURES, not with {spec!r}")
    text = sys.stdin.read() if spec == "-" else spec
    ids: list[int] = []
    for token in _SEPARATORS.split(text.strip()):
        if not token:
            continue
        low, dash, high = token.partition("-")
        if not low.isdigit() or (dash and not high.isdigit()):
            raise click.BadParameter(f"{token!r} is not a picture id or a range like 20-30", param_hint="PICTURES")
        first, last = int(low), int(high) if dash else int(low)
        if last < first or last - first + len(ids) > _MOST:
            raise click.BadParameter(f"the range {token} is backwards or too large", param_hint="PICTURES")
        ids.extend(range(first, last + 1))
    if not ids:
        raise click.BadParameter("no picture ids given" + (" on standard input" if spec == "-" else ""))
    return library.require_pictures(ids)
