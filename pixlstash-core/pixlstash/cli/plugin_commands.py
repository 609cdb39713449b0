"""Plugins' commands as ``pixlstash --help`` lists them, without importing a plugin.

A plugin adds commands in one of two ways. Declared in the ``pixlstash.commands`` entry-point group, a
command's module is imported only when that command runs. Added by the ``register_commands(cli)`` hook,
every plugin loads when such a command runs (the older way, still honoured).

``--help`` lists both from the installed metadata and a cache in the user's cache folder: each command's
name, one-line summary and whether it is hidden. The cache holds what it was made from (every entry point
of both groups, the name and change time of its distribution's metadata folder, and the plugin choice of
``PIXLSTASH_LOAD_PLUGINS``/``PIXLSTASH_DISABLED_PLUGINS``). When any of that differs, as after an install,
the plugins load once, as every start did before, and the cache is written again. A cache that cannot be
read or written costs that load, nothing else.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import click

from ..plugin_choice import COMMANDS_ENTRY_POINT_GROUP, ENTRY_POINT_GROUP, PluginChoice

__all__ = ["PluginCommand", "cache_path", "load_declared", "plugin_commands"]

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
CACHE_NAME = "plugin-commands.json"
_WHOLE_SUMMARY = 10_000  # click cuts a summary to the terminal's width when it prints it, not here


class PluginCommand:
    """One plugin command as ``--help`` lists it; ``entry_point`` is ``module:attribute`` when declared in the
    ``pixlstash.commands`` group, None when the ``register_commands`` hook adds it."""

    __slots__ = ("entry_point", "hidden", "name", "summary")

    def __init__(self, name: str, summary: str, hidden: bool, entry_point: str | None) -> None:
        self.name = name
        self.summary = summary
        self.hidden = hidden
        self.entry_point = entry_point

    def as_row(self) -> list[Any]:
        return [self.name, self.summary, self.hidden, self.entry_point]


def cache_path() -> Path:
    """``plugin-commands.json`` in the per-user cache folder (``$XDG_CACHE_HOME/pixlstash`` on Linux)."""
    import platformdirs

    return platformdirs.user_cache_path("pixlstash") / CACHE_NAME


def _folder(entry: importlib.metadata.EntryPoint) -> Any:
    """The distribution's metadata folder (None for a distribution found some other way)."""
    return getattr(entry.dist, "_path", None)


def _fingerprint(entries: list[importlib.metadata.EntryPoint], choice: PluginChoice) -> list[Any]:
    rows = []
    for entry in entries:
        # The metadata folder's name holds the distribution's name and version; reading METADATA itself
        # would cost a start more than the plugins do. Its change time moves on every (re)install.
        folder = _folder(entry)
        try:
            stamp = os.stat(folder).st_mtime_ns if folder is not None else None
        except OSError:
            stamp = None
        rows.append([entry.group, entry.name, entry.value, None if folder is None else Path(folder).name, stamp])
    return [CACHE_FORMAT, choice.key(), sorted(rows, key=json.dumps)]


def _read(path: Path, fingerprint: list[Any]) -> list[PluginCommand] | None:
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if cached["fingerprint"] != fingerprint:
            return None
        return [
            PluginCommand(str(n), str(s), bool(h), None if e is None else str(e)) for n, s, h, e in cached["commands"]
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(path: Path, fingerprint: list[Any], commands: list[PluginCommand]) -> None:
    body = json.dumps({"fingerprint": fingerprint, "commands": [command.as_row() for command in commands]})
    partial = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Whole or not at all: two commands started at once may both write it.
        with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=".commands-", delete=False) as handle:
            partial = handle.name
            handle.write(body)
        os.replace(partial, path)
    except OSError as error:
        log.debug("plugin command cache not written (%s): %s", path, error)
        if partial is not None:
            Path(partial).unlink(missing_ok=True)


def load_declared(name: str, entry_point: str) -> click.Command:
    """The command ``entry_point`` (``module:attribute``) names, imported now."""
    module, _, attribute = entry_point.partition(":")
    try:
        command = importlib.import_module(module)
        for part in attribute.split(".") if attribute else ():
            command = getattr(command, part)
    except Exception as error:  # a broken plugin: one line, the rest of the command line still works
        raise click.ClickException(f"the plugin command {name} ({entry_point}) failed to load: {error}") from error
    if not isinstance(command, click.Command):
        raise click.ClickException(f"the plugin command {name} ({entry_point}) is not a click command")
    return command


def _collect(declared: list[importlib.metadata.EntryPoint], plugins: Any) -> list[PluginCommand]:
    commands: dict[str, PluginCommand] = {}
    for entry in declared:
        try:
            command = load_declared(entry.name, entry.value)
        except click.ClickException as error:
            log.warning("%s", error.format_message())
            continue
        commands.setdefault(
            entry.name,
            PluginCommand(entry.name, command.get_short_help_str(_WHOLE_SUMMARY), command.hidden, entry.value),
        )
    scratch = click.Group()
    plugins.hook.register_commands(cli=scratch)
    for name, command in scratch.commands.items():
        commands.setdefault(name, PluginCommand(name, command.get_short_help_str(_WHOLE_SUMMARY), command.hidden, None))
    return list(commands.values())


def plugin_commands(plugins: Any, *, cache: Path | None = None) -> list[PluginCommand]:
    """The chosen plugins' commands, in the order they were declared, then those the hook adds."""
    choice = PluginChoice()
    every = importlib.metadata.entry_points()
    installed = [*every.select(group=ENTRY_POINT_GROUP), *every.select(group=COMMANDS_ENTRY_POINT_GROUP)]
    fingerprint = _fingerprint(installed, choice)
    path = cache_path() if cache is None else cache
    commands = _read(path, fingerprint)
    if commands is None:
        # A distribution's commands are chosen with its plugins; one that declares commands and no plugin
        # is chosen with the installation.
        plugins_of: dict[Any, list[str]] = {}
        for entry in installed:
            if entry.group == ENTRY_POINT_GROUP:
                plugins_of.setdefault(_folder(entry), []).append(entry.name)
        declared = [
            entry
            for entry in installed
            if entry.group == COMMANDS_ENTRY_POINT_GROUP
            and (_folder(entry) not in plugins_of or any(map(choice.installed_loads, plugins_of[_folder(entry)])))
        ]
        commands = _collect(declared, plugins)
        _write(path, fingerprint, commands)
    return commands
