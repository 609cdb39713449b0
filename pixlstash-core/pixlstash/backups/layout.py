"""The names a backup may hold, checked once for everyone who maps a name to a path.

A backup's manifest is read from a folder or a tar file that anyone may have made, so its names are
untrusted: only names of a backup's own layout are accepted (each database in its fixed place, originals
by content hash, snapshot chunks by hash, thumbnails, watermark images), spelled in plain characters with
no ``..``, no absolute path, no backslash. Every other name makes the whole backup foreign.
"""

from __future__ import annotations

import re

from ..errors import Conflict

__all__ = ["ACCOUNTS", "DATABASES", "ForeignBackup", "check_database_place", "check_name", "original_hash"]

# Each database's place in a library; a backup keeps each under databases/<backup id>/<place>.
DATABASES = ("library.db", "auth.db", "secrets.db", "history.db", "snapshots/catalog.db")
ACCOUNTS = ("auth.db", "secrets.db")  # in a backup only when accounts are asked for

_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")  # no leading dot: no "..", no hidden files
_BACKUP_ID = r"[0-9]{8}T[0-9]{6}-[0-9a-f]{6}"
_HEX64 = r"[0-9a-f]{64}"
_SUFFIX = r"(?:\.[A-Za-z0-9]{1,10})?"
_ORIGINAL = re.compile(rf"^originals/(?P<a>[0-9a-f]{{2}})/(?P<b>[0-9a-f]{{2}})/(?P<hash>{_HEX64}){_SUFFIX}$")
_LAYOUT = (
    re.compile(rf"^databases/{_BACKUP_ID}/(?:library|auth|secrets|history)\.db$"),
    re.compile(rf"^databases/{_BACKUP_ID}/snapshots/catalog\.db$"),
    _ORIGINAL,
    re.compile(rf"^snapshots/chunks/(?P<a>[0-9a-f]{{2}})/(?P<hash>{_HEX64})\.zst$"),
    re.compile(r"^watermarks/[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"),
    re.compile(r"^thumbnails/(?:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}/){0,4}[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"),
)


class ForeignBackup(Conflict):
    """The backup names something outside its own layout: it is refused whole."""


def check_name(name: object) -> str:
    """``name`` when it is a name of a backup's layout; else ``ForeignBackup`` saying which name."""
    if not isinstance(name, str) or not name or len(name) > 512:
        raise ForeignBackup(f"not a PixlStash backup: the manifest names {name!r}, which no backup holds")
    segments = name.split("/")
    if not all(_SEGMENT.match(segment) for segment in segments):
        raise ForeignBackup(f"not a PixlStash backup: the manifest names {name!r}, a path outside a backup's layout")
    for pattern in _LAYOUT:
        match = pattern.match(name)
        if match is None:
            continue
        parts = match.groupdict()
        if "hash" in parts and not parts["hash"].startswith(parts["a"] + (parts.get("b") or "")):
            break  # an original or chunk filed under another hash's folder
        return name
    raise ForeignBackup(f"not a PixlStash backup: the manifest names {name!r}, which no backup holds")


def original_hash(name: str) -> str | None:
    """The content hash an original's name carries (``originals/ab/cd/<hash>.png``); None for other names."""
    match = _ORIGINAL.match(name)
    return match["hash"] if match else None


def check_database_place(place: object, name: object) -> tuple[str, str]:
    """A manifest's ``databases`` entry: a place from the fixed list, kept under the name a backup uses."""
    if place not in DATABASES:
        raise ForeignBackup(f"not a PixlStash backup: its manifest puts a database at {place!r}")
    checked = check_name(name)
    if not checked.startswith("databases/") or not checked.endswith("/" + str(place)):
        raise ForeignBackup(f"not a PixlStash backup: its manifest keeps {place} as {name!r}")
    return str(place), checked
