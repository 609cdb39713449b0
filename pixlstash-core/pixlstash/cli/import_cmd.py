"""``pixlstash import``: files, folders and zip archives into the library."""

from __future__ import annotations

import sys

from .common import SOME_FAILED, add_library_option, print_json
from .library_options import ensure_collection, ensure_project, open_library


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "import",
        help="import files, folders and zip archives",
        description="Copy pictures and videos into the library. Folders are read recursively; zip archives are "
        "opened safely. Files already in the library are reported as duplicates and stored once.",
    )
    add_library_option(parser)
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files, folders or .zip archives")
    parser.add_argument("--project", help="add the pictures to this project (id or name; made if new)")
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="SET",
        help="add the pictures to this set (id or name, made if new; repeatable)",
    )
    parser.add_argument(
        "--character",
        dest="characters",
        action="append",
        default=[],
        metavar="CHARACTER",
        help="assign the pictures to this character (id or name, made if new; repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="print the whole report as JSON")
    parser.set_defaults(func=run)


def run(args, pm) -> int:
    created: list[str] = []
    with open_library(args, pm) as library:
        # What to file the pictures under is made when it does not exist yet, and said.
        project = ensure_project(library, args.project, created)
        collections = [ensure_collection(library, "set", v, created) for v in args.sets]
        collections += [ensure_collection(library, "character", v, created) for v in args.characters]
        report = library.import_paths(args.paths, project_id=project, collection_ids=collections)
    for made in created:
        print(f"created {made}", file=sys.stderr)
    if args.json:
        print_json(report)
    else:
        for skip in report.skipped:
            print(f"skipped {skip.path}: {skip.reason}", file=sys.stderr)
        rate = len(report.imported) / report.seconds if report.seconds else 0.0
        restored = f" ({len(report.restored)} back from the scrapheap)" if report.restored else ""
        print(
            f"imported {len(report.imported)}, duplicates {len(report.duplicates)}{restored}, "
            f"skipped {len(report.skipped)} in {report.seconds:.1f} s ({rate:.1f}/s)"
        )
    return SOME_FAILED if report.skipped else 0
