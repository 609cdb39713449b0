"""The engines: a captioner (``openai-vision/caption``) and a tagger (``openai-vision/tags``: the tag-list
caption types, parsed) over one OpenAI-compatible server. Prompts are JoyCaption's (``caption_prompts``);
pictures go to the server a few at a time (``concurrency``), each as one chat request.

The engines are pure: pictures and parameters in, text out; the server is the user's own. Nothing is
loaded here, so the engines need no process of their own and run on Ray as they are.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pixlstash import (
    BadInput,
    Captioner,
    EngineParameter,
    EngineUnavailable,
    ModelStatus,
    Tagger,
    TagScore,
    is_loopback_url,
)
from pixlstash.engines.caption_prompts import CAPTION_TYPES, TAG_LIST_TYPES, build_prompt, prompt_parameters
from pixlstash.engines.tag_lists import parse_tag_list

from .client import ChatClient, ServerRefused, image_url
from .settings import OpenAIVisionSettings

__all__ = ["OpenAICaptioner", "OpenAITagger", "ServerState", "server_state"]

_STATE_SECONDS = 10.0  # how long a look at the server's state stands (listing engines asks often)
_states: dict[tuple[str, str], tuple[float, ServerState]] = {}


class ServerState:
    """What the server said when last asked: up with its models, or down and why."""

    def __init__(self, up: bool, models: list[str], problem: str = "") -> None:
        self.up, self.models, self.problem = up, models, problem

    def line(self, base_url: str) -> str:
        if not self.up:
            return f"server {base_url}: down ({self.problem})"
        listed = ", ".join(self.models[:8]) + (" ..." if len(self.models) > 8 else "")
        return f"server {base_url}: up, models: {listed or 'none listed'}"


def server_state(settings: OpenAIVisionSettings) -> ServerState:
    """The server's state, asked at most every few seconds."""
    key = (settings.base_url, settings.api_key)
    cached = _states.get(key)
    if cached and time.monotonic() - cached[0] < _STATE_SECONDS:
        return cached[1]
    try:
        state = ServerState(True, ChatClient(settings).models())
    except ServerRefused:  # it answers, but lists no models (not every server does)
        state = ServerState(True, [])
    except EngineUnavailable as error:  # down, or up but failing to list (it answered: up)
        answered = error.details.get("status") is not None
        state = ServerState(answered, [], "" if answered else error.message)
    except BadInput as error:  # an address not allowed: said, never asked
        state = ServerState(False, [], error.message)
    _states[key] = (time.monotonic(), state)
    return state


class _ServerEngine:
    preferred_batch_size = 8
    input_size = 768
    sends_pictures = True  # used only where the owner names it, never as the first engine ready

    def __init__(self, settings: OpenAIVisionSettings) -> None:
        self.settings = settings
        self.input_size = settings.image_side
        self.preferred_batch_size = max(1, settings.concurrency) * 2
        # What changes the answers (the prompt's parameters are kept with each caption).
        mark = (settings.base_url, settings.model, settings.temperature, settings.max_tokens, settings.system_prompt)
        self.version = "1+" + hashlib.blake2b(repr(mark).encode(), digest_size=6).hexdigest()

    def model_status(self) -> ModelStatus:
        settings = self.settings
        here = is_loopback_url(settings.base_url)
        remote = "" if here else f"sends pictures to {settings.base_url} (not this machine); "
        if not settings.model.strip():
            return ModelStatus(
                model="(no model chosen)",
                present=False,
                location=settings.base_url,
                how_to_get="name the server's model: pixlstash plugins config openai-vision model=NAME "
                "(and base_url=... when the server is not Ollama on this machine)",
            )
        if remote and not settings.allow_remote:
            return ModelStatus(
                model=settings.model,
                present=False,
                location=settings.base_url,
                how_to_get=f"{settings.base_url} is not this machine: allow it with "
                "pixlstash plugins config openai-vision allow_remote=true, or use a server on this machine",
            )
        state = server_state(settings)
        return ModelStatus(
            model=settings.model,
            present=True,  # the server's business; when it is down, the work waits for it
            location=settings.base_url,
            note=remote + state.line(settings.base_url),
            available=state.up,
        )

    def _answers(self, images: Sequence, prompts: Sequence[str]) -> list[str]:
        """One answer per picture, ``concurrency`` requests in flight; a server that stays down raises
        ``EngineUnavailable`` (the batch waits), a refusal ``ServerRefused`` (the batch fails)."""
        client = ChatClient(self.settings)
        client.check_address()
        if not self.settings.model.strip():
            raise BadInput("no model chosen: pixlstash plugins config openai-vision model=NAME")
        side = self.settings.image_side

        def ask(item: tuple[Any, str]) -> str:
            return client.chat(item[1], image_url(item[0], side)).strip()

        workers = max(1, min(self.settings.concurrency, len(images)))
        if workers == 1:
            return [ask(item) for item in zip(images, prompts, strict=True)]
        with ThreadPoolExecutor(workers, thread_name_prefix="openai-vision") as pool:
            return list(pool.map(ask, zip(images, prompts, strict=True)))


def _prompts(count: int, parameters: dict[str, Any], default_type: str) -> list[str]:
    prompt = build_prompt(
        caption_type=parameters.get("caption_type", default_type),
        caption_length=parameters.get("caption_length", "long"),
        extra_options=parameters.get("extra_options", ()),
        character_name=parameters.get("character_name", ""),
        prompt=parameters.get("prompt", ""),
    )
    return [prompt] * count


class OpenAICaptioner(_ServerEngine, Captioner):
    def __init__(self, settings: OpenAIVisionSettings) -> None:
        super().__init__(settings)
        self.id = "openai-vision/caption"
        self.label = f"{settings.model or 'OpenAI-compatible server'} (captions)"

    def parameters(self) -> list[EngineParameter]:
        return prompt_parameters(list(CAPTION_TYPES), "Descriptive")

    def describe(self, images: Sequence, prompt: str | None = None, **parameters: Any) -> list[str]:
        parameters = {**parameters, "prompt": prompt or parameters.get("prompt", "")}
        return self._answers(images, _prompts(len(images), parameters, "Descriptive"))


class OpenAITagger(_ServerEngine, Tagger):
    def __init__(self, settings: OpenAIVisionSettings) -> None:
        super().__init__(settings)
        self.id = "openai-vision/tags"
        self.label = f"{settings.model or 'OpenAI-compatible server'} (tag lists)"

    def parameters(self) -> list[EngineParameter]:
        return prompt_parameters(TAG_LIST_TYPES, "Booru-like tag list")

    def tag(self, images: Sequence, **parameters: Any) -> list[list[TagScore]]:
        answers = self._answers(images, _prompts(len(images), parameters, "Booru-like tag list"))
        return [parse_tag_list(text) for text in answers]
