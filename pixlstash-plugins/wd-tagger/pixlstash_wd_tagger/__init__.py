"""PixlStash WD tagger plugin: SmilingWolf's WD models (booru-style tags with confidences) on onnxruntime.

Which models are offered is the plugin's ``models`` setting (``pixlstash plugins config wd-tagger
models=wd-vit-tagger-v3,wd-eva02-large-tagger-v3``; ``PIXLSTASH_WD_TAGGER_MODELS`` overrides it in
containers), and every folder in ``<models dir>/wd-tagger/`` holding ``model.onnx`` and
``selected_tags.csv`` is offered too. No torch, ever; onnxruntime loads on first use.
"""

from __future__ import annotations

from pixlstash import hookimpl, lazy_names

from .catalogue import WdSettings, configured_models

__all__ = ["WdSettings", "WdTagger", "register_settings", "register_taggers"]

# The engine classes load with the hooks that make engines, not with the plugin: the plugin loads wherever
# plugins are listed or set up, and an engine module pulls numpy and its runtime.
__getattr__ = lazy_names(__name__, {"WdTagger": ".engine"})


@hookimpl
def register_settings(register) -> None:
    register("wd-tagger", WdSettings)


@hookimpl
def register_taggers(register, settings) -> None:
    from .engine import WdTagger

    options = settings["wd-tagger"]
    for model in configured_models(options):
        register(WdTagger(model, threads=options.threads, int8=options.int8, precision=options.precision))
