"""``pixlstash export``: a set, character, project or any filtered view as a training dataset, to a folder
or a zip file: each image beside a caption file with the same stem, kohya's repeat folder when asked, a
manifest and trainer configs. Options given for a set or character are remembered for it."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import msgspec

from ..domain import PictureFilter
from ..errors import BadInput, NotFound
from ..training import ExportOptions
from .common import SOME_FAILED, add_library_option, print_json, progress_bar, terminal
from .library_options import add_filter_options, filter_from_args, open_library, resolve_collection, resolve_project

# flag -> ExportOptions field, for the flags that set one.
_FIELDS = {
    "trigger": "trigger",
    "caption": "caption",
    "template": "template",
    "min_confidence": "min_confidence",
    "order": "order",
    "underscores": "underscores",
    "exclude": "exclude_tags",
    "max_tags": "max_tags",
    "second_file": "second_file",
    "image_format": "image_format",
    "max_side": "max_side",
    "buckets": "bucket_resolution",
    "names": "names",
    "videos": "videos",
    "repeats": "repeats",
}


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a set, character, project or view as a training dataset (folder or zip)",
        description="Write each picture beside a .txt caption with the same stem, for kohya-ss sd-scripts, "
        "ai-toolkit, OneTrainer or diffusion-pipe, with metadata.jsonl and dataset.toml / ai-toolkit.yaml. "
        "Example: pixlstash export Alice --to ~/datasets/alice --trigger ohwx --repeats 10 --caption tags",
    )
    parser.add_argument(
        "selection", nargs="?", metavar="SOURCE", help="a set, character or project (name or id); or use the filters"
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--to", type=Path, metavar="DIR", help="write the dataset into this folder")
    where.add_argument("--zip", type=Path, metavar="FILE", help="write the dataset into this zip file")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--update", action="store_true", help="the folder holds an earlier export: rewrite what changed")
    mode.add_argument("--overwrite", action="store_true", help="rewrite every file in a folder that holds files")
    captions = parser.add_argument_group("captions")
    captions.add_argument("--trigger", help="a trigger word put first")
    captions.add_argument(
        "--caption", choices=["caption", "tags", "predictions", "template"], help="what each caption file holds"
    )
    captions.add_argument("--template", help='with --caption template, e.g. "{trigger}, {character_tags}, {tags}"')
    captions.add_argument(
        "--min-confidence", type=float, help="predicted tags at or above this (--caption predictions)"
    )
    captions.add_argument("--order", choices=["confidence", "frequency", "name"], help="tag order after character tags")
    captions.add_argument(
        "--underscores", action=argparse.BooleanOptionalAction, help="long_hair rather than long hair"
    )
    captions.add_argument("--exclude", type=_names, metavar="TAG,TAG", help="tags to leave out")
    captions.add_argument("--max-tags", type=int, metavar="N", help="at most N tags")
    captions.add_argument("--second-file", action=argparse.BooleanOptionalAction, help="also write <stem>.caption")
    images = parser.add_argument_group("images")
    images.add_argument("--format", dest="image_format", choices=["original", "png", "jpeg", "webp"])
    images.add_argument("--max-side", type=int, metavar="PX", help="resize so the long side is at most PX")
    images.add_argument("--buckets", type=int, metavar="RES", help="crop to aspect buckets of RES² pixels (1024)")
    images.add_argument("--names", choices=["id", "original"], help="file names from picture ids or original names")
    images.add_argument("--videos", choices=["skip", "poster"], help="leave videos out, or export their poster frame")
    images.add_argument("--repeats", type=int, metavar="N", help="kohya's <N>_<trigger>/ folder")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    add_library_option(parser)
    add_filter_options(parser)
    parser.set_defaults(func=run)


def _names(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _narrowed(library, f: PictureFilter, value: str) -> tuple[PictureFilter, int | None, str]:
    """The filter narrowed to a set, character or project (name or id); the set or character whose
    options are remembered; the name of what is exported."""
    for kind in ("set", "character"):
        try:
            collection = resolve_collection(library, kind, value)
        except NotFound:
            continue
        op = "overlap" if f.collections else f.collection_op  # in the source and in the --in-set ones
        narrowed = msgspec.structs.replace(f, collections=[collection, *f.collections], collection_op=op)
        return narrowed, collection, library.collections.collection(collection).name
    project = resolve_project(library, value)
    if f.project is not None and f.project != project:
        raise BadInput("give one project: as the source or with --in-project")
    return msgspec.structs.replace(f, project=project), None, library.collections.project(project).name


def run(args, pm) -> int:
    err = terminal(sys.stderr)
    with open_library(args, pm) as library:
        f, _ = filter_from_args(library, args)
        remember_for, name = None, "the selection"
        if args.selection:
            f, remember_for, name = _narrowed(library, f, args.selection)
        base = library.training.remembered(remember_for) if remember_for else ExportOptions()
        given = {field: getattr(args, flag) for flag, field in _FIELDS.items() if getattr(args, flag) is not None}
        options = msgspec.convert({**msgspec.to_builtins(base), **given}, ExportOptions).check()
        plan = library.training.plan(f, options)
        if not plan.files and not plan.missing:
            raise BadInput("nothing to export: the selection holds no pictures")
        shown = err.isatty()

        def progress(done: int, total: int) -> None:
            if shown:
                print(f"\r{progress_bar(done, total)} {done}/{total}", end="", file=err, flush=True)
            elif done == total or done % 100 == 0:
                print(f"exported {done}/{total}", file=err)

        if args.to:
            mode = "update" if args.update else "overwrite" if args.overwrite else "new"
            report = library.training.write_folder(plan, options, args.to, mode, progress)
            where = report.folder
        else:
            where = str(_write_zip(library, plan, options, args.zip, progress))
        if shown:
            print(file=err)
        if remember_for:
            library.training.remember(remember_for, options)
    summary = {
        "exported": len(plan.files),
        "to": where,
        "folder": plan.folder,
        "missing": [{"picture": m.picture_id, "name": m.name, "reason": m.reason} for m in plan.missing],
        "videos_left_out": plan.videos_left_out,
    }
    if args.to:
        summary.update(written=len(report.written), unchanged=report.unchanged)
    if args.json:
        print_json(summary)
    else:
        changed = f" ({summary['written']} files written, {summary['unchanged']} unchanged)" if args.to else ""
        print(f"exported {len(plan.files)} pictures of {name} to {where}{changed}")
        if plan.videos_left_out:
            print(f"{len(plan.videos_left_out)} videos left out (--videos poster exports their poster frames)")
    for missing in plan.missing:
        print(f"not exported: picture {missing.picture_id} ({missing.name}): {missing.reason}", file=err)
    return SOME_FAILED if plan.missing else 0


def _write_zip(library, plan, options, target: Path, progress) -> Path:
    target = target.expanduser().resolve()
    if target.exists():
        raise BadInput(f"{target} exists already: choose a new file name")
    partial = target.with_name(f".{target.name}.part")
    try:
        with open(partial, "wb") as out:
            for chunk in library.training.zip_chunks(plan, options, progress):
                out.write(chunk)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target
