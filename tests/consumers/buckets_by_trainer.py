"""Each picture size's bucket as a trainer's own code makes it. sd-scripts: ``BaseDataset``'s
``adjust_min_max_bucket_reso_by_steps``, then ``BucketManager`` (``make_buckets`` unless no upscale, and
``select_bucket``), as ``make_buckets`` drives them. ai-toolkit: ``BucketsMixin.setup_buckets`` (its
``get_bucket_for_image_size`` and the cover-and-crop sizes) over file items of those sizes; the dataset
object it is handed has only the attributes that method reads.

Run with the trainer's venv and its source on PYTHONPATH; reads {"trainer", "jobs": [{"rules", "sizes"},
...]} as JSON on standard input and prints, for each job, [[bucket width, bucket height, resized width,
resized height], ...], or for a size the trainer's code fails on, its error. Jobs share one process: the
trainer's import (torch and its friends) is most of the time.
"""

import json
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

request = json.load(sys.stdin)


def sd_scripts_answers(rules: dict, sizes: list) -> list:
    from library import train_util

    answers = []
    square = (rules["resolution"], rules["resolution"])
    low, high = train_util.BaseDataset.adjust_min_max_bucket_reso_by_steps(
        None, square, rules["min_bucket_reso"], rules["max_bucket_reso"], rules["bucket_reso_steps"]
    )
    manager = train_util.BucketManager(rules["bucket_no_upscale"], square, low, high, rules["bucket_reso_steps"])
    if not rules["bucket_no_upscale"]:
        manager.make_buckets()
    for width, height in sizes:
        try:
            bucket, resized, _ = manager.select_bucket(width, height)
        except ZeroDivisionError as error:  # a picture smaller than one step: its bucket has no height
            answers.append(f"{type(error).__name__}: {error}")
            continue
        answers.append([*bucket, *resized])
    return answers


def ai_toolkit_answers(rules: dict, sizes: list) -> list:
    from toolkit.dataloader_mixins import BucketsMixin

    config = SimpleNamespace(
        resolution=rules["resolution"],
        bucket_tolerance=rules["bucket_tolerance"],
        scale=1.0,
        square_crop=False,
        random_crop=False,
    )
    items = [SimpleNamespace(width=width, height=height, dataset_config=config) for width, height in sizes]
    dataset = SimpleNamespace(
        file_list=items,
        dataset_config=config,
        epoch_num=0,
        is_audio_model=False,
        is_video=False,
        buckets={},
        shuffle_buckets=lambda: None,
        build_batch_indices=lambda: None,
    )
    BucketsMixin.setup_buckets(dataset, quiet=True)
    return [[item.crop_width, item.crop_height, item.scale_to_width, item.scale_to_height] for item in items]


if request["trainer"] == "ai-toolkit":
    with tempfile.TemporaryDirectory() as info:  # its info.py is not in the snapshot (read_with_ai_toolkit.py)
        Path(info, "info.py").write_text('software_meta = {"name": "ai-toolkit"}\n')
        sys.path.append(info)
        import toolkit.dataloader_mixins  # noqa: F401 - imported while its info.py is there
answer = sd_scripts_answers if request["trainer"] == "sd-scripts" else ai_toolkit_answers
print(json.dumps([answer(job["rules"], job["sizes"]) for job in request["jobs"]]))
