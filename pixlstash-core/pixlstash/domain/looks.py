"""How a picture is shown when a person has edited it (turned, mirrored, straightened, cropped), and the
changes that edit it. Re-exported by ``domain``."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

__all__ = ["EditChange", "PictureChange", "PictureEdit"]

# Pixels of a crop box: no picture PixlStash reads is larger (and a number past int64 never reaches SQLite).
Offset = Annotated[int, Meta(ge=0, le=1_000_000)]
Side = Annotated[int, Meta(ge=1, le=1_000_000)]
Fraction = Annotated[float, Meta(ge=0, le=1)]


class PictureEdit(msgspec.Struct, frozen=True, omit_defaults=True, forbid_unknown_fields=True):
    """How a picture is shown, applied to its original turned upright (which never changes): straightened by
    ``angle`` (degrees clockwise, the frame kept and filled), cropped to ``crop`` (x, y, width, height in the
    upright original's pixels), mirrored left to right, then turned ``rotate`` degrees clockwise."""

    rotate: Literal[0, 90, 180, 270] = 0
    flip: bool = False
    angle: Annotated[float, Meta(ge=-45, le=45)] = 0.0
    crop: tuple[Offset, Offset, Side, Side] | None = None


Aspect = Annotated[str, Meta(max_length=24, pattern=r"^(\d{1,5}:\d{1,5}|bucket(:\d{3,5})?)$")]


class EditChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """One change to pictures' edits, said as a person sees the picture (applied in this order: revert,
    set, mirror, turn, straighten, crop, aspect)."""

    revert: bool = False  # back to the original's look
    set: PictureEdit | None = None  # the whole edit at once
    flip: bool = False  # mirror left to right
    rotate: Literal[-270, -180, -90, 0, 90, 180, 270] = 0  # turn further, clockwise
    angle: Annotated[float, Meta(ge=-45, le=45)] | None = None  # straighten to this many degrees
    crop: tuple[Offset, Offset, Side, Side] | None = None  # x, y, w, h: the upright original's pixels
    # (x0, y0, x1, y1) as fractions of the picture as shown without its crop: what a crop tool draws on
    shown_crop: tuple[Fraction, Fraction, Fraction, Fraction] | None = None
    uncrop: bool = False
    # the largest centred crop of W:H (as shown), or "bucket[:RESOLUTION]": the training bucket nearest
    # the picture's shape at that resolution (1024 by default)
    aspect: Aspect | None = None


class PictureChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """What a person changes on one picture at once (the viewer's form, ``PATCH /pictures/{id}``): one step of
    the undo history. Unset fields are left as they are."""

    rating: int | UnsetType = UNSET
    favourite: bool | UnsetType = UNSET
    flagged: bool | UnsetType = UNSET
    taken_at: int | UnsetType = UNSET
    caption: str | UnsetType | None = UNSET
    accept_caption: str | UnsetType = UNSET  # an engine's suggested caption, by engine id, becomes the caption
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    accept_predictions: tuple[str, ...] = ()
    reject_predictions: tuple[str, ...] = ()
    accept_as_characters: tuple[str, ...] = ()  # accepted, and the picture filed under a character of that name
    edit: EditChange | UnsetType = UNSET  # its look
