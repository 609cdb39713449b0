"""PixlStash hook specifications. Hooks are called by keyword and only ever gain arguments."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import argparse

    from .engines import Captioner, Embedder, FaceExtractor, Tagger
    from .originals import OriginalStore
    from .sharing import ShareTarget, ShareTransform

hookspec = pluggy.HookspecMarker("pixlstash")
hookimpl = pluggy.HookimplMarker("pixlstash")


@hookspec
def register_taggers(register: Callable[[Tagger], None]) -> None:
    """Register tagger engines by calling ``register(tagger)`` once per engine."""


@hookspec
def register_captioners(register: Callable[[Captioner], None]) -> None:
    """Register captioner engines by calling ``register(captioner)`` once per engine."""


@hookspec
def register_embedders(register: Callable[[Embedder], None]) -> None:
    """Register embedder engines by calling ``register(embedder)`` once per engine."""


@hookspec
def register_face_extractors(register: Callable[[FaceExtractor], None]) -> None:
    """Register face extractor engines by calling ``register(extractor)`` once per engine."""


@hookspec(firstresult=True)
def make_original_store(library_root: Path, settings: dict[str, object]) -> OriginalStore | None:
    """Return the store for managed originals of the library at ``library_root``, or None to pass."""


@hookspec
def register_share_transforms(register: Callable[[ShareTransform], None]) -> None:
    """Register transforms applied, in registration order, to every image a share recipient gets."""


@hookspec
def register_share_targets(register: Callable[[ShareTarget], None]) -> None:
    """Register destinations a share link can be delivered to."""


@hookspec
def register_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add subcommands to the ``pixlstash`` CLI with ``subparsers.add_parser(...)``."""
