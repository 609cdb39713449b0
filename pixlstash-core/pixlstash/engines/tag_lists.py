"""Tag lists a vision-language model writes (JoyCaption's Danbooru, e621, Rule34 and Booru-like caption
types, or any model asked for comma-separated tags) as tags: split on
commas, namespaces (``character:``, ``artist:`` ...) kept as the tag's category, underscores made spaces
as the WD tagger writes them (emoticons like ``^_^`` kept), duplicates and empty items dropped."""

from __future__ import annotations

import re

from . import TagScore

__all__ = ["NAMESPACES", "parse_tag_list"]

# JoyCaption's namespace prefixes -> the library's tag categories.
NAMESPACES = {
    "artist": "artist",
    "copyright": "copyright",
    "character": "character",
    "meta": "meta",
    "species": "species",
    "lore": "lore",
    "general": "general",
    "rating": "rating",
}
# An emoticon: at most one letter or digit each side of the underscore (^_^, o_o, >_<, 6_9).
_EMOTICON = re.compile(r"^[^\w]*\w?[^\w]*_[^\w]*\w?[^\w]*$")
_MAX_TAG = 200


def parse_tag_list(text: str) -> list[TagScore]:
    """Tags in the order written. A language model gives no confidences: each tag it wrote scores 1.0."""
    seen: set[str] = set()
    tags: list[TagScore] = []
    for raw in re.split(r"[,\n]", text):
        item = raw.strip().strip("`'\"").strip().lower()
        if not item:
            continue
        category = "general"
        prefix, sep, rest = item.partition(":")
        if sep and prefix.strip() in NAMESPACES and rest.strip():
            category, item = NAMESPACES[prefix.strip()], rest.strip()
        name = item if _EMOTICON.match(item) else " ".join(item.replace("_", " ").split())
        if not name or len(name) > _MAX_TAG or name in seen:
            continue
        seen.add(name)
        tags.append(TagScore(name, 1.0, category))
    return tags
