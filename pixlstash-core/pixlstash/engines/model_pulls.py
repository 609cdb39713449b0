"""Fetching an engine's model files, only ever because a person asked (``pixlstash models pull``, or "Get
model" in the browser): the one place PixlStash downloads them. A pull started from the web runs in the
background, one per engine, and says how far it got (bytes in the model's folder) and how it ended."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import msgspec

from ..errors import BadInput, Conflict, PixlstashError
from ..system.clock import now_ms
from .base import Engine, hub_endpoint

__all__ = ["ModelPull", "ModelPulls", "can_download", "fetch_file", "pull_model", "source_unreachable"]


def fetch_file(url: str, target: Path) -> None:
    """Download ``url`` to ``target``: into a hidden ``.part`` file beside it, renamed when whole, so a
    failed or stopped download leaves nothing a model could be mistaken for. For plugins' ``download``."""
    import shutil
    import tempfile
    import urllib.request  # only a download needs it, not every CLI start

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            shutil.copyfileobj(response, out, 1 << 20)
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


class ModelPull(msgspec.Struct, frozen=True):
    """One engine's pull: running, done or failed, with the bytes its model folder holds so far."""

    engine_id: str
    state: Literal["running", "done", "failed"]
    message: str = ""
    bytes_so_far: int = 0
    location: str = ""
    started_at: int = 0
    finished_at: int | None = None


def source_unreachable(engine: Engine) -> str | None:
    """Why the place ``engine`` downloads from cannot be reached, found at once (no retries), or None."""
    source = engine.download_source()
    if source == hub_endpoint() and os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        return "HF_HUB_OFFLINE is set"
    address = urlsplit(source)
    host = address.hostname or source
    port = address.port or (80 if address.scheme == "http" else 443)
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as error:
        return f"{host} cannot be reached: {error.strerror or error}"
    return None


def can_download(engine: Engine) -> bool:
    return engine.__class__.download is not Engine.download  # __class__: a stand-in passes on its engine's


def pull_model(engine: Engine) -> str:
    """Download one engine's model files; returns where they are. Raises ``PixlstashError`` with one line
    (no network: where to copy the files instead; the hub's own error, first line)."""
    if not can_download(engine):
        raise BadInput(f"{engine.id} has no model files to download")
    unreachable = source_unreachable(engine)
    if unreachable:
        where = engine.model_status().location or "?"
        raise PixlstashError(f"no network ({unreachable}): copy the model files of {engine.id} to {where} instead")
    try:
        return str(engine.download())
    except PixlstashError:
        raise
    except Exception as error:  # the hub client's own errors, in one line
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise PixlstashError(f"pulling {engine.id} failed: {type(error).__name__}: {first}") from error


def _folder_bytes(location: str) -> int:
    path = Path(location) if location else None
    if path is None or not path.exists():
        return 0
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


class ModelPulls:
    """Pulls in the background, one thread per engine; their states for the browser to follow."""

    def __init__(self, on_ready: Callable[[Engine], object] | None = None) -> None:
        self._lock = threading.Lock()
        self._pulls: dict[str, ModelPull] = {}
        self._on_ready = on_ready  # the work that waited for the model (pictures imported before it came)

    def start(self, engine: Engine) -> ModelPull:
        if not can_download(engine):
            raise BadInput(f"{engine.id} has no model files to download")
        with self._lock:
            current = self._pulls.get(engine.id)
            if current is not None and current.state == "running":
                raise Conflict(f"{engine.id}'s model is being pulled already")
            pull = ModelPull(engine.id, "running", location=engine.model_status().location, started_at=now_ms())
            self._pulls[engine.id] = pull
        threading.Thread(target=self._run, args=(engine,), name=f"pull {engine.id}", daemon=True).start()
        return pull

    def _run(self, engine: Engine) -> None:
        try:
            where = pull_model(engine)
            ended = {"state": "done", "message": f"saved to {where}", "location": where}
            if self._on_ready is not None:
                self._on_ready(engine)
        except PixlstashError as error:
            ended = {"state": "failed", "message": str(error)}
        except Exception as error:  # never a silent end: the browser shows why
            ended = {"state": "failed", "message": f"{type(error).__name__}: {error}"}
        with self._lock:
            pull = self._pulls[engine.id]
            ended.setdefault("location", pull.location)
            self._pulls[engine.id] = msgspec.structs.replace(
                pull, bytes_so_far=_folder_bytes(ended["location"]), finished_at=now_ms(), **ended
            )

    def all(self) -> list[ModelPull]:
        """Every pull of this process, those running with their bytes so far."""
        with self._lock:
            pulls = list(self._pulls.values())
        return [
            msgspec.structs.replace(p, bytes_so_far=_folder_bytes(p.location)) if p.state == "running" else p
            for p in pulls
        ]
