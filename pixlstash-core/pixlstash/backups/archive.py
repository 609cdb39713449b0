"""Where a backup's files go and come from: a folder (incremental: files already there are not written
again) or one tar file. Both are written so that a process killed half way leaves nothing that passes
for a backup: a folder's manifest is replaced last, atomically, and a tar file gets its name only once
it is complete."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

__all__ = ["MANIFEST", "ArchiveReader", "ArchiveWriter", "copy_hashing", "open_reader", "open_writer"]

MANIFEST = "pixlstash-backup.json"
_BLOCK = 1 << 20


def copy_hashing(source: BinaryIO, destination: BinaryIO) -> tuple[int, str]:
    """Copy ``source`` to ``destination``; (bytes, BLAKE2b-256 hex), read once."""
    digest, size = hashlib.blake2b(digest_size=32), 0
    while block := source.read(_BLOCK):
        digest.update(block)
        destination.write(block)
        size += len(block)
    return size, digest.hexdigest()


class _Hashing:
    """A file read through: what tarfile reads is hashed on the way (one read of each original)."""

    def __init__(self, source: BinaryIO) -> None:
        self.source, self.digest = source, hashlib.blake2b(digest_size=32)

    def read(self, size: int = -1) -> bytes:
        block = self.source.read(size)
        self.digest.update(block)
        return block


class ArchiveWriter(Protocol):
    def has(self, name: str, size: int) -> bool: ...
    def put(self, name: str, source: BinaryIO) -> tuple[int, str]: ...
    def put_file(self, name: str, path: Path) -> tuple[int, str]: ...
    def finish(self, manifest: bytes) -> None: ...
    def abandon(self) -> None: ...


class ArchiveReader(Protocol):
    def manifest(self) -> bytes | None: ...
    def open(self, name: str) -> BinaryIO: ...
    def names(self) -> set[str]: ...
    def close(self) -> None: ...


class _FolderWriter:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        for partial in root.rglob(".partial-*"):  # files a killed run was writing
            partial.unlink(missing_ok=True)

    def has(self, name: str, size: int) -> bool:
        path = self.root / name
        return path.is_file() and path.stat().st_size == size

    def put(self, name: str, source: BinaryIO) -> tuple[int, str]:
        target = self.root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
        try:
            with os.fdopen(fd, "wb") as out:
                written = copy_hashing(source, out)
            os.replace(partial, target)  # a file has its name only when it is whole
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        return written

    def put_file(self, name: str, path: Path) -> tuple[int, str]:
        with open(path, "rb") as source:
            return self.put(name, source)

    def finish(self, manifest: bytes) -> None:
        with io.BytesIO(manifest) as source:
            self.put(MANIFEST, source)

    def abandon(self) -> None:
        pass  # whole files stay for the next run to reuse; the old manifest still names the old backup


class _TarWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(f".{path.name}.partial-*"):  # what a killed run was writing
            stale.unlink(missing_ok=True)
        fd, self.partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.partial-")
        self.tar = tarfile.open(fileobj=os.fdopen(fd, "wb"), mode="w")  # noqa: SIM115 - closed by finish/abandon
        self.tar.copybufsize = _BLOCK  # tarfile's 16 KiB default makes a copy many small reads

    def has(self, name: str, size: int) -> bool:
        return False  # a tar file is always whole: nothing is reused

    def put(self, name: str, source: BinaryIO) -> tuple[int, str]:
        # The size goes in the member's header before its data: spool through a temporary file.
        with tempfile.TemporaryFile(dir=self.path.parent) as spool:
            written = copy_hashing(source, spool)
            spool.seek(0)
            info = tarfile.TarInfo(name)
            info.size = written[0]
            self.tar.addfile(info, spool)
        return written

    def put_file(self, name: str, path: Path) -> tuple[int, str]:
        info = self.tar.gettarinfo(str(path), arcname=name)
        info.mode, info.uid, info.gid, info.uname, info.gname = 0o644, 0, 0, "", ""
        with open(path, "rb") as source:
            hashing = _Hashing(source)
            self.tar.addfile(info, hashing)  # type: ignore[arg-type]
        return info.size, hashing.digest.hexdigest()

    def finish(self, manifest: bytes) -> None:
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(manifest)
        self.tar.addfile(info, io.BytesIO(manifest))
        self.tar.fileobj.flush()  # type: ignore[union-attr]
        os.fsync(self.tar.fileobj.fileno())  # type: ignore[union-attr]
        self.tar.close()
        os.replace(self.partial, self.path)

    def abandon(self) -> None:
        with contextlib.suppress(OSError):
            self.tar.close()
        Path(self.partial).unlink(missing_ok=True)


def is_tar(path: Path) -> bool:
    return path.suffix.lower() == ".tar"


def open_writer(target: Path) -> ArchiveWriter:
    return _TarWriter(target) if is_tar(target) else _FolderWriter(target)


class _FolderReader:
    def __init__(self, root: Path) -> None:
        self.root = root

    def manifest(self) -> bytes | None:
        path = self.root / MANIFEST
        return path.read_bytes() if path.is_file() else None

    def open(self, name: str) -> BinaryIO:
        return open(self.root / name, "rb")

    def names(self) -> set[str]:
        return {p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()}

    def close(self) -> None:
        pass


class _TarReader:
    def __init__(self, path: Path) -> None:
        self.tar = tarfile.open(path, mode="r:")  # noqa: SIM115 - closed by close()
        self._members = {m.name: m for m in self.tar.getmembers() if m.isfile()}

    def manifest(self) -> bytes | None:
        member = self._members.get(MANIFEST)
        if member is None:
            return None
        extracted = self.tar.extractfile(member)
        return extracted.read() if extracted else None

    def open(self, name: str) -> BinaryIO:
        member = self._members.get(name)
        extracted = self.tar.extractfile(member) if member else None
        if extracted is None:
            raise FileNotFoundError(name)
        return extracted  # type: ignore[return-value]

    def names(self) -> set[str]:
        return set(self._members)

    def close(self) -> None:
        self.tar.close()


@contextlib.contextmanager
def open_reader(source: Path) -> Iterator[ArchiveReader]:
    reader: ArchiveReader = _TarReader(source) if source.is_file() else _FolderReader(source)
    try:
        yield reader
    finally:
        reader.close()


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
