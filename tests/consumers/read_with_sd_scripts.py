"""Read datasets the way kohya-ss sd-scripts' train_network.py does, with sd-scripts' own code: its
argument parser (``train_network.setup_parser``) and ``prepare_dataset_args``, ``ConfigSanitizer`` /
``BlueprintGenerator`` over the ``--dataset_config`` file, ``generate_dataset_group_by_blueprint``
(DreamBoothDataset or FineTuningDataset) and ``make_buckets``. Prints what training would see, or the
error it stops with, as one JSON list on standard output's last line.

Run with sd-scripts' venv and sd-scripts on PYTHONPATH; each config is read in the folder named after it
(the folder the trainer would be started in):
    python read_with_sd_scripts.py CONFIG FOLDER [CONFIG FOLDER ...]
"""

import json
import os
import sys
import traceback

import train_network
from library import config_util, strategy_base, strategy_sd, train_util
from library.config_util import BlueprintGenerator, ConfigSanitizer


def read(dataset_config: str) -> dict:
    args = train_network.setup_parser().parse_args(["--dataset_config", dataset_config])
    train_util.prepare_dataset_args(args, True)
    user_config = config_util.load_user_config(dataset_config)
    blueprint = BlueprintGenerator(ConfigSanitizer(True, True, args.masked_loss, True)).generate(user_config, args)
    group, _ = config_util.generate_dataset_group_by_blueprint(blueprint.dataset_group)
    datasets = []
    for dataset in group.datasets:
        dataset.make_buckets()
        images = [
            {
                "path": info.absolute_path,
                "caption": info.caption,
                "repeats": info.num_repeats,
                "size": list(info.image_size),
                "bucket": list(info.bucket_reso),
            }
            for info in dataset.image_data.values()
        ]
        datasets.append(
            {
                "kind": type(dataset).__name__,
                "resolution": [dataset.width, dataset.height],
                "images": sorted(images, key=lambda i: i["path"]),
                "class_tokens": [getattr(s, "class_tokens", None) for s in dataset.subsets],
                "keep_tokens": [s.keep_tokens for s in dataset.subsets],
            }
        )
    return {"datasets": datasets, "images": len(group)}


def main(pairs: list[str]) -> None:
    # As sdxl_train_network.py: its latents strategy is set (once) before the datasets are made.
    strategy = strategy_sd.SdSdxlLatentsCachingStrategy(False, False, 1, False)
    strategy_base.LatentsCachingStrategy.set_strategy(strategy)
    results = []
    for config, folder in zip(pairs[::2], pairs[1::2], strict=True):
        os.chdir(folder)
        try:
            results.append(read(config))
        except BaseException as error:  # what stops training, as the trainer would show it
            results.append({"error": "".join(traceback.format_exception_only(error)).strip()})
            traceback.print_exc()
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1:])
