"""An original in a remote store (a bucket) sent to a browser as it arrives from the store, whole or in the
one byte range asked for (a video's seek), without a local copy: memory holds a megabyte at a time."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping

from starlette.responses import Response, StreamingResponse

__all__ = ["ranged_response"]

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


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
