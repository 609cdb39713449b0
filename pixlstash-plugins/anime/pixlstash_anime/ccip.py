"""CCIP: features that tell anime characters apart, and the learned metric that compares them.

As dghs-imgutils computes them: a crop is resized to 384 x 384 (bilinear), scaled to [0, 1] and
normalised with CLIP's mean and standard deviation; the feature graph gives one vector per crop. Two
vectors are compared by the metric graph (a batch of N vectors in, an N x N matrix of differences out),
not by their cosine: a difference at or under the model's threshold means one character.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["SIZE", "differences", "pair_differences", "preprocess"]

SIZE = 384
_MEAN = np.asarray((0.48145466, 0.4578275, 0.40821073))
_STD = np.asarray((0.26862954, 0.26130258, 0.27577711))
PAIRS_PER_RUN = 128  # pairs scored by one run of the metric graph (a 256 x 256 matrix)


def preprocess(images: list[Image], size: int = SIZE) -> np.ndarray:
    """The ``[N, 3, size, size]`` feature input."""
    from PIL import Image as PILImage

    rows = []
    for image in images:
        data = np.array(image.resize((size, size), resample=PILImage.BILINEAR)).transpose(2, 0, 1)
        data = data.astype(np.float32) / 255.0
        rows.append((data - _MEAN[:, None, None]) / _STD[:, None, None])
    return np.stack(rows).astype(np.float32)


def differences(metric: Any, features: np.ndarray) -> np.ndarray:
    """The metric graph's N x N differences of a batch of features."""
    (output,) = metric.run(["output"], {"input": np.ascontiguousarray(features, dtype=np.float32)})
    return output


def pair_differences(metric: Any, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The difference of each row of ``left`` with the same row of ``right``, a few hundred per run."""
    found = np.zeros(len(left), dtype=np.float32)
    for start in range(0, len(left), PAIRS_PER_RUN):
        a, b = left[start : start + PAIRS_PER_RUN], right[start : start + PAIRS_PER_RUN]
        matrix = differences(metric, np.concatenate([a, b]))
        n = len(a)
        found[start : start + n] = matrix[np.arange(n), n + np.arange(n)]
    return found
