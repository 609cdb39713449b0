"""``pixlstash dataset check``: a training set's health as the trainer would see it, before the run."""

from __future__ import annotations

import functools
import statistics

import click
import msgspec

from ..errors import BadInput
from ..training import BucketRules
from ..training.configs import bucket_bounds
from ..training.dataset_fixes import remove_near_duplicates
from .common import SectionedCommand, json_option, library_option, option, print_json
from .library_options import export_options, filter_from_args, filter_options, narrowed_to_source, open_library
from .output import counted

__all__ = ["dataset_group"]


_bucket = functools.partial(option, section="Buckets (the trainer's options; default: what the export's configs say)")


def id_ranges(ids: list[int]) -> str:
    """Ids as the PICTURES argument takes them: 3,7,20-30."""
    parts, ordered = [], sorted(set(ids))
    start = previous = None
    for picture_id in [*ordered, None]:
        if picture_id is not None and previous is not None and picture_id == previous + 1:
            previous = picture_id
            continue
        if start is not None:
            parts.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = picture_id
    return ",".join(parts)


@click.group("dataset")
def dataset_group() -> None:
    """Training sets: what the trainer will make of one, before a night of GPU time."""


@dataset_group.command("check", cls=SectionedCommand)
@library_option
@click.argument("selection", required=False, metavar="[SOURCE]")
@option("--trigger", help="the trigger word (default: the one remembered for the set)")
@option(
    "--caption",
    type=click.Choice(["auto", "caption", "tags", "predictions", "template"]),
    help="what each caption holds, as the export writes it (default: remembered for the set, else auto)",
)
@_bucket("--trainer", type=click.Choice(["sd-scripts", "ai-toolkit"]), default="sd-scripts", show_default=True)
@_bucket("--resolution", type=click.IntRange(64, 4096), metavar="PX", help="the training resolution (1024)")
@_bucket("--min-bucket-reso", type=click.IntRange(8, 8192), metavar="PX", help="sd-scripts (resolution / 2)")
@_bucket("--max-bucket-reso", type=click.IntRange(64, 16384), metavar="PX", help="sd-scripts (resolution x 2)")
@_bucket("--bucket-reso-steps", type=click.IntRange(8, 512), default=64, show_default=True, help="sd-scripts")
@_bucket("--no-upscale", "no_upscale", is_flag=True, help="sd-scripts' bucket_no_upscale")
@_bucket(
    "--bucket-tolerance",
    type=click.IntRange(1, 512),
    default=16,
    show_default=True,
    help="ai-toolkit: its model's divisibility (16 for SDXL and Flux)",
)
@option(
    "--remove-duplicates",
    is_flag=True,
    help="take the near-duplicates out of the set or character, keeping the best of each group (one undo step)",
)
@json_option
@filter_options
@click.pass_obj
def check_command(pm, library_path, selection, trigger, caption, remove_duplicates, as_json, where, **bucket) -> int:
    """Check a set, character, project or filtered view as a training set: each picture's bucket exactly as
    the trainer makes it (kohya-ss sd-scripts or ai-toolkit), captions and the trigger word, tags in nearly
    every caption, and near-duplicates. Each finding names its pictures (ids as `pixlstash ls`, `remove`
    and `tag` take them).

    \b
    Examples:
      pixlstash dataset check Alice
      pixlstash dataset check Alice --trainer ai-toolkit --resolution 1024 --json
      pixlstash dataset check --in-set Best --rating-min 4 --no-upscale
      pixlstash dataset check Alice --remove-duplicates
    """
    with open_library(library_path, pm) as library:
        f, _ = filter_from_args(library, where)
        remember_for, name = None, "the selection"
        if selection:
            f, remember_for, name = narrowed_to_source(library, f, selection)
        given = {key: value for key, value in (("trigger", trigger), ("caption", caption)) if value is not None}
        options = export_options(library, remember_for, given)
        resolution, low, high = bucket_bounds(
            msgspec.structs.replace(options, bucket_resolution=bucket["resolution"] or options.bucket_resolution)
        )
        rules = BucketRules(
            trainer=bucket["trainer"],
            resolution=resolution,
            min_bucket_reso=bucket["min_bucket_reso"] or low,
            max_bucket_reso=bucket["max_bucket_reso"] or high,
            bucket_reso_steps=bucket["bucket_reso_steps"],
            bucket_no_upscale=bucket["no_upscale"],
            bucket_tolerance=bucket["bucket_tolerance"],
        )
        try:
            rules = rules.checked()
        except ValueError as error:
            raise BadInput(str(error)) from None
        report = library.training.check(f, options, rules)
        removed = []
        if remove_duplicates:
            if remember_for is None:
                raise click.UsageError("--remove-duplicates needs a set or character as SOURCE")
            removed = remove_near_duplicates(library.edits, library.pictures, remember_for, name, report)
            if removed:
                report = library.training.check(f, options, rules)
    if removed and not as_json:
        print(f"removed {counted(len(removed), 'near-duplicate')} from {name}: {id_ranges(removed)} (pixlstash undo)")
    if not report.pictures:
        raise BadInput("nothing to check: the selection holds no pictures")
    if as_json:
        print_json(report)
        return 0
    _print(report, name)
    return 0


