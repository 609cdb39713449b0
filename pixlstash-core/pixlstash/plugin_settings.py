"""Plugin settings handed out by the host, the way Datasette hands plugins their ``plugin_config``.

A plugin declares its settings as a msgspec Struct with defaults through the ``register_settings``
hook (``register("clip", ClipSettings)``). The values live in the library's ``settings`` table, one
entry per plugin, are changed through the API (``PUT /api/v1/plugins/{name}/settings``) or the CLI
(``pixlstash plugins config clip models=...``), and are checked against the plugin's Struct before
they are stored. Hooks that need them take a ``settings`` argument: a mapping from plugin name to that
plugin's settings. An environment variable ``PIXLSTASH_<PLUGIN>_<FIELD>`` overrides one field, for
containers; it is applied when settings are read, never stored. ``PIXLSTASH_<PLUGIN>_<FIELD>_FILE`` names a
file that holds the value instead (Docker and Podman secrets: an API key stays out of the environment).

A Struct lists its secrets (an API key) in ``secret_fields``; a field named like a key, token or password
is a secret too. Secrets are kept apart from the library's settings, in ``secrets.db`` (never in a
snapshot, and in a backup only with accounts), given to the plugin whole, and shown to people (API, CLI,
UI) only as whether they are set. Sending the shown mask back leaves the secret as it was.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from .db.secrets_db import SecretStore
from .db.settings import SettingsStore
from .errors import BadInput, NotFound, PluginError, plugin_hint

__all__ = [
    "PREVIOUS_STORE",
    "SCRUB_OWED",
    "SECRET_MASK",
    "PluginSettings",
    "PluginSettingsSource",
    "is_scrubbed",
    "move_secrets_out",
    "secret_names",
]

SECRET_MASK = "********"  # what a secret that is set shows as
PREVIOUS_STORE = "storage:previous"  # the s3 settings a move of the originals remembers (files/store_choice.py)
SCRUB_OWED = "secrets:scrub-owed"  # settings key: secrets were found in library.db, its copies are still to clean

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_SECRET_NAME = re.compile(r"(^|_)(key|token|secret|password|passphrase|credentials?)$", re.IGNORECASE)
_SCRUBBED = re.compile(r"^\*+$")  # a secret a snapshot held, overwritten in place (snapshots/scrub.py)


def secret_names(fields: Iterable[str], declared: Iterable[str] = ()) -> set[str]:
    """Which of ``fields`` are secrets: those a plugin declares, and any named like a key, token or
    password (a plugin that is not installed declares nothing)."""
    return set(declared) | {field for field in fields if _SECRET_NAME.search(field)}


def is_scrubbed(value: object) -> bool:
    return isinstance(value, str) and bool(_SCRUBBED.match(value))


def _settings_keys(store: SettingsStore) -> list[tuple[str, str, dict[str, Any]]]:
    """(key, plugin, values) of every stored plugin settings entry, the remembered store included."""
    found = []
    for key, values in store.entries():
        plugin = "s3" if key == PREVIOUS_STORE else key.removeprefix("plugin:") if key.startswith("plugin:") else None
        if plugin is not None and isinstance(values, dict):
            found.append((key, plugin, values))
    return found


def move_secrets_out(
    store: SettingsStore, secrets: SecretStore, declared: Mapping[str, Iterable[str]] | None = None
) -> bool:
    """Move secrets found in the library's settings (written by a version that kept them there) into
    ``secrets``, and remember that the copies of library.db (its free pages, the snapshots) still hold them
    (``SCRUB_OWED``). A secret already in ``secrets`` is not replaced: a restored snapshot's old key never
    overrides today's. True when anything was found."""
    found = False
    for key, plugin, values in _settings_keys(store):
        names = secret_names(values, (declared or {}).get(plugin, ())) & set(values)
        if not names:
            continue
        found = True
        kept = secrets.get(key)
        for name in names:
            value = values[name]
            if isinstance(value, str) and value and not is_scrubbed(value) and name not in kept:
                kept[name] = value
        secrets.put(key, kept)  # before the settings lose them: a crash in between loses nothing
        with store.db.write():
            store.put(key, {k: v for k, v in values.items() if k not in names})
            store.put(SCRUB_OWED, True)
    return found


