"""PixlStash: a private, self-hosted picture and video library with a plugin core.

Plugins write ``from pixlstash import hookimpl`` and subclass the engines exported here.
"""

from __future__ import annotations

import importlib

from .system.lazy_names import lazy_names

# Each public name loads its module on first use (PEP 562), so `import pixlstash` (every CLI start, every
# plugin's `from pixlstash import hookimpl`) pulls neither numpy nor Pillow until something needs them.
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(
        (
            "Captioner",
            "Embedder",
            "Engine",
            "EngineParameter",
            "Face",
            "FaceExtractor",
            "ModelStatus",
            "OutOfDeviceMemory",
            "ScoreInput",
            "Scorer",
            "Tagger",
            "TagScore",
            "Task",
            "TextReader",
            "TextRegion",
        ),
        ".engines",
    ),
    "accelerators": ".engines.hardware",
    **dict.fromkeys(("autocast", "batch_for_memory", "free_device_bytes", "torch_dtype"), ".engines.precision"),
    "EngineRegistry": ".engines.registry",
    "check_model_files": ".engines.weights",
    "fetch_file": ".engines.model_pulls",
    **dict.fromkeys(
        (
            "BadInput",
            "Conflict",
            "Damaged",
            "EngineNotFound",
            "EngineUnavailable",
            "ModelDamaged",
            "ModelMissing",
            "NotFound",
            "PixlstashError",
            "PluginError",
            "StorageUnavailable",
            "TooLarge",
            "UnsupportedMedia",
            "damaged_address",
        ),
        ".errors",
    ),
    "BackupBucket": ".backups.bucket",
    "bucket_settings": ".files.store_choice",
    "content_hash": ".media.hashing",
    "hookimpl": ".hookspecs",
    "OriginalStore": ".files.originals",
    "hub_snapshot": ".system.paths",
    **dict.fromkeys(("is_loopback_host", "is_loopback_url", "url_host"), ".system.addresses"),
    "models_dir": ".system.paths",
    "make_plugin_manager": ".plugins",
    **dict.fromkeys(("ShareContext", "ShareTarget", "ShareTransform"), ".sharing"),
}


__getattr__ = lazy_names(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return sorted(__all__)


__version__ = "0.2.0"

# Old module names (before the layout by concept) keep importing, with a DeprecationWarning: see moved.py.
importlib.import_module(".moved", __name__).install()

__all__ = [
    "BackupBucket",
    "BadInput",
    "Captioner",
    "Conflict",
    "Damaged",
    "Embedder",
    "Engine",
    "EngineNotFound",
    "EngineParameter",
    "EngineRegistry",
    "EngineUnavailable",
    "Face",
    "FaceExtractor",
    "ModelDamaged",
    "ModelMissing",
    "ModelStatus",
    "NotFound",
    "OriginalStore",
    "OutOfDeviceMemory",
    "PixlstashError",
    "PluginError",
    "ScoreInput",
    "Scorer",
    "ShareContext",
    "ShareTarget",
    "ShareTransform",
    "StorageUnavailable",
    "TagScore",
    "Tagger",
    "Task",
    "TextReader",
    "TextRegion",
    "TooLarge",
    "UnsupportedMedia",
    "__version__",
    "accelerators",
    "autocast",
    "batch_for_memory",
    "bucket_settings",
    "check_model_files",
    "content_hash",
    "damaged_address",
    "fetch_file",
    "free_device_bytes",
    "hookimpl",
    "hub_snapshot",
    "is_loopback_host",
    "is_loopback_url",
    "lazy_names",
    "make_plugin_manager",
    "models_dir",
    "torch_dtype",
    "url_host",
]
