"""Backups in a bucket: the layout of a backup folder under a prefix (``pixlstash backup create
s3://BUCKET/PREFIX``). Uploads are checked whole as originals are; an original the library keeps in this
same bucket is copied by the service (CopyObject), so its bytes never pass through this machine."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from pixlstash import BackupBucket, StorageUnavailable

from .client import NotWhole, failure, make_client, put_checked
from .settings import S3Settings
from .store import PieceReader, S3OriginalStore, store_url

__all__ = ["S3BackupBucket"]

_PIECE = 1 << 20


class S3BackupBucket(BackupBucket):
    def __init__(self, settings: S3Settings, environ: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.prefix = settings.prefix.strip("/")
        self._environ = os.environ if environ is None else environ
        self._client: Any = None

    def client(self) -> Any:
        # Rooted at the bucket, not the prefix: a copy reads the originals' keys beside it.
        if self._client is None:
            self._client = make_client(self.settings, self._environ, None)
        return self._client

    def where(self) -> str:
        return f"{store_url(self.settings)} at {self.settings.endpoint or 'AWS S3'}"

    def _key(self, name: str) -> str:
        if not name or name.startswith("/") or any(part in ("", ".", "..") for part in name.split("/")):
            raise ValueError(f"not a name inside a backup: {name!r}")
        return f"{self.prefix}/{name}" if self.prefix else name

    def _failed(self, error: Exception, doing: str) -> StorageUnavailable:
        return failure(error, doing, self.where(), self.settings)

    def listing(self, under: str = "") -> dict[str, int]:
        import obstore

        start = f"{self.prefix}/" if self.prefix else ""
        try:
            found: dict[str, int] = {}
            for batch in obstore.list(self.client(), prefix=start + under or None, chunk_size=1000):
                for entry in batch:
                    name = str(entry["path"])[len(start) :]
                    if name.startswith(under):
                        found[name] = int(entry["size"])
            return found
        except Exception as error:
            raise self._failed(error, "list the backup") from None

    def top_names(self) -> set[str]:
        import obstore

        try:
            found = obstore.list_with_delimiter(self.client(), prefix=self.prefix or None)
        except Exception as error:
            raise self._failed(error, "list the backup") from None
        start = f"{self.prefix}/" if self.prefix else ""
        names = [str(p) for p in found["common_prefixes"]] + [str(o["path"]) for o in found["objects"]]
        return {name[len(start) :].strip("/").split("/")[0] for name in names}

    def upload(self, name: str, path: Path) -> tuple[int, str]:
        try:
            return put_checked(self.client(), self._key(name), path)
        except NotWhole:
            raise StorageUnavailable(f"cannot back up {name}: {self.where()} did not keep it whole") from None
        except Exception as error:
            raise self._failed(error, f"back up {name}") from None

    def open(self, name: str) -> BinaryIO:
        import obstore
        from obstore.exceptions import NotFoundError

        key = self._key(name)
        try:
            result = obstore.get(self.client(), key)
        except (NotFoundError, FileNotFoundError):
            raise FileNotFoundError(name) from None
        except Exception as error:
            raise self._failed(error, f"read {name}") from None

        def pieces():
            try:
                for piece in result.stream(min_chunk_size=_PIECE):
                    yield bytes(piece)
            except Exception as error:
                raise self._failed(error, f"read {name}") from None

        return PieceReader(pieces())  # type: ignore[return-value]

    def delete(self, name: str) -> None:
        import obstore
        from obstore.exceptions import NotFoundError

        try:
            obstore.delete(self.client(), self._key(name))
        except (NotFoundError, FileNotFoundError):
            pass
        except Exception as error:
            raise self._failed(error, f"remove {name}") from None

    def _same_bucket(self, store: Any) -> bool:
        return (
            isinstance(store, S3OriginalStore)
            and store.settings.bucket == self.settings.bucket
            and store.settings.endpoint.rstrip("/") == self.settings.endpoint.rstrip("/")
        )

    def copy_original(self, store: Any, content_hash: str, suffix: str, name: str) -> int | None:
        import obstore
        from obstore.exceptions import NotFoundError

        if not self._same_bucket(store):
            return None
        store_prefix = store.settings.prefix.strip("/")
        source = store.key(content_hash, suffix)
        source = f"{store_prefix}/{source}" if store_prefix else source
        target = self._key(name)
        try:
            size = int(obstore.head(self.client(), source)["size"])
            obstore.copy(self.client(), source, target, overwrite=True)
            copied = int(obstore.head(self.client(), target)["size"])
        except (NotFoundError, FileNotFoundError):
            raise FileNotFoundError(source) from None
        except Exception as error:
            raise self._failed(error, f"copy {name} inside the bucket") from None
        if copied != size:
            self.delete(name)
            raise StorageUnavailable(f"cannot back up {name}: {self.where()} did not copy it whole")
        return size

    def overlaps(self, store: Any) -> bool:
        if not self._same_bucket(store):
            return False
        mine, theirs = self.prefix + "/", store.settings.prefix.strip("/") + "/"
        return mine == "/" or theirs == "/" or mine.startswith(theirs) or theirs.startswith(mine)
