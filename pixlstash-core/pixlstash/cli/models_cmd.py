"""``pixlstash models``: each engine's model, where its files are, whether they are here; and pulling them."""

from __future__ import annotations

from ..engines.registry import EngineRegistry
from ..errors import BadInput
from ..library import DATABASE_NAME, Library
from ..paths import resolve_library_path
from .common import add_library_option, print_json


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "models",
        help="engines' models: where their files are and whether they are present",
        description="List every installed engine's model. `pixlstash models pull ID` downloads one (the only "
        "time PixlStash fetches model files; run it on a machine with internet and copy the "
        "files over if this one has none).",
    )
    parser.add_argument("action", nargs="?", choices=["list", "pull"], default="list")
    parser.add_argument("engine", nargs="?", help="engine id, or a plugin name to pull all of its engines")
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_library_option(parser)  # its plugin settings choose which models are offered
    parser.set_defaults(func=run)


def _engines(args, pm) -> list:
    """The engines as the library's plugin settings configure them (the defaults when there is none yet)."""
    path = resolve_library_path(args.library)
    if not (path / DATABASE_NAME).exists():
        return EngineRegistry.from_plugin_manager(pm).all()
    with Library.open(path, plugin_manager=pm) as library:
        return library.engines.registry.all()


def run(args, pm) -> int:
    engines = _engines(args, pm)
    if args.action == "pull":
        if not args.engine:
            raise BadInput("name the engine (or plugin) to pull, e.g. `pixlstash models pull clip/ViT-B-32`")
        chosen = [e for e in engines if e.id == args.engine or e.id.split("/", 1)[0] == args.engine]
        if not chosen:
            raise BadInput(f"no installed engine or plugin {args.engine!r} (see `pixlstash models`)")
        for engine in chosen:
            print(f"pulling {engine.id} ...", flush=True)
            print(f"  saved to {engine.download()}")
        return 0
    statuses = [(engine, engine.model_status()) for engine in engines]
    if args.json:
        print_json([{"engine_id": e.id, "task": e.task.value, **_asdict(s)} for e, s in statuses])
        return 0
    if not statuses:
        print("no engines installed (pip install a plugin such as pixlstash-clip)")
    for engine, status in statuses:
        state = "present" if status.present else "MISSING"
        print(f"{engine.id:<32} {engine.task.value:<9} {state:<8} {status.model}")
        if status.location:
            print(f"{'':<32} files: {status.location}")
        if not status.present and status.how_to_get:
            print(f"{'':<32} get it: {status.how_to_get}")
        if status.note:
            print(f"{'':<32} note: {status.note}")
    return 0


def _asdict(status) -> dict:
    import msgspec

    return msgspec.structs.asdict(status)
