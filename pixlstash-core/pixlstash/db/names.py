"""Names people give things (tags, projects, sets, characters), cleaned one way everywhere."""

from __future__ import annotations

import re

from ..errors import BadInput

__all__ = ["clean_name"]

# C0 and C1 controls, DEL: invisible, and NUL breaks text handling in C libraries and terminals alike.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_name(name: str, what: str, max_length: int = 200) -> str:
    """``name`` trimmed, inner whitespace collapsed; ``BadInput`` when empty, too long or holding a
    control character (``what`` says what it names: "a tag", "a name")."""
    if _CONTROL.search(str(name)):
        raise BadInput(f"{what} cannot contain control characters")
    clean = " ".join(str(name).split())
    if not clean:
        raise BadInput(f"{what} cannot be empty")
    if len(clean) > max_length:
        raise BadInput(f"{what} is at most {max_length} characters")
    return clean
