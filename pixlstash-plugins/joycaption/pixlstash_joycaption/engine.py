"""The JoyCaption engines: a captioner and a tagger (its tag-list caption types, parsed) over one LLaVA model
loaded with transformers. Both share the model's weights, loaded once and freed when neither engine
needs them (the worker unloads idle engines, so an 8B model does not stay resident).

Devices: CUDA in bfloat16 (or 8 / 4 bits through bitsandbytes when the ``quantization`` setting asks),
Apple's MPS in float16, the CPU in float32 as a last resort. Prompts are JoyCaption's own
(``pixlstash.engines.caption_prompts``); generation is batched with left padding, greedy when asked or at temperature 0.

On CUDA the decoder keeps its key-value cache in transformers' static cache, compiled into CUDA graphs
(``pixlstash.engines.decoding``); the ``decoding`` setting chooses.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pixlstash import Captioner, EngineParameter, ModelMissing, ModelStatus, Tagger, TagScore, accelerators
from pixlstash.engines.caption_prompts import (
    CAPTION_TYPES,
    SYSTEM_MESSAGE,
    TAG_LIST_TYPES,
    build_prompt,
    prompt_parameters,
)
from pixlstash.engines.decoding import KeyValueCache
from pixlstash.engines.shared_weights import SharedWeights as BaseSharedWeights
from pixlstash.engines.shared_weights import SharedWeightsEngine
from pixlstash.engines.tag_lists import parse_tag_list

from .catalogue import JoyCaptionModel

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["JoyCaptionCaptioner", "JoyCaptionTagger", "SharedWeights", "batch_for_config", "parameters_for"]

log = logging.getLogger(__name__)

_GENERATION = [
    EngineParameter("temperature", "number", 0.6, "randomness; 0 always writes the same caption", 0, 2),
    EngineParameter("top_p", "number", 0.9, "nucleus sampling cut-off", 0, 1),
    EngineParameter("max_new_tokens", "integer", 512, "the longest caption, in tokens", 1, 2048),
    EngineParameter("greedy", "boolean", False, "always the most likely word: reproducible captions"),
]


def parameters_for(caption_types: Sequence[str], default_type: str) -> list[EngineParameter]:
    return [*prompt_parameters(caption_types, default_type), *_GENERATION]


class SharedWeights(BaseSharedWeights):
    """One model's processor and weights, shared by its engines and freed when none of them holds it."""

    def __init__(
        self, model: JoyCaptionModel, quantization: str = "none", precision: str = "auto", decoding: str = "auto"
    ) -> None:
        super().__init__()
        self.model_files, self.quantization, self.precision = model, quantization, precision
        self.cache = KeyValueCache(decoding, f"joycaption/{model.name}")
        self.processor: Any = None
        self.model: Any = None

    def static_cache(self) -> bool:
        """Whether generation keeps its key-value cache in transformers' static (compiled) cache."""
        return self.cache.static(self.device, quantized=self.quantization != "none")

    def note(self) -> str:
        """The number format and cache it decodes with, for jobs and doctor."""
        if self.model is None:
            return ""
        dtype = "8-bit" if self.quantization == "8bit" else "4-bit" if self.quantization == "4bit" else None
        return f"{dtype or str(self.model.dtype).removeprefix('torch.')}, {self.cache.note(self.static_cache())}"

    @property
    def loaded(self) -> bool:
        return self.model is not None

    def _load(self, device: str) -> None:
        folder = self.model_files.required()
        import torch
        from transformers import AutoProcessor, LlavaForConditionalGeneration
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        processor = AutoProcessor.from_pretrained(folder, local_files_only=True)
        processor.tokenizer.padding_side = "left"  # batched generation continues every prompt at its end
        if processor.tokenizer.pad_token is None:  # as JoyCaption's app: else every batch fails to pad
            processor.tokenizer.pad_token = processor.tokenizer.eos_token
        from pixlstash import torch_dtype

        dtype = torch_dtype(torch, device, self.precision)  # the vision tower too: the whole model in it
        options: dict[str, Any] = {"local_files_only": True, "dtype": dtype}
        quantized = self.quantization != "none" and device == "cuda"
        if self.quantization != "none" and not quantized:
            log.warning("joycaption: %s loading needs CUDA; loading in %s on %s", self.quantization, dtype, device)
        if quantized:
            _require_bitsandbytes(self.quantization)
            options["quantization_config"] = quantization_config(self.quantization)
            options["device_map"] = {"": 0}
            options["dtype"] = "auto"  # as the app: the checkpoint's dtype for what is not quantized
        model = LlavaForConditionalGeneration.from_pretrained(folder, **options)
        if not quantized:
            model.to(device)
        model.eval()
        if device == "cpu":
            log.warning("joycaption: running on the CPU in %s: expect minutes per picture with the full model", dtype)
        self.processor, self.model = processor, model

    def _drop(self) -> None:
        self.processor = self.model = None

    def batch_size(self, fallback: int) -> int:
        """On a GPU, the batch its free memory takes (``batch_for_config``); elsewhere ``fallback``."""
        import torch

        from pixlstash import free_device_bytes

        if self.device != "cuda" or self.model is None:
            return fallback
        free = free_device_bytes(torch, "cuda")
        return batch_for_config(self.model.config, self.model.dtype.itemsize, free, fallback)

    def generate(self, images: Sequence[Image], prompts: Sequence[str], options: dict[str, Any]) -> list[str]:
        """One caption per image and prompt, in one batch (prompts padded on the left)."""
        import torch

        processor, model = self.processor, self.model
        conversations = [
            processor.apply_chat_template(
                [{"role": "system", "content": SYSTEM_MESSAGE}, {"role": "user", "content": prompt.strip()}],
                tokenize=False,
                add_generation_prompt=True,
            )
            for prompt in prompts
        ]
        inputs = processor(text=conversations, images=list(images), return_tensors="pt", padding=True)
        inputs = inputs.to(self.device)
        inputs["pixel_values"] = inputs["pixel_values"].to(model.dtype)
        sample = options["temperature"] > 0 and not options["greedy"]
        settings = {
            "max_new_tokens": options["max_new_tokens"],
            "do_sample": sample,
            "temperature": options["temperature"] if sample else None,
            "top_p": options["top_p"] if sample else None,
            "top_k": None,
            "use_cache": True,
        }
        with torch.inference_mode():
            tokens = self.cache.generate(model, self.static_cache(), **inputs, **settings)
        written = tokens[:, inputs["input_ids"].shape[-1] :]
        return [text.strip() for text in decoded(processor.tokenizer, written)]


