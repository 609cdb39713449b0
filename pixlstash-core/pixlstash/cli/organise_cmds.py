"""``pixlstash project|set|character create|list|rename|delete|show``: what pictures are filed under."""

from __future__ import annotations

import click

from ..domain import PictureFilter
from ..errors import Conflict
from ..library import Library
from .common import SectionedCommand, json_option, library_option, print_json
from .library_options import named, open_library, resolve_collection, resolve_project
from .output import Column, counted, print_table

__all__ = ["character_group", "project_group", "set_group"]

_SHOWN = 20  # pictures `show` lists


def _refuse_taken(library: Library, kind: str, name: str, except_id: int | None = None) -> None:
    """Names are unique per kind (any case), so a name always finds one thing."""
    if kind == "project":
        taken = [p.id for p in library.collections.projects() if p.name.casefold() == name.casefold()]
    else:
        taken = [c.id for c in library.collections.collections(kind) if c.name.casefold() == name.casefold()]
    if [i for i in taken if i != except_id]:
        raise Conflict(f"there is a {kind} named {name!r} already (id {taken[0]}): choose another name")


def _resolve(library: Library, kind: str, value: str) -> int:
    return resolve_project(library, value) if kind == "project" else resolve_collection(library, kind, value)


def _make_group(kind: str, plural: str, examples: str) -> click.Group:
    @click.group(kind)
    def group() -> None:
        pass

    group.help = (
        f"{plural.capitalize()}: create, list, rename, delete and show them.\n\nA name or an id names one. "
        f"Deleting never deletes pictures.\n\n\b\nExamples:\n{examples}"
    )

    @group.command("create", cls=SectionedCommand)
    @library_option
    @click.argument("name")
    @click.option("--description", default="", help="a longer description")
    @json_option
    @click.pass_obj
    def create(pm, library_path, name, description, as_json, **extra) -> int:
        with open_library(library_path, pm) as library:
            _refuse_taken(library, kind, name)
            if kind == "project":
                made = library.edits.create_project(name, description)
            else:
                project = resolve_project(library, extra.get("project"))
                made = library.edits.create_collection(kind, name, project, description)
        print_json(made) if as_json else print(f"created {kind} {made.id} {made.name!r}")
        return 0

    create.help = f"Create a {kind}."
    if kind != "project":
        create = click.option("--project", metavar="PROJECT", help="inside this project (id or name)")(create)

    @group.command("list", cls=SectionedCommand)
    @library_option
    @json_option
    @click.pass_obj
    def listing(pm, library_path, as_json, **extra) -> int:
        with open_library(library_path, pm) as library:
            projects = {p.id: p.name for p in library.collections.projects()}
            if kind == "project":
                items = library.collections.projects()
            else:
                inside = resolve_project(library, extra.get("project"))
                items = library.collections.collections(kind, project_id=inside)
        if as_json:
            print_json(items)
        elif not items:
            print(f"no {plural} yet (pixlstash {kind} create NAME)")
        elif kind == "project":
            print_table(
                [Column("ID", right=True), Column("NAME", wide=True), Column("PICTURES", right=True)],
                [(p.id, p.name, f"{p.picture_count:,}") for p in items],
            )
        else:
            print_table(
                [
                    Column("ID", right=True),
                    Column("NAME", wide=True),
                    Column("PICTURES", right=True),
                    Column("PROJECT"),
                ],
                [(c.id, c.name, f"{c.member_count:,}", projects.get(c.project_id, "")) for c in items],
            )
        return 0

    listing.help = f"List {plural}" + ("." if kind == "project" else " (of one project with --project).")
    if kind != "project":
        listing = click.option("--project", metavar="PROJECT", help="only those in this project")(listing)

    @group.command("rename", cls=SectionedCommand)
    @library_option
    @click.argument(kind)
    @click.argument("new_name", metavar="NEW_NAME")
    @click.pass_obj
    def rename(pm, library_path, new_name, **given) -> int:
        with open_library(library_path, pm) as library:
            item_id = _resolve(library, kind, given[kind])
            old = named(library, kind, item_id).name
            _refuse_taken(library, kind, new_name, except_id=item_id)
            if kind == "project":
                library.edits.edit_details("project", item_id, name=new_name)
            else:
                library.edits.edit_details("collection", item_id, name=new_name)
        print(f"renamed {kind} {item_id} {old!r} to {new_name!r}")
        return 0

    rename.help = f"Rename a {kind}."

    @group.command("delete", cls=SectionedCommand)
    @library_option
    @click.argument(kind)
    @click.pass_obj
    def delete(pm, library_path, **given) -> int:
        with open_library(library_path, pm) as library:
            item_id = _resolve(library, kind, given[kind])
            item = named(library, kind, item_id)
            if kind == "project":
                library.edits.delete_project(item_id)
            else:
                library.edits.delete_collection(item_id)
        stays = "its sets and characters stay, outside any project" if kind == "project" else "its pictures stay"
        print(f"deleted {kind} {item_id} {item.name!r}; {stays} (a snapshot restore brings it back)")
        return 0

    delete.help = f"Delete a {kind} (never its pictures)."

    @group.command("show", cls=SectionedCommand)
    @library_option
    @click.argument(kind)
    @json_option
    @click.pass_obj
    def show(pm, library_path, as_json, **given) -> int:
        with open_library(library_path, pm) as library:
            item_id = _resolve(library, kind, given[kind])
            item = named(library, kind, item_id)
            members = library.collections.collections(project_id=item_id) if kind == "project" else []
            scope = PictureFilter(project=item_id) if kind == "project" else PictureFilter(collections=[item_id])
            page = library.page(scope, limit=_SHOWN)
            names = library.pictures.original_names([p.id for p in page.items])
            count = library.count(scope)
        if as_json:
            print_json({kind: item, "pictures": count, "members": members, "first_pictures": page.items})
            return 0
        print(f"{kind} {item.id} {item.name!r}: {counted(count, 'picture')}")
        if item.description:
            print(item.description)
        for member in members:
            print(f"  {member.kind} {member.id} {member.name!r}: {counted(member.member_count, 'picture')}")
        if page.items:
            print_table(
                [Column("ID", right=True), Column("FILE", wide=True)], [(p.id, names.get(p.id, "")) for p in page.items]
            )
            if count > len(page.items):
                print(f"... and {count - len(page.items):,} more (pixlstash ls --in-{kind} {item.id})")
        return 0

    show.help = f"A {kind}'s details and first pictures."
    return group


project_group = _make_group(
    "project",
    "projects",
    "  pixlstash project create Travel\n  pixlstash project list\n  pixlstash project show Travel",
)
set_group = _make_group(
    "set",
    "picture sets",
    "  pixlstash set create Landscapes --project Portraits\n  pixlstash set rename Landscapes Favourites\n"
    "  pixlstash set show Favourites",
)
character_group = _make_group(
    "character",
    "characters",
    "  pixlstash character create Bea\n  pixlstash character list\n  pixlstash character delete Bea",
)
