"""PixlStash hook specifications. Hooks are called by keyword and only ever gain arguments."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from .backups.bucket import BackupBucket
    from .engines import Captioner, Embedder, FaceExtractor, Scorer, Tagger, TextReader
    from .files.originals import OriginalStore
    from .sharing import ShareTarget, ShareTransform
    from .training.caption_tokens import CaptionTokenizer

hookspec = pluggy.HookspecMarker("pixlstash")
hookimpl = pluggy.HookimplMarker("pixlstash")


@hookspec
def register_taggers(register: Callable[[Tagger], None], settings: Mapping[str, Any]) -> None:
    """Register tagger engines by calling ``register(tagger)`` once per engine;
    ``settings`` maps plugin names to their settings (see ``register_settings``)."""


@hookspec
def register_captioners(register: Callable[[Captioner], None], settings: Mapping[str, Any]) -> None:
    """Register captioner engines by calling ``register(captioner)`` once per engine;
    ``settings`` maps plugin names to their settings (see ``register_settings``)."""


@hookspec
def register_embedders(register: Callable[[Embedder], None], settings: Mapping[str, Any]) -> None:
    """Register embedder engines by calling ``register(embedder)`` once per engine;
    ``settings`` maps plugin names to their settings (see ``register_settings``)."""


@hookspec
def register_face_extractors(register: Callable[[FaceExtractor], None], settings: Mapping[str, Any]) -> None:
    """Register face extractor engines by calling ``register(extractor)`` once per engine;
    ``settings`` maps plugin names to their settings (see ``register_settings``)."""


@hookspec
def register_scorers(register: Callable[[Scorer], None], settings: Mapping[str, Any]) -> None:
    """Register scorer engines (one number per picture: quality, aesthetics, prompt match) by calling
    ``register(scorer)`` once per engine; ``settings`` maps plugin names to their settings."""


@hookspec
def register_text_readers(register: Callable[[TextReader], None], settings: Mapping[str, Any]) -> None:
    """Register OCR engines (the text in pictures, with its regions) by calling ``register(reader)`` once per
    engine; ``settings`` maps plugin names to their settings."""


@hookspec
def register_caption_tokenizers(register: Callable[[CaptionTokenizer], None], settings: Mapping[str, Any]) -> None:
    """Register the tokenizers of text encoders trainers feed captions to (``training.caption_tokens``),
    for the dataset check's token counts: ``register(tokenizer)`` once each. Loading one must wait for its
    first ``count``: the check asks for them even when every count is already kept."""


@hookspec
def register_settings(register: Callable[[str, type], None]) -> None:
    """Declare this plugin's settings: ``register(name, SettingsStruct)``, a msgspec Struct with defaults."""


@hookspec(firstresult=True)
def make_original_store(library_root: Path, settings: Mapping[str, Any]) -> OriginalStore | None:
    """Return the store for the originals of the library at ``library_root``, or None; ``settings`` as above."""


@hookspec(firstresult=True)
def open_backup_bucket(
    bucket: str, prefix: str, options: Mapping[str, Any], settings: Mapping[str, Any]
) -> BackupBucket | None:
    """Return the bucket backups go to (``s3://BUCKET/PREFIX``), or None. ``options`` are what the person
    gave (``endpoint``, ``region``, ``path_style``; each may be missing); ``settings`` are the library's
    plugin settings (empty without a library): its store's endpoint and credentials serve a backup to the
    same endpoint."""


@hookspec
def register_share_transforms(register: Callable[[ShareTransform], None]) -> None:
    """Register transforms applied, in registration order, to every image a share recipient gets."""


@hookspec
def register_share_targets(register: Callable[[ShareTarget], None]) -> None:
    """Register destinations a share link can be delivered to."""


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands to the ``pixlstash`` CLI: ``cli.add_command(command)`` or ``@cli.command()``.

    The older way: a command declared in the ``pixlstash.commands`` entry-point group loads only its own
    module when it runs, where one added here loads every plugin (docs/plugins.md)."""
