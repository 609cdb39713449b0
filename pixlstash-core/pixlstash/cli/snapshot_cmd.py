"""``pixlstash snapshot``: take, list, preview, restore and delete snapshots of the library's metadata."""

from __future__ import annotations

import datetime as dt
import sys

from ..errors import BadInput
from ..snapshots import RestoreResource, SnapshotService
from .common import SOME_FAILED, add_library_option, print_json
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
        if not result:
            print("no snapshots yet (pixlstash snapshot create)")
        for row in result:
            print(_row(row))
    else:
        _say(args, result)
    if args.action == "restore" and result.get("errors"):
        for error in result["errors"]:
            print(f"not restored: {error['type']}:{error['id']}: {error['error']}", file=sys.stderr)
        return SOME_FAILED if result.get("upserted_count") else 1
    return 0


def _row(row) -> str:
    when = dt.datetime.fromtimestamp(row.created_at / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M")
    return (
        f"{row.id:>5}  {row.kind:<7}  {when}  {row.picture_count:>8} pictures  "
        f"{row.byte_size / 1e6:8.2f} MB  {row.label or ''}"
    )


def _say(args, result) -> None:
    """A sentence (and the figures) for each action, never a Python repr."""
    if args.action == "create":
        label = f" {result.label!r}" if result.label else ""
        print(f"took snapshot {result.id}{label} of {result.picture_count} pictures")
    elif args.action == "preview":
        s = result["summary"]
        print(
            f"restoring snapshot {args.snapshot_id} would revert {s['pictures_to_revert']} pictures, recreate "
            f"{s['pictures_to_recreate']} and delete {s['pictures_to_delete']}; {s['pictures_unchanged']} stay as "
            "they are"
        )
        for change in result["to_delete"]:
            print(f"  deletes {change['type']} {change['id']} {change['name']!r}")
        for change in result["to_recreate"]:
            print(f"  recreates {change['type']} {change['id']} {change['name']!r}")
        for warning in result["warnings"]:
            print(f"warning: {warning}")
    elif args.action == "delete":
        print(f"deleted snapshot {result['deleted']}, freeing {result['freed_bytes'] / 1e6:.2f} MB")
    elif args.only:
        print(f"restored {result['upserted_count']} of {len(args.only)} from snapshot {args.snapshot_id}")
    else:
        missing = result.get("missing_files_count") or 0
        note = f" ({missing} pictures have no original file any more)" if missing else ""
        print(f"restored the library from snapshot {args.snapshot_id}{note}")


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
