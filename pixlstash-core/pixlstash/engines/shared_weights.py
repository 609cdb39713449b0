"""What plugins whose engines share one model need: the model's folder (a local copy or the Hugging Face
cache, fetched only on request) and its weights, loaded once per process for every engine that uses them.
A captioner and a tagger (or a reader) over one vision-language model use both."""

from __future__ import annotations

import abc
import gc
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelMissing
from ..system.paths import hub_snapshot
from .base import ModelStatus

__all__ = ["ModelFolder", "SharedWeights", "SharedWeightsEngine"]


@dataclass(frozen=True)
class ModelFolder:
    """A transformers model folder: ``<models dir>/<plugin>/<name>/``, else the Hugging Face cache's copy of
    ``hub_repo``. It is whole when every file of ``needed`` is there and at least one safetensors file."""

    name: str  # a known name ("beta-one"), or a local folder's
    hub_repo: str | None
    local_folder: Path
    # Set by each plugin's subclass:
    plugin: str = ""
    needed: tuple[str, ...] = ("config.json",)
    size: str = ""  # what downloading it costs, said in how_to_get ("about 16 GB")
    label: str = ""  # how its errors name the kind of model ("JoyCaption")

    def complete(self, folder: Path) -> bool:
        return all((folder / name).is_file() for name in self.needed) and any(folder.glob("*.safetensors"))

    def files(self) -> Path | None:
        if self.complete(self.local_folder):
            return self.local_folder
        return hub_snapshot(self.hub_repo, self.complete) if self.hub_repo else None

    def required(self) -> Path:
        """Its folder, or ``ModelMissing`` saying what to do to have it here."""
        folder = self.files()
        if folder is None:
            raise ModelMissing(
                f"the {self.label or self.plugin} model {self.name} is not on this machine: {self.how_to_get()}",
                location=str(self.local_folder),
            )
        return folder

    def status(self, note: str = "") -> ModelStatus:
        """Whether it is here, where, and how to get it (``pixlstash models``)."""
        folder = self.files()
        return ModelStatus(
            model=f"{self.plugin}/{self.name}",
            present=folder is not None,
            location=str(folder or self.local_folder),
            how_to_get=self.how_to_get(),
            note=note,
        )

    def fingerprint(self) -> str:
        """Changes when the weights change (new weights under the same name mean new results)."""
        import hashlib  # here, not at the top: OpenSSL's hashlib costs every CLI start

        folder = self.files()
        if folder is None:
            return "0"
        digest = hashlib.blake2b((folder / "config.json").read_bytes(), digest_size=6)
        for weights in sorted(folder.glob("*.safetensors")):
            digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
        return digest.hexdigest()

    def how_to_get(self) -> str:
        """What to do to have it here (plugins say more: which files a copied folder needs)."""
        return self.pull_hint() or f"copy the model's folder to {self.local_folder}"

    def pull_hint(self) -> str:
        """The way to fetch it ("" for a local-only model)."""
        if not self.hub_repo:
            return ""
        size = f"{self.size} " if self.size else ""
        return (
            f"run `pixlstash models pull {self.plugin}/{self.name}` on a machine with internet ({size}from "
            f"huggingface.co/{self.hub_repo} into {self.local_folder})"
        )

    def download(self) -> Path:
        if not self.hub_repo:
            raise ModelMissing(
                f"{self.plugin}/{self.name} is a local model with no download source: {self.how_to_get()}"
            )
        from huggingface_hub import snapshot_download

        self.local_folder.mkdir(parents=True, exist_ok=True)
        snapshot_download(self.hub_repo, local_dir=self.local_folder)
        return self.local_folder


class SharedWeights(abc.ABC):
    """One model's weights shared by the engines that use it: loaded when the first of them loads, moved
    when one asks for another device, freed when the last of them unloads."""

    def __init__(self) -> None:
        self.device: str | None = None
        self._holders: set[str] = set()
        self._lock = threading.Lock()

    @property
    @abc.abstractmethod
    def loaded(self) -> bool: ...

    @abc.abstractmethod
    def _load(self, device: str) -> None:
        """Load onto ``device`` (set what ``loaded`` reads); raise ``ModelMissing`` when the files are absent."""

    @abc.abstractmethod
    def _drop(self) -> None:
        """Let go of the weights (``loaded`` false after)."""

    def acquire(self, holder: str, device: str) -> None:
        with self._lock:
            if self.loaded and self.device != device:
                self._free()
            if not self.loaded:
                self._load(device)
                self.device = device
            self._holders.add(holder)

    def release(self, holder: str) -> None:
        with self._lock:
            self._holders.discard(holder)
            if not self._holders:
                self._free()

    def batch_size(self, fallback: int) -> int:
        """The batch the loaded weights take on their device (plugins size it from free GPU memory)."""
        return fallback

    def _free(self) -> None:
        device, self.device = self.device, None
        self._drop()
        gc.collect()
        torch = sys.modules.get("torch")  # the weights were loaded with it; the core never imports it
        if device == "cuda" and torch is not None:
            torch.cuda.empty_cache()


class SharedWeightsEngine:
    """What an engine over a plugin's ``SharedWeights`` (``weights``, whose ``model_files`` is a
    ``ModelFolder``) does the same way in every such plugin: loading holds the weights for this engine,
    unloading lets go, the batch on a GPU is what the weights say, and the model's status and download are
    its folder's. Listed before the engine's base class, so that these come first."""

    weights: SharedWeights
    id: str
    preferred_batch_size: int

    def model_status(self) -> ModelStatus:
        return self.weights.model_files.status()  # type: ignore[attr-defined]

    def download(self) -> str:
        return str(self.weights.model_files.download())  # type: ignore[attr-defined]

    def load(self, device: str = "cpu") -> None:
        self.weights.acquire(self.id, device)

    def unload(self) -> None:
        self.weights.release(self.id)

    def batch_size(self, device: str) -> int:
        return self.weights.batch_size(self.preferred_batch_size) if device == "cuda" else self.preferred_batch_size
