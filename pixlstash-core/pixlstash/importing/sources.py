"""What an import reads: files, folders walked recursively, and zip archives opened safely.

Archives are hostile until proven otherwise: entry names with traversal or absolute paths are refused,
and entry count, entry size, total size and compression ratio are capped while reading (the sizes a
zip header claims are not trusted). Nothing here writes outside the given temporary folder.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath

import msgspec

from ..media.analyse import RAW_SUFFIXES, VIDEO_SUFFIXES

__all__ = ["MEDIA_SUFFIXES", "ArchiveLimits", "ImportItem", "display_name", "iter_items"]

MEDIA_SUFFIXES = {
    ".jpg",
    ".jpeg",
    ".jpe",
    ".png",
    ".webp",
    ".gif",
    ".bmp",
    ".tif",
    ".tiff",
    ".avif",
    ".heic",
    ".heif",
    ".jxl",
    *RAW_SUFFIXES,
    *VIDEO_SUFFIXES,
}
# Files that travel with pictures and are not pictures themselves: skipped without a report line.
COMPANION_SUFFIXES = {".txt", ".caption", ".json", ".xmp", ".yaml", ".yml", ".toml", ".md", ".db", ".ini"}


class ArchiveLimits(msgspec.Struct, frozen=True):
    max_entries: int = 100_000
    max_entry_bytes: int = 1 << 30
    max_total_bytes: int = 32 << 30
    max_ratio: float = 200.0  # uncompressed / compressed, per entry


class ImportItem(msgspec.Struct, frozen=True):
    """One file to import. ``path`` is readable now; ``temporary`` files are deleted after import."""

    path: Path
    display: str
    original_name: str
    temporary: bool = False


def display_name(path: Path | str) -> str:
    """A printable form of a path, even when its bytes are not valid UTF-8."""
    return os.fsencode(str(path)).decode("utf-8", "replace")


class _Skip(Exception):
    pass


def _safe_member_name(name: str) -> PurePosixPath:
    normalised = name.replace("\\", "/")
    path = PurePosixPath(normalised)
    if (
        normalised.startswith("/")
        or ".." in path.parts
        or (path.parts and ":" in path.parts[0])
        or "\x00" in normalised
    ):
        raise _Skip(f"unsafe path in archive: {name!r}")
    return path


def _iter_archive(
    archive: Path, limits: ArchiveLimits, tmpdir: Path, skip: Callable[[str, str], None], label: str | None = None
) -> Iterator[ImportItem]:
    label = label or display_name(archive)
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as error:
        skip(label, f"unreadable zip archive: {error}")
        return
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        if len(members) > limits.max_entries:
            skip(label, f"archive has {len(members):,} entries, over the {limits.max_entries:,} limit")
            return
        total = 0
        for member in members:
            where = f"{label}!/{member.filename}"
            try:
                name = _safe_member_name(member.filename)
                if stat.S_ISLNK(member.external_attr >> 16):
                    raise _Skip("symbolic link in archive")
                suffix = name.suffix.lower()
                if suffix in COMPANION_SUFFIXES or name.name.startswith("."):
                    continue
                if suffix not in MEDIA_SUFFIXES:
                    raise _Skip(f"not a picture or video (extension {suffix or 'none'})")
                if member.file_size > limits.max_entry_bytes:
                    raise _Skip(f"entry of {member.file_size:,} bytes is over the {limits.max_entry_bytes:,} limit")
                fd, tmp_name = tempfile.mkstemp(dir=tmpdir, suffix=suffix)
                written = 0
                try:
                    with os.fdopen(fd, "wb") as out, zf.open(member) as src:
                        while chunk := src.read(1 << 20):
                            written += len(chunk)
                            total += len(chunk)
                            if written > limits.max_entry_bytes:
                                raise _Skip("entry is larger than its header claims and over the size limit")
                            if written > limits.max_ratio * max(member.compress_size, 1) and written > 1 << 20:
                                raise _Skip(f"compression ratio over {limits.max_ratio:.0f}: a zip bomb?")
                            if total > limits.max_total_bytes:
                                raise _Skip("archive expands past the total size limit")
                            out.write(chunk)
                except BaseException:
                    Path(tmp_name).unlink(missing_ok=True)
                    raise
                with contextlib.suppress(ValueError, OverflowError, OSError):
                    stamp = datetime.datetime(*member.date_time, tzinfo=datetime.UTC).timestamp()
                    os.utime(tmp_name, (stamp, stamp))  # taken-at falls back to the entry's date
                yield ImportItem(Path(tmp_name), where, name.name, temporary=True)
            except _Skip as reason:
                skip(where, str(reason))
                if "total size limit" in str(reason):
                    return
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError) as error:
                skip(where, f"corrupt archive entry: {error}")


def _walk(folder: Path, skip: Callable[[str, str], None], exclude: Path | None) -> Iterator[Path]:
    def on_error(error: OSError) -> None:
        skip(display_name(error.filename or folder), f"unreadable folder: {error.strerror or error}")

    for root, dirs, files in os.walk(folder, onerror=on_error):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if exclude is not None:  # never import the library's own files
            dirs[:] = [d for d in dirs if (Path(root) / d).resolve() != exclude]
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(root) / name


def upload_items(
    files: Iterable[tuple[Path, str]],
    tmpdir: Path,
    skip: Callable[[str, str], None],
    archive_limits: ArchiveLimits | None = None,
) -> Iterator[ImportItem]:
    """Uploaded files (``(path, filename)``, consumed), a zip archive's pictures in its place: a browser
    offers zips, so an uploaded zip is opened as the command line opens one, with the same limits."""
    limits = archive_limits or ArchiveLimits()
    for path, filename in files:
        if Path(filename).suffix.lower() == ".zip":
            yield from _iter_archive(path, limits, tmpdir, skip, label=filename)
            path.unlink(missing_ok=True)
        else:
            yield ImportItem(path, filename, Path(filename).name, temporary=True)


def iter_items(
    paths: list[Path],
    tmpdir: Path,
    skip: Callable[[str, str], None],
    archive_limits: ArchiveLimits | None = None,
    exclude: Path | None = None,
) -> Iterator[ImportItem]:
    """Every importable file under ``paths``; anything refused goes to ``skip(path, reason)``.

    ``exclude`` (the library folder) is never entered."""
    limits = archive_limits or ArchiveLimits()
    for given in paths:
        path = Path(given)
        label = display_name(path)
        try:
            info = path.stat()
        except OSError as error:
            skip(label, f"cannot read: {error.strerror or error}")
            continue
        if exclude is not None and (path.resolve() == exclude or exclude in path.resolve().parents):
            skip(label, "inside the library folder itself")
            continue
        if stat.S_ISDIR(info.st_mode):
            candidates: Iterator[Path] = _walk(path, skip, exclude)
            explicit = False
        else:
            candidates, explicit = iter([path]), True
        for candidate in candidates:
            suffix = candidate.suffix.lower()
            if suffix == ".zip":
                yield from _iter_archive(candidate, limits, tmpdir, skip)
            elif suffix in MEDIA_SUFFIXES or explicit:
                yield ImportItem(candidate, display_name(candidate), display_name(candidate.name))
            elif suffix not in COMPANION_SUFFIXES:
                skip(display_name(candidate), f"not a picture or video (extension {suffix or 'none'})")


def cleanup(item: ImportItem) -> None:
    if item.temporary:
        item.path.unlink(missing_ok=True)
