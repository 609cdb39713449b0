"""``pixlstash folders``: watched import folders and in-place reference folders."""

from __future__ import annotations

from ..domain import FolderOptions
from .common import add_library_option, print_json
from .library_options import open_library


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "folders",
        help="manage import and reference folders",
        description="Import folders are watched while the server runs: new files are copied in. Reference "
        "folders are indexed in place and never modified.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a folder")
    add_library_option(add)
    add.add_argument("kind", choices=["import", "reference"])
    add.add_argument("path")
    add.add_argument(
        "--delete-after-import", action="store_true", help="import folders: delete each file once the library holds it"
    )
    add.add_argument(
        "--write-sidecars", action="store_true", help="reference folders: write tags/captions back to .txt sidecars"
    )
    add.add_argument(
        "--sidecar-format", choices=["tags", "caption"], default="tags", help="what .txt sidecars hold (default: tags)"
    )
    add.add_argument(
        "--allow-purge",
        action="store_true",
        help="reference folders: purging a picture from the scrapheap may delete its file",
    )
    add.add_argument("--no-scan", action="store_true", help="do not scan it now")
    add.add_argument("--json", action="store_true", help="print JSON")
    add.set_defaults(func=run_add)
    listing = actions.add_parser("list", help="list folders")
    add_library_option(listing)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=run_list)
    remove = actions.add_parser("remove", help="stop watching a folder (its files and pictures stay)")
    add_library_option(remove)
    remove.add_argument("folder_id", type=int)
    remove.set_defaults(func=run_remove)
    rescan = actions.add_parser("rescan", help="scan one folder, or all, now")
    add_library_option(rescan)
    rescan.add_argument("folder_id", type=int, nargs="?")
    rescan.add_argument("--json", action="store_true", help="print JSON")
    rescan.set_defaults(func=run_rescan)


def _print_scan(scans, as_json: bool) -> None:
    if as_json:
        print_json(scans)
        return
    for scan in scans:
        r = scan.report
        print(
            f"folder {scan.folder_id}: imported {len(r.imported)}, duplicates {len(r.duplicates)}, "
            f"skipped {len(r.skipped)}, moved {scan.moved}, changed {scan.changed}, removed {scan.removed}, "
            f"waiting {scan.waiting}"
        )
        for skip in r.skipped:
            print(f"    skipped {skip.path}: {skip.reason}")


def run_add(args, pm) -> int:
    options = FolderOptions(
        delete_after_import=args.delete_after_import,
        write_sidecars=args.write_sidecars,
        sidecar_format=args.sidecar_format,
        allow_purge=args.allow_purge,
    )
    with open_library(args, pm) as library:
        folder = library.folder_sync.add(args.kind, args.path, options)
        scans = [] if args.no_scan else [library.folder_sync.scan(folder.id)]
        folder = library.folders.get(folder.id)
    if args.json:
        print_json({"folder": folder, "scan": scans[0] if scans else None})
    else:
        print(f"added {folder.kind} folder {folder.id}: {folder.path}")
        _print_scan(scans, False)
    return 0


def run_list(args, pm) -> int:
    with open_library(args, pm) as library:
        folders = library.folders.all()
    if args.json:
        print_json(folders)
    for folder in [] if args.json else folders:
        print(f"{folder.id:>4}  {folder.kind:<9}  {folder.picture_count:>7} pictures  {folder.path}")
    return 0


def run_remove(args, pm) -> int:
    with open_library(args, pm) as library:
        library.folder_sync.remove(args.folder_id)
    print(f"removed folder {args.folder_id}; its pictures stay in the library")
    return 0


def run_rescan(args, pm) -> int:
    with open_library(args, pm) as library:
        scans = (
            [library.folder_sync.scan(args.folder_id)] if args.folder_id is not None else library.folder_sync.scan_all()
        )
    _print_scan(scans, args.json)
    return 0
