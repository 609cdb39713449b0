"""Load a dataset's images the way ostris ai-toolkit trains on them, with its own code: each item of
``AiToolkitDataset`` through ``FileItemDTO.load_and_process_image`` (its RGB conversion, bucket resize and
crop) and, with ``alpha_mask``, its ``load_mask_image``. Prints, for each config given, per image path, the
RGB of the trained image's top-left and centre pixels and the mask's top-left value (or null): a JSON list
on the last line. Each config is read in its own folder (as a person runs the trainer there); all share
one process, as ai-toolkit's import is most of the time.

Run like read_with_ai_toolkit.py (ai-toolkit's venv, ai-toolkit on PYTHONPATH):
    python load_with_ai_toolkit.py ai-toolkit.yaml [another/ai-toolkit.yaml ...]
"""

import json
import os
import sys
from pathlib import Path

import yaml
from read_with_ai_toolkit import AiToolkitDataset, DatasetConfig, preprocess_dataset_raw_config, unloaded_sdxl


def loaded(config: Path, model) -> dict:
    os.chdir(config.parent)
    entries = yaml.safe_load(config.read_text())["datasets"]
    found = {}
    for raw in preprocess_dataset_raw_config([{**e, "cache_latents_to_disk": False} for e in entries]):
        dataset = AiToolkitDataset(DatasetConfig(**raw), batch_size=1, sd=model)
        for item in dataset.file_list:
            item.load_and_process_image(None)  # no transform: item.tensor stays the PIL image it trains on
            image = item.tensor
            mask = item.mask_tensor if item.has_mask_image else None
            found[item.path] = {
                "corner": list(image.getpixel((0, 0))),
                "centre": list(image.getpixel((image.width // 2, image.height // 2))),
                "mask_corner": None if mask is None else float(mask.flatten()[0]),
            }
    return found


if __name__ == "__main__":
    model = unloaded_sdxl()
    print(json.dumps([loaded(Path(config).resolve(), model) for config in sys.argv[1:]]))
