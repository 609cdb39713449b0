"""Opening the library and reading the picture filter from command-line options."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from types import SimpleNamespace

import click
import msgspec

from ..accounts import uploads_private
from ..auth import Authenticator
from ..domain import SORT_COLUMNS, PictureFilter, Sort
from ..engines import Task
from ..errors import BadInput, NotFound, plugin_hint
from ..library import Library
from ..pictures.visibility import Audience, enter
from ..system.paths import resolve_library_path
from .common import option

__all__ = [
    "ActingFor",
    "acting_for",
    "export_options",
    "filter_from_args",
    "filter_options",
    "narrowed_to_source",
    "open_library",
    "resolve_collection",
    "resolve_project",
]


def open_library(library_path: str | None, pm, *, create: bool = False) -> Library:
    """The library at ``--library`` (or the default). Only commands that put something in (import, adding
    a folder, settings, the services) make one where there is none: any other on a mistyped path would
    work on, back up or report an empty library as if it were the user's. With ``pixlstash --as NAME``, what
    the command does is done for that account (see ``acting_for``)."""
    library = Library.open(resolve_library_path(library_path), plugin_manager=pm, create=create)
    try:
        acting = acting_for(library.root)
    except BaseException:
        library.close()
        raise
    if acting is not None:
        # For this command only (main runs each in a context of its own): it sees, lists and undoes as that
        # account.
        enter(acting.audience)
    return library


class ActingFor(msgspec.Struct, frozen=True):
    audience: Audience
    uploads_private: bool  # the account's own default for what it brings in


def acting_for(root: Path) -> ActingFor | None:
    """The account ``pixlstash --as NAME`` names, if any: the command sees what that account sees, imports
    pictures as its own (private as its default says), and its undo reads that account's steps."""
    context = click.get_current_context(silent=True)
    name = context.find_root().meta.get("as_account") if context is not None else None
    if not name:
        return None
    auth = Authenticator(root)
    try:
        row = auth.store.account_named(name)
    finally:
        auth.close()
    if row is None:
        raise NotFound(f"no account named {name!r} (`pixlstash user list` shows them)")
    if row.disabled_at is not None:
        raise BadInput(f"{row.username} is disabled: enable it first (`pixlstash user enable {row.username}`)")
    owner = row.role == "owner"
    return ActingFor(Audience(row.id, owner or row.role == "admin", owner), uploads_private(row))


def resolve_project(library: Library, value: str | None) -> int | None:
    """A project by id or (case-insensitive) name."""
    if value is None:
        return None
    if value.isdigit():
        return library.collections.project(int(value)).id
    return _the_one_named("project", library.collections.projects(), value)


def resolve_collection(library: Library, kind: str, value: str) -> int:
    """A set or character by id or (case-insensitive) name."""
    if value.isdigit():
        return library.collections.collection(int(value), kind).id
    return _the_one_named(kind, library.collections.collections(kind), value)


def _the_one_named(kind: str, candidates, value: str) -> int:
    """The id of the one of ``candidates`` named ``value`` (any case); two of one name (two people's private
    projects, say, both seen by an admin) ask for the id."""
    matches = [c.id for c in candidates if c.name.lower() == value.lower()]
    if not matches:
        raise NotFound(f"no {kind} named {value!r}")
    if len(matches) > 1:
        raise BadInput(f"several {kind}s are named {value!r}; give its id ({', '.join(map(str, matches))})")
    return matches[0]


def named(library: Library, kind: str, item_id: int):
    """The project, set or character of this kind and id (``NotFound`` when there is none)."""
    return library.collections.project(item_id) if kind == "project" else library.collections.collection(item_id)


def ensure_project(library: Library, value: str | None, created: list[str]) -> int | None:
    """A project by id or name, made when no project has that name (and noted in ``created``)."""
    if value is None:
        return None
    try:
        return resolve_project(library, value)
    except NotFound:
        if value.isdigit():
            raise
    created.append(f"project {value!r}")
    return library.edits.create_project(value).id


def ensure_collection(library: Library, kind: str, value: str, created: list[str]) -> int:
    """A set or character by id or name, made when none has that name (and noted in ``created``)."""
    try:
        return resolve_collection(library, kind, value)
    except NotFound:
        if value.isdigit():
            raise
    created.append(f"{kind} {value!r}")
    return library.edits.create_collection(kind, value).id


class _Date(click.ParamType):
    name = "DATE"

    def convert(self, value, param, ctx) -> int:
        if isinstance(value, int):
            return value
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            self.fail(f"not an ISO date: {value!r} (e.g. 2026-05-31)", param, ctx)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return int(moment.timestamp() * 1000)


def _filter(*declarations: str, **attrs):
    return option(*declarations, section="Filters", **attrs)


def _many(*declarations: str, **attrs):
    return _filter(*declarations, multiple=True, **attrs)


