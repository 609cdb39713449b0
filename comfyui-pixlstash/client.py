"""A small HTTP client for a PixlStash server, on the standard library only (ComfyUI's Python has no
``pixlstash`` and needs none). Every failure becomes one ``PixlStashError`` whose message says what to do;
ComfyUI shows that message in the node that failed."""

from __future__ import annotations

import json
import logging
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any

__all__ = ["Client", "PixlStashError", "Upload"]

log = logging.getLogger("pixlstash")

Upload = tuple[str, bytes, str]  # (file name, content, media type)


class PixlStashError(Exception):
    """A PixlStash request that failed, in one line a ComfyUI user can act on."""


# ComfyUI names a failure by its exception's module, which for a custom node is the path it was loaded
# from ("/home/.../custom_nodes/comfyui-pixlstash.client.PixlStashError"): a short name reads better.
PixlStashError.__module__ = "pixlstash"


class Client:
    def __init__(self, url: str, token: str, timeout: float = 120.0) -> None:
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return json.loads(self.request("GET", path, params=params))

    def post(self, path: str, body: Any) -> Any:
        data = json.dumps(body).encode()
        return json.loads(self.request("POST", path, data=data, content_type="application/json"))

    def post_files(self, path: str, fields: dict[str, str], files: Sequence[tuple[str, Upload]]) -> Any:
        """A multipart/form-data POST: text fields and (field name, upload) files."""
        boundary = "pixlstash-" + secrets.token_hex(12)
        parts: list[bytes] = []
        for name, value in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        for name, (filename, content, media_type) in files:
            safe = filename.replace('"', "").replace("\r", "").replace("\n", "")
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{safe}"\r\n'
                f"Content-Type: {media_type}\r\n\r\n"
            )
            parts.extend((head.encode(), content, b"\r\n"))
        parts.append(f"--{boundary}--\r\n".encode())
        body = self.request(
            "POST", path, data=b"".join(parts), content_type=f"multipart/form-data; boundary={boundary}"
        )
        return json.loads(body)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        data: bytes | None = None,
        content_type: str | None = None,
    ) -> bytes:
        url = f"{self.url}/api/v1{path}"
        if params:
            url += "?" + urllib.parse.urlencode(_query(params), doseq=True)
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            raise PixlStashError(self._explain(error.code, _server_message(error))) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise PixlStashError(
                f"the PixlStash server at {self.url} is unreachable ({reason}): is it running (pixlstash serve), "
                "and is the server URL in ComfyUI's settings (PixlStash) or PIXLSTASH_URL right?"
            ) from None

    def _explain(self, status: int, message: str) -> str:
        if status == 401:
            return (
                "PixlStash did not accept the token (401): create one with `pixlstash token create` and enter it in "
                "ComfyUI's settings (PixlStash), or set PIXLSTASH_TOKEN"
            )
        if status == 403:
            return f"the PixlStash token may not do this (403): {message}"
        if status == 409:
            return f"PixlStash: {message}"  # a model is missing: the message says how to get it
        return f"PixlStash answered {status}: {message}"


def _server_message(error: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(error.read() or b"{}")
        return str(body.get("error", {}).get("message") or error.reason)
    except (ValueError, AttributeError, OSError):
        return str(error.reason)


def _query(params: dict[str, Any]) -> dict[str, Any]:
    """Query parameters as the API reads them: lists repeated, booleans as true/false, None left out."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None or value == [] or value == "":
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = value
    return out
