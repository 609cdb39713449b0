"""The engine layer: the base classes plugins implement (``base``), the table of what each kind of engine
does (``tasks``), the registry of installed engines (``registry``) and how they run: devices, loading,
idle unloading, the fallback to the CPU (``runtime``). Search and enrichment both build on it."""

from .base import (
    ENGINE_ID_PATTERN,
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
    is_out_of_memory,
)

__all__ = [
    "ENGINE_ID_PATTERN",
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
    "TagScore",
    "Tagger",
    "Task",
    "TextReader",
    "TextRegion",
    "is_out_of_memory",
]
