"""``pixlstash models``: each engine's model, where its files are, whether they are whole; and pulling them."""

from __future__ import annotations

import click
import msgspec

from ..engines.model_pulls import can_download, pull_model, source_unreachable
from ..engines.registry import EngineRegistry
from ..engines.weights import check_model_files
from ..errors import BadInput, PixlstashError, plugin_hint
from ..library import DATABASE_NAME, Library
from ..system.paths import resolve_library_path
from .common import SectionedCommand, json_option, library_option, print_json


@click.group("models", invoke_without_command=True)
@library_option
@json_option
@click.pass_context
def models_group(ctx, library_path, as_json) -> int | None:
    """Engines' models: where their files are, whether they are here and whole, and pulling them.

    PixlStash fetches model files only when told to (`pixlstash models pull`). Without internet here,
    pull on a machine that has it and copy the files to the folder `pixlstash models` names.

    \b
    Examples:
      pixlstash models
      pixlstash models pull clip/ViT-B-32@laion2b_s34b_b79k
    """
    if ctx.invoked_subcommand is None:
        return _list(ctx.obj, library_path, as_json)
    ctx.meta["library_path"] = library_path
    return None


@models_group.command("list", cls=SectionedCommand)
@library_option
@json_option
@click.pass_obj
def list_command(pm, library_path, as_json) -> int:
    """Every installed engine's model: present, missing or damaged, and where its files go."""
    return _list(pm, library_path, as_json)


@models_group.command("pull", cls=SectionedCommand)
@library_option
@click.argument("engine")
@click.pass_obj
def pull_command(pm, library_path, engine) -> int:
    """Download an engine's model, or all of a plugin's (the only time PixlStash fetches model files).

    \b
    Examples:
      pixlstash models pull clip/ViT-B-32@laion2b_s34b_b79k
      pixlstash models pull wd-tagger
    """
    engines = configured_engines(pm, library_path)
    chosen = [e for e in engines if e.id == engine or e.id.split("/", 1)[0] == engine]
    if not chosen:
        raise BadInput(f"no installed engine or plugin {engine!r} (see `pixlstash models`){plugin_hint(engine)}")
    for chosen_engine in chosen:
        if not can_download(chosen_engine):
            raise BadInput(f"{chosen_engine.id} has no model files to download")
    for chosen_engine in chosen:
        unreachable = source_unreachable(chosen_engine)
        if unreachable:
            where = chosen_engine.model_status().location or "?"
            raise PixlstashError(
                f"no network ({unreachable}): copy the model files of {chosen_engine.id} to {where} instead"
            )
    for chosen_engine in chosen:
        print(f"pulling {chosen_engine.id} ...", flush=True)
        print(f"  saved to {pull_model(chosen_engine)}")
    return 0


def configured_engines(pm, library_path: str | None) -> list:
    """The engines as the library's plugin settings configure them (the defaults when there is none yet)."""
    path = resolve_library_path(library_path)
    if not (path / DATABASE_NAME).exists():
        return EngineRegistry.from_plugin_manager(pm).all()
    with Library.open(path, plugin_manager=pm) as library:
        return library.engines.registry.all()


def model_state(status) -> tuple[str, list[str]]:
    """present / MISSING / DAMAGED, with what is wrong with files that are there."""
    if not status.present:
        return "MISSING", []
    local = status.location and "://" not in status.location  # a server's address has no files to check
    problems = check_model_files(status.location) if local else []
    return ("DAMAGED" if problems else "present"), problems


def _list(pm, library_path, as_json) -> int:
    rows = []
    for engine in configured_engines(pm, library_path):
        status = engine.model_status()
        state, problems = model_state(status)
        rows.append((engine, status, state, problems))
    if as_json:
        print_json(
            [
                {
                    "engine_id": e.id,
                    "task": e.task.value,
                    **msgspec.structs.asdict(s),
                    "present": state == "present",
                    "problems": problems,
                }
                for e, s, state, problems in rows
            ]
        )
        return 0
    if not rows:
        print("no engines installed (pip install a plugin such as pixlstash-clip)")
    for engine, status, state, problems in rows:
        print(f"{engine.id:<32} {engine.task.value:<9} {state:<8} {status.model}")
        if status.location:
            print(f"{'':<32} files: {status.location}")
        for problem in problems:
            print(f"{'':<32} damaged: {problem}")
        if state != "present" and status.how_to_get:
            print(f"{'':<32} get it: {status.how_to_get}")
        if status.note:
            print(f"{'':<32} note: {status.note}")
    return 0
