"""``pixlstash plugins``: what is installed, what it provides, and what failed to load."""

from __future__ import annotations

import click
import msgspec

from ..engines.registry import EngineRegistry
from .common import SectionedCommand, json_option, library_option, print_json
from .library_options import open_library


@click.group("plugins", invoke_without_command=True)
@json_option
@click.pass_context
def plugins_group(ctx, as_json) -> int | None:
    """Plugins: their hooks and engines, and those that failed to load.

    PIXLSTASH_LOAD_PLUGINS and PIXLSTASH_DISABLED_PLUGINS choose which plugins load.

    \b
    Examples:
      pixlstash plugins
      pixlstash plugins config clip models=ViT-B-32@laion2b_s34b_b79k
    """
    if ctx.invoked_subcommand is not None:
        return None
    pm = ctx.obj
    registry = EngineRegistry.from_plugin_manager(pm)
    engines = [
        {"id": engine.id, "task": str(engine.task), "version": engine.version, "label": engine.label}
        for engine in registry.all()
    ]
    plugins = pm.plugin_infos()
    if as_json:
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


@plugins_group.command("config", cls=SectionedCommand)
@library_option
@click.argument("name")
@click.argument("assignments", nargs=-1, metavar="[FIELD=VALUE]...")
@json_option
@click.pass_obj
def config_command(pm, library_path, name, assignments, as_json) -> int:
    """Show a plugin's settings, or change some.

    Values are JSON when they read as JSON, comma-separated for lists, else text; they are checked
    before anything is stored.

    \b
    Example:
      pixlstash plugins config clip models=ViT-B-32@laion2b_s34b_b79k,ViT-L-14@laion2b_s32b_b82k
    """
    with open_library(library_path, pm, create=True) as library:
        settings = library.plugin_settings
        if assignments:
            value = settings.update(name, settings.parse_assignments(name, list(assignments)))
        else:
            value = settings.get(name)
        shown = settings.shown(name, value)  # secrets only as set or not
    if as_json:
        print_json(shown)
    else:
        for field, item in shown.items():
            print(f"{name}.{field} = {msgspec.json.encode(item).decode()}")
    return 0
