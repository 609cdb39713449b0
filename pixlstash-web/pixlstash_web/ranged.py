"""An original in a remote store (a bucket) sent to a browser as it arrives from the store, whole or in the
one byte range asked for (a video's seek), without a local copy: memory holds a megabyte at a time."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterator, Mapping

from starlette.responses import Response, StreamingResponse

__all__ = ["checked_whole", "ranged_response"]

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")

log = logging.getLogger(__name__)


def checked_whole(blocks: Iterator[bytes], content_hash: str, what: str) -> Iterator[bytes]:
    """The blocks of a whole original as they come, its last one held back until the bytes are known to
    hash to ``content_hash``: a store that answers with other bytes (damaged, or changed on the way) gets
    the download cut short, which a client sees as an error, never as the file."""
    digest, held = hashlib.blake2b(digest_size=32), None
    for block in blocks:
        digest.update(block)
        if held is not None:
            yield held
        held = block
    if digest.hexdigest() != content_hash:
        log.error("%s does not match its hash as the store sent it: the download was cut short", what)
        raise OSError(f"{what} does not match its hash as the store sent it")
    if held is not None:
        yield held


def ranged_response(
    range_header: str | None,
    size: int,
    read: Callable[[int, int], Iterator[bytes]],
    media_type: str,
    headers: Mapping[str, str],
) -> Response:
    """200 with the whole body, or 206 with the range ``Range: bytes=A-B`` names (416 when it lies past
    the end). Several ranges at once are answered whole (a browser never asks them of media)."""
    start, end = 0, size  # end exclusive
    match = _RANGE.match((range_header or "").strip())
    partial = bool(match and (match[1] or match[2]))
    if partial:
        assert match is not None
        if match[1]:
            start = int(match[1])
            end = min(size, int(match[2]) + 1) if match[2] else size
        else:  # the last N bytes
            start = max(0, size - int(match[2]))
        if start >= size or end <= start:
            return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    answer = {**headers, "Accept-Ranges": "bytes", "Content-Length": str(end - start)}
    if partial:
        answer["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    return StreamingResponse(
        read(start, end), status_code=206 if partial else 200, media_type=media_type, headers=answer
    )