def batch_for_config(config, itemsize: int, free_bytes: int | None, fallback: int, max_new_tokens: int = 512) -> int:
    """As many captions at once as ``free_bytes`` holds the key-value cache of (the image's tokens, the
    prompt and ``max_new_tokens`` for each sequence), with room for the prefill; at most 128. Large batches
    keep a GPU busy: at 4 each decode step waits on Python (~22 ms where reading an 8B model's weights
    takes ~4), at 64 the prefill fills the card (benchmarks/README.md)."""
    from pixlstash import batch_for_memory

    text, vision = config.text_config, config.vision_config
    heads = text.num_attention_heads
    kv_heads = getattr(text, "num_key_value_heads", None) or heads
    head_dim = getattr(text, "head_dim", None) or text.hidden_size // heads
    image_tokens = (vision.image_size // vision.patch_size) ** 2
    prompt = image_tokens + 96  # the image's tokens, and the prompt with its chat template (~60-90 tokens)
    cache = 2 * text.num_hidden_layers * kv_heads * head_dim * (prompt + max_new_tokens) * itemsize
    prefill = prompt * (text.hidden_size + text.intermediate_size) * itemsize * 2
    return batch_for_memory(free_bytes, cache + prefill, fallback=fallback, high=128)


def decoded(tokenizer, tokens) -> list[str]:
    """As JoyCaption's app decodes: special tokens dropped, spaces left as the model wrote them (the
    default clean-up would turn "Canon EOS 5D , f/2.8" into "Canon EOS 5D, f/2.8" and worse)."""
    return tokenizer.batch_decode(tokens, skip_special_tokens=True, clean_up_tokenization_spaces=False)


# The modules JoyCaption's app keeps out of quantization: transformers' SigLIP breaks when quantized.
UNQUANTIZED_MODULES = ["vision_tower", "multi_modal_projector"]


def quantization_config(kind: str):
    """JoyCaption's app's bitsandbytes configuration for "8bit" or "4bit" (its "nf4")."""
    import torch
    from transformers import BitsAndBytesConfig

    if kind == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True, llm_int8_skip_modules=UNQUANTIZED_MODULES)
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_compute_dtype=torch.bfloat16,
        bnb_4bit_use_double_quant=True,
        llm_int8_skip_modules=UNQUANTIZED_MODULES,
    )


