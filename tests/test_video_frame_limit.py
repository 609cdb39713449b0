"""A video whose header says 64x48 but which carries one 12000x12000 frame is refused before that frame
is decoded (it took 40 s and +1.8 GiB to import), with one line saying why; ordinary videos still import."""

from __future__ import annotations

import io
import resource
from fractions import Fraction

import pytest
from PIL import Image

from pixlstash.library import Library

av = pytest.importorskip("av")


def _jpeg(width: int, height: int, colour) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "JPEG", quality=50)
    return buffer.getvalue()


def _mjpeg_video(path, frames: list[bytes]) -> None:
    """A Matroska file of MJPEG frames muxed as they are (each frame may have its own size)."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mjpeg", rate=1)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuvj420p"
        stream.time_base = Fraction(1, 1)
        for n, data in enumerate(frames):
            packet = av.Packet(data)
            packet.stream, packet.pts, packet.dts, packet.time_base = stream, n, n, Fraction(1, 1)
            packet.is_keyframe = True
            out.mux(packet)


def test_one_huge_frame_in_a_small_video_is_refused_before_decoding(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    small = _jpeg(64, 48, (200, 0, 0))
    _mjpeg_video(folder / "trap.mkv", [small, _jpeg(12000, 12000, (0, 200, 0)), *[small] * 8])
    _mjpeg_video(folder / "fine.mkv", [small] * 10)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with Library.open(tmp_path / "lib") as library:
        report = library.import_paths([folder])
    grew_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert [i.path.rsplit("/", 1)[-1] for i in report.imported] == ["fine.mkv"]
    [skipped] = report.skipped
    assert skipped.path.endswith("trap.mkv") and "a frame of the video is larger than" in skipped.reason
    assert grew_mib < 400  # decoding the 144-megapixel frame alone takes over 1 GiB
