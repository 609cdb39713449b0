"""``pixlstash faces``: people in the library: unnamed people, naming them, suggestions for a character."""

from __future__ import annotations

import msgspec

from .common import add_library_option, print_json
from .library_options import open_library, resolve_collection


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "faces",
        help="people: unnamed faces grouped by person, naming them, suggestions for a character",
        description="Faces found by a face engine (pixlstash enrich --task faces) are grouped into people. "
        "Name a person to make a character of it; a character's suggestions are unnamed faces like its faces.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    def action(name: str, help: str, func) -> object:  # noqa: A002 - argparse's own word
        sub = actions.add_parser(name, help=help)
        add_library_option(sub)
        sub.set_defaults(func=func)
        return sub

    people = action("people", "unnamed people, largest first", run_people)
    people.add_argument("--min-faces", type=int, default=2, metavar="N", help="people with at least N faces")
    people.add_argument("--limit", type=int, default=100)
    people.add_argument("--json", action="store_true", help="print JSON")
    named = action("named", "characters as people: named faces and a cover face each", run_named)
    named.add_argument("--json", action="store_true", help="print JSON")
    of = action("of", "the faces named as a character, automatic and least confident first", run_of)
    of.add_argument("character", help="the character (id or name)")
    of.add_argument("--limit", type=int, default=50)
    of.add_argument("--json", action="store_true", help="print JSON")
    name = action("name", "name an unnamed person: a character of all its faces", run_name)
    name.add_argument("person", type=int, help="the person's id (from `pixlstash faces people`)")
    target = name.add_mutually_exclusive_group(required=True)
    target.add_argument("--character", metavar="CHARACTER", help="an existing character (id or name)")
    target.add_argument("--new", metavar="NAME", help="a new character of this name")
    suggest = action("suggest", "faces like a character's faces, best first", run_suggest)
    suggest.add_argument("character", help="the character (id or name)")
    suggest.add_argument("--combine", choices=["mean", "min"], default="mean", help="mean or least likeness")
    suggest.add_argument("--threshold", type=float, help="only faces at least this alike")
    suggest.add_argument("--limit", type=int, default=20)
    suggest.add_argument("--accept", action="store_true", help="name every suggestion shown as the character")
    suggest.add_argument("--json", action="store_true", help="print JSON")
    for verb, func, help_text in (
        ("accept", run_accept, "name faces as a character (their pictures join it)"),
        ("reject", run_reject, "never suggest these faces for a character again"),
        ("remove", run_remove, "split wrong faces out of a character (unnamed, never suggested for it again)"),
    ):
        sub = action(verb, help_text, func)
        sub.add_argument("character", help="the character (id or name)")
        sub.add_argument("faces", type=int, nargs="+", metavar="FACE")
    merge = action("merge", "fold one character into another", run_merge)
    merge.add_argument("character", help="the character to fold (id or name)")
    merge.add_argument("into", help="the character that stays (id or name)")
    recluster = action("recluster", "group every unnamed face into people again, from scratch", run_recluster)
    recluster.add_argument("--threshold", type=float, help="likeness at which two faces are one person")


def run_people(args, pm) -> int:
    with open_library(args, pm) as library:
        people = library.people.unnamed(min_faces=args.min_faces, limit=args.limit)
        if args.json:
            print_json(people)
        elif not people:
            print("no unnamed people (faces come from `pixlstash enrich --task faces`)")
        for person in people if not args.json else ():
            print(
                f"person {person.cluster_id:>7}  {person.faces:>5} faces in {person.pictures:>5} pictures  "
                f"(cover: picture {person.cover_picture_id}, face {person.cover_face_id})"
            )
    return 0


def run_named(args, pm) -> int:
    with open_library(args, pm) as library:
        people = library.people.named()
        if args.json:
            print_json(people)
        elif not people:
            print("no characters yet (name a person: `pixlstash faces name PERSON --new NAME`)")
        for person in people if not args.json else ():
            automatic = f", {person.automatic} named automatically" if person.automatic else ""
            counts = f"{person.faces} faces{automatic}, {person.pictures} pictures"
            print(f"character {person.character_id:>5}  {person.name}: {counts}")
    return 0


def run_of(args, pm) -> int:
    with open_library(args, pm) as library:
        character_id = resolve_collection(library, "character", args.character)
        faces = library.people.character_faces(character_id, limit=args.limit)
        if args.json:
            print_json(faces)
        elif not faces:
            print(f"no faces are named {library.collections.collection(character_id).name} yet")
        for face in faces if not args.json else ():
            how = "  (named automatically)" if face.automatic else ""
            print(f"face {face.face_id:>7}  picture {face.picture_id:>7}  detection {face.score:.2f}{how}")
    return 0


def run_name(args, pm) -> int:
    with open_library(args, pm) as library:
        character_id = resolve_collection(library, "character", args.character) if args.character else None
        named = library.people.name_cluster(args.person, character_id=character_id, name=args.new)
        print(f"character {named.id} {named.name!r}: {named.member_count} pictures")
    return 0


def run_suggest(args, pm) -> int:
    with open_library(args, pm) as library:
        character_id = resolve_collection(library, "character", args.character)
        hits = library.people.suggestions(
            character_id, combine=args.combine, threshold=args.threshold, limit=args.limit
        )
        if args.json:
            print_json(hits)
        for hit in hits if not args.json else ():
            print(f"face {hit.face_id:>7}  picture {hit.picture.id:>7}  likeness {hit.similarity:.3f}")
        if args.accept and hits:
            count = library.people.accept(character_id, [hit.face_id for hit in hits])
            print(f"named {count} faces as {library.collections.collection(character_id).name}")
    return 0


def run_accept(args, pm) -> int:
    with open_library(args, pm) as library:
        character_id = resolve_collection(library, "character", args.character)
        print(f"named {library.people.accept(character_id, args.faces)} faces")
    return 0


def run_reject(args, pm) -> int:
    with open_library(args, pm) as library:
        character_id = resolve_collection(library, "character", args.character)
        print(f"{library.people.reject(character_id, args.faces)} faces will not be suggested again")
    return 0


def run_remove(args, pm) -> int:
    with open_library(args, pm) as library:
        character_id = resolve_collection(library, "character", args.character)
        count = library.people.remove_faces(character_id, args.faces)
        print(f"{count} faces are no longer {library.collections.collection(character_id).name}")
    return 0


def run_merge(args, pm) -> int:
    with open_library(args, pm) as library:
        source = resolve_collection(library, "character", args.character)
        merged = library.people.merge(source, resolve_collection(library, "character", args.into))
        print(f"character {merged.id} {merged.name!r}: {merged.member_count} pictures")
    return 0


def run_recluster(args, pm) -> int:
    with open_library(args, pm) as library:
        if args.threshold is not None:
            settings = msgspec.structs.replace(library.people.settings(), cluster_threshold=args.threshold)
            library.people.configure(settings)
        placed = library.people.clustering.rebuild()
        print(f"grouped {placed} unnamed faces into {len(library.people.unnamed(min_faces=1, limit=1_000_000))} people")
    return 0
