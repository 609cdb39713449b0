"""The Florence-2 engines over one model loaded with transformers (natively: no remote code): a captioner in
Florence-2's three caption lengths and a text reader (``<OCR_WITH_REGION>``: the text with a quadrilateral
per run). Both share one copy of the weights in one process, loaded on first use.

Prompts, decoding and parsing are Florence-2's own: the processor turns a task token into its prompt, the
model decodes with beam search as the published examples do, and the processor's ``post_process_generation``
parses the answer (text, or runs of text with ``<loc_N>`` corners on a 1000-step grid) into pixels of the
image the engine saw; the library scales them to the original.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pixlstash import (
    Captioner,
    EngineParameter,
    TextReader,
    TextRegion,
    accelerators,
)
from pixlstash.engines.decoding import KeyValueCache
from pixlstash.engines.shared_weights import SharedWeights as BaseSharedWeights
from pixlstash.engines.shared_weights import SharedWeightsEngine

from .catalogue import Florence2Model

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = [
    "CAPTION_TASKS",
    "OCR_TASK",
    "Florence2Captioner",
    "Florence2Reader",
    "SharedWeights",
    "batch_for_config",
    "regions_from",
]

log = logging.getLogger(__name__)

CAPTION_TASKS = {"short": "<CAPTION>", "detailed": "<DETAILED_CAPTION>", "paragraph": "<MORE_DETAILED_CAPTION>"}
OCR_TASK = "<OCR_WITH_REGION>"
_MAX_TOKENS = {"<CAPTION>": 64, "<DETAILED_CAPTION>": 160, "<MORE_DETAILED_CAPTION>": 320, OCR_TASK: 1024}


def regions_from(parsed: dict[str, Any]) -> list[TextRegion]:
    """The processor's OCR answer (``{"quad_boxes": [[x0, y0, ... x3, y3]], "labels": [text]}``) as text
    regions: control characters dropped, empty runs left out."""
    regions = []
    for quad, label in zip(parsed.get("quad_boxes", []), parsed.get("labels", []), strict=True):
        text = "".join(c for c in str(label) if unicodedata.category(c) != "Cc").replace("</s>", "").strip()
        if text and len(quad) == 8:
            regions.append(TextRegion(text, tuple(float(v) for v in quad)))
    return regions


def batch_for_config(config, itemsize: int, beams: int, free_bytes: int | None, fallback: int, side: int = 768) -> int:
    """As many pictures at once as ``free_bytes`` holds: the vision tower's first stage (its widest
    activations, ``(side / 4)²`` tokens), and each beam's key-value caches (self-attention over the longest
    answer, 1,024 tokens, and cross-attention over the image's tokens); at most 64."""
    from pixlstash import batch_for_memory

    vision, text = config.vision_config, config.text_config
    first_stage = (side // vision.patch_stride[0]) ** 2 * vision.embed_dim[0] * itemsize * 16
    image_tokens = (side // 32) ** 2 + 1
    cache = 2 * text.decoder_layers * text.d_model * (1024 + image_tokens) * itemsize * max(1, beams)
    return batch_for_memory(free_bytes, first_stage + cache, fallback=fallback, high=64)


class SharedWeights(BaseSharedWeights):
    """One model's processor and weights, shared by its captioner and reader, freed when neither holds it."""

    def __init__(self, model: Florence2Model, num_beams: int, precision: str = "auto", decoding: str = "auto") -> None:
        super().__init__()
        self.model_files, self.num_beams, self.precision = model, num_beams, precision
        self.cache = KeyValueCache(decoding, f"florence2/{model.name}")  # the static one on CUDA
        self.processor: Any = None
        self.model: Any = None

    @property
    def loaded(self) -> bool:
        return self.model is not None

    def _load(self, device: str) -> None:
        folder = self.model_files.required()
        import torch
        from transformers import AutoProcessor, Florence2ForConditionalGeneration

        from pixlstash import torch_dtype

        dtype = torch_dtype(torch, device, self.precision)
        self.processor = AutoProcessor.from_pretrained(folder)
        self.model = Florence2ForConditionalGeneration.from_pretrained(folder, dtype=dtype).to(device).eval()
        log.info("loaded Florence-2 %s from %s on %s", self.model_files.name, folder, device)

    def _drop(self) -> None:
        self.processor = self.model = None

    def batch_size(self, fallback: int) -> int:
        """On a GPU, the batch its free memory takes (``batch_for_config``); elsewhere ``fallback``."""
        import torch

        from pixlstash import free_device_bytes

        if self.device != "cuda" or self.model is None:
            return fallback
        side = int(getattr(self.processor.image_processor, "size", {}).get("height", 768))
        free = free_device_bytes(torch, "cuda")
        return batch_for_config(self.model.config, self.model.dtype.itemsize, self.num_beams, free, fallback, side)

    def run(self, images: Sequence[Image], task: str, max_new_tokens: int | None = None) -> list[Any]:
        """Florence-2's parsed answer for each image (text, or the OCR answer), in one batch."""
        import torch

        if self.model is None:
            self.acquire("direct", "cpu")
        rgb = [image.convert("RGB") for image in images]
        inputs = self.processor(text=[task] * len(rgb), images=rgb, return_tensors="pt").to(self.device)
        inputs["pixel_values"] = inputs["pixel_values"].to(self.model.dtype)
        # No longer than the decoder's positions reach (BART's learnt positions start at an offset of 2).
        reach = getattr(self.model.config.text_config, "max_position_embeddings", 1024) - 2
        with torch.inference_mode():
            generated = self.cache.generate(
                self.model,
                self.cache.static(self.device),
                **inputs,
                max_new_tokens=min(max_new_tokens or _MAX_TOKENS.get(task, 256), reach),
                num_beams=self.num_beams,
                do_sample=False,
            )
        texts = self.processor.batch_decode(generated, skip_special_tokens=False)
        return [
            self.processor.post_process_generation(text, task=task, image_size=image.size)[task]
            for text, image in zip(texts, rgb, strict=True)
        ]


class _Florence2Engine(SharedWeightsEngine):
    preferred_batch_size = 4
    ray_resources = {"num_gpus": 0.5}  # on a GPU: 0.8B parameters, two such actors share a card
    input_size = 768  # Florence-2 sees 768 x 768

    def __init__(self, weights: SharedWeights) -> None:
        self.weights = weights
        self.version = weights.model_files.fingerprint()
        self.own_process = f"florence2:{weights.model_files.name}"  # both engines, one process, one copy

    def devices(self) -> list[str]:
        return [*accelerators(), "cpu"]

    def device_note(self) -> str:
        weights = self.weights
        if weights.model is None:
            return ""
        cache = weights.cache.note(weights.cache.static(weights.device))
        return f"{str(weights.model.dtype).removeprefix('torch.')}, {cache}"


class Florence2Captioner(_Florence2Engine, Captioner):
    def __init__(self, weights: SharedWeights) -> None:
        super().__init__(weights)
        self.id = f"florence2/{weights.model_files.name}"
        self.label = f"Florence-2 {weights.model_files.name}"

    def parameters(self) -> list[EngineParameter]:
        return [
            EngineParameter(
                "length", "string", "detailed", "short: one line; detailed; paragraph", choices=list(CAPTION_TASKS)
            )
        ]

    def describe(self, images: Sequence[Image], prompt: str | None = None, length: str = "detailed") -> list[str]:
        return [str(text).strip() for text in self.weights.run(images, CAPTION_TASKS[length])]


class Florence2Reader(_Florence2Engine, TextReader):
    def __init__(self, weights: SharedWeights) -> None:
        super().__init__(weights)
        self.id = f"florence2/{weights.model_files.name}-ocr"
        self.label = f"Florence-2 {weights.model_files.name} (text in pictures)"

    def read(self, images: Sequence[Image]) -> list[list[TextRegion]]:
        return [regions_from(parsed) for parsed in self.weights.run(images, OCR_TASK)]
