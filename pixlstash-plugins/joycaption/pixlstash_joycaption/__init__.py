"""PixlStash JoyCaption plugin: descriptions and tag lists from JoyCaption (a LLaVA vision-language model)
through transformers, with JoyCaption's own prompts as engine parameters.

Each configured model (``pixlstash plugins config joycaption models=beta-one,alpha-two``) gives a
captioner (``joycaption/beta-one``) and a tagger (``joycaption/beta-one-tags``) sharing one copy of the
weights. Models load from ``<models dir>/joycaption/<name>/`` or the Hugging Face cache, and are fetched
only by ``pixlstash models pull joycaption/beta-one``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pixlstash import hookimpl, lazy_names

from .catalogue import JoyCaptionSettings, configured_models

if TYPE_CHECKING:
    from .engine import SharedWeights

__all__ = ["JoyCaptionCaptioner", "JoyCaptionSettings", "JoyCaptionTagger", "register_settings"]

# The engine classes load with the hooks that make engines, not with the plugin: the plugin loads wherever
# plugins are listed or set up, and an engine module pulls numpy and its runtime.
__getattr__ = lazy_names(__name__, {"JoyCaptionCaptioner": ".engine", "JoyCaptionTagger": ".engine"})


_weights: dict[tuple[str, ...], SharedWeights] = {}  # (folder, quantization, precision, decoding): one per process


def _shared(settings) -> list[SharedWeights]:
    from .engine import SharedWeights

    options = settings["joycaption"]
    found = []
    for model in configured_models(options):
        key = (str(model.local_folder), options.quantization, options.precision, options.decoding)
        made = _weights.get(key) or SharedWeights(model, options.quantization, options.precision, options.decoding)
        found.append(_weights.setdefault(key, made))
    return found


@hookimpl
def register_settings(register) -> None:
    register("joycaption", JoyCaptionSettings)


@hookimpl
def register_captioners(register, settings) -> None:
    from .engine import JoyCaptionCaptioner

    for weights in _shared(settings):
        register(JoyCaptionCaptioner(weights))


@hookimpl
def register_taggers(register, settings) -> None:
    from .engine import JoyCaptionTagger

    for weights in _shared(settings):
        register(JoyCaptionTagger(weights))
