"""A client for ComfyUI's own HTTP API, on the standard library: ``/system_stats``, ``/object_info``,
``/upload/image``, ``/prompt``, ``/history``, ``/queue``, ``/interrupt``, ``/view``, and the PixlStash
node pack's ``/pixlstash/connection``. Every failure is a ``ComfyUnreachable`` (or, for a graph ComfyUI
refuses, a ``WorkflowRefused``) in one line."""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from ..errors import BadInput, ComfyUnreachable, WorkflowRefused

__all__ = ["NODES_MISSING", "ComfyClient", "checked_url"]

# Said when a linked ComfyUI lacks the node pack (the web API and the CLI alike).
NODES_MISSING = (
    "the PixlStash nodes are not installed there: copy the comfyui-pixlstash folder into ComfyUI's"
    " custom_nodes folder, restart ComfyUI and link it again (remixes and runs work without them)"
)

_MAX_ANSWER = 256 * 1024 * 1024  # an output picture can be large; nothing ComfyUI sends is larger
_MAX_JSON = 64 * 1024 * 1024  # /object_info of a ComfyUI with many node packs is a few MB
_BLOCK = 1 << 20


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """ComfyUI never redirects its API: a 3xx is an error, not a request to somewhere else."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def checked_url(url: str) -> str:
    """``url`` as http(s)://host[:port][/path] without a trailing slash, or ``BadInput``."""
    url = url.strip().rstrip("/")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise BadInput(f"a ComfyUI address is http(s)://host:port, not {url!r}")
    if parts.username or parts.password:
        raise BadInput("a ComfyUI address carries no user name or password")
    return url


