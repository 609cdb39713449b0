"""Which plugins load: the entry-point groups and the two environment variables that narrow them.

Apart from ``plugins`` (pluggy, msgspec) so that the command line can list plugins' commands without
building a plugin manager.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = [
    "COMMANDS_ENTRY_POINT_GROUP",
    "DISABLED_PLUGINS_ENV",
    "ENTRY_POINT_GROUP",
    "LOAD_PLUGINS_ENV",
    "PluginChoice",
]

ENTRY_POINT_GROUP = "pixlstash"
# A plugin's commands, by name: `serve = "pixlstash_web.plugin:serve_command"`. `--help` lists them from the
# installed metadata and a command's module is imported only when that command runs.
COMMANDS_ENTRY_POINT_GROUP = "pixlstash.commands"
LOAD_PLUGINS_ENV = "PIXLSTASH_LOAD_PLUGINS"
DISABLED_PLUGINS_ENV = "PIXLSTASH_DISABLED_PLUGINS"


def _name_set(value: str | None) -> frozenset[str] | None:
    if value is None:
        return None
    return frozenset(part.strip() for part in value.split(",") if part.strip())


class PluginChoice:
    """``PIXLSTASH_LOAD_PLUGINS`` (comma-separated) loads only the named installed plugins; set and empty, it
    loads none. ``PIXLSTASH_DISABLED_PLUGINS`` names plugins, built-in or installed, to skip."""

    __slots__ = ("disabled", "only")

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        environ = os.environ if environ is None else environ
        self.only = _name_set(environ.get(LOAD_PLUGINS_ENV))
        self.disabled = _name_set(environ.get(DISABLED_PLUGINS_ENV)) or frozenset()

    def builtin_loads(self, name: str) -> bool:
        return name not in self.disabled

    def installed_loads(self, name: str) -> bool:
        return name not in self.disabled and (self.only is None or name in self.only)

    def key(self) -> list[list[str] | None]:
        """What a cache of the chosen plugins' commands depends on."""
        return [None if self.only is None else sorted(self.only), sorted(self.disabled)]
