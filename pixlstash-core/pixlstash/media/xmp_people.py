"""The people photo software names in a picture's XMP: face regions as the Metadata Working Group lays them
out (``mwg-rs:Regions``, written by digiKam, Lightroom Classic, Picasa, ExifToolGUI, Immich's sidecars),
Windows Photo Gallery's older ``MP:RegionInfo`` (digiKam writes both; read where there is no MWG region),
and IPTC's ``Iptc4xmpExt:PersonInImage`` (names without a box).

Boxes are read as fractions of the picture as shown (upright), as digiKam and Lightroom write them: MWG's
``stArea`` gives the centre with the width and height, MP's ``Rectangle`` the top left corner with them.
Anything out of range, unnamed, or not a face is left out; at most ``MAX_PEOPLE`` are kept."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..domain import PersonRegion
from .generators.fields import number

__all__ = ["MAX_PEOPLE", "people_in"]

MAX_PEOPLE = 100  # a crowd photo tagged by hand has dozens; a packet that claims thousands is not read further
_MWG = "Xmp.mwg-rs.Regions/mwg-rs:RegionList"
_MP = "Xmp.MP.RegionInfo/MPRI:Regions"
_ITEM = re.compile(r"\[(\d{1,6})\]/")


def _items(xmp: Mapping[str, object], bag: str) -> dict[int, dict[str, str]]:
    """A bag of structures by index: {1: {"mwg-rs:Name": "Ana", "mwg-rs:Area/stArea:x": "0.25", ...}}."""
    found: dict[int, dict[str, str]] = {}
    for key, value in xmp.items():
        if not key.startswith(bag) or not isinstance(value, str):
            continue
        item = _ITEM.match(key, len(bag))
        if item is None:
            continue
        index = int(item.group(1))
        if index not in found and len(found) >= MAX_PEOPLE:
            continue
        found.setdefault(index, {})[key[item.end() :]] = value
    return dict(sorted(found.items()))


def _name(value: str | None) -> str | None:
    name = " ".join((value or "").split())
    return name[:200] if name else None


def _box(x: object, y: object, w: object, h: object, centred: bool) -> tuple[float, float, float, float] | None:
    """(x0, y0, x1, y1) as fractions, from a region's position and size; None when it is not inside 0-1."""
    values = [number(v, float) for v in (x, y, w, h)]
    if any(v is None or not 0 <= v <= 1 for v in values):
        return None
    left, top, width, height = values  # type: ignore[misc]
    if centred:
        left, top = left - width / 2, top - height / 2
    box = (left, top, left + width, top + height)
    if width <= 0 or height <= 0 or min(box) < -1e-6 or max(box) > 1 + 1e-6:
        return None
    return tuple(round(min(max(v, 0.0), 1.0), 6) for v in box)  # type: ignore[return-value]


def _mwg(xmp: Mapping[str, object]) -> list[PersonRegion]:
    found = []
    for fields in _items(xmp, _MWG).values():
        name = _name(fields.get("mwg-rs:Name"))
        if name is None or fields.get("mwg-rs:Type", "Face") != "Face":  # pets, focus areas, barcodes
            continue
        if fields.get("mwg-rs:Area/stArea:unit", "normalized") != "normalized":
            continue
        area = [fields.get(f"mwg-rs:Area/stArea:{k}") for k in "xywh"]
        found.append(PersonRegion(name, _box(*area, centred=True)))
    return found


def _mp(xmp: Mapping[str, object]) -> list[PersonRegion]:
    found = []
    for fields in _items(xmp, _MP).values():
        name = _name(fields.get("MPReg:PersonDisplayName"))
        if name is None or name == "ffffffffffffffff":  # Photo Gallery's "ignored" face
            continue
        rectangle = (fields.get("MPReg:Rectangle") or "").split(",")
        found.append(PersonRegion(name, _box(*rectangle, centred=False) if len(rectangle) == 4 else None))
    return found


def people_in(xmp: Mapping[str, object]) -> list[PersonRegion]:
    """The people the XMP names: each face region with its box (MWG's, else MP's), then each name of
    ``PersonInImage`` that no region has, without a box."""
    regions = _mwg(xmp) or _mp(xmp)
    boxed = {person.name.casefold() for person in regions}
    listed = xmp.get("Xmp.iptcExt.PersonInImage")
    names = listed if isinstance(listed, list) else [listed] if isinstance(listed, str) else []
    for value in names[:MAX_PEOPLE]:
        name = _name(value) if isinstance(value, str) else None
        if name is not None and name.casefold() not in boxed:
            boxed.add(name.casefold())
            regions.append(PersonRegion(name))
    return regions[:MAX_PEOPLE]
