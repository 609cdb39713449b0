"""The obstore client for a bucket, and what its errors mean to a person."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pixlstash import StorageUnavailable

from .settings import S3Settings

__all__ = ["NotWhole", "failure", "make_client", "put_checked"]

SINGLE_PUT_MAX = 64 << 20  # bytes: larger files go up in parts
PART_SIZE = 16 << 20
_BLOCK = 1 << 20


class NotWhole(Exception):
    """The service answered, but what it holds is not what was sent (it was removed again)."""


# What boto3, the AWS CLI and obstore take an endpoint from. PixlStash takes it only from what the person
# named for the library or the command: the library's stored key must never go to an address the
# environment picked (a variable set for another tool), and a half-taken one failed as a "builder error".
_ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT")


def make_client(settings: S3Settings, environ: Mapping[str, str], prefix: str | None) -> Any:
    """A client for ``settings.bucket``, rooted at ``prefix``; credentials from the settings, else
    ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``."""
    from obstore.store import S3Store  # (loaded when a bucket is first used)

    s = settings
    if not s.endpoint and (variable := next((v for v in _ENDPOINT_VARIABLES if environ.get(v)), None)):
        raise StorageUnavailable(
            f"{variable} is set ({environ[variable]}), but PixlStash takes a bucket's endpoint only from "
            f"--endpoint or the library's settings: give --endpoint {environ[variable]}, or unset {variable} "
            "to use AWS S3"
        )
    options: dict[str, Any] = {"connect_timeout": "5s", "timeout": f"{max(1.0, s.timeout_seconds):g}s"}
    if s.endpoint.startswith("http://"):
        options["allow_http"] = True
    config: dict[str, Any] = {"region": s.region, "virtual_hosted_style_request": not s.path_style}
    if s.endpoint:
        config["endpoint"] = s.endpoint
    key_id = s.access_key_id or environ.get("AWS_ACCESS_KEY_ID", "")
    secret = s.secret_access_key or environ.get("AWS_SECRET_ACCESS_KEY", "")
    if key_id and secret:
        config.update(access_key_id=key_id, secret_access_key=secret)
    else:
        config["skip_signature"] = True  # a public bucket, or one the service lets anyone write
    return S3Store(
        s.bucket,
        prefix=prefix,
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


def failure(error: Exception, doing: str, where: str, settings: S3Settings) -> StorageUnavailable:
    """One line a person can act on, from whatever the client raised."""
    from obstore.exceptions import PermissionDeniedError, UnauthenticatedError

    text = str(error).split("Debug source")[0]
    first = " ".join(text.split())
    endpoint = settings.endpoint or "AWS S3"
    status = re.search(r"status code: (\d{3})", first)
    code = status[1] if status else ""
    refused = isinstance(error, PermissionDeniedError | UnauthenticatedError) or code in ("401", "403")
    # A refusal may come from where a redirect led (without the key): asked once, the endpoint says so.
    moved = _redirected_to(settings) if refused or code.startswith("3") else None
    if "NoSuchBucket" in str(error):
        reason = f"the bucket {settings.bucket!r} does not exist at {endpoint}"
    elif moved is not None:
        reason = (
            f"{where} sends every request on to {moved} (a redirect, which never takes the credentials along): "
            "give the address it names as the endpoint"
        )
    elif refused:
        reason = f"{where} refused the credentials (check the access key and its secret)"
    elif status is None and re.search(r"error sending request|connect|timed out|dns error", first, re.IGNORECASE):
        reason = f"{where} does not answer"
    elif code.startswith("5"):
        reason = f"{where} answered {code} (the service is failing; try again when it is back)"
    else:
        reason = f"{where} failed: {first[:300]}"
    return StorageUnavailable(f"cannot {doing}: {reason}", where=where)


def _redirected_to(settings: S3Settings) -> str | None:
    """Where the endpoint sends a request for the bucket on to, asked once without following it (a
    redirect was reported as refused credentials: the client follows it and leaves the key behind)."""
    import http.client
    from urllib.parse import urlsplit

    address = urlsplit(settings.endpoint)
    if address.scheme not in ("http", "https") or not address.hostname:
        return None
    kind = http.client.HTTPSConnection if address.scheme == "https" else http.client.HTTPConnection
    host = address.hostname if settings.path_style else f"{settings.bucket}.{address.hostname}"
    connection = kind(host, address.port, timeout=5)
    try:
        connection.request("HEAD", f"/{settings.bucket}/" if settings.path_style else "/")
        answer = connection.getresponse()
        if answer.status in (301, 302, 303, 307, 308):
            return (answer.getheader("Location") or "another address")[:200]
    except OSError:
        return None
    finally:
        connection.close()
    return None


def put_checked(client: Any, key: str, path: Path, digest: str | None = None) -> tuple[int, str]:
    """Upload ``path`` as ``key`` and return (bytes, BLAKE2b-256 hex) only once the bucket holds it whole:
    a single PUT is checked against the MD5 the service computed (its ETag; read back where that differs),
    a multipart one by reading it back. ``NotWhole`` (the object removed) when it does not match.
    ``digest``: the file's hash, known already (an original's content hash: not computed again)."""
    import obstore

    size = os.path.getsize(path)
    if size <= SINGLE_PUT_MAX:
        data = path.read_bytes()
        digest = digest or hashlib.blake2b(data, digest_size=32).hexdigest()
        result = obstore.put(client, key, data, use_multipart=False)
        # A single PUT's ETag is the MD5 of what the service received, except where it encrypts with its
        # own keys (AWS SSE-KMS and SSE-C): there a differing ETag proves nothing, and reading back decides.
        sent = hashlib.md5(data, usedforsecurity=False).hexdigest()
        whole = (result.get("e_tag") or "").strip('"') == sent or _reads_back(client, key, digest)
    else:
        from pixlstash import content_hash  # (numpy and Pillow come with it: only for a file this large)

        digest = digest or content_hash(path)
        with open(path, "rb") as stream:
            obstore.put(client, key, stream, use_multipart=True, chunk_size=PART_SIZE, max_concurrency=4)
        whole = _reads_back(client, key, digest)
    if not whole:
        with contextlib.suppress(Exception):
            obstore.delete(client, key)
        raise NotWhole(key)
    return size, digest


def _reads_back(client: Any, key: str, digest: str) -> bool:
    """Whether the object ``key`` hashes to ``digest`` (BLAKE2b-256) as the bucket gives it back."""
    import obstore

    back = hashlib.blake2b(digest_size=32)
    for piece in obstore.get(client, key).stream(min_chunk_size=_BLOCK):
        back.update(piece)
    return back.hexdigest() == digest
