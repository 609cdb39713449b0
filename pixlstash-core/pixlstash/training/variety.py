"""How varied a training set is, from vectors the library already stores: each picture's embedding (the
image embedder's, CLIP or another) and, for a character, its faces' identity vectors (ArcFace, CCIP).

- **Spread**: each picture's cosine distance to the set's centre (the normalised mean of its normalised
  vectors). A set whose median distance is small shows nearly the same picture again and again.
- **Outliers**: pictures farther from the centre than the median by more than ``OUTLIER_MADS`` median
  absolute deviations (scaled to a standard deviation, 1.4826), in sets of ``MIN_FOR_OUTLIERS`` or more.
- **Near-identical by meaning**: pairs whose embeddings' cosine is ``NEAR_IDENTICAL`` or more, joined into
  groups: re-saves, re-crops and small edits the perceptual hash misses (sets of up to ``MOST_COMPARED``).
- **Identity**: per picture, the face nearest the character's centre (the centre is first made of each
  picture's largest face, then of the faces chosen); a picture whose chosen face's likeness to the centre
  is under the engine's threshold "looks like someone else"; a picture without a face is named too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Identity", "PictureDistance", "Spread", "identity", "joined", "near_identical", "spread"]

NEAR_IDENTICAL = 0.96
OUTLIER_MADS = 3.5
MIN_FOR_OUTLIERS = 8
_BLOCK_CELLS = 16_000_000  # similarities computed at a time (64 MB): memory stays bounded on a big set
# Pairs are all compared (n² / 2): past this many pictures with vectors, near-identical groups by meaning
# are left to the library's own near-duplicates (a training set is rarely a tenth of this).
MOST_COMPARED = 20_000


class PictureDistance(msgspec.Struct, frozen=True):
    picture_id: int
    distance: float  # cosine distance to the set's centre, 0 (the centre itself) to 2


class Spread(msgspec.Struct, frozen=True):
    engine_id: str
    pictures: int  # with a vector
    without: list[int]  # pictures of the set with no vector from this engine (not enriched yet)
    median: float
    p90: float
    distances: list[PictureDistance]
    outliers: list[int]  # farthest first
    outlier_distance: float | None  # the distance beyond which a picture is an outlier; None: too few pictures


class Identity(msgspec.Struct, frozen=True):
    engine_id: str
    pictures: int  # with a face
    without_face: list[int]
    threshold: float  # the engine's likeness for one person
    distances: list[PictureDistance]  # of each picture's chosen face
    someone_else: list[int]  # likeness to the centre under the threshold, least alike first


def _unit(rows: np.ndarray) -> np.ndarray:
    import numpy as np

    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.maximum(norms, np.float32(1e-12))


def _centre(unit: np.ndarray) -> np.ndarray:
    import numpy as np

    mean = unit.mean(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


def _distances(ids: Sequence[int], distance: np.ndarray) -> list[PictureDistance]:
    return [PictureDistance(i, round(float(d), 4)) for i, d in zip(ids, distance, strict=True)]


def spread(engine_id: str, vectors: dict[int, np.ndarray], picture_ids: Sequence[int]) -> Spread:
    """The spread of ``picture_ids`` by their ``vectors`` (those without one are named, not counted)."""
    import numpy as np

    ids = [i for i in picture_ids if i in vectors]
    without = [i for i in picture_ids if i not in vectors]
    if not ids:
        return Spread(engine_id, 0, without, 0.0, 0.0, [], [], None)
    unit = _unit(np.stack([vectors[i] for i in ids]).astype(np.float32))
    distance = 1.0 - unit @ _centre(unit)
    median = float(np.median(distance))
    outliers, bound = [], None
    if len(ids) >= MIN_FOR_OUTLIERS:
        mad = float(np.median(np.abs(distance - median))) * 1.4826
        bound = median + OUTLIER_MADS * max(mad, 1e-3)
        order = np.argsort(-distance)
        outliers = [ids[k] for k in order if distance[k] > bound]
    return Spread(
        engine_id,
        len(ids),
        without,
        round(median, 4),
        round(float(np.percentile(distance, 90)), 4),
        _distances(ids, distance),
        outliers,
        None if bound is None else round(bound, 4),
    )


def joined(groups: Iterable[Iterable[int]]) -> list[list[int]]:
    """Groups that share a picture made one (directly or through others): each sorted, ordered by their
    first id; a picture alone is no group. ``groups`` may be a generator of pairs: nothing is kept but
    each picture's link."""
    parent: dict[int, int] = {}

    def root(i: int) -> int:
        parent.setdefault(i, i)
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for group in groups:
        first, *others = group
        for other in others:
            a, b = root(first), root(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
        root(first)
    members: dict[int, list[int]] = defaultdict(list)
    for i in list(parent):
        members[root(i)].append(i)
    return sorted((sorted(g) for g in members.values() if len(g) > 1), key=lambda g: g[0])


def near_identical(vectors: dict[int, np.ndarray], threshold: float = NEAR_IDENTICAL) -> list[list[int]]:
    """Groups of pictures whose embeddings' cosine reaches ``threshold`` (linked directly or through
    others), each sorted, ordered by their first id."""
    import numpy as np

    ids = sorted(vectors)
    if not 2 <= len(ids) <= MOST_COMPARED:
        return []
    unit = _unit(np.stack([vectors[i] for i in ids]).astype(np.float32))
    step = max(1, _BLOCK_CELLS // len(ids))

    def pairs():
        for start in range(0, len(ids), step):
            rows, cols = np.nonzero(unit[start : start + step] @ unit.T >= threshold)
            for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
                if start + row != col:
                    yield ids[start + row], ids[col]

    return joined(pairs())


def identity(
    faces: Sequence[tuple[int, str, float, np.ndarray]], picture_ids: Sequence[int], threshold: Callable[[str], float]
) -> Identity | None:
    """The identity spread of a character's ``picture_ids`` from their ``faces`` (picture id, engine, box
    area, vector), by the engine that found faces on most of them; None when no picture has a face."""
    import numpy as np

    if not faces:
        return None
    pictures_by_engine: dict[str, set[int]] = defaultdict(set)
    for picture_id, engine, _, _ in faces:
        pictures_by_engine[engine].add(picture_id)
    engine_id = max(pictures_by_engine, key=lambda engine: (len(pictures_by_engine[engine]), engine))
    by_picture: dict[int, list[tuple[float, np.ndarray]]] = defaultdict(list)
    for picture_id, engine, area, vector in faces:
        if engine == engine_id:
            by_picture[picture_id].append((area, vector))
    ids = [i for i in picture_ids if i in by_picture]
    without = [i for i in picture_ids if i not in by_picture]
    unit = {i: _unit(np.stack([v for _, v in by_picture[i]]).astype(np.float32)) for i in ids}
    chosen = np.stack([unit[i][int(np.argmax([a for a, _ in by_picture[i]]))] for i in ids])
    for _ in range(2):  # the largest face first, then the face nearest the centre, twice
        centre = _centre(chosen)
        chosen = np.stack([unit[i][int(np.argmax(unit[i] @ centre))] for i in ids])
    likeness = chosen @ _centre(chosen)
    limit = threshold(engine_id)
    order = np.argsort(likeness)
    return Identity(
        engine_id,
        len(ids),
        without,
        limit,
        _distances(ids, 1.0 - likeness),
        [ids[k] for k in order if likeness[k] < limit],
    )
