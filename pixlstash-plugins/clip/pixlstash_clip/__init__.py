"""PixlStash CLIP plugin: open_clip embedders (CLIP, SigLIP) for semantic and reverse image search, and
two scorers over the vectors they store (``clip/aesthetic``, ``clip/prompt-match``), and the CLIP and T5
tokenizers the dataset check counts caption tokens with (``caption_tokens``).

Which models are offered is the plugin's ``models`` setting (``pixlstash plugins config clip
models=ViT-B-32@laion2b_s34b_b79k,ViT-L-14@laion2b_s32b_b82k``; ``PIXLSTASH_CLIP_MODELS`` overrides it
in containers), and every folder in ``<models dir>/clip/`` holding an ``open_clip_config.json`` is
offered too. Importing this package imports no torch: that happens on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pixlstash import hookimpl, lazy_names

from .catalogue import ClipModel, ClipSettings, configured_models, model_named

if TYPE_CHECKING:
    from .engine import ClipEmbedder

__all__ = [
    "AestheticScorer",
    "ClipEmbedder",
    "ClipSettings",
    "PromptMatchScorer",
    "register_caption_tokenizers",
    "register_embedders",
    "register_scorers",
    "register_settings",
]

# The engine classes load with the hooks that make engines, not with the plugin: the plugin loads wherever
# plugins are listed or set up, and an engine module pulls numpy and its runtime.
__getattr__ = lazy_names(
    __name__, {"ClipEmbedder": ".engine", "AestheticScorer": ".scorers", "PromptMatchScorer": ".scorers"}
)


# One embedder object per model in a process, so the prompt-match scorer uses the weights its embedder
# loaded rather than a second copy.
_EMBEDDERS: dict[tuple[ClipModel, str, str], ClipEmbedder] = {}


def _embedder(model: ClipModel, image_runtime: str = "torch", precision: str = "auto") -> ClipEmbedder:
    from .engine import ClipEmbedder

    key = (model, image_runtime, precision)
    if key not in _EMBEDDERS:
        _EMBEDDERS[key] = ClipEmbedder(model, image_runtime, precision)
    return _EMBEDDERS[key]


@hookimpl
def register_settings(register) -> None:
    register("clip", ClipSettings)


@hookimpl
def register_embedders(register, settings) -> None:
    chosen: ClipSettings = settings["clip"]
    for model in configured_models(chosen):
        register(_embedder(model, chosen.image_runtime, chosen.precision))


@hookimpl
def register_scorers(register, settings) -> None:
    from .scorers import AestheticScorer, PromptMatchScorer

    chosen: ClipSettings = settings["clip"]
    models = configured_models(chosen)
    matched = model_named(chosen.prompt_match_model) if chosen.prompt_match_model else (models or [None])[0]
    if matched is not None:
        register(PromptMatchScorer(_embedder(matched, chosen.image_runtime, chosen.precision)))
    register(AestheticScorer(model_named(chosen.aesthetic_model)))


@hookimpl
def register_caption_tokenizers(register, settings) -> None:
    from .caption_tokens import ClipTokens, T5Tokens

    register(ClipTokens())
    register(T5Tokens(settings["clip"].t5_tokenizer))
