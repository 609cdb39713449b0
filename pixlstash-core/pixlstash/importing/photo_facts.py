"""What photo software said of a picture (``PhotoMetadata`` from its XMP and IPTC-IIM), written into the
library: at import, and again when a reference file's ``.xmp`` sidecar changes. Keywords become tags
whose source is "xmp", so a later reading replaces them and leaves a person's own tags alone."""

from __future__ import annotations

from ..db.pictures import PictureStore
from ..db.tags import TagStore
from ..domain import PhotoMetadata
from ..errors import BadInput

__all__ = ["XMP_SOURCE", "apply_photo_metadata"]

XMP_SOURCE = "xmp"  # the source of the tags and the caption photo software's metadata gave


def apply_photo_metadata(
    tags: TagStore, pictures: PictureStore, picture_id: int, photo: PhotoMetadata, now: int, notes: list[str]
) -> None:
    """Inside the caller's write transaction: its keywords and colour label as tags (those an earlier
    reading gave and this one does not are taken off), its stars as the rating, a rejection as the flag,
    its description (else its title) as the caption from "xmp" (none: that caption goes)."""
    wanted = []
    for name in [*photo.keywords, *([f"label/{photo.label.lower()}"] if photo.label else [])]:
        try:
            wanted.append(tags.ensure(name))
        except BadInput as error:
            notes.append(f"its keyword {name[:60]!r} was left out: {error}")
    tags.remove_from_pictures([picture_id], [t for t in tags.from_source(picture_id, XMP_SOURCE) if t not in wanted])
    tags.add_to_pictures([picture_id], wanted, source=XMP_SOURCE)
    fields = {"rating": photo.rating} if photo.rating else {}
    if photo.rejected:
        fields["flagged"] = 1
    if photo.digital_source_type:
        fields["digital_source_type"] = photo.digital_source_type
    if fields:
        pictures.update([picture_id], **fields)
    pictures.set_caption(picture_id, XMP_SOURCE, photo.description or photo.title, None, now)
