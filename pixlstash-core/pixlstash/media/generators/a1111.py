"""A1111 and the tools that write its scheme: the ``parameters`` text of a PNG, or a JPEG or WebP's EXIF
UserComment: the prompt, ``Negative prompt: ...``, then one line of ``Key: value`` pairs.

Forks name themselves in that line: Forge by its version (``Version: f2.0.1v1.10.1-...``, or ``neo``),
reForge by its own (``Version: f1.7.0-v1.10.1RC-...``), SD.Next by ``App: SD.Next``; Civitai's on-site
generator adds ``Civitai resources: [...]`` (a JSON list of the checkpoint, LoRAs and embeddings it used, by
name and version id) and ``Civitai metadata: {...}``, values with commas that the pair pattern cannot split,
so they are read as JSON first."""

from __future__ import annotations

import json
import re

from ...domain import Generation, Lora
from .fields import A1111_PAIR, exact_seed, loras_from_prompt, number, string

__all__ = ["looks_like_a1111", "parse_a1111"]

_JSON_VALUES = re.compile(r"(?:^|,)\s*(Civitai resources|Civitai metadata):\s*(?=[\[{])")
_FORGE_VERSION = re.compile(r"^(?:f\d|neo)")
# reForge names its version as Forge did, then the A1111 release it follows after a hyphen
# (modules/launch_utils.py: "f" + "1.7.0-v1.10.1RC" + "-" + git describe); Forge writes "f2.0.1v1.10.1-...".
_REFORGE_VERSION = re.compile(r"^f\d[\w.]*-v\d+\.\d+\.\d+RC")


def looks_like_a1111(text: str) -> bool:
    return "Steps:" in text or "Negative prompt:" in text


def _json_values(line: str) -> tuple[str, dict[str, object]]:
    """The settings line without its JSON values, and those values by key (Civitai's resources)."""
    found: dict[str, object] = {}
    decoder = json.JSONDecoder()
    while match := _JSON_VALUES.search(line):
        try:
            value, end = decoder.raw_decode(line, match.end())
        except (ValueError, RecursionError):
            break
        found[match.group(1)] = value
        line = line[: match.start()] + line[end:]
    return line, found


def _civitai_resources(value: object) -> tuple[str | None, list[Lora]]:
    """(the checkpoint, the LoRAs with weights) of Civitai's resource list; a resource without a name is
    named by its version id, as Civitai's own links do."""
    checkpoint, loras = None, []
    for resource in value if isinstance(value, list) else []:
        if not isinstance(resource, dict):
            continue
        kind = str(resource.get("type", "")).lower()
        name = string(resource.get("modelName"))
        version = string(resource.get("modelVersionName")) or string(resource.get("versionName"))
        version_id = number(resource.get("modelVersionId"), int)
        label = f"{name} ({version})" if name and version else name or (f"civitai:{version_id}" if version_id else None)
        if label is None:
            continue
        if kind == "checkpoint" and checkpoint is None:
            checkpoint = label
        elif kind in ("lora", "locon", "lycoris", "dora"):
            loras.append(Lora(label, number(resource.get("weight", resource.get("strength")), float)))
    return checkpoint, loras


def _tool(settings: dict[str, str], civitai: dict[str, object]) -> str:
    if "Civitai resources" in civitai or "Civitai metadata" in civitai:
        return "civitai"
    if settings.get("App") == "SD.Next":
        return "sdnext"
    if _REFORGE_VERSION.match(settings.get("Version", "")):
        return "reforge"
    if _FORGE_VERSION.match(settings.get("Version", "")):
        return "forge"
    return "a1111"


def parse_a1111(text: str) -> Generation:
    """Parse A1111/Forge ``parameters``: prompt, ``Negative prompt:`` and the ``Steps: ...`` line."""
    lines = text.strip().split("\n")
    settings: dict[str, str] = {}
    civitai: dict[str, object] = {}
    if lines and re.match(r"^\s*Steps:\s", lines[-1]):
        line, civitai = _json_values(lines.pop())
        for key, value in A1111_PAIR.findall(line):
            settings[key.strip()] = value.strip().strip('"')
    positive_lines: list[str] = []
    negative_lines: list[str] = []
    target = positive_lines
    for line in lines:
        if line.startswith("Negative prompt:"):
            target = negative_lines
            line = line[len("Negative prompt:") :].lstrip()
        target.append(line)
    positive = "\n".join(positive_lines).strip()
    loras = loras_from_prompt(positive)
    named = {lora.name for lora in loras}
    for item in settings.get("Lora hashes", "").split(","):
        name = item.split(":")[0].strip()
        if name and name not in named:
            loras.append(Lora(name))
    checkpoint, resources = _civitai_resources(civitai.get("Civitai resources"))
    if resources and not loras:  # Civitai names them in its list, not in the prompt
        loras = resources
    return Generation(
        tool=_tool(settings, civitai),
        positive=positive,
        negative="\n".join(negative_lines).strip(),
        checkpoint=settings.get("Model") or checkpoint or settings.get("Model hash"),
        loras=loras,
        seed=exact_seed(settings.get("Seed")),
        sampler=settings.get("Sampler"),
        scheduler=settings.get("Schedule type"),
        steps=number(settings.get("Steps"), int),
        cfg=number(settings.get("CFG scale"), float),
        guidance=number(settings.get("Distilled CFG Scale"), float),  # Forge's, for Flux
        raw_parameters=text,
    )
