"""Pictures a request names (in its path, query or body) that its caller may not see are as absent as ones
that never were: the same 404, before any handler or cache looks at them. Deny by default: a field is
checked by its name, so a new route that names pictures is covered without a line of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pixlstash.errors import NotFound

if TYPE_CHECKING:
    from .api import RequestContext

__all__ = ["PICTURE_PARAMS", "require_visible_named", "require_visible_path"]

PICTURE_PARAMS = {"picture_id", "face_id", "content_hash"}


def require_visible_path(ctx: RequestContext) -> None:
    """A picture named in the path (or a face on it, or its content) that the caller may not see is as absent
    as one that never was: the same 404, before any handler or cache looks at it."""
    library = ctx.library
    if "picture_id" in ctx.path:
        library.require_pictures([ctx.path["picture_id"]])
    if "face_id" in ctx.path:
        picture_id = library.vectors.face_picture(ctx.path["face_id"])
        if picture_id is None or not library.pictures.existing_ids([picture_id]):
            raise NotFound(f"no face {ctx.path['face_id']}")
    if "content_hash" in ctx.path and library.pictures.id_for_hash(str(ctx.path["content_hash"])) is None:
        raise NotFound("no picture has that content")


def _names_pictures(field: str) -> bool:
    """A query or body field that names pictures by id (``picture_ids``, ``watermark_picture_id``, a selection's
    ``ids``, a stack's ``cover_id``)."""
    return field in ("ids", "cover_id") or field.endswith(("picture_id", "picture_ids"))


def require_visible_named(ctx: RequestContext, parsed: list[Any]) -> None:
    """Pictures a request names by id in its query or body (a selection, a stack's cover, the pictures to
    search like) must be ones the caller may see: otherwise the same 404 as for no such picture, before the
    handler acts on any of them; faces named by id are checked by their pictures. Filters need no check:
    their queries see only what the caller may."""
    named: list[int] = []
    for value in parsed:
        for name in (f for f in getattr(value, "__struct_fields__", ()) if _names_pictures(f)):
            given = getattr(value, name, None)
            if isinstance(given, int) and not isinstance(given, bool):
                named.append(given)
            elif isinstance(given, list):
                named.extend(i for i in given if isinstance(i, int))
        faces = getattr(value, "face_ids", None)
        if isinstance(faces, list) and faces:
            on = ctx.library.vectors.face_pictures(faces)
            if len(on) < len(set(faces)):
                raise NotFound("no such face")
            named.extend(on.values())
    if named:
        ctx.library.require_pictures(named)
