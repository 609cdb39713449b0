"""Search nodes: Likeness Search (pictures like images, pictures, sets and characters, by picture
likeness or by faces), Semantic Search (pictures matching a text) and Likeness Gate (an IMAGE batch split
into accepted and rejected by likeness to references, for curation inside a generation loop)."""

from __future__ import annotations

import io
import json
import random

from .client import PixlStashError
from .common import (
    CATEGORY,
    COLLECTIONS,
    PROJECT,
    SEARCH_OUTPUT_NAMES,
    SEARCH_OUTPUTS,
    engine_choices,
    engine_id,
    parse_ids,
    restriction,
    search_outputs,
)
from .connection import connect
from .images import BATCH_RULES, empty_batch, nothing, pictures_of

__all__ = ["LikenessGate", "LikenessSearch", "SemanticSearch"]

MODES = ["picture_likeness", "face_search"]
_MAX_REFERENCE_IMAGES = 16  # the server's limits
_MAX_SCORED_PER_REQUEST = 64


def _png(image) -> tuple[str, bytes, str]:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return ("reference.png", out.getvalue(), "image/png")


def _engines() -> list[str]:
    return sorted(set(engine_choices("embedder")) | set(engine_choices("faces")), key=lambda e: (e != "default", e))


def _pool(hits: list[dict], sample: int, seed: int) -> list[dict]:
    """``sample`` hits drawn at random from the pool (kept in rank order), or all of them."""
    if sample <= 0 or sample >= len(hits):
        return hits
    chosen = set(random.Random(seed).sample(range(len(hits)), sample))
    return [hit for n, hit in enumerate(hits) if n in chosen]


def _references(picture_ids: str, references: list[dict] | None) -> dict:
    return {"picture_ids": parse_ids(picture_ids), "collection_ids": [c["id"] for c in references or []]}


class LikenessSearch:
    """Library pictures most like a mix of references, best first."""

    CATEGORY = f"{CATEGORY}/search"
    RETURN_TYPES = SEARCH_OUTPUTS
    RETURN_NAMES = SEARCH_OUTPUT_NAMES
    FUNCTION = "search"
    DESCRIPTION = (
        "Pictures from your PixlStash library most like the references: an IMAGE batch, picture ids, sets "
        "and characters, combined by mean (like them on average) or min (like every one). picture_likeness "
        "compares whole pictures, face_search compares faces."
    )

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "mode": (MODES, {"default": "picture_likeness"}),
                "combine": (["mean", "min"], {"default": "mean"}),
                "threshold": ("FLOAT", {"default": 0.0, "min": -1.0, "max": 1.0, "step": 0.01}),
                "limit": ("INT", {"default": 8, "min": 1, "max": 1000}),
                "sample": (
                    "INT",
                    {
                        "default": 0,
                        "min": 0,
                        "max": 1000,
                        "tooltip": "draw this many at random from the results (0: all)",
                    },
                ),
                "seed": ("INT", {"default": 0, "min": 0, "max": 0xFFFFFFFFFFFFFFFF, "control_after_generate": False}),
                "engine": (_engines(), {"default": "default"}),
                "batch_rule": (BATCH_RULES, {"default": "pad to largest"}),
            },
            "optional": {
                "images": ("IMAGE",),
                "picture_ids": ("STRING", {"default": "", "tooltip": "picture ids, comma separated"}),
                "references": (COLLECTIONS,),
                "within": (COLLECTIONS, {"tooltip": "only pictures in these sets or characters"}),
                "project": (PROJECT, {"tooltip": "only pictures in this project"}),
            },
        }

    @classmethod
    def IS_CHANGED(cls, **_):
        return float("nan")  # the library changes between runs: always search again

    def search(
        self,
        mode,
        combine,
        threshold,
        limit,
        sample,
        seed,
        engine,
        batch_rule,
        images=None,
        picture_ids="",
        references=None,
        within=None,
        project=None,
    ):
        fields = {
            "mode": mode,
            "combine": combine,
            "threshold": threshold,
            "limit": limit,
            **_references(picture_ids, references),
        }
        if engine_id(engine):
            fields["engine"] = engine_id(engine)
        scope = restriction(within, project)
        if scope:
            fields["filter"] = scope
        client = connect()
        uploads = [] if images is None else pictures_of(images)
        if len(uploads) > _MAX_REFERENCE_IMAGES:
            raise PixlStashError(f"at most {_MAX_REFERENCE_IMAGES} reference images; this batch has {len(uploads)}")
        if not uploads and not fields["picture_ids"] and not fields["collection_ids"]:
            raise PixlStashError("give the search something to compare with: images, picture ids or references")
        if uploads:
            form = {
                k: json.dumps(v) if k == "filter" else ",".join(map(str, v)) if isinstance(v, list) else str(v)
                for k, v in fields.items()
            }
            result = client.post_files("/search/likeness", form, [("file", _png(i)) for i in uploads])
        else:
            result = client.post("/search/likeness", fields)
        return search_outputs(client, _pool(result["hits"], sample, seed), batch_rule)


