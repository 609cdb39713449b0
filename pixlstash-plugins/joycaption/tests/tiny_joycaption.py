"""A tiny LLaVA model laid out as a published JoyCaption folder: a CLIP-like vision tower and a Llama decoder
with random (seeded) weights, a word-level tokenizer from an explicit vocabulary with a Llama-3-style chat
template that puts the image token in the first user turn, and a LLaVA processor. Saved with
``save_pretrained`` so it loads through the same path as real weights."""

from __future__ import annotations

from pathlib import Path

SPECIALS = [
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|eot_id|>",
    "<image>",
    "<pad>",
    "<unk>",
]
WORDS = [
    "system",
    "user",
    "assistant",
    "1girl",
    "solo",
    "long_hair",
    "smile",
    "outdoors",
    "red",
    "blue",
    "cat",
    "a",
    "picture",
    "of",
    "with",
    "character:alice",
    "artist:bob",
    ",",
    ".",
] + [f"w{i}" for i in range(60)]
TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n"
    "{% if m['role'] == 'user' and loop.index0 <= 1 %}<image>\n{% endif %}{{ m['content'] }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)
IMAGE_SIDE, PATCH = 32, 16


# Decoder shapes after JoyCaption's real vision tower (benchmarks): Llama-3.2-1B's, and Llama-3.1-8B's, the
# decoder JoyCaption Beta One has.
DECODERS = {
    "1b": {"hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 16, "tie_word_embeddings": True},
    "8b": {"hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32, "tie_word_embeddings": False},
}


def build_tiny_joycaption(
    folder: Path, seed: int = 0, shape: str = "tiny", pad_token: bool = True, device: str = "cpu"
) -> Path:
    """``shape="tiny"``: a few kilobytes of weights (tests). ``shape="1b"`` or ``"8b"``: JoyCaption's real
    vision tower shape (SigLIP so400m, 384 px, 729 image tokens) before a Llama-3.2-1B- or Llama-3.1-8B-shaped
    decoder, random weights in bfloat16 (benchmarks), made on ``device`` (the 8B on a GPU: seconds, not
    minutes). ``pad_token=False``: a tokenizer without one, as some published tokenizers are."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
        PreTrainedTokenizerFast,
    )

    torch.manual_seed(seed)
    vocab = {token: n for n, token in enumerate(SPECIALS + WORDS)}
    word_level = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    word_level.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=word_level,
        bos_token="<|begin_of_text|>",
        eos_token="<|eot_id|>",
        pad_token="<pad>" if pad_token else None,
        unk_token="<unk>",
        extra_special_tokens={"image_token": "<image>"},
    )
    tokenizer.chat_template = TEMPLATE
    if shape in DECODERS:
        return _build_shaped(folder, tokenizer, vocab, DECODERS[shape], device)
    processor = LlavaProcessor(
        image_processor=CLIPImageProcessor(
            size={"shortest_edge": IMAGE_SIDE}, crop_size={"height": IMAGE_SIDE, "width": IMAGE_SIDE}
        ),
        tokenizer=tokenizer,
        patch_size=PATCH,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
        chat_template=TEMPLATE,
    )
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=IMAGE_SIDE,
            patch_size=PATCH,
            projection_dim=32,
        ),
        text_config=LlamaConfig(
            vocab_size=len(vocab),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=2,
            max_position_embeddings=512,
            bos_token_id=0,
            eos_token_id=4,
            pad_token_id=6,
        ),
        image_token_index=vocab["<image>"],
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
    )
    model = LlavaForConditionalGeneration(config)
    # Random decoders emit special tokens forever: make them write words, a few at least.
    model.generation_config.suppress_tokens = [vocab[t] for t in SPECIALS if t != "<|eot_id|>"]
    model.generation_config.min_new_tokens = 3
    model.generation_config.pad_token_id = vocab["<pad>"]
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def _build_shaped(folder: Path, tokenizer, vocab: dict[str, int], decoder: dict, device: str) -> Path:
    import torch
    from transformers import (
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
        SiglipImageProcessor,
        SiglipVisionConfig,
    )

    side, patch = 384, 14
    processor = LlavaProcessor(
        image_processor=SiglipImageProcessor(size={"height": side, "width": side}),
        tokenizer=tokenizer,
        patch_size=patch,
        vision_feature_select_strategy="full",
        num_additional_image_tokens=0,
        chat_template=TEMPLATE,
    )
    config = LlavaConfig(
        vision_config=SiglipVisionConfig(
            hidden_size=1152, intermediate_size=4304, num_hidden_layers=27, num_attention_heads=16,
            image_size=side, patch_size=patch,
        ),
        text_config=LlamaConfig(
            vocab_size=128_256, num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=4096,
            bos_token_id=0, eos_token_id=4, pad_token_id=6, **decoder,
        ),
        image_token_index=vocab["<image>"],
        vision_feature_select_strategy="full",
        vision_feature_layer=-2,
    )  # fmt: skip
    made_in = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)  # as published; half the memory while it is made
    try:
        with torch.device(device):
            model = LlavaForConditionalGeneration(config)
    finally:
        torch.set_default_dtype(made_in)
    # Only words this small tokenizer can spell out: the rest of Llama's vocabulary is left unused.
    unused = list(range(len(vocab), config.text_config.vocab_size))
    model.generation_config.suppress_tokens = [vocab[t] for t in SPECIALS if t != "<|eot_id|>"] + unused
    model.generation_config.pad_token_id = vocab["<pad>"]
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
