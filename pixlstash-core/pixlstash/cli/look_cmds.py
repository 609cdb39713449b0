"""``pixlstash edit rotate|flip|straighten|crop|revert|show``: change how pictures are shown; their
originals never change (see domain/look_geometry.py)."""

from __future__ import annotations

import click

from ..domain import EditChange, PictureEdit
from .common import SectionedCommand, json_option, library_option, print_json
from .library_options import filter_options, open_library
from .output import counted
from .selection import PICTURES_HELP, picture_ids, picture_selection

__all__ = ["edit_group"]

_pictures = click.argument("pictures", metavar="PICTURES")
_TURN_WORDS = {90: "right", -90: "left", 180: "upside down"}
_TURNS = {"right": 90, "left": -90, "90": 90, "-90": -90, "180": 180, "270": -90, "-270": 90, "-180": 180}


@click.group("edit")
def edit_group() -> None:
    """Turn, mirror, straighten or crop pictures without touching their originals."""


def _change(library_path, pm, pictures, where, change: EditChange, done: str) -> int:
    """``pictures``: PICTURES as typed (with ``where``'s filter), or one id."""
    with open_library(library_path, pm) as library:
        ids = [pictures] if isinstance(pictures, int) else picture_ids(library, pictures, where)
        changed = library.edits.change_look(ids, change)
    unchanged = len(ids) - len(changed)
    print(f"{done} {counted(len(changed), 'picture')}" + (f" ({unchanged} already so)" if unchanged else ""))
    return 0


@edit_group.command("rotate", cls=SectionedCommand, context_settings={"ignore_unknown_options": True})
@library_option
@picture_selection
@click.argument("degrees", type=click.Choice(list(_TURNS)), metavar="DEGREES")
@click.pass_obj
def rotate(pm, library_path, pictures, degrees, where) -> int:
    turn = _TURNS[degrees]
    return _change(library_path, pm, pictures, where, EditChange(rotate=turn), f"turned {_TURN_WORDS[turn]}")


rotate.help = (
    f"Turn pictures clockwise by DEGREES (90, 180, 270, -90, or left / right).\n\n{PICTURES_HELP}\n\n\b\n"
    "Examples:\n  pixlstash edit rotate 12 90\n  pixlstash edit rotate 12,14 left\n"
    "  pixlstash edit rotate where right --tag sideways"
)


@edit_group.command("flip", cls=SectionedCommand)
@library_option
@picture_selection
@click.pass_obj
def flip(pm, library_path, pictures, where) -> int:
    return _change(library_path, pm, pictures, where, EditChange(flip=True), "mirrored")


flip.help = f"Mirror pictures left to right (again to undo).\n\n{PICTURES_HELP}"


@edit_group.command("straighten", context_settings={"ignore_unknown_options": True})
@library_option
@click.argument("picture", type=int)
@click.argument("angle", type=click.FloatRange(-45, 45))
@click.pass_obj
def straighten(pm, library_path, picture, angle) -> int:
    """Straighten a picture by ANGLE degrees clockwise (-45 to 45; 0 takes it back).

    The picture is turned about its centre and enlarged just enough to leave no empty corners.

    \b
    Examples:
      pixlstash edit straighten 12 1.5
      pixlstash edit straighten 12 -2
    """
    return _change(library_path, pm, picture, None, EditChange(angle=angle), f"straightened ({angle:+g}°)")


@edit_group.command("crop", cls=SectionedCommand)
@library_option
@_pictures
@click.option("--box", metavar="X,Y,W,H", help="the crop in the original's pixels (upright): left, top, width, height")
@click.option("--aspect", metavar="W:H", help="the largest centred crop of this shape as shown (1:1, 2:3, 16:9)")
@click.option("--bucket", type=click.IntRange(256, 4096), help="the training bucket nearest each picture's shape")
@click.option("--clear", is_flag=True, help="take the crop away")
@filter_options(order=False)
@click.pass_obj
def crop(pm, library_path, pictures, box, aspect, bucket, clear, where) -> int:
    if sum(x is not None and x is not False for x in (box, aspect, bucket, clear)) != 1:
        raise click.UsageError("give one of --box, --aspect, --bucket or --clear")
    if box is not None:
        try:
            numbers = tuple(int(v) for v in box.split(","))
        except ValueError:
            numbers = ()
        if len(numbers) != 4 or min(numbers) < 0 or min(numbers[2:]) < 1:
            raise click.UsageError("--box is X,Y,W,H: four whole numbers, width and height at least 1")
        change = EditChange(crop=numbers)  # type: ignore[arg-type]
    elif clear:
        change = EditChange(uncrop=True)
    else:
        change = EditChange(aspect=aspect if aspect is not None else f"bucket:{bucket}")
    return _change(library_path, pm, pictures, where, change, "uncropped" if clear else "cropped")


crop.help = (
    f"Crop pictures to a box, an aspect ratio or a training bucket.\n\n{PICTURES_HELP}\n\n\b\nExamples:\n"
    "  pixlstash edit crop 12 --box 10,4,40,40\n  pixlstash edit crop where --aspect 1:1 --in-set Best\n"
    "  pixlstash edit crop 12,14 --bucket 1024\n  pixlstash edit crop 12 --clear"
)


@edit_group.command("revert", cls=SectionedCommand)
@library_option
@picture_selection
@click.pass_obj
def revert(pm, library_path, pictures, where) -> int:
    return _change(library_path, pm, pictures, where, EditChange(revert=True), "reverted to the original")


revert.help = f"Show pictures as their originals again (`pixlstash undo` brings the edit back).\n\n{PICTURES_HELP}"


@edit_group.command("show")
@library_option
@click.argument("picture", type=int)
@json_option
@click.pass_obj
def show(pm, library_path, picture, as_json) -> int:
    """Say how a picture is edited: turn, mirror, straighten, crop, and its size as shown."""
    with open_library(library_path, pm) as library:
        p = library.get(picture)
    if as_json:
        print_json(
            {
                "id": p.id,
                "edit": p.edit,
                "width": p.width,
                "height": p.height,
                "original_width": p.original_width,
                "original_height": p.original_height,
            }
        )
        return 0
    print(
        f"picture {p.id}: {_described(p.edit)}; shown {p.width}x{p.height} "
        f"(original {p.original_width}x{p.original_height})"
    )
    return 0


def _described(edit: PictureEdit | None) -> str:
    if edit is None:
        return "not edited"
    parts = []
    if edit.angle:
        parts.append(f"straightened {edit.angle:+g}°")
    if edit.crop:
        x, y, w, h = edit.crop
        parts.append(f"cropped to {w}x{h} at {x},{y}")
    if edit.flip:
        parts.append("mirrored")
    if edit.rotate:
        parts.append(f"turned {edit.rotate}° clockwise")
    return ", ".join(parts)
