"""Where the PixlStash server is and the token to use. Never a node widget, so a workflow (or the PNG
that carries it) never holds a token: the environment (``PIXLSTASH_URL``, ``PIXLSTASH_TOKEN``; it wins,
for containers and tests) or the settings the user fills in ComfyUI's settings dialog (PixlStash), which
ComfyUI keeps in ``<user directory>/default/comfy.settings.json``."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .client import Client, PixlStashError

__all__ = ["DEFAULT_URL", "SETTING_TOKEN", "SETTING_URL", "connect"]

DEFAULT_URL = "http://127.0.0.1:9537"
SETTING_URL = "PixlStash.ServerURL"  # the ids web/pixlstash.js registers
SETTING_TOKEN = "PixlStash.Token"


def connect(timeout: float = 120.0) -> Client:
    """A client for the configured server, or a ``PixlStashError`` saying what to set."""
    url, token = os.environ.get("PIXLSTASH_URL"), os.environ.get("PIXLSTASH_TOKEN")
    if not (url and token):
        settings = _comfy_settings()
        url = url or settings.get(SETTING_URL) or DEFAULT_URL
        token = token or settings.get(SETTING_TOKEN)
    if not token:
        raise PixlStashError(
            "no PixlStash token: create one with `pixlstash token create --scope write` and paste it in ComfyUI's "
            "settings (PixlStash > Token), or set PIXLSTASH_TOKEN"
        )
    return Client(str(url), str(token), timeout=timeout)


def _comfy_settings() -> dict:
    if _multi_user():
        raise PixlStashError(
            "ComfyUI runs with --multi-user, so whose PixlStash token to use cannot be known: set PIXLSTASH_URL "
            "and PIXLSTASH_TOKEN in ComfyUI's environment to share one server for everyone"
        )
    try:
        import folder_paths  # ComfyUI's own module
    except ImportError:
        return {}
    path = Path(folder_paths.get_user_directory()) / "default" / "comfy.settings.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise PixlStashError(f"ComfyUI's settings file {path} could not be read: {error}") from None


def _multi_user() -> bool:
    try:
        from comfy.cli_args import args
    except ImportError:
        return False
    return bool(getattr(args, "multi_user", False))
