"""A tiny random-weight Florence-2 laid out as the florence-community repositories are: transformers' native
Florence-2 (a DaViT vision tower before a BART encoder-decoder) with seeded weights, a byte-level BPE
tokenizer trained here with Florence-2's special tokens (``<image>`` and the 1000 ``<loc_N>`` location
tokens), and the Florence-2 processor with its published post-processing rules. Saved with
``save_pretrained`` so it loads through the same path as real weights."""

from __future__ import annotations

from pathlib import Path

IMAGE_SIDE = 64  # the tiny tower's input; 768 for the real models
IMAGE_TOKENS = (IMAGE_SIDE // 8) ** 2 + 1  # two stages (strides 4 and 2) and one pooled token
OCR_PATTERN = r"(.+?)<loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)>"
POST_PROCESSOR = {  # as the published processor_config.json has it
    "ocr": {"pattern": OCR_PATTERN, "area_threshold": 0.0},
    "phrase_grounding": {"banned_grounding_tokens": ["the image"]},
    "pure_text": {},
    "description_with_bboxes": {},
    "description_with_polygons": {},
    "polygons": {},
    "bboxes": {},
    "description_with_bboxes_or_polygons": {},
}
_CORPUS = [
    "What is the text in the image, with regions?",
    "What does the image describe?",
    "Describe in detail what is shown in the image.",
    "Describe with a paragraph what is shown in the image.",
    "OPEN late sale a red car on a street sign",
]


# Florence-2-large's shape (benchmarks): its DaViT tower at 768 px (577 image tokens) and BART-large. Its
# vocabulary is the small tokenizer's trained here (51,289 in the real one: a wider last layer, no more).
LARGE_VISION = {
    "depths": [1, 1, 9, 1], "patch_size": [7, 3, 3, 3], "patch_stride": [4, 2, 2, 2],
    "patch_padding": [3, 1, 1, 1], "patch_prenorm": [False, True, True, True],
    "embed_dim": [256, 512, 1024, 2048], "num_heads": [8, 16, 32, 64], "num_groups": [8, 16, 32, 64],
    "window_size": 12, "projection_dim": 1024,
}  # fmt: skip
LARGE_TEXT = {
    "d_model": 1024, "encoder_layers": 12, "decoder_layers": 12, "encoder_attention_heads": 16,
    "decoder_attention_heads": 16, "encoder_ffn_dim": 4096, "decoder_ffn_dim": 4096,
}  # fmt: skip


def build_tiny_florence(folder: Path, seed: int = 0, shape: str = "tiny") -> Path:
    """``shape="tiny"``: a few kilobytes of weights (tests); ``"large"``: Florence-2-large's shape."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (
        BartConfig,
        CLIPImageProcessor,
        Florence2Config,
        Florence2ForConditionalGeneration,
        Florence2Processor,
        Florence2VisionConfig,
        PreTrainedTokenizerFast,
    )

    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>", "<image>"] + [f"<loc_{i}>" for i in range(1000)]
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    bpe.train_from_iterator(_CORPUS * 20, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        mask_token="<mask>",
        extra_special_tokens={"image_token": "<image>"},
    )
    torch.manual_seed(seed)
    large = shape == "large"
    vision = Florence2VisionConfig(
        **LARGE_VISION
        if large
        else {
            "depths": [1, 1],
            "patch_size": [7, 3],
            "patch_stride": [4, 2],
            "patch_padding": [3, 1],
            "patch_prenorm": [False, True],
            "embed_dim": [16, 32],
            "num_heads": [1, 2],
            "num_groups": [1, 2],
            "window_size": 4,
            "projection_dim": 32,
        }
    )
    sizes = LARGE_TEXT if large else {
        "d_model": 32, "encoder_layers": 1, "decoder_layers": 1, "encoder_attention_heads": 2,
        "decoder_attention_heads": 2, "encoder_ffn_dim": 32, "decoder_ffn_dim": 32,
    }  # fmt: skip
    text = BartConfig(
        vocab_size=len(tokenizer),
        **sizes,
        max_position_embeddings=1026,  # as the real models: 1024 new tokens (BART offsets positions by 2)
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
        forced_bos_token_id=tokenizer.bos_token_id,
    )
    config = Florence2Config(vision_config=vision, text_config=text, image_token_id=tokenizer.image_token_id)
    model = Florence2ForConditionalGeneration(config).eval()
    side = 768 if large else IMAGE_SIDE
    images = CLIPImageProcessor(
        size={"height": side, "width": side},
        do_center_crop=False,
        image_mean=[0.485, 0.456, 0.406],
        image_std=[0.229, 0.224, 0.225],
        resample=3,
    )
    images.image_seq_length = (side // 32) ** 2 + 1 if large else IMAGE_TOKENS  # four stages: a stride of 32
    processor = Florence2Processor(image_processor=images, tokenizer=tokenizer, post_processor_config=POST_PROCESSOR)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
