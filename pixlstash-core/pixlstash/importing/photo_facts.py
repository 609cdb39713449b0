"""What photo software said of a picture (``PhotoMetadata`` from its XMP and IPTC-IIM), written into the
library: at import, and again when a reference file's ``.xmp`` sidecar changes. Keywords become tags
whose source is "xmp", so a later reading replaces them and leaves a person's own tags alone; the people
it names become characters, their face boxes faces of the engine "xmp"."""

from __future__ import annotations

from collections.abc import Sequence

from ..db.collections import CollectionStore
from ..db.pictures import PictureStore
from ..db.tags import TagStore
from ..db.vectors import XMP_FACES, FaceRow, VectorStore
from ..domain import PersonRegion, PhotoMetadata
from ..errors import BadInput

__all__ = ["XMP_SOURCE", "apply_people", "apply_photo_metadata"]

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


def apply_people(
    collections: CollectionStore,
    vectors: VectorStore,
    picture_id: int,
    people: Sequence[PersonRegion],
    size: tuple[int, int],
    now: int,
    notes: list[str],
    private: bool = False,
) -> None:
    """Inside the caller's write transaction: the picture joins the character of each person named (the
    one of that name in any case, as "accept as character" finds it; one made where none is there to be
    seen; private to whoever imports a private picture), and each named face box becomes a face of the
    engine "xmp" named as that character, in place of those an earlier reading gave. A face detector's
    face on the same spot takes the name (``VectorStore.replace_faces``)."""
    width, height = size
    faces, named = [], []
    for person in people:
        try:
            character_id = collections.character_named(person.name)
            if character_id is None:
                character_id = collections.create_collection("character", person.name, None, "", None, now)
                if private:  # a name read from a private picture tells no one else of the person
                    collections.set_private(character_id, True)
        except BadInput as error:
            notes.append(f"its person {person.name[:60]!r} was left out: {error}")
            continue
        collections.add_members(character_id, [picture_id], now)
        if person.box is not None:
            x0, y0, x1, y1 = person.box
            faces.append(FaceRow((x0 * width, y0 * height, x1 * width, y1 * height), 1.0, [], None))
            named.append(character_id)
    _, face_ids = vectors.replace_faces(picture_id, XMP_FACES, "1", faces, now)
    for face_id, character_id in zip(face_ids, named, strict=True):
        vectors.set_face_character(face_id, character_id)
