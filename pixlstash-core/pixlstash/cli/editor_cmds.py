"""``pixlstash tag|rate|caption|add|remove|scrap|unscrap``: change pictures from the command line."""

from __future__ import annotations

import contextlib
import sys

import click

from .common import SectionedCommand, json_option, library_option, print_json
from .library_options import (
    ensure_collection,
    ensure_project,
    filter_options,
    named,
    open_library,
    resolve_collection,
    resolve_project,
)
from .output import counted
from .selection import PICTURES_HELP, picture_ids, picture_selection

__all__ = [
    "add_command",
    "caption_command",
    "rate_command",
    "remove_command",
    "scrap_command",
    "tag_group",
    "unscrap_command",
]

_pictures = click.argument("pictures", metavar="PICTURES")


def _help(summary: str, examples: str) -> str:
    return f"{summary}\n\n{PICTURES_HELP}\n\n\b\nExamples:\n{examples}"


@click.group("tag")
def tag_group() -> None:
    """Add tags to pictures or take them away."""


@tag_group.command("add", cls=SectionedCommand)
@library_option
@picture_selection
@click.argument("tags", nargs=-1, required=True, metavar="TAG...")
@click.pass_obj
def tag_add(pm, library_path, pictures, tags, where) -> int:
    with open_library(library_path, pm) as library:
        ids = picture_ids(library, pictures, where)
        library.edits.tag(ids, add=list(tags))
    print(f"tagged {counted(len(ids), 'picture')} with {', '.join(tags)}")
    return 0


tag_add.help = _help(
    "Add tags to pictures.",
    "  pixlstash tag add 12,14 cat outdoors\n  pixlstash tag add where lighthouse --text lighthouse",
)


@tag_group.command("remove", cls=SectionedCommand)
@library_option
@picture_selection
@click.argument("tags", nargs=-1, required=True, metavar="TAG...")
@click.pass_obj
def tag_remove(pm, library_path, pictures, tags, where) -> int:
    with open_library(library_path, pm) as library:
        ids = picture_ids(library, pictures, where)
        library.edits.tag(ids, remove=list(tags))
    print(f"removed {', '.join(tags)} from {counted(len(ids), 'picture')}")
    return 0


tag_remove.help = _help("Take tags away from pictures.", "  pixlstash tag remove where cat --in-set Dogs")


@click.command("rate", cls=SectionedCommand)
@library_option
@picture_selection
@click.argument("stars", type=click.IntRange(0, 5), metavar="STARS")
@click.pass_obj
def rate_command(pm, library_path, pictures, stars, where) -> int:
    with open_library(library_path, pm) as library:
        ids = picture_ids(library, pictures, where)
        library.edits.set_fields(ids, rating=stars)
    print(
        f"rated {counted(len(ids), 'picture')} {stars} star{'s' if stars != 1 else ''}"
        if stars
        else f"cleared the rating of {counted(len(ids), 'picture')}"
    )
    return 0


rate_command.help = _help(
    "Rate pictures 1 to 5 stars (0 clears the rating).", "  pixlstash rate 12 5\n  pixlstash rate where 1 --tag blurry"
)


@click.command("caption", cls=SectionedCommand)
@library_option
@click.argument("picture", type=int)
@click.argument("text", required=False)
@click.option("--clear", is_flag=True, help="remove the picture's own caption")
@click.pass_obj
def caption_command(pm, library_path, picture, text, clear) -> int:
    """Write a picture's caption (TEXT, or `-` to read it from standard input).

    \b
    Examples:
      pixlstash caption 12 "a lighthouse at dusk, long exposure"
      pixlstash caption 12 - < caption.txt
      pixlstash caption 12 --clear
    """
    if clear == (text is not None):
        raise click.UsageError("give the caption TEXT, or --clear")
    if text == "-":
        text = sys.stdin.read().strip()
    if text is not None and not text.strip():
        raise click.UsageError("the caption is empty (--clear removes it)")
    with open_library(library_path, pm) as library:
        library.edits.caption(picture, None if clear else text.strip())
    print(f"cleared the caption of picture {picture}" if clear else f"captioned picture {picture}")
    return 0


def _destinations(prefix: str):
    def decorate(func):
        for kind, noun in (("project", "PROJECT"), ("character", "CHARACTER"), ("set", "SET")):
            help_text = f"{'to' if prefix == 'to' else 'from'} this {kind} (id or name" + (
                "; made if new)" if prefix == "to" else ")"
            )
            func = click.option(f"--{prefix}-{kind}", f"{kind}s", multiple=True, metavar=noun, help=help_text)(func)
        return func

    return decorate


