"""The opt-in update check: PixlStash's only outbound request, and off until the owner turns it on.

When on, it asks at most once a day (hourly while the newest known release is a high or critical
security fix) and sends nothing but the app version and the installation type, in the URL:
``GET <url>?version=0.1.0&install=pip``. The answer is JSON:
``{"latest": "0.2.0", "severity": "none|low|medium|high|critical", "notes_url": "...", "affected": "<0.2.0"}``
(``affected``: the versions a security fix is for, as the release notes say it; optional).
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import time
import urllib.parse
import urllib.request
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from .. import __version__
from ..db.settings import SettingsStore
from ..errors import BadInput

__all__ = ["DEFAULT_UPDATE_URL", "UpdateChecker", "UpdateSettings", "UpdateStatus", "installation_type"]

log = logging.getLogger(__name__)

DEFAULT_UPDATE_URL = "https://updates.pixlstash.org/v1/check"
DAY_SECONDS = 86_400
URGENT_SECONDS = 3_600
Severity = Literal["none", "low", "medium", "high", "critical"]


class UpdateSettings(msgspec.Struct, frozen=True):
    enabled: bool = False
    url: str = DEFAULT_UPDATE_URL


class UpdateStatus(msgspec.Struct, frozen=True):
    enabled: bool
    current: str
    latest: str | None = None
    severity: Severity | None = None
    update_available: bool = False
    notes_url: str | None = None
    affected: str | None = None  # the versions a security fix is for ("<0.2.0"), as its notes say
    checked_at: int | None = None  # unix seconds
    error: str | None = None


class _Answer(msgspec.Struct):
    latest: Annotated[str, Meta(max_length=40)]
    severity: Severity = "none"
    notes_url: Annotated[str, Meta(max_length=2000, pattern="^https?://")] | None = None
    affected: Annotated[str, Meta(max_length=200)] | None = None


def installation_type() -> Literal["docker", "pip", "other"]:
    """How PixlStash was installed; sent with an update check so advice can fit (pull an image, pip -U)."""
    if os.path.exists("/.dockerenv") or os.environ.get("PIXLSTASH_INSTALL") == "docker":
        return "docker"
    try:
        importlib.metadata.distribution("pixlstash-core")
    except importlib.metadata.PackageNotFoundError:
        return "other"
    return "pip"


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


class UpdateChecker:
    _SETTINGS_KEY, _STATUS_KEY = "update_check", "update_status"

    def __init__(self, settings: SettingsStore, clock=time.time, timeout: float = 10.0) -> None:
        self.store, self.clock, self.timeout = settings, clock, timeout

    def settings(self) -> UpdateSettings:
        return self.store.get(self._SETTINGS_KEY, UpdateSettings, UpdateSettings())

    def configure(self, enabled: bool, url: str | None = None) -> UpdateSettings:
        current = self.settings()
        url = url or current.url
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.query:
            raise BadInput("the update URL must be http(s)://host/path without a query")
        settings = UpdateSettings(enabled=enabled, url=url)
        self.store.put(self._SETTINGS_KEY, settings)
        return settings

    def status(self) -> UpdateStatus:
        status = self.store.get(self._STATUS_KEY, UpdateStatus, UpdateStatus(enabled=False, current=__version__))
        return msgspec.structs.replace(status, enabled=self.settings().enabled, current=__version__)

    def due(self) -> bool:
        settings, status = self.settings(), self.status()
        if not settings.enabled:
            return False
        if status.checked_at is None:
            return True
        urgent = status.update_available and status.severity in ("high", "critical")
        return self.clock() - status.checked_at >= (URGENT_SECONDS if urgent else DAY_SECONDS)

    def check_if_due(self) -> UpdateStatus:
        """Ask the update server when enabled and due; never raises (errors are kept in the status)."""
        if not self.due():
            return self.status()
        settings = self.settings()
        query = urllib.parse.urlencode({"version": __version__, "install": installation_type()})
        now = int(self.clock())
        try:
            request = urllib.request.Request(f"{settings.url}?{query}", headers={"User-Agent": "pixlstash"})
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = msgspec.json.decode(response.read(64 * 1024), type=_Answer)
            status = UpdateStatus(
                enabled=True,
                current=__version__,
                latest=answer.latest,
                severity=answer.severity,
                update_available=_version_tuple(answer.latest) > _version_tuple(__version__),
                notes_url=answer.notes_url,
                affected=answer.affected,
                checked_at=now,
            )
        except (OSError, ValueError, msgspec.DecodeError, json.JSONDecodeError) as error:
            log.info("update check failed: %s", error)
            previous = self.status()
            status = msgspec.structs.replace(previous, checked_at=now, error=f"{type(error).__name__}: {error}")
        self.store.put(self._STATUS_KEY, status)
        return status
