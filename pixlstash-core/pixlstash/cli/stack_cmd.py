"""``pixlstash stack create|show|add|take-out|cover|unstack|keep-cover|duplicates``: variants under a
cover. Each edit is one undo step (``pixlstash undo``)."""

from __future__ import annotations

import click

from ..domain import Stack
from .common import SectionedCommand, json_option, library_option, print_json
from .library_options import filter_options, open_library
from .output import counted
from .selection import PICTURES_HELP, picture_ids, picture_selection

__all__ = ["stack_group"]


@click.group("stack")
def stack_group() -> None:
    """Stacks: variants grouped under a cover. The browser's grid shows one tile per stack; everything
    else (filters, sets, exports) counts a stack as its pictures.

    \b
    Examples:
      pixlstash stack create 12,14,15 --cover 14
      pixlstash stack duplicates
      pixlstash stack keep-cover 3
    """


def _show(stack: Stack, as_json: bool) -> None:
    if as_json:
        print_json(stack)
    else:
        rest = ", ".join(map(str, stack.member_ids[1:]))
        print(f"stack {stack.id}: cover {stack.cover_id}, with {rest} ({stack.origin})")


@stack_group.command("create", cls=SectionedCommand)
@library_option
@click.argument("pictures", metavar="PICTURES")
@click.option("--cover", type=int, help="the cover picture (default: the first)")
@filter_options(order=False)
@json_option
@click.pass_obj
def create_command(pm, library_path, pictures, cover, where, as_json) -> int:
    """Stack pictures under a cover; they leave any stack they were in."""
    with open_library(library_path, pm) as library:
        _show(library.stacks.stack(picture_ids(library, pictures, where), cover), as_json)
    return 0


create_command.help += "\n\n" + PICTURES_HELP


@stack_group.command("show", cls=SectionedCommand)
@library_option
@click.argument("stack_id", type=int, metavar="STACK")
@json_option
@click.pass_obj
def show_command(pm, library_path, stack_id, as_json) -> int:
    """A stack: its cover first, then its other pictures."""
    with open_library(library_path, pm) as library:
        _show(library.stacks.get(stack_id), as_json)
    return 0


@stack_group.command("add", cls=SectionedCommand)
@library_option
@click.argument("stack_id", type=int, metavar="STACK")
@picture_selection
@json_option
@click.pass_obj
def add_command(pm, library_path, stack_id, pictures, where, as_json) -> int:
    """Add pictures to a stack."""
    with open_library(library_path, pm) as library:
        _show(library.stacks.add(stack_id, picture_ids(library, pictures, where)), as_json)
    return 0


@stack_group.command("take-out", cls=SectionedCommand)
@library_option
@picture_selection
@click.pass_obj
def take_out_command(pm, library_path, pictures, where) -> int:
    """Take pictures out of their stacks (a stack left with one picture is undone)."""
    with open_library(library_path, pm) as library:
        taken = library.stacks.take_out(picture_ids(library, pictures, where))
    print(f"took {counted(len(taken), 'picture')} out of their stacks")
    return 0


@stack_group.command("cover", cls=SectionedCommand)
@library_option
@click.argument("stack_id", type=int, metavar="STACK")
@click.argument("picture_id", type=int, metavar="PICTURE")
@json_option
@click.pass_obj
def cover_command(pm, library_path, stack_id, picture_id, as_json) -> int:
    """Make one of a stack's pictures its cover."""
    with open_library(library_path, pm) as library:
        _show(library.stacks.set_cover(stack_id, picture_id), as_json)
    return 0


@stack_group.command("unstack", cls=SectionedCommand)
@library_option
@click.argument("stack_id", type=int, metavar="STACK")
@click.pass_obj
def unstack_command(pm, library_path, stack_id) -> int:
    """Every picture of a stack back on its own (none is deleted)."""
    with open_library(library_path, pm) as library:
        members = library.stacks.unstack(stack_id)
    print(f"unstacked {counted(len(members), 'picture')}")
    return 0


@stack_group.command("keep-cover", cls=SectionedCommand)
@library_option
@click.argument("stack_id", type=int, metavar="STACK")
@click.pass_obj
def keep_cover_command(pm, library_path, stack_id) -> int:
    """Keep a stack's cover and move its other pictures to the scrapheap (pixlstash undo brings them back)."""
    with open_library(library_path, pm) as library:
        scrapped = library.stacks.keep_cover(stack_id)
    print(f"kept the cover; moved {counted(len(scrapped), 'picture')} to the scrapheap")
    return 0


@stack_group.command("duplicates", cls=SectionedCommand)
@library_option
@json_option
@click.pass_obj
def duplicates_command(pm, library_path, as_json) -> int:
    """Stack every group of near-duplicates under its largest picture (pictures already stacked stay)."""
    with open_library(library_path, pm) as library:
        made = library.stacks.from_duplicates(library.duplicate_groups())
    if as_json:
        print_json(made)
    else:
        print(f"made {counted(len(made), 'stack')} of near-duplicates")
    return 0
