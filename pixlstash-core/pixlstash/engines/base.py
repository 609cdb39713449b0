"""The abstract engines that plugins implement, and the data they return.

An engine is pure: images (or texts) in, results out. It never touches the library
database, so the same object can run in-process or on a remote worker (Ray and the like).
Weights load lazily in ``load()`` (or on first use), never in ``__init__`` or at import time.
"""

from __future__ import annotations

import abc
import enum
import math
import os
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple

import msgspec

from ..errors import BadInput

if TYPE_CHECKING:
    import numpy as np
    from PIL.Image import Image

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

ENGINE_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.@+-]*$")


class OutOfDeviceMemory(Exception):
    """Raise from an engine when the device ran out of memory; the worker retries the batch on the CPU.

    The worker also recognises torch's ``OutOfMemoryError`` and "out of memory" runtime errors.
    """


def is_out_of_memory(error: BaseException) -> bool:
    if isinstance(error, (OutOfDeviceMemory, MemoryError)) or type(error).__name__ == "OutOfMemoryError":
        return True
    return isinstance(error, RuntimeError) and "out of memory" in str(error).lower()


class Task(enum.StrEnum):
    """The kinds of enrichment work an engine can do."""

    TAGGER = "tagger"
    CAPTIONER = "captioner"
    EMBEDDER = "embedder"
    FACES = "faces"
    SCORER = "scorer"
    OCR = "ocr"


class TagScore(msgspec.Struct, frozen=True):
    """One predicted tag with its confidence in [0, 1]."""

    name: str
    score: float
    category: str = "general"


class Face(msgspec.Struct, frozen=True):
    """One detected face: box (x0, y0, x1, y1) in pixels of the image given, landmarks, score, embedding."""

    box: tuple[float, float, float, float]
    score: float
    landmarks: list[tuple[float, float]] = []
    embedding: list[float] = []
    # Set by the library, not the engine: which of a video's frames the face was found on (0: the poster
    # or a still) and that frame's time.
    frame: int = 0
    frame_seconds: float | None = None


ParameterType = Literal["string", "number", "integer", "boolean", "string-list"]


class EngineParameter(msgspec.Struct, frozen=True):
    """A setting a user may change per request (a threshold, a prompt, ...). Values arrive as JSON or as
    text from the command line; ``convert`` makes them the declared type or says what is wrong."""

    name: str
    type: ParameterType
    default: Any = None
    description: str = ""
    minimum: float | None = None  # numbers only
    maximum: float | None = None
    choices: list[str] | None = None  # the values a string (or each item of a string-list) may take

    def convert(self, value: Any) -> Any:
        try:
            converted = _CONVERTERS[self.type](value)
        except (TypeError, ValueError):
            raise BadInput(f"parameter {self.name} takes a {self.type}, not {value!r}") from None
        if self.choices is not None:
            wrong = [v for v in (converted if self.type == "string-list" else [converted]) if v not in self.choices]
            if wrong:
                shown = ", ".join(repr(c) for c in self.choices[:12])
                more = " ..." if len(self.choices) > 12 else ""
                raise BadInput(f"parameter {self.name} is one of {shown}{more}, not {wrong[0]!r}")
        if self.type in ("number", "integer") and (
            not math.isfinite(converted)
            or (self.minimum is not None and converted < self.minimum)
            or (self.maximum is not None and converted > self.maximum)
        ):
            raise BadInput(f"parameter {self.name} must lie in [{self.minimum}, {self.maximum}], not {value!r}")
        return converted


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "1", "false", "no", "off", "0"):
        return value.strip().lower() in ("true", "yes", "on", "1")
    raise ValueError(value)


def _integer(value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(value)
    return int(value)


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(value)
    return float(value)


def _string_list(value: Any) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value)
    if not all(isinstance(item, str) for item in items):
        raise ValueError(value)
    return [item.strip() for item in items if item.strip()]


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(value)
    return value


_CONVERTERS = {
    "string": _string,
    "number": _number,
    "integer": _integer,
    "boolean": _boolean,
    "string-list": _string_list,
}


class ModelStatus(msgspec.Struct, frozen=True):
    """Where an engine's model files are and whether they are present (``pixlstash models``)."""

    model: str
    present: bool
    location: str = ""
    how_to_get: str = ""
    note: str = ""  # what a user should know before running it here (speed or memory on this machine)
    available: bool = True  # False: set up, but the service it runs on cannot be reached now (the work waits)