class ComfyClient:
    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url, self.timeout = checked_url(url), timeout

    def system_stats(self) -> dict:
        return self._json("GET", "/system_stats")

    def object_info(self) -> dict:
        return self._json("GET", "/object_info")

    def queue(self, graph: dict, client_id: str) -> str:
        """Queue an API graph; its prompt id. A graph ComfyUI's validation refuses is a ``WorkflowRefused``
        listing ComfyUI's own reasons."""
        body = {"prompt": graph, "client_id": client_id}
        try:
            answer = self._json("POST", "/prompt", body=body)
        except _Refused as refused:
            raise WorkflowRefused(
                f"ComfyUI refused the workflow: {'; '.join(refused.problems) or refused.message}",
                problems=refused.problems,
            ) from None
        return str(answer["prompt_id"])

    def history(self, prompt_id: str) -> dict | None:
        """The history entry of a prompt, or None while it has none (queued or running)."""
        return self._json("GET", f"/history/{urllib.parse.quote(prompt_id)}").get(prompt_id)

    def queued(self, prompt_id: str) -> str | None:
        """ "running", "pending" or None (not in the queue)."""
        state = self._json("GET", "/queue")
        for key, word in (("queue_running", "running"), ("queue_pending", "pending")):
            if any(len(item) > 1 and item[1] == prompt_id for item in state.get(key, [])):
                return word
        return None

    def cancel(self, prompt_id: str) -> None:
        """Take the prompt out of the queue, or interrupt it if it is the one running. The interrupt names
        the prompt, so ComfyUI stops only ours (a ComfyUI older than 0.3.4x ignores the name: it is sent
        only while ours is the one running)."""
        if self.queued(prompt_id) == "running":
            body = json.dumps({"prompt_id": prompt_id}).encode()
            self._request("POST", "/interrupt", data=body, content_type="application/json")
        self._request(
            "POST", "/queue", data=json.dumps({"delete": [prompt_id]}).encode(), content_type="application/json"
        )

    def upload_image(self, name: str, content: bytes, media_type: str) -> str:
        """Put a picture in ComfyUI's input folder; the name LoadImage knows it by."""
        boundary = "pixlstash-" + secrets.token_hex(12)
        safe = "".join(c for c in name if c.isalnum() or c in "-_.") or "picture.png"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{safe}"\r\n'
                f"Content-Type: {media_type}\r\n\r\n"
            ).encode()
            + content
            + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="overwrite"\r\n\r\n'.encode()
            + f"true\r\n--{boundary}--\r\n".encode()
        )
        answer = json.loads(
            self._request("POST", "/upload/image", data=body, content_type=f"multipart/form-data; boundary={boundary}")
        )
        return f"{answer['subfolder']}/{answer['name']}" if answer.get("subfolder") else str(answer["name"])

    def view(self, filename: str, subfolder: str, folder_type: str) -> bytes:
        params = urllib.parse.urlencode({"filename": filename, "subfolder": subfolder, "type": folder_type})
        return self._request("GET", f"/view?{params}")

    def view_to(self, filename: str, subfolder: str, folder_type: str, out, limit: int = _MAX_ANSWER) -> int:
        """Stream an output file into ``out`` a block at a time (never whole in memory); its size. More
        than ``limit`` bytes is a ``ComfyUnreachable``."""
        params = urllib.parse.urlencode({"filename": filename, "subfolder": subfolder, "type": folder_type})
        with self._open("GET", f"/view?{params}") as response:
            size = 0
            while block := response.read(_BLOCK):
                size += len(block)
                if size > limit:
                    raise ComfyUnreachable(f"ComfyUI's output {filename[:100]} is larger than {limit >> 20} MiB")
                out.write(block)
        return size

    def configure_pack(self, pixlstash_url: str, token: str) -> bool:
        """Hand the PixlStash node pack its server and token; False when the pack is not installed there."""
        body = json.dumps({"url": pixlstash_url, "token": token}).encode()
        try:
            self._request("POST", "/pixlstash/connection", data=body, content_type="application/json")
        except _Missing:
            return False
        return True

    # -- transport -------------------------------------------------------------------------------------

    def _json(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        answer = self._request(method, path, data=data, content_type="application/json" if data else None)
        try:
            return json.loads(answer)
        except ValueError:
            raise ComfyUnreachable(f"ComfyUI at {self.url} answered {path} with something that is not JSON") from None

    def _request(self, method: str, path: str, *, data: bytes | None = None, content_type: str | None = None) -> bytes:
        limit = _MAX_ANSWER if path.startswith("/view") else _MAX_JSON
        with self._open(method, path, data=data, content_type=content_type) as response:
            answer = response.read(limit + 1)
        if len(answer) > limit:
            raise ComfyUnreachable(
                f"ComfyUI at {self.url} answered {path.split('?')[0]} with more than {limit >> 20} MiB"
            )
        return answer

    def _open(self, method: str, path: str, *, data: bytes | None = None, content_type: str | None = None):
        headers = {"Content-Type": content_type} if content_type else {}
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            return _OPENER.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            text = error.read(64 * 1024).decode("utf-8", "replace")
            # 405: ComfyUI serves its web folder for GET on every path, so a route it lacks answers a POST so.
            if error.code in (404, 405):
                raise _Missing(path) from None
            if error.code == 400 and path == "/prompt":
                raise _Refused.from_answer(text) from None
            raise ComfyUnreachable(
                f"ComfyUI at {self.url} answered {path} with {error.code}: {_one_line(text, error.reason)}"
            ) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ComfyUnreachable(
                f"ComfyUI at {self.url} is unreachable ({reason}): is it running, and is the address right?"
            ) from None


def _one_line(text: str, reason: str) -> str:
    """An error answer as one line of the message: its text, or its status's reason when it is a web page."""
    text = " ".join(text.split())
    if not text or text.lstrip().startswith("<"):
        return reason or "an error page"
    return text[:300]


class _Missing(ComfyUnreachable):
    def __init__(self, path: str) -> None:
        super().__init__(f"the server answered 404 for {path}: is the address a ComfyUI's?")


class _Refused(Exception):
    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.message, self.problems = message, problems

    @classmethod
    def from_answer(cls, text: str) -> _Refused:
        try:
            answer = json.loads(text)
        except ValueError:
            return cls(text[:300], [])
        problems = []
        for node_id, node in (answer.get("node_errors") or {}).items():
            for error in node.get("errors", []):
                problems.append(
                    f"node {node_id} ({node.get('class_type')}): {error.get('message')}: {error.get('details')}"
                )
        message = (answer.get("error") or {}).get("message", "refused")
        return cls(message, problems or [message])
