"""Originals in an S3-compatible bucket, through obstore (object_store's Rust client: chosen by measurement,
see the README). Keys are the content hash under the prefix (``ab/cd/<hash><suffix>``, as the local
folder). A write returns only once the bucket holds the whole file: a single PUT is checked against the
MD5 the service computes (its ETag), a multipart one by reading it back against the content hash. The
client retries with backoff; what still fails is ``StorageUnavailable`` with the reason in one line."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from pixlstash import OriginalStore, StorageUnavailable

from .settings import S3Settings

__all__ = ["S3OriginalStore", "store_url"]

SINGLE_PUT_MAX = 64 << 20  # bytes: larger files go up in parts
PART_SIZE = 16 << 20
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

    # -- the client -----------------------------------------------------------------------------------

    def client(self) -> Any:
        if self._client is None:
            from obstore.store import S3Store  # (loaded when the store is first used)

            s, env = self.settings, self._environ
            options: dict[str, Any] = {"connect_timeout": "5s", "timeout": f"{max(1.0, s.timeout_seconds):g}s"}
            if s.endpoint.startswith("http://"):
                options["allow_http"] = True
            config: dict[str, Any] = {"region": s.region, "virtual_hosted_style_request": not s.path_style}
            if s.endpoint:
                config["endpoint"] = s.endpoint
            key_id = s.access_key_id or env.get("AWS_ACCESS_KEY_ID", "")
            secret = s.secret_access_key or env.get("AWS_SECRET_ACCESS_KEY", "")
            if key_id and secret:
                config.update(access_key_id=key_id, secret_access_key=secret)
            else:
                config["skip_signature"] = True  # a public bucket, or one the service lets anyone write
            self._client = S3Store(
                s.bucket,
                prefix=s.prefix.strip("/") or None,
                config=config,
                client_options=options,
                retry_config={
                    "max_retries": max(0, s.retries),
                    "retry_timeout": dt.timedelta(seconds=60),
                    "backoff": {
                        "init_backoff": dt.timedelta(milliseconds=200),
                        "max_backoff": dt.timedelta(seconds=8),
                        "base": 2,
                    },
                },
            )
        return self._client

    def where(self) -> str:
        return f"{store_url(self.settings)} at {self.settings.endpoint or 'AWS S3'}"

    @staticmethod
    def key(content_hash: str, suffix: str) -> str:
        if not content_hash.isalnum() or (suffix and not suffix[1:].isalnum()):
            raise ValueError(f"bad original address {content_hash!r}{suffix!r}")
        return f"{content_hash[:2]}/{content_hash[2:4]}/{content_hash}{suffix}"

    def _failed(self, error: Exception, doing: str) -> StorageUnavailable:
        """One line a person can act on, from whatever the client raised."""
        from obstore.exceptions import PermissionDeniedError, UnauthenticatedError

        text = str(error).split("Debug source")[0]
        first = " ".join(text.split())
        where, endpoint = self.where(), self.settings.endpoint or "AWS S3"
        status = re.search(r"status code: (\d{3})", first)
        if "NoSuchBucket" in str(error):
            reason = f"the bucket {self.settings.bucket!r} does not exist at {endpoint}"
        elif isinstance(error, PermissionDeniedError | UnauthenticatedError) or (
            status and status[1] in ("401", "403")
        ):
            reason = f"{where} refused the credentials (check the access key and its secret)"
        elif status is None and re.search(r"error sending request|connect|timed out|dns error", first, re.IGNORECASE):
            reason = f"{where} does not answer"
        elif status and status[1].startswith("5"):
            reason = f"{where} answered {status[1]} (the service is failing; try again when it is back)"
        else:
            reason = f"{where} failed: {first[:300]}"
        return StorageUnavailable(f"cannot {doing}: {reason}", where=where)

    # -- the store ------------------------------------------------------------------------------------

    def put(self, content_hash: str, source: Path, suffix: str, *, move: bool = False) -> None:
        import obstore

        # No existence check first (a request more per file): the key is the content's hash, so writing
        # it again writes the same bytes, and the library asks only for what it does not have.
        key = self.key(content_hash, suffix)
        size = os.path.getsize(source)
        try:
            if size <= SINGLE_PUT_MAX:
                data = Path(source).read_bytes()
                result = obstore.put(self.client(), key, data, use_multipart=False)
                tag = (result.get("e_tag") or "").strip('"')
                if tag != hashlib.md5(data, usedforsecurity=False).hexdigest():
                    self._remove_damaged(key)
                    raise StorageUnavailable(f"cannot store {source.name}: {self.where()} did not keep it whole")
            else:
                with open(source, "rb") as stream:
                    obstore.put(self.client(), key, stream, use_multipart=True, chunk_size=PART_SIZE, max_concurrency=4)
                if not self._holds_whole(content_hash, suffix):
                    self._remove_damaged(key)
                    raise StorageUnavailable(f"cannot store {source.name}: {self.where()} did not keep it whole")
        except StorageUnavailable:
            raise
        except Exception as error:
            raise self._failed(error, f"store {Path(source).name}") from None
        if move:
            Path(source).unlink(missing_ok=True)

    def _holds_whole(self, content_hash: str, suffix: str) -> bool:
        digest = hashlib.blake2b(digest_size=32)
        for piece in self.read_range(content_hash, suffix, 0, self.size(content_hash, suffix)):
            digest.update(piece)
        return digest.hexdigest() == content_hash

    def _remove_damaged(self, key: str) -> None:
        import obstore

        try:
            obstore.delete(self.client(), key)
        except Exception:
            pass

    def open(self, content_hash: str, suffix: str) -> BinaryIO:
        return _Reader(self.read_range(content_hash, suffix, 0, self.size(content_hash, suffix)))

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
        import obstore

        try:
            obstore.list_with_delimiter(self.client())
        except Exception as error:
            raise self._failed(error, "reach the bucket") from None

    def count(self) -> int:
        """How many objects the prefix holds (a listing: slow for millions)."""
        import obstore

        try:
            return sum(len(batch) for batch in obstore.list(self.client(), chunk_size=1000))
        except Exception as error:
            raise self._failed(error, "list the bucket") from None


class _Reader(io.RawIOBase):
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
