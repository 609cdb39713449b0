"""Finding a video's frames reads a bounded part of it: a stream whose next keyframe is far (or never
comes) is not read to its end for one picture."""

from __future__ import annotations

import av
import pytest
from corpus import solid

from pixlstash.errors import UnsupportedMedia
from pixlstash.media import video


def _one_keyframe(path, frames: int = 96, fps: int = 12):
    """A video whose only keyframe is its first (the encoder asked for none after it)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.options = {"x264-params": "keyint=10000:min-keyint=10000:scenecut=0"}
        for n in range(frames):
            for packet in stream.encode(av.VideoFrame.from_image(solid(96, 64, (n * 2, 90, 160)))):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_frames_are_found_within_a_bounded_read(tmp_path, monkeypatch):
    path = _one_keyframe(tmp_path / "one-key.mp4")
    assert video.poster_frame(path, 8.0).size == (96, 64)  # the seek lands on the keyframe before
    with pytest.raises(UnsupportedMedia, match=r"no frame at 5\.00 s"):
        video.frame_at(path, 5.0)  # read to the end (96 packets): there is no keyframe after 5 s
    monkeypatch.setattr(video, "MAX_PACKETS", 30)
    with pytest.raises(UnsupportedMedia, match="first 30 packets"):
        video.frame_at(path, 5.0)  # the same search, stopped after 30 packets
    assert video.poster_frame(path, 8.0).size == (96, 64)  # the poster is within the bound