class PluginSettings:
    """The settings every plugin declared, for one library (or the defaults, with no library)."""

    def __init__(
        self,
        plugin_manager,
        store: SettingsStore | None = None,
        environ: Mapping[str, str] | None = None,
        secrets: SecretStore | None = None,
    ):
        self.store, self.secrets = store, secrets
        self.environ = os.environ if environ is None else environ
        self.schemas: dict[str, type[msgspec.Struct]] = {}

        def register(name: str, schema: type[msgspec.Struct]) -> None:
            if not _NAME.match(name) or name in self.schemas:
                raise PluginError(f"register_settings got a bad or repeated plugin name {name!r}")
            if not (isinstance(schema, type) and issubclass(schema, msgspec.Struct)):
                raise PluginError(f"the settings of {name!r} must be a msgspec Struct class, not {schema!r}")
            try:
                schema()
            except TypeError:
                raise PluginError(f"every setting of {name!r} needs a default") from None
            self.schemas[name] = schema

        plugin_manager.hook.register_settings(register=register)
        if store is not None and secrets is not None:  # a plugin's own secret names are known only now
            move_secrets_out(store, secrets, {name: self._secrets(name) for name in self.schemas})

    def _secrets(self, name: str) -> set[str]:
        schema = self.schemas[name]
        return secret_names(schema.__struct_fields__, getattr(schema, "secret_fields", ()))

    def _schema(self, name: str) -> type[msgspec.Struct]:
        try:
            return self.schemas[name]
        except KeyError:
            known = ", ".join(sorted(self.schemas)) or "none"
            raise NotFound(
                f"no plugin declares settings named {name!r} (plugins with settings: {known}){plugin_hint(name)}"
            ) from None

    def stored(self, name: str) -> dict[str, Any]:
        """What is stored for ``name`` (no defaults, no environment), its secrets included."""
        return self.load(f"plugin:{name}", name)

    def load(self, key: str, name: str) -> dict[str, Any]:
        """The settings of plugin ``name`` stored under ``key`` (``plugin:NAME``, or a remembered copy), with
        their secrets; a secret left in the library's settings (a restored old snapshot's) never counts."""
        self._schema(name)
        if self.store is None:
            return {}
        secret = self._secrets(name)
        values = {k: v for k, v in self.store.get(key, dict, {}).items() if k not in secret}
        if self.secrets is not None:
            values.update({k: v for k, v in self.secrets.get(key).items() if k in secret})
        return values

    def save(self, key: str, name: str, values: Mapping[str, Any]) -> None:
        """Store plugin ``name``'s ``values`` under ``key``: the secrets in the secret store, the rest with
        the library's settings."""
        if self.store is None or self.secrets is None:
            raise BadInput("plugin settings belong to a library: open one to change them")
        secret = self._secrets(name)
        self.secrets.put(key, {k: v for k, v in values.items() if k in secret and isinstance(v, str)})
        self.store.put(key, {k: v for k, v in values.items() if k not in secret})

    def saved(self, key: str) -> bool:
        """Whether anything is stored under ``key``."""
        return self.store is not None and self.store.get(key, object, None) is not None

    def forget(self, key: str) -> None:
        """Remove what is stored under ``key``, secrets included."""
        if self.store is not None and self.secrets is not None:
            self.secrets.put(key, {})
            self.store.delete(key)

    def get(self, name: str) -> msgspec.Struct:
        """The plugin's settings: defaults, then what is stored, then environment overrides."""
        schema = self._schema(name)
        values = self.stored(name)
        prefix = f"PIXLSTASH_{name.upper().replace('-', '_')}_"
        for field in schema.__struct_fields__:
            raw = self.environ.get(prefix + field.upper())
            if raw is None and self.environ.get(prefix + field.upper() + "_FILE"):
                raw = _read_value_file(prefix + field.upper() + "_FILE", self.environ[prefix + field.upper() + "_FILE"])
            if raw is not None:
                values[field] = _parse(schema, field, raw)
        return self._convert(schema, name, values)

    def shown(self, name: str, value: msgspec.Struct | None = None) -> dict[str, Any]:
        """The settings as people see them: secrets only as set (the mask) or not ("")."""
        value = self.get(name) if value is None else value
        shown = msgspec.to_builtins(value)
        for field in secret_names(shown, getattr(type(value), "secret_fields", ())):
            shown[field] = SECRET_MASK if shown.get(field) else ""
        return shown

    def all(self) -> dict[str, msgspec.Struct]:
        """Every plugin's settings, by plugin name: what hooks receive as ``settings``."""
        return {name: self.get(name) for name in sorted(self.schemas)}

    def update(self, name: str, changes: Mapping[str, Any]) -> msgspec.Struct:
        """Store changed fields for ``name`` after checking them; ``BadInput`` names what is wrong."""
        schema = self._schema(name)
        unknown = sorted(set(changes) - set(schema.__struct_fields__))
        if unknown:
            raise BadInput(f"{name} has no setting {', '.join(unknown)} (it has {', '.join(schema.__struct_fields__)})")
        if self.store is None:
            raise BadInput("plugin settings belong to a library: open one to change them")
        secret = self._secrets(name)
        changes = {k: v for k, v in changes.items() if not (k in secret and v == SECRET_MASK)}
        values = {**self.stored(name), **changes}
        checked = self._convert(schema, name, values)
        self.save(f"plugin:{name}", name, msgspec.to_builtins(checked))
        return checked

    def parse_assignments(self, name: str, assignments: list[str]) -> dict[str, Any]:
        """``field=value`` words from the command line, typed by the plugin's schema."""
        schema = self._schema(name)
        changes = {}
        for assignment in assignments:
            field, sep, raw = assignment.partition("=")
            if not sep or not field.strip():
                raise BadInput(f"settings are given as FIELD=VALUE, not {assignment!r}")
            changes[field.strip()] = _parse(schema, field.strip(), raw)
        return changes

    @staticmethod
    def _convert(schema: type[msgspec.Struct], name: str, values: dict[str, Any]) -> msgspec.Struct:
        try:
            return msgspec.convert(values, schema, strict=False)
        except msgspec.ValidationError as error:
            raise BadInput(f"invalid settings for {name}: {error}") from None


class PluginSettingsSource:
    """The current ``PluginSettings`` of one library, made again when the set of plugins changes (a plugin
    registered on an open library declares its settings at once)."""

    def __init__(self, plugin_manager, store: SettingsStore, secrets: SecretStore) -> None:
        self.plugin_manager, self.store, self.secrets = plugin_manager, store, secrets
        self._current: tuple[frozenset, PluginSettings] | None = None

    def current(self) -> PluginSettings:
        plugins = frozenset(id(p) for p in self.plugin_manager.get_plugins())
        if self._current is None or self._current[0] != plugins:
            self._current = (plugins, PluginSettings(self.plugin_manager, self.store, secrets=self.secrets))
        return self._current[1]


def _read_value_file(variable: str, path: str) -> str:
    """A setting's value from the file a ``*_FILE`` variable names, without its final line break."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read(1 << 16).rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"{variable}: cannot read {path}: {getattr(error, 'strerror', None) or error}") from None


def _parse(schema: type[msgspec.Struct], field: str, raw: str) -> Any:
    """A value typed by text: JSON when it reads as JSON, a comma-separated list for list fields, else text."""
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        pass
    annotation = str(schema.__annotations__.get(field, ""))
    if annotation.startswith(("list", "tuple", "set")):
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw
