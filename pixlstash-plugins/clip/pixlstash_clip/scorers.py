"""Scores from the vectors a CLIP embedder already stored: no image is decoded and no vision tower runs.

- ``clip/aesthetic``: the LAION aesthetic predictor (christophschuhmann/improved-aesthetic-predictor), a
  head over OpenAI CLIP ViT-L/14 image vectors trained on people's 1-10 ratings (SAC, LAION-logos, AVA).
  Its published heads (``sac+logos+ava1-l14-linearMSE.pth``, the same weights as TRL's
  ``trl-lib/ddpo-aesthetic-predictor``) stack linear layers with dropout and no activation between them,
  so the head is one affine map of the normalised vector: it is folded into one at load and runs with numpy.
  Its heads with ReLUs (``*-reluMSE``) cannot be told apart by their tensors and are not supported.
- ``clip/prompt-match``: how well a generated picture shows its own positive prompt. CLIP's likeness of
  the picture to the prompt is set against its likeness to a few distractor prompts that fit any picture
  ("a photo", "an image", ...): the score is the prompt's share of a softmax over them at CLIP's own logit
  scale (100), 0 to 1. A picture that shows its prompt well leaves the distractors far behind.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pixlstash import EngineParameter, ModelMissing, ModelStatus, Scorer, models_dir

from .catalogue import ClipModel
from .engine import ClipEmbedder

__all__ = [
    "AESTHETIC_FILES",
    "AESTHETIC_HUB",
    "DISTRACTORS",
    "AestheticScorer",
    "PromptMatchScorer",
    "fold_linear_head",
]

log = logging.getLogger(__name__)

AESTHETIC_MODEL = "ViT-L-14@openai"  # the CLIP its head was trained on: other vectors give meaningless scores
AESTHETIC_HUB = ("trl-lib/ddpo-aesthetic-predictor", "aesthetic-model.pth")
# Names the head goes by; a .safetensors copy of the same tensors loads without torch.
AESTHETIC_FILES = (
    "sac+logos+ava1-l14-linearMSE.pth",
    "aesthetic-model.pth",
    "sac+logos+ava1-l14-linearMSE.safetensors",
    "aesthetic-model.safetensors",
)
DISTRACTORS = (
    "a photo",
    "an image",
    "a picture of something",
    "a blurry picture",
    "a drawing",
    "text",
    "a texture",
    "a low quality image",
)
_LOGIT_SCALE = 100.0  # CLIP's learnt temperature, at its ceiling in the released models
_VERSION_SECONDS = 10.0
_PROMPT_CACHE = 4096  # prompts kept embedded: a batch of generations shares a handful of prompts


def aesthetic_folder() -> Path:
    return models_dir() / "aesthetic"


def fold_linear_head(tensors: dict[str, np.ndarray]) -> tuple[np.ndarray, float]:
    """A stack of linear layers (``layers.N.weight``/``bias`` in order, or one ``weight``/``bias``) as
    one affine map (w, b): the predictor's dropouts are the identity when it scores."""
    if "weight" in tensors:
        layers = [(tensors["weight"], tensors["bias"])]
    else:
        indices = sorted({int(key.split(".")[1]) for key in tensors if key.startswith("layers.")})
        layers = [(tensors[f"layers.{i}.weight"], tensors[f"layers.{i}.bias"]) for i in indices]
    if not layers:
        raise ValueError("no linear layers in the aesthetic head's file")
    matrix, offset = layers[0][0].astype(np.float64), layers[0][1].astype(np.float64)
    for weight, bias in layers[1:]:
        matrix, offset = weight.astype(np.float64) @ matrix, weight.astype(np.float64) @ offset + bias
    if matrix.shape[0] != 1:
        raise ValueError(f"the aesthetic head gives {matrix.shape[0]} outputs, not one score")
    return matrix[0].astype(np.float32), float(offset[0])


def _read_tensors(path: Path) -> dict[str, np.ndarray]:
    if path.suffix == ".safetensors":
        from safetensors.numpy import load_file

        return load_file(str(path))
    import torch

    state = torch.load(str(path), map_location="cpu", weights_only=True)
    return {key: value.float().numpy() for key, value in state.items()}


class AestheticScorer(Scorer):
    """The LAION aesthetic predictor over stored OpenAI CLIP ViT-L/14 vectors: about 1 (ugly) to 10."""

    id = "clip/aesthetic"
    label = "Aesthetic"
    reads = "embedding"
    low, high = 0.0, 10.0  # its training scale; the rare prediction past either end is clamped
    preferred_batch_size = 512
    own_process = True  # reading a .pth head takes torch, which stays out of the server

    def __init__(self, embedder: ClipModel) -> None:
        self.embedder = embedder
        self.embedder_id = embedder.engine_id
        self._head: tuple[np.ndarray, float] | None = None
        self._version: tuple[float, str] = (-_VERSION_SECONDS * 2, "")

    @property
    def version(self) -> str:  # type: ignore[override]
        # Asked for every picture written: the files are looked at again only every few seconds.
        checked, version = self._version
        if time.monotonic() - checked > _VERSION_SECONDS:
            head = self.head_file()
            mark = f"{head.name}:{head.stat().st_size}" if head else "none"
            version = "1+" + hashlib.blake2b(f"{mark}|{self.embedder.key}".encode(), digest_size=6).hexdigest()
            self._version = (time.monotonic(), version)
        return version

    def head_file(self) -> Path | None:
        for name in AESTHETIC_FILES:
            if (aesthetic_folder() / name).is_file():
                return aesthetic_folder() / name
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(*AESTHETIC_HUB)
        return Path(cached) if isinstance(cached, str) else None

    def model_status(self) -> ModelStatus:
        head = self.head_file()
        embedder = self.embedder.files() is not None
        lacking = ([] if head else ["the predictor's weights"]) + ([] if embedder else [f"CLIP {AESTHETIC_MODEL}"])
        return ModelStatus(
            model="LAION aesthetic predictor (sac+logos+ava1-l14-linearMSE)",
            present=not lacking,
            location=str(head or aesthetic_folder()),
            how_to_get=(
                f"missing: {' and '.join(lacking)}. Run `pixlstash models pull {self.id}` on a machine with "
                f"internet (the weights, from {AESTHETIC_HUB[0]}), or copy {AESTHETIC_FILES[0]} into "
                f"{aesthetic_folder()}; the scores read vectors of CLIP {AESTHETIC_MODEL}: add it to the clip "
                f"plugin's models, pull it, and embed your pictures with {self.embedder_id}"
            ),
            note=f"scores the vectors {self.embedder_id} stored",
        )

    def load(self, device: str = "cpu") -> None:
        if self._head is not None:
            return
        head = self.head_file()
        if head is None:
            raise ModelMissing(f"the aesthetic predictor is not on this machine: {self.model_status().how_to_get}")
        self._head = fold_linear_head(_read_tensors(head))
        log.info("loaded the aesthetic predictor from %s", head)

    def unload(self) -> None:
        self._head = None

    def score(self, items: Sequence[Any]) -> list[float | None]:
        if self._head is None:
            self.load()
        assert self._head is not None
        weights, bias = self._head
        vectors = np.stack([np.asarray(item.vector, dtype=np.float32) for item in items])
        if vectors.shape[1] != weights.shape[0]:
            raise ValueError(
                f"the aesthetic head reads {weights.shape[0]}-d vectors of CLIP {AESTHETIC_MODEL}, "
                f"but {self.embedder_id} stored {vectors.shape[1]}-d ones"
            )
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return [float(v) for v in np.clip(vectors @ weights + bias, self.low, self.high)]

    def download(self) -> str:
        from huggingface_hub import hf_hub_download

        return hf_hub_download(*AESTHETIC_HUB)


class PromptMatchScorer(Scorer):
    """How well a generated picture shows its positive prompt, 0 to 1, from its stored CLIP vector."""

    id = "clip/prompt-match"
    label = "Prompt match"
    reads = "embedding"
    needs_prompt = True
    preferred_batch_size = 256

    def __init__(self, embedder: ClipEmbedder) -> None:
        self.embedder = embedder  # the same object as the registered embedder: one copy of the weights
        self.embedder_id = embedder.id
        self.own_process = embedder.id  # and the same process as it
        self._prompts: OrderedDict[str, np.ndarray] = OrderedDict()
        self._distractors: tuple[tuple[str, ...], np.ndarray] | None = None

    @property
    def version(self) -> str:  # type: ignore[override]
        return f"1+{self.embedder.version}"

    def model_status(self) -> ModelStatus:
        status = self.embedder.model_status()
        return ModelStatus(
            model=status.model,
            present=status.present,
            location=status.location,
            how_to_get=status.how_to_get,
            note=f"scores the vectors {self.embedder_id} stored, against its text tower",
        )

    def parameters(self) -> list[EngineParameter]:
        return [
            EngineParameter(
                "distractors",
                "string-list",
                list(DISTRACTORS),
                "prompts that fit any picture, which its own prompt must beat",
            )
        ]

    def devices(self) -> list[str]:
        return self.embedder.devices()

    def download(self) -> str:
        return self.embedder.download()

    def load(self, device: str = "cpu") -> None:
        self.embedder.load(device)

    def unload(self) -> None:
        # The embedder's weights are its own to unload: it may be in use (or on another device) as itself.
        self._prompts.clear()
        self._distractors = None

    def score(self, items: Sequence[Any], distractors: Sequence[str] = DISTRACTORS) -> list[float | None]:
        scores: list[float | None] = [None] * len(items)
        wanted = [i for i, item in enumerate(items) if item.prompt.strip()]
        if not wanted:
            return scores
        prompts = self._embedded([items[i].prompt for i in wanted])
        others = self._distractor_vectors(tuple(distractors))
        vectors = np.stack([np.asarray(items[i].vector, dtype=np.float32) for i in wanted])
        own = np.sum(vectors * prompts, axis=1, keepdims=True)
        logits = _LOGIT_SCALE * np.concatenate([own, vectors @ others.T], axis=1)
        logits -= logits.max(axis=1, keepdims=True)
        shares = np.exp(logits)
        shares /= shares.sum(axis=1, keepdims=True)
        for row, i in enumerate(wanted):
            scores[i] = float(shares[row, 0])
        return scores

    def _embedded(self, prompts: list[str]) -> np.ndarray:
        """Text vectors of the prompts, each embedded once while it stays among the recent ones."""
        new = [p for p in dict.fromkeys(prompts) if p not in self._prompts]
        if new:
            for prompt, vector in zip(new, self.embedder.embed_texts(new), strict=True):
                self._prompts[prompt] = vector
            while len(self._prompts) > _PROMPT_CACHE:
                self._prompts.popitem(last=False)
        for prompt in prompts:
            self._prompts.move_to_end(prompt)
        return np.stack([self._prompts[p] for p in prompts])

    def _distractor_vectors(self, distractors: tuple[str, ...]) -> np.ndarray:
        if not distractors:
            distractors = DISTRACTORS
        if self._distractors is None or self._distractors[0] != distractors:
            self._distractors = (distractors, self.embedder.embed_texts(list(distractors)))
        return self._distractors[1]
