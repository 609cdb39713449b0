"""The plugin's settings (``pixlstash plugins config openai-vision base_url=... model=...``)."""

from __future__ import annotations

from typing import ClassVar

import msgspec

__all__ = ["OpenAIVisionSettings"]


class OpenAIVisionSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    # Where the server answers the OpenAI API (Ollama: http://127.0.0.1:11434/v1, llama.cpp's server and
    # vLLM: http://127.0.0.1:8000/v1, LM Studio: http://127.0.0.1:1234/v1).
    base_url: str = "http://127.0.0.1:11434/v1"
    model: str = ""  # the model name the server knows it by ("" : none chosen, the engines wait for one)
    api_key: str = ""  # sent as a bearer token, for servers that ask for one; shown only as set or not
    # Pictures go only to the address above. One that is not this machine's (loopback) must be allowed here.
    allow_remote: bool = False
    system_prompt: str = ""  # sent before each request's prompt, where the model wants one
    temperature: float = 0.2
    max_tokens: int = 300
    concurrency: int = 4  # requests in flight at once (the server's own parallelism decides the gain)
    timeout_seconds: float = 120.0
    retries: int = 3  # a refused connection, a 429 or a 5xx is tried again this often, waiting longer each time
    image_side: int = 768  # the longest side a picture is sent at (JPEG), as most vision models see no more

    secret_fields: ClassVar[tuple[str, ...]] = ("api_key",)
