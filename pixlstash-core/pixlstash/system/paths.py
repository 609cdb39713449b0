"""Where a library lives when the user does not say: ``--library``, then ``PIXLSTASH_LIBRARY``, then per-user."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import platformdirs

__all__ = [
    "LIBRARY_ENV",
    "MODELS_ENV",
    "default_library_path",
    "hub_cache_dir",
    "hub_snapshot",
    "inside",
    "models_dir",
    "resolve_library_path",
]

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


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache, as ``huggingface_hub`` resolves it (without importing it), where other
    tools may already have left a model."""
    # huggingface_hub's order: HF_HUB_CACHE, then the older HUGGINGFACE_HUB_CACHE many still set, then HF_HOME.
    for variable in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(variable):
            return Path(os.environ[variable]).expanduser()
    home = os.environ.get("HF_HOME") or Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")) / "huggingface"
    return Path(home).expanduser() / "hub"


def hub_snapshot(repo: str, complete: Callable[[Path], bool]) -> Path | None:
    """The cached snapshot of ``repo`` that its ``main`` points at, when ``complete`` says it holds the model."""
    base = hub_cache_dir() / f"models--{repo.replace('/', '--')}"
    try:
        revision = (base / "refs" / "main").read_text().strip()
    except OSError:
        return None
    snapshot = base / "snapshots" / revision
    return snapshot if complete(snapshot) else None


def inside(path: Path, root: Path) -> Path | None:
    """``path`` with every link resolved, when that lies inside ``root``; else None (also when it does
    not exist). A link planted in a watched folder must not reach outside it: one to ``auth.db`` was
    served to a share recipient as a picture."""
    try:
        real = Path(os.path.realpath(path, strict=True))
    except (OSError, RuntimeError):  # missing, or a loop of links
        return None
    real_root = Path(os.path.realpath(root))
    return real if real_root in real.parents else None
