"""The command table and the click group that loads a command's module only when that command runs.

Every command module pulls in what its command uses (the library, numpy, Pillow, the engines); importing
them all made each start, `--help` included, take twenty times a bare Python start. Plugins load only when
a command needs them too (``PluginsOnDemand``).
"""

from __future__ import annotations

import importlib
from typing import Any

import click

__all__ = ["BUILT_IN", "BuiltInCommand", "PixlstashGroup", "PluginsOnDemand"]


class BuiltInCommand:
    """A built-in command as ``--help`` lists it, and where it lives."""

    __slots__ = ("attribute", "module", "name", "summary")

    def __init__(self, name: str, module: str, attribute: str, summary: str) -> None:
        self.name = name
        self.module = module
        self.attribute = attribute
        self.summary = summary  # the docstring's first sentence (tests/test_cli_start.py checks they agree)

    def load(self) -> click.Command:
        return getattr(importlib.import_module(f"{__package__}.{self.module}"), self.attribute)


# The order of `--help`: getting pictures in, finding them, organising, enriching, the rest.
BUILT_IN = tuple(
    BuiltInCommand(*row)
    for row in (
        ("import", "import_cmd", "import_command", "Copy pictures and videos into the library."),
        ("ls", "ls_cmd", "ls_command", "List pictures: id, file name, size, rating and tags."),
        (
            "search",
            "search_cmd",
            "search_command",
            "Search pictures by meaning (words) or by example (similar pictures).",
        ),
        ("tag", "editor_cmds", "tag_group", "Add tags to pictures or take them away."),
        ("rate", "editor_cmds", "rate_command", "Rate pictures 1 to 5 stars (0 clears the rating)."),
        (
            "caption",
            "editor_cmds",
            "caption_command",
            "Write a picture's caption (TEXT, or `-` to read it from standard input).",
        ),
        ("add", "editor_cmds", "add_command", "File pictures under sets, characters or projects (made when new)."),
        (
            "remove",
            "editor_cmds",
            "remove_command",
            "Take pictures out of sets, characters or projects (never out of the library).",
        ),
        (
            "scrap",
            "editor_cmds",
            "scrap_command",
            "Move pictures to the scrapheap (their files stay until it is emptied).",
        ),
        ("unscrap", "editor_cmds", "unscrap_command", "Bring pictures back from the scrapheap."),
        (
            "edit",
            "look_cmds",
            "edit_group",
            "Turn, mirror, straighten or crop pictures without touching their originals.",
        ),
        (
            "prune",
            "prune_cmd",
            "prune_command",
            "Scrap the lowest-scored pictures of a selection (default: the whole library) in one step.",
        ),
        (
            "undo",
            "history_cmd",
            "undo_command",
            "Undo the newest edit (rating, tags, caption, membership, scrapheap, names, face names), whether "
            "it was made here or in the browser.",
        ),
        (
            "redo",
            "history_cmd",
            "redo_command",
            "Make the last undone edit again (a new edit discards what could be redone).",
        ),
        ("history", "history_cmd", "history_command", "The undo history, newest step first."),
        ("project", "organise_cmds", "project_group", "Projects: create, list, rename, delete and show them."),
        ("set", "organise_cmds", "set_group", "Picture sets: create, list, rename, delete and show them."),
        (
            "character",
            "organise_cmds",
            "character_group",
            "Characters: create, list, rename, delete and show them.",
        ),
        ("stack", "stack_cmd", "stack_group", "Stacks: variants grouped under a cover."),
        (
            "enrich",
            "enrich_cmd",
            "enrich_command",
            "Tag, describe, embed or find faces in pictures with a chosen engine.",
        ),
        (
            "jobs",
            "jobs_cmd",
            "jobs_command",
            "Enrichment progress per engine: queued, running, done, failed, pictures/s.",
        ),
        (
            "faces",
            "faces_cmd",
            "faces_group",
            "People: unnamed faces grouped by person, naming them, suggestions for a character.",
        ),
        (
            "export",
            "export_cmd",
            "export_command",
            "Export a set, character, project or filtered view as a training dataset (folder or zip).",
        ),
        (
            "dataset",
            "dataset_cmd",
            "dataset_group",
            "Training sets: what the trainer will make of one, before a night of GPU time.",
        ),
        (
            "insights",
            "insights_cmd",
            "insights_command",
            "Which generation settings make the pictures you keep.",
        ),
        (
            "comfy",
            "comfy_cmd",
            "comfy_group",
            "Run ComfyUI workflows from the library: remix a picture's own workflow, run a workflow on a selection.",
        ),
        ("snapshot", "snapshot_cmd", "snapshot_group", "Snapshots of the library's metadata, and restores."),
        (
            "storage",
            "storage_cmd",
            "storage_group",
            "Where the originals are (the library's folder or a bucket), and moving them.",
        ),
        ("backup", "backup_cmd", "backup_group", "Back up the whole library, check a backup, restore one."),
        (
            "folders",
            "folders_cmd",
            "folders_group",
            "Import folders (watched: new files are copied in) and reference folders (indexed in place).",
        ),
        (
            "previews",
            "previews_cmd",
            "previews_command",
            "Make previews now, or have the server make them in the background.",
        ),
        (
            "models",
            "models_cmd",
            "models_group",
            "Engines' models: where their files are, whether they are here and whole, and pulling them.",
        ),
        (
            "user",
            "auth_cmds",
            "user_group",
            "The library's accounts: its owner, and the people it is shared with, each with a role.",
        ),
        (
            "token",
            "auth_cmds",
            "token_group",
            "API tokens for scripts and tools (Authorization: Bearer <token>).",
        ),
        (
            "plugins",
            "plugins_cmd",
            "plugins_group",
            "Plugins: their hooks and engines, and those that failed to load.",
        ),
        (
            "worker",
            "worker_cmd",
            "worker_command",
            "Run the background services (enrichment, folder watching, snapshots) without the web server.",
        ),
        (
            "doctor",
            "doctor_cmd",
            "doctor_command",
            "Check this installation and a library: versions against the tested set, each engine's runtime "
            "and device, models, free disk, the databases, the originals' store, the services lock.",
        ),
        (
            "docs",
            "docs_cmd",
            "docs_command",
            "Show the command-line guide: a typical session, each command's --json shape, exit statuses and "
            "shell completion.",
        ),
        (
            "version",
            "version_cmd",
            "version_command",
            "Print the PixlStash version, the library schema it writes, and the Python version.",
        ),
    )
)


