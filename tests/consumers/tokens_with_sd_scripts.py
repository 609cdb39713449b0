"""Tokenize captions the way kohya-ss sd-scripts does before training, with its own strategies:
``SdTokenizeStrategy`` (SD 1.5: CLIP-L, 75 tokens) and ``FluxTokenizeStrategy`` (Flux dev: CLIP-L and
T5-XXL at 512). Their tokenizers load from ``tokenizer_cache_dir`` (sd-scripts' own offline option), a
folder holding ``openai_clip-vit-large-patch14`` and ``google_t5-v1_1-xxl``.

For each caption, prints per encoder the tokens it becomes in full and the tokens training keeps
(``tokenize``'s output less its start, end and padding tokens), as one JSON list on the last line.

    python tokens_with_sd_scripts.py TOKENIZER_CACHE_DIR < captions.json
"""

import json
import sys

from library import strategy_flux, strategy_sd


def content(ids, tokenizer) -> int:
    special = {tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id} - {None}
    return sum(1 for i in ids if int(i) not in special)


def main(cache_dir: str) -> None:
    captions = json.load(sys.stdin)
    sd = strategy_sd.SdTokenizeStrategy(False, None, tokenizer_cache_dir=cache_dir)
    flux = strategy_flux.FluxTokenizeStrategy(512, tokenizer_cache_dir=cache_dir)
    results = []
    for caption in captions:
        [sd_ids] = sd.tokenize(caption)
        clip_l, t5, _ = flux.tokenize(caption)
        results.append(
            {
                "clip": content(sd.tokenizer(caption).input_ids, sd.tokenizer),
                "clip_kept": content(sd_ids.flatten().tolist(), sd.tokenizer),
                "flux_clip_kept": content(clip_l.flatten().tolist(), flux.clip_l),
                "t5": content(flux.t5xxl(caption).input_ids, flux.t5xxl),
                "t5_kept": content(t5.flatten().tolist(), flux.t5xxl),
            }
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1])
