"""Boxes: (x0, y0, x1, y1) in pixels."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["box_overlap"]


def box_overlap(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two boxes: 1 for the same box, 0 for boxes apart."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
