"""PixlStash: a private, self-hosted picture and video library with a plugin core.

Plugins write ``from pixlstash import hookimpl`` and subclass the engines exported here.
"""

from __future__ import annotations

from .engines import (
    Captioner,
    Embedder,
    Engine,
    EngineParameter,
    Face,
    FaceExtractor,
    ModelStatus,
    OutOfDeviceMemory,
    ScoreInput,
    Scorer,
    Tagger,
    TagScore,
    Task,
    TextReader,
    TextRegion,
)
from .engines.hardware import accelerators
from .engines.registry import EngineRegistry
from .engines.weights import check_model_files
from .errors import (
    BadInput,
    Conflict,
    EngineNotFound,
    EngineUnavailable,
    ModelDamaged,
    ModelMissing,
    NotFound,
    PixlstashError,
    PluginError,
    TooLarge,
    UnsupportedMedia,
)
from .hookspecs import hookimpl
from .originals import OriginalStore
from .paths import hub_snapshot, models_dir
from .plugins import make_plugin_manager
from .sharing import ShareContext, ShareTarget, ShareTransform

__version__ = "0.2.0"

__all__ = [
    "BadInput",
    "Captioner",
    "Conflict",
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
    "TagScore",
    "Tagger",
    "Task",
    "TextReader",
    "TextRegion",
    "TooLarge",
    "UnsupportedMedia",
    "__version__",
    "accelerators",
    "check_model_files",
    "hookimpl",
    "hub_snapshot",
    "make_plugin_manager",
    "models_dir",
]
