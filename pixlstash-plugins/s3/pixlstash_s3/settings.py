"""Where the bucket is (``pixlstash storage use s3://BUCKET/PREFIX --endpoint URL`` writes these)."""

from __future__ import annotations

from typing import ClassVar

import msgspec

__all__ = ["S3Settings"]


class S3Settings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    bucket: str = ""  # empty: originals stay in the library's own folder
    prefix: str = ""  # keys start with it ("pixlstash/library-1"); none: the bucket's root
    endpoint: str = ""  # the service's address (https://s3.eu-central-003.backblazeb2.com); empty: AWS S3
    region: str = "us-east-1"
    path_style: bool = True  # https://host/bucket/key (MinIO, SeaweedFS, Garage); off: https://bucket.host/key
    access_key_id: str = ""  # empty: AWS_ACCESS_KEY_ID
    secret_access_key: str = ""  # empty: AWS_SECRET_ACCESS_KEY; stored like other secrets, never shown back
    # A refused connection, a timeout or a 5xx is tried again this often, waiting longer each time (200 ms
    # doubling to 8 s), before the import of that file fails with the reason.
    retries: int = 4
    timeout_seconds: float = 120.0  # one request's longest wait (a large original on a slow line needs long)

    secret_fields: ClassVar[tuple[str, ...]] = ("secret_access_key",)