_FILTERS = (
    _many("--tag", metavar="TAG", help="has this tag (repeatable: all of them)"),
    _many("--any-tag", metavar="TAG", help="has at least one of these (repeatable)"),
    _many("--not-tag", metavar="TAG", help="has none of these (repeatable)"),
    _filter("--rating-min", type=click.IntRange(0, 5), metavar="N", help="rated N stars or more"),
    _filter(
        "--rating-max",
        type=click.IntRange(0, 5),
        metavar="N",
        help="rated 1 to N stars (unrated pictures are not: add --unrated for them too)",
    ),
    _filter("--unrated", is_flag=True, help="only unrated pictures (with --rating-max: those as well)"),
    _filter("--favourite", is_flag=True, help="only favourites"),
    _filter("--in-project", metavar="PROJECT", help="in this project (id or name)"),
    _many("--in-set", metavar="SET", help="in this set (id or name; repeatable)"),
    _many("--in-character", metavar="CHARACTER", help="of this character (id or name; repeatable)"),
    _filter(
        "--op",
        type=click.Choice(["union", "overlap", "difference", "unique"]),
        default="union",
        show_default=True,
        help="how several sets/characters combine",
    ),
    _filter("--media-type", type=click.Choice(["image", "video"])),
    _filter("--taken-after", type=_Date(), help="taken on or after this date (2026-05-31)"),
    _filter("--taken-before", type=_Date(), help="taken before this date"),
    _filter("--min-width", type=click.IntRange(min=0), metavar="PX"),
    _filter("--min-height", type=click.IntRange(min=0), metavar="PX"),
    _filter("--text", help="words anywhere in captions, prompts, generation data or file names"),
    _many("--lora", metavar="NAME", help="generated with a LoRA whose name holds NAME (repeatable: all)"),
    _filter("--checkpoint", metavar="NAME", help="generated with a checkpoint whose name holds NAME"),
    _filter("--seed", metavar="SEED", help="generated with exactly this seed"),
    _filter("--sampler", metavar="NAME", help="generated with this sampler (euler_ancestral, DPM++ 2M, ...)"),
    _filter("--scheduler", metavar="NAME", help="generated with this scheduler (karras, normal, ...)"),
    _filter("--steps", type=click.IntRange(min=1), metavar="N", help="generated in exactly N steps"),
    _filter("--duplicates", is_flag=True, help="only pictures with near-duplicates"),
    _filter("--faces/--no-faces", default=None, help="only pictures with (without) faces"),
    _filter("--min-faces", type=click.IntRange(min=0), metavar="N", help="at least N faces"),
    _filter("--unnamed-faces", is_flag=True, help="with a face no character names yet"),
    _filter("--source", type=int, metavar="ID", help="from this import source"),
    _filter("--folder", type=int, metavar="ID", help="from this import or reference folder"),
    _filter(
        "--has-text/--no-text",
        default=None,
        help="with (without) text in the picture, as a text reader (OCR) read it; unread pictures are neither",
    ),
    _filter(
        "--ai-generated/--not-ai-generated",
        default=None,
        help="made by generative AI (generation data, or its IPTC digital source type says so), or not",
    ),
    _filter(
        "--c2pa",
        type=click.Choice(["trusted", "valid", "invalid", "none"]),
        help="Content Credentials that verify (trusted: signer on the trust list), do not, or are absent",
    ),
    _filter("--score", metavar="SCORER", help="scored by this scorer (quality, aesthetic, or an engine id)"),
    _filter("--score-min", type=float, metavar="X", help="scored X or more (by --score, or the --sort scorer)"),
    _filter("--score-max", type=float, metavar="X", help="scored less than X"),
    _filter("--scrapheap", is_flag=True, help="the scrapheap instead of the library"),
    _filter("--in-stack", type=click.IntRange(min=0), metavar="ID", help="the pictures of this stack"),
    _filter(
        "--stack-covers", is_flag=True, help="one picture per stack, its cover (else a stack counts as all of them)"
    ),
)
_ORDER = (
    option(
        "--sort",
        section="Order",
        default="taken_at",
        show_default=True,
        metavar="ORDER",
        help=f"{', '.join(SORT_COLUMNS)}, or score:SCORER (score:quality, score:clip/aesthetic)",
    ),
    option("--ascending", section="Order", is_flag=True, help="oldest / smallest first"),
    option("--shuffle-seed", section="Order", type=int, default=0, help="seed for --sort random"),
)
_NAMES = [
    "tag",
    "any_tag",
    "not_tag",
    "rating_min",
    "rating_max",
    "unrated",
    "favourite",
    "in_project",
    "in_set",
    "in_character",
    "op",
    "media_type",
    "taken_after",
    "taken_before",
    "min_width",
    "min_height",
    "text",
    "lora",
    "checkpoint",
    "seed",
    "sampler",
    "scheduler",
    "steps",
    "duplicates",
    "faces",
    "min_faces",
    "unnamed_faces",
    "source",
    "folder",
    "has_text",
    "ai_generated",
    "c2pa",
    "score",
    "score_min",
    "score_max",
    "scrapheap",
    "in_stack",
    "stack_covers",
    "sort",
    "ascending",
    "shuffle_seed",
]


