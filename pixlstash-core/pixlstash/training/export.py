"""Training-set export: the pictures a filter selects (a set, a character, a project, a view, a selection)
as a dataset folder trainers read (kohya-ss sd-scripts, ai-toolkit, OneTrainer, diffusion-pipe): each
image beside a ``.txt`` caption with the same stem, optionally in kohya's ``<repeats>_<trigger>/`` folder,
with sd-scripts' JSONL metadata (``metadata.jsonl``) and configs (``dataset.toml``, ``ai-toolkit.yaml``; see
``configs``). A picture whose caption comes out empty gets no caption file: sd-scripts stops training on
an empty one, and both trainers take a missing one as an empty caption (sd-scripts: the trigger, as
``class_tokens``).

The same files go to a folder (each written under a temporary name and renamed, so an interrupted export
leaves no half-written file named like a finished one; ``update`` rewrites only files whose bytes
changed) or into a zip streamed as it is made (nothing is staged on disk).
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import msgspec

from ..db.collections import CollectionStore
from ..db.pictures import PictureStore
from ..db.query import PictureQuery
from ..db.settings import SettingsStore
from ..db.vectors import VectorStore
from ..domain import PersonRegion, Picture, PictureFilter
from ..errors import BadInput, Conflict, NotFound, UnsupportedMedia
from ..files.picture_files import PictureFiles
from ..media.facts import MediaLimits
from ..media.video import poster_frame
from ..media.xmp_sidecar import SidecarContent, people_regions, xmp_sidecar
from .buckets import BucketRules
from .caption_tokens import CaptionTokenizer, TokenCache, token_counts
from .captions import caption_text, own_caption, picture_tags
from .configs import ai_toolkit_config, bucket_bounds, kohya_config, metadata_lines
from .dataset_check import DatasetReport, dataset_report
from .images import aspect_bucket, box_in_bucket, converted_image, copied_as_is, image_suffix
from .options import TRAINERS_READ, ExportOptions
from .picture_quality import MeasureCache, PictureQuality, measure_pictures
from .plan import ExportFile, ExportMissing, ExportPlan
from .report_page import report_page
from .variety import identity, near_identical, spread

__all__ = ["ExportFile", "ExportPlan", "FolderReport", "TrainingExport"]

Progress = Callable[[int, int], None]
_CHUNK = 1 << 20
_MAX_PICTURES = 200_000


class FolderReport(msgspec.Struct, frozen=True):
    folder: str
    pictures: int
    written: list[str]
    unchanged: int
    missing: list[ExportMissing]
    videos_left_out: list[int]
    uncaptioned: list[int] = []
    warnings: list[str] = []


class TrainingExport:
    def __init__(
        self,
        query: PictureQuery,
        pictures: PictureStore,
        files: PictureFiles,
        settings: SettingsStore,
        limits: MediaLimits,
        vectors: VectorStore,
        collections: CollectionStore,
        face_threshold: Callable[[str], float],
        measures: MeasureCache,
        tokenizers: Callable[[], list[CaptionTokenizer]],
        tokens: TokenCache,
    ) -> None:
        self.query, self.pictures, self.files, self.settings, self.limits = query, pictures, files, settings, limits
        self.vectors, self.collections, self.face_threshold = vectors, collections, face_threshold
        self.measures = measures  # a check again, or of an overlapping set, reads no thumbnail
        self.tokenizers, self.tokens = tokenizers, tokens  # the plugins' tokenizers; their counts kept

    # -- options remembered per set -------------------------------------------------------------

    def remembered(self, collection_id: int) -> ExportOptions:
        return self.settings.get(f"export:{collection_id}", ExportOptions, ExportOptions())

    def remember(self, collection_id: int, options: ExportOptions) -> None:
        self.settings.put(f"export:{collection_id}", options)

    # -- what goes out --------------------------------------------------------------------------

    def plan(self, f: PictureFilter, options: ExportOptions) -> ExportPlan:
        """The files an export writes, in picture id order, and the pictures it cannot."""
        return self._plan(f, options)[0]

    def check(self, f: PictureFilter, options: ExportOptions, rules: BucketRules) -> DatasetReport:
        """What the trainer would make of this export, and what is wrong with it (``dataset_check``): with
        each picture's measures, its embeddings' spread and, for a character, its faces' likeness."""
        plan, pictures = self._plan(f, options)
        character = len(f.collections) == 1 and self._kind(f.collections[0]) == "character"
        return self._checked(plan, pictures, options, rules, character=character)

    def _checked(
        self, plan: ExportPlan, pictures: dict[int, Picture], options: ExportOptions, rules: BucketRules, *, character
    ) -> DatasetReport:
        ids = [file.picture_id for file in plan.files]
        vectors, engine_id = self._embeddings(ids)
        return dataset_report(
            plan.files,
            pictures,
            rules,
            options.trigger,
            missing=[m.picture_id for m in plan.missing],
            videos_left_out=plan.videos_left_out,
            quality=self._quality(plan.files, pictures),
            embedding=spread(engine_id, vectors, ids) if vectors else None,
            similar=near_identical(vectors),
            identity=identity(self.vectors.faces_of_pictures(ids), ids, self.face_threshold) if character else None,
            tokens=token_counts(self.tokenizers(), {f.picture_id: f.caption for f in plan.files}, self.tokens),
        )

    def _kind(self, collection_id: int) -> str | None:
        try:
            return self.collections.collection(collection_id).kind
        except NotFound:
            return None

    def _embeddings(self, ids: list[int]) -> tuple[dict, str]:
        """The vectors of the image embedder that has embedded most of these pictures, and its id."""
        best: tuple[dict, str] = ({}, "")
        for engine_id, _, _ in sorted(self.vectors.embedding_engines()):
            found = self.vectors.embeddings(engine_id, ids)
            if len(found) > len(best[0]):
                best = (found, engine_id)
        return best

    def _quality(self, files: list[ExportFile], pictures: dict[int, Picture]) -> list[PictureQuality]:
        looks = {f.picture_id: f"{f.content_hash}:{pictures[f.picture_id].edit!r}" for f in files if not f.video}
        known = self.measures.get(looks)
        wanted = [
            (f.picture_id, thumbnail, Path(f.source) if _jpeg(f.suffix) else None)
            for f in files
            if f.picture_id in looks
            and f.picture_id not in known
            and (thumbnail := self._thumbnail(f.picture_id)) is not None
        ]
        if wanted:
            measured = measure_pictures(wanted)
            self.measures.put((looks[q.picture_id], q) for q in measured)
            known |= {q.picture_id: q for q in measured}
        return [known[f.picture_id] for f in files if f.picture_id in known]

    def _thumbnail(self, picture_id: int) -> Path | None:
        """The grid thumbnail (made again if it went missing); None when it cannot be had: the picture is
        not measured, the rest of the check goes on."""
        try:
            return self.files.thumbnail_path(picture_id)
        except (NotFound, UnsupportedMedia, BadInput, OSError):
            return None

    def _plan(self, f: PictureFilter, options: ExportOptions) -> tuple[ExportPlan, dict[int, Picture]]:
        options.check()
        ids = sorted(self.query.ids(f, limit=_MAX_PICTURES + 1))
        if len(ids) > _MAX_PICTURES:
            raise BadInput(f"an export holds at most {_MAX_PICTURES:,} pictures")
        pictures = [self.pictures.get(i) for i in ids]
        frequency = Counter(t.name for p in pictures for t in p.tags)
        names = self.collections.character_names() if options.xmp else {}
        folder = _repeat_folder(options)
        files, missing, videos, used = [], [], [], set()
        for picture in pictures:
            if picture.media_type == "video" and options.videos == "skip":
                videos.append(picture.id)
                continue
            try:
                source = self.files.original_path(picture.id)
            except NotFound as error:
                missing.append(ExportMissing(picture.id, picture.original_name, str(error)))
                continue
            video = picture.media_type == "video"
            # A video's poster frame is a new image: PNG unless another format is asked for.
            suffix = image_suffix(".png" if video else picture.suffix, options, force=video)
            stem = _stem(picture, options, used)
            tags = picture_tags(picture, options, frequency)["all"]
            image = f"{folder}/{stem}{suffix}" if folder else f"{stem}{suffix}"
            caption = caption_text(picture, options, frequency)
            files.append(
                ExportFile(
                    picture.id,
                    picture.content_hash,
                    image,
                    caption,
                    tags,
                    str(source),
                    picture.suffix,
                    video,
                    edited=picture.edit is not None,
                    keywords=[t.name for t in picture.tags] if options.xmp else [],
                    rating=picture.rating,
                    description=own_caption(picture) if options.xmp else "",
                    people=_people(picture, names, options) if options.xmp else [],
                    size=_written_size(picture, options) if options.xmp else None,
                )
            )
        uncaptioned = [f.picture_id for f in files if not f.caption]
        plan = ExportPlan(files, missing, videos, folder, uncaptioned, _warnings(files, uncaptioned))
        return plan, {picture.id: picture for picture in pictures}

    def contents(
        self, plan: ExportPlan, options: ExportOptions, root: Path | None = None
    ) -> Iterator[tuple[str, bytes | Path]]:
        """(relative name, bytes or the path to copy) of every file of the export, configs last. ``root``
        is the folder the export is written to (None for a zip): the configs name it."""
        for item in plan.files:
            yield item.image, self._image(item, options)
            if options.xmp:
                content = SidecarContent(item.keywords, item.rating, item.description, item.people, item.size)
                sidecar = xmp_sidecar(content)
                yield f"{item.image}.xmp", sidecar
            if not item.caption:
                continue
            stem = item.image.rsplit(".", 1)[0]
            text = (item.caption + "\n").encode()
            yield f"{stem}.txt", text
            if options.second_file:
                yield f"{stem}.caption", text
        yield "metadata.jsonl", metadata_lines(plan.files)
        yield "dataset.toml", kohya_config(root, plan.folder, options).encode()
        yield "ai-toolkit.yaml", ai_toolkit_config(root, plan.folder, options).encode()
        report = self._report(plan, options)
        yield "dataset-report.json", msgspec.json.encode(report)
        yield "dataset-report.html", report_page(report, {f.picture_id: f.image for f in plan.files}).encode()

    def _report(self, plan: ExportPlan, options: ExportOptions) -> DatasetReport:
        """The dataset check of what this export writes, by the bucket rules its dataset.toml gives
        sd-scripts (``configs.bucket_bounds``)."""
        resolution, low, high = bucket_bounds(options)
        rules = BucketRules("sd-scripts", resolution, min_bucket_reso=low, max_bucket_reso=high)
        pictures = {f.picture_id: self.pictures.get(f.picture_id) for f in plan.files}
        return self._checked(plan, pictures, options, rules, character=False)

    def _image(self, item: ExportFile, options: ExportOptions) -> bytes | Path:
        if item.video:
            with_duration = self.pictures.get(item.picture_id).duration
            frame = poster_frame(Path(item.source), with_duration)
            return converted_image(frame, ".png", options, self.limits)
        if item.edited:  # the crop comes first, then the export's own resize; captions stay as they are
            edited = self.files.edited_image(item.picture_id)
            if edited is not None:
                return converted_image(edited, item.suffix, options, self.limits)
        if copied_as_is(Path(item.source), item.suffix, options):
            return Path(item.source)
        try:
            return converted_image(Path(item.source), item.suffix, options, self.limits)
        except (OSError, ValueError, UnsupportedMedia) as error:
            raise BadInput(f"picture {item.picture_id} could not be converted: {error}") from None

    # -- to a folder ----------------------------------------------------------------------------

    def write_folder(
        self,
        plan: ExportPlan,
        options: ExportOptions,
        target: Path,
        mode: Literal["new", "overwrite", "update"] = "new",
        progress: Progress | None = None,
    ) -> FolderReport:
        target = Path(target).expanduser().resolve()
        if target.exists() and not target.is_dir():
            raise BadInput(f"{target} is a file, not a folder")
        if mode == "new" and target.is_dir() and any(target.iterdir()):
            raise Conflict(
                f"{target} already holds files: choose an empty folder, or --update (rewrite what changed) "
                "or --overwrite (rewrite everything)"
            )
        target.mkdir(parents=True, exist_ok=True)
        written, unchanged, done = [], 0, 0
        total = len(plan.files)
        images = {f.image for f in plan.files}
        for name, content in self.contents(plan, options, target):
            path = target / name
            _refuse_links_out(path, target)
            if mode == "update" and _same(path, content):
                unchanged += 1
            else:
                _write_atomically(path, content)
                written.append(name)
            if name in images:
                done += 1
                if progress:
                    progress(done, total)
        return FolderReport(
            str(target), total, written, unchanged, plan.missing, plan.videos_left_out, plan.uncaptioned, plan.warnings
        )

    # -- into a streamed zip --------------------------------------------------------------------

    def zip_chunks(self, plan: ExportPlan, options: ExportOptions, progress: Progress | None = None) -> Iterator[bytes]:
        """The export as a zip, yielded in pieces as it is made: images stored as they are (they are
        compressed already), text deflated; zip64 so any size fits."""
        sink = _Sink()
        done = 0
        images = {f.image for f in plan.files}
        with zipfile.ZipFile(sink, "w", allowZip64=True) as archive:
            for name, content in self.contents(plan, options):
                text = name.rsplit(".", 1)[-1] not in (
                    "png",
                    "jpg",
                    "jpeg",
                    "webp",
                    "gif",
                    "avif",
                    "heic",
                    "bmp",
                    "tif",
                    "tiff",
                )
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED if text else zipfile.ZIP_STORED
                info.external_attr = 0o644 << 16
                with archive.open(info, "w", force_zip64=True) as out:
                    for block in _blocks(content):
                        out.write(block)
                        yield sink.take()
                if name in images:
                    done += 1
                    if progress:
                        progress(done, len(plan.files))
        yield sink.take()


