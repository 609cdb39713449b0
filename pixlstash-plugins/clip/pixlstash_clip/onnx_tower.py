"""The image tower on ONNX Runtime (the ``image_runtime`` setting): open_clip's vision tower exported once
into the models folder, and optionally its int8 copy, run on the CPU. The text tower stays on torch (a
query is one short forward pass), and torch stays the fallback: a tower that cannot be exported, or whose
export does not reproduce torch's vectors, is said once and the engine goes on with torch.

Measured on this project's 2-core machine (benchmarks/README.md): fp32 through ONNX Runtime 7-16% faster
than torch, int8 1.6-2x, with embeddings at cosine 0.998-0.9997 of fp32.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from pixlstash.engines.onnx_sessions import int8_copy, move_into_place, open_session

__all__ = ["RUNTIMES", "OnnxTower", "export_folder", "onnx_tower"]

log = logging.getLogger(__name__)

RUNTIMES = ("torch", "onnx", "onnx-int8")
_AGREEMENT = 0.999  # least cosine between torch's and the export's embedding of the same pixels


class OnnxTower:
    """Pixels (N, 3, S, S float32, preprocessed as open_clip does) in, image features out."""

    def __init__(self, session: Any, path: Path) -> None:
        self.session, self.path = session, path
        self.input_name = session.get_inputs()[0].name

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: np.ascontiguousarray(pixels, dtype=np.float32)})[0]


def onnx_tower(model: Any, side: int, folder: Path, int8: bool, engine_id: str) -> OnnxTower | None:
    """The loaded open_clip ``model``'s image tower on ONNX Runtime, exported into ``folder`` when not there
    yet; None (torch goes on) when that fails."""
    try:
        graph = folder / "visual.onnx"
        if not graph.is_file():
            _export(model, side, graph)
        if int8:
            graph = int8_copy(graph, folder / "visual.int8.onnx")
        return OnnxTower(open_session(graph, "cpu", 0, engine_id), graph)
    except Exception as error:  # no onnxruntime, a read-only models folder, an operator it cannot export
        log.warning("%s: the image tower stays on torch (ONNX Runtime could not take it: %s)", engine_id, error)
        return None


def export_folder(models: Path, key: str, fingerprint: str) -> Path:
    """Where a model's exported tower is kept: named after the model and the files it was exported from."""
    return models / ".onnx" / f"{re.sub(r'[^A-Za-z0-9._@-]', '_', key)}-{fingerprint}"


def _export(model: Any, side: int, target: Path) -> None:
    """Export the tower with a dynamic batch, check it reproduces torch's features, then put it in place."""
    import torch

    target.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(prefix=".visual-", suffix=".onnx", dir=target.parent)
    os.close(handle)
    try:
        pixels = torch.randn(2, 3, side, side, generator=torch.Generator().manual_seed(0))
        with torch.inference_mode():
            expected = model.visual(pixels).float().numpy()
        log.info("exporting the image tower to %s (once)", target)
        with warnings.catch_warnings():  # the tracer's notes on shape checks are for model authors, not users
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            _trace(model, pixels, scratch)
        got = OnnxTower(open_session(Path(scratch), "cpu", 0), Path(scratch))(pixels.numpy())
        agreement = _cosines(expected, got).min()
        if not agreement >= _AGREEMENT:
            raise ValueError(f"the exported tower's features agree with torch's only to cosine {agreement:.4f}")
        move_into_place(Path(scratch), target)
    finally:
        Path(scratch).unlink(missing_ok=True)


def _trace(model: Any, pixels: Any, path: str) -> None:
    import torch

    torch.onnx.export(
        model.visual,
        (pixels[:1],),
        path,
        input_names=["pixels"],
        output_names=["features"],
        dynamic_axes={"pixels": {0: "batch"}, "features": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)
