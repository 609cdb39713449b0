"""``pixlstash search``: semantic search by text, or find pictures similar to pictures or image files."""

from __future__ import annotations

from pathlib import Path

from ..engines.inputs import open_query_image
from ..errors import BadInput
from .common import add_library_option, print_json
from .library_options import add_filter_options, filter_from_args, open_library


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "search",
        help="search pictures by meaning (text) or by example (similar pictures)",
        description="Semantic search through an embedder's text encoder, or reverse image search with "
        "--similar / --image. Library filters restrict the results.",
    )
    add_library_option(parser)
    parser.add_argument("query", nargs="?", help="what to look for, in words")
    parser.add_argument(
        "--similar", type=int, nargs="+", default=[], metavar="ID", help="pictures like these stored pictures"
    )
    parser.add_argument(
        "--image",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="pictures like this image file (repeatable)",
    )
    parser.add_argument(
        "--combine",
        choices=["mean", "min"],
        default="mean",
        help="several references: mean similarity, or min (close to all of them)",
    )
    parser.add_argument("--engine", metavar="ID", help="embedder to use (default: the settings' default)")
    parser.add_argument("--threshold", type=float, metavar="SIM", help="only hits at least this similar (-1..1)")
    parser.add_argument("--limit", type=int, default=20, help="how many hits (default 20)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_filter_options(parser)
    parser.set_defaults(func=run)


def run(args, pm) -> int:
    if not args.query and not args.similar and not args.image:
        raise BadInput("give a text to search for, or --similar ID / --image FILE")
    with open_library(args, pm) as library:
        f, _ = filter_from_args(library, args)
        if args.query and not (args.similar or args.image):
            result = library.search.semantic(
                args.query, engine_id=args.engine, f=f, threshold=args.threshold, limit=args.limit
            )
        else:
            images = [open_query_image(path, library.limits) for path in args.image]
            result = library.search.similar(
                picture_ids=args.similar,
                images=images,
                engine_id=args.engine,
                combine=args.combine,
                f=f,
                threshold=args.threshold,
                limit=args.limit,
            )
        names = library.pictures.original_names([hit.picture.id for hit in result.hits])
    if args.json:
        print_json(result)
        return 0
    for hit in result.hits:
        p = hit.picture
        missing = "  MISSING" if p.missing else ""
        print(f"{p.id:>8}  {hit.similarity:6.3f}  {p.width:>5}x{p.height:<5}  {names.get(p.id, '')}{missing}")
    if not result.hits:
        print(f"no matches ({result.engine_id})")
    return 0
