"""PixlStash anime plugin: characters in anime and illustration. DeepGHS's YOLOv8 head and face detectors
find them, CCIP tells them apart, on onnxruntime; no torch, ever. onnxruntime loads on first use.

Which detectors are offered is the plugin's ``detectors`` setting (``pixlstash plugins config anime
detectors=head_detect_v2.0_s,face_detect_v1.4_s``), each an engine ``anime/<detector>``; ``ccip`` picks
the recogniser they share. Every detector folder in ``<models dir>/anime/`` is offered too.
"""

from __future__ import annotations

from pixlstash import hookimpl, lazy_names

from .catalogue import AnimeSettings, CcipModel, configured_detectors

__all__ = ["AnimeCharacterExtractor", "AnimeSettings", "register_face_extractors", "register_settings"]

# The engine loads with the hooks that make engines, not with the plugin: the plugin loads wherever
# plugins are listed or set up, and the engine module pulls numpy.
__getattr__ = lazy_names(__name__, {"AnimeCharacterExtractor": ".engine"})


@hookimpl
def register_settings(register) -> None:
    register("anime", AnimeSettings)


@hookimpl
def register_face_extractors(register, settings) -> None:
    from .engine import AnimeCharacterExtractor

    options = settings["anime"]
    recogniser = CcipModel.named(options.ccip)
    for detector in configured_detectors(options):
        register(AnimeCharacterExtractor(detector, recogniser, threads=options.threads))
