"""``pixlstash prune``: scrap the pictures of a selection that a scorer ranks lowest, as one undoable step."""

from __future__ import annotations

import click

from ..errors import BadInput
from .common import SectionedCommand, json_option, library_option, print_json
from .library_options import filter_from_args, filter_options, open_library, resolve_scorer
from .output import Column, counted, print_table


@click.command("prune", cls=SectionedCommand)
@library_option
@click.option("--by", "scorer", required=True, metavar="SCORER", help="the scorer (quality, aesthetic, or an id)")
@click.option("--lowest", type=click.IntRange(min=1), metavar="N", help="scrap the N lowest")
@click.option("--below", type=float, metavar="X", help="scrap those scored under X")
@click.option("--dry-run", is_flag=True, help="only list what would be scrapped")
@json_option
@filter_options(order=False)
@click.pass_obj
def prune_command(pm, library_path, scorer, lowest, below, dry_run, as_json, where) -> int:
    """Scrap the lowest-scored pictures of a selection (default: the whole library) in one step.

    Pictures the scorer has not scored are never pruned, nor pictures you rated or marked favourite unless
    the filter asks about them (--rating-max 1, --favourite). `pixlstash undo` brings them all back.

    \b
    Examples:
      pixlstash prune --by quality --lowest 20 --in-set Best --dry-run
      pixlstash prune --by aesthetic --below 4.5 --tag generated
    """
    if lowest is None and below is None:
        raise BadInput("say how many to scrap (--lowest N) or below which score (--below X)")
    with open_library(library_path, pm) as library:
        f, _ = filter_from_args(library, where)
        engine_id = resolve_scorer(library, scorer)
        chosen = library.prune(engine_id, f, lowest=lowest, below=below, dry_run=True)
        values = library.scores.values(engine_id, chosen)
        names = library.pictures.original_names(chosen)
        if not dry_run and chosen:
            library.prune(engine_id, f, lowest=lowest, below=below)
    if as_json:
        print_json({"picture_ids": chosen, "dry_run": dry_run})
        return 0
    if not chosen:
        print(f"nothing to prune: no picture of the selection scored by {engine_id} is that low")
        return 0
    rows = [(pid, names.get(pid, ""), f"{values[pid]:.3f}") for pid in chosen]
    print_table([Column("ID", right=True), Column("FILE", wide=True), Column("SCORE", right=True)], rows)
    if dry_run:
        print(f"would scrap {counted(len(chosen), 'picture')} (lowest first); run again without --dry-run")
    else:
        print(f"scrapped {counted(len(chosen), 'picture')} by {engine_id} (`pixlstash undo` puts them back)")
    return 0
