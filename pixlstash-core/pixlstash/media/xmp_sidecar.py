"""XMP, written: an ``.xmp`` sidecar of what PixlStash knows of a picture, for the photo software beside
it (darktable and digiKam read ``name.ext.xmp``): tags as keywords (``parent/child`` as Lightroom's
``lr:hierarchicalSubject`` and digiKam's ``TagsList``, every level also in ``dc:subject``), a
``label/<colour>`` tag as the colour label, the rating, the caption as the description, and the people in
it: named face boxes as MWG regions (digiKam's, Lightroom's and Picasa's form), every person's name in
IPTC's ``PersonInImage``. Written by exiv2, as digiKam and darktable write theirs; an original is never
touched. A sidecar that is already there (a darktable edit history, Lightroom's develop settings) keeps
everything but these properties (``updated_sidecar``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from ..domain import PersonRegion, Picture
from ..domain.boxes import box_overlap
from .xmp import MAX_XMP, exiv2_session, read_xmp

__all__ = ["SidecarContent", "people_regions", "updated_sidecar", "xmp_sidecar"]

_EMPTY = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/><?xpacket end="w"?>'
)
_LABEL = "label/"
_REGIONS = "Xmp.mwg-rs.Regions"
# The properties PixlStash writes: in a sidecar already there, these are replaced and nothing else.
_OURS = (
    "Xmp.dc.subject",
    "Xmp.lr.hierarchicalSubject",
    "Xmp.digiKam.TagsList",
    "Xmp.xmp.Label",
    "Xmp.xmp.Rating",
    "Xmp.dc.description",
    "Xmp.iptcExt.PersonInImage",
    _REGIONS,
)


class SidecarContent(msgspec.Struct, frozen=True):
    """What a sidecar says of a picture: its tags, stars, own caption, and the people in it with their
    boxes as fractions of the image ``size`` (pixels) the sidecar goes with."""

    tags: Sequence[str]
    rating: int
    description: str
    people: Sequence[PersonRegion] = ()
    size: tuple[int, int] | None = None


def people_regions(picture: Picture, names: Mapping[int, str], *, shown: bool) -> list[PersonRegion]:
    """The people in a picture: each named face (a video's poster frame's) with its box as fractions of the
    picture as shown (``shown``: its look applied) or of its upright original, one region per person and
    spot (two engines' faces on one spot are one), then each character it is in with no face."""
    found: list[PersonRegion] = []
    width, height = (picture.width, picture.height) if shown else (picture.original_width, picture.original_height)
    for face in picture.faces if width > 0 and height > 0 else []:
        name, box = names.get(face.character_id or 0), face.shown_box if shown else face.box
        if name is None or box is None or face.frame != 0:
            continue
        fraction = (box[0] / width, box[1] / height, box[2] / width, box[3] / height)
        if not any(p.name == name and box_overlap(p.box or fraction, fraction) >= 0.5 for p in found):
            found.append(PersonRegion(name, fraction))
    boxed = {p.name for p in found}
    return found + [PersonRegion(names[c]) for c in picture.collections if c in names and names[c] not in boxed]


def _array(key: str, items: Sequence[str], kind: str = "Bag") -> dict[str, object]:
    """An XMP array by exiv2's keys: a list alone would be written as a Seq, and ``dc:subject`` and
    Lightroom's keywords are Bags."""
    found: dict[str, object] = {key: f'type="{kind}"'}
    found.update({f"{key}[{n}]": item for n, item in enumerate(items, 1)})
    return found


def _regions(people: Sequence[PersonRegion], size: tuple[int, int]) -> dict[str, object]:
    """MWG face regions, exiv2's keys: the box's centre, width and height as fractions of the image, and
    the image's size in pixels they apply to."""
    bag = f"{_REGIONS}/mwg-rs:RegionList"
    found: dict[str, object] = {_REGIONS: 'type="Struct"', f"{_REGIONS}/mwg-rs:AppliedToDimensions": 'type="Struct"'}
    for key, value in (("w", size[0]), ("h", size[1]), ("unit", "pixel")):
        found[f"{_REGIONS}/mwg-rs:AppliedToDimensions/stDim:{key}"] = str(value)
    found[bag] = 'type="Bag"'
    for n, person in enumerate((p for p in people if p.box is not None), 1):
        x0, y0, x1, y1 = person.box  # type: ignore[misc]
        item = f"{bag}[{n}]"
        found.update({item: 'type="Struct"', f"{item}/mwg-rs:Name": person.name, f"{item}/mwg-rs:Type": "Face"})
        found[f"{item}/mwg-rs:Area"] = 'type="Struct"'
        area = {"x": (x0 + x1) / 2, "y": (y0 + y1) / 2, "w": x1 - x0, "h": y1 - y0}
        for key, value in area.items():
            found[f"{item}/mwg-rs:Area/stArea:{key}"] = f"{value:.6f}"
        found[f"{item}/mwg-rs:Area/stArea:unit"] = "normalized"
    return found


def _properties(content: SidecarContent) -> dict[str, object]:
    keywords = [tag for tag in content.tags if not tag.lower().startswith(_LABEL)]
    labels = [tag[len(_LABEL) :] for tag in content.tags if tag.lower().startswith(_LABEL)]
    paths = [tag for tag in keywords if "/" in tag.strip("/")]
    levels = [level for tag in keywords for level in tag.split("/") if level.strip()]
    properties: dict[str, object] = {}
    if levels:
        properties.update(_array("Xmp.dc.subject", list(dict.fromkeys(levels))))
    if paths:
        properties.update(_array("Xmp.lr.hierarchicalSubject", [path.replace("/", "|") for path in paths]))
        properties.update(_array("Xmp.digiKam.TagsList", paths, "Seq"))
    if labels:
        properties["Xmp.xmp.Label"] = labels[0].capitalize()  # Lightroom's and darktable's spelling
    if content.rating:
        properties["Xmp.xmp.Rating"] = str(content.rating)
    if content.description:
        properties["Xmp.dc.description"] = {'lang="x-default"': content.description}
    if content.people:
        names = list(dict.fromkeys(person.name for person in content.people))
        properties.update(_array("Xmp.iptcExt.PersonInImage", names))
    if content.size and any(person.box is not None for person in content.people):
        properties.update(_regions(content.people, content.size))
    return properties


def xmp_sidecar(content: SidecarContent) -> bytes:
    """A new sidecar's bytes."""
    properties = _properties(content)
    with exiv2_session() as exiv2, exiv2.ImageData(_EMPTY) as data:
        if properties:
            data.modify_xmp(properties)
        return data.get_bytes()


def _ours(properties: Mapping[str, object]) -> dict[str, object]:
    return {key: value for key, value in properties.items() if key.startswith(_OURS)}


def updated_sidecar(current: bytes, content: SidecarContent) -> bytes | None:
    """``current`` (a sidecar's bytes) saying ``content``, everything else in it kept; None when it says so
    already (nothing to write), or when it is too large or cannot be read (never overwritten then)."""
    if len(current) > MAX_XMP:
        return None
    notes: list[str] = []
    read_xmp(current, notes)
    if notes:
        return None  # a sidecar exiv2 cannot read is photo software's to mend, not ours to replace
    wanted = _properties(content)
    with exiv2_session() as exiv2, exiv2.ImageData(current if current.strip() else _EMPTY) as data:
        said = _ours(data.read_xmp())
        # exiv2 copies a sidecar's properties to EXIF and IPTC-IIM as it reads and back as it writes: a
        # rating, caption or keyword taken off would come back. A sidecar has neither of its own; the copies go.
        data.clear_exif()
        data.clear_iptc()
        if said:
            data.modify_xmp({key: None for key in sorted(said, reverse=True)})  # children first
        if wanted:
            data.modify_xmp(wanted)
        written = data.get_bytes()
        with exiv2.ImageData(written) as again:  # arrays read as lists only once written
            return None if _ours(again.read_xmp()) == said else written
