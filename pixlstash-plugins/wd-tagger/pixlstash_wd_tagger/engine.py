"""The WD tagger engine: one ONNX model on onnxruntime, booru tags with confidences.

The session is made on first use (``load``), on CUDA when onnxruntime has a working CUDA provider (in
float16 there unless the ``precision`` setting says fp32), else on the CPU with one intra-op thread per
core. A missing model raises ``ModelMissing`` naming it and how to get it; nothing here touches the network.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from pixlstash import EngineParameter, ModelMissing, ModelStatus, Tagger, TagScore
from pixlstash.engines.onnx_sessions import fp16_copy, int8_copy, onnx_devices, open_session, session_note

from .catalogue import MODEL_FILE, TAGS_FILE, WdModel
from .labels import Labels, Selection, select_tags
from .preprocess import prepare_batch

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["WdTagger"]

log = logging.getLogger(__name__)

_DEFAULT = Selection()
PARAMETERS = [
    EngineParameter(
        "general_threshold", "number", _DEFAULT.general_threshold, "general tags at or above this confidence", 0, 1
    ),
    EngineParameter(
        "character_threshold",
        "number",
        _DEFAULT.character_threshold,
        "character tags at or above this confidence",
        0,
        1,
    ),
    EngineParameter(
        "general_mcut", "boolean", _DEFAULT.general_mcut, "choose the general threshold per picture (MCut)"
    ),
    EngineParameter("character_mcut", "boolean", _DEFAULT.character_mcut, "the character threshold per picture (MCut)"),
    EngineParameter(
        "replace_underscores", "boolean", _DEFAULT.replace_underscores, "long_hair becomes long hair (not ^_^)"
    ),
    EngineParameter("exclude", "string-list", [], "tags never proposed"),
    EngineParameter("max_tags", "integer", _DEFAULT.max_tags, "at most this many general tags (0: all)", 0, 10_000),
    EngineParameter("rating", "boolean", _DEFAULT.rating, "propose the most likely rating (general ... explicit)"),
]
PUBLISHED_SIDE = 448  # every published WD model takes 448 x 448


class WdTagger(Tagger):
    preferred_batch_size = 16
    ray_resources = {"num_gpus": 0.25}  # on a GPU: four such actors share a card
    own_process = True  # onnxruntime and the session's memory leave with the engine's process on unload
    keeps_alpha = True  # transparency is composited on white here, as SmilingWolf's app does, not on black

    def __init__(self, model: WdModel, threads: int = 0, int8: bool = False, precision: str = "auto") -> None:
        self.model = model
        self.precision = precision  # on a GPU: "auto" and "fp16" run the float16 copy of the graph
        self.threads = threads or os.cpu_count() or 1
        self.int8 = int8  # the int8 copy of the graph: faster on a CPU, tags agree a little less (see README)
        self.id = model.engine_id
        self.label = f"WD {model.name}" + (" (int8)" if int8 else "")
        # Its predictions differ a little from the full-precision graph's: a version of their own.
        self.version = model.fingerprint() + ("+int8" if int8 else "")
        self._session: Any = None
        self._device: str | None = None
        self._note = ""  # how the session runs, for jobs and doctor
        self._labels: Labels | None = None
        self._pool: ThreadPoolExecutor | None = None  # prepares a batch's pictures on every core

    # -- what it is -----------------------------------------------------------------------------

    @property
    def input_size(self) -> int:  # type: ignore[override]
        """The square side the graph takes, read from its input shape once loaded (448 until then)."""
        return PUBLISHED_SIDE if self._session is None else _side(self._session.get_inputs()[0].shape)

    def parameters(self) -> list[EngineParameter]:
        return PARAMETERS

    def devices(self) -> list[str]:
        return onnx_devices()

    def batch_size(self, device: str) -> int:
        # onnxruntime does not say what memory is free; 64 of the largest (EVA02-Large, 448 px) take about
        # 3 GB of activations in float16, within any card that holds the model.
        return 64 if device == "cuda" else self.preferred_batch_size

    def device_note(self) -> str:
        return self._note

    def model_status(self) -> ModelStatus:
        folder = self.model.files()
        return ModelStatus(
            model=self.model.name,
            present=folder is not None,
            location=str(folder or self.model.local_folder),
            how_to_get=self.model.how_to_get(),
        )

    # -- loading --------------------------------------------------------------------------------

    def load(self, device: str = "cpu") -> None:
        if self._session is not None and self._device == device:
            return
        folder = self.model.files()
        if folder is None:
            raise ModelMissing(
                f"the WD tagger model {self.model.name} is not on this machine: {self.model.how_to_get()}",
                engine_id=self.id,
                location=str(self.model.local_folder),
            )
        graph = folder / MODEL_FILE
        note = ""
        if self.int8 and device == "cpu":  # int8 is a CPU speed-up; a GPU runs the graph as published
            graph = int8_copy(graph, self.model.int8_path())
        elif device == "cuda" and self.precision != "fp32":
            try:
                graph, note = fp16_copy(graph, self.model.fp16_path()), "float16"
            except ModelMissing:
                if self.precision == "fp16":
                    raise
                note = "float32: float16 needs the onnx package (pip install onnx)"
        session = open_session(graph, device, self.threads, self.id)
        labels = Labels.read(folder / TAGS_FILE)
        outputs = session.get_outputs()[0].shape[-1]
        if isinstance(outputs, int) and outputs != len(labels.names):
            raise ModelMissing(
                f"{folder / TAGS_FILE} lists {len(labels.names)} tags but the model scores {outputs}: "
                "the two files come from different models",
                engine_id=self.id,
            )
        self._session, self._device, self._labels = session, device, labels
        self._note = session_note(session) or note
        if self._pool is None and self.threads > 1:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="wd-prepare")
        log.info("loaded WD tagger %s from %s on %s", self.model.name, folder, session.get_providers()[0])

    def unload(self) -> None:
        self._session = self._device = None
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None

    # -- tagging --------------------------------------------------------------------------------

    def scores(self, images: Sequence[Image]) -> np.ndarray:
        """The model's confidences, one row per picture, in ``selected_tags.csv`` order."""
        if self._session is None:
            self.load("cpu")
        session = self._session
        batch = prepare_batch(images, self.input_size, self._pool)
        graph_input = session.get_inputs()[0]
        # One picture a run for a graph exported that way, and for the published 448 px models on a CPU:
        # measured on 2 cores, WD ViT v3 ran 12% faster one by one than in runs of 8 (the attention of 784
        # tokens a picture stops fitting in the caches). A GPU takes the whole batch.
        one_by_one = graph_input.shape[0] == 1 or (self.input_size >= 384 and self._device == "cpu")
        per_run = 1 if one_by_one else len(batch)
        if per_run >= len(batch):
            return session.run(None, {graph_input.name: batch})[0]
        return np.concatenate(
            [session.run(None, {graph_input.name: batch[i : i + per_run]})[0] for i in range(0, len(batch), per_run)]
        )

    def tag(self, images: Sequence[Image], **parameters: Any) -> list[list[TagScore]]:
        selection = Selection(
            **{k: v for k, v in parameters.items() if k != "exclude"},
            exclude=frozenset(parameters.get("exclude", ())),
        )
        scores = self.scores(images)
        assert self._labels is not None
        return [select_tags(np.clip(row, 0.0, 1.0), self._labels, selection) for row in scores]

    # -- fetching (only on the user's request) ----------------------------------------------------

    def download(self) -> str:
        return str(self.model.download())


def _side(shape: Sequence) -> int:
    """The input side of an NHWC shape (``[batch, side, side, 3]``)."""
    side = shape[1] if len(shape) == 4 else None
    return int(side) if isinstance(side, int) and side > 0 else PUBLISHED_SIDE
