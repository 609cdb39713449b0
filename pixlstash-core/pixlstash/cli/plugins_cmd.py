"""``pixlstash plugins``: what is installed, what it provides, and what failed to load."""

from __future__ import annotations

import msgspec

from ..engines.registry import EngineRegistry
from .common import add_library_option, print_json
from .library_options import open_library


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "plugins",
        help="list plugins, their hooks and engines, and load errors",
        description="List registered plugins (name, version, distribution, hooks), the engines they "
        "provide per task, and plugins that failed to load. PIXLSTASH_LOAD_PLUGINS and "
        "PIXLSTASH_DISABLED_PLUGINS choose which plugins load.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    config = actions.add_parser(
        "config",
        help="show or change a plugin's settings",
        description="Show a plugin's settings, or change some: pixlstash plugins config clip "
        "models=ViT-B-32@laion2b_s34b_b79k,ViT-L-14@laion2b_s32b_b82k. Values are JSON when they read as "
        "JSON, comma-separated for lists, else text; they are checked before anything is stored.",
    )
    config.add_argument("name", help="the plugin (pixlstash plugins lists those with settings)")
    config.add_argument("assignments", nargs="*", metavar="FIELD=VALUE", help="settings to change")
    config.add_argument("--json", action="store_true", help="print JSON")
    add_library_option(config)
    config.set_defaults(func=run_config)


def run_config(args, pm) -> int:
    with open_library(args, pm) as library:
        settings = library.plugin_settings
        if args.assignments:
            value = settings.update(args.name, settings.parse_assignments(args.name, args.assignments))
        else:
            value = settings.get(args.name)
    if args.json:
        print_json(value)
    else:
        for field in value.__struct_fields__:
            print(f"{args.name}.{field} = {msgspec.json.encode(getattr(value, field)).decode()}")
    return 0


def run(args, pm) -> int:
    registry = EngineRegistry.from_plugin_manager(pm)
    engines = [
        {"id": engine.id, "task": str(engine.task), "version": engine.version, "label": engine.label}
        for engine in registry.all()
    ]
    plugins = pm.plugin_infos()
    if args.json:
        print_json({"plugins": plugins, "engines": engines, "errors": pm.load_errors})
        return 0
    for info in plugins:
        origin = "built-in" if info.builtin else f"{info.distribution} {info.version}"
        print(f"{info.name}  ({origin})")
        print(f"    hooks: {', '.join(info.hooks) or '-'}")
    if engines:
        print("\nengines:")
        for engine in engines:
            print(f"    {engine['task']:<10} {engine['id']}  v{engine['version']}")
    if pm.load_errors:
        print("\nfailed to load:")
        for error in pm.load_errors:
            print(f"    {error.name} ({error.distribution}): {error.error}")
    return 0
