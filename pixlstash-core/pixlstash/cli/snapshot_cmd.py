"""``pixlstash snapshot``: take, list, preview, restore and delete snapshots of the library's metadata."""

from __future__ import annotations

import datetime as dt

from ..errors import BadInput
from ..snapshots import RestoreResource, SnapshotService
from .common import add_library_option, print_json
from .library_options import open_library


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "snapshot",
        help="snapshots of the library's metadata and restores",
        description="Snapshots keep tags, ratings, captions, predictions, sets, characters, projects and all "
        "memberships (never the image files), deduplicated and compressed.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="take a snapshot now")
    create.add_argument("--label", help="a label to recognise it by")
    listing = actions.add_parser("list", help="list snapshots, newest first")
    preview = actions.add_parser("preview", help="what restoring a snapshot would change")
    preview.add_argument("snapshot_id", type=int)
    restore = actions.add_parser("restore", help="restore a snapshot (everything, or --only some resources)")
    restore.add_argument("snapshot_id", type=int)
    restore.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TYPE:ID",
        help="restore only this picture:ID, set:ID, character:ID or project:ID (repeatable)",
    )
    restore.add_argument(
        "--recreate-missing",
        action="store_true",
        help="recreate sets, characters or projects the restored resources refer to",
    )
    delete = actions.add_parser("delete", help="delete a snapshot")
    delete.add_argument("snapshot_id", type=int)
    for action in (create, listing, preview, restore, delete):
        add_library_option(action)
        action.add_argument("--json", action="store_true", help="print JSON")
        action.set_defaults(func=run)


def _resource(value: str) -> RestoreResource:
    kind, _, number = value.partition(":")
    if kind not in ("picture", "set", "character", "project") or not number.isdigit():
        raise BadInput(f"--only takes TYPE:ID (picture, set, character or project), not {value!r}")
    return RestoreResource(kind, int(number))  # type: ignore[arg-type]


def run(args, pm) -> int:
    with open_library(args, pm) as library:
        service = library.new_snapshot_service()
        try:
            result = _dispatch(args, service)
        finally:
            service.close()
    if args.json:
        print_json(result)
    elif args.action == "list":
        for row in result:
            when = dt.datetime.fromtimestamp(row.created_at / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M")
            print(
                f"{row.id:>5}  {row.kind:<7}  {when}  {row.picture_count:>8} pictures  "
                f"{row.byte_size / 1e6:8.2f} MB  {row.label or ''}"
            )
    else:
        print(result)
    return 0


def _dispatch(args, service: SnapshotService):
    if args.action == "create":
        return service.take("MANUAL", args.label)
    if args.action == "list":
        return service.list()
    if args.action == "preview":
        return service.preview(args.snapshot_id)
    if args.action == "delete":
        return {"deleted": args.snapshot_id, "freed_bytes": service.delete(args.snapshot_id)}
    if args.only:
        return service.restore_batch(args.snapshot_id, [_resource(v) for v in args.only], args.recreate_missing)
    return service.restore(args.snapshot_id)
