"""XMP, written: an ``.xmp`` sidecar of what PixlStash knows of a picture, for the photo software beside
it (darktable and digiKam read ``name.ext.xmp``): tags as keywords (``parent/child`` as Lightroom's
``lr:hierarchicalSubject`` and digiKam's ``TagsList``, every level also in ``dc:subject``), a
``label/<colour>`` tag as the colour label, the rating, the caption as the description. Written by exiv2,
as digiKam and darktable write theirs; an original is never touched."""

from __future__ import annotations

from collections.abc import Sequence

from .xmp import exiv2_session

__all__ = ["xmp_sidecar"]

_EMPTY = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/><?xpacket end="w"?>'
)
_LABEL = "label/"


def xmp_sidecar(tags: Sequence[str], rating: int, description: str) -> bytes:
    """The sidecar's bytes."""
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
    with exiv2_session() as exiv2, exiv2.ImageData(_EMPTY) as data:
        if properties:
            data.modify_xmp(properties)
        return data.get_bytes()
