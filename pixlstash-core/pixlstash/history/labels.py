"""What an undo step says it did, as the History panel lists it ("Tag dusk on picture 40")."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["fields_label", "look_label", "picture_edit_label", "pictures_phrase", "review_label"]

_FIELD_WORDS = {"favourite": ("Favourite", "Unfavourite"), "flagged": ("Flag", "Unflag")}
_NAMES_SHOWN = 3  # a longer list of tags says how many more


def pictures_phrase(count: int) -> str:
    """ "1 picture", "1,000 pictures"."""
    return f"{count:,} picture{'' if count == 1 else 's'}"


def fields_label(field: str, value: object, count: int) -> str:
    said = pictures_phrase(count)
    if field == "rating":
        return f"Rate {said} {'★' * int(value)}" if value else f"Clear the rating of {said}"
    if field in _FIELD_WORDS:
        return f"{_FIELD_WORDS[field][0 if value else 1]} {said}"
    return f"Change the date of {said}"


def look_label(change: object, changed: Sequence[Sequence]) -> str:
    """ "Turn right: picture 40", "Mirror and crop: 3 pictures", "Revert picture 40 to its original";
    ``changed``: [picture id, edit] of the pictures changed."""
    count = len(changed)
    said = f"picture {changed[0][0]}" if count == 1 else pictures_phrase(count)
    if getattr(change, "revert", False):
        return f"Revert {said} to {'its original' if count == 1 else 'their originals'}"
    turn = getattr(change, "rotate", 0)
    actions = [
        word
        for word, done in (
            ("edit", getattr(change, "set", None) is not None),
            ("mirror", getattr(change, "flip", False)),
            ({90: "turn right", -270: "turn right", -90: "turn left", 270: "turn left"}.get(turn, "turn"), turn),
            ("straighten", getattr(change, "angle", None) is not None),
            ("crop", any(getattr(change, name, None) for name in ("crop", "shown_crop", "aspect"))),
            ("uncrop", getattr(change, "uncrop", False)),
        )
        if done
    ] or ["edit"]
    return f"{' and '.join(actions).capitalize()}: {said}"


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_NAMES_SHOWN])
    return shown if len(names) <= _NAMES_SHOWN else f"{shown} and {len(names) - _NAMES_SHOWN} more"


def picture_edit_label(
    picture_id: int,
    fields: dict[str, object],
    *,
    caption: str | None = None,
    caption_changed: bool = False,
    accepted_caption: str | None = None,
    add_tags: Sequence[str] = (),
    remove_tags: Sequence[str] = (),
    accepted: Sequence[str] = (),
    rejected: Sequence[str] = (),
    characters: Sequence[str] = (),
) -> str:
    """One picture's edit from the viewer, saying what changed: "Tag dusk on picture 40", "Rate ★★★ and
    caption picture 40"."""
    parts = []
    if add_tags:
        parts.append(f"tag {_names(add_tags)}")
    if remove_tags:
        parts.append(f"untag {_names(remove_tags)}")
    if accepted:
        parts.append(f"accept {_names(accepted)}")
    if rejected:
        parts.append(f"reject {_names(rejected)}")
    if characters:
        parts.append(f"file under {_names(characters)}")
    if caption_changed:
        parts.append("caption" if caption else "clear the caption of")
    if accepted_caption:
        parts.append(f"take {accepted_caption}'s caption for")
    for field, value in fields.items():
        if field == "rating":
            parts.append(f"rate {'★' * int(value)}" if value else "clear the rating of")
        elif field in _FIELD_WORDS:
            parts.append(_FIELD_WORDS[field][0 if value else 1].lower())
        else:
            parts.append("change the date of")
    if not parts:
        return f"Edit picture {picture_id}"
    said = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
    # Tags and ratings read "... on picture 40"; the rest name the picture as their object.
    joint = " on" if parts[-1].startswith(("tag ", "untag ", "rate ", "accept ", "reject ")) else ""
    if parts[-1].startswith("file under "):
        return f"{said[0].upper()}{said[1:]}: picture {picture_id}"
    return f"{said[0].upper()}{said[1:]}{joint} picture {picture_id}"


def review_label(picture_id: int, accepted: Sequence[str], rejected: Sequence[str]) -> str:
    """ "Accept dusk and reject cat on picture 40"."""
    return picture_edit_label(picture_id, {}, accepted=accepted, rejected=rejected)