def hub_endpoint() -> str:
    """The Hugging Face hub as ``huggingface_hub`` reaches it (``HF_ENDPOINT``, else huggingface.co)."""
    return os.environ.get("HF_ENDPOINT") or "https://huggingface.co"


class Engine(abc.ABC):
    """Base of every engine. Subclasses set ``task`` and give each instance a stable ``id``.

    ``id`` is ``"<plugin>/<model>"`` (``clip/ViT-B-32``); ``version`` changes whenever results
    would change (new weights, new preprocessing), so derived data can be recomputed lazily.
    """

    task: ClassVar[Task]
    id: str
    version: str = "1"
    label: str = ""
    preferred_batch_size: int = 8
    input_size: int = 1024  # the shortest image side this engine looks at; the worker feeds a big enough image
    # True: a picture with transparency reaches the engine as RGBA, for an engine whose reference composites
    # it itself (the WD tagger on white); else every image is RGB, as PIL's convert("RGB") makes it.
    keeps_alpha: bool = False
    # What one Ray actor running this engine reserves on its node ("num_gpus", "num_cpus", "memory" in
    # bytes), over the library's ray settings; empty: the settings alone decide. An engine that runs on a
    # GPU declares its share of one card ("num_gpus": 0.25 lets four such actors share it); it is asked for
    # only where the cluster has GPUs, and the library's ``ray.num_gpus``, when set, replaces it.
    ray_resources: Mapping[str, float] = {}
    # True: the engine runs in a process of its own, started on load and ended on unload, so the libraries
    # it imports (torch, onnxruntime) and its weights never stay in the server. A string names a group of
    # engines sharing one process (engines sharing weights). Its calls must then be pure: arguments and
    # results are pickled, and the process builds the engine again from the installed plugins.
    own_process: bool | str = False
    # True: the engine sends the pictures to a server (a vision model behind an HTTP API). Such an engine is
    # used only when the owner names it (a request, a task's default, an on-import entry by id), never
    # because it is the first one ready: installing it must not send the library anywhere.
    sends_pictures: bool = False

    def devices(self) -> list[str]:
        """Devices this engine can run on here, best first ("cuda", "mps", "cpu"); CPU-only by default."""
        return ["cpu"]

    def parameters(self) -> list[EngineParameter]:
        """The parameters this engine accepts per request, with defaults."""
        return []

    def model_status(self) -> ModelStatus:
        """Where this engine's model lives and whether it is present; engines without weights are present."""
        return ModelStatus(model=self.id, present=True)

    def load(self, device: str = "cpu") -> None:  # noqa: B027 - optional hook for subclasses
        """Load weights onto ``device`` ("cuda", "mps" or "cpu"); called before first use.

        Raise ``pixlstash.errors.ModelMissing`` naming the model and how to get it when its files are absent;
        never download here.
        """

    def download(self) -> str:
        """Fetch the model files (only ever on the user's request: ``pixlstash models pull``); returns where."""
        raise NotImplementedError(f"{self.id} has no model files to download")

    def download_source(self) -> str:
        """Where ``download()`` fetches from: its host is tried before a pull starts, and named when it cannot
        be reached. The Hugging Face hub (``HF_ENDPOINT``, else huggingface.co) unless the engine says."""
        return hub_endpoint()

    def unload(self) -> None:  # noqa: B027 - optional hook for subclasses
        """Free the weights; the next call loads them again."""

    def batch_size(self, device: str) -> int:
        """How many pictures to give it at once once loaded on ``device``: on a GPU, sized from the memory
        free there (``pixlstash.engines.precision.batch_for_memory``); ``preferred_batch_size`` by default."""
        return self.preferred_batch_size

    def device_note(self) -> str:
        """How the loaded engine runs, in a few words, when there is something to say ("" when not): the
        number format it chose, why it is not on the GPU. ``jobs`` and ``doctor --bench`` print it."""
        return ""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} v{self.version}>"


class Tagger(Engine):
    """Predicts tags for pictures."""

    task = Task.TAGGER

    @abc.abstractmethod
    def tag(self, images: Sequence[Image]) -> list[list[TagScore]]:
        """Return, for each image in order, its predicted tags (any order, scores in [0, 1])."""


