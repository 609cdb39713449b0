"""``pixlstash doctor``: one line per check of this installation and a library, and what to do about each."""

from __future__ import annotations

import click

from ..engines.registry import EngineRegistry
from ..system.doctor import Check, environment_checks, library_checks, runtime_checks
from ..system.paths import resolve_library_path
from .common import SectionedCommand, json_option, library_option, print_json
from .models_cmd import configured_engines, model_state

# The engine runtime each plugin's engines load, for the runtime probes.
_RUNTIMES = {
    "clip": "torch",
    "joycaption": "torch",
    "florence2": "torch",
    "wd-tagger": "onnxruntime",
    "faces": "onnxruntime",
}


@click.command("doctor", cls=SectionedCommand)
@library_option
@click.option("--bench", is_flag=True, help="also run each engine whose model is here and say how fast it goes")
@json_option
@click.pass_obj
def doctor_command(pm, library_path, bench, as_json) -> int:
    """Check this installation and a library: versions against the tested set, each engine's runtime and
    device, models, free disk, the databases, the originals' store, the services lock. Changes nothing.
    Exits 1 when a check fails (a bucket that does not answer too).

    With --bench, each engine whose model is here runs on a batch of made-up pictures on the device the
    library's settings choose, and the line says its pictures/s on this machine (a minute or more with big
    models: each is loaded first).

    \b
    Examples:
      pixlstash doctor
      pixlstash doctor --library ~/Pictures/stash --json
      pixlstash doctor --bench
    """
    root = resolve_library_path(library_path)
    checks = [*environment_checks()]
    try:
        engines = configured_engines(pm, library_path)
    except Exception as error:  # a damaged library still gets every other check (its own says what is wrong)
        checks.append(Check("warn", "plugin settings", f"not read from the library ({error}): defaults used"))
        engines = EngineRegistry.from_plugin_manager(pm).all()
    plugins = {engine.id.split("/", 1)[0] for engine in engines}
    runtimes = {_RUNTIMES[p] for p in plugins if p in _RUNTIMES}
    if "joycaption" in plugins:
        runtimes.add("bitsandbytes")
    checks += runtime_checks(runtimes)
    checks += _model_checks(engines)
    checks += library_checks(root)
    checks += _storage_checks(pm, library_path, checks)
    if bench:
        checks += _speed_checks(pm, library_path)
    if as_json:
        print_json(checks)
    else:
        width = max(len(check.name) for check in checks)
        for check in checks:
            print(f"{check.status:<5} {check.name:<{width}}  {check.detail}")
    return 1 if any(check.status == "FAIL" for check in checks) else 0


def _model_checks(engines) -> list[Check]:
    if not engines:
        return [Check("warn", "engines", "no engines installed (pip install a plugin such as pixlstash-wd-tagger)")]
    checks = []
    for engine in engines:
        status = engine.model_status()
        state, problems = model_state(status)
        if state == "present":
            said = f"model present: {status.location or status.model}" + (f"; {status.note}" if status.note else "")
            checks.append(Check("ok" if status.available else "warn", engine.id, said))
        elif state == "DAMAGED":
            checks.append(Check("FAIL", engine.id, f"model damaged ({'; '.join(problems)}): {status.how_to_get}"))
        else:
            checks.append(Check("warn", engine.id, f"model missing: {status.how_to_get}"))
    return checks


def _speed_checks(pm, library_path) -> list[Check]:
    """Each engine with its model here, run on made-up pictures: its speed, or why it could not run."""
    import contextlib
    import tempfile
    from pathlib import Path

    from ..engines.speed import measure_speed
    from ..system.paths import resolve_library_path
    from .library_options import open_library

    checks = []
    path = resolve_library_path(library_path)
    with contextlib.ExitStack() as stack:
        if not (path / "library.db").exists():  # no library yet: the engines at their default settings
            path = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pixlstash-bench-"))) / "library"
        library = stack.enter_context(open_library(str(path), pm, create=True))
        catalog = library.engines

        def batch_for(engine) -> int:
            """The batch its device takes, at most 16 on a CPU and 64 on a GPU: a check, not a benchmark."""
            return min(catalog.runtime.batch(engine), 16 if catalog.runtime.status(engine)[1] == "cpu" else 64)

        def dimensions(engine_id: str) -> int:
            return int(getattr(catalog.by_id(engine_id), "dimensions", 0) or 0)

        for engine in catalog.installed():
            if not engine.model_status().present:
                continue
            try:
                speed = measure_speed(engine, catalog.call, dimensions, batch_for=batch_for)
            except Exception as error:  # a server that is down, a model that fails to load: said, not raised
                checks.append(Check("warn", f"speed {engine.id}", f"did not run: {getattr(error, 'message', error)}"))
                continue
            device, _, note = catalog.runtime.running().get(engine.id, ("cpu", 0, ""))
            checks.append(
                Check(
                    "ok",
                    f"speed {engine.id}",
                    f"{speed.pictures_per_second:,.1f} pictures/s on {device} (a batch of {speed.batch}"
                    f"{'; ' + note if note else ''}; the first call, loading it, {speed.first_call_seconds:.1f} s)",
                )
            )
    return checks


def _storage_checks(pm, library_path, checks: list[Check]) -> list[Check]:
    """Where the originals are, how many, and whether the store answers (a bucket is asked)."""
    if any(c.name == "library.db" and c.status == "FAIL" for c in checks) or not any(
        c.name == "library.db" for c in checks
    ):
        return []  # no library yet, or a damaged one: its own check says so
    from ..errors import StorageUnavailable
    from ..files.store_choice import storage_state
    from .library_options import open_library

    try:
        with open_library(library_path, pm) as library:
            state = storage_state(library.store, library.pictures)
    except StorageUnavailable as error:  # the store's plugin is missing: nothing reads the originals
        return [Check("FAIL", "originals", error.message)]
    except Exception as error:
        return [Check("warn", "originals", f"not checked: {error}")]
    where = f"{state.originals:,} in {state.where}"
    if state.state != "answers":
        return [Check("FAIL", "originals", f"{where}: {state.state}")]
    return [Check("ok", "originals", f"{where}: the store answers")]
