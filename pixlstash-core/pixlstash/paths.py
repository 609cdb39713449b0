"""Where a library lives when the user does not say: ``--library``, then ``PIXLSTASH_LIBRARY``, then per-user."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__all__ = ["LIBRARY_ENV", "default_library_path", "resolve_library_path"]

LIBRARY_ENV = "PIXLSTASH_LIBRARY"


def default_library_path() -> Path:
    """The per-user data folder's library (``~/.local/share/pixlstash/library`` on Linux)."""
    return platformdirs.user_data_path("pixlstash", appauthor=False) / "library"


def resolve_library_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The library folder to use: the explicit path, else ``$PIXLSTASH_LIBRARY``, else the per-user default."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    from_env = os.environ.get(LIBRARY_ENV)
    if from_env:
        return Path(from_env).expanduser().resolve()
    return default_library_path()
