"""Which anime detection and CCIP models this plugin offers and where their files are.

The models are DeepGHS's, as ``dghs-imgutils`` uses them, in the layout of their Hugging Face repositories:
a detector is ``<repo>/<name>/model.onnx`` (with ``model_type.json`` where it is not a YOLOv8), CCIP
is ``deepghs/ccip_onnx/<name>/model_feat.onnx``, ``model_metrics.onnx`` and ``metrics.json`` (the
difference under which two pictures show one character). Files are looked for in
``<models dir>/anime/<repo name>/<name>/``, then in the Hugging Face cache where imgutils leaves them.
Nothing here touches the network; ``download`` does, and only ``pixlstash models pull`` calls it.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import msgspec

from pixlstash import ModelMissing, fetch_file, hub_snapshot, models_dir

__all__ = [
    "CCIP_MODELS",
    "DEFAULT_CCIP",
    "DEFAULT_DETECTOR",
    "DETECTORS",
    "AnimeSettings",
    "CcipModel",
    "DetectorModel",
    "configured_detectors",
]

log = logging.getLogger(__name__)

FACE_REPO, HEAD_REPO, CCIP_REPO = "deepghs/anime_face_detection", "deepghs/anime_head_detection", "deepghs/ccip_onnx"
# The detectors offered, by imgutils' model name: (repository, what it finds, size).
DETECTORS: dict[str, tuple[str, str, str]] = {
    "head_detect_v2.0_s": (HEAD_REPO, "heads", "YOLOv8 s"),
    "head_detect_v2.0_n": (HEAD_REPO, "heads", "YOLOv8 n (fast)"),
    "face_detect_v1.4_s": (FACE_REPO, "faces", "YOLOv8 s"),
    "face_detect_v1.4_n": (FACE_REPO, "faces", "YOLOv8 n (fast)"),
}
# A head crop holds the hair and ears that tell characters apart, so heads are the default.
DEFAULT_DETECTOR = "head_detect_v2.0_s"
CCIP_MODELS = {
    "ccip-caformer-24-randaug-pruned": "CAFormer, the most accurate (imgutils' default)",
    "ccip-caformer-6-randaug-pruned_fp32": "CAFormer, smaller",
    "ccip-caformer-5_fp32": "CAFormer, the first release",
}
DEFAULT_CCIP = "ccip-caformer-24-randaug-pruned"
MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
DETECTOR_FILES, DETECTOR_EXTRAS = ("model.onnx",), ("model_type.json",)
CCIP_FILES = ("model_feat.onnx", "model_metrics.onnx", "metrics.json")


def anime_models_dir() -> Path:
    return models_dir() / "anime"


@dataclass(frozen=True)
class _HubModel:
    """A model published as a folder of a Hugging Face repository."""

    repo: str
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def local_folder(self) -> Path:
        return anime_models_dir() / self.repo.split("/")[1] / self.name

    def files(self) -> Path | None:
        """The folder holding the model's files, or None when they are not on this machine."""
        if self._complete(self.local_folder):
            return self.local_folder
        snapshot = hub_snapshot(self.repo, lambda s: self._complete(s / self.name))
        return snapshot / self.name if snapshot else None

    def _complete(self, folder: Path) -> bool:
        return all((folder / name).is_file() for name in self.required)

    def fingerprint_part(self) -> str:
        folder = self.files()
        if folder is None:
            return "0"
        return ",".join(f"{p.name}:{p.stat().st_size}" for p in sorted(folder.iterdir()) if p.is_file())

    def where(self) -> str:
        return f"{' and '.join(self.required)} from huggingface.co/{self.repo} ({self.name}/) into {self.local_folder}"

    def download(self) -> Path:
        import urllib.error  # only a download needs it, not every CLI start

        endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")
        for name in self.required + self.optional:
            url = f"{endpoint}/{self.repo}/resolve/main/{self.name}/{name}"
            log.warning("downloading %s", url)
            try:
                fetch_file(url, self.local_folder / name)
            except urllib.error.HTTPError as error:
                if error.code == 404 and name in self.optional:
                    continue  # only graphs that are not YOLOv8 say what they are
                raise
        return self.local_folder


@dataclass(frozen=True)
class DetectorModel(_HubModel):
    @classmethod
    def named(cls, name: str) -> DetectorModel:
        repo = DETECTORS[name][0] if name in DETECTORS else (FACE_REPO if name.startswith("face") else HEAD_REPO)
        return cls(repo, name, DETECTOR_FILES, DETECTOR_EXTRAS)

    @property
    def finds(self) -> str:
        return DETECTORS.get(self.name, ("", "faces" if self.name.startswith("face") else "heads", ""))[1]

    @property
    def default_confidence(self) -> float:
        """imgutils' own default: ``detect_heads`` 0.4, ``detect_faces`` 0.25."""
        return 0.4 if self.finds == "heads" else 0.25

    def model_type(self) -> str:
        folder = self.files()
        try:
            return str(json.loads((folder / "model_type.json").read_text())["model_type"]) if folder else "yolo"
        except (OSError, ValueError, KeyError, TypeError):
            return "yolo"


@dataclass(frozen=True)
class CcipModel(_HubModel):
    @classmethod
    def named(cls, name: str) -> CcipModel:
        return cls(CCIP_REPO, name, CCIP_FILES)

    def threshold(self) -> float:
        """The CCIP difference at or under which two pictures show one character (its ``metrics.json``)."""
        folder = self.files()
        if folder is None:
            raise ModelMissing(f"the CCIP model {self.name} is not on this machine")
        try:
            return float(json.loads((folder / "metrics.json").read_text())["threshold"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ModelMissing(f"{folder / 'metrics.json'} holds no threshold ({error})") from None


class AnimeSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The plugin's settings (``pixlstash plugins config anime``)."""

    detectors: list[str] = msgspec.field(default_factory=lambda: [DEFAULT_DETECTOR])  # one engine each
    ccip: str = DEFAULT_CCIP  # the character recogniser every engine uses
    threads: int = 0  # onnxruntime intra-op threads on the CPU; 0: one per core

    def __post_init__(self) -> None:
        # A model's name becomes a folder and a URL path: one plain name, never a path.
        for name in [*self.detectors, self.ccip]:
            if not MODEL_NAME.fullmatch(name.strip()) or ".." in name:
                raise ValueError(f"{name!r} is not a model name (letters, digits, '.', '_' and '-')")


def configured_detectors(settings: AnimeSettings | None = None) -> list[DetectorModel]:
    """The detectors named by the settings, then every other local detector folder."""
    names = [n.strip() for n in (settings or AnimeSettings()).detectors if n.strip()]
    found = [DetectorModel.named(name) for name in dict.fromkeys(names)]
    named = set(names)
    for repo in (FACE_REPO, HEAD_REPO):
        base = anime_models_dir() / repo.split("/")[1]
        if base.is_dir():
            for folder in sorted(base.iterdir()):
                if folder.name not in named and (folder / "model.onnx").is_file():
                    found.append(DetectorModel(repo, folder.name, DETECTOR_FILES, DETECTOR_EXTRAS))
    return found
