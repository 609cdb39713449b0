"""`pixlstash serve` as a person starts it: a child process on a free loopback port, its log collected."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from conftest import REPO, wait_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServeProcess:
    """`pixlstash serve` in a child process, its log collected line by line; ready once uvicorn runs."""

    def __init__(self, library: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environ = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}
        environ.update(env or {})
        command = [sys.executable, "-m", "pixlstash", "serve", "--library", str(library), "--port", str(self.port)]
        self.process = subprocess.Popen(command, env=environ, cwd=REPO, stderr=subprocess.PIPE, text=True)
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        wait_for(self._started, "the server to start")

    def _started(self) -> bool:
        assert self.process.poll() is None, f"the server stopped: {''.join(self.log)[-3000:]}"
        return any("Uvicorn running" in line for line in self.log)

    def _read(self) -> None:
        for line in self.process.stderr:
            self.log.append(line)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(60)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(60)
