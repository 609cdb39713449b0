"""PixlStash CLIP plugin: open_clip embedders (CLIP, SigLIP) for semantic and reverse image search.

Which models are offered is a setting: ``PIXLSTASH_CLIP_MODELS`` lists ``name@pretrained`` pairs
(default ``ViT-B-32@laion2b_s34b_b79k``), and every folder in ``<models dir>/clip/`` holding an
``open_clip_config.json`` is offered too. Importing this package imports no torch: that happens on
first use.
"""

from __future__ import annotations

from pixlstash import hookimpl

from .catalogue import configured_models
from .engine import ClipEmbedder

__all__ = ["ClipEmbedder", "register_embedders"]


@hookimpl
def register_embedders(register) -> None:
    for model in configured_models():
        register(ClipEmbedder(model))
