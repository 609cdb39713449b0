"""``pixlstash export``: a set, character, project or any filtered view as a training dataset, to a folder
or a zip file: each image beside a caption file with the same stem, kohya's repeat folder when asked, a
manifest and trainer configs. Options given for a set or character are remembered for it."""

from __future__ import annotations

import functools
import os
import sys
import tempfile
from pathlib import Path

import click

from ..errors import BadInput
from .common import SOME_FAILED, SectionedCommand, json_option, library_option, option, print_json, terminal
from .library_options import export_options, filter_from_args, filter_options, narrowed_to_source, open_library
from .output import Progress

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
    "relative_paths": "relative_paths",
    "transparency": "transparency",
    "background": "background",
    "xmp": "xmp",
}


_caption = functools.partial(option, section="Captions")
_image = functools.partial(option, section="Images")


def _names(ctx, param, value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


@click.command("export", cls=SectionedCommand)
@library_option
@click.argument("selection", required=False, metavar="[SOURCE]")
@click.option("--to", type=click.Path(path_type=Path), metavar="DIR", help="write the dataset into this folder")
@click.option("--zip", "zip_file", type=click.Path(path_type=Path), metavar="FILE", help="write it into this zip file")
@click.option("--update", is_flag=True, help="the folder holds an earlier export: rewrite what changed")
@click.option("--overwrite", is_flag=True, help="rewrite every file in a folder that holds files")
@_caption("--trigger", help="a trigger word put first")
@_caption(
    "--caption",
    type=click.Choice(["auto", "caption", "tags", "predictions", "template"]),
    help="what each caption holds (auto: the accepted caption, else the accepted tags)",
)
@_caption("--template", help='with --caption template, e.g. "{trigger}, {character_tags}, {tags}"')
@_caption("--min-confidence", type=float, help="predicted tags at or above this (--caption predictions)")
@_caption("--order", type=click.Choice(["confidence", "frequency", "name"]), help="tag order after character tags")
@_caption("--underscores/--no-underscores", default=None, help="long_hair rather than long hair")
@_caption("--exclude", callback=_names, metavar="TAG,TAG", help="tags to leave out")
@_caption("--max-tags", type=int, metavar="N", help="at most N tags")
@_caption("--second-file/--no-second-file", default=None, help="also write <stem>.caption")
@_image(
    "--format",
    "image_format",
    type=click.Choice(["auto", "original", "png", "jpeg", "webp"]),
    help="auto: PNG, JPEG and WebP as they are, other formats as PNG; original: every file as it is",
)
@_image("--max-side", type=int, metavar="PX", help="resize so the long side is at most PX")
@_image("--buckets", type=int, metavar="RES", help="crop to aspect buckets of RES² pixels (1024)")
@_image("--names", type=click.Choice(["id", "original"]), help="file names from picture ids or original names")
@_image("--videos", type=click.Choice(["skip", "poster"]), help="leave videos out, or export their poster frame")
@_image("--repeats", type=int, metavar="N", help="kohya's <N>_<trigger>/ folder")
@_image(
    "--transparency",
    type=click.Choice(["background", "alpha"]),
    help="transparent pixels on the background (trainers read RGB), or kept for the trainers' alpha_mask "
    "(every image then an RGBA PNG)",
)
@_image("--background", metavar="#RRGGBB", help="what transparent pixels are put on (default #ffffff)")
@_image(
    "--xmp/--no-xmp",
    default=None,
    help="an .xmp sidecar beside each image (name.ext.xmp: its tags, rating and caption, for darktable, digiKam)",
)
@_image(
    "--relative-paths/--absolute-paths",
    default=None,
    help="how dataset.toml and ai-toolkit.yaml name the folder (absolute unless asked)",
)
@json_option
@filter_options
@click.pass_obj
def export_command(pm, library_path, selection, to, zip_file, update, overwrite, as_json, where, **flags) -> int:
    """Export a set, character, project or filtered view as a training dataset (folder or zip).

    Each picture is written beside a .txt caption with the same stem, for kohya-ss sd-scripts, ai-toolkit,
    OneTrainer or diffusion-pipe, with metadata.jsonl and dataset.toml / ai-toolkit.yaml. Options given
    for a set or character are remembered for it. Exits 3 when some originals are missing.

    \b
    Examples:
      pixlstash export Alice --to ~/datasets/alice --trigger ohwx --repeats 10 --caption tags
      pixlstash export --tag cat --rating-min 4 --zip cats.zip
    """
    if (to is None) == (zip_file is None):
        raise click.UsageError("give one of --to DIR or --zip FILE")
    if update and overwrite:
        raise click.UsageError("--update and --overwrite do not go together")
    err = terminal(sys.stderr)
    with open_library(library_path, pm) as library:
        f, _ = filter_from_args(library, where)
        remember_for, name = None, "the selection"
        if selection:
            f, remember_for, name = narrowed_to_source(library, f, selection)
        given = {field: flags[flag] for flag, field in _FIELDS.items() if flags.get(flag) is not None}
        options = export_options(library, remember_for, given)
        plan = library.training.plan(f, options)
        if not plan.files and not plan.missing:
            raise BadInput("nothing to export: the selection holds no pictures")
        with Progress("exporting", total=len(plan.files)) as progress:

            def advance(done: int, total: int) -> None:
                progress.update(done=done, total=total)

            if to:
                mode = "update" if update else "overwrite" if overwrite else "new"
                report = library.training.write_folder(plan, options, to, mode, advance)
                written_to = report.folder
            else:
                written_to = str(_write_zip(library, plan, options, zip_file, advance))
        if remember_for:
            library.training.remember(remember_for, options)
    summary = {
        "exported": len(plan.files),
        "to": written_to,
        "folder": plan.folder,
        "missing": [{"picture": m.picture_id, "name": m.name, "reason": m.reason} for m in plan.missing],
        "videos_left_out": plan.videos_left_out,
        "uncaptioned": plan.uncaptioned,
        "warnings": plan.warnings,
    }
    if to:
        summary.update(written=len(report.written), unchanged=report.unchanged)
    if as_json:
        print_json(summary)
    else:
        changed = f" ({summary['written']} files written, {summary['unchanged']} unchanged)" if to else ""
        print(f"exported {len(plan.files)} pictures of {name} to {written_to}{changed}")
        if plan.videos_left_out:
            print(f"{len(plan.videos_left_out)} videos left out (--videos poster exports their poster frames)")
    for warning in plan.warnings:
        print(f"warning: {warning}", file=err)
    for missing in plan.missing:
        print(f"not exported: picture {missing.picture_id} ({missing.name}): {missing.reason}", file=err)
    return SOME_FAILED if plan.missing else 0


def _write_zip(library, plan, options, target: Path, progress) -> Path:
    target = target.expanduser().resolve()
    if target.exists():
        raise BadInput(f"{target} exists already: choose a new file name")
    # A new file of our own (O_EXCL, never a link someone planted at a name we would use), named only when whole.
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    partial = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in library.training.zip_chunks(plan, options, progress):
                out.write(chunk)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target
