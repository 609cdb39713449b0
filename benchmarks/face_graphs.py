"""Full-size face model graphs with random weights, built with ``onnx.helper`` (no torch), to measure
what a CPU user can expect from the faces plugin: a detector of SCRFD-10G's kind (a ResNet-style
backbone with heads at strides 8, 16 and 32 giving the 9 outputs insightface's SCRFD reads; 10 MB, the
real det_10g.onnx is 17 MB) and a recogniser of ArcFace ResNet-50's size (bottleneck stages 3-4-14-3 at
112 px, 512 out; 133 MB, the real w600k_r50.onnx is 174 MB). The detector's score bias is set so a
photo gets a few "faces", as a real one does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class _Graph:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list = []
        self.inits: list = []
        self.n = 0

    def name(self, stem: str) -> str:
        self.n += 1
        return f"{stem}{self.n}"

    def conv(
        self, x: str, cin: int, cout: int, k: int = 3, stride: int = 1, relu: bool = True, bias: float = 0.0
    ) -> str:
        w = self.name("w")
        b = self.name("b")
        std = np.sqrt(2.0 / (cin * k * k))
        self.inits.append(
            numpy_helper.from_array((self.rng.standard_normal((cout, cin, k, k)) * std).astype(np.float32), w)
        )
        self.inits.append(numpy_helper.from_array(np.full(cout, bias, dtype=np.float32), b))
        out = self.name("c")
        self.nodes.append(helper.make_node("Conv", [x, w, b], [out], strides=[stride, stride], pads=[k // 2] * 4))
        if relu:
            act = self.name("r")
            self.nodes.append(helper.make_node("Relu", [out], [act]))
            return act
        return out

    def bottleneck(self, x: str, cin: int, mid: int, cout: int, stride: int) -> str:
        y = self.conv(x, cin, mid, 1)
        y = self.conv(y, mid, mid, 3, stride)
        y = self.conv(y, mid, cout, 1, relu=False)
        skip = x if stride == 1 and cin == cout else self.conv(x, cin, cout, 1, stride, relu=False)
        out = self.name("add")
        self.nodes.append(helper.make_node("Add", [y, skip], [out]))
        act = self.name("r")
        self.nodes.append(helper.make_node("Relu", [out], [act]))
        return act

    def stage(self, x: str, cin: int, mid: int, cout: int, blocks: int, stride: int) -> str:
        x = self.bottleneck(x, cin, mid, cout, stride)
        for _ in range(blocks - 1):
            x = self.bottleneck(x, cout, mid, cout, 1)
        return x

    def save(self, path: Path, inputs: list, outputs: list) -> Path:
        graph = helper.make_graph(self.nodes, path.stem, inputs, outputs, self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
        onnx.save(model, str(path))
        return path


def arcface_r50(path: Path) -> Path:
    g = _Graph(1)
    x = g.conv("data", 3, 64, 3, 1)
    x = g.stage(x, 64, 64, 256, 3, 2)  # 56
    x = g.stage(x, 256, 128, 512, 4, 2)  # 28
    x = g.stage(x, 512, 256, 1024, 14, 2)  # 14
    x = g.stage(x, 1024, 512, 2048, 3, 2)  # 7
    pooled = g.name("gap")
    g.nodes.append(helper.make_node("GlobalAveragePool", [x], [pooled]))
    flat = g.name("flat")
    g.nodes.append(helper.make_node("Flatten", [pooled], [flat], axis=1))
    g.inits.append(numpy_helper.from_array((g.rng.standard_normal((2048, 512)) * 0.02).astype(np.float32), "fc_w"))
    g.nodes.append(helper.make_node("MatMul", [flat, "fc_w"], ["fc1"]))
    return g.save(
        path,
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, ["batch", 3, 112, 112])],
        [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, ["batch", 512])],
    )


def scrfd_10g(path: Path) -> Path:
    g = _Graph(2)
    x = g.conv("input.1", 3, 32, 3, 2)  # /2
    x = g.conv(x, 32, 64, 3, 2)  # /4
    c8 = g.stage(x, 64, 64, 128, 3, 2)  # /8
    c16 = g.stage(c8, 128, 96, 256, 4, 2)  # /16
    c32 = g.stage(c16, 256, 128, 256, 3, 2)  # /32
    outputs = {"score": [], "bbox": [], "kps": []}
    for stride, feature, channels in ((8, c8, 128), (16, c16, 256), (32, c32, 256)):
        head = g.conv(g.conv(feature, channels, 128, 3), 128, 128, 3)
        for kind, per_anchor, bias in (("score", 1, -55.0), ("bbox", 4, 1.0), ("kps", 10, 0.0)):
            y = g.conv(head, 128, 2 * per_anchor, 3, relu=False, bias=bias)
            t = g.name("t")
            g.nodes.append(helper.make_node("Transpose", [y], [t], perm=[0, 2, 3, 1]))
            shape = g.name("shape")
            g.inits.append(numpy_helper.from_array(np.array([-1, per_anchor], dtype=np.int64), shape))
            out = f"{kind}_{stride}"
            raw = out if kind == "kps" else g.name("raw")
            g.nodes.append(helper.make_node("Reshape", [t, shape], [raw]))
            if kind == "score":
                g.nodes.append(helper.make_node("Sigmoid", [raw], [out]))
            elif kind == "bbox":
                g.nodes.append(helper.make_node("Softplus", [raw], [out]))
            outputs[kind].append(helper.make_tensor_value_info(out, TensorProto.FLOAT, [None, per_anchor]))
    return g.save(
        path,
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, "height", "width"])],
        outputs["score"] + outputs["bbox"] + outputs["kps"],
    )


def build_full_size_pack(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    scrfd_10g(folder / "det_10g_shaped.onnx")
    arcface_r50(folder / "w600k_r50_shaped.onnx")
    return folder
