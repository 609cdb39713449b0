"""What the nodes share: the custom types passed between them, choices filled from the server, and
pictures fetched from the server as ComfyUI tensors."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

from .client import Client, PixlStashError
from .connection import connect
from .images import BATCH_RULES, batch, decode, empty_batch, nothing

__all__ = [
    "CATEGORY",
    "COLLECTIONS",
    "DEFAULT_ENGINE",
    "PROJECT",
    "SEARCH_OUTPUTS",
    "SEARCH_OUTPUT_NAMES",
    "choices",
    "engine_choices",
    "engine_id",
    "fetch_images",
    "forget_choices",
    "parse_ids",
    "picked_id",
    "restriction",
    "search_outputs",
]

CATEGORY = "PixlStash"
COLLECTIONS = "PIXLSTASH_COLLECTIONS"  # a list of sets and characters: [{"id", "kind", "name"}, ...]
PROJECT = "PIXLSTASH_PROJECT"  # {"id", "name"}
DEFAULT_ENGINE = "default"
SEARCH_OUTPUTS = ("IMAGE", "MASK", "STRING", "STRING")
SEARCH_OUTPUT_NAMES = ("images", "masks", "ids", "scores")

_CACHE_SECONDS = 5.0  # ComfyUI asks every node for its inputs at once: ask the server once
_cache: dict[str, tuple[float, list[str]]] = {}
_PICKED = re.compile(r"#(\d+)$")


def choices(path: str, label) -> list[str]:
    """Combo values from the server (``label(item)`` each), or one value saying why there are none. Read
    when ComfyUI loads its node definitions, so its Refresh fetches them again."""
    now = time.monotonic()
    cached = _cache.get(path)
    if cached and now - cached[0] < _CACHE_SECONDS:
        return cached[1]
    try:
        values = [label(item) for item in connect(timeout=3.0).get(path)] or ["(none yet)"]
    except PixlStashError as error:
        return [f"(PixlStash: {error})"]  # whole (a cut message loses what to do), and not kept
    _cache[path] = (now, values)
    return values


def forget_choices() -> None:
    """Drop the lists read from the server (the connection changed)."""
    _cache.clear()


def engine_choices(task: str) -> list[str]:
    engines = choices("/engines", lambda e: f"{e['task']}|{e['id']}")
    return [DEFAULT_ENGINE] + [e.split("|", 1)[1] for e in engines if e.startswith(f"{task}|")]


def engine_id(choice: str) -> str | None:
    return None if not choice or choice == DEFAULT_ENGINE or choice.startswith("(") else choice


def picked_id(choice: str, what: str) -> int:
    """The id in a picker's value ("Name  #12"), or a clear error when the list could not be filled."""
    match = _PICKED.search(choice or "")
    if not match:
        raise PixlStashError(f"no {what} picked ({choice}): check the server, then press Refresh in ComfyUI")
    return int(match.group(1))


def parse_ids(text: str | None) -> list[int]:
    """Picture ids from text: commas, spaces or new lines between them."""
    ids = []
    for part in re.split(r"[\s,;]+", text or ""):
        if part:
            if not part.isdigit():
                raise PixlStashError(f"picture ids are numbers, not {part!r}")
            ids.append(int(part))
    return ids


def restriction(within: list[dict] | None, project: dict | None) -> dict[str, Any]:
    """A library filter keeping pictures in any of ``within`` (sets, characters) and in ``project``."""
    f: dict[str, Any] = {}
    if within:
        f["collections"] = [c["id"] for c in within]
    if project:
        f["project"] = project["id"]
    return f


def fetch_images(client: Client, pictures: Sequence[dict], edited: bool = True) -> list:
    """Each picture as a Pillow image: as edited in PixlStash (turned, cropped; unless ``edited`` is off),
    else the original (a video's poster frame, as a preview)."""
    images = []
    for picture in pictures:
        if edited and picture.get("edit_key"):
            data = client.request("GET", f"/pictures/{picture['id']}/edited")
        elif picture.get("media_type") == "video":
            data = client.request("GET", f"/media/{picture['content_hash']}/preview.webp")
        else:
            data = client.request("GET", f"/media/{picture['content_hash']}/original")
        images.append(decode(data))
    return images


def search_outputs(client: Client, hits: list[dict], rule: str) -> tuple:
    """(IMAGE, MASK, ids, scores) of search hits, best first."""
    if rule not in BATCH_RULES:
        raise PixlStashError(f"batch rule is one of {', '.join(BATCH_RULES)}")
    if hits:
        images, masks = batch(fetch_images(client, [h["picture"] for h in hits]), rule)
    else:
        images, masks = (nothing(empty) for empty in empty_batch())
    ids = ",".join(str(h["picture"]["id"]) for h in hits)
    scores = ",".join(f"{h['similarity']:.4f}" for h in hits)
    return images, masks, ids, scores
