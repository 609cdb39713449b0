"""XMP, written: an ``.xmp`` sidecar of what PixlStash knows of a picture, for the photo software beside
it (darktable and digiKam read ``name.ext.xmp``): tags as keywords (``parent/child`` as Lightroom's
``lr:hierarchicalSubject`` and digiKam's ``TagsList``, every level also in ``dc:subject``), a
``label/<colour>`` tag as the colour label, the rating, the caption as the description, and the people in
it: named face boxes as MWG regions (digiKam's, Lightroom's and Picasa's form), every person's name in
IPTC's ``PersonInImage``. Written by exiv2, as digiKam and darktable write theirs; an original is never
touched."""

from __future__ import annotations

from collections.abc import Sequence

from ..domain import PersonRegion
from .xmp import exiv2_session

__all__ = ["xmp_sidecar"]

_EMPTY = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/><?xpacket end="w"?>'
)
_LABEL = "label/"


def _regions(people: Sequence[PersonRegion], size: tuple[int, int]) -> dict[str, object]:
    """MWG face regions, exiv2's keys: the box's centre, width and height as fractions of the image, and
    the image's size in pixels they apply to."""
    regions, bag = "Xmp.mwg-rs.Regions", "Xmp.mwg-rs.Regions/mwg-rs:RegionList"
    found: dict[str, object] = {regions: 'type="Struct"', f"{regions}/mwg-rs:AppliedToDimensions": 'type="Struct"'}
    for key, value in (("w", size[0]), ("h", size[1]), ("unit", "pixel")):
        found[f"{regions}/mwg-rs:AppliedToDimensions/stDim:{key}"] = str(value)
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


def xmp_sidecar(
    tags: Sequence[str],
    rating: int,
    description: str,
    people: Sequence[PersonRegion] = (),
    size: tuple[int, int] | None = None,
) -> bytes:
    """The sidecar's bytes; ``size`` is the image's, in pixels, that the people's boxes are fractions of."""
    keywords = [tag for tag in tags if not tag.lower().startswith(_LABEL)]
    labels = [tag[len(_LABEL) :] for tag in tags if tag.lower().startswith(_LABEL)]
    paths = [tag for tag in keywords if "/" in tag.strip("/")]
    levels = [level for tag in keywords for level in tag.split("/") if level.strip()]
    properties: dict[str, object] = {}
    if levels:
        properties["Xmp.dc.subject"] = list(dict.fromkeys(levels))
    if paths:
        properties["Xmp.lr.hierarchicalSubject"] = [path.replace("/", "|") for path in paths]
        properties["Xmp.digiKam.TagsList"] = paths
    if labels:
        properties["Xmp.xmp.Label"] = labels[0].capitalize()  # Lightroom's and darktable's spelling
    if rating:
        properties["Xmp.xmp.Rating"] = str(rating)
    if description:
        properties["Xmp.dc.description"] = {'lang="x-default"': description}
    if people:
        properties["Xmp.iptcExt.PersonInImage"] = list(dict.fromkeys(person.name for person in people))
    if size and any(person.box is not None for person in people):
        properties.update(_regions(people, size))
    with exiv2_session() as exiv2, exiv2.ImageData(_EMPTY) as data:
        if properties:
            data.modify_xmp(properties)
        return data.get_bytes()
