"""A real OpenAI-compatible server for the tests: ``transformers serve`` (Hugging Face's own server for the
OpenAI chat-completions API) on a tiny random-weight LLaVA the tests build, on 127.0.0.1; and a recording
proxy that can stand in front of it to see what a client sends and to fail on purpose."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

__all__ = ["RecordingProxy", "free_port", "transformers_serve"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def transformers_serve(model_folder: Path, home: Path, timeout: float = 900.0):
    """``transformers serve MODEL`` on a free loopback port, offline; yields its base URL (``.../v1``). It is
    waited for until it answers or ends; the ceiling is far above a start on a loaded 2-core machine."""
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(home), "TRANSFORMERS_VERBOSITY": "error"}
    log = (home / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "transformers.cli.transformers", "serve", str(model_folder), "--host", "127.0.0.1",
         "--port", str(port), "--device", "cpu"],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise AssertionError(f"transformers serve ended: {(home / 'serve.log').read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"{base}/models", timeout=2).read()
                break
            except urllib.error.HTTPError:  # it answers (its model list may fail without a hub cache)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise AssertionError("transformers serve did not start") from None
                time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


class RecordingProxy:
    """Forwards every request to ``target`` (a base URL), after answering the first ``fail_first`` chat
    requests with ``fail_status``; keeps each request's method, path, headers and body, and the most in flight."""

    def __init__(self, target: str, fail_first: int = 0, fail_status: int = 503) -> None:
        self.target, self.fail_first, self.fail_status = target.rstrip("/"), fail_first, fail_status
        self.requests: list[tuple[str, str, dict, bytes]] = []
        self.in_flight = self.most_in_flight = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy._lock:
                    proxy.requests.append((self.command, self.path, dict(self.headers), body))
                    chats = sum(r[1].endswith("/chat/completions") for r in proxy.requests)
                    failing = self.path.endswith("/chat/completions") and chats <= proxy.fail_first
                    proxy.in_flight += 1
                    proxy.most_in_flight = max(proxy.most_in_flight, proxy.in_flight)
                try:
                    if failing:
                        status, answer = proxy.fail_status, b'{"error": {"message": "busy, try later"}}'
                    else:
                        path = self.path.removeprefix("/v1")
                        request = urllib.request.Request(
                            proxy.target + path, data=body or None, method=self.command,
                            headers={"Content-Type": "application/json"},
                        )  # fmt: skip
                        try:
                            with urllib.request.urlopen(request, timeout=120) as response:
                                status, answer = response.status, response.read()
                        except urllib.error.HTTPError as error:
                            status, answer = error.code, error.read()
                finally:
                    with proxy._lock:
                        proxy.in_flight -= 1
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = _forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
