"""Opening the library and reading the picture filter from command-line options."""

from __future__ import annotations

import argparse
import datetime as dt

from ..domain import PictureFilter, Sort
from ..errors import BadInput, NotFound
from ..library import Library
from ..paths import resolve_library_path

__all__ = ["add_filter_options", "filter_from_args", "open_library", "resolve_collection", "resolve_project"]


def open_library(args, pm) -> Library:
    return Library.open(resolve_library_path(getattr(args, "library", None)), plugin_manager=pm)


def resolve_project(library: Library, value: str | None) -> int | None:
    """A project by id or (case-insensitive) name."""
    if value is None:
        return None
    if value.isdigit():
        return library.collections.project(int(value)).id
    for project in library.collections.projects():
        if project.name.lower() == value.lower():
            return project.id
    raise NotFound(f"no project named {value!r}")


def resolve_collection(library: Library, kind: str, value: str) -> int:
    """A set or character by id or (case-insensitive) name."""
    if value.isdigit():
        return library.collections.collection(int(value), kind).id
    matches = [c.id for c in library.collections.collections(kind) if c.name.lower() == value.lower()]
    if not matches:
        raise NotFound(f"no {kind} named {value!r}")
    if len(matches) > 1:
        raise BadInput(f"several {kind}s are named {value!r}; give its id ({', '.join(map(str, matches))})")
    return matches[0]


def ensure_project(library: Library, value: str | None, created: list[str]) -> int | None:
    """A project by id or name, made when no project has that name (and noted in ``created``)."""
    if value is None:
        return None
    try:
        return resolve_project(library, value)
    except NotFound:
        if value.isdigit():
            raise
    created.append(f"project {value!r}")
    return library.organise.create_project(value).id


def ensure_collection(library: Library, kind: str, value: str, created: list[str]) -> int:
    """A set or character by id or name, made when none has that name (and noted in ``created``)."""
    try:
        return resolve_collection(library, kind, value)
    except NotFound:
        if value.isdigit():
            raise
    created.append(f"{kind} {value!r}")
    return library.organise.create_collection(kind, value).id


def _date_ms(value: str) -> int:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date: {value!r} (e.g. 2026-05-31)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def add_filter_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("filters")
    group.add_argument("--tag", action="append", default=[], metavar="TAG", help="has this tag (repeatable: all)")
    group.add_argument("--any-tag", action="append", default=[], metavar="TAG", help="has at least one of these")
    group.add_argument("--not-tag", action="append", default=[], metavar="TAG", help="has none of these")
    group.add_argument("--rating-min", type=int, metavar="N")
    group.add_argument("--rating-max", type=int, metavar="N")
    group.add_argument("--unrated", action="store_true", help="only unrated pictures")
    group.add_argument("--favourite", action="store_true", help="only favourites")
    group.add_argument("--in-project", metavar="PROJECT", help="in this project (id or name)")
    group.add_argument("--in-set", action="append", default=[], metavar="SET", help="in this set (id or name)")
    group.add_argument(
        "--in-character", action="append", default=[], metavar="CHARACTER", help="of this character (id or name)"
    )
    group.add_argument(
        "--op",
        choices=["union", "overlap", "difference", "unique"],
        default="union",
        help="how several sets/characters combine (default: union)",
    )
    group.add_argument("--media-type", choices=["image", "video"])
    group.add_argument("--taken-after", type=_date_ms, metavar="DATE")
    group.add_argument("--taken-before", type=_date_ms, metavar="DATE")
    group.add_argument("--min-width", type=int, metavar="PX")
    group.add_argument("--min-height", type=int, metavar="PX")
    group.add_argument("--text", help="words in captions, prompts or file names")
    group.add_argument("--duplicates", action="store_true", help="only pictures with near-duplicates")
    group.add_argument(
        "--faces", action=argparse.BooleanOptionalAction, help="only pictures with (--no-faces: without) faces"
    )
    group.add_argument("--min-faces", type=int, metavar="N", help="at least N faces")
    group.add_argument("--unnamed-faces", action="store_true", help="with a face no character names yet")
    group.add_argument("--source", type=int, metavar="ID", help="from this import source")
    group.add_argument("--folder", type=int, metavar="ID", help="from this import or reference folder")
    group.add_argument("--scrapheap", action="store_true", help="list the scrapheap instead")
    sort = parser.add_argument_group("order")
    sort.add_argument(
        "--sort", default="taken_at", choices=["taken_at", "imported_at", "rating", "file_size", "pixels", "random"]
    )
    sort.add_argument("--ascending", action="store_true", help="oldest / smallest first")
    sort.add_argument("--seed", type=int, default=0, help="seed for --sort random")


def filter_from_args(library: Library, args) -> tuple[PictureFilter, Sort]:
    collections = [resolve_collection(library, "set", v) for v in args.in_set]
    collections += [resolve_collection(library, "character", v) for v in args.in_character]
    f = PictureFilter(
        tags=args.tag,
        any_tags=args.any_tag,
        not_tags=args.not_tag,
        rating_min=args.rating_min,
        rating_max=args.rating_max,
        unrated=True if args.unrated else None,
        favourite=True if args.favourite else None,
        project=resolve_project(library, args.in_project),
        collections=collections,
        collection_op=args.op,
        media_type=args.media_type,
        taken_after=args.taken_after,
        taken_before=args.taken_before,
        min_width=args.min_width,
        min_height=args.min_height,
        text=args.text,
        duplicates=True if args.duplicates else None,
        faces=args.faces,
        min_faces=args.min_faces,
        unnamed_faces=True if args.unnamed_faces else None,
        source=args.source,
        folder=args.folder,
        scrapheap=args.scrapheap,
    )
    return f, Sort(key=args.sort, descending=not args.ascending, seed=args.seed)
