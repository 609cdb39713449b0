"""The engines registered by plugins, per task, so each request can choose its engine."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import EngineNotFound, PluginError, plugin_hint
from ..plugin_settings import PluginSettings
from .base import ENGINE_ID_PATTERN, Engine, Task
from .tasks import TASKS

__all__ = ["EngineRegistry"]


class EngineRegistry:
    """Engines by task and id. Built from a plugin manager's ``register_*`` hooks; validates what it gets."""

    def __init__(self, engines: Iterable[Engine] = ()) -> None:
        self._by_task: dict[Task, dict[str, Engine]] = {task: {} for task in Task}
        for engine in engines:
            self.add(engine)

    @classmethod
    def from_plugin_manager(cls, pm, settings: Mapping[str, Any] | None = None) -> EngineRegistry:
        """Collect every engine that the plugins of ``pm`` register, handing them their ``settings`` (plugin
        name to settings; without a library, each plugin's defaults and environment overrides)."""
        if settings is None:
            settings = PluginSettings(pm).all()
        registry = cls()
        for spec in TASKS.values():
            base, hook_name = spec.base, spec.hook

            def register(engine: Engine, _base: type[Engine] = base, _hook: str = hook_name) -> None:
                if not isinstance(engine, _base):
                    raise PluginError(f"{_hook} got {engine!r}, which is not a {_base.__name__}")
                registry.add(engine)

            getattr(pm.hook, hook_name)(register=register, settings=settings)
        return registry

    def add(self, engine: Engine) -> None:
        """Add one engine; ids are unique per task and look like ``plugin/model``."""
        if not ENGINE_ID_PATTERN.match(getattr(engine, "id", "") or ""):
            raise PluginError(f"engine id {getattr(engine, 'id', None)!r} is not of the form 'plugin/model'")
        engines = self._by_task[engine.task]
        if engine.id in engines:
            raise PluginError(f"two {engine.task} engines share the id {engine.id!r}")
        engines[engine.id] = engine

    def engines(self, task: Task | str) -> list[Engine]:
        """Every engine for ``task``, in registration order."""
        return list(self._by_task[Task(task)].values())

    def all(self) -> list[Engine]:
        """Every engine of every task."""
        return [engine for task in Task for engine in self._by_task[task].values()]

    def get(self, task: Task | str, engine_id: str | None = None) -> Engine:
        """The engine ``engine_id`` for ``task``, or the first registered one when no id is given."""
        engines = self._by_task[Task(task)]
        if engine_id is None:
            if not engines:
                raise EngineNotFound(f"no {Task(task)} engine is installed", task=str(task))
            return next(iter(engines.values()))
        try:
            return engines[engine_id]
        except KeyError:
            known = ", ".join(engines) or "none installed"
            raise EngineNotFound(
                f"unknown {Task(task)} engine {engine_id!r} (known: {known}){plugin_hint(engine_id)}", task=str(task)
            ) from None
