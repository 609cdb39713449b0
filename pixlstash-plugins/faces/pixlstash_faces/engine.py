"""The face extractor: insightface's ``FaceAnalysis`` over one model pack, detection and recognition only.

insightface does the work exactly as it does for everyone: SCRFD detection with 5-point landmarks,
alignment with ``norm_crop``, ArcFace recognition, L2-normalised 512-d embeddings. The pack is loaded
from a local folder only (``FaceAnalysis`` would download a pack it is given by name: it is always
given a path). Sessions run on CUDA when onnxruntime has a working CUDA provider, else on the CPU.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from pixlstash import EngineParameter, Face, FaceExtractor, ModelMissing, ModelStatus
from pixlstash.engines.onnx_sessions import onnx_devices, session_note

from .catalogue import INSIGHTFACE_RELEASES, FacePack

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["InsightFaceExtractor"]

log = logging.getLogger(__name__)

DET_SIZE, DET_THRESH, MIN_FACE = 640, 0.5, 0
PARAMETERS = [
    EngineParameter(
        "det_size", "integer", DET_SIZE, "detector input side in pixels (larger finds smaller faces)", 128, 2048
    ),
    EngineParameter("det_thresh", "number", DET_THRESH, "detection confidence a face needs", 0, 1),
    EngineParameter("min_face", "integer", MIN_FACE, "faces smaller than this many pixels are left out", 0, 4096),
]


class InsightFaceExtractor(FaceExtractor):
    dimensions = 512
    preferred_batch_size = 8
    ray_resources = {"num_gpus": 0.25}  # on a GPU: a small model, four such actors share a card
    own_process = True  # insightface, OpenCV and onnxruntime stay out of the server
    input_size = DET_SIZE  # a preview (1024 px) where one was made, else the original at a reduced JPEG scale

    def __init__(self, pack: FacePack, threads: int = 0) -> None:
        self.pack = pack
        self.threads = threads or os.cpu_count() or 1
        self.id = pack.engine_id
        self.label = f"InsightFace {pack.name}"
        self.version = pack.fingerprint()
        self._app: Any = None
        self._resettable_size = False
        self._device: str | None = None
        self._prepared: tuple[int, float] | None = None
        self._note = ""  # on the CPU where a GPU is here: why

    def parameters(self) -> list[EngineParameter]:
        return PARAMETERS

    def devices(self) -> list[str]:
        return onnx_devices()

    def model_status(self) -> ModelStatus:
        folder = self.pack.files()
        return ModelStatus(
            model=self.pack.name,
            present=folder is not None,
            location=str(folder or self.pack.local_folder),
            how_to_get=self.pack.how_to_get(),
        )

    # -- loading --------------------------------------------------------------------------------

    def load(self, device: str = "cpu") -> None:
        if self._app is not None and self._device == device:
            return
        folder = self.pack.files()
        if folder is None:
            raise ModelMissing(
                f"the face model pack {self.pack.name} is not on this machine: {self.pack.how_to_get()}",
                engine_id=self.id,
                location=str(self.pack.local_folder),
            )
        import onnxruntime
        from insightface.app import FaceAnalysis

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if device == "cuda" else ["CPUExecutionProvider"]
        try:
            app = FaceAnalysis(
                name=str(folder.resolve()),
                allowed_modules=["detection", "recognition"],
                providers=providers,
                sess_options=options,
            )
        except AssertionError:  # insightface asserts a detector is among the files
            raise ModelMissing(
                f"{folder} holds no face detector: {self.pack.how_to_get()}", engine_id=self.id
            ) from None
        if "recognition" not in app.models:
            raise ModelMissing(f"{folder} holds no recognition model: {self.pack.how_to_get()}", engine_id=self.id)
        _sessions_with(app, options, providers)
        detector = app.det_model
        # insightface 0.7.3's SCRFD keeps the first det_size it is prepared with ("det_size is already set
        # ... ignore"); its input_size is None until then when the graph takes any size. 2.x has no such
        # trap (it has static_input_size instead).
        self._resettable_size = not hasattr(detector, "static_input_size") and detector.input_size is None
        self._app, self._device, self._prepared = app, device, None
        self._note = session_note(app.det_model.session)
        log.info("loaded face pack %s from %s on %s", self.pack.name, folder, device)

    def unload(self) -> None:
        self._app = self._device = self._prepared = None

    def _ready(self, det_size: int, det_thresh: float) -> Any:
        if self._app is None:
            self.load("cpu")
        if self._prepared != (det_size, det_thresh):
            if self._resettable_size:
                self._app.det_model.input_size = None  # so that this det_size is taken, not the first one
            self._app.prepare(
                ctx_id=0 if self._device == "cuda" else -1, det_thresh=det_thresh, det_size=(det_size, det_size)
            )
            self._prepared = (det_size, det_thresh)
        return self._app

    # -- extracting -----------------------------------------------------------------------------

    def extract(
        self,
        images: Sequence[Image],
        det_size: int = DET_SIZE,
        det_thresh: float = DET_THRESH,
        min_face: int = MIN_FACE,
    ) -> list[list[Face]]:
        app = self._ready(det_size, det_thresh)
        found = []
        for image in images:
            short, long = sorted(image.size)
            if short < min_face or short * det_size < long:
                # No face min_face wide fits; and a strip (1x100000) would reach the detector less than a
                # pixel wide, where OpenCV's resize fails with a raw assertion.
                found.append([])
                continue
            bgr = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
            faces = []
            for face in app.get(bgr):
                x0, y0, x1, y1 = (float(v) for v in face.bbox)
                if min(x1 - x0, y1 - y0) < min_face:
                    continue
                landmarks = [(float(x), float(y)) for x, y in face.kps] if face.kps is not None else []
                embedding = face.normed_embedding if face.embedding is not None else None
                faces.append(
                    Face(
                        box=(x0, y0, x1, y1),
                        score=float(face.det_score),
                        landmarks=landmarks,
                        embedding=[] if embedding is None else [float(v) for v in embedding],
                    )
                )
            found.append(faces)
        return found

    # -- fetching (only on the user's request) ----------------------------------------------------

    def download(self) -> str:
        return str(self.pack.download())

    def device_note(self) -> str:
        return self._note

    def download_source(self) -> str:
        return INSIGHTFACE_RELEASES  # insightface's downloader fetches its packs from there, not from a hub


def _sessions_with(app: Any, options: Any, providers: list[str]) -> None:
    """Every model's onnxruntime session made with our session options (threads). insightface 2.x passes
    ``sess_options`` on; 0.7.3's ``get_model`` drops it (only providers reach the session), so there the
    sessions are made again, once, from the same files."""
    import onnxruntime

    for model in app.models.values():
        session = getattr(model, "session", None)
        if not isinstance(session, onnxruntime.InferenceSession):
            continue
        made = session.get_session_options()
        if (made.intra_op_num_threads, made.inter_op_num_threads) != (
            options.intra_op_num_threads,
            options.inter_op_num_threads,
        ):
            model.session = onnxruntime.InferenceSession(model.model_file, sess_options=options, providers=providers)