class SemanticSearch:
    """Library pictures matching a text, best first."""

    CATEGORY = f"{CATEGORY}/search"
    RETURN_TYPES = SEARCH_OUTPUTS
    RETURN_NAMES = SEARCH_OUTPUT_NAMES
    FUNCTION = "search"
    DESCRIPTION = "Pictures from your PixlStash library matching a text, ranked by relevance."

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "text": ("STRING", {"default": "", "multiline": True}),
                "threshold": ("FLOAT", {"default": 0.0, "min": -1.0, "max": 1.0, "step": 0.01}),
                "limit": ("INT", {"default": 8, "min": 1, "max": 1000}),
                "engine": (engine_choices("embedder"), {"default": "default"}),
                "batch_rule": (BATCH_RULES, {"default": "pad to largest"}),
            },
            "optional": {"within": (COLLECTIONS,), "project": (PROJECT,)},
        }

    @classmethod
    def IS_CHANGED(cls, **_):
        return float("nan")

    def search(self, text, threshold, limit, engine, batch_rule, within=None, project=None):
        if not text.strip():
            raise PixlStashError("the search text is empty")
        client = connect()
        params = {"q": text, "threshold": threshold, "limit": limit, "engine": engine_id(engine)}
        params.update(restriction(within, project))
        result = client.get("/search/semantic", params)
        return search_outputs(client, result["hits"], batch_rule)


class LikenessGate:
    """An IMAGE batch split by likeness to references: those at least ``threshold`` alike pass."""

    CATEGORY = f"{CATEGORY}/curation"
    RETURN_TYPES = ("IMAGE", "IMAGE", "STRING", "INT")
    RETURN_NAMES = ("accepted", "rejected", "scores", "accepted_count")
    FUNCTION = "gate"
    DESCRIPTION = (
        "Splits generated images into accepted and rejected by how alike they are to a character's faces "
        "(face_search) or a set's pictures (picture_likeness). An image without a face is rejected in "
        "face_search mode. Nothing is stored."
    )

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "images": ("IMAGE",),
                "references": (COLLECTIONS,),
                "mode": (MODES, {"default": "face_search"}),
                "combine": (["mean", "min"], {"default": "mean"}),
                "threshold": ("FLOAT", {"default": 0.5, "min": -1.0, "max": 1.0, "step": 0.01}),
                "engine": (_engines(), {"default": "default"}),
            },
            "optional": {"picture_ids": ("STRING", {"default": ""})},
        }

    def gate(self, images, references, mode, combine, threshold, engine, picture_ids=""):
        client = connect()
        fields = {k: ",".join(map(str, v)) for k, v in _references(picture_ids, references).items()}
        fields.update(mode=mode, combine=combine)
        if engine_id(engine):
            fields["engine"] = engine_id(engine)
        scores: list[float | None] = []
        pictures = pictures_of(images)
        for start in range(0, len(pictures), _MAX_SCORED_PER_REQUEST):
            chunk = pictures[start : start + _MAX_SCORED_PER_REQUEST]
            result = client.post_files("/search/likeness/score", fields, [("file", _png(i)) for i in chunk])
            scores.extend(result["scores"])
        passed = [n for n, s in enumerate(scores) if s is not None and s >= threshold]
        failed = [n for n in range(len(scores)) if n not in set(passed)]
        accepted = images[passed] if passed else nothing(empty_batch()[0])
        rejected = images[failed] if failed else nothing(empty_batch()[0])
        text = ",".join("none" if s is None else f"{s:.4f}" for s in scores)
        return accepted, rejected, text, len(passed)
