"""What every generator's reader shares: numbers and seeds read leniently, texts within a size, LoRAs
named in a prompt. Nothing here raises on bad input: a field that cannot be read is None."""

from __future__ import annotations

import json
import re

from ...domain import Lora

__all__ = [
    "A1111_PAIR",
    "LORA_IN_PROMPT",
    "MAX_CHUNK",
    "exact_seed",
    "json_object",
    "loras_from_prompt",
    "number",
    "string",
    "text",
]

MAX_CHUNK = 8 << 20  # a generation chunk larger than this is not metadata we keep
LORA_IN_PROMPT = re.compile(r"<lora:([^:>]+)(?::([-\d.]+))?[^>]*>")
# "Key: value" pairs of A1111's last line; values may be quoted and contain commas.
A1111_PAIR = re.compile(r'\s*([\w ./+-]+):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')


_INT64 = 2**63
_SEED = re.compile(r"\s*-?\d{1,100}\s*")


def number(value: object, kind: type) -> int | float | None:
    """A count or a setting as ``kind``; None when it is not one, or an integer past 64 bits."""
    if isinstance(value, bool):
        return None
    try:
        converted = kind(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return None if kind is int and not -_INT64 <= converted < _INT64 else converted


def exact_seed(value: object) -> str | None:
    """A seed as exact decimal text: ComfyUI's reach 2^64 - 1 and A1111 writes any integer."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and _SEED.fullmatch(value):
        return str(int(value))
    return None


def loras_from_prompt(prompt: str) -> list[Lora]:
    return [Lora(name.strip(), number(weight, float)) for name, weight in LORA_IN_PROMPT.findall(prompt)]


def text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str) or len(value) > MAX_CHUNK:
        return None
    return value


def json_object(value: object) -> dict | None:
    """``value`` parsed as a JSON object (a dict), else None."""
    raw = text(value)
    if raw is None or not raw.lstrip().startswith("{"):
        return None
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def string(value: object) -> str | None:
    """``value`` when it is a non-empty string within the size limit (JSON fields can be anything)."""
    return value if isinstance(value, str) and value and len(value) <= MAX_CHUNK else None
