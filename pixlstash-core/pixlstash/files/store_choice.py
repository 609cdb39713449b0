"""Which store a library keeps its originals in, and changing it: a bucket named as ``s3://BUCKET/PREFIX``
(the ``pixlstash-s3`` plugin's settings) or the library's own folder (``local``). The store before a move
is remembered, so that its copies can be deleted later (``--delete-source``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec
import pluggy

from ..db.pictures import PictureStore
from ..errors import BadInput, NotFound, PixlstashError, StorageUnavailable
from ..plugin_settings import PREVIOUS_STORE, PluginSettingsSource
from .originals import OriginalStore

__all__ = [
    "StorageState",
    "StoreChoice",
    "bucket_settings",
    "check_store_installed",
    "parse_store_url",
    "storage_state",
]

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX_PART = re.compile(r"^[A-Za-z0-9!_.*'()-]+$")


def parse_store_url(url: str) -> tuple[str, str] | None:
    """``s3://BUCKET/PREFIX`` as (bucket, prefix); ``local`` as None. Anything else is refused: a prefix is
    plain names (no ``..``, no empty parts), a bucket is a valid S3 bucket name."""
    if url == "local":
        return None
    if not url.startswith("s3://"):
        raise BadInput(f"a store is s3://BUCKET/PREFIX or local, not {url!r}")
    bucket, _, prefix = url[5:].partition("/")
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise BadInput(f"{bucket!r} is not a bucket name (3-63 lower-case letters, digits, dots and dashes)")
    parts = prefix.strip("/").split("/") if prefix.strip("/") else []
    if any(part in (".", "..") or not _PREFIX_PART.match(part) for part in parts):
        raise BadInput(f"the prefix {prefix!r} must be plain names joined by / (no .., no spaces)")
    return bucket, "/".join(parts)


def bucket_settings(stored: Mapping[str, Any], bucket: str, prefix: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """The s3 settings of ``s3://BUCKET/PREFIX`` with the options ``given`` (None: not given). Another bucket
    or prefix at the service the library's originals use (``stored``: its s3 settings) takes that service's
    address and credentials, unless another endpoint is named: credentials never go to another service."""
    given = {k: v for k, v in given.items() if v is not None}
    endpoint = str(stored.get("endpoint", "")).rstrip("/")
    same_service = str(given.get("endpoint", endpoint)).rstrip("/") == endpoint
    base = stored if stored.get("bucket") and same_service else {}
    return {**base, **given, "bucket": bucket, "prefix": prefix}


def check_store_installed(store: OriginalStore, stored_s3: Mapping[str, Any]) -> None:
    """Raise ``StorageUnavailable`` when the library keeps its originals in a bucket (``stored_s3``: the s3
    settings as stored, read without the plugin) and ``store``, the one the installed plugins made, is not
    the bucket's: imports would land in a folder the library does not read once the plugin is back."""
    bucket = stored_s3.get("bucket") if isinstance(stored_s3, Mapping) else None
    if bucket and store.id != "s3":
        prefix = str(stored_s3.get("prefix") or "")
        raise StorageUnavailable(
            f"this library keeps its originals in s3://{bucket}/{prefix}, and the plugin that reads them is not "
            "installed or not loaded: pip install pixlstash-s3 (and s3 in PIXLSTASH_LOAD_PLUGINS, if that is set)"
        )


class StorageState(msgspec.Struct, frozen=True):
    """Where a library's originals live, how many, and whether the store answers now."""

    store: str  # local, s3, or another plugin's store id
    where: str
    originals: int
    state: str  # "answers", or why not in one line
    remote: bool = False  # not on this machine (the endpoint it names is contacted)


def storage_state(store: OriginalStore, pictures: PictureStore) -> StorageState:
    try:
        store.check()
        state = "answers"
    except PixlstashError as error:
        state = error.message
    count = pictures.managed_original_count()
    return StorageState(store.id, store.where(), count, state, store.remote)


class StoreChoice:
    def __init__(self, plugin_settings: PluginSettingsSource, plugin_manager: pluggy.PluginManager, root: Path) -> None:
        self.plugin_settings, self.plugin_manager, self.root = plugin_settings, plugin_manager, root

    def _schema(self) -> type[msgspec.Struct]:
        schema = self.plugin_settings.schemas.get("s3")
        if schema is None:
            raise NotFound("object storage needs the s3 plugin: pip install pixlstash-s3 (scripts/setup installs it)")
        return schema

    def store_for(self, url: str, **options: Any) -> OriginalStore:
        """The store ``url`` names (with ``options``: endpoint, region, path_style, access_key_id,
        secret_access_key), built as the library would build it."""
        settings = dict(self.plugin_settings.all())
        if (parsed := parse_store_url(url)) is not None or "s3" in self.plugin_settings.schemas:
            settings["s3"] = self.settings_for(url, **options)
        store = self.plugin_manager.hook.make_original_store(library_root=self.root, settings=settings)
        if store is None:
            raise NotFound(f"no plugin provides a store for {url}")
        if parsed is not None and store.id != "s3":
            raise NotFound(f"no plugin provides a store for {url}: pip install pixlstash-s3")
        return store

    def settings_for(self, url: str, **options: Any) -> msgspec.Struct:
        parsed = parse_store_url(url)
        if parsed is None:
            return self._schema()()  # no bucket: the library's folder
        schema, stored = self._schema(), self.plugin_settings.stored("s3")
        try:
            return msgspec.convert(bucket_settings(stored, *parsed, options), schema)
        except msgspec.ValidationError as error:
            raise BadInput(f"invalid storage options: {error}") from None

    def switch(self, url: str, **options: Any) -> None:
        """Make the library keep its originals in ``url`` from now on, remembering where they were."""
        plugin_settings = self.plugin_settings
        if "s3" in plugin_settings.schemas:
            plugin_settings.save(PREVIOUS_STORE, "s3", plugin_settings.stored("s3"))
            chosen = msgspec.to_builtins(self.settings_for(url, **options))
            plugin_settings.update("s3", chosen)
        elif parse_store_url(url) is not None:
            self._schema()

    def previous_store(self) -> OriginalStore | None:
        """The store the last switch left (its copies may still be there), or None."""
        if not self.plugin_settings.saved(PREVIOUS_STORE):
            return None
        schema = self._schema()
        settings = dict(self.plugin_settings.all())
        settings["s3"] = msgspec.convert(self.plugin_settings.load(PREVIOUS_STORE, "s3"), schema)
        return self.plugin_manager.hook.make_original_store(library_root=self.root, settings=settings)

    def forget_previous(self) -> None:
        self.plugin_settings.forget(PREVIOUS_STORE)
