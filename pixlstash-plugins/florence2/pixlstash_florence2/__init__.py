"""PixlStash Florence-2 plugin: fast captions in Florence-2's three lengths and the text in pictures with
where it is (OCR with regions), through transformers' native Florence-2 (no remote code).

Each configured model (``pixlstash plugins config florence2 models=base,large``) gives a captioner
(``florence2/base``) and a text reader (``florence2/base-ocr``) sharing one copy of the weights. Models load
from ``<models dir>/florence2/<name>/`` or the Hugging Face cache, and are fetched only by ``pixlstash models
pull florence2/base``. Importing this package imports no torch.
"""

from __future__ import annotations

from pixlstash import hookimpl

from .catalogue import Florence2Settings, configured_models
from .engine import Florence2Captioner, Florence2Reader, SharedWeights

__all__ = ["Florence2Captioner", "Florence2Reader", "Florence2Settings"]

_weights: dict[tuple[str, int], SharedWeights] = {}  # (folder, beams) -> one copy per process


def _shared(settings) -> list[SharedWeights]:
    options: Florence2Settings = settings["florence2"]
    found = []
    for model in configured_models(options):
        key = (str(model.local_folder), options.num_beams)
        found.append(_weights.setdefault(key, SharedWeights(model, options.num_beams)))
    return found


@hookimpl
def register_settings(register) -> None:
    register("florence2", Florence2Settings)


@hookimpl
def register_captioners(register, settings) -> None:
    for weights in _shared(settings):
        register(Florence2Captioner(weights))


@hookimpl
def register_text_readers(register, settings) -> None:
    for weights in _shared(settings):
        register(Florence2Reader(weights))