def filter_options(func=None, *, order: bool = True):
    """Add the library's filter flags (and, unless ``order=False``, the order flags) to a command; they
    reach it as one ``where`` argument. ``@filter_options`` or ``@filter_options(order=False)``."""
    if func is None:
        return functools.partial(filter_options, order=order)
    names = _NAMES if order else _NAMES[: _NAMES.index("sort")]

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        where = SimpleNamespace(**{"sort": "taken_at", "ascending": False, "shuffle_seed": 0})
        where.__dict__.update({name: kwargs.pop(name) for name in names})
        return func(*args, where=where, **kwargs)

    for decorate in reversed((*_FILTERS, *_ORDER) if order else _FILTERS):
        wrapper = decorate(wrapper)
    return wrapper


def filter_from_args(library: Library, where) -> tuple[PictureFilter, Sort]:
    """The filter and sort the flags describe (sets, characters and projects looked up by name or id)."""
    sort_key = _sort_key(library, where.sort)
    scorer = resolve_scorer(library, where.score) if where.score else None
    if scorer is None and (where.score_min is not None or where.score_max is not None):
        if not sort_key.startswith("score:"):
            raise BadInput("--score-min and --score-max need the scorer: --score SCORER or --sort score:SCORER")
        scorer = sort_key.removeprefix("score:")
    collections = [resolve_collection(library, "set", v) for v in where.in_set]
    collections += [resolve_collection(library, "character", v) for v in where.in_character]
    f = PictureFilter(
        tags=list(where.tag),
        any_tags=list(where.any_tag),
        not_tags=list(where.not_tag),
        rating_min=where.rating_min,
        rating_max=where.rating_max,
        unrated=True if where.unrated else None,
        favourite=True if where.favourite else None,
        project=resolve_project(library, where.in_project),
        collections=collections,
        collection_op=where.op,
        media_type=where.media_type,
        taken_after=where.taken_after,
        taken_before=where.taken_before,
        min_width=where.min_width,
        min_height=where.min_height,
        text=where.text,
        loras=list(where.lora),
        checkpoint=where.checkpoint,
        generation_seed=where.seed,
        sampler=where.sampler,
        scheduler=where.scheduler,
        steps=where.steps,
        duplicates=True if where.duplicates else None,
        faces=where.faces,
        min_faces=where.min_faces,
        unnamed_faces=True if where.unnamed_faces else None,
        source=where.source,
        folder=where.folder,
        scrapheap=where.scrapheap,
        stack=where.in_stack,
        stack_covers=where.stack_covers,
        has_text=where.has_text,
        ai_generated=where.ai_generated,
        c2pa=where.c2pa,
        score_engine=scorer,
        score_min=where.score_min,
        score_max=where.score_max,
    )
    return f, Sort(key=sort_key, descending=not where.ascending, seed=where.shuffle_seed)


def _sort_key(library: Library, value: str) -> str:
    if value in SORT_COLUMNS:
        return value
    if value.startswith("score:") and value != "score:":
        return "score:" + resolve_scorer(library, value.removeprefix("score:"))
    raise BadInput(f"--sort takes {', '.join(SORT_COLUMNS)} or score:SCORER, not {value!r}")


def resolve_scorer(library: Library, name: str) -> str:
    """A scorer's engine id from its id or the part after the slash (quality, aesthetic, prompt-match),
    among the installed scorers and those whose scores are stored."""
    known = {e.id for e in library.engines.installed(Task.SCORER)} | set(library.scores.engines())
    if name in known:
        return name
    matches = sorted(engine_id for engine_id in known if engine_id.split("/", 1)[1] == name)
    if len(matches) == 1:
        return matches[0]
    choices = ", ".join(sorted(known)) or "none installed"
    what = "several scorers are" if matches else "no scorer is"
    raise BadInput(f"{what} called {name!r} (scorers: {choices}){'' if matches else plugin_hint(name)}")


def has_filter(where) -> bool:
    """Whether any filter flag was given (the order flags do not count)."""
    return any(getattr(where, name) not in (None, False, (), "union") for name in _NAMES[: _NAMES.index("sort")])


def narrowed_to_source(library, f: PictureFilter, value: str) -> tuple[PictureFilter, int | None, str]:
    """The filter narrowed to a SOURCE argument: a set, character or project (name or id); the set or
    character whose export options are remembered; its name."""
    for kind in ("set", "character"):
        try:
            collection = resolve_collection(library, kind, value)
        except NotFound:
            continue
        op = "overlap" if f.collections else f.collection_op  # in the source and in the --in-set ones
        narrowed = msgspec.structs.replace(f, collections=[collection, *f.collections], collection_op=op)
        return narrowed, collection, library.collections.collection(collection).name
    project = resolve_project(library, value)
    if f.project is not None and f.project != project:
        raise BadInput("give one project: as the source or with --in-project")
    return msgspec.structs.replace(f, project=project), None, library.collections.project(project).name


def export_options(library: Library, remember_for: int | None, given: dict):
    """The export options for a SOURCE: those remembered for its set or character (else the defaults), with
    the ``given`` fields over them, checked."""
    from ..training import ExportOptions  # (not for every command that takes filters: Pillow comes with it)

    base = library.training.remembered(remember_for) if remember_for else ExportOptions()
    return msgspec.convert({**msgspec.to_builtins(base), **given}, ExportOptions).check()
