"""PixlStash CLIP plugin: open_clip embedders (CLIP, SigLIP) for semantic and reverse image search.

Which models are offered is the plugin's ``models`` setting (``pixlstash plugins config clip
models=ViT-B-32@laion2b_s34b_b79k,ViT-L-14@laion2b_s32b_b82k``; ``PIXLSTASH_CLIP_MODELS`` overrides it
in containers), and every folder in ``<models dir>/clip/`` holding an ``open_clip_config.json`` is
offered too. Importing this package imports no torch: that happens on first use.
"""

from __future__ import annotations

from pixlstash import hookimpl

from .catalogue import ClipSettings, configured_models
from .engine import ClipEmbedder

__all__ = ["ClipEmbedder", "ClipSettings", "register_embedders", "register_settings"]


@hookimpl
def register_settings(register) -> None:
    register("clip", ClipSettings)


@hookimpl
def register_embedders(register, settings) -> None:
    for model in configured_models(settings["clip"]):
        register(ClipEmbedder(model))
