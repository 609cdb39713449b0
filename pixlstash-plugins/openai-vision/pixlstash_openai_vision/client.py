"""A small client for the OpenAI chat-completions API as local servers speak it (Ollama, llama.cpp's
server, LM Studio, vLLM, text-generation-webui, ``transformers serve``), on the standard library.

Only the configured address is contacted, and one that is not this machine's (loopback) only when the
settings allow it. Redirects are never followed: the API key goes to the address the owner entered and
nowhere else, so a redirect is an error that names where the server pointed. An answer is read up to a
bound, whatever the server sends. A refused connection, a timeout, a 429 or a 5xx is retried with growing
waits; when the server stays away, ``EngineUnavailable`` tells the worker to put the batch back and wait.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from pixlstash import BadInput, EngineUnavailable, is_loopback_url

from .settings import OpenAIVisionSettings

__all__ = ["ChatClient", "ServerRefused", "image_url"]

log = logging.getLogger(__name__)

_RETRIED = {408, 409, 425, 429, 500, 502, 503, 504}
_FIRST_WAIT = 0.5  # seconds before the first retry; doubled for each one after
_MAX_ANSWER = 16 << 20  # bytes: a chat answer or a model list is far smaller


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx comes back as the HTTPError it is, instead of a new request (with the key) to wherever it points."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


class ServerRefused(BadInput):
    """The server answered, and said no (an unknown model, a bad key, a request it cannot take)."""


def image_url(image, side: int) -> str:
    """The picture as the API takes it: a JPEG data URL, its longest side at most ``side``."""
    copy = image.convert("RGB")
    copy.thumbnail((side, side))
    buffer = io.BytesIO()
    copy.save(buffer, "JPEG", quality=90)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class ChatClient:
    def __init__(self, settings: OpenAIVisionSettings) -> None:
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")

    def check_address(self) -> None:
        """Refuse an address that is not this machine's unless the settings allow it (the privacy promise)."""
        scheme = urllib.parse.urlsplit(self.base_url).scheme
        if scheme not in ("http", "https"):
            raise BadInput(f"the server address must start with http:// or https://, not {self.base_url!r}")
        if not is_loopback_url(self.base_url) and not self.settings.allow_remote:
            raise BadInput(
                f"{self.base_url} is not this machine: pictures are sent there only when you allow it "
                "(pixlstash plugins config openai-vision allow_remote=true)"
            )

    def chat(self, prompt: str, image: str, *, max_tokens: int | None = None) -> str:
        """The model's answer to one prompt about one picture (a data URL)."""
        messages: list[dict[str, Any]] = []
        if self.settings.system_prompt.strip():
            messages.append({"role": "system", "content": self.settings.system_prompt.strip()})
        content = [{"type": "text", "text": prompt}, {"type": "image_url", "image_url": {"url": image}}]
        messages.append({"role": "user", "content": content})
        body = {
            "model": self.settings.model,
            "messages": messages,
            "temperature": self.settings.temperature,
            "max_tokens": max_tokens or self.settings.max_tokens,
            "stream": False,
        }
        answer = self._request("POST", "/chat/completions", body, self.settings.timeout_seconds)
        try:
            text = answer["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise ServerRefused(f"{self.base_url} answered without a message: {str(answer)[:200]}") from None
        if isinstance(text, list):  # content parts, as some servers send them
            text = "".join(part.get("text", "") for part in text if isinstance(part, dict))
        return str(text or "")

    def models(self, timeout: float = 3.0) -> list[str]:
        """The model names the server lists (``GET /models``); one try, a short wait."""
        answer = self._request("GET", "/models", None, timeout, retries=0)
        return [str(item.get("id", "")) for item in answer.get("data", []) if isinstance(item, dict)]

    def _request(self, method: str, path: str, body: dict | None, timeout: float, retries: int | None = None) -> dict:
        self.check_address()
        retries = self.settings.retries if retries is None else retries
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.settings.api_key:
            headers["Authorization"] = f"Bearer {self.settings.api_key}"
        wait = _FIRST_WAIT
        status = None
        for attempt in range(retries + 1):
            request = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)
            try:
                with _OPENER.open(request, timeout=timeout) as response:
                    raw = response.read(_MAX_ANSWER + 1)
                if len(raw) > _MAX_ANSWER:
                    raise ServerRefused(f"{self.base_url} answered with more than {_MAX_ANSWER >> 20} MiB")
                return json.loads(raw or b"{}")
            except urllib.error.HTTPError as error:
                if 300 <= error.code < 400:
                    where = error.headers.get("Location", "another address")
                    raise ServerRefused(
                        f"{self.base_url} redirects to {where[:200]}: PixlStash sends its requests (and the key) "
                        "only to the address you entered; enter the server's own address"
                    ) from None
                said = _error_text(error)
                if error.code not in _RETRIED:
                    raise ServerRefused(f"{self.base_url} refused the request ({error.code}): {said}") from None
                problem, status = f"{self.base_url} answered {error.code}: {said}", error.code
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                reason = getattr(error, "reason", error)
                problem, status = f"the server at {self.base_url} cannot be reached ({reason})", None
            except json.JSONDecodeError:
                raise ServerRefused(f"{self.base_url} answered with something that is not JSON") from None
            if attempt < retries:
                log.info("%s; trying again in %.1f s", problem, wait)
                time.sleep(wait)
                wait *= 2
        raise EngineUnavailable(problem, base_url=self.base_url, status=status)


def _error_text(error: urllib.error.HTTPError) -> str:
    try:
        raw = error.read(64 << 10).decode("utf-8", "replace")
    except OSError:
        return error.reason or ""
    try:
        found = json.loads(raw)
        message = found.get("error", found) if isinstance(found, dict) else found
        if isinstance(message, dict):
            message = message.get("message", message)
        return str(message)[:300]
    except json.JSONDecodeError:
        return raw[:300]
