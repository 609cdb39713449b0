"""How many tokens each caption becomes in the text encoders a trainer feeds it to, and which are cut.

The tokenizers are the encoders' own, brought by plugins (``register_caption_tokenizers``): the CLIP
plugin brings CLIP's BPE from open_clip, and T5's from its tokenizer file where one is on the machine.
The core counts no token itself; without such a plugin the report says so. Counts are kept per caption
text in one file (``indexes/caption-tokens.v1.msgpack``), so a check again loads no tokenizer unless a
caption changed: loading CLIP's takes seconds (open_clip imports torch).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import statistics
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import msgspec

from ..system.atomic import write_atomically

__all__ = ["CaptionTokenizer", "TokenCache", "TokenCount", "token_counts"]

log = logging.getLogger(__name__)


class CaptionTokenizer(Protocol):
    """A text encoder's tokenizer, as a trainer runs it on a caption file's text."""

    id: str  # "clip", "t5": what the counts are kept under
    label: str  # said to the person: "CLIP (SD 1.5, SDXL)"
    window: int  # tokens of a caption the encoder reads, its start and end tokens not counted

    def unavailable(self) -> str:
        """Why it cannot count on this machine (its files are not here, and where they go); "" when it can."""
        ...

    def count(self, texts: Sequence[str]) -> list[int]:
        """The tokens each text becomes, start and end tokens not counted."""
        ...


class TokenCount(msgspec.Struct, frozen=True):
    """One tokenizer's counts over a set's captions."""

    tokenizer: str
    label: str
    window: int
    per_picture: dict[int, int] = {}  # picture id: tokens its caption becomes
    cut: list[int] = []  # captions longer than the window (the rest is not read), longest first
    median: float = 0.0
    most: int = 0
    unavailable: str = ""  # not counted: why, and how to make it count


_MOST_KEPT = 1_000_000  # texts kept per tokenizer before the file starts again


class TokenCache:
    """The counts already made, by tokenizer and caption text (a digest of it: no caption is kept in the
    file). Derived data beside the vector indexes: deleting it costs a tokenizer's loading, nothing else."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._counts: dict[str, dict[bytes, int]] | None = None
        self._lock = threading.Lock()  # the server checks sets in several threads

    def _load(self) -> dict[str, dict[bytes, int]]:
        if self._counts is None:
            try:
                self._counts = msgspec.msgpack.decode(self.path.read_bytes(), type=dict[str, dict[bytes, int]])
            except (OSError, msgspec.DecodeError, msgspec.ValidationError):
                self._counts = {}  # none yet, or unreadable: counted again
        return self._counts

    def counts(self, tokenizer: CaptionTokenizer, texts: Sequence[str]) -> list[int]:
        """Each text's count: the kept ones, and the others counted now (and kept)."""
        with self._lock:
            return self._counts_of(tokenizer, texts)

    def _counts_of(self, tokenizer: CaptionTokenizer, texts: Sequence[str]) -> list[int]:
        kept = self._load().setdefault(tokenizer.id, {})
        keys = [_digest(text) for text in texts]
        new = {key: text for key, text in zip(keys, texts, strict=True) if key not in kept}
        if new:
            if len(kept) + len(new) > _MOST_KEPT:
                kept.clear()
            kept.update(zip(new, tokenizer.count(list(new.values())), strict=True))
            with contextlib.suppress(OSError):  # a cache: not kept this time
                write_atomically(self.path, msgspec.msgpack.encode(self._load()))
        return [kept[key] for key in keys]


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).digest()


def _of(tokenizer: CaptionTokenizer, **found) -> TokenCount:
    return TokenCount(tokenizer.id, tokenizer.label, tokenizer.window, **found)


def token_counts(
    tokenizers: Sequence[CaptionTokenizer], captions: dict[int, str], cache: TokenCache
) -> list[TokenCount]:
    """Each tokenizer's counts of ``captions`` (picture id: caption text, empty ones left out); one that
    cannot count here, or fails, says why instead."""
    ids = [pid for pid, text in captions.items() if text]
    found = []
    for tokenizer in tokenizers:
        why = tokenizer.unavailable()
        if why:
            found.append(_of(tokenizer, unavailable=why))
            continue
        try:
            counts = dict(zip(ids, cache.counts(tokenizer, [captions[pid] for pid in ids]), strict=True))
        except Exception as error:  # a broken tokenizer install must not fail the rest of the check
            # The error stays in the log: a parser's message may quote the file, which the person who named
            # it in a setting over the API may not be allowed to read.
            log.warning("%s could not count caption tokens: %s: %s", tokenizer.id, type(error).__name__, error)
            found.append(_of(tokenizer, unavailable="its tokenizer failed to load or run (the log says why)"))
            continue
        over = sorted((pid for pid, n in counts.items() if n > tokenizer.window), key=lambda pid: (-counts[pid], pid))
        values = list(counts.values())
        found.append(
            _of(
                tokenizer,
                per_picture=counts,
                cut=over,
                median=statistics.median(values) if values else 0.0,
                most=max(values, default=0),
            )
        )
    return found
