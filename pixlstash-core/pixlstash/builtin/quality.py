"""The built-in ``pixlstash/quality`` scorer: how technically sound a picture looks, 0 to 1, from its grid
thumbnail, with numpy alone (no model, no OpenCV), so it runs on any machine at hundreds of pictures a second.

Four measures, each 0 (bad) to 1 (good), on the luminance (Rec. 601, as Pillow's "L") of the thumbnail at
half its size (2×2 means, so about 192 px: grain averages down and does not pass for detail), in [0, 1]:

- **sharpness**: the variance ``v`` of the 4-neighbour Laplacian, less what noise puts there (20·σ², σ as
  below); ``v / (v + 0.002)``. A blurred or out-of-focus picture has little high-frequency energy left.
- **exposure**: ``1 - 2·|mean - 0.5|`` times the share of pixels that are not clipped (below 0.02 or above
  0.98). A picture crushed to black or burnt to white scores low.
- **noise**: ``exp(-σ / 0.01)`` with σ estimated by Immerkær's method (the mean absolute response of a
  Laplacian-difference mask that cancels edges, "Fast noise variance estimation", 1996).
- **contrast**: the RMS contrast (standard deviation of luminance) over 0.25, at most 1.

The score is their weighted mean (weights: sharpness 0.4, exposure 0.2, noise 0.2, contrast 0.2, each a
parameter). It is a triage figure for sorting a batch of generations or a shoot, not a judgement of art:
a deliberate low-key photograph scores low on exposure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..engines import EngineParameter, Scorer
from ..hookspecs import hookimpl

if TYPE_CHECKING:
    import numpy as np

__all__ = ["QualityScorer", "measure"]

_WEIGHTS = {"sharpness": 0.4, "exposure": 0.2, "noise": 0.2, "contrast": 0.2}
_SHARPNESS_HALF = 0.002  # Laplacian variance at which sharpness scores 0.5
_NOISE_SCALE = 0.01  # σ (at half size) at which noise scores 1/e
_CONTRAST_FULL = 0.25  # RMS contrast that scores 1
_CLIPPED = (0.02, 0.98)


def measure(image) -> dict[str, float]:
    """The four measures (0 to 1) of one RGB image."""
    import numpy as np  # here, not at the top: every CLI start registers this plugin

    # Luma at half the thumbnail's size (2x2 means), both by Pillow in C: a quarter of the pixels for numpy,
    # and grain averaged down so it does not pass for detail.
    half = np.asarray(image.convert("L").reduce(2), dtype=np.float32) * np.float32(1 / 255)
    if min(half.shape) < 3:  # too small to say anything of its detail
        return {"sharpness": 0.0, "exposure": 0.0, "noise": 0.0, "contrast": 0.0}
    centre, edges, corners = _shifted(half)
    sigma = _noise_sigma(centre, edges, corners)
    # White noise of σ gives the 4-neighbour Laplacian (weights 1, 1, 1, 1, -4) a variance of 20·σ².
    variance = max(0.0, float((edges - 4 * centre).var()) - 20 * sigma * sigma)
    mean = float(half.mean())
    unclipped = float(((half > _CLIPPED[0]) & (half < _CLIPPED[1])).mean())
    return {
        "sharpness": variance / (variance + _SHARPNESS_HALF),
        "exposure": max(0.0, 1 - 2 * abs(mean - 0.5)) * unclipped,
        "noise": math.exp(-sigma / _NOISE_SCALE),
        "contrast": min(1.0, float(half.std()) / _CONTRAST_FULL),
    }


def _shifted(luma: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each inner pixel, the sum of its 4 edge neighbours, and the sum of its 4 corner neighbours."""
    centre = luma[1:-1, 1:-1]
    edges = luma[:-2, 1:-1] + luma[2:, 1:-1] + luma[1:-1, :-2] + luma[1:-1, 2:]
    corners = luma[:-2, :-2] + luma[:-2, 2:] + luma[2:, :-2] + luma[2:, 2:]
    return centre, edges, corners


def _noise_sigma(centre: np.ndarray, edges: np.ndarray, corners: np.ndarray) -> float:
    """Immerkær: the mask [[1,-2,1],[-2,4,-2],[1,-2,1]] (two Laplacians' difference) cancels edges."""
    return math.sqrt(math.pi / 2) * float(abs(corners - 2 * edges + 4 * centre).mean()) / 6


class QualityScorer(Scorer):
    """Sharpness, exposure, noise and contrast of the grid thumbnail, as one 0-1 figure."""

    id = "pixlstash/quality"
    version = "2"  # 2: every measure at half the thumbnail's size; sharpness less the noise's share
    label = "Quality"
    input_size = 128  # the grid thumbnail covers it for any picture up to 3:1
    preferred_batch_size = 64

    def parameters(self) -> list[EngineParameter]:
        return [
            EngineParameter(
                f"{name}_weight", "number", weight, f"how much {name} counts in the score", minimum=0, maximum=10
            )
            for name, weight in _WEIGHTS.items()
        ]

    def score(self, items: Sequence, **weights: float) -> list[float | None]:
        chosen = {name: weights.get(f"{name}_weight", default) for name, default in _WEIGHTS.items()}
        total = sum(chosen.values()) or 1.0
        scores = []
        for image in items:
            measures = measure(image)
            value = sum(chosen[name] * measures[name] for name in chosen) / total
            scores.append(min(1.0, max(0.0, value)))
        return scores


@hookimpl
def register_scorers(register, settings) -> None:
    register(QualityScorer())
