"""A real ComfyUI (the source in ../shared/reference/ComfyUI, in its own venv) started once per test
session on a free loopback port with ``--cpu``, with the node pack in its custom_nodes folder, and driven
over its own HTTP API: ``/object_info``, ``/prompt`` and ``/history``, and the pack's routes."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import httpx
from consumer_venv import CONSUMERS, REPO, consumer_python, reference

__all__ = ["PACK", "ComfyRunError", "RealComfyUI"]

PACK = REPO / "comfyui-pixlstash"
_START_SECONDS = 240  # about 15 s here once its venv exists; the first start also builds the venv


class ComfyRunError(AssertionError):
    """A graph ComfyUI refused (validation) or whose execution failed, with ComfyUI's own words."""


class RealComfyUI:
    def __init__(self, base: Path, *, with_pack: bool = True) -> None:
        self.base = base  # ComfyUI's --base-directory: custom_nodes, input, output, temp, user
        self.with_pack = with_pack  # False: a ComfyUI whose owner has not installed our nodes
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.log = base / "comfyui.log"

    def start(self) -> RealComfyUI:
        source = reference("ComfyUI")
        python = consumer_python("comfyui", CONSUMERS / "comfyui-requirements.txt")
        for folder in ("custom_nodes", "input", "output", "temp", "user"):
            (self.base / folder).mkdir(parents=True, exist_ok=True)
        if self.with_pack:
            (self.base / "custom_nodes" / PACK.name).symlink_to(PACK, target_is_directory=True)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        # The pack reads its connection from the file the settings dialog writes, as for a user.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}
        argv = [
            str(python), "main.py", "--cpu", "--listen", "127.0.0.1", "--port", str(port),
            "--base-directory", str(self.base), "--database-url", "sqlite:///:memory:", "--disable-auto-launch",
        ]  # fmt: skip
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(argv, cwd=source, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + _START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ComfyUI exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/system_stats", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"ComfyUI did not answer within {_START_SECONDS} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def get(self, path: str, **params) -> httpx.Response:
        return httpx.get(self.url + path, params=params, timeout=30)

    def post(self, path: str, body) -> httpx.Response:
        return httpx.post(self.url + path, json=body, timeout=60)

    def connect_pack(self, url: str, token: str | None) -> dict:
        """What a person does in the settings dialog: the URL and token, saved through the pack's route."""
        response = self.post("/pixlstash/connection", {"url": url, "token": token})
        assert response.status_code == 200, response.text
        return response.json()

    def add_input(self, name: str, source: Path) -> None:
        shutil.copyfile(source, self.base / "input" / name)

    def run(self, graph: dict, workflow: dict | None = None, timeout: float = 120) -> dict:
        """Queue an API graph as ComfyUI's frontend does and wait for its history entry; a refused or
        failed graph raises ``ComfyRunError`` with ComfyUI's message."""
        body = {
            "prompt": graph,
            "client_id": uuid.uuid4().hex,
            "extra_data": {"extra_pnginfo": {"workflow": workflow or {}}},
        }
        queued = self.post("/prompt", body)
        if queued.status_code != 200:
            raise ComfyRunError(f"ComfyUI refused the graph ({queued.status_code}): {queued.text}")
        prompt_id = queued.json()["prompt_id"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            entry = self.get(f"/history/{prompt_id}").json().get(prompt_id)
            if entry and entry.get("status", {}).get("completed") is not None:
                if entry["status"]["status_str"] != "success":
                    raise ComfyRunError(_failure(entry) + "\n" + self.log_tail(20))
                return entry
            time.sleep(0.2)
        raise ComfyRunError(f"the graph did not finish within {timeout} s:\n{self.log_tail()}")


def _failure(entry: dict) -> str:
    for kind, message in entry["status"].get("messages", []):
        if kind == "execution_error":
            return f"{message['node_type']} failed: {message['exception_type']}: {message['exception_message']}"
    return f"the graph failed: {entry['status']}"
