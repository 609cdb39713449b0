"""Real reverse proxies on this machine in front of a server, as self-hosters put them: nginx with its
plainest `proxy_pass` (no forwarding headers, HTTP/1.0 upstream) and Caddy's `reverse_proxy` (which adds
X-Forwarded-*). Each listens on a free loopback port and runs until the block ends."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
from conftest import wait_for
from serve_process import free_port

PROXIES = ("nginx", "caddy")


def _nginx(folder: Path, port: int, upstream: int) -> list[str]:
    user = "user root root;\n" if os.geteuid() == 0 else ""  # the workers must reach the temp folders
    temp = "\n".join(
        f"  {kind}_temp_path {folder}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (folder / "nginx.conf").write_text(
        f"""{user}worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{}}
http {{
  access_log off;
{temp}
  server {{
    listen 127.0.0.1:{port};
    location / {{ proxy_pass http://127.0.0.1:{upstream}; }}
  }}
}}
"""
    )
    return ["nginx", "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"]


def _caddy(folder: Path, port: int, upstream: int) -> list[str]:
    (folder / "Caddyfile").write_text(
        f"""{{
  admin off
  auto_https off
}}
http://127.0.0.1:{port} {{
  reverse_proxy 127.0.0.1:{upstream}
}}
"""
    )
    return ["caddy", "run", "--config", str(folder / "Caddyfile"), "--adapter", "caddyfile"]


@contextlib.contextmanager
def reverse_proxy(kind: str, folder: Path, upstream: int) -> Iterator[str]:
    """``kind`` (nginx or caddy) passing 127.0.0.1:<its port> to 127.0.0.1:``upstream``; yields its URL."""
    if shutil.which(kind) is None:
        raise AssertionError(f"{kind} is not installed: scripts/setup --dev installs it")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = (_nginx if kind == "nginx" else _caddy)(folder, port, upstream)
    env = {**os.environ, "HOME": str(folder), "XDG_DATA_HOME": str(folder), "XDG_CONFIG_HOME": str(folder)}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        assert process.poll() is None, f"{kind} stopped: {process.stderr.read()[-2000:]}"
        try:
            return httpx.get(f"{url}/api/v1/version", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(answers, f"{kind} to pass requests on")
        yield url
    finally:
        process.terminate()
        process.wait(30)
