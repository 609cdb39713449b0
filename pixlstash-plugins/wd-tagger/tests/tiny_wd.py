"""A tiny WD-shaped ONNX model with the real input and output signature (``[N, S, S, 3]`` float32 BGR in,
sigmoid scores ``[N, K]`` out) and a ``selected_tags.csv`` with all three categories, built with
``onnx.helper`` (no torch)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from onnx import TensorProto, checker, helper, numpy_helper, save

__all__ = ["SIDE", "TAGS", "build_tiny_wd", "weights"]

SIDE = 16
TAGS = [  # (name, category): ratings, general (a kaomoji among them), characters
    ("general", 9),
    ("sensitive", 9),
    ("questionable", 9),
    ("explicit", 9),
    ("1girl", 0),
    ("long_hair", 0),
    ("smile", 0),
    ("^_^", 0),
    ("blue_sky", 0),
    ("outdoors", 0),
    ("hatsune_miku", 4),
    ("kagamine_rin", 4),
]


def weights(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    w = rng.normal(0, 3.0 / (255 * np.sqrt(SIDE * SIDE * 3)), (SIDE * SIDE * 3, len(TAGS))).astype(np.float32)
    return w, rng.normal(0, 0.5, len(TAGS)).astype(np.float32)


def build_tiny_wd(folder: Path, *, batch: str | int = "batch", seed: int = 0, sure: tuple[str, ...] = ()) -> Path:
    """``model.onnx`` + ``selected_tags.csv`` as the published models lay them out. The graph flattens
    the whole image into a linear layer, so every pixel, its position and its channel order count."""
    folder.mkdir(parents=True, exist_ok=True)
    w, b = weights(seed)
    for n, (name, _) in enumerate(TAGS):
        if name in sure:  # tags this model always finds (a confident character, for the UI)
            b[n] += 12.0
    graph = helper.make_graph(
        [
            helper.make_node("Reshape", ["input_1", "shape"], ["flat"]),
            helper.make_node("MatMul", ["flat", "w"], ["logits_raw"]),
            helper.make_node("Add", ["logits_raw", "b"], ["logits"]),
            helper.make_node("Sigmoid", ["logits"], ["predictions_sigmoid"]),
        ],
        "tiny-wd",
        [helper.make_tensor_value_info("input_1", TensorProto.FLOAT, [batch, SIDE, SIDE, 3])],
        [helper.make_tensor_value_info("predictions_sigmoid", TensorProto.FLOAT, [batch, len(TAGS)])],
        [
            numpy_helper.from_array(np.array([-1, SIDE * SIDE * 3], dtype=np.int64), "shape"),
            numpy_helper.from_array(w, "w"),
            numpy_helper.from_array(b, "b"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    checker.check_model(model)
    save(model, str(folder / "model.onnx"))
    with open(folder / "selected_tags.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["tag_id", "name", "category", "count"])
        for n, (name, category) in enumerate(TAGS):
            writer.writerow([1000 + n, name, category, 10_000 - n])
    return folder
