"""``pixlstash plugins``: what is installed, what it provides, and what failed to load."""

from __future__ import annotations

from ..engines.registry import EngineRegistry
from .common import print_json


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