class PluginsOnDemand:
    """The plugin manager, made on first use and then stood in for: `--help` of a built-in command,
    `version` and `ls` never import a plugin (and with it numpy, Pillow or an engine's runtime)."""

    def __init__(self) -> None:
        self._manager: Any = None

    def manager(self) -> Any:
        if self._manager is None:
            from ..plugins import make_plugin_manager

            self._manager = make_plugin_manager()
        return self._manager

    def __getattr__(self, name: str) -> Any:
        return getattr(self.manager(), name)


class PixlstashGroup(click.Group):
    """Built-in commands from the table above, imported when run; then plugins' commands, listed after them
    from the installed metadata (``plugin_commands``): a declared command imports its own module when it runs,
    one added by the ``register_commands`` hook loads every plugin first."""

    def __init__(self, *args: Any, built_in: tuple[BuiltInCommand, ...] = (), plugins: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._built_in = {command.name: command for command in built_in}
        self._loaded: dict[str, click.Command] = {}
        self._plugins = plugins
        self._listed: dict[str, Any] | None = None
        self._hook_called = plugins is None

    def _plugin_commands(self) -> dict[str, Any]:
        if self._listed is None:
            from .plugin_commands import plugin_commands

            listed = [] if self._plugins is None else plugin_commands(self._plugins)
            self._listed = {command.name: command for command in listed if command.name not in self._built_in}
        return self._listed

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [
            *self._built_in,
            *self._plugin_commands(),
            *(n for n in self.commands if n not in self._built_in and n not in self._listed),
        ]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        entry = self._built_in.get(name)
        if entry is not None:
            if name not in self._loaded:
                self._loaded[name] = entry.load()
            return self._loaded[name]
        if name in self.commands:
            return self.commands[name]
        listed = self._plugin_commands().get(name)
        if listed is not None and listed.entry_point is not None:
            from .plugin_commands import load_declared

            self.add_command(load_declared(name, listed.entry_point), name)
        elif not self._hook_called:  # a command the hook adds, or one the cache has not seen yet
            self._hook_called = True
            self._plugins.hook.register_commands(cli=self)  # a manager, or PluginsOnDemand standing in for one
        return self.commands.get(name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click's, but each line comes from the table or the plugin command cache: nothing is imported."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max((len(name) for name in names), default=0)
        rows = []
        for name in names:
            entry = self._built_in.get(name) or self._plugin_commands().get(name)
            if entry is not None:
                if not getattr(entry, "hidden", False):
                    rows.append((name, click.Command(name, help=entry.summary).get_short_help_str(limit)))
                continue
            command = self.commands.get(name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
