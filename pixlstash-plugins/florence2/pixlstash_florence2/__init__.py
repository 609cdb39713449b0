"""PixlStash Florence-2 plugin: fast captions in Florence-2's three lengths and the text in pictures with
where it is (OCR with regions), through transformers' native Florence-2 (no remote code).

Each configured model (``pixlstash plugins config florence2 models=base,large``) gives a captioner
(``florence2/base``) and a text reader (``florence2/base-ocr``) sharing one copy of the weights. Models load
from ``<models dir>/florence2/<name>/`` or the Hugging Face cache, and are fetched only by ``pixlstash models
pull florence2/base``. Importing this package imports no torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pixlstash import hookimpl, lazy_names

from .catalogue import Florence2Settings, configured_models

if TYPE_CHECKING:
    from .engine import SharedWeights

__all__ = ["Florence2Captioner", "Florence2Reader", "Florence2Settings"]

# The engine classes load with the hooks that make engines, not with the plugin: the plugin loads wherever
# plugins are listed or set up, and an engine module pulls numpy and its runtime.
__getattr__ = lazy_names(__name__, {"Florence2Captioner": ".engine", "Florence2Reader": ".engine"})


_weights: dict[tuple, SharedWeights] = {}  # (folder, beams, precision, decoding) -> one copy per process


def _shared(settings) -> list[SharedWeights]:
    from .engine import SharedWeights

    options: Florence2Settings = settings["florence2"]
    found = []
    for model in configured_models(options):
        key = (str(model.local_folder), options.num_beams, options.precision, options.decoding)
        made = _weights.get(key) or SharedWeights(model, options.num_beams, options.precision, options.decoding)
        found.append(_weights.setdefault(key, made))
    return found


@hookimpl
def register_settings(register) -> None:
    register("florence2", Florence2Settings)


@hookimpl
def register_captioners(register, settings) -> None:
    from .engine import Florence2Captioner

    for weights in _shared(settings):
        register(Florence2Captioner(weights))


@hookimpl
def register_text_readers(register, settings) -> None:
    from .engine import Florence2Reader

    for weights in _shared(settings):
        register(Florence2Reader(weights))
