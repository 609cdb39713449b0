"""A video without its container's metadata, its streams untouched (remuxed: no decoding, no
re-encoding): what a share recipient gets when the owner has not chosen to include metadata. A phone's
video carries where and when it was shot (``location``, ``creation_time``); a ComfyUI video carries the
prompt and workflow in ``comment``. Only the video and audio streams are kept (no subtitles, data or
attachment streams, which can hold anything).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .video import _import_av

__all__ = ["STRIPPABLE_VIDEO", "remux_without_metadata"]

# suffix -> the muxer that writes it again
STRIPPABLE_VIDEO = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".webm": "webm", ".mkv": "matroska"}


def remux_without_metadata(source: Path, target: Path) -> bool:
    """Write ``source`` to ``target`` (atomically) without metadata; False for a container this cannot
    write again, or a file it cannot read."""
    muxer = STRIPPABLE_VIDEO.get(source.suffix.lower())
    if muxer is None:
        return False
    av = _import_av()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=target.parent, suffix=".part")
    os.close(fd)
    # faststart: the index goes first, so that a browser can start playing before the whole file came.
    options = {"movflags": "+faststart"} if muxer in ("mp4", "mov") else {}
    try:
        with av.open(str(source)) as original, av.open(partial, "w", format=muxer, options=options) as copy:
            kept = {s.index: copy.add_stream_from_template(s) for s in original.streams if s.type in ("video", "audio")}
            if not kept:
                raise ValueError("no video or audio stream")
            for packet in original.demux(*(original.streams[index] for index in kept)):
                if packet.dts is None:  # the demuxer's end-of-stream marker
                    continue
                packet.stream = kept[packet.stream.index]
                copy.mux(packet)
        os.replace(partial, target)
        return True
    except (av.FFmpegError, ValueError, OSError):
        return False
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
