"""PixlStash CLIP plugin: open_clip embedders (CLIP, SigLIP) for semantic and reverse image search, and
two scorers over the vectors they store (``clip/aesthetic``, ``clip/prompt-match``).

Which models are offered is the plugin's ``models`` setting (``pixlstash plugins config clip
models=ViT-B-32@laion2b_s34b_b79k,ViT-L-14@laion2b_s32b_b82k``; ``PIXLSTASH_CLIP_MODELS`` overrides it
in containers), and every folder in ``<models dir>/clip/`` holding an ``open_clip_config.json`` is
offered too. Importing this package imports no torch: that happens on first use.
"""

from __future__ import annotations

from pixlstash import hookimpl

from .catalogue import ClipModel, ClipSettings, configured_models, model_named
from .engine import ClipEmbedder
from .scorers import AestheticScorer, PromptMatchScorer

__all__ = [
    "AestheticScorer",
    "ClipEmbedder",
    "ClipSettings",
    "PromptMatchScorer",
    "register_embedders",
    "register_scorers",
    "register_settings",
]

# One embedder object per model in a process, so the prompt-match scorer uses the weights its embedder
# loaded rather than a second copy.
_EMBEDDERS: dict[tuple[ClipModel, str], ClipEmbedder] = {}


def _embedder(model: ClipModel, image_runtime: str = "torch") -> ClipEmbedder:
    if (model, image_runtime) not in _EMBEDDERS:
        _EMBEDDERS[model, image_runtime] = ClipEmbedder(model, image_runtime)
    return _EMBEDDERS[model, image_runtime]


@hookimpl
def register_settings(register) -> None:
    register("clip", ClipSettings)


@hookimpl
def register_embedders(register, settings) -> None:
    chosen: ClipSettings = settings["clip"]
    for model in configured_models(chosen):
        register(_embedder(model, chosen.image_runtime))


@hookimpl
def register_scorers(register, settings) -> None:
    chosen: ClipSettings = settings["clip"]
    models = configured_models(chosen)
    matched = model_named(chosen.prompt_match_model) if chosen.prompt_match_model else (models or [None])[0]
    if matched is not None:
        register(PromptMatchScorer(_embedder(matched, chosen.image_runtime)))
    register(AestheticScorer(model_named(chosen.aesthetic_model)))
