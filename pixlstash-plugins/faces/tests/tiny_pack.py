"""A tiny insightface model pack built with ``onnx.helper`` (no torch): an SCRFD-like detector with the
real signature (``[1, 3, H, W]`` in; scores, boxes and 5-point landmarks for strides 8, 16 and 32, two
anchors each: 9 outputs) and an ArcFace-like recogniser (``[N, 3, 112, 112]`` in, 512 out). insightface's
model zoo recognises both by their signature, as it does the real files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

STRIDES = (8, 16, 32)


def _detector(rng: np.random.Generator) -> onnx.ModelProto:
    nodes, inits, outputs = [], [], {"score": [], "bbox": [], "kps": []}
    for stride in STRIDES:
        fan_in = 3 * stride * stride
        for kind, per_anchor, bias in (("score", 1, -3.5), ("bbox", 4, 1.0), ("kps", 10, 0.0)):
            channels = 2 * per_anchor
            w = (rng.standard_normal((channels, 3, stride, stride)) * 2.5 / np.sqrt(fan_in)).astype(np.float32)
            b = np.full(channels, bias, dtype=np.float32)
            name = f"{kind}{stride}"
            inits += [numpy_helper.from_array(w, f"{name}_w"), numpy_helper.from_array(b, f"{name}_b")]
            nodes.append(
                helper.make_node("Conv", ["input.1", f"{name}_w", f"{name}_b"], [f"{name}_c"], strides=[stride, stride])
            )
            nodes.append(helper.make_node("Transpose", [f"{name}_c"], [f"{name}_t"], perm=[0, 2, 3, 1]))
            inits.append(numpy_helper.from_array(np.array([-1, per_anchor], dtype=np.int64), f"{name}_shape"))
            raw = f"{name}_r" if kind != "kps" else name
            nodes.append(helper.make_node("Reshape", [f"{name}_t", f"{name}_shape"], [raw]))
            if kind == "score":
                nodes.append(helper.make_node("Sigmoid", [raw], [name]))
            elif kind == "bbox":  # distances from the anchor: positive, a few strides wide
                nodes.append(helper.make_node("Softplus", [raw], [name]))
            outputs[kind].append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [None, per_anchor]))
    graph = helper.make_graph(
        nodes,
        "tiny-scrfd",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, "height", "width"])],
        outputs["score"] + outputs["bbox"] + outputs["kps"],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def _recogniser(rng: np.random.Generator) -> onnx.ModelProto:
    w = (rng.standard_normal((3 * 14 * 14, 512)) / np.sqrt(3 * 14 * 14)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("AveragePool", ["data"], ["pooled"], kernel_shape=[8, 8], strides=[8, 8]),
            helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
            helper.make_node("MatMul", ["flat", "fc_w"], ["fc1"]),
        ],
        "tiny-arcface",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, ["batch", 3, 112, 112])],
        [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, ["batch", 512])],
        [numpy_helper.from_array(w, "fc_w")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def build_tiny_pack(folder: Path, seed: int = 0) -> Path:
    """``det_tiny.onnx`` and ``rec_tiny.onnx`` in ``folder``, as a pack's files lie."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name, model in (("det_tiny.onnx", _detector(rng)), ("w600k_tiny.onnx", _recogniser(rng))):
        onnx.checker.check_model(model)
        onnx.save(model, str(folder / name))
    return folder
