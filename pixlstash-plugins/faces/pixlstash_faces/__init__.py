"""PixlStash faces plugin: face detection, landmarks and 512-d identity vectors from insightface model
packs (``buffalo_l`` by default), on onnxruntime. No torch, ever; insightface loads on first use.

Which packs are offered is the plugin's ``packs`` setting (``pixlstash plugins config faces
packs=buffalo_l,antelopev2``; ``PIXLSTASH_FACES_PACKS`` in containers), and every folder of ONNX files
in ``<models dir>/faces/`` is offered too.
"""

from __future__ import annotations

import importlib

from pixlstash import hookimpl

from .catalogue import FacesSettings, configured_packs

__all__ = ["FacesSettings", "InsightFaceExtractor", "register_face_extractors", "register_settings"]

# The engine classes load with the hooks that make engines, not with the plugin: every CLI start loads
# the plugin (for its commands), and an engine module pulls numpy and its runtime.
_LAZY = {"InsightFaceExtractor": ".engine"}


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name], __name__), name)


@hookimpl
def register_settings(register) -> None:
    register("faces", FacesSettings)


@hookimpl
def register_face_extractors(register, settings) -> None:
    from .engine import InsightFaceExtractor

    options = settings["faces"]
    for pack in configured_packs(options):
        register(InsightFaceExtractor(pack, threads=options.threads))
