"""How a training-set export is made: what each caption file says, what the images become, the layout."""

from __future__ import annotations

import string
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from ..errors import BadInput

__all__ = ["EVERY_TRAINER_READS", "TEMPLATE_FIELDS", "TRAINERS_READ", "ExportOptions"]

# The image suffixes each trainer enumerates in a dataset folder (sd-scripts: train_util.IMAGE_EXTENSIONS,
# AVIF and JPEG XL only with optional plugins installed; ai-toolkit: data_loader.image_extensions). Any
# other file is skipped without a word.
TRAINERS_READ = {
    "kohya-ss sd-scripts": frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp"}),
    "ai-toolkit": frozenset({".png", ".jpg", ".jpeg", ".webp"}),
}
EVERY_TRAINER_READS = frozenset.intersection(*TRAINERS_READ.values())

# What a caption template may name.
TEMPLATE_FIELDS = ("trigger", "caption", "tags", "character_tags", "general_tags", "predicted_tags", "name")


class ExportOptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """Chosen per export, remembered per set (see ``TrainingExport.remembered``)."""

    # The caption file: "auto" is the accepted caption where there is one, else the accepted tags; or
    # only the accepted caption, the accepted tags, those plus predicted tags at or above
    # ``min_confidence``, or a template combining them ("{trigger}, {character_tags}, {tags}"). A picture
    # whose caption comes out empty gets no caption file (sd-scripts stops on an empty one).
    caption: Literal["auto", "caption", "tags", "predictions", "template"] = "auto"
    template: Annotated[str, Meta(max_length=2000)] = "{trigger}, {caption}"
    trigger: Annotated[str, Meta(max_length=200)] = ""  # put first (where the template does not place it)
    min_confidence: Annotated[float, Meta(ge=0.0, le=1.0)] = 0.35
    order: Literal["confidence", "frequency", "name"] = "confidence"  # of tags, after character tags
    character_first: bool = True
    underscores: bool = False  # long_hair rather than long hair
    exclude_tags: list[Annotated[str, Meta(max_length=200)]] = []
    max_tags: Annotated[int, Meta(ge=0, le=10_000)] = 0  # 0: all
    second_file: bool = False  # also write <stem>.caption, for trainers that read both
    # The images: original bytes untouched unless converted, resized or bucketed (EXIF orientation is
    # applied to those). "auto" copies the formats every trainer reads (PNG, JPEG, WebP) and converts
    # the others (GIF, TIFF, BMP, HEIC, AVIF ...) to PNG; "original" copies every file as it is.
    image_format: Literal["auto", "original", "png", "jpeg", "webp"] = "auto"
    max_side: Annotated[int, Meta(ge=0, le=16_384)] = 0  # 0: as they are
    bucket_resolution: Annotated[int, Meta(ge=0, le=4096)] = 0  # 0: no buckets; 1024: SDXL's aspect buckets
    # Transparent pixels: put on ``background`` (trainers load images as RGB, so transparent pixels would
    # train as whatever colour they hide), or kept ("alpha") for the trainers' alpha_mask, which
    # dataset.toml and ai-toolkit.yaml then turn on for the whole folder. ai-toolkit reads the mask as the
    # fourth channel of every image, so with "alpha" every image is an RGBA PNG (or WebP), opaque ones
    # fully opaque.
    transparency: Literal["background", "alpha"] = "background"
    background: Annotated[str, Meta(pattern=r"^#[0-9a-fA-F]{6}$")] = "#ffffff"
    names: Literal["id", "original"] = "id"
    videos: Literal["skip", "poster"] = "skip"  # a video becomes its poster frame, or is left out
    repeats: Annotated[int, Meta(ge=0, le=1000)] = 0  # kohya's "<repeats>_<trigger>/" folder when > 0
    # An .xmp sidecar beside each image (name.ext.xmp, as darktable and digiKam read it): the picture's tags
    # as keywords, its rating and its caption, for the photo software the folder is opened in.
    xmp: bool = False
    # The configs name the export's folder by its absolute path; relative paths are resolved by the
    # trainers against the folder they run in. (A zip's configs are always relative.)
    relative_paths: bool = False

    def check(self) -> ExportOptions:
        if self.transparency == "alpha" and self.image_format in ("original", "jpeg"):
            raise BadInput(
                f"--transparency alpha writes every image with an alpha channel; --image-format "
                f"{self.image_format} cannot hold one (choose auto, png or webp)"
            )
        if self.caption == "template":
            for _, name, _, _ in string.Formatter().parse(self.template):
                if name is not None and name not in TEMPLATE_FIELDS:
                    raise BadInput(f"the template names {{{name}}}; it may use {', '.join(TEMPLATE_FIELDS)}")
        return self

    def copies(self, suffix: str) -> bool:
        """Whether an original with this suffix is exported byte for byte (else decoded and written anew)."""
        if self.max_side or self.bucket_resolution:
            return False
        if self.transparency == "alpha":  # only a PNG or WebP that already has an alpha channel (see images)
            return self.image_format == "auto" and suffix.lower() in (".png", ".webp")
        if self.image_format == "original":
            return True
        return self.image_format == "auto" and suffix.lower() in EVERY_TRAINER_READS
