"""PixlStash faces plugin: face detection, landmarks and 512-d identity vectors from insightface model
packs (``buffalo_l`` by default), on onnxruntime. No torch, ever; insightface loads on first use.

Which packs are offered is the plugin's ``packs`` setting (``pixlstash plugins config faces
packs=buffalo_l,antelopev2``; ``PIXLSTASH_FACES_PACKS`` in containers), and every folder of ONNX files
in ``<models dir>/faces/`` is offered too.
"""

from __future__ import annotations

from pixlstash import hookimpl, lazy_names

from .catalogue import FacesSettings, configured_packs

__all__ = ["FacesSettings", "InsightFaceExtractor", "register_face_extractors", "register_settings"]

# The engine classes load with the hooks that make engines, not with the plugin: the plugin loads wherever
# plugins are listed or set up, and an engine module pulls numpy and its runtime.
__getattr__ = lazy_names(__name__, {"InsightFaceExtractor": ".engine"})


@hookimpl
def register_settings(register) -> None:
    register("faces", FacesSettings)


@hookimpl
def register_face_extractors(register, settings) -> None:
    from .engine import InsightFaceExtractor

    options = settings["faces"]
    for pack in configured_packs(options):
        register(InsightFaceExtractor(pack, threads=options.threads))
