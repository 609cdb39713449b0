"""The built-in ``pixlstash/quality`` scorer: how technically sound a picture looks, 0 to 1, from its grid
thumbnail, with numpy alone (no model, no OpenCV), so it runs on any machine at hundreds of pictures a second.

Four measures, each 0 (bad) to 1 (good), on the luminance (Rec. 601) of the thumbnail, scaled to [0, 1]:

- **sharpness**: the variance ``v`` of the 4-neighbour Laplacian at half the thumbnail's size (2×2 means),
  less what noise puts there (20·σ², σ estimated as below at that size); ``v / (v + 0.002)``. A blurred
  or out-of-focus picture has little high-frequency energy left; halving first keeps grain from passing
  for detail (a thumbnail's resampled noise is too correlated for the correction alone).
- **exposure**: ``1 - 2·|mean - 0.5|`` times the share of pixels that are not clipped (below 0.02 or above
  0.98). A picture crushed to black or burnt to white scores low.
- **noise**: ``exp(-σ / 0.02)`` with σ estimated by Immerkær's method (the mean absolute response of a
  Laplacian-difference mask that cancels edges, "Fast noise variance estimation", 1996).
- **contrast**: the RMS contrast (standard deviation of luminance) over 0.25, at most 1.

The score is their weighted mean (weights: sharpness 0.4, exposure 0.2, noise 0.2, contrast 0.2, each a
parameter). It is a triage figure for sorting a batch of generations or a shoot, not a judgement of art:
a deliberate low-key photograph scores low on exposure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..engines import EngineParameter, Scorer
from ..hookspecs import hookimpl

__all__ = ["QualityScorer", "measure"]

_WEIGHTS = {"sharpness": 0.4, "exposure": 0.2, "noise": 0.2, "contrast": 0.2}
_SHARPNESS_HALF = 0.002  # Laplacian variance at which sharpness scores 0.5
_NOISE_SCALE = 0.02  # σ at which noise scores 1/e
_CONTRAST_FULL = 0.25  # RMS contrast that scores 1
_CLIPPED = (0.02, 0.98)
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32) / 255.0


def measure(image) -> dict[str, float]:
    """The four measures (0 to 1) of one RGB image."""
    pixels = np.asarray(image, dtype=np.float32)
    luma = pixels @ _LUMA if pixels.ndim == 3 else pixels / 255.0
    if min(luma.shape) < 3:  # too small to say anything of its detail
        return {"sharpness": 0.0, "exposure": 0.0, "noise": 0.0, "contrast": 0.0}
    sigma = _noise_sigma(luma)
    height, width = (luma.shape[0] // 2) * 2, (luma.shape[1] // 2) * 2
    half = luma[:height, :width].reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))
    variance = _laplacian_variance(half) if min(half.shape) >= 3 else 0.0
    mean = float(luma.mean())
    unclipped = float(((luma > _CLIPPED[0]) & (luma < _CLIPPED[1])).mean())
    return {
        "sharpness": variance / (variance + _SHARPNESS_HALF),
        "exposure": max(0.0, 1 - 2 * abs(mean - 0.5)) * unclipped,
        "noise": math.exp(-sigma / _NOISE_SCALE),
        "contrast": min(1.0, float(luma.std()) / _CONTRAST_FULL),
    }


def _shifted(luma: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each inner pixel, the sum of its 4 edge neighbours, and the sum of its 4 corner neighbours."""
    centre = luma[1:-1, 1:-1]
    edges = luma[:-2, 1:-1] + luma[2:, 1:-1] + luma[1:-1, :-2] + luma[1:-1, 2:]
    corners = luma[:-2, :-2] + luma[:-2, 2:] + luma[2:, :-2] + luma[2:, 2:]
    return centre, edges, corners


def _noise_sigma(luma: np.ndarray) -> float:
    """Immerkær: the mask [[1,-2,1],[-2,4,-2],[1,-2,1]] (two Laplacians' difference) cancels edges."""
    centre, edges, corners = _shifted(luma)
    return math.sqrt(math.pi / 2) * float(np.abs(corners - 2 * edges + 4 * centre).mean()) / 6


def _laplacian_variance(luma: np.ndarray) -> float:
    """The Laplacian's variance less noise's share: white noise of σ gives it 20·σ² (weights 1,1,1,1,-4)."""
    centre, edges, _ = _shifted(luma)
    sigma = _noise_sigma(luma)
    return max(0.0, float((edges - 4 * centre).var()) - 20 * sigma * sigma)


class QualityScorer(Scorer):
    """Sharpness, exposure, noise and contrast of the grid thumbnail, as one 0-1 figure."""

    id = "pixlstash/quality"
    version = "1"
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
