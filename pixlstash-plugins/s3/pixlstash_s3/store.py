"""Originals in an S3-compatible bucket, through obstore (object_store's Rust client: chosen by measurement,
see the README). Keys are the content hash under the prefix (``ab/cd/<hash><suffix>``, as the local
folder). A write returns only once the bucket holds the whole file: a single PUT is checked against the
MD5 the service computes (its ETag; read back where that differs), a multipart one by reading it back. The
client retries with backoff; what still fails is ``StorageUnavailable`` with the reason in one line."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

from pixlstash import OriginalStore, StorageUnavailable, damaged_address

from .client import NotWhole, failure, make_client, put_checked
from .settings import S3Settings

__all__ = ["PieceReader", "S3OriginalStore", "store_url"]

_PIECE = 1 << 20


def store_url(settings: S3Settings) -> str:
    prefix = settings.prefix.strip("/")
    return f"s3://{settings.bucket}/{prefix}" if prefix else f"s3://{settings.bucket}"


class S3OriginalStore(OriginalStore):
    id = "s3"
    remote = True

    def __init__(self, settings: S3Settings, environ: Mapping[str, str] | None = None) -> None:
        if not settings.bucket:
            raise ValueError("an S3 store needs a bucket")
        self.settings = settings
        self._environ = os.environ if environ is None else environ
        self._client: Any = None
        self._probe: Any = None  # the client check() uses

    # -- the client -----------------------------------------------------------------------------------

    def client(self) -> Any:
        if self._client is None:
            self._client = make_client(self.settings, self._environ, self.settings.prefix.strip("/") or None)
        return self._client

    def where(self) -> str:
        return f"{store_url(self.settings)} at {self.settings.endpoint or 'AWS S3'}"

    @staticmethod
    def key(content_hash: str, suffix: str) -> str:
        if not content_hash.isalnum() or (suffix and not suffix[1:].isalnum()):
            raise damaged_address("original", content_hash, suffix)
        return f"{content_hash[:2]}/{content_hash[2:4]}/{content_hash}{suffix}"

    def _failed(self, error: Exception, doing: str) -> StorageUnavailable:
        return failure(error, doing, self.where(), self.settings)

    # -- the store ------------------------------------------------------------------------------------

    def put(self, content_hash: str, source: Path, suffix: str, *, move: bool = False) -> None:
        # No existence check first (a request more per file): the key is the content's hash, so writing
        # it again writes the same bytes, and the library asks only for what it does not have.
        # The import hashed the file: a single PUT is checked against the MD5 of the bytes sent, a multipart
        # one read back against the content hash.
        name = Path(source).name
        try:
            put_checked(self.client(), self.key(content_hash, suffix), Path(source), content_hash)
        except NotWhole:
            raise StorageUnavailable(f"cannot store {name}: {self.where()} did not keep it whole") from None
        except Exception as error:
            raise self._failed(error, f"store {name}") from None
        if move:
            Path(source).unlink(missing_ok=True)

    def open(self, content_hash: str, suffix: str) -> BinaryIO:
        return PieceReader(self.read_range(content_hash, suffix, 0, self.size(content_hash, suffix)))

    def exists(self, content_hash: str, suffix: str, doing: str = "read an original") -> bool:
        try:
            self.size(content_hash, suffix, doing)
        except FileNotFoundError:
            return False
        return True

    def size(self, content_hash: str, suffix: str, doing: str = "read an original") -> int:
        import obstore
        from obstore.exceptions import NotFoundError

        try:
            return int(obstore.head(self.client(), self.key(content_hash, suffix))["size"])
        except (NotFoundError, FileNotFoundError):
            raise FileNotFoundError(f"{content_hash}{suffix} is not in {self.where()}") from None
        except Exception as error:
            raise self._failed(error, doing) from None

    def read_range(self, content_hash: str, suffix: str, start: int, end: int) -> Iterator[bytes]:
        import obstore
        from obstore.exceptions import NotFoundError

        if end <= start:
            return
        try:
            result = obstore.get(self.client(), self.key(content_hash, suffix), options={"range": (start, end)})
            for piece in result.stream(min_chunk_size=_PIECE):
                yield bytes(piece)
        except (NotFoundError, FileNotFoundError):
            raise FileNotFoundError(f"{content_hash}{suffix} is not in {self.where()}") from None
        except Exception as error:
            raise self._failed(error, "read an original") from None

    def delete(self, content_hash: str, suffix: str) -> None:
        import obstore
        from obstore.exceptions import NotFoundError

        try:
            obstore.delete(self.client(), self.key(content_hash, suffix))
        except (NotFoundError, FileNotFoundError):
            pass
        except Exception as error:
            raise self._failed(error, "delete an original") from None

    def check(self) -> None:
        """One quick request (no retries, 5 s at most): a status shown to people never waits long."""
        import obstore

        if self._probe is None:
            quick = msgspec.structs.replace(self.settings, retries=0, timeout_seconds=5.0)
            self._probe = make_client(quick, self._environ, self.settings.prefix.strip("/") or None)
        try:
            obstore.list_with_delimiter(self._probe)
        except Exception as error:
            raise self._failed(error, "reach the bucket") from None

    def count(self) -> int:
        """How many objects the prefix holds (a listing: slow for millions)."""
        import obstore

        try:
            return sum(len(batch) for batch in obstore.list(self.client(), chunk_size=1000))
        except Exception as error:
            raise self._failed(error, "list the bucket") from None


class PieceReader(io.RawIOBase):
    """A file-like reader over the pieces an object arrives in."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces, self._left = pieces, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if not self._left:
            self._left = next(self._pieces, b"")
        n = min(len(buffer), len(self._left))
        buffer[:n] = self._left[:n]
        self._left = self._left[n:]
        return n
