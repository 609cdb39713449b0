"""One picture changed as a person changes it in the viewer (rating, flags, date, caption, tags, predicted
tags accepted or rejected, filed under a character, its look): one step of the undo history, labelled with
what it did. The API's ``PATCH /pictures/{id}`` comes here, so every caller behaves the same."""

from __future__ import annotations

import msgspec
from msgspec import UNSET

from ..domain import PictureChange
from ..history.labels import picture_edit_label
from ..history.undo import Edits

__all__ = ["change_picture"]

_FIELDS = ("rating", "favourite", "flagged", "taken_at")


def change_picture(edits: Edits, picture_id: int, change: PictureChange) -> None:
    edits.pictures.require([picture_id])
    if change.edit is not UNSET and msgspec.structs.replace(change, edit=UNSET) == PictureChange():
        edits.change_look([picture_id], change.edit)  # its own step, with its own label
        return
    fields = {name: getattr(change, name) for name in _FIELDS if getattr(change, name) is not UNSET}
    accept = [*change.accept_predictions, *change.accept_as_characters]
    label = picture_edit_label(
        picture_id,
        fields,
        caption=change.caption or None,
        caption_changed=change.caption is not UNSET,
        accepted_caption=change.accept_caption or None,
        add_tags=change.add_tags,
        remove_tags=change.remove_tags,
        accepted=accept,
        rejected=change.reject_predictions,
        characters=change.accept_as_characters,
    )
    with edits.step(label):
        if fields:
            edits.set_fields([picture_id], **fields)
        if change.caption is not UNSET:
            edits.caption(picture_id, change.caption)
        if change.accept_caption is not UNSET:
            edits.accept_caption(picture_id, change.accept_caption)
        if change.add_tags or change.remove_tags:
            edits.tag([picture_id], add=change.add_tags, remove=change.remove_tags)
        if change.edit is not UNSET:
            edits.change_look([picture_id], change.edit)
        if accept or change.reject_predictions:
            edits.review_predictions(picture_id, accept=accept, reject=change.reject_predictions)
        for name in change.accept_as_characters:
            edits.file_under_character(name, [picture_id])
