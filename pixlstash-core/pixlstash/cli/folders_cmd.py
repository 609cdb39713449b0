"""``pixlstash folders``: watched import folders and in-place reference folders."""

from __future__ import annotations

import datetime as dt

import click

from ..domain import FolderOptions
from .common import SectionedCommand, json_option, library_option, print_json
from .library_options import open_library
from .output import Column, Spinner, counted, print_table


@click.group("folders")
def folders_group() -> None:
    """Import folders (watched: new files are copied in) and reference folders (indexed in place).

    A reference folder's files are never modified; an import folder's are deleted after import only when
    asked.

    \b
    Examples:
      pixlstash folders add import ~/ComfyUI/output
      pixlstash folders add reference ~/Photos --write-sidecars
      pixlstash folders add reference ~/Lightroom --write-xmp
      pixlstash folders list
      pixlstash folders rescan
      pixlstash folders pause 2
      pixlstash folders resume 2
      pixlstash folders xmp 2 on
    """


@folders_group.command("add", cls=SectionedCommand)
@library_option
@click.argument("kind", type=click.Choice(["import", "reference"]))
@click.argument("path")
@click.option("--delete-after-import", is_flag=True, help="import folders: delete each file once the library holds it")
@click.option("--write-sidecars", is_flag=True, help="reference folders: write tags/captions back to .txt sidecars")
@click.option(
    "--sidecar-format",
    type=click.Choice(["tags", "caption"]),
    default="tags",
    show_default=True,
    help="what .txt sidecars hold",
)
@click.option(
    "--write-xmp",
    is_flag=True,
    help="reference folders: keep an .xmp sidecar beside each picture (tags, stars, caption, people)",
)
@click.option("--allow-purge", is_flag=True, help="reference folders: purging from the scrapheap may delete the file")
@click.option("--no-scan", is_flag=True, help="do not scan it now")
@json_option
@click.pass_obj
def add_command(
    pm,
    library_path,
    kind,
    path,
    delete_after_import,
    write_sidecars,
    sidecar_format,
    write_xmp,
    allow_purge,
    no_scan,
    as_json,
) -> int:
    """Add an import or reference folder (and scan it now)."""
    options = FolderOptions(
        delete_after_import=delete_after_import,
        write_sidecars=write_sidecars,
        sidecar_format=sidecar_format,
        write_xmp=write_xmp,
        allow_purge=allow_purge,
    )
    with open_library(library_path, pm, create=True) as library:
        folder = library.folder_sync.add(kind, path, options)
        with Spinner(f"scanning {folder.path}") if not no_scan else _Nothing():
            scans = [] if no_scan else [library.folder_sync.scan(folder.id)]
        folder = library.folders.get(folder.id)
    if as_json:
        print_json({"folder": folder, "scan": scans[0] if scans else None})
    else:
        print(f"added {folder.kind} folder {folder.id}: {folder.path}")
        _print_scans(scans)
    return 0


@folders_group.command("list", cls=SectionedCommand)
@library_option
@json_option
@click.pass_obj
def list_command(pm, library_path, as_json) -> int:
    """The folders, their picture counts and last scans."""
    with open_library(library_path, pm) as library:
        folders = library.folders.all()
    if as_json:
        print_json(folders)
        return 0
    if not folders:
        print("no folders yet (pixlstash folders add import|reference PATH)")
        return 0
    rows = [
        (
            f.id,
            f.kind + (" (paused)" if f.options.paused else ""),
            f"{f.picture_count:,}",
            _when(f.last_scan_at),
            f.path,
        )
        for f in folders
    ]
    print_table(
        [
            Column("ID", right=True),
            Column("KIND"),
            Column("PICTURES", right=True),
            Column("LAST SCAN"),
            Column("PATH", wide=True),
        ],
        rows,
    )
    return 0


@folders_group.command("remove", cls=SectionedCommand)
@library_option
@click.argument("folder_id", type=int)
@click.pass_obj
def remove_command(pm, library_path, folder_id) -> int:
    """Stop watching a folder (its files and pictures stay)."""
    with open_library(library_path, pm) as library:
        library.folder_sync.remove(folder_id)
    print(f"removed folder {folder_id}; its pictures stay in the library")
    return 0


@folders_group.command("pause", cls=SectionedCommand)
@library_option
@click.argument("folder_id", type=int)
@click.pass_obj
def pause_command(pm, library_path, folder_id) -> int:
    """Stop watching a folder for now (its pictures stay; resume takes up where it left)."""
    return _set_paused(pm, library_path, folder_id, True)


@folders_group.command("resume", cls=SectionedCommand)
@library_option
@click.argument("folder_id", type=int)
@click.pass_obj
def resume_command(pm, library_path, folder_id) -> int:
    """Watch a paused folder again (refused while another running library watches it)."""
    return _set_paused(pm, library_path, folder_id, False)


@folders_group.command("xmp", cls=SectionedCommand)
@library_option
@click.argument("folder_id", type=int)
@click.argument("state", type=click.Choice(["on", "off"]))
@click.pass_obj
def xmp_command(pm, library_path, folder_id, state) -> int:
    """Keep a reference folder's .xmp sidecars for photo software as its pictures change (on), or stop (off)."""
    with open_library(library_path, pm) as library:
        folder = library.folder_sync.set_write_xmp(folder_id, state == "on")
    print(
        f"folder {folder.id} {'keeps' if folder.options.write_xmp else 'no longer writes'} .xmp sidecars: {folder.path}"
    )
    return 0


def _set_paused(pm, library_path, folder_id: int, paused: bool) -> int:
    with open_library(library_path, pm) as library:
        folder = library.folder_sync.set_paused(folder_id, paused)
    print(f"{'paused' if paused else 'watching again'} folder {folder.id}: {folder.path}")
    return 0


@folders_group.command("rescan", cls=SectionedCommand)
@library_option
@click.argument("folder_id", type=int, required=False)
@json_option
@click.pass_obj
def rescan_command(pm, library_path, folder_id, as_json) -> int:
    """Scan one folder, or all of them (but the paused ones), now."""
    with open_library(library_path, pm) as library, Spinner("scanning folders"):
        scans = [library.folder_sync.scan(folder_id)] if folder_id is not None else library.folder_sync.scan_all()
    if as_json:
        print_json(scans)
    else:
        _print_scans(scans)
    return 0


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


def _when(ms: int | None) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M") if ms else "-"


def _print_scans(scans) -> None:
    for scan in scans:
        r = scan.report
        parts = [
            f"imported {len(r.imported)}",
            f"duplicates {len(r.duplicates)}",
            f"skipped {len(r.skipped)}",
        ]
        parts += [
            f"{what} {n}"
            for what, n in (("moved", scan.moved), ("changed", scan.changed), ("removed", scan.removed))
            if n
        ]
        print(f"folder {scan.folder_id}: {', '.join(parts)}")
        if scan.waiting:
            print(
                f"    waiting for {counted(scan.waiting, 'file')} modified in the last few seconds or still empty "
                "(being written, it seems): the next scan takes them"
            )
        for skip in r.skipped:
            print(f"    skipped {skip.path}: {skip.reason}")
