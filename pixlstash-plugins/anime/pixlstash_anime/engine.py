"""The anime character extractor: a YOLOv8 head (or face) detector and CCIP, as one face extractor.

Each box the detector finds is cropped from the picture and given its CCIP feature; a picture where
none is found is given one for the whole picture (CCIP was trained on single-character pictures), with
a box over all of it and a score of 0, so a character on its own is still recognised. Boxes and features
equal dghs-imgutils' ``detect_heads`` / ``detect_faces`` and ``ccip_batch_extract_features``; likeness is
one minus CCIP's learned difference (``ccip_batch_differences``), so the library's threshold ``t`` is
imgutils' ``ccip_same(threshold=1 - t)`` and its DBSCAN ``eps = 1 - t``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from pixlstash import EngineParameter, Face, FaceExtractor, ModelMissing, ModelStatus
from pixlstash.engines.onnx_sessions import onnx_devices, session_note

from . import ccip, yolo
from .catalogue import CcipModel, DetectorModel

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["AnimeCharacterExtractor"]

log = logging.getLogger(__name__)

_FEATURE_BATCH = 16
PARAMETERS = [
    EngineParameter(
        "conf_threshold", "number", None, "confidence a box needs (default: imgutils', 0.4 heads, 0.25 faces)", 0, 1
    ),
    EngineParameter("iou_threshold", "number", 0.7, "overlap above which two boxes are one (NMS)", 0, 1),
    EngineParameter("min_size", "integer", 0, "boxes smaller than this many pixels are left out", 0, 4096),
    EngineParameter("whole_picture", "boolean", True, "recognise the whole picture when no box is found"),
]


class AnimeCharacterExtractor(FaceExtractor):
    dimensions = 768
    preferred_batch_size = 8
    ray_resources = {"num_gpus": 0.25}  # on a GPU: a small model, four such actors share a card
    own_process = True  # onnxruntime stays out of the server
    keeps_alpha = True  # composited on white, as imgutils' load_image does
    learned_likeness = True

    def __init__(self, detector: DetectorModel, recogniser: CcipModel, threads: int = 0) -> None:
        self.detector, self.recogniser = detector, recogniser
        self.threads = threads or os.cpu_count() or 1
        self.id = f"anime/{detector.name}"
        self.label = f"Anime {detector.finds} ({detector.name}) with {recogniser.name}"
        self.version = self._fingerprint()
        self._sessions: dict[str, Any] = {}
        self._device: str | None = None
        self._note = ""  # on the CPU where a GPU is here: why

    def _fingerprint(self) -> str:
        import hashlib  # here, not at the top: OpenSSL's hashlib costs every CLI start

        parts = f"{self.detector.fingerprint_part()}|{self.recogniser.fingerprint_part()}"
        return "0" if parts == "0|0" else hashlib.blake2b(parts.encode(), digest_size=6).hexdigest()

    def parameters(self) -> list[EngineParameter]:
        return PARAMETERS

    def devices(self) -> list[str]:
        return onnx_devices()

    def device_note(self) -> str:
        return self._note

    def model_status(self) -> ModelStatus:
        missing = [m for m in (self.detector, self.recogniser) if m.files() is None]
        return ModelStatus(
            model=f"{self.detector.name} + {self.recogniser.name}",
            present=not missing,
            # Where the files are (the Hugging Face cache, maybe), or where the first missing one goes.
            location=str(missing[0].local_folder if missing else self.detector.files()),
            how_to_get=self.how_to_get(missing or [self.detector, self.recogniser]),
        )

    def how_to_get(self, models: Sequence[DetectorModel | CcipModel]) -> str:
        return (
            f"run `pixlstash models pull {self.id}` on a machine with internet (it downloads "
            + "; ".join(m.where() for m in models)
            + "), or copy those files there by hand"
        )

    # -- loading --------------------------------------------------------------------------------

    def load(self, device: str = "cpu") -> None:
        if self._sessions and self._device == device:
            return
        missing = [m for m in (self.detector, self.recogniser) if m.files() is None]
        if missing:
            names = " and ".join(m.name for m in missing)
            raise ModelMissing(
                f"the anime model {names} is not on this machine: {self.how_to_get(missing)}",
                engine_id=self.id,
                location=str(missing[0].local_folder),
            )
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if device == "cuda" else ["CPUExecutionProvider"]
        detector_folder, ccip_folder = self.detector.files(), self.recogniser.files()
        assert detector_folder is not None and ccip_folder is not None
        sessions = {}
        for key, path in (
            ("detect", detector_folder / "model.onnx"),
            ("feature", ccip_folder / "model_feat.onnx"),
            ("metric", ccip_folder / "model_metrics.onnx"),
        ):
            try:
                sessions[key] = onnxruntime.InferenceSession(str(path), sess_options=options, providers=providers)
            except Exception as error:  # onnxruntime raises its own Fail/InvalidGraph types
                raise ModelMissing(
                    f"{path} could not be loaded ({str(error).splitlines()[0][:200]}): {self.how_to_get([])}",
                    engine_id=self.id,
                    location=str(path),
                ) from None
        metadata = sessions["detect"].get_modelmeta().custom_metadata_map
        self._infer_size, self._labels = yolo.input_size_of(metadata), yolo.labels_of(metadata)
        self._model_type = self.detector.model_type()
        self._conf = self.detector.default_confidence
        self._sessions, self._device = sessions, device
        self._note = session_note(sessions["detect"])
        log.info("loaded %s and %s on %s", self.detector.name, self.recogniser.name, device)

    def unload(self) -> None:
        self._sessions, self._device = {}, None

    def _ready(self) -> dict[str, Any]:
        if not self._sessions:
            self.load("cpu")
        return self._sessions

    # -- extracting -----------------------------------------------------------------------------

    def detect(
        self, image: Image, conf_threshold: float | None = None, iou_threshold: float = 0.7
    ) -> list[yolo.Detection]:
        """The boxes in one picture, as imgutils' ``detect_heads`` / ``detect_faces`` give them."""
        sessions = self._ready()
        data, old_size, new_size = yolo.preprocess(_rgb(image), self._infer_size)
        (output,) = sessions["detect"].run(["output0"], {"images": data})
        conf = self._conf if conf_threshold is None else conf_threshold
        return yolo.postprocess(output[0], conf, iou_threshold, old_size, new_size, self._labels, self._model_type)

    def features(self, crops: Sequence[Image]) -> np.ndarray:
        """CCIP features of pictures of one character each, as ``ccip_batch_extract_features`` gives them."""
        sessions = self._ready()
        rows = []
        for start in range(0, len(crops), _FEATURE_BATCH):
            data = ccip.preprocess(list(crops[start : start + _FEATURE_BATCH]))
            (output,) = sessions["feature"].run(["output"], {"input": data})
            rows.append(output)
        return np.concatenate(rows) if rows else np.zeros((0, self.dimensions), dtype=np.float32)

    def extract(
        self,
        images: Sequence[Image],
        conf_threshold: float | None = None,
        iou_threshold: float = 0.7,
        min_size: int = 0,
        whole_picture: bool = True,
    ) -> list[list[Face]]:
        boxes_of, crops = [], []
        for image in images:
            rgb = _rgb(image)
            boxes = [
                (box, score)
                for box, _, score in self.detect(rgb, conf_threshold, iou_threshold)
                if min(box[2] - box[0], box[3] - box[1]) >= max(min_size, 1)
            ]
            if not boxes and whole_picture:
                boxes = [((0, 0, rgb.width, rgb.height), 0.0)]
            boxes_of.append(boxes)
            crops += [rgb.crop(box) for box, _ in boxes]
        vectors = iter(self.features(crops))  # the batch's crops together: CCIP runs faster in batches
        return [
            [
                Face(box=tuple(float(v) for v in box), score=score, embedding=[float(v) for v in next(vectors)])
                for box, score in boxes
            ]
            for boxes in boxes_of
        ]

    # -- comparing ------------------------------------------------------------------------------

    def likeness(self, left: np.ndarray, right: np.ndarray) -> list[float]:
        metric = self._ready()["metric"]
        left, right = np.asarray(left, dtype=np.float32), np.asarray(right, dtype=np.float32)
        return (1.0 - ccip.pair_differences(metric, left, right)).tolist()

    def likeness_threshold(self) -> float | None:
        return 1.0 - self.recogniser.threshold() if self.recogniser.files() else None

    # -- fetching (only on the user's request) ----------------------------------------------------

    def download(self) -> str:
        for model in (self.detector, self.recogniser):
            if model.files() is None:
                model.download()
        return str(self.detector.local_folder.parent.parent)


def _rgb(image: Image) -> Image:
    """RGB as imgutils' ``load_image`` makes it: a picture with transparency on white."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        from PIL import Image as PILImage

        rgba = image.convert("RGBA")
        flat = PILImage.new("RGBA", rgba.size, "white")
        flat.paste(rgba, (0, 0), mask=rgba)
        return flat.convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")
