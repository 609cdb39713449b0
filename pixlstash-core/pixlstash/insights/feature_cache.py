"""The insights' numbered settings kept on disk (``indexes/insights.v1.npz``): a new process starts from
what the last one read, so only pictures changed since are read and numbered again. Derived data, like
the vector indexes beside it: deleting it costs one slow report.

Each picture's entry carries the change stamp it was read at, and is used only while the picture still
has that stamp. Stamps are the time of the change in milliseconds with six random digits (``db/schema.py``),
so a stamp is not given to other contents later. A file newer than the library's newest stamp (an older
database came back: a restore) is not used at all; that costs one slow report, never a wrong one.
"""

from __future__ import annotations

import contextlib
import io
import zipfile
from pathlib import Path

import msgspec
import numpy as np

from ..system.atomic import write_atomically
from .settings import FeatureIndex

__all__ = ["FeatureCache", "Features"]

Features = dict[int, tuple[int, np.ndarray]]  # picture id: (change stamp, its settings' numbers)
_UNREADABLE = (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile, msgspec.DecodeError)


class FeatureCache:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, newest_stamp: int) -> tuple[FeatureIndex, Features]:
        """The index and features as last written; empty when there is no file, it cannot be read, or the
        library's ``newest_stamp`` says it went back in time."""
        try:
            with np.load(self.path, allow_pickle=False) as stored:
                if int(stored["newest"]) > newest_stamp:
                    return FeatureIndex(), {}
                keys = msgspec.json.decode(stored["keys"].tobytes(), type=list[tuple[str, str]])
                ids, stamps, offsets, numbers = (stored[name] for name in ("ids", "stamps", "offsets", "numbers"))
                if not len(ids) == len(stamps) == len(offsets) - 1 or (len(numbers) and numbers.max() >= len(keys)):
                    return FeatureIndex(), {}
                parts = np.split(numbers.astype(np.int32), offsets[1:-1])
                features = dict(zip(ids.tolist(), zip(stamps.tolist(), parts, strict=True), strict=True))
        except (
            OSError,
            KeyError,
            ValueError,
            EOFError,
            zipfile.BadZipFile,
            msgspec.DecodeError,
            msgspec.ValidationError,
        ):
            return FeatureIndex(), {}
        return FeatureIndex.from_keys(keys), features

    def save(self, index: FeatureIndex, features: Features, newest_stamp: int) -> None:
        """Written whole and atomically; a failure leaves the old file (a cache: nothing is lost)."""
        ids = np.fromiter(features, np.int64, len(features))
        stamps = np.fromiter((stamp for stamp, _ in features.values()), np.int64, len(features))
        lengths = np.fromiter((len(numbers) for _, numbers in features.values()), np.int64, len(features))
        offsets = np.concatenate(([0], np.cumsum(lengths)))
        numbers = np.concatenate([n for _, n in features.values()]) if features else np.zeros(0, np.int32)
        buffer = io.BytesIO()
        np.savez(
            buffer,
            newest=np.int64(newest_stamp),
            keys=np.frombuffer(msgspec.json.encode(index.keys), np.uint8),
            ids=ids,
            stamps=stamps,
            offsets=offsets,
            numbers=numbers.astype(np.int32),
        )
        with contextlib.suppress(OSError):
            write_atomically(self.path, buffer.getbuffer())
