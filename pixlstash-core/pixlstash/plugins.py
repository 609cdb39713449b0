"""Building the plugin manager: built-ins, entry points, the escape-hatch environment variables."""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import os
import re
from collections.abc import Mapping

import msgspec
import pluggy

from . import hookspecs

__all__ = [
    "DISABLED_PLUGINS_ENV",
    "ENTRY_POINT_GROUP",
    "FIRST_PARTY_PLUGINS",
    "LOAD_PLUGINS_ENV",
    "PluginInfo",
    "PluginLoadError",
    "PluginManager",
    "install_hint",
    "make_plugin_manager",
    "plugin_hint",
]

log = logging.getLogger(__name__)

# The plugins made with PixlStash (pixlstash-plugins/ in its repository), and the short names that belong
# to one (a scorer named without its plugin): what a hint says to install when a name is not found.
FIRST_PARTY_PLUGINS = ("anime", "clip", "faces", "florence2", "joycaption", "openai-vision", "s3", "wd-tagger")
_SHORT_NAMES = {"aesthetic": "clip", "prompt-match": "clip"}


def install_hint(plugins: str) -> str:
    """How to install the named plugins while they are not on the package registry: from a clone of the
    repository, at the tested versions ("pixlstash-faces" -> its folder)."""
    names = re.findall(r"pixlstash-[a-z0-9-]+", plugins)
    folders = " ".join(f"./pixlstash-plugins/{name.removeprefix('pixlstash-')}" for name in names)
    return f"{plugins}: from a clone of PixlStash, pip install -c constraints.txt {folders}" if names else plugins


def plugin_hint(name: str) -> str:
    """For a name not found (an engine id, a plugin, a scorer's short name): which of PixlStash's plugins
    brings it and how to install it, as a clause to end the message with; "" when it is none of ours."""
    plugin = _SHORT_NAMES.get(name, name.split("/", 1)[0])
    if plugin not in FIRST_PARTY_PLUGINS:
        return ""
    whose = f"pixlstash-{plugin} is" if name == plugin else f"it comes with the pixlstash-{plugin} plugin, which is"
    return f"; {whose} not installed here or not loaded (install {install_hint(f'pixlstash-{plugin}')}, then restart)"


ENTRY_POINT_GROUP = "pixlstash"
LOAD_PLUGINS_ENV = "PIXLSTASH_LOAD_PLUGINS"
DISABLED_PLUGINS_ENV = "PIXLSTASH_DISABLED_PLUGINS"

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


def _name_set(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


def make_plugin_manager(*, load_entry_points: bool = True, environ: Mapping[str, str] | None = None) -> PluginManager:
    """Build a fresh plugin manager: built-ins, then installed entry points, then ``check_pending()``.

    ``PIXLSTASH_LOAD_PLUGINS`` (comma-separated) loads only the named installed plugins; set and empty,
    it loads none. ``PIXLSTASH_DISABLED_PLUGINS`` names plugins, built-in or installed, to skip.
    A plugin whose import raises is recorded in ``load_errors`` and skipped.
    """
    environ = os.environ if environ is None else environ
    only = _name_set(environ.get(LOAD_PLUGINS_ENV))
    disabled = _name_set(environ.get(DISABLED_PLUGINS_ENV)) or set()
    pm = PluginManager()

    for name, module_path in BUILTIN_PLUGINS:
        if name not in disabled:
            pm.register_builtin(importlib.import_module(module_path), name)

    if load_entry_points:
        # The standard library's importlib.metadata, not the importlib_metadata backport: on every CLI start
        # it finds the entry points in 3 ms where the backport took 21 (its import included).
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            name = entry_point.name
            if name in disabled or (only is not None and name not in only) or pm.has_plugin(name):
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