class Captioner(Engine):
    """Writes a caption (description) for pictures."""

    task = Task.CAPTIONER

    @abc.abstractmethod
    def describe(self, images: Sequence[Image], prompt: str | None = None) -> list[str]:
        """Return one caption per image, in order; ``prompt`` steers the style where supported."""


class Embedder(Engine):
    """Maps pictures (and, where it can, texts) into one vector space for similarity search."""

    task = Task.EMBEDDER
    dimensions: int

    @abc.abstractmethod
    def embed_images(self, images: Sequence[Image]) -> np.ndarray:
        """Return an ``(len(images), dimensions)`` float32 array of L2-normalised vectors."""

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Return an ``(len(texts), dimensions)`` float32 array; only embedders with a text tower."""
        raise NotImplementedError(f"{self.id} has no text encoder")

    @property
    def supports_text(self) -> bool:
        """True when ``embed_texts`` is implemented (semantic search needs it)."""
        return type(self).embed_texts is not Embedder.embed_texts


class FaceExtractor(Engine):
    """Finds faces and gives each an identity embedding for face search."""

    task = Task.FACES
    dimensions: int
    # How two of its vectors compare. False: identity vectors under cosine (ArcFace), stored L2-normalised,
    # alike at the library's cluster threshold. True: a learned metric (CCIP) that ``likeness`` runs; its
    # vectors are stored as given (the metric may read their length) and the index only proposes candidates.
    learned_likeness: bool = False

    @abc.abstractmethod
    def extract(self, images: Sequence[Image]) -> list[list[Face]]:
        """Return, for each image in order, the faces found in it."""

    def likeness(self, left: np.ndarray, right: np.ndarray) -> list[float]:
        """How alike each row of ``left`` is to the same row of ``right`` (1: the same; at or above
        ``likeness_threshold``: one character). Only engines with ``learned_likeness`` implement it."""
        raise NotImplementedError(f"{self.id} compares its vectors by cosine")

    def likeness_threshold(self) -> float | None:
        """The likeness its model's authors take for one character; None: the library's cluster threshold."""
        return None


class ScoreInput(NamedTuple):
    """What a scorer that reads stored data gets for one picture (``Scorer.reads == "embedding"``): the
    picture's stored vector from the scorer's ``embedder_id`` (L2-normalised), and its positive prompt from
    the generation data ("" when it has none; given only to scorers with ``needs_prompt``)."""

    vector: np.ndarray
    prompt: str = ""


class Scorer(Engine):
    """Gives each picture one number (quality, aesthetic appeal, how well it matches its prompt) that a
    person sorts, filters and prunes by.

    A scorer reads the picture itself (``reads = "image"``: images at ``input_size``) or the vectors an
    embedder already stored (``reads = "embedding"``: one ``ScoreInput`` per picture, from ``embedder_id``),
    so scoring a library of embedded pictures costs no image decoding and no vision model.
    """

    task = Task.SCORER
    reads: Literal["image", "embedding"] = "image"
    embedder_id: str = ""  # the embedder whose stored vectors a scorer that reads embeddings uses
    needs_prompt: bool = False  # give it the picture's positive prompt as well
    # The range its scores lie in, for histograms and range filters; a score outside it is refused.
    low: float = 0.0
    high: float = 1.0

    @abc.abstractmethod
    def score(self, items: Sequence[Any]) -> list[float | None]:
        """Return one score per item, in order: images, or ``ScoreInput`` for scorers that read embeddings.
        None means the score does not apply to that picture (no prompt to match): any old score is removed."""


class TextRegion(msgspec.Struct, frozen=True):
    """One run of text found in a picture, with its quadrilateral: four (x, y) corners in pixels of the image
    given, clockwise from the top left as the reader saw them."""

    text: str
    quad: tuple[float, float, float, float, float, float, float, float]


class TextReader(Engine):
    """Reads the text in pictures (OCR), with where each run of it is."""

    task = Task.OCR

    @abc.abstractmethod
    def read(self, images: Sequence[Image]) -> list[list[TextRegion]]:
        """Return, for each image in order, the text regions found in it (empty: no text)."""
