"""What a running app shares between requests: its settings and the library's running instance, handed
to every request as typed lifespan state (``request.state.pixlstash``)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, TypedDict

import anyio
import msgspec

from pixlstash.auth import Authenticator
from pixlstash.comfy.runner import ComfyRunner
from pixlstash.engines.model_pulls import ModelPulls
from pixlstash.enrichment import EnrichmentWorker
from pixlstash.instance import Instance, InstanceOptions
from pixlstash.library import Library
from pixlstash.sharing.service import ShareService
from pixlstash.sign_in.oidc import OidcSignIn
from pixlstash.snapshots import SnapshotService
from pixlstash.system.updates import UpdateChecker

from .decode_slots import DecodeSlots
from .exports import ExportTickets
from .first_run import SetupCode, first_run
from .stream_slots import StreamSlots

if TYPE_CHECKING:
    from .oidc_client import OidcClient

__all__ = ["AppState", "LifespanState", "WebSettings"]


class WebSettings(msgspec.Struct, frozen=True):
    max_upload_file_bytes: int = 2 << 30
    max_upload_request_bytes: int = 8 << 30
    secure_cookies: bool = False  # set under TLS: session cookies get the Secure flag
    sse_heartbeat: float = 15.0
    share_streams_per_link: int = 20  # live update streams one share link may hold open
    share_streams_per_address: int = 40  # ... and one client address, over all links
    decodes_per_credential: int = 2  # originals decoded at once for one token, session or share recipient
    worker_threads: int = max(4, 4 * (os.cpu_count() or 1))
    public_url: str | None = None  # how others reach this server (share links); default: where it listens
    password_checks: int = 2  # password hashes computed at once (each takes a core and 32 MiB)
    # (name, password file) of an owner to create at start when there is none (unattended installs)
    owner_from_file: tuple[str, str] | None = None
    services: InstanceOptions = InstanceOptions()  # the library's long-lived services (the core runs them)


class AppState:
    """The shared objects of one running app (the lifespan state ``pixlstash``, never globals): the
    library's running instance, and what only the web needs."""

    def __init__(self, instance: Instance, settings: WebSettings) -> None:
        self.instance: Instance = instance
        self.settings: WebSettings = settings
        self.library: Library = instance.library
        self.auth: Authenticator = instance.auth
        self.shares: ShareService = instance.shares
        self.updates: UpdateChecker = instance.updates
        self.snapshots: SnapshotService = instance.snapshots
        self.worker: EnrichmentWorker | None = instance.worker
        self.oidc = OidcSignIn(self.auth, self.library.secrets)
        self.oidc_client: OidcClient | None = None  # made at the first sign-in (Authlib loads then)
        self.password_checks = anyio.CapacityLimiter(settings.password_checks)
        self.exports = ExportTickets()
        self.share_streams = StreamSlots(settings.share_streams_per_link, settings.share_streams_per_address)
        self.share_stream_checks = anyio.CapacityLimiter(1)  # scope checks of all share streams, one at a time
        self.decodes = DecodeSlots(settings.decodes_per_credential)
        # First-run setup from another machine needs this code, printed in the log (first_run.py).
        self.setup_code: SetupCode | None = first_run(self.auth, settings.owner_from_file)
        self.comfy_runner = ComfyRunner(self.library.comfy, self.library.events)
        self.comfy_runner.wake()  # runs queued or left running before this start are worked at once
        # "Get model" in the browser: downloads a person asked for; then the on-import work that waited for it
        self.model_pulls = ModelPulls(on_ready=lambda _engine: self.library.enrichment.queue_missing())

    def close(self) -> None:
        self.comfy_runner.stop()


class LifespanState(TypedDict):
    pixlstash: AppState
