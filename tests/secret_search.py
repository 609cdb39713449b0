"""Search every byte a library or a backup holds for secrets: databases as they lie on disk (free pages
included), snapshot chunks decompressed, tar members opened, whatever is nested inside them."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import zstandard


def _expanded(name: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    yield name, data
    if name.endswith(".zst"):
        yield from _expanded(name[:-4], zstandard.ZstdDecompressor().decompressobj().decompress(data))
    elif name.endswith(".tar"):
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            for member in archive.getmembers():
                if member.isfile():
                    yield from _expanded(f"{name}!{member.name}", archive.extractfile(member).read())


def expanded(files: Iterable[tuple[str, bytes]]) -> Iterator[tuple[str, bytes]]:
    """Each (name, bytes), and what each holds (a chunk decompressed, a tar file's members)."""
    for name, data in files:
        yield from _expanded(name, data)


def every_file(root: Path) -> Iterable[tuple[str, bytes]]:
    """(name, bytes) of every file under ``root`` (or ``root`` itself), and of what each holds."""
    paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    return expanded((str(path), path.read_bytes()) for path in paths)


def found_secrets(files: Iterable[tuple[str, bytes]], secrets: Iterable[str]) -> list[str]:
    """``secret in name`` for each secret found in each file."""
    needles = [(secret, secret.encode()) for secret in secrets]
    return [f"{secret} in {name}" for name, data in files for secret, needle in needles if needle in data]