def _print(report, name: str) -> None:
    rules = report.rules
    if rules.trainer == "sd-scripts":
        how = f"buckets {rules.min_bucket_reso}-{rules.max_bucket_reso}, steps {rules.bucket_reso_steps}" + (
            ", no upscale" if rules.bucket_no_upscale else ""
        )
    else:
        how = f"divisible by {rules.bucket_tolerance}"
    print(f"{name}: {counted(report.pictures, 'picture')} for {rules.trainer} at {rules.resolution} ({how})")
    print(f"buckets: {len(report.buckets)}")
    most = max((b.pictures for b in report.buckets), default=1)
    for count in report.buckets:
        size = f"{count.bucket[0]}x{count.bucket[1]}"
        print(f"  {size:>10} {count.pictures:5}  {'#' * max(1, round(24 * count.pictures / most))}")
    captions = report.captions
    words = (
        f"; {captions.words_min}-{captions.words_max} words (median {captions.words_median:g})"
        if captions.captioned
        else ""
    )
    print(f"captions: {captions.captioned} of {report.pictures}{words}")
    for count in captions.tokens:
        if count.unavailable:
            print(f"  {count.label}: tokens not counted: {count.unavailable}")
        elif count.per_picture:
            cut = f": {counted(len(count.cut), 'caption')} cut" if count.cut else ""
            print(f"  {count.label}: median {count.median:g} tokens, most {count.most}; it reads {count.window}{cut}")
    if report.frequent_tags:
        top = ", ".join(f"{t.tag} {t.share:.0%}" for t in report.frequent_tags[:8])
        print(f"most frequent tags: {top}")
    if (spread := report.embedding) is not None:
        without = f"; {counted(len(spread.without), 'picture')} not embedded yet" if spread.without else ""
        print(
            f"variety ({spread.engine_id}): distance to the set's centre median {spread.median:.3f}, "
            f"90th percentile {spread.p90:.3f}{without}"
        )
    if (alike := report.identity) is not None:
        median = statistics.median(d.distance for d in alike.distances) if alike.distances else 0.0
        print(f"identity ({alike.engine_id}): {counted(alike.pictures, 'picture')} with a face; median distance to the "
              f"character's centre {median:.3f}")  # fmt: skip
    if report.quality:
        sharp = statistics.median(q.sharpness for q in report.quality)
        exposed = statistics.median(q.exposure for q in report.quality)
        print(f"quality: median sharpness {sharp:.2f}, exposure {exposed:.2f} (0 to 1)")
    if not report.findings:
        print("nothing to fix")
        return
    print("findings:")
    for finding in report.findings:
        print(f"  {finding.message}")
        if finding.picture_ids:
            print(f"    pictures {id_ranges(finding.picture_ids)}")
