"""A1111 / Forge (and Fooocus's A1111 scheme): the ``parameters`` text of a PNG, or a JPEG or WebP's EXIF
UserComment: the prompt, ``Negative prompt: ...``, then one line of ``Key: value`` pairs."""

from __future__ import annotations

import re

from ...domain import Generation, Lora
from .fields import A1111_PAIR, exact_seed, loras_from_prompt, number

__all__ = ["looks_like_a1111", "parse_a1111"]


def looks_like_a1111(text: str) -> bool:
    return "Steps:" in text or "Negative prompt:" in text


def parse_a1111(text: str) -> Generation:
    """Parse A1111/Forge ``parameters``: prompt, ``Negative prompt:`` and the ``Steps: ...`` line."""
    lines = text.strip().split("\n")
    settings: dict[str, str] = {}
    if lines and re.match(r"^\s*Steps:\s", lines[-1]):
        for key, value in A1111_PAIR.findall(lines.pop()):
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
    return Generation(
        tool="a1111",
        positive=positive,
        negative="\n".join(negative_lines).strip(),
        checkpoint=settings.get("Model") or settings.get("Model hash"),
        loras=loras,
        seed=exact_seed(settings.get("Seed")),
        sampler=settings.get("Sampler"),
        scheduler=settings.get("Schedule type"),
        steps=number(settings.get("Steps"), int),
        cfg=number(settings.get("CFG scale"), float),
        raw_parameters=text,
    )
