"""Run the faces plugin's engine and insightface's own FaceAnalysis on the same pack and pictures, under
whichever insightface this interpreter has (2.x in the project's venv, 0.7.3 in its own), and print what
differs as JSON on the last line. One engine runs every det_size in turn, as a library's jobs do; the
reference is a fresh FaceAnalysis per det_size.

    python compare_with_insightface.py PACK_FOLDER THREADS DET_SIZE,DET_THRESH ... -- IMAGE ...
"""

import json
import sys
from pathlib import Path

import insightface
import numpy as np
from insightface.app import FaceAnalysis
from PIL import Image
from pixlstash_faces.catalogue import FacePack
from pixlstash_faces.engine import InsightFaceExtractor


def main(argv: list[str]) -> None:
    folder, threads = argv[0], int(argv[1])
    split = argv.index("--")
    settings = [(int(a.split(",")[0]), float(a.split(",")[1])) for a in argv[2:split]]
    images = [Image.open(path).convert("RGB") for path in argv[split + 1 :]]
    engine = InsightFaceExtractor(FacePack(Path(folder).name, Path(folder)), threads=threads)
    differences, counts = [], []
    for det_size, det_thresh in settings:
        found = engine.extract(images, det_size=det_size, det_thresh=det_thresh, min_face=0)
        app = FaceAnalysis(
            name=folder, allowed_modules=["detection", "recognition"], providers=["CPUExecutionProvider"]
        )
        app.prepare(ctx_id=-1, det_thresh=det_thresh, det_size=(det_size, det_size))
        count = 0
        for n, (image, faces) in enumerate(zip(images, found, strict=True)):
            expected = app.get(np.ascontiguousarray(np.asarray(image)[:, :, ::-1]))
            count += len(expected)
            if len(faces) != len(expected):
                differences.append(f"det_size {det_size}, image {n}: {len(faces)} faces, FaceAnalysis {len(expected)}")
                continue
            for face, ref in zip(faces, expected, strict=True):
                if not (
                    np.allclose(face.box, ref.bbox, atol=1e-3)
                    and np.allclose(face.embedding, ref.normed_embedding, atol=1e-5)
                ):
                    differences.append(f"det_size {det_size}, image {n}: a face differs")
        counts.append(count)
    sessions = [m.session.get_session_options() for m in engine._app.models.values()]
    print(
        json.dumps(
            {
                "insightface": insightface.__version__,
                "differences": differences,
                "faces": counts,
                "threads": [s.intra_op_num_threads for s in sessions],
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
