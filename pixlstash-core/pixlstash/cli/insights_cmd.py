"""``pixlstash insights``: which generation settings make the pictures you keep."""

from __future__ import annotations

import click

from ..errors import BadInput
from ..insights import KeptRule
from ..insights.settings import SETTINGS
from .common import SectionedCommand, json_option, library_option, option, print_json
from .library_options import filter_from_args, filter_options, open_library, resolve_collection
from .output import Column, print_table

__all__ = ["insights_command"]


def _kept_rule(library, value: str) -> KeptRule:
    kind, _, detail = value.partition(":")
    if kind == "rating" and detail.isdigit() and 1 <= int(detail) <= 5:
        return KeptRule("rating", min_rating=int(detail))
    if kind == "set" and detail:
        return KeptRule("set", set_id=resolve_collection(library, "set", detail))
    if value == "not-scrapped":
        return KeptRule("not-scrapped")
    raise BadInput(f"--kept is rating:N (1-5), set:NAME or not-scrapped, not {value!r}")


@click.command("insights", cls=SectionedCommand)
@library_option
@option(
    "--kept",
    default="rating:4",
    show_default=True,
    metavar="RULE",
    help="what counts as kept: rating:N (N stars or more), set:NAME (in that set) or not-scrapped",
)
@option(
    "--min-pictures",
    type=click.IntRange(1, 1_000_000),
    default=20,
    show_default=True,
    metavar="N",
    help="a finding needs a setting used on at least N pictures",
)
@option("--setting", type=click.Choice(SETTINGS), help="list every value of this setting (default: the top 6 of each)")
@json_option
@filter_options
@click.pass_obj
def insights_command(pm, library_path, kept, min_pictures, setting, as_json, where) -> int:
    """Which generation settings make the pictures you keep.

    For each checkpoint, LoRA and LoRA weight band, sampler, scheduler, steps, CFG, guidance, size and
    prompt word of the generated pictures in view: how many there are, how many were kept, and the keep
    rate against the whole view's, with a 95% interval so that small counts are not over-read. Scrapped
    pictures count, as not kept.

    \b
    Examples:
      pixlstash insights
      pixlstash insights --kept set:Best --checkpoint juggernaut
      pixlstash insights --kept rating:5 --setting lora --json
    """
    with open_library(library_path, pm) as library:
        f, _ = filter_from_args(library, where)
        report = library.insights.keepers(f, _kept_rule(library, kept), min_pictures)
    if as_json:
        print_json(report)
        return 0
    if not report.pictures:
        print("no generated pictures in view (pictures with generation data: ComfyUI, A1111 and the others)")
        return 0
    print(
        f"{report.pictures:,} generated pictures in view; {report.kept:,} kept ({report.kept_rule.says()}): "
        f"{report.rate:.1%}"
    )
    if report.findings:
        print(
            f"what makes keepers (at 95% across the {report.tested:,} settings on {report.min_pictures} pictures or "
            "more):"
        )
        for finding in report.findings:
            print(f"  {'+' if finding.direction == 'above' else '-'} {finding.text}")
    else:
        print(f"no setting on {report.min_pictures} pictures or more is kept reliably more or less often than average")
    columns = [
        Column("value", wide=True),
        Column("pictures", right=True),
        Column("kept", right=True),
        Column("rate", right=True),
        Column("lift (95%)", right=True),
    ]
    for name in [setting] if setting else SETTINGS:
        values = report.settings.get(name, [])
        if not values:
            continue
        print(f"\n{name.replace('_', ' ')}:")
        rows = [
            [
                s.label,
                f"{s.pictures:,}",
                f"{s.kept:,}",
                f"{s.rate:.1%}",
                f"{s.lift:.2f} ({s.lift_low:.2f}-{s.lift_high:.2f})",
            ]
            for s in (values if setting else values[:6])
        ]
        print_table(columns, rows)
    return 0
