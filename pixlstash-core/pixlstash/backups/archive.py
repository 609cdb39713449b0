"""Where a backup's files go and come from: a folder (incremental: files already there are not written
again) or one tar file. Both are written so that a process killed half way leaves nothing that passes
for a backup: a folder's manifest is replaced last, atomically, and a tar file gets its name only once
it is complete."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import shutil
import stat
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from ..errors import Conflict
from .layout import ForeignBackup
from .manifest import FileEntry

__all__ = [
    "MANIFEST",
    "ArchiveReader",
    "ArchiveWriter",
    "DamagedArchive",
    "copy_hashing",
    "links_inside",
    "open_reader",
    "open_writer",
]

MANIFEST = "pixlstash-backup.json"
MANIFEST_MAX_BYTES = 512 << 20  # a million originals' entries fit many times over
_BLOCK = 1 << 20


class DamagedArchive(Conflict):
    """The tar file cannot be read (cut short, a bad header checksum, not a tar file at all)."""


def copy_hashing(source: BinaryIO, destination: BinaryIO, limit: int | None = None) -> tuple[int, str]:
    """Copy ``source`` to ``destination``; (bytes, BLAKE2b-256 hex), read once. With ``limit``, at most
    ``limit + 1`` bytes are read and written: enough to tell that the source is longer than it should be,
    never enough to fill a disk."""
    digest, size = hashlib.blake2b(digest_size=32), 0
    while True:
        want = _BLOCK if limit is None else min(_BLOCK, limit + 1 - size)
        block = source.read(want) if want > 0 else b""
        if not block:
            break
        digest.update(block)
        destination.write(block)
        size += len(block)
    return size, digest.hexdigest()


def links_inside(root: Path) -> Path | None:
    """The first link (or device, socket, pipe) anywhere under the folder ``root``, never following one;
    None when it holds only folders and plain files."""
    pending = [root]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.is_symlink():
                    return Path(entry.path)
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
                elif not entry.is_file(follow_symlinks=False):
                    return Path(entry.path)
    return None


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
    def adopt(self, content_hash: str, suffix: str, name: str) -> FileEntry | None: ...
    def finish(self, manifest: bytes) -> None: ...
    def abandon(self) -> None: ...


class ArchiveReader(Protocol):
    def manifest(self, name: str = MANIFEST) -> bytes | None: ...
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

    def adopt(self, content_hash: str, suffix: str, name: str) -> FileEntry | None:
        return None  # only a bucket holding the library's originals copies them itself

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

    def adopt(self, content_hash: str, suffix: str, name: str) -> FileEntry | None:
        return None  # only a bucket holding the library's originals copies them itself

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


def _open_inside(root: Path, name: str) -> BinaryIO:
    """The plain file ``name`` (slash-separated) under ``root``, opened one folder at a time without
    following a link at any step, so nothing outside ``root`` is ever read."""
    *folders, leaf = parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ForeignBackup(f"not a PixlStash backup: {name!r} is not a name inside it")
    here = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for folder in folders:
            inner = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=here)
            os.close(here)
            here = inner
        fd = os.open(leaf, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=here)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise ForeignBackup(f"refused: {name} in the backup is a link (a backup holds plain files only)") from None
        raise
    finally:
        os.close(here)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ForeignBackup(f"refused: {name} in the backup is not a plain file")
    return os.fdopen(fd, "rb")


class _FolderReader:
    def __init__(self, root: Path) -> None:
        self.root = root

    def manifest(self, name: str = MANIFEST) -> bytes | None:
        try:
            with _open_inside(self.root, name) as stream:
                return read_capped(stream, name)
        except FileNotFoundError:
            return None

    def open(self, name: str) -> BinaryIO:
        return _open_inside(self.root, name)

    def names(self) -> set[str]:
        return {p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()}

    def close(self) -> None:
        pass


def read_capped(stream: BinaryIO, name: str) -> bytes:
    data = stream.read(MANIFEST_MAX_BYTES + 1)
    if len(data) > MANIFEST_MAX_BYTES:
        raise ForeignBackup(f"not a PixlStash backup: its {name} is larger than any manifest")
    return data


class _TarStream:
    """A member's data; a read that finds the archive broken says so as ``DamagedArchive``."""

    def __init__(self, stream: BinaryIO, name: str) -> None:
        self.stream, self.name = stream, name

    def read(self, size: int = -1) -> bytes:
        try:
            return self.stream.read(size)
        except (tarfile.TarError, EOFError, OSError) as error:
            raise DamagedArchive(f"damaged archive: {self.name} cannot be read ({error})") from None

    def __enter__(self) -> _TarStream:
        return self

    def __exit__(self, *exc) -> None:
        self.stream.close()


class _TarReader:
    def __init__(self, path: Path) -> None:
        try:
            self.tar = tarfile.open(path, mode="r:")  # noqa: SIM115 - closed by close()
            self._members = {m.name: m for m in self.tar.getmembers()}
        except (tarfile.TarError, EOFError) as error:
            raise DamagedArchive(f"damaged archive: {path} cannot be read as a tar file ({error})") from None

    def manifest(self, name: str = MANIFEST) -> bytes | None:
        try:
            with self.open(name) as stream:
                return read_capped(stream, name)  # type: ignore[arg-type]
        except FileNotFoundError:
            return None

    def open(self, name: str) -> BinaryIO:
        member = self._members.get(name)
        if member is None:
            raise FileNotFoundError(name)
        # Only plain members: a link would point elsewhere, and a sparse member's holes would be written out
        # as zeros (a small archive that fills a disk).
        if not member.isfile() or member.issparse():
            raise ForeignBackup(f"refused: {name} in the backup is a link, device or sparse file, not a plain file")
        try:
            extracted = self.tar.extractfile(member)
        except (tarfile.TarError, EOFError) as error:
            raise DamagedArchive(f"damaged archive: {name} cannot be read ({error})") from None
        if extracted is None:
            raise FileNotFoundError(name)
        return _TarStream(extracted, name)  # type: ignore[return-value]

    def names(self) -> set[str]:
        return {name for name, member in self._members.items() if member.isfile()}

    def close(self) -> None:
        self.tar.close()


@contextlib.contextmanager
def open_reader(source: Path) -> Iterator[ArchiveReader]:
    """A backup to read: a tar file (``DamagedArchive`` when it cannot be read as one) or a folder."""
    reader: ArchiveReader = _TarReader(source) if source.is_file() else _FolderReader(source)
    try:
        yield reader
    finally:
        reader.close()


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
