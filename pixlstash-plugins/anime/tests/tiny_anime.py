"""Random-weight stand-ins for DeepGHS's anime graphs, built with ``onnx.helper`` (no torch, nothing
downloaded), with the real signatures: a YOLOv8 detector (``images`` ``[1, 3, 640, 640]`` in, ``output0``
``[1, 4 + classes, 8400]`` out: boxes as centre and size in input pixels, then class confidences, for
strides 8, 16 and 32; ``names`` and ``imgsz`` in its metadata), and CCIP's feature graph (``input``
``[N, 3, 384, 384]`` in, ``output`` ``[N, 768]``) and metric graph (``input`` ``[N, 768]`` in, ``output``
``[N, N]`` differences in [0, 1], 0 on the diagonal).

They are written as the Hugging Face cache holds the real repositories, where imgutils finds them
offline and the plugin finds them too.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

STRIDES = (8, 16, 32)
SIDE = 640
FEATURES = 768
REVISION = "0123456789abcdef0123456789abcdef01234567"


def _detector(rng: np.random.Generator, label: str) -> onnx.ModelProto:
    channels = 5  # x, y, w, h, one class
    nodes, inits, per_stride = [], [], []
    offset = 0.0
    for stride in STRIDES:
        cells = SIDE // stride
        w = (rng.standard_normal((channels, 3, stride, stride)) * 3.0 / stride).astype(np.float32)
        # The confidence answers edges, not flat colour: its kernel sums to zero, so a plain background
        # finds nothing and a drawn figure finds a few boxes.
        w[4] -= w[4].mean(axis=(1, 2), keepdims=True)
        w[4] *= 0.5
        b = np.array([0, 0, 0.5, 0.5, -2.0], dtype=np.float32)
        grid_y, grid_x = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
        grid = np.stack([grid_x.ravel(), grid_y.ravel()])[None].astype(np.float32)  # [1, 2, cells*cells]
        n = f"s{stride}"
        inits += [
            numpy_helper.from_array(w, f"{n}_w"),
            numpy_helper.from_array(b, f"{n}_b"),
            numpy_helper.from_array(np.array([1, channels, cells * cells], dtype=np.int64), f"{n}_shape"),
            numpy_helper.from_array(np.array([2, 2, 1], dtype=np.int64), f"{n}_split"),
            numpy_helper.from_array(grid, f"{n}_grid"),
            numpy_helper.from_array(np.array(float(stride), dtype=np.float32), f"{n}_stride"),
            numpy_helper.from_array(np.array(float(stride * 6), dtype=np.float32), f"{n}_span"),
            # No two anchors tie on confidence (a flat region would give many equal ones, which NMS then
            # visits in whatever order the sort leaves ties: numpy 1 and 2 differ there).
            numpy_helper.from_array(
                (np.arange(cells * cells, dtype=np.float32) * 1e-5 + offset)[None, None, :], f"{n}_ramp"
            ),
        ]
        offset += cells * cells * 1e-5
        nodes += [
            helper.make_node("Conv", ["images", f"{n}_w", f"{n}_b"], [f"{n}_c"], strides=[stride, stride]),
            helper.make_node("Reshape", [f"{n}_c", f"{n}_shape"], [f"{n}_r"]),
            helper.make_node("Split", [f"{n}_r", f"{n}_split"], [f"{n}_xy", f"{n}_wh", f"{n}_cls"], axis=1),
            helper.make_node("Sigmoid", [f"{n}_xy"], [f"{n}_xys"]),
            helper.make_node("Add", [f"{n}_xys", f"{n}_grid"], [f"{n}_xyg"]),
            helper.make_node("Mul", [f"{n}_xyg", f"{n}_stride"], [f"{n}_centre"]),
            helper.make_node("Sigmoid", [f"{n}_wh"], [f"{n}_whs"]),
            helper.make_node("Mul", [f"{n}_whs", f"{n}_span"], [f"{n}_size"]),
            helper.make_node("Add", [f"{n}_cls", f"{n}_ramp"], [f"{n}_logit"]),
            helper.make_node("Sigmoid", [f"{n}_logit"], [f"{n}_conf"]),
            helper.make_node("Concat", [f"{n}_centre", f"{n}_size", f"{n}_conf"], [f"{n}_out"], axis=1),
        ]
        per_stride.append(f"{n}_out")
    nodes.append(helper.make_node("Concat", per_stride, ["output0"], axis=2))
    anchors = sum((SIDE // s) ** 2 for s in STRIDES)
    graph = helper.make_graph(
        nodes,
        "yolov8-tiny",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, SIDE, SIDE])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, channels, anchors])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    helper.set_model_props(model, {"names": repr({0: label}), "imgsz": json.dumps([SIDE, SIDE]), "stride": "32"})
    return model


def _feature(rng: np.random.Generator) -> onnx.ModelProto:
    pooled = 3 * 8 * 8
    inits = [
        numpy_helper.from_array(np.array([-1, pooled], dtype=np.int64), "flat"),
        numpy_helper.from_array((rng.standard_normal((pooled, FEATURES)) / 4).astype(np.float32), "w"),
        numpy_helper.from_array(rng.standard_normal(FEATURES).astype(np.float32), "b"),
    ]
    nodes = [
        helper.make_node("AveragePool", ["input"], ["pool"], kernel_shape=[48, 48], strides=[48, 48]),
        helper.make_node("Reshape", ["pool", "flat"], ["row"]),
        helper.make_node("MatMul", ["row", "w"], ["mm"]),
        helper.make_node("Add", ["mm", "b"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "ccip-feat-tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 384, 384])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", FEATURES])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _metric(rng: np.random.Generator) -> onnx.ModelProto:
    """(1 - cosine of a random projection) / 2, less a small term in the features' length, so that the
    metric reads the vectors as given (a store that normalised them would be caught)."""
    inits = [
        numpy_helper.from_array((rng.standard_normal((FEATURES, 64)) / 8).astype(np.float32), "proj"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "last"),
        numpy_helper.from_array(np.array(0.5, dtype=np.float32), "half"),
        numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one"),
        numpy_helper.from_array(np.array(1e-3, dtype=np.float32), "tiny"),
    ]
    nodes = [
        helper.make_node("MatMul", ["input", "proj"], ["y"]),
        helper.make_node("ReduceL2", ["y", "last"], ["norm"], keepdims=1),
        helper.make_node("Div", ["y", "norm"], ["unit"]),
        helper.make_node("Transpose", ["unit"], ["unit_t"], perm=[1, 0]),
        helper.make_node("MatMul", ["unit", "unit_t"], ["cos"]),
        helper.make_node("Sub", ["one", "cos"], ["apart"]),
        helper.make_node("Mul", ["apart", "half"], ["diff"]),  # (1 - cosine) / 2
        helper.make_node("ReduceL2", ["input", "last"], ["length"], keepdims=1),
        helper.make_node("Transpose", ["length"], ["length_t"], perm=[1, 0]),
        helper.make_node("Sub", ["length", "length_t"], ["length_gap"]),
        helper.make_node("Abs", ["length_gap"], ["length_abs"]),
        helper.make_node("Mul", ["length_abs", "tiny"], ["length_term"]),
        helper.make_node("Add", ["diff", "length_term"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "ccip-metric-tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", FEATURES])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", "N"])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def _snapshot(cache: Path, repo: str) -> Path:
    base = cache / f"models--{repo.replace('/', '--')}"
    (base / "refs").mkdir(parents=True, exist_ok=True)
    (base / "refs" / "main").write_text(REVISION)
    return base / "snapshots" / REVISION


def build_tiny_models(
    cache: Path, seed: int = 0, detectors: tuple[str, ...] = ("head_detect_v2.0_s",), threshold: float | None = 0.3
) -> dict[str, Path]:
    """The graphs in a Hugging Face cache at ``cache``: each detector named (of the head or face
    repository by its name), and ``ccip-caformer-24-randaug-pruned``. Returns each model's folder."""
    rng = np.random.default_rng(seed)
    folders = {}
    for name in detectors:
        repo = "deepghs/anime_face_detection" if name.startswith("face") else "deepghs/anime_head_detection"
        folder = _snapshot(cache, repo) / name
        folder.mkdir(parents=True, exist_ok=True)
        onnx.save(_detector(rng, "face" if name.startswith("face") else "head"), folder / "model.onnx")
        (folder / "model_type.json").write_text(json.dumps({"model_type": "yolo"}))
        if threshold is not None:
            (folder / "threshold.json").write_text(json.dumps({"threshold": threshold}))
        folders[name] = folder
    folder = _snapshot(cache, "deepghs/ccip_onnx") / "ccip-caformer-24-randaug-pruned"
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(_feature(rng), folder / "model_feat.onnx")
    onnx.save(_metric(rng), folder / "model_metrics.onnx")
    (folder / "metrics.json").write_text(json.dumps({"threshold": 0.3}))
    (folder / "cluster.json").write_text(json.dumps({"dbscan_2": {"eps": 0.3, "min_samples": 2}}))
    folders["ccip"] = folder
    return folders
