"""Where the PixlStash server is and the token to use. Never a node widget, so a workflow (or the PNG
that carries it) never holds a token, and never a ComfyUI setting, because ComfyUI serves its settings to
any HTTP client (``GET /settings/<id>``, unauthenticated by design). Each of the two comes from:

1. the environment, ``PIXLSTASH_URL`` and ``PIXLSTASH_TOKEN`` (it wins: containers, tests, --multi-user);
2. ``<ComfyUI user directory>/pixlstash/connection.json``, which the settings dialog (PixlStash) writes
   through the pack's own route and which ComfyUI does not serve (its user data routes serve only
   ``<user directory>/<user id>/``, and no user id is "pixlstash"); only its owner may read it;
3. for the URL only, PixlStash's default address.

A token an earlier version of the pack kept in ComfyUI's settings file is moved to the connection file
the first time the connection is read, and removed from the settings file."""

from __future__ import annotations

import json
import os
import tempfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from .client import Client, PixlStashError

__all__ = ["DEFAULT_URL", "Connection", "connect", "current", "save", "token_hint"]

DEFAULT_URL = "http://127.0.0.1:9537"
LEGACY_URL, LEGACY_TOKEN = "PixlStash.ServerURL", "PixlStash.Token"  # settings ids of pack versions before 0.4


@dataclass(frozen=True)
class Connection:
    url: str
    token: str | None
    url_from: str  # where each came from, in words the settings dialog shows
    token_from: str | None


def connect(timeout: float = 120.0) -> Client:
    """A client for the configured server, or a ``PixlStashError`` saying what to set."""
    connection = current()
    if not connection.token:
        raise PixlStashError(
            "no PixlStash token: create one with `pixlstash token create --scope write` and enter it in ComfyUI's "
            "settings (PixlStash), or set PIXLSTASH_TOKEN"
        )
    return Client(connection.url, connection.token, timeout=timeout)


def current() -> Connection:
    env_url, env_token = os.environ.get("PIXLSTASH_URL"), os.environ.get("PIXLSTASH_TOKEN")
    stored: dict = {}
    if not (env_url and env_token):
        if _multi_user():
            raise PixlStashError(
                "ComfyUI runs with --multi-user, so whose PixlStash token to use cannot be known: set PIXLSTASH_URL "
                "and PIXLSTASH_TOKEN in ComfyUI's environment to share one server for everyone"
            )
        stored = _stored()
    path = str(connection_file()) if stored else None
    url, url_from = (env_url, "PIXLSTASH_URL") if env_url else (stored.get("url"), path)
    if not url:
        url, url_from = DEFAULT_URL, "the default"
    token, token_from = (env_token, "PIXLSTASH_TOKEN") if env_token else (stored.get("token"), path)
    return Connection(str(url), token or None, url_from or "the default", token_from if token else None)


def save(url: str, token: str | None) -> Connection:
    """Store the URL and token the settings dialog sends. A token belongs to the server it was made on:
    a new URL without a new token forgets the old token, so nobody who can reach ComfyUI can send the
    stored token to a server of theirs."""
    if _multi_user():
        raise PixlStashError("ComfyUI runs with --multi-user: set PIXLSTASH_URL and PIXLSTASH_TOKEN instead")
    url = url.strip().rstrip("/")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise PixlStashError(f"the server URL is http(s)://host:port, not {url!r}")
    old = _stored()
    if token is None:
        token = old.get("token") if old.get("url") == url else None
    token = (token or "").strip() or None
    if token is not None and (len(token) > 512 or not token.isprintable() or " " in token):
        raise PixlStashError("that is not a PixlStash token: copy it again from `pixlstash token create`")
    _write({"url": url, **({"token": token} if token else {})})
    return current()


def token_hint(token: str | None) -> str | None:
    """What the dialog shows of a token: enough to tell two apart, never enough to use."""
    return None if not token else f"…{token[-4:]}" if len(token) > 12 else "…"


def connection_file() -> Path:
    return _user_directory() / "pixlstash" / "connection.json"


def _stored() -> dict:
    path = connection_file()
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        stored = {}
    except (OSError, ValueError) as error:
        raise PixlStashError(f"the PixlStash connection file {path} could not be read: {error}") from None
    legacy = _take_legacy_settings()
    if legacy and not stored:
        _write(legacy)
        stored = legacy
    return stored if isinstance(stored, dict) else {}


def _take_legacy_settings() -> dict:
    """The URL and token an older pack kept in ComfyUI's settings, removed from there."""
    path = _user_directory() / "default" / "comfy.settings.json"
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(settings, dict) or LEGACY_TOKEN not in settings:
        return {}
    legacy = {"url": settings.pop(LEGACY_URL, None) or DEFAULT_URL, "token": settings.pop(LEGACY_TOKEN)}
    _replace(path, json.dumps(settings, indent=4), mode=path.stat().st_mode & 0o777)
    return legacy if legacy["token"] else {}


def _write(values: dict) -> None:
    path = connection_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    _replace(path, json.dumps(values), mode=0o600)


def _replace(path: Path, text: str, *, mode: int) -> None:
    """Write ``text`` to ``path`` atomically (a crash leaves the old file or the new one)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".pixlstash-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _user_directory() -> Path:
    try:
        import folder_paths  # ComfyUI's own module
    except ImportError:
        return Path.home() / ".config" / "comfyui-pixlstash"  # outside ComfyUI (scripts, tests)
    return Path(folder_paths.get_user_directory())


def _multi_user() -> bool:
    try:
        from comfy.cli_args import args
    except ImportError:
        return False
    return bool(getattr(args, "multi_user", False))
