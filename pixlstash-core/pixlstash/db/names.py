"""Names people give things (tags, projects, sets, characters), cleaned one way everywhere, and whether a
name is taken among what the account in force sees."""

from __future__ import annotations

import re

from ..errors import BadInput
from .database import Database
from .visibility import collection_visible_sql, project_visible_sql

__all__ = ["clean_name", "taken_collection_name", "taken_project_name"]

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


def taken_collection_name(
    db: Database, kind: str, project_id: int | None, name: str, exclude: int | None = None
) -> int | None:
    """The set or character of ``kind`` named ``name`` (in any case) in that project (None: outside
    projects) that the account in force sees, other than ``exclude``. A private one of someone else's is not
    there to be taken: nothing tells of it (the table has no UNIQUE since schema 25, for that)."""
    return db.scalar(
        "SELECT id FROM collections WHERE kind = ? AND project_id IS ? AND name = ? COLLATE NOCASE AND id IS NOT ? "
        f"AND {collection_visible_sql('collections')}",
        (kind, project_id, name.strip(), exclude),
    )


def taken_project_name(db: Database, name: str, exclude: int | None = None) -> int | None:
    """The project named ``name`` (in any case) that the account in force sees, other than ``exclude``."""
    return db.scalar(
        f"SELECT id FROM projects WHERE name = ? COLLATE NOCASE AND id IS NOT ? AND {project_visible_sql()}",
        (name.strip(), exclude),
    )
