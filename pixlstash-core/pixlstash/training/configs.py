"""The files beside an export's pictures that trainers read: sd-scripts' ``dataset.toml`` (``--dataset_config``),
the datasets entry of an ai-toolkit config, and ``metadata.jsonl`` in sd-scripts' fine-tuning format.

Both trainers resolve a relative folder against the directory they are started in, not the config's, so a
folder export names itself by its absolute path unless relative paths are asked for (a zip cannot know
where it will be unpacked, so its paths are relative and its comments say so).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import msgspec

from .options import ExportOptions

__all__ = ["ai_toolkit_config", "kohya_config", "metadata_lines"]


class _Entry(msgspec.Struct, frozen=True):
    """One line of metadata.jsonl: sd-scripts' keys (image_path relative to the subset's image_dir, the
    caption), then ours under one key it does not read."""

    image_path: str
    caption: str
    pixlstash: dict


def metadata_lines(files: Sequence) -> bytes:
    """sd-scripts' JSONL metadata (``metadata_file = ".../metadata.jsonl"`` with ``image_dir`` the export's
    folder); its ``tags`` key is left out on purpose: sd-scripts appends it to the caption, which already
    holds what the options chose."""
    return b"".join(
        msgspec.json.encode(
            _Entry(f.image, f.caption, {"picture_id": f.picture_id, "hash": f.content_hash, "tags": f.tags})
        )
        + b"\n"
        for f in files
    )


def _folder(root: Path | None, subfolder: str, options: ExportOptions) -> tuple[str, str]:
    """The images' folder as the configs name it, and a comment on how it is resolved."""
    if root is not None and not options.relative_paths:
        path = root / subfolder if subfolder else root
        return str(path), "the absolute path of the export's folder"
    path = f"./{subfolder}" if subfolder else "."
    return path, (
        "relative: the trainer resolves it against the folder it is started in (not this file's), "
        "so start it in the export's folder or write the absolute path here"
    )


def _quoted(text: str) -> str:
    """A TOML basic string, which is also a YAML double-quoted scalar."""
    return json.dumps(text, ensure_ascii=False)


def bucket_bounds(options: ExportOptions) -> tuple[int, int, int]:
    """(resolution, min_bucket_reso, max_bucket_reso): sd-scripts' bucket set with these bounds is exactly
    the one the export crops to, so exported sizes are kept rather than re-bucketed."""
    resolution = options.bucket_resolution or 1024
    return resolution, max(64, resolution // 2), resolution * 2


def kohya_config(root: Path | None, subfolder: str, options: ExportOptions) -> str:
    folder, how = _folder(root, subfolder, options)
    resolution, low, high = bucket_bounds(options)
    trigger = options.trigger.strip()
    lines = [
        "# kohya-ss sd-scripts dataset config: train_network.py --dataset_config dataset.toml",
        f"# image_dir is {how}.",
        "[general]",
        'caption_extension = ".txt"',
        "shuffle_caption = false",
        f"keep_tokens = {1 if trigger else 0}",
        "",
        "[[datasets]]",
        f"resolution = {resolution}",
        "batch_size = 1",
        "enable_bucket = true",
        "bucket_reso_steps = 64",
        f"min_bucket_reso = {low}",
        f"max_bucket_reso = {high}",
        "",
        "  [[datasets.subsets]]",
        f"  image_dir = {_quoted(folder)}",
        f"  num_repeats = {options.repeats or 1}",
    ]
    if trigger:  # what a picture without a caption file is trained with
        lines.append(f"  class_tokens = {_quoted(trigger)}")
    if options.transparency == "alpha":  # transparent pixels were kept: sd-scripts masks them out of the loss
        lines.append("  alpha_mask = true")
    return "\n".join([*lines, ""])


def ai_toolkit_config(root: Path | None, subfolder: str, options: ExportOptions) -> str:
    folder, how = _folder(root, subfolder, options)
    resolution = options.bucket_resolution or 1024
    lines = [
        "# ai-toolkit: the datasets entry of a training config (config/*.yaml).",
        f"# folder_path is {how}.",
        "datasets:",
        f"  - folder_path: {_quoted(folder)}",
        '    caption_ext: "txt"',
        "    caption_dropout_rate: 0.05",
        "    cache_latents_to_disk: true",
        f"    num_repeats: {options.repeats or 1}",
        f"    resolution: [{', '.join(str(r) for r in sorted({512, 768, resolution}))}]",
    ]
    if options.transparency == "alpha":  # transparent pixels were kept: ai-toolkit masks the loss by them
        lines.append("    alpha_mask: true")
    return "\n".join([*lines, ""])
