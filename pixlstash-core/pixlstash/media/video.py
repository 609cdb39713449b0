"""Video through PyAV (the optional ``video`` extra): duration, size, codec and a poster frame."""

from __future__ import annotations

import contextlib
from pathlib import Path

from PIL.Image import Image

from ..errors import TooLarge, UnsupportedMedia
from .facts import MediaAnalysis, MediaLimits
from .generators.comfyui import from_video_tags
from .hashing import perceptual_hash
from .thumbnails import make_thumbnails

__all__ = ["MAX_PACKETS", "analyse_video", "frame_at", "poster_frame", "spread_frames"]


def _import_av():
    try:
        import av
    except ImportError:
        raise UnsupportedMedia("video support is not installed: pip install 'av==18.1.0' (PyAV)") from None
    return av


# Looking for one keyframe reads at most this many packets (minutes of video at any frame rate): a stream
# whose keyframes the decoder never finds would otherwise be read to its end, gigabytes for one poster.
MAX_PACKETS = 3000


# A frame may be this many times the size the stream declares (streams that switch resolution), and at
# least 4K UHD, before the pixel limit.
_FRAME_GROWTH = 4
_FRAME_FLOOR = 3840 * 2160


@contextlib.contextmanager
def _video(path: Path, max_pixels: int | None):
    """The container and its first video stream, set to decode keyframes only, and no frame larger than
    the pixel limit (``max_pixels``, else the library's) nor far larger than the stream says its frames
    are. FFmpeg checks that bound before it allocates a frame: a stream whose header says 64x48 could
    otherwise carry one 12000x12000 frame that costs seconds and gigabytes to decode."""
    av = _import_av()
    limit = max_pixels or MediaLimits.from_environment().max_pixels
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        declared = (stream.codec_context.width or 0) * (stream.codec_context.height or 0)
        if declared:
            limit = min(limit, max(_FRAME_GROWTH * declared, _FRAME_FLOOR))
        stream.codec_context.skip_frame = "NONKEY"
        stream.codec_context.options = {"max_pixels": str(limit)}
        yield container, stream, limit


def _keyframe(container, stream, limit: int, at_least: float = 0.0):
    """The first decodable keyframe from where the container stands, at or after ``at_least`` seconds;
    None at the end of the stream. Raises past ``MAX_PACKETS``, and for a frame over the pixel limit."""
    codec = stream.codec_context
    for n, packet in enumerate(container.demux(stream)):
        if n >= MAX_PACKETS:
            raise UnsupportedMedia(f"no picture found in the first {MAX_PACKETS:,} packets of the video")
        try:
            frames = packet.decode()  # the last packet (no data) flushes the decoder
        except ValueError:  # FFmpeg's EINVAL: what max_pixels answers for a frame over it (or garbage)
            raise TooLarge(f"a frame of the video is larger than {limit:,} pixels (or corrupt)") from None
        if not frames and packet.is_keyframe:
            # A decoder that reorders frames holds a keyframe back until later frames arrive, and those
            # are skipped: it would give it only at the end of the stream. Drain it now, then reset.
            frames = codec.decode(None)
            codec.flush_buffers()
        for frame in frames:
            if frame_seconds(frame, stream) >= at_least - 1e-3:
                return frame
    return None


def frame_seconds(frame, stream) -> float:
    """A decoded frame's time from its pts and the stream's time base (a drained frame has no time of
    its own: NaN)."""
    if frame.pts is None or not stream.time_base:
        return 0.0
    return float(frame.pts * stream.time_base)


def poster_frame(path: Path, duration: float | None, max_pixels: int | None = None):
    """A representative frame as a Pillow image: the first keyframe after 10% of the video (max 3 s in)."""
    with _video(path, max_pixels) as (container, stream, limit):
        if duration and duration > 1:
            target = min(duration * 0.1, 3.0)
            container.seek(int(target / stream.time_base) if stream.time_base else 0, stream=stream)
        frame = _keyframe(container, stream, limit)
        if frame is not None:
            return frame.to_image()
    raise UnsupportedMedia("video has no decodable frame")


def spread_frames(path: Path, count: int, max_pixels: int | None = None) -> list[tuple[float, Image]]:
    """Up to ``count`` keyframes spread evenly through the video (at 1/(count+1), 2/(count+1), ...), as
    (seconds, Pillow image); fewer when keyframes are sparse, none when the length is unknown. Only
    keyframes are decoded, so this costs a few frames' decoding whatever the video's length."""
    frames: list[tuple[float, Image]] = []
    with _video(path, max_pixels) as (container, stream, limit):
        duration = container.duration / 1_000_000 if container.duration else None
        if not duration or not stream.time_base:
            return []
        seen: set[int] = set()
        for k in range(1, count + 1):
            container.seek(int(duration * k / (count + 1) / stream.time_base), stream=stream)
            try:
                frame = _keyframe(container, stream, limit)
            except UnsupportedMedia:  # the poster is found already; the rest are extras
                break
            if frame is None or frame.pts in seen:
                continue
            seen.add(frame.pts)
            frames.append((frame_seconds(frame, stream), frame.to_image()))
    return frames


def frame_at(path: Path, seconds: float, max_pixels: int | None = None) -> Image:
    """The keyframe at ``seconds`` (as ``spread_frames`` returned it), as a Pillow image."""
    with _video(path, max_pixels) as (container, stream, limit):
        if stream.time_base:
            container.seek(int(seconds / stream.time_base), stream=stream)
        frame = _keyframe(container, stream, limit, seconds)
        if frame is not None:
            return frame.to_image()
    raise UnsupportedMedia(f"the video has no frame at {seconds:.2f} s")


def analyse_video(path: Path, analysis: MediaAnalysis, limits: MediaLimits) -> None:
    """Fill in a video's facts and thumbnails, or raise ``UnsupportedMedia`` with a reason."""
    av = _import_av()
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise UnsupportedMedia("no video stream")
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            codec = stream.codec_context.name
            tags = dict(container.metadata)  # ComfyUI's SaveVideo and Video Helper Suite write here
            if container.duration:
                duration = container.duration / 1_000_000
            elif stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
            else:
                duration = None
        if not width or not height:
            raise UnsupportedMedia("video has no picture size")
        if width * height > limits.max_pixels:
            raise TooLarge(f"video frame {width}x{height} is over the {limits.max_pixels:,}-pixel limit")
        if duration and duration > limits.max_video_seconds:
            raise TooLarge(f"video is {duration:.0f} s long, over the {limits.max_video_seconds:.0f}-s limit")
        frame = poster_frame(path, duration, limits.max_pixels)
    except av.error.FFmpegError as error:
        raise UnsupportedMedia(f"corrupt or unreadable video: {error}") from None
    analysis.media_type, analysis.codec, analysis.duration = "video", codec, duration
    analysis.generation = from_video_tags(tags, analysis.notes)
    analysis.width, analysis.height = width, height
    grid_bytes, preview_bytes, grid = make_thumbnails(frame)
    analysis.grid_thumbnail, analysis.preview_thumbnail = grid_bytes, preview_bytes
    analysis.phash = perceptual_hash(grid)
