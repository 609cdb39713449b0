"""``pixlstash snapshot``: take, list, preview, restore and delete snapshots of the library's metadata."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from ..errors import BadInput, NotFound
from ..snapshots import RestoreResource, SnapshotService
from .common import SOME_FAILED, SectionedCommand, json_option, library_option, print_json
from .library_options import open_library
from .output import Column, Spinner, counted, print_table


@click.group("snapshot")
def snapshot_group() -> None:
    """Snapshots of the library's metadata, and restores.

    A snapshot keeps tags, ratings, captions, predictions, sets, characters, projects and every
    membership (never the image files), deduplicated and compressed. Preview a restore before doing it.

    \b
    Examples:
      pixlstash snapshot create --label "before cleanup"
      pixlstash snapshot preview "before cleanup"
      pixlstash snapshot restore "before cleanup" --only set:12 --only picture:40

    A snapshot is named by its id or its label (the newest with that label): automatic snapshots are
    taken while the server runs, so use the id or label that `snapshot create` printed.
    """


class _SnapshotName(click.ParamType):
    name = "SNAPSHOT"

    def convert(self, value, param, ctx):
        return value if isinstance(value, int) else str(value)


SNAPSHOT = _SnapshotName()


def _snapshot_id(service: SnapshotService, value: int | str) -> int:
    """A snapshot by id, or the newest whose label is ``value``."""
    if isinstance(value, int) or str(value).isdigit():
        return service.get(int(value), sized=False).id
    labelled = [row for row in service.list() if row.label == value]
    if not labelled:
        raise NotFound(f"no snapshot is labelled {value!r} (pixlstash snapshot list shows them)")
    return max(labelled, key=lambda row: (row.created_at, row.id)).id


@contextmanager
def _snapshots(library_path, pm) -> Iterator[SnapshotService]:
    with open_library(library_path, pm) as library:
        service = library.new_snapshot_service()
        try:
            yield service
        finally:
            service.close()


@snapshot_group.command("create", cls=SectionedCommand)
@library_option
@click.option("--label", help="a label to recognise it by")
@json_option
@click.pass_obj
def create_command(pm, library_path, label, as_json) -> int:
    """Take a snapshot now."""
    with _snapshots(library_path, pm) as service, Spinner("taking a snapshot"):
        row = service.take("MANUAL", label)
    if as_json:
        print_json(row)
    else:
        named = f" {row.label!r}" if row.label else ""
        print(
            f"took snapshot {row.id}{named} of {counted(row.picture_count, 'picture')} ({row.byte_size / 1e6:.2f} MB)"
        )
    return 0


@snapshot_group.command("list", cls=SectionedCommand)
@library_option
@json_option
@click.pass_obj
def list_command(pm, library_path, as_json) -> int:
    """Snapshots, newest first."""
    with _snapshots(library_path, pm) as service:
        rows = service.list()
    if as_json:
        print_json(rows)
        return 0
    if not rows:
        print("no snapshots yet (pixlstash snapshot create)")
        return 0
    print_table(
        [
            Column("ID", right=True),
            Column("KIND"),
            Column("TAKEN"),
            Column("PICTURES", right=True),
            Column("SIZE", right=True),
            Column("LABEL", wide=True),
        ],
        [
            (
                r.id,
                r.kind,
                dt.datetime.fromtimestamp(r.created_at / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M"),
                f"{r.picture_count:,}",
                f"{r.byte_size / 1e6:.2f} MB",
                r.label or "",
            )
            for r in rows
        ],
    )
    return 0


@snapshot_group.command("preview", cls=SectionedCommand)
@library_option
@click.argument("snapshot", type=SNAPSHOT)
@json_option
@click.pass_obj
def preview_command(pm, library_path, snapshot, as_json) -> int:
    """What restoring a snapshot (its id or label) would change: pictures, and sets, characters and projects."""
    with _snapshots(library_path, pm) as service:
        snapshot_id = _snapshot_id(service, snapshot)
        result = service.preview(snapshot_id)
    if as_json:
        print_json(result)
        return 0
    s = result["summary"]
    print(
        f"restoring snapshot {snapshot_id} would revert {counted(s['pictures_to_revert'], 'picture')}, recreate "
        f"{s['pictures_to_recreate']} and delete {s['pictures_to_delete']}; {s['pictures_unchanged']} stay as "
        "they are"
    )
    changes = [("deletes", c) for c in result["to_delete"]] + [("recreates", c) for c in result["to_recreate"]]
    if changes:
        print_table(
            [Column("CHANGE"), Column("KIND"), Column("ID", right=True), Column("NAME", wide=True)],
            [(what, c["type"], c["id"], c["name"]) for what, c in changes],
        )
    for warning in result["warnings"]:
        print(f"warning: {warning}")
    return 0


def _resource(value: str) -> RestoreResource:
    kind, _, number = value.partition(":")
    if kind not in ("picture", "set", "character", "project") or not number.isdigit():
        raise BadInput(f"--only takes TYPE:ID (picture, set, character or project), not {value!r}")
    return RestoreResource(kind, int(number))  # type: ignore[arg-type]


@snapshot_group.command("restore", cls=SectionedCommand)
@library_option
@click.argument("snapshot", type=SNAPSHOT)
@click.option(
    "--only",
    multiple=True,
    metavar="TYPE:ID",
    help="restore only this picture:ID, set:ID, character:ID or project:ID (repeatable)",
)
@click.option("--recreate-missing", is_flag=True, help="recreate sets, characters or projects they refer to")
@click.option("-y", "--yes", is_flag=True, help="do not ask first (on a terminal, restore asks)")
@json_option
@click.pass_obj
def restore_command(pm, library_path, snapshot, only, recreate_missing, yes, as_json) -> int:
    """Restore a snapshot (its id or label): everything, or --only some pictures, sets, characters or
    projects. On a terminal it says what a full restore would delete and revert, and asks first (--yes does
    not ask). A full restore first takes a safety snapshot, whose id it prints: restoring that undoes it.

    Exits 3 when some of the --only resources were not restored, 1 when none was, or when the question
    was answered no (reasons on standard error).
    """
    resources = [_resource(v) for v in only]
    with _snapshots(library_path, pm) as service:
        snapshot_id = _snapshot_id(service, snapshot)
        # A person at a terminal is asked; a script (its input or output not a terminal) is not.
        on_a_terminal = sys.stdin.isatty() and sys.stdout.isatty()
        if not yes and on_a_terminal and not _confirmed(service, snapshot_id, resources):
            print("nothing restored", file=sys.stderr)
            return 1
    with _snapshots(library_path, pm) as service, Spinner(f"restoring snapshot {snapshot_id}"):
        if resources:
            result = service.restore_batch(snapshot_id, resources, recreate_missing)
        else:
            result = service.restore(snapshot_id)
    if as_json:
        print_json(result)
    elif resources:
        print(f"restored {result['upserted_count']} of {len(resources)} from snapshot {snapshot_id}")
    else:
        missing = result.get("missing_files_count") or 0
        note = f" ({counted(missing, 'picture')} no longer have an original file)" if missing else ""
        print(f"restored the library from snapshot {snapshot_id}{note}")
        safety = result.get("safety_snapshot_id")
        print(
            f"what the library held before is in safety snapshot {safety}: "
            f"`pixlstash snapshot restore {safety}` undoes this"
        )
    if result.get("errors"):
        for error in result["errors"]:
            print(f"not restored: {error['type']}:{error['id']}: {error['error']}", file=sys.stderr)
        return SOME_FAILED if result.get("upserted_count") else 1
    return 0


def _confirmed(service, snapshot_id: int, resources: list[RestoreResource]) -> bool:
    """Say what the restore will do, and ask."""
    if resources:
        question = f"restore {counted(len(resources), 'resource')} from snapshot {snapshot_id}?"
    else:
        preview = service.preview(snapshot_id)
        s = preview["summary"]
        print(
            f"restoring snapshot {snapshot_id} takes {counted(s['pictures_to_delete'], 'picture')} out of the library, "
            f"reverts {s['pictures_to_revert']} and recreates {s['pictures_to_recreate']}; {s['pictures_unchanged']} "
            "stay as they are (a safety snapshot is taken first: restoring it undoes this)"
        )
        for what, changes in (("deletes", preview["to_delete"]), ("recreates", preview["to_recreate"])):
            for change in changes:
                print(f"  it {what} {change['type']} {change['id']} {change['name']!r}")
        question = "restore it?"
    return click.confirm(question, default=False)


@snapshot_group.command("delete", cls=SectionedCommand)
@library_option
@click.argument("snapshot_id", type=int)
@json_option
@click.pass_obj
def delete_command(pm, library_path, snapshot_id, as_json) -> int:
    """Delete a snapshot (chunks other snapshots share stay)."""
    with _snapshots(library_path, pm) as service:
        freed = service.delete(snapshot_id)
    if as_json:
        print_json({"deleted": snapshot_id, "freed_bytes": freed})
    else:
        print(f"deleted snapshot {snapshot_id}, freeing {freed / 1e6:.2f} MB")
    return 0
