"""The CLIP embedder: open_clip's model, its own preprocessing and tokenizer, L2-normalised float32 vectors.

Weights load from files already on this machine (a local folder or the Hugging Face cache), never from
the network: a missing model raises ``ModelMissing`` naming it and how to get it. ``download()`` is the
one place that fetches files, and only ``pixlstash models pull`` calls it.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pixlstash import Embedder, ModelMissing, ModelStatus

from .catalogue import (
    CONFIG_FILE,
    KNOWN,
    TOKENIZER_FILES,
    WEIGHT_FILES,
    ClipModel,
    clip_models_dir,
    has_tokenizer,
    tokenizer_files_wanted,
)
from .onnx_tower import OnnxTower, export_folder, onnx_tower

if TYPE_CHECKING:
    import numpy as np
    from PIL.Image import Image

__all__ = ["ClipEmbedder"]

log = logging.getLogger(__name__)


def creation_options(open_clip, key: str) -> dict:
    """What open_clip needs besides the weights to build ``key`` as its weights were trained: the pretrained
    tag's QuickGELU (OpenAI's CLIP weights were trained with it; open_clip builds plain GELU unless told,
    and only warns) and its preprocessing (which open_clip does not apply when given a file)."""
    if "@" not in key:
        return {}
    name, tag = key.split("@", 1)
    cfg = open_clip.get_pretrained_cfg(name, tag) or {}
    return {
        "force_quick_gelu": bool(cfg.get("quick_gelu", False)),
        "image_mean": cfg.get("mean"),
        "image_std": cfg.get("std"),
        "image_interpolation": cfg.get("interpolation"),
        "image_resize_mode": cfg.get("resize_mode"),
    }


def build_model(open_clip, key: str, files: Path, device: str = "cpu"):
    """(model, preprocess, open_clip's name for it) from a complete folder or a bare checkpoint."""
    options = creation_options(open_clip, key)
    if files.is_dir():
        name = f"local-dir:{files}"  # config and preprocessing come with the weights
        quick = {"force_quick_gelu": True} if options.get("force_quick_gelu") else {}
        model, _, preprocess = open_clip.create_model_and_transforms(name, device=device, **quick)
    else:
        name = key.split("@", 1)[0]
        model, _, preprocess = open_clip.create_model_and_transforms(
            name, pretrained=str(files), device=device, **options
        )
    return model, preprocess, name


GPU_PART = 64  # pictures prepared at a time ahead of the card (``_queued``)


class ClipEmbedder(Embedder):
    preferred_batch_size = 32
    ray_resources = {"num_gpus": 0.25}  # on a GPU: a vision tower leaves room for three more actors
    own_process = True  # torch stays out of the server; it leaves with the engine's process on unload

    def __init__(self, model: ClipModel, image_runtime: str = "torch", precision: str = "auto") -> None:
        self.model = model
        # "torch", or the image tower on ONNX Runtime on the CPU: "onnx" (same vectors), "onnx-int8" (faster).
        self.image_runtime = image_runtime
        # The number format on an accelerator (pixlstash.engines.precision); the vectors' version does not
        # change with it (bfloat16's are within a cosine of 0.999 of float32's: nothing is embedded again).
        self.precision = precision
        self._dtype: Any = None  # the torch dtype it computes in, once loaded
        int8 = image_runtime == "onnx-int8"
        self.id = model.engine_id
        self.label = f"CLIP {model.key}" + (" (int8)" if int8 else "")
        # int8 vectors differ a little from full precision ones: a version of their own.
        # Vectors (and ONNX exports) made before OpenAI's weights were built with QuickGELU are redone.
        self._build = model.fingerprint() + ("+quickgelu" if model.key.endswith("@openai") else "")
        self.version = self._build + ("+int8" if int8 else "")
        self._dimensions = KNOWN.get(model.key, (None, 0))[1] or None
        self._loaded: tuple[Any, Any, Any, str] | None = None  # (model, preprocess, tokenizer, device)
        self._tower: OnnxTower | None = None  # the image tower on ONNX Runtime, when chosen and working
        self._pool: ThreadPoolExecutor | None = None  # prepares a batch's pictures on every core

    # -- what it is -----------------------------------------------------------------------------

    @property
    def dimensions(self) -> int:  # type: ignore[override]
        if self._dimensions is None:
            config = self.model.config()
            self._dimensions = int(config.get("model_cfg", {}).get("embed_dim", 0)) or 0
        return self._dimensions

    @cached_property
    def input_size(self) -> int:  # type: ignore[override]
        config = self.model.config().get("model_cfg", {}).get("vision_cfg", {})
        size = config.get("image_size", 224)
        return max(size) if isinstance(size, (list, tuple)) else int(size)

    @cached_property
    def tokens(self) -> int:
        """Patches a picture makes in the image tower (from its config: the patch size, or the timm name's)."""
        config = self.model.config().get("model_cfg", {}).get("vision_cfg", {})
        named = re.search(r"patch(\d+)", config.get("timm_model_name") or "")
        patch = config.get("patch_size") or (int(named.group(1)) if named else 16)
        return max(1, (self.input_size // int(patch)) ** 2)

    def devices(self) -> list[str]:
        import torch

        found = []
        if torch.cuda.is_available():
            found.append("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            found.append("mps")
        return [*found, "cpu"]

    def model_status(self) -> ModelStatus:
        folder = self.model.files()
        return ModelStatus(
            model=self.model.key,
            present=folder is not None,
            location=str(folder or self.model.local_folder),
            how_to_get=self._how_to_get(),
        )

    def _how_to_get(self) -> str:
        lacking = self.model.missing()
        ways = [f"missing: {'; '.join(lacking)}"] if lacking and lacking != ["its files"] else []
        if self.model.hub_repo or "@" in self.model.key:
            ways.append(
                f"run `pixlstash models pull {self.id}` on a machine with internet (it downloads to the "
                "Hugging Face cache, which you can copy)"
            )
        tokenizer = self.model.tokenizer_repo()
        also = (
            f" and its tokenizer's files ({tokenizer_files_wanted(every=True)}, from {tokenizer})" if tokenizer else ""
        )
        ways.append(f"or copy {CONFIG_FILE}, {WEIGHT_FILES[0]}{also} into {self.model.local_folder}")
        if "@" in self.model.key:
            beside = f", with the tokenizer's files in {self.model.local_folder}" if tokenizer else ""
            ways.append(f"or copy a single checkpoint to {self.model.local_folder}.safetensors{beside}")
        return "; ".join(ways)

    # -- loading --------------------------------------------------------------------------------

    def load(self, device: str = "cpu") -> None:
        if self._loaded is not None and self._loaded[3] == device:
            return
        folder = self.model.files()
        if folder is None:
            raise ModelMissing(
                f"the CLIP model {self.model.key} is not on this machine: {self._how_to_get()}",
                engine_id=self.id,
                location=str(self.model.local_folder),
            )
        import open_clip
        import torch

        from pixlstash import torch_dtype

        model, preprocess, name = build_model(open_clip, self.model.key, folder, device)
        model.eval()
        self._dtype = torch_dtype(torch, device, self.precision)
        tokenizer = self._tokenizer(open_clip, name)
        self._tower = None
        if self.image_runtime != "torch" and device == "cpu":
            folder = export_folder(clip_models_dir(), self.model.key, self._build)
            self._tower = onnx_tower(model, self.input_size, folder, self.image_runtime == "onnx-int8", self.id)
            if self._tower is not None:
                model.visual = None  # its weights are not needed twice (the text tower stays on torch)
        self._loaded = (model, preprocess, tokenizer, device)
        log.info("loaded CLIP %s from %s on %s in %s", self.model.key, folder, device, self._dtype)

    def _tokenizer(self, open_clip, name: str):
        """open_clip's tokenizer for the model. A Hugging Face tokenizer is read from the folder that holds
        its files (never fetched): for a folder, open_clip's own ``local-dir`` reading; for a checkpoint,
        the same construction open_clip's ``get_tokenizer`` makes, from that folder."""
        local = name.removeprefix("local-dir:") if name.startswith("local-dir:") else None
        if not self.model.tokenizer_repo() or (local is not None and has_tokenizer(Path(local))):
            return open_clip.get_tokenizer(name)
        # A checkpoint, or a folder whose repository lacks its tokenizer (SigLIP so400m's: the tokenizer's
        # repository brought the files): read them from where they are.
        folder = self.model.tokenizer_folder()
        if folder is None or not has_tokenizer(folder):
            raise ModelMissing(f"the tokenizer of {self.model.key} is not on this machine: {self._how_to_get()}")
        if local is not None:
            text = json.loads((Path(local) / CONFIG_FILE).read_text(encoding="utf-8"))["model_cfg"].get("text_cfg", {})
        else:
            text = (open_clip.get_model_config(name) or {}).get("text_cfg", {})
        return open_clip.tokenizer.HFTokenizer(
            str(folder),
            context_length=text.get("context_length", open_clip.tokenizer.DEFAULT_CONTEXT_LENGTH),
            tokenizer_mode=text.get("tokenizer_mode"),
            **text.get("tokenizer_kwargs", {}),
        )

    def unload(self) -> None:
        if self._loaded is None:
            return
        device = self._loaded[3]
        self._loaded = self._tower = None
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None
        if device == "cuda":
            import torch

            torch.cuda.empty_cache()

    def _ready(self) -> tuple[Any, Any, Any, str]:
        if self._loaded is None:
            self.load("cpu")
        assert self._loaded is not None
        return self._loaded

    # -- encoding -------------------------------------------------------------------------------

    def batch_size(self, device: str) -> int:
        """On a GPU, as many pictures as its free memory takes (what a picture's activations need in the
        image tower at this precision, with room to spare), up to 512; on a CPU what it prefers."""
        if device != "cuda":
            return self.preferred_batch_size
        import torch

        from pixlstash import batch_for_memory, free_device_bytes

        width = int(self.model.config().get("model_cfg", {}).get("vision_cfg", {}).get("width", 1024) or 1024)
        item = self.tokens * width * self._dtype.itemsize * 24  # a layer's activations, attention and MLP
        return batch_for_memory(free_device_bytes(torch, device), item, fallback=self.preferred_batch_size)

    def device_note(self) -> str:
        if self._tower is not None:
            return "image tower on ONNX Runtime"
        return "" if self._dtype is None else str(self._dtype).removeprefix("torch.")

    def embed_images(self, images: Sequence[Image]) -> np.ndarray:
        import torch

        from pixlstash import autocast

        model, preprocess, _, device = self._ready()
        if device == "cuda":
            return self._normalised(torch.cat(list(self._queued(model, preprocess, images, device))))
        batch = torch.stack(self._prepared(preprocess, images))
        # Runs of about 1,024 tokens: on a CPU a larger run is slower (ViT-L/14's int8 tower: 1.74 pictures/s
        # in runs of 4, 1.44 in runs of 16, on 2 cores).
        per_run = len(batch) if device != "cpu" else max(1, 1024 // self.tokens)
        parts = []
        for start in range(0, len(batch), per_run):
            part = batch[start : start + per_run]
            if self._tower is not None:
                parts.append(torch.from_numpy(self._tower(part.numpy())))
                continue
            with torch.inference_mode(), autocast(torch, device, self._dtype):
                parts.append(model.encode_image(part.to(device, non_blocking=True)))
        return self._normalised(torch.cat(parts))

    def _queued(self, model, preprocess, images: Sequence[Image], device: str):
        """The batch in parts of ``GPU_PART`` pictures, each prepared on every core while the card still runs
        the one before: a part is copied from pinned memory and its tower queued without waiting for it, so
        the card never waits on Pillow and the cores never wait on the card (but for the first part)."""
        import torch

        from pixlstash import autocast

        for start in range(0, len(images), GPU_PART):
            part = torch.stack(self._prepared(preprocess, images[start : start + GPU_PART]))
            if device == "cuda":
                part = part.pin_memory()  # an asynchronous copy needs page-locked memory
            with torch.inference_mode(), autocast(torch, device, self._dtype):
                features = model.encode_image(part.to(device, non_blocking=True))
            yield features

    def _prepared(self, preprocess, images: Sequence[Image]) -> list:
        """open_clip's preprocessing of each picture, on every core (Pillow's resize and torch's arithmetic
        let go of the GIL): done one by one, one core idles while the other prepares."""
        if len(images) < 2 or (os.cpu_count() or 1) < 2:
            return [preprocess(image.convert("RGB")) for image in images]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(os.cpu_count(), thread_name_prefix="clip-prepare")
        return list(self._pool.map(lambda image: preprocess(image.convert("RGB")), images))

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        from pixlstash import autocast

        model, _, tokenizer, device = self._ready()
        tokens = tokenizer(list(texts)).to(device)
        with torch.inference_mode(), autocast(torch, device, self._dtype):
            features = model.encode_text(tokens)
        return self._normalised(features)

    @staticmethod
    def _normalised(features) -> np.ndarray:
        import torch.nn.functional as F

        return F.normalize(features.float(), dim=-1).cpu().numpy().astype("float32")

    # -- fetching (only on the user's request) ----------------------------------------------------

    def download(self) -> str:
        repo = self.model.hub_repo_resolved()
        if not repo:
            raise ModelMissing(
                f"{self.id} is a local model with no download source: copy its files into {self.model.local_folder}"
            )
        from huggingface_hub import hf_hub_download

        config = hf_hub_download(repo, CONFIG_FILE)
        for weights in WEIGHT_FILES:
            try:
                hf_hub_download(repo, weights)
                break
            except Exception:  # not every repository has safetensors: try the next name
                continue
        else:
            raise ModelMissing(f"no weights file ({', '.join(WEIGHT_FILES)}) found in {repo}")
        self._download_tokenizer(repo, Path(config).parent)
        return str(Path(config).parent)

    def _download_tokenizer(self, repo: str, folder: Path) -> None:
        """The tokenizer's files, where the model uses a Hugging Face tokenizer: from the model's own
        repository (open_clip reads them from the model's folder), else from the tokenizer's."""
        tokenizer_repo = self.model.tokenizer_repo()
        if not tokenizer_repo:
            return
        from huggingface_hub import hf_hub_download

        for source in dict.fromkeys([repo, tokenizer_repo]):
            for name in TOKENIZER_FILES:
                try:
                    hf_hub_download(source, name)
                except Exception:  # each repository has the files its tokenizer kind uses, not all of them
                    continue
            if has_tokenizer(folder) or self.model.tokenizer_folder() is not None:
                return
        raise ModelMissing(f"no tokenizer files ({', '.join(TOKENIZER_FILES)}) found in {repo} or {tokenizer_repo}")
