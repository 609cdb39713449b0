"""YOLOv8 detection as dghs-imgutils runs DeepGHS's detectors, so that boxes equal imgutils' own.

The picture is resized to the graph's input size (``imgsz`` in the graph's metadata, else 640) without a
letterbox (imgutils stretches it; ``allow_dynamic`` instead keeps the aspect and rounds each side up to a
multiple of 32), encoded as RGB floats in [0, 1], and the graph's ``[4 + classes, anchors]`` output is
thresholded, suppressed (NMS with imgutils' +1 pixel areas) and scaled back to whole pixels of the picture.
"""

from __future__ import annotations

import ast
import json
import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["Detection", "input_size_of", "labels_of", "postprocess", "preprocess"]

Detection = tuple[tuple[int, int, int, int], str, float]


def input_size_of(metadata: dict[str, str]) -> tuple[int, int]:
    """(width, height) the graph was exported for."""
    if "imgsz" in metadata:
        size = tuple(json.loads(metadata["imgsz"]))
        if len(size) == 2:
            return int(size[0]), int(size[1])
    return 640, 640


def labels_of(metadata: dict[str, str]) -> list[str]:
    """The class names in the graph's metadata (``{0: 'head'}``), read as data, never evaluated."""
    names = ast.literal_eval(metadata.get("names", "{0: 'face'}"))
    return [str(names[i]) for i in range(len(names))]


def preprocess(
    image: Image, infer_size: tuple[int, int], allow_dynamic: bool = False
) -> tuple[np.ndarray, tuple[int, int], tuple[int, int]]:
    """(the ``[1, 3, H, W]`` input, the picture's size, the size it was resized to)."""
    width, height = image.width, image.height
    new_width, new_height = infer_size
    if allow_dynamic:
        ratio = min(infer_size[0] / width, infer_size[1] / height)
        scaled = (width * ratio, height * ratio) if ratio < 1 else (width, height)
        new_width, new_height = (int(math.ceil(side / 32) * 32) for side in scaled)
    resized = image.resize((new_width, new_height))  # Pillow's default filter, as imgutils leaves it
    data = (np.asarray(resized).transpose(2, 0, 1) / 255.0).astype(np.float32)
    return data[None, ...], (width, height), (new_width, new_height)


def _nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[int]:
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = scores.argsort()[::-1]
    keep = []
    while order.size > 0:
        first, rest = order[0], order[1:]
        keep.append(int(first))
        w = np.maximum(0.0, np.minimum(x2[first], x2[rest]) - np.maximum(x1[first], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[first], y2[rest]) - np.maximum(y1[first], y1[rest]) + 1)
        inter = w * h
        iou = inter / (areas[first] + areas[rest] - inter)
        order = rest[np.where(iou <= iou_threshold)[0]]
    return keep


def _back(x: float, y: float, old: tuple[int, int], new: tuple[float, float]) -> tuple[int, int]:
    x, y = x / new[0] * old[0], y / new[1] * old[1]
    return int(np.clip(x, a_min=0, a_max=old[0]).round()), int(np.clip(y, a_min=0, a_max=old[1]).round())


def _corners(box, old: tuple[int, int], new: tuple[float, float]) -> tuple[int, int, int, int]:
    """A box in the input's pixels, as whole pixels of the picture."""
    return _back(box[0], box[1], old, new) + _back(box[2], box[3], old, new)


def postprocess(
    output: np.ndarray,
    conf_threshold: float,
    iou_threshold: float,
    old_size: tuple[int, int],
    new_size: tuple[int, int],
    labels: list[str],
    model_type: str = "yolo",
) -> list[Detection]:
    """Detections from one picture's output: ``[4 + classes, anchors]`` (YOLOv8), ``[anchors, 6]``
    (end-to-end graphs, already suppressed) or RT-DETR's ``[anchors, 4 + classes]`` in [0, 1]."""
    if model_type == "rtdetr":
        return _suppressed(output.transpose(1, 0), conf_threshold, iou_threshold, old_size, (1.0, 1.0), labels)
    if output.shape[-1] == 6:
        kept = output[output[:, 4] > conf_threshold]
        found = []
        for row in kept[_nms(kept[:, :4], kept[:, 4], 0.7)]:
            found.append((_corners(row, old_size, new_size), labels[int(row[5])], float(row[4])))
        return found
    return _suppressed(output, conf_threshold, iou_threshold, old_size, new_size, labels)


def _suppressed(
    output: np.ndarray,
    conf_threshold: float,
    iou_threshold: float,
    old_size: tuple[int, int],
    new_size: tuple[float, float],
    labels: list[str],
) -> list[Detection]:
    if output.shape[0] != 4 + len(labels):
        raise ValueError(
            f"the detector's output has {output.shape[0]} rows; its {len(labels)} classes need {4 + len(labels)}"
        )
    candidates = output[:, output[4:, :].max(axis=0) > conf_threshold].transpose(1, 0)
    if not candidates.size:
        return []
    xywh, scores = candidates[:, :4], candidates[:, 4:]
    boxes = np.copy(xywh)
    boxes[:, 0], boxes[:, 1] = xywh[:, 0] - xywh[:, 2] / 2, xywh[:, 1] - xywh[:, 3] / 2
    boxes[:, 2], boxes[:, 3] = xywh[:, 0] + xywh[:, 2] / 2, xywh[:, 1] + xywh[:, 3] / 2
    kept = _nms(boxes, scores.max(axis=1), iou_threshold)
    found = []
    for box, score in zip(boxes[kept], scores[kept], strict=True):
        best = int(score.argmax())
        found.append((_corners(box, old_size, new_size), labels[best], float(score[best])))
    return found