def _people(picture: Picture, names: dict[int, str], options: ExportOptions) -> list[PersonRegion]:
    """The people in the image written: boxes as fractions of the picture as shown (a resize keeps them),
    moved into the part a bucket keeps (a face it cuts more than half away keeps only its name); a video's
    poster has only the names."""
    people = people_regions(picture, names, shown=True)
    if picture.media_type != "image":
        return [PersonRegion(p.name) for p in people]
    if not options.bucket_resolution or not picture.width or not picture.height:
        return people
    bucket = aspect_bucket(picture.width, picture.height, options.bucket_resolution)
    return [
        p if p.box is None else PersonRegion(p.name, box_in_bucket(p.box, picture.width, picture.height, bucket))
        for p in people
    ]


def _written_size(picture: Picture, options: ExportOptions) -> tuple[int, int]:
    """The size of the image an export writes (the picture as shown, its bucket's size, or within
    ``max_side``), as images.py makes it."""
    width, height = picture.width, picture.height
    if options.bucket_resolution and width and height:
        return aspect_bucket(width, height, options.bucket_resolution)
    if options.max_side and max(width, height) > options.max_side:
        scale = options.max_side / max(width, height)
        width, height = max(1, round(width * scale)), max(1, round(height * scale))
    return width, height


class _Sink(io.RawIOBase):
    """A write-only stream the zip writes into and the generator drains."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def _blocks(content: bytes | Path) -> Iterator[bytes]:
    if isinstance(content, bytes):
        yield content
        return
    with open(content, "rb") as source:
        while block := source.read(_CHUNK):
            yield block


def _same(path: Path, content: bytes | Path) -> bool:
    """Whether the file already holds exactly these bytes."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return False
    if size != (content.stat().st_size if isinstance(content, Path) else len(content)):
        return False
    with open(path, "rb") as existing:
        for block in _blocks(content):
            if existing.read(len(block)) != block:
                return False
    return True


