"""Where a library lives when the user does not say: ``--library``, then ``PIXLSTASH_LIBRARY``, then per-user."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__all__ = ["LIBRARY_ENV", "MODELS_ENV", "default_library_path", "models_dir", "resolve_library_path"]

LIBRARY_ENV = "PIXLSTASH_LIBRARY"
MODELS_ENV = "PIXLSTASH_MODELS_DIR"


def models_dir() -> Path:
    """Where engines look for model files copied by hand: ``$PIXLSTASH_MODELS_DIR``, else the per-user folder
    (``~/.local/share/pixlstash/models`` on Linux). Each plugin uses a subfolder named after it."""
    from_env = os.environ.get(MODELS_ENV)
    if from_env:
        return Path(from_env).expanduser().resolve()
    return platformdirs.user_data_path("pixlstash", appauthor=False) / "models"


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