def _in_one_step(edits, label: str, places: list[tuple[str, int]], each) -> None:
    """``each(kind, id)`` for every place; several places are one undo step (one alone keeps its own
    step's label)."""
    with edits.step(label) if len(places) > 1 else contextlib.nullcontext():
        for kind, place in places:
            each(kind, place)


@click.command("add", cls=SectionedCommand)
@library_option
@_pictures
@_destinations("to")
@json_option
@filter_options(order=False)
@click.pass_obj
def add_command(pm, library_path, pictures, projects, characters, sets, as_json, where) -> int:
    if not (projects or characters or sets):
        raise click.UsageError("say where to: --to-set SET, --to-character CHARACTER or --to-project PROJECT")
    created: list[str] = []
    with open_library(library_path, pm) as library:
        ids = picture_ids(library, pictures, where)
        targets = [("project", ensure_project(library, p, created)) for p in projects]
        targets += [("character", ensure_collection(library, "character", c, created)) for c in characters]
        targets += [("set", ensure_collection(library, "set", s, created)) for s in sets]
        for made in created:
            print(f"created {made}", file=sys.stderr)
        names = [f"{kind} {_name(library, kind, target)!r}" for kind, target in targets]
        edits = library.edits
        _in_one_step(
            edits,
            f"Add {counted(len(ids), 'picture')} to {', '.join(names)}",
            targets,
            lambda kind, target: (edits.add_to_project if kind == "project" else edits.add_members)(target, ids),
        )
    if as_json:
        print_json({"pictures": len(ids), "added_to": [{"type": k, "id": t} for k, t in targets]})
    else:
        print(f"added {counted(len(ids), 'picture')} to {', '.join(names)}")
    return 0


add_command.help = _help(
    "File pictures under sets, characters or projects (made when new).",
    "  pixlstash add 12,14,20-30 --to-set Best\n  pixlstash ls --tag cat --ids | pixlstash add - --to-set Cats\n"
    "  pixlstash add where --to-character Alice --text alice",
)


@click.command("remove", cls=SectionedCommand)
@library_option
@_pictures
@_destinations("from")
@filter_options(order=False)
@click.pass_obj
def remove_command(pm, library_path, pictures, projects, characters, sets, where) -> int:
    if not (projects or characters or sets):
        raise click.UsageError("say from what: --from-set SET, --from-character CHARACTER or --from-project PROJECT")
    with open_library(library_path, pm) as library:
        ids = picture_ids(library, pictures, where)
        sources = [("project", resolve_project(library, p)) for p in projects]
        sources += [("character", resolve_collection(library, "character", c)) for c in characters]
        sources += [("set", resolve_collection(library, "set", s)) for s in sets]
        names = [f"{kind} {_name(library, kind, source)!r}" for kind, source in sources]
        edits = library.edits
        _in_one_step(
            edits,
            f"Remove {counted(len(ids), 'picture')} from {', '.join(names)}",
            sources,
            lambda kind, source: (edits.remove_from_project if kind == "project" else edits.remove_members)(
                source, ids
            ),
        )
    print(f"removed {counted(len(ids), 'picture')} from {', '.join(names)} (the pictures stay in the library)")
    return 0


remove_command.help = _help(
    "Take pictures out of sets, characters or projects (never out of the library).",
    "  pixlstash remove 14 --from-set Best\n  pixlstash remove where --from-character Alice --not-tag alice",
)


def _name(library, kind: str, item_id: int) -> str:
    return named(library, kind, item_id).name


@click.command("scrap", cls=SectionedCommand)
@library_option
@picture_selection
@click.pass_obj
def scrap_command(pm, library_path, pictures, where) -> int:
    with open_library(library_path, pm) as library:
        moved = library.edits.scrap(picture_ids(library, pictures, where))
    print(f"moved {counted(len(moved), 'picture')} to the scrapheap (pixlstash unscrap brings them back)")
    return 0


scrap_command.help = _help(
    "Move pictures to the scrapheap (their files stay until it is emptied).",
    "  pixlstash scrap 12,13\n  pixlstash scrap where --rating-max 1 --in-set Drafts",
)


@click.command("unscrap", cls=SectionedCommand)
@library_option
@picture_selection
@click.pass_obj
def unscrap_command(pm, library_path, pictures, where) -> int:
    with open_library(library_path, pm) as library:
        back = library.edits.unscrap(picture_ids(library, pictures, where))
    print(f"brought {counted(len(back), 'picture')} back from the scrapheap")
    return 0


unscrap_command.help = _help(
    "Bring pictures back from the scrapheap.",
    "  pixlstash unscrap 12\n  pixlstash unscrap where --scrapheap --tag keep",
)
