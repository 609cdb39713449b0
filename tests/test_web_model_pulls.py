""" "Get model" through the real HTTP API: a pull an admin starts runs in the background and says how far it
got, one at a time per engine; without a network it fails with one line saying where to copy the files
instead; callers who are not admins cannot start one. The engine here fetches its file over real HTTP
from a loopback server that sends it slowly, so the progress is seen while it runs."""

from __future__ import annotations

import http.server
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from pixlstash.engines import Embedder, ModelStatus
from pixlstash.errors import ModelMissing
from pixlstash.hookspecs import hookimpl

MODEL_BYTES = 400_000


class SlowModelServer(http.server.ThreadingHTTPServer):
    """Sends a model file in 20 chunks, 50 ms apart (a download seen in progress)."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), self.Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(MODEL_BYTES))
            self.end_headers()
            chunk = b"\x01" * (MODEL_BYTES // 20)
            for _ in range(20):
                self.wfile.write(chunk)
                self.wfile.flush()
                time.sleep(0.05)

        def log_message(self, *args):
            pass


class FetchedModel(Embedder):
    """An embedder whose model is one file fetched over HTTP by ``download``."""

    id = "fetched/model"
    dimensions = 4

    def __init__(self, folder: Path, url: str) -> None:
        self.folder, self.url = folder, url

    def model_status(self):
        present = (self.folder / "model.bin").exists()
        return ModelStatus("fetched-model", present, str(self.folder), "pixlstash models pull fetched/model")

    def download(self) -> str:
        import urllib.request

        self.folder.mkdir(parents=True, exist_ok=True)
        part = self.folder / "model.bin.part"
        with urllib.request.urlopen(self.url, timeout=10) as response, open(part, "wb") as out:
            while chunk := response.read(8192):
                out.write(chunk)
        part.rename(self.folder / "model.bin")
        return str(self.folder)

    def embed_images(self, images):
        """Mean colour and brightness (what a model would learn does not matter here; that it runs once its
        file arrived does)."""
        if not self.model_status().present:
            raise ModelMissing(f"the model of {self.id} is not on this machine", engine_id=self.id)
        rows = [np.asarray(image.convert("RGB"), dtype=np.float32).reshape(-1, 3).mean(axis=0) for image in images]
        return [
            np.append(row, row.mean()) / max(1e-6, float(np.linalg.norm(np.append(row, row.mean())))) for row in rows
        ]

    def embed_texts(self, texts):
        raise AssertionError("not used here")


def register_engine(plugin_manager, engine: FetchedModel) -> None:
    """Install ``engine`` as a plugin would (its own name, through the plugin hook)."""

    class Plugin:
        @hookimpl
        def register_embedders(self, register):
            register(engine)

    plugin_manager.register(Plugin(), name="fetched")


@pytest.fixture
def model_server():
    server = SlowModelServer()
    server.thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_an_admin_pulls_a_model_in_the_background_and_sees_it_arrive(
    live, plugin_manager, model_server, tmp_path, monkeypatch
):
    host, port = model_server.server_address
    monkeypatch.setenv("HF_ENDPOINT", f"http://{host}:{port}")  # the "hub" is reachable: this loopback server
    engine = FetchedModel(tmp_path / "models" / "fetched", f"http://{host}:{port}/model.bin")

    register_engine(plugin_manager, engine)
    admin = live.client(live.token("admin"))
    info = {e["id"]: e for e in admin.get("/api/v1/engines").json()}["fetched/model"]
    assert info["model"]["present"] is False
    assert (
        live.client(live.token("write")).post("/api/v1/engines/pulls", json={"engine_id": "fetched/model"}).status_code
        == 403
    )
    started = admin.post("/api/v1/engines/pulls", json={"engine_id": "fetched/model"})
    assert started.status_code == 202 and started.json()["state"] == "running"
    again = admin.post("/api/v1/engines/pulls", json={"engine_id": "fetched/model"})
    assert again.status_code == 409 and "already" in again.json()["error"]["message"]
    seen, deadline = [], time.monotonic() + 20
    while time.monotonic() < deadline:
        (pull,) = admin.get("/api/v1/engines/pulls").json()
        seen.append(pull["bytes_so_far"])
        if pull["state"] != "running":
            break
        time.sleep(0.05)
    assert pull["state"] == "done" and pull["message"].startswith("saved to "), pull
    assert any(0 < b < MODEL_BYTES for b in seen)  # seen part way
    assert pull["bytes_so_far"] == MODEL_BYTES
    info = {e["id"]: e for e in admin.get("/api/v1/engines").json()}["fetched/model"]
    assert info["model"]["present"] is True
    unknown = admin.post("/api/v1/engines/pulls", json={"engine_id": "nobody/nothing"})
    assert unknown.status_code == 404


def test_without_a_network_a_pull_fails_with_where_to_copy_the_files(live, plugin_manager, tmp_path, monkeypatch):
    with_nothing_listening = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("HF_ENDPOINT", with_nothing_listening)
    engine = FetchedModel(tmp_path / "models" / "fetched", with_nothing_listening)

    register_engine(plugin_manager, engine)
    admin = live.client(live.token("admin"))
    assert admin.post("/api/v1/engines/pulls", json={"engine_id": "fetched/model"}).status_code == 202
    deadline = time.monotonic() + 20
    while (pull := admin.get("/api/v1/engines/pulls").json()[0])["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pull["state"] == "failed"
    assert pull["message"].startswith("no network (127.0.0.1 cannot be reached")
    assert str(tmp_path / "models" / "fetched") in pull["message"]  # where to copy the files instead


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
