"""Faces on videos: the extractor sees the poster and a few keyframes spread through the video; each
person is kept once, on the frame where they were found most confidently, with that frame's index and
time; their crops come from that frame; and a re-run keeps the names the user gave."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_enrichment import PALETTE, run_jobs

from pixlstash.engines import Face, Task
from pixlstash.engines.tasks import TASKS
from pixlstash.testing import colour_vector, mean_rgb

av = pytest.importorskip("av")

FPS = 6


def coloured_video(path: Path, scenes: list[tuple[str, float]], size=(192, 144)) -> Path:
    """An H.264 video of solid scenes ((colour, seconds) each), with a keyframe every second."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = FPS
        stream.codec_context.options = {"keyint_min": str(FPS), "sc_threshold": "0"}
        for colour, seconds in scenes:
            image = Image.new("RGB", size, PALETTE[colour])
            for _ in range(round(seconds * FPS)):
                for packet in stream.encode(av.VideoFrame.from_image(image)):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def nearest_colour(vector) -> str:
    vector = np.asarray(vector, dtype=np.float32)
    return max(("red", "green", "blue"), key=lambda name: float(colour_vector(_unit(PALETTE[name])) @ vector))


def _unit(rgb):
    return tuple(c / 255 for c in rgb)


def test_a_videos_people_are_found_once_each_on_the_frame_they_are_on(fake_engines, library, tmp_path):
    # 8 s: the poster (at 0.8 s) and the first spread frame (2 s) are red, the middle one (4 s) blue,
    # the last (6 s) black, where the fake extractor finds no face.
    video = coloured_video(tmp_path / "scenes.mp4", [("red", 3), ("blue", 2.5), ("black", 2.5)])
    picture_id = library.import_paths([video]).imported[0].picture_id
    run_jobs(library)
    faces = library.get(picture_id).faces
    assert [f.frame for f in faces] == [0, 2]
    assert faces[0].frame_seconds is None and faces[1].frame_seconds == pytest.approx(4.0, abs=0.2)
    vectors = library.vectors.face_vectors([f.id for f in faces])
    assert [nearest_colour(vectors[f.id]) for f in faces] == ["red", "blue"]
    assert library.search.similar_faces(faces[1].id, limit=5)  # the later frame's face is searchable like any

    crops = [library.files.face_crop_path(f.id) for f in faces]
    assert crops[0] != crops[1] and all(p.is_file() for p in crops)
    with Image.open(crops[1]) as crop:  # made from the 4 s frame: blue, not the red poster
        red, _, blue = mean_rgb(crop)
    assert blue > 0.6 and red < 0.25

    # Naming the blue person survives running the detector again.
    character = library.organise.create_collection("character", "Blue")
    library.organise.assign_face(faces[1].id, character.id)
    library.enrichment.enqueue(Task.FACES, [picture_id], force=True)
    run_jobs(library)
    again = library.get(picture_id).faces
    assert [(f.frame, f.character_id) for f in again] == [(0, None), (2, character.id)]


def test_a_still_keeps_every_face_and_frames_merge_by_likeness_or_overlap():
    merge = TASKS[Task.FACES].merge_frames
    red, also_red = list(colour_vector((1, 0, 0))), list(colour_vector((0.95, 0.05, 0)))
    blue = list(colour_vector((0, 0, 1)))
    left, right = (0, 0, 10, 10), (20, 0, 30, 10)
    # Two alike faces on one frame are two people (twins, a mirror): both stay.
    still = merge([(0, None)], [[Face(right, 0.8, [], also_red), Face(left, 0.9, [], red)]])
    assert [(f.box, f.frame) for f in still] == [(left, 0), (right, 0)]
    # Across frames the most confident sighting of a person is kept, with its frame.
    frames = [(0, None), (1, 2.0), (2, 4.0)]
    video = merge(frames, [[Face(left, 0.7, [], red)], [Face(right, 0.95, [], also_red)], [Face(left, 0.9, [], blue)]])
    assert [(f.frame, f.frame_seconds, f.score) for f in video] == [(1, 2.0, 0.95), (2, 4.0, 0.9)]
    # Without vectors, faces on different frames are one person when their boxes overlap.
    plain = merge(frames, [[Face(left, 0.7)], [Face((1, 0, 11, 10), 0.8)], [Face(right, 0.6)]])
    assert [(f.frame, f.box) for f in plain] == [(1, (1, 0, 11, 10)), (2, right)]
