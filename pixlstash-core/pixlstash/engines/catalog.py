"""The engines one library can use: the installed ones (following its plugins and their settings), the
runtime that runs them, and which one a request gets (the one asked for, else the task's default from
the enrichment settings, else the first whose model is here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

from ..db.settings import SettingsStore
from ..domain import EnrichmentSettings
from ..errors import BadInput, EngineNotFound, install_hint, plugin_hint
from ..plugin_settings import PluginSettings, PluginSettingsSource
from .base import Engine, Task
from .process_host import EngineHosts
from .registry import EngineRegistry
from .runtime import EngineRuntime
from .tasks import TASKS

__all__ = ["EngineCatalog", "task_named"]

T = TypeVar("T")

_SETTINGS_KEY = "enrichment"


class EngineCatalog:
    def __init__(self, plugin_manager, plugin_settings: PluginSettingsSource, settings_store: SettingsStore) -> None:
        self.plugin_manager = plugin_manager
        self.plugin_settings = plugin_settings
        self.settings_store = settings_store
        self.runtime = EngineRuntime(lambda: self.settings().device)
        self.hosts = EngineHosts(plugin_manager)  # the processes of engines that run in their own (see process_host)
        self._registry: tuple[PluginSettings, bytes, EngineRegistry] | None = None

    @property
    def registry(self) -> EngineRegistry:
        """The installed engines, collected again when plugins come or go or their settings change, in this
        process or another."""
        plugin_settings = self.plugin_settings.current()
        settings = plugin_settings.all()
        encoded = msgspec.json.encode(settings)
        cached = self._registry
        if cached is None or cached[0] is not plugin_settings or cached[1] != encoded:
            if cached is not None and cached[1] != encoded:  # engines built with other settings go
                self.runtime.unload_all({e.id: e for e in cached[2].all()})
            found = EngineRegistry.from_plugin_manager(self.plugin_manager, settings)
            registry = EngineRegistry(self.hosts.wrap(engine, settings) for engine in found.all())
            self._registry = cached = (plugin_settings, encoded, registry)
        return cached[2]

    def close(self) -> None:
        """Unload every engine and end the engine processes."""
        if self._registry is not None:
            self.runtime.unload_all({e.id: e for e in self._registry[2].all()})
        self.hosts.stop()

    # -- enrichment settings (defaults per task, device, on-import tasks) ------------------------

    def settings(self) -> EnrichmentSettings:
        return self.settings_store.get(_SETTINGS_KEY, EnrichmentSettings, EnrichmentSettings())

    def configure(self, settings: EnrichmentSettings) -> EnrichmentSettings:
        for task, engine_id in settings.defaults.items():
            self.get(task_named(task), engine_id)
        self.import_choices(settings.on_import)
        checked = {
            engine_id: checked_parameters(self.by_id(engine_id), values)
            for engine_id, values in settings.parameters.items()
        }
        settings = msgspec.structs.replace(settings, parameters={k: v for k, v in checked.items() if v})
        self.settings_store.put(_SETTINGS_KEY, settings)
        return settings

    def parameters_for(self, engine: Engine, given: dict[str, Any] | None) -> dict[str, Any]:
        """What ``engine`` runs with: its saved parameters (those it still declares) overridden by ``given``,
        checked and converted to their declared types."""
        declared = {p.name for p in engine.parameters()}
        saved = {k: v for k, v in self.settings().parameters.get(engine.id, {}).items() if k in declared}
        return checked_parameters(engine, {**saved, **(given or {})})

    def import_choices(self, names: list[str]) -> list[tuple[Task, str | None]]:
        """What each on-import entry asks for: a task with its default engine, or one engine by id (the
        way to run several scorers on import)."""
        chosen: list[tuple[Task, str | None]] = []
        for name in names:
            if "/" in name:
                chosen.append((self.by_id(name).task, name))
            else:
                chosen.append((task_named(name), None))
        return chosen

    # -- choosing -------------------------------------------------------------------------------

    def record_served(self) -> None:
        """Note which engines the process running the library's services has (it loaded its plugins when
        it started): another process can then tell what the running server cannot do."""
        self.settings_store.put("services_engines", sorted(engine.id for engine in self.installed()))

    def served(self) -> list[str] | None:
        """The engines the services process had when it started (None: never noted)."""
        return self.settings_store.get("services_engines", list, None)

    def installed(self, task: Task | None = None) -> list[Engine]:
        tasks = [task] if task else list(Task)
        return [engine for t in tasks for engine in self.registry.engines(t)]

    def get(self, task: Task, engine_id: str | None = None) -> Engine:
        """The engine asked for, else the task's default from settings, else the first one ready to run."""
        engine_id = engine_id or self.settings().defaults.get(task.value)
        if engine_id:
            return self.registry.get(task, engine_id)
        installed = self.registry.engines(task)
        if not installed:
            raise EngineNotFound(
                f"no {task.value} engine is installed (install {install_hint(TASKS[task].plugins)}, then restart)",
                task=task.value,
            )
        # Never by itself an engine that sends pictures to a server: installing one must not send the library.
        local = [e for e in installed if not getattr(e, "sends_pictures", False)]
        if not local:
            names = ", ".join(e.id for e in installed)
            raise EngineNotFound(
                f"the {task.value} engines installed ({names}) send pictures to a server, so they run only when "
                f"named: --engine {installed[0].id}, or make it the {task.value} default in Settings",
                task=task.value,
            )
        # The first engine whose model is here; else the first (its error then says how to get the model).
        return next((e for e in local if e.model_status().present), local[0])

    def by_id(self, engine_id: str) -> Engine:
        for engine in self.installed():
            if engine.id == engine_id:
                return engine
        raise EngineNotFound(f"no engine {engine_id!r} is installed{plugin_hint(engine_id)}", engine_id=engine_id)

    def call(self, engine: Engine, work: Callable[[], T]) -> T:
        """Run ``work`` with ``engine`` loaded on the configured device (see ``EngineRuntime``)."""
        return self.runtime.call(engine, work)


def checked_parameters(engine: Engine, parameters: dict[str, Any]) -> dict[str, Any]:
    """The parameters in their declared types (text from the command line included); unknown ones refused."""
    declared = {p.name: p for p in engine.parameters()}
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise BadInput(f"{engine.id} has no parameter {', '.join(unknown)}", accepted=sorted(declared))
    return {name: declared[name].convert(value) for name, value in parameters.items()}


def task_named(name: str) -> Task:
    try:
        return Task(name)
    except ValueError:
        raise BadInput(f"unknown task {name!r}; tasks are {', '.join(t.value for t in Task)}") from None
