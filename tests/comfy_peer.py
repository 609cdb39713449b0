"""A ComfyUI as an attacker or a broken install could be: a real HTTP server on 127.0.0.1 that speaks the
part of ComfyUI's API PixlStash calls (``/system_stats``, ``/object_info``, ``/prompt``, ``/queue``,
``/history``, ``/interrupt``, ``/view``), with what it answers set by the test: a prompt that stays
running, is forgotten, or finishes with as many outputs, of any size, as the test wants. The real ComfyUI
(``real_comfyui.py``) is what the ordinary runs are tested against; this one is for what a real ComfyUI
will not do on request."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.parse
from contextlib import contextmanager

# A graph any remix can run: a seed to change and a node that saves.
GRAPH = {
    "1": {"class_type": "RandomNoise", "inputs": {"noise_seed": 5}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "peer"}},
}
# A workflow run on a picture: its LoadImage gets each picture.
RUN_GRAPH = {
    "1": {"class_type": "LoadImage", "inputs": {"image": "example.png"}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "peer"}},
}
OBJECT_INFO = {
    "LoadImage": {"input": {"required": {"image": [["example.png"], {}]}}, "output_node": False},
    "RandomNoise": {"input": {"required": {"noise_seed": ["INT", {"default": 0}]}}, "output_node": False},
    "SaveImage": {
        "input": {"required": {"images": ["IMAGE"], "filename_prefix": ["STRING", {"default": "x"}]}},
        "output_node": True,
    },
}


class ComfyPeer:
    def __init__(self) -> None:
        self.state = "running"  # what a queued prompt does: running, done, forgotten
        self.outputs: list[str] = []  # file names a finished prompt saved
        self.content = b""  # what /view sends for each of them
        self.requests: list[tuple[str, str, bytes]] = []
        self.prompts: list[str] = []
        self._lock = threading.Lock()
        self.url = ""

    def seen(self, method: str, path_start: str) -> list[bytes]:
        with self._lock:
            return [body for m, p, body in self.requests if m == method and p.startswith(path_start)]

    def answer(self, handler: http.server.BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        path = handler.path
        with self._lock:
            self.requests.append((method, path, body))
        route = urllib.parse.urlsplit(path).path
        if route == "/system_stats":
            return _json(handler, {"system": {"comfyui_version": "0.3.64"}, "devices": []})
        if route == "/object_info":
            return _json(handler, OBJECT_INFO)
        if route == "/prompt" and method == "POST":
            prompt_id = f"peer-{len(self.prompts) + 1}"
            self.prompts.append(prompt_id)
            return _json(handler, {"prompt_id": prompt_id, "number": len(self.prompts), "node_errors": {}})
        if route == "/queue":
            running = [[0, p, {}, {}, []] for p in self.prompts if self.state == "running"]
            if method == "POST":
                return _json(handler, {})
            return _json(handler, {"queue_running": running, "queue_pending": []})
        if route.startswith("/history/"):
            prompt_id = urllib.parse.unquote(route.removeprefix("/history/"))
            if self.state != "done" or prompt_id not in self.prompts:
                return _json(handler, {})
            images = [{"filename": name, "subfolder": "", "type": "output"} for name in self.outputs]
            entry = {"status": {"completed": True, "status_str": "success", "messages": []},
                     "outputs": {"2": {"images": images}}}  # fmt: skip
            return _json(handler, {prompt_id: entry})
        if route in ("/interrupt", "/pixlstash/connection"):
            return _json(handler, {})
        if route == "/upload/image":
            name = body.split(b'filename="', 1)[1].split(b'"', 1)[0].decode() if b'filename="' in body else "x"
            return _json(handler, {"name": name, "subfolder": "", "type": "input"})
        if route == "/view":
            handler.send_response(200)
            handler.send_header("Content-Type", "image/png")
            handler.send_header("Content-Length", str(len(self.content)))
            handler.end_headers()
            view = memoryview(self.content)
            for start in range(0, len(view), 1 << 20):
                handler.wfile.write(view[start : start + (1 << 20)])
            return None
        handler.send_response(404)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        return None


def _json(handler, value) -> None:
    body = json.dumps(value).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@contextmanager
def comfy_peer():
    peer = ComfyPeer()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            peer.answer(self, "GET")

        def do_POST(self) -> None:
            peer.answer(self, "POST")

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    peer.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield peer
    finally:
        server.shutdown()
        server.server_close()
