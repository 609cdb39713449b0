"""A real uvicorn server on 127.0.0.1 (in a background thread) over a library made by the test."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from pixlstash.instance import InstanceOptions
from pixlstash.library import Library
from pixlstash_web import create_app
from pixlstash_web.app import WebSettings
from pixlstash_web.server import uvicorn_options
from pixlstash_web.state import AppState


class LiveServer:
    def __init__(
        self,
        library: Library,
        settings: WebSettings | None = None,
        forwarded_allow_ips: str | None = None,
        head_timeout: float = 10.0,
    ) -> None:
        self.library = library
        self.app = create_app(
            library,
            settings
            or WebSettings(sse_heartbeat=0.5, services=InstanceOptions(watch_folders=False, snapshot_schedule=False)),
        )
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        # The options `pixlstash serve` runs with, so tests see what users get.
        options = {**uvicorn_options(forwarded_allow_ips, head_timeout), "timeout_graceful_shutdown": 1}
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on", **options)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()

    @property
    def state(self) -> AppState:
        """The app's lifespan state, as its handlers get it."""
        return self.server.lifespan.state["pixlstash"]

    def token(self, scope: str = "admin") -> str:
        return self.state.auth.create_token(f"test-{scope}", scope).secret

    def client(self, token: str | None = None, **kwargs) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)


def make_pictures(library: Library, folder: Path, count: int, seed: int = 0) -> list[int]:
    from corpus import photo

    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        photo(120 + n, 90, seed=seed * 1000 + n).save(folder / f"{seed}-{n}.png")
    report = library.import_paths([folder])
    return sorted(i.picture_id for i in report.imported)
