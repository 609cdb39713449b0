"""Content identity: a streamed BLAKE2b hash of the whole file, and a 64-bit perceptual hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = ["content_hash", "hamming", "perceptual_hash"]

_CHUNK = 1 << 20


def content_hash(path: Path) -> str:
    """BLAKE2b-256 of the file's bytes, hex. hashlib releases the GIL, so threads hash in parallel."""
    digest = hashlib.blake2b(digest_size=32)
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    matrix = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2 / n)
    matrix[0] /= np.sqrt(2)
    return matrix


_DCT32 = _dct_matrix(32)


def perceptual_hash(image: Image.Image) -> int:
    """The classic DCT pHash: 32x32 grey, 2-D DCT, the 8x8 lowest frequencies against their median.

    Returned as a signed 64-bit integer (what SQLite stores). Near-duplicates differ in few bits.
    """
    grey = image.convert("L").resize((32, 32), Image.Resampling.BILINEAR)
    pixels = np.asarray(grey, dtype=np.float64)
    low = (_DCT32 @ pixels @ _DCT32.T)[:8, :8].ravel()
    bits = low > np.median(low[1:])  # the DC term would dominate the median
    value = int(np.packbits(bits).view(">u8")[0])
    return value - (1 << 64) if value >= 1 << 63 else value


def hamming(a: int, b: int) -> int:
    """Bits that differ between two 64-bit hashes (signed or not)."""
    return ((a ^ b) & ((1 << 64) - 1)).bit_count()
