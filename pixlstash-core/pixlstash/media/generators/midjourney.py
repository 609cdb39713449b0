"""Midjourney: the command a picture was made with, in one text that ends ``Job ID: <uuid>``:
``a red fox in snow --ar 3:2 --v 6.1 --no trees --seed 42 Job ID: 0b0c...``. The website's PNG downloads
keep it in a ``Description`` text chunk, with the account in ``Author``; its JPEG and WebP downloads keep
it in the XMP's ``dc:description`` (``media/xmp.py`` hands it over, with ``dc:creator``). The prompt is
what comes before the first parameter; ``--no`` is the negative, ``--v``/``--niji`` the model."""

from __future__ import annotations

import re

from ...domain import Generation
from .fields import exact_seed, string

__all__ = ["midjourney"]

_JOB_ID = re.compile(r"Job ID:\s{0,8}[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_PARAMETER = re.compile(r"(?:^|\s)--([a-zA-Z]+)\b")


def _parameters(command: str) -> tuple[str, dict[str, str]]:
    """The prompt, and each ``--name value`` after it (a flag such as ``--tile`` has the value "")."""
    marks = list(_PARAMETER.finditer(command))
    if not marks:
        return command.strip(), {}
    found: dict[str, str] = {}
    for mark, after in zip(marks, [*marks[1:], None], strict=True):
        end = after.start() if after is not None else len(command)
        found.setdefault(mark.group(1).lower(), command[mark.end() : end].strip())
    return command[: marks[0].start()].strip(), found


def _model(found: dict[str, str]) -> str:
    """Its model as Midjourney names it: "Midjourney v6.1", "Niji 6" (its anime model)."""
    if "niji" in found:
        return f"Niji {found['niji']}".strip()
    version = found.get("v") or found.get("version")
    return f"Midjourney v{version}" if version else "Midjourney"


def midjourney(description: str | None, author: str | None) -> Generation | None:
    """The generation data in ``description`` when it is a Midjourney command (its Job ID ends it);
    ``author`` is the Midjourney account, kept with the raw text so a search finds it."""
    described = string(description)
    at = described.rfind("Job ID:") if described else -1
    if described is None or at < 0 or not _JOB_ID.fullmatch(described[at:].rstrip()):
        return None
    prompt, found = _parameters(described[:at])
    account = string((author or "").strip())
    return Generation(
        tool="midjourney",
        positive=prompt,
        negative=found.get("no", ""),
        checkpoint=_model(found),
        seed=exact_seed(found.get("seed")),
        raw_parameters=f"{described}\nAuthor: {account}" if account else described,
    )
