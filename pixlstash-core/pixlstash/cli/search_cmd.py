"""``pixlstash search``: semantic search by text, or find pictures similar to pictures or image files."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..engines.inputs import open_query_image
from .common import SectionedCommand, json_option, library_option, print_json
from .library_options import filter_from_args, filter_options, open_library
from .output import Column, print_table


def _ids(value: str) -> list[str]:
    parts = [v.strip() for v in value.split(",") if v.strip()]
    if not all(part.isdigit() for part in parts):
        raise click.BadParameter(f"{value!r} is not a picture id or ids like 12,13", param_hint="--similar")
    return parts


@click.command("search", cls=SectionedCommand)
@library_option
@click.argument("query", required=False)
@click.option(
    "--similar",
    multiple=True,
    callback=lambda ctx, param, values: [int(v) for value in values for v in _ids(value)],
    metavar="ID[,ID]",
    help="pictures like these stored pictures (repeatable)",
)
@click.option(
    "--image",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    metavar="FILE",
    help="pictures like this image file (repeatable)",
)
@click.option(
    "--combine",
    type=click.Choice(["mean", "min"]),
    default="mean",
    show_default=True,
    help="several references: mean likeness, or min (close to all of them)",
)
@click.option("--engine", metavar="ID", help="embedder to use (default: the settings' default)")
@click.option("--threshold", type=click.FloatRange(-1, 1), metavar="SIM", help="only hits at least this similar")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="how many hits")
@json_option
@filter_options
@click.pass_obj
def search_command(pm, library_path, query, similar, image, combine, engine, threshold, limit, as_json, where) -> int:
    """Search pictures by meaning (words) or by example (similar pictures).

    Words go through an embedder's text encoder (CLIP); --similar and --image find pictures like stored
    pictures or image files. Filters restrict the results. For plain text over prompts, captions and file
    names use `pixlstash ls --text WORDS`.

    \b
    Examples:
      pixlstash search "a lighthouse at dusk" --limit 10
      pixlstash search --similar 42 --in-set Best
      pixlstash search --image ~/ref.png --threshold 0.3 --json
    """
    if not query and not similar and not image:
        raise click.UsageError("give words to search for, or --similar ID / --image FILE")
    with open_library(library_path, pm) as library:
        f, _ = filter_from_args(library, where)
        if query and not (similar or image):
            result = library.search.semantic(query, engine_id=engine, f=f, threshold=threshold, limit=limit)
        else:
            images = [open_query_image(path, library.limits) for path in image]
            result = library.search.similar(
                picture_ids=list(similar),
                images=images,
                engine_id=engine,
                combine=combine,
                f=f,
                threshold=threshold,
                limit=limit,
            )
        names = library.pictures.original_names([hit.picture.id for hit in result.hits])
    if as_json:
        print_json(result)
        return 0
    if result.exact:
        print("the vector index is being rebuilt: these results were scored over every vector", file=sys.stderr)
    if not result.hits:
        print(f"no matches ({result.engine_id})")
        return 0
    rows = [
        (
            hit.picture.id,
            f"{hit.similarity:.3f}",
            names.get(hit.picture.id, "") + ("  MISSING" if hit.picture.missing else ""),
            f"{hit.picture.width}x{hit.picture.height}",
        )
        for hit in result.hits
    ]
    print_table(
        [
            Column("ID", right=True),
            Column("LIKENESS", right=True),
            Column("FILE", wide=True),
            Column("PIXELS", right=True),
        ],
        rows,
    )
    return 0
