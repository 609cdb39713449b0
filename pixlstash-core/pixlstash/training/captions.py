"""The text of a training caption file, from what the library knows of a picture and the export's options."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..domain import OWN_CAPTION_SOURCES, Picture
from .options import ExportOptions

__all__ = ["caption_text", "own_caption", "picture_tags"]


def picture_tags(picture: Picture, options: ExportOptions, frequency: Mapping[str, int]) -> dict[str, list[str]]:
    """The picture's tags as the options order and filter them: ``character``, ``general`` (accepted
    tags), ``predicted`` (pending predictions at or above ``min_confidence``), ``all``."""
    excluded = {t.strip().lower() for t in options.exclude_tags}
    weights: dict[str, tuple[bool, float, str]] = {}  # name -> (is character, confidence, source)
    for tag in picture.tags:
        weights[tag.name] = (tag.category == "character", 1.0 if tag.confidence is None else tag.confidence, "tag")
    for prediction in picture.predictions:
        wanted = prediction.state == "pending" and prediction.confidence >= options.min_confidence
        if wanted and prediction.name not in weights:
            weights[prediction.name] = (prediction.category == "character", prediction.confidence, "predicted")
    names = [n for n in weights if n.lower() not in excluded]

    def key(name: str):
        character, confidence, _ = weights[name]
        first = not character if options.character_first else False
        if options.order == "frequency":
            return (first, -frequency.get(name, 0), name)
        if options.order == "name":
            return (first, name)
        return (first, -confidence, name)

    names.sort(key=key)
    spell = (lambda n: n.replace(" ", "_")) if options.underscores else (lambda n: n)
    accepted = [n for n in names if weights[n][2] == "tag"]
    everything = names if options.caption == "predictions" else accepted
    if options.max_tags:
        everything = everything[: options.max_tags]
    return {
        "character": [spell(n) for n in accepted if weights[n][0]],
        "general": [spell(n) for n in accepted if not weights[n][0]],
        "predicted": [spell(n) for n in names if weights[n][2] == "predicted"],
        "all": [spell(n) for n in everything],
    }


def own_caption(picture: Picture) -> str:
    """The picture's own caption (a person's, a sidecar's, photo software's), not an engine's suggestion."""
    return next((c.text for c in picture.captions if c.source in OWN_CAPTION_SOURCES), "")


def caption_text(picture: Picture, options: ExportOptions, frequency: Mapping[str, int]) -> str:
    """What the picture's caption file says."""
    accepted = own_caption(picture)
    tags = picture_tags(picture, options, frequency)
    if options.caption == "template":
        text = options.template.format(
            trigger=options.trigger,
            caption=accepted,
            tags=", ".join(tags["all"]),
            character_tags=", ".join(tags["character"]),
            general_tags=", ".join(tags["general"]),
            predicted_tags=", ".join(tags["predicted"]),
            name=picture.original_name.rsplit(".", 1)[0],
        )
    else:
        tag_text = ", ".join(tags["all"])
        body = {"caption": accepted, "auto": accepted.strip() or tag_text}.get(options.caption, tag_text)
        text = ", ".join(part for part in (options.trigger.strip(), body.strip()) if part)
    return _tidy(text)


def _tidy(text: str) -> str:
    """No empty items left by an empty field: ", , " and leading or trailing separators go."""
    text = re.sub(r"(\s*,\s*)+,", ",", text)
    text = re.sub(r"\s+,", ",", text)
    return text.strip().strip(",").strip()
