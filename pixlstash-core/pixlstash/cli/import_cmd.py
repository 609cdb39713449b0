"""``pixlstash import``: files, folders and zip archives into the library."""

from __future__ import annotations

import sys

import click

from .common import SOME_FAILED, SectionedCommand, json_option, library_option, print_json
from .library_options import acting_for, ensure_collection, ensure_project, open_library
from .output import Progress


@click.command("import", cls=SectionedCommand)
@library_option
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--project", help="file the pictures under this project (id or name; made if new)")
@click.option("--set", "sets", multiple=True, metavar="SET", help="add them to this set (id or name, made if new)")
@click.option(
    "--character", "characters", multiple=True, metavar="CHARACTER", help="add them to this character (made if new)"
)
@json_option
@click.pass_obj
def import_command(pm, library_path, paths, project, sets, characters, as_json) -> int:
    """Copy pictures and videos into the library.

    Folders are read recursively; zip archives are opened safely. A file already in the library is
    reported as a duplicate and stored once. Projects, sets and characters named here are made when they
    do not exist yet. Exits 3 when some files were skipped (the reasons are on standard error).

    \b
    Examples:
      pixlstash import ~/renders renders.zip one.png --project Portraits --set Best
      pixlstash import ~/ComfyUI/output --character Alice --json
    """
    created: list[str] = []
    with open_library(library_path, pm, create=True) as library:
        # What to file the pictures under is made when it does not exist yet, and said.
        project_id = ensure_project(library, project, created)
        collections = [ensure_collection(library, "set", v, created) for v in sets]
        collections += [ensure_collection(library, "character", v, created) for v in characters]
        for made in created:
            print(f"created {made}", file=sys.stderr)
        acting = acting_for(library.root)  # pixlstash --as NAME: that account's pictures
        with Progress("importing", unit="files") as progress:
            report = library.import_paths(
                paths,
                project_id=project_id,
                collection_ids=collections,
                on_picture=lambda *_: progress.update(advance=1),
                owner_id=acting.audience.user_id if acting else None,
                private=acting.uploads_private if acting else False,
            )
    if as_json:
        print_json(report)
    else:
        for skip in report.skipped:
            print(f"skipped {skip.path}: {skip.reason}", file=sys.stderr)
        for imported in report.imported:
            for note in imported.notes:
                print(f"note: {imported.path}: {note}", file=sys.stderr)
        rate = len(report.imported) / report.seconds if report.seconds else 0.0
        restored = f" ({len(report.restored)} back from the scrapheap)" if report.restored else ""
        print(
            f"imported {len(report.imported)}, duplicates {len(report.duplicates)}{restored}, "
            f"skipped {len(report.skipped)} in {report.seconds:.1f} s ({rate:.1f}/s)"
        )
    return SOME_FAILED if report.skipped else 0