def _refuse_links_out(path: Path, target: Path) -> None:
    """A symbolic link planted in the export's folder (a subfolder pointing elsewhere) must not carry the
    export's files out of it. (A file that is a link is replaced by the rename, never written through.)"""
    parent = path.parent
    while parent != target and not parent.exists():
        parent = parent.parent
    if not parent.resolve().is_relative_to(target):
        raise BadInput(f"{path.parent} leads out of {target} (a symbolic link): not written through")


def _write_atomically(path: Path, content: bytes | Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            for block in _blocks(content):
                out.write(block)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


_UNSAFE = re.compile(r"[^\w.-]+")


def _stem(picture: Picture, options: ExportOptions, used: set[str]) -> str:
    stem = str(picture.id)
    if options.names == "original":
        stem = _UNSAFE.sub("_", picture.original_name.rsplit(".", 1)[0]).strip("._") or str(picture.id)
    if stem.lower() in used:
        stem = f"{stem}-{picture.id}"
    used.add(stem.lower())
    return stem


def _jpeg(suffix: str) -> bool:
    return suffix.lower() in (".jpg", ".jpeg")


def _repeat_folder(options: ExportOptions) -> str:
    if not options.repeats:
        return ""
    name = _UNSAFE.sub("_", options.trigger.strip()).strip("._") or "pictures"
    return f"{options.repeats}_{name}"


def _warnings(files: list[ExportFile], uncaptioned: list[int]) -> list[str]:
    """What the trainers will make of this export that its writer would want to know first."""
    said = []
    if uncaptioned:
        n = len(uncaptioned)
        said.append(
            f"{n} {'picture has' if n == 1 else 'pictures have'} no caption or tags: no caption file is written "
            f"for {'it' if n == 1 else 'them'} (sd-scripts stops on an empty one), and sd-scripts and ai-toolkit "
            "train them with an empty caption (with a trigger word, the trigger)"
        )
    by_suffix: dict[str, int] = Counter(Path(f.image).suffix.lower() for f in files)
    for suffix, count in sorted(by_suffix.items()):
        skipping = [trainer for trainer, reads in TRAINERS_READ.items() if suffix not in reads]
        if skipping:
            files_word = "file" if count == 1 else "files"
            said.append(
                f"{count} {suffix} {files_word}: {' and '.join(skipping)} skip them without a word "
                "(the default image format, auto, converts them to PNG)"
            )
    return said