def _require_bitsandbytes(kind: str) -> None:
    try:
        import bitsandbytes  # noqa: F401 - only checks that it is installed
    except ImportError:
        raise ModelMissing(f"{kind} loading needs bitsandbytes: pip install 'pixlstash-joycaption[quant]'") from None


class _JoyCaptionEngine(SharedWeightsEngine):
    """What the captioner and the tagger share: the model's files and weights, devices, status."""

    preferred_batch_size = 4
    input_size = 384  # the vision tower's side: the grid thumbnail covers it
    ray_resources = {"num_gpus": 1.0}  # on a GPU: an 8B model and its cache take a whole consumer card

    def __init__(self, weights: SharedWeights) -> None:
        self.weights = weights
        self.version = weights.model_files.fingerprint()
        # The captioner and the tagger of one model share a process, as they share the weights in it.
        self.own_process = f"joycaption/{weights.model_files.name}"

    def devices(self) -> list[str]:
        import torch

        found = ["cuda"] if torch.cuda.is_available() else []
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            found.append("mps")
        return [*found, "cpu"]

    def model_status(self) -> ModelStatus:
        # Asked of the machine, not of torch: a listing must not load torch's 450 MB of CUDA libraries.
        return self.weights.model_files.status(
            note=""
            if accelerators()
            else "no GPU here: the CPU runs it in float32, needing about 32 GB "
            "of memory and minutes per picture for the 8B model"
        )

    def device_note(self) -> str:
        return self.weights.note()

    def _write(self, images: Sequence[Image], parameters: dict[str, Any]) -> list[str]:
        if self.weights.model is None:
            self.load("cpu")
        prompt = build_prompt(
            parameters.get("caption_type", "Descriptive"),
            parameters.get("caption_length", "long"),
            parameters.get("extra_options", []),
            parameters.get("character_name", ""),
            parameters.get("prompt", ""),
        )
        options = {p.name: parameters.get(p.name, p.default) for p in _GENERATION}
        return self.weights.generate(images, [prompt] * len(images), options)


class JoyCaptionCaptioner(_JoyCaptionEngine, Captioner):
    def __init__(self, weights: SharedWeights) -> None:
        super().__init__(weights)
        self.id = f"joycaption/{weights.model_files.name}"
        self.label = f"JoyCaption {weights.model_files.name}"

    def parameters(self) -> list[EngineParameter]:
        return parameters_for(list(CAPTION_TYPES), "Descriptive")

    def describe(self, images: Sequence[Image], prompt: str | None = None, **parameters: Any) -> list[str]:
        return self._write(images, {**parameters, "prompt": prompt or parameters.get("prompt", "")})


class JoyCaptionTagger(_JoyCaptionEngine, Tagger):
    def __init__(self, weights: SharedWeights) -> None:
        super().__init__(weights)
        self.id = f"joycaption/{weights.model_files.name}-tags"
        self.label = f"JoyCaption {weights.model_files.name} (tag lists)"

    def parameters(self) -> list[EngineParameter]:
        return parameters_for(TAG_LIST_TYPES, "Booru-like tag list")

    def tag(self, images: Sequence[Image], **parameters: Any) -> list[list[TagScore]]:
        return [parse_tag_list(text) for text in self._write(images, parameters)]
