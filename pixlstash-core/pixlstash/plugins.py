"""Building the plugin manager: built-ins, entry points, the escape-hatch environment variables."""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
from collections.abc import Mapping

import msgspec
import pluggy

from . import hookspecs
from .plugin_choice import DISABLED_PLUGINS_ENV, ENTRY_POINT_GROUP, LOAD_PLUGINS_ENV, PluginChoice

__all__ = [
    "DISABLED_PLUGINS_ENV",
    "ENTRY_POINT_GROUP",
    "LOAD_PLUGINS_ENV",
    "PluginInfo",
    "PluginLoadError",
    "PluginManager",
    "make_plugin_manager",
]

log = logging.getLogger(__name__)


# Built-in plugins, registered exactly as external ones are: (name, module path).
BUILTIN_PLUGINS: tuple[tuple[str, str], ...] = (
    ("local-storage", "pixlstash.builtin.local_storage"),
    ("watermark", "pixlstash.builtin.watermark"),
    ("quality", "pixlstash.builtin.quality"),
)


class PluginLoadError(msgspec.Struct, frozen=True):
    """A plugin that could not be imported: reported by ``pixlstash plugins``, then skipped."""

    name: str
    distribution: str | None
    error: str


class PluginInfo(msgspec.Struct, frozen=True):
    """One registered plugin as ``pixlstash plugins`` shows it."""

    name: str
    distribution: str | None
    version: str | None
    builtin: bool
    hooks: list[str]


class PluginManager(pluggy.PluginManager):
    """A pluggy manager that remembers where each plugin came from and which failed to load."""

    def __init__(self) -> None:
        super().__init__(ENTRY_POINT_GROUP)
        self.add_hookspecs(hookspecs)
        self.load_errors: list[PluginLoadError] = []
        # name -> (distribution, version, built-in); an installed plugin's distribution object stands in
        # until asked: reading its metadata costs a CLI start more than loading the plugin itself.
        self._origins: dict[str, tuple[object, str | None, bool]] = {}

    def register_builtin(self, module: object, name: str) -> None:
        """Register one of PixlStash's own plugins."""
        from . import __version__

        self.register(module, name=name)
        self._origins[name] = ("pixlstash-core", __version__, True)

    def register_from_distribution(self, plugin: object, name: str, distribution) -> None:
        """Register a plugin loaded from an installed distribution's entry point (an
        ``importlib.metadata.Distribution``, or None when the entry point names none)."""
        self.register(plugin, name=name)
        self._origins[name] = (distribution, None, False)

    def plugin_infos(self) -> list[PluginInfo]:
        """Every registered plugin with its origin and the hooks it implements, sorted by name."""
        infos = []
        for name, plugin in self.list_name_plugin():
            if plugin is None:  # blocked
                continue
            distribution, version, builtin = self._origins.get(name, (None, None, False))
            if not builtin:
                distribution, version = (distribution.name, distribution.version) if distribution else ("?", "?")
            hooks = sorted(caller.name for caller in self.get_hookcallers(plugin) or [])
            infos.append(PluginInfo(name, distribution, version, builtin, hooks))
        return sorted(infos, key=lambda info: info.name)


def make_plugin_manager(*, load_entry_points: bool = True, environ: Mapping[str, str] | None = None) -> PluginManager:
    """Build a fresh plugin manager: built-ins, then installed entry points, then ``check_pending()``.

    ``PIXLSTASH_LOAD_PLUGINS`` (comma-separated) loads only the named installed plugins; set and empty,
    it loads none. ``PIXLSTASH_DISABLED_PLUGINS`` names plugins, built-in or installed, to skip.
    A plugin whose import raises is recorded in ``load_errors`` and skipped.
    """
    choice = PluginChoice(environ)
    pm = PluginManager()

    for name, module_path in BUILTIN_PLUGINS:
        if choice.builtin_loads(name):
            pm.register_builtin(importlib.import_module(module_path), name)

    if load_entry_points:
        # The standard library's importlib.metadata, not the importlib_metadata backport: on every CLI start
        # it finds the entry points in 3 ms where the backport took 21 (its import included).
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            name = entry_point.name
            if not choice.installed_loads(name) or pm.has_plugin(name):
                continue
            try:
                plugin = entry_point.load()
            except Exception as error:  # a broken plugin must not take the whole app down
                dist_name = entry_point.dist.name if entry_point.dist is not None else None
                message = f"{type(error).__name__}: {error}"
                log.warning("plugin %s (%s) failed to load: %s", name, dist_name, message)
                pm.load_errors.append(PluginLoadError(name, dist_name, message))
                continue
            pm.register_from_distribution(plugin, name, entry_point.dist)

    pm.check_pending()
    return pm
