"""``pixlstash faces``: people in the library: unnamed people, naming them, suggestions for a character."""

from __future__ import annotations

import click
import msgspec

from .common import SectionedCommand, json_option, library_option, print_json
from .library_options import open_library, resolve_collection


@click.group("faces")
def faces_group() -> None:
    """People: unnamed faces grouped by person, naming them, suggestions for a character.

    Faces come from a face engine (pixlstash enrich --task faces) and are grouped into people. Naming a
    person makes a character of it; a character's suggestions are unnamed faces like its faces.

    \b
    Examples:
      pixlstash faces people
      pixlstash faces name 17 --new Alice
      pixlstash faces suggest Alice --threshold 0.5 --accept
    """


def _action(name: str):
    return faces_group.command(name, cls=SectionedCommand)


_character = click.argument("character")


@_action("people")
@library_option
@click.option("--min-faces", type=int, default=2, show_default=True, metavar="N", help="people with at least N faces")
@click.option("--limit", type=int, default=100, show_default=True)
@json_option
@click.pass_obj
def people_command(pm, library_path, min_faces, limit, as_json) -> int:
    """Unnamed people, largest first."""
    with open_library(library_path, pm) as library:
        people = library.people.unnamed(min_faces=min_faces, limit=limit)
    if as_json:
        print_json(people)
    elif not people:
        print("no unnamed people (faces come from `pixlstash enrich --task faces`)")
    for person in people if not as_json else ():
        print(
            f"person {person.cluster_id:>7}  {person.faces:>5} faces in {person.pictures:>5} pictures  "
            f"(cover: picture {person.cover_picture_id}, face {person.cover_face_id}; by {person.engine_id})"
        )
    return 0


@_action("named")
@library_option
@json_option
@click.pass_obj
def named_command(pm, library_path, as_json) -> int:
    """Characters as people: named faces and a cover face each."""
    with open_library(library_path, pm) as library:
        people = library.people.named()
    if as_json:
        print_json(people)
    elif not people:
        print("no characters yet (name a person: `pixlstash faces name PERSON --new NAME`)")
    for person in people if not as_json else ():
        automatic = f", {person.automatic} named automatically" if person.automatic else ""
        counts = f"{person.faces} faces{automatic}, {person.pictures} pictures"
        print(f"character {person.character_id:>5}  {person.name}: {counts}")
    return 0


@_action("of")
@library_option
@_character
@click.option("--limit", type=int, default=50, show_default=True)
@json_option
@click.pass_obj
def of_command(pm, library_path, character, limit, as_json) -> int:
    """The faces named as a character, automatic and least confident first."""
    with open_library(library_path, pm) as library:
        character_id = resolve_collection(library, "character", character)
        faces = library.people.character_faces(character_id, limit=limit)
        if as_json:
            print_json(faces)
        elif not faces:
            print(f"no faces are named {library.collections.collection(character_id).name} yet")
    for face in faces if not as_json else ():
        how = "  (named automatically)" if face.automatic else ""
        print(f"face {face.face_id:>7}  picture {face.picture_id:>7}  detection {face.score:.2f}{how}")
    return 0


@_action("name")
@library_option
@click.argument("person", type=int)
@click.option("--character", metavar="CHARACTER", help="an existing character (id or name)")
@click.option("--new", metavar="NAME", help="a new character of this name")
@click.pass_obj
def name_command(pm, library_path, person, character, new) -> int:
    """Name an unnamed person (an id from `pixlstash faces people`): a character of all its faces."""
    if bool(character) == bool(new):
        raise click.UsageError("give one of --character CHARACTER or --new NAME")
    with open_library(library_path, pm) as library:
        character_id = resolve_collection(library, "character", character) if character else None
        named = library.people.name_cluster(person, character_id=character_id, name=new)
    print(f"character {named.id} {named.name!r}: {named.member_count} pictures")
    return 0


@_action("suggest")
@library_option
@_character
@click.option("--combine", type=click.Choice(["mean", "min"]), default="mean", help="mean or least likeness")
@click.option("--threshold", type=float, help="only faces at least this alike")
@click.option("--limit", type=int, default=20, show_default=True)
@click.option("--accept", is_flag=True, help="name every suggestion shown as the character")
@json_option
@click.pass_obj
def suggest_command(pm, library_path, character, combine, threshold, limit, accept, as_json) -> int:
    """Faces like a character's faces, best first."""
    with open_library(library_path, pm) as library:
        character_id = resolve_collection(library, "character", character)
        hits = library.people.suggestions(character_id, combine=combine, threshold=threshold, limit=limit)
        if as_json:
            print_json(hits)
        for hit in hits if not as_json else ():
            print(f"face {hit.face_id:>7}  picture {hit.picture.id:>7}  likeness {hit.similarity:.3f}")
        if accept and hits:
            count = library.people.accept(character_id, [hit.face_id for hit in hits])
            print(f"named {count} faces as {library.collections.collection(character_id).name}")
    return 0


def _face_verb(name: str, summary: str, say):
    @_action(name)
    @library_option
    @_character
    @click.argument("faces", type=int, nargs=-1, required=True, metavar="FACE...")
    @click.pass_obj
    def command(pm, library_path, character, faces) -> int:
        with open_library(library_path, pm) as library:
            character_id = resolve_collection(library, "character", character)
            print(say(library, character_id, list(faces)))
        return 0

    command.help = summary
    return command


_face_verb(
    "accept",
    "Name faces as a character (their pictures join it).",
    lambda library, cid, faces: f"named {library.people.accept(cid, faces)} faces",
)
_face_verb(
    "reject",
    "Never suggest these faces for a character again.",
    lambda library, cid, faces: f"{library.people.reject(cid, faces)} faces will not be suggested again",
)
_face_verb(
    "remove",
    "Split wrong faces out of a character (unnamed, never suggested for it again).",
    lambda library, cid, faces: (
        f"{library.people.remove_faces(cid, faces)} faces are no longer {library.collections.collection(cid).name}"
    ),
)


@_action("merge")
@library_option
@_character
@click.argument("into")
@click.pass_obj
def merge_command(pm, library_path, character, into) -> int:
    """Fold one character into another (INTO stays)."""
    with open_library(library_path, pm) as library:
        source = resolve_collection(library, "character", character)
        merged = library.people.merge(source, resolve_collection(library, "character", into))
    print(f"character {merged.id} {merged.name!r}: {merged.member_count} pictures")
    return 0


@_action("recluster")
@library_option
@click.option("--threshold", type=float, help="likeness at which two faces are one person")
@click.pass_obj
def recluster_command(pm, library_path, threshold) -> int:
    """Group every unnamed face into people again, from scratch."""
    with open_library(library_path, pm) as library:
        if threshold is not None:
            library.people.configure(msgspec.structs.replace(library.people.settings(), cluster_threshold=threshold))
        placed = library.people.clustering.rebuild()
        people = len(library.people.unnamed(min_faces=1, limit=1_000_000))
    print(f"grouped {placed} unnamed faces into {people} people")
    return 0
