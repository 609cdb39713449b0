"""PixlStash OpenAI-compatible vision plugin: captions and tag lists from any local server that speaks the
OpenAI chat-completions API with images (Ollama, llama.cpp's server, LM Studio, vLLM,
text-generation-webui, ``transformers serve``), so any vision model those run (Qwen-VL, Gemma, Moondream,
Florence PromptGen, GGUF models) captions the library.

Configure it with ``pixlstash plugins config openai-vision base_url=http://127.0.0.1:11434/v1
model=qwen2.5vl:7b``; it registers ``openai-vision/caption`` and ``openai-vision/tags``. No torch and no
HTTP library are imported: the model runs in the user's server.
"""

from __future__ import annotations

from pixlstash import hookimpl, lazy_names

from .settings import OpenAIVisionSettings

__all__ = ["OpenAICaptioner", "OpenAITagger", "OpenAIVisionSettings"]

# The engine classes load with the hooks that make engines, not with the plugin: the plugin loads wherever
# plugins are listed or set up, and an engine module pulls numpy and its runtime.
__getattr__ = lazy_names(__name__, {"OpenAICaptioner": ".engine", "OpenAITagger": ".engine"})


@hookimpl
def register_settings(register) -> None:
    register("openai-vision", OpenAIVisionSettings)


@hookimpl
def register_captioners(register, settings) -> None:
    from .engine import OpenAICaptioner

    register(OpenAICaptioner(settings["openai-vision"]))


@hookimpl
def register_taggers(register, settings) -> None:
    from .engine import OpenAITagger

    register(OpenAITagger(settings["openai-vision"]))
