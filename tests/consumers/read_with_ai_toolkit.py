"""Read a dataset the way ostris ai-toolkit does, with its own code: the ``datasets:`` entries of a config
through ``preprocess_dataset_raw_config`` (one dataset per resolution) and ``DatasetConfig``, then
``AiToolkitDataset`` (its folder walk, size database, captions through ``load_caption``, and buckets).
Prints, per dataset, each item's path, caption and bucket as one JSON list on the last line.

Run with ai-toolkit's venv and ai-toolkit on PYTHONPATH, in the folder the trainer would be started in:
    python read_with_ai_toolkit.py ai-toolkit.yaml

Two things stand in for what is not here. The snapshot leaves out ai-toolkit's root ``info.py`` (its name
and version, read when safetensors metadata is written): a one-line stand-in is put on the path. And no
checkpoint exists here, so ai-toolkit's own ``StableDiffusion`` for SDXL is made but not loaded (its VAE
and UNet are None, so its bucket divisibility is its no-VAE default, 16, which is SDXL's too), and latent
caching (which encodes with the VAE) is turned off.
"""

import json
import sys
import tempfile
from pathlib import Path

import yaml

with tempfile.TemporaryDirectory() as _info:
    Path(_info, "info.py").write_text('software_meta = {"name": "ai-toolkit"}\n')
    sys.path.append(_info)
    from toolkit.config_modules import DatasetConfig, ModelConfig, preprocess_dataset_raw_config
    from toolkit.data_loader import AiToolkitDataset
    from toolkit.stable_diffusion_model import StableDiffusion


def unloaded_sdxl() -> StableDiffusion:
    model = StableDiffusion(device="cpu", model_config=ModelConfig(name_or_path="sdxl", arch="sdxl"))
    model.vae = model.unet = None  # what load_model would set
    return model


def main(config: str) -> None:
    entries = yaml.safe_load(Path(config).read_text())["datasets"]
    results, model = [], unloaded_sdxl()
    for raw in preprocess_dataset_raw_config([{**e, "cache_latents_to_disk": False} for e in entries]):
        dataset = AiToolkitDataset(DatasetConfig(**raw), batch_size=1, sd=model)
        items = []
        for item in dataset.file_list:
            item.load_caption(dataset.caption_dict)
            items.append(
                {
                    "path": item.path,
                    "caption": item.raw_caption,
                    "size": [item.width, item.height],
                    "bucket": [item.crop_width, item.crop_height],
                }
            )
        results.append({"resolution": raw["resolution"], "items": items})
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1])
