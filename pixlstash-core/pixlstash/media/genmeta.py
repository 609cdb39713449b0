"""Generation metadata that AI images and videos carry, from whichever generator made them: ComfyUI
(PNG, WebP, video containers), A1111 / Forge / SD.Next / Civitai, SwarmUI, InvokeAI, NovelAI, Fooocus and
Easy Diffusion. Each generator's layout is read by its own module in ``generators/``; this one finds which
applies.

Parsing is best effort and never raises: a malformed chunk yields what could be read, or nothing, and the
raw text is kept either way, so nothing is lost when a format changes.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..domain import Generation
from .generators.a1111 import looks_like_a1111, parse_a1111
from .generators.comfyui import from_video_tags, parse_comfyui
from .generators.easydiffusion import is_easydiffusion, parse_easydiffusion
from .generators.fields import json_object, text
from .generators.fooocus import is_fooocus, parse_fooocus
from .generators.invokeai import parse_invokeai, parse_invokeai_legacy
from .generators.novelai import is_novelai, parse_novelai
from .generators.swarmui import is_swarmui, parse_swarmui

__all__ = ["from_video_tags", "parse_a1111", "parse_comfyui", "read_generation"]


def read_generation(
    info: Mapping[str, object],
    exif_fields: Mapping[str, object],
    user_comment: str | None,
    exif_scheme: str | None = None,
    notes: list[str] | None = None,
) -> Generation | None:
    """Find generation metadata in an image's text chunks (``image.info``) or EXIF (its fields, UserComment
    and the short scheme name Fooocus writes in MakerNote)."""
    if is_easydiffusion(info):  # its plain-text "prompt" chunk is not ComfyUI's graph
        return parse_easydiffusion(info, _settings_text(info))
    prompt, workflow = text(info.get("prompt")), text(info.get("workflow"))
    # ComfyUI's WebP writer puts "workflow:{...}" and "prompt:{...}" in EXIF Make and Model.
    for field in ("make", "model"):
        value = exif_fields.get(field)
        if isinstance(value, str):
            if value.startswith("prompt:"):
                prompt = prompt or value[len("prompt:") :]
            elif value.startswith("workflow:"):
                workflow = workflow or value[len("workflow:") :]
    if prompt or workflow:
        return parse_comfyui(prompt, workflow, notes)
    if (invoke := json_object(info.get("invokeai_metadata"))) is not None:
        return parse_invokeai(invoke, text(info.get("invokeai_metadata")) or "", text(info.get("invokeai_graph")))
    if (legacy := json_object(info.get("sd-metadata"))) is not None:
        return parse_invokeai_legacy(legacy, text(info.get("sd-metadata")) or "")
    if is_novelai(info):
        return parse_novelai(info)
    parameters = text(info.get("parameters")) or user_comment
    if not parameters:
        return None
    document = json_object(parameters)
    if document is not None:
        if is_easydiffusion(document):
            return parse_easydiffusion(document, parameters)
        if is_swarmui(document):
            return parse_swarmui(document, parameters)
        scheme = text(info.get("fooocus_scheme")) or exif_scheme
        if is_fooocus(document, scheme):
            return parse_fooocus(document, parameters)
        return None
    if looks_like_a1111(parameters):
        generation = parse_a1111(parameters)
        if "Version: Fooocus" in parameters or 'Version: "Fooocus' in parameters:  # Fooocus's A1111 scheme
            return Generation(**{**_fields(generation), "tool": "fooocus"})
        return generation
    return None


def _fields(generation: Generation) -> dict:
    return {name: getattr(generation, name) for name in generation.__struct_fields__}


def _settings_text(info: Mapping[str, object]) -> str:
    """A PNG's text chunks as one text, ``key: value`` a line (as Easy Diffusion's own .txt holds them)."""
    return "\n".join(f"{key}: {value}" for key, value in info.items() if isinstance(value, str))
