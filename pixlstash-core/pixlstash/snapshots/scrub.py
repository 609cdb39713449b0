"""Secrets out of the snapshots taken while the library database held them.

Earlier versions kept the plugins' secrets (an API key, a bucket's secret key) in ``library.db``, so
every snapshot's chunks held them, and every backup copies the chunks. On upgrade the library moves them
to ``secrets.db`` (``plugin_settings.move_secrets_out``), and this overwrites them in every chunk, in
place and byte for byte with ``*``: each snapshot's database stays whole, and restoring one finds no key
to use (the library keeps today's).

What is overwritten:
- every value the library keeps as a secret now, wherever it is, when it is at least ``MIN_SECRET`` bytes
  long (a shorter one could match a tag or a caption by chance);
- in every settings row of a snapshot, live or left in a page's free space by an earlier change (a key
  replaced since), the value of each field named like a key, token or password. A row's key
  (``plugin:NAME``) is followed by its JSON in the file, and both lie in one page: settings rows are far
  smaller than a page, and chunks start on page boundaries.

Chunks are named by their content's hash: a changed chunk is written under its new name, the chunk lists
point at it, and the old file is deleted.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

import msgspec

from ..db.database import Database
from ..db.schema import migrate
from ..db.snapshot_catalog import CATALOG_MIGRATIONS, SnapshotCatalog
from ..plugin_settings import is_scrubbed, secret_names
from .chunks import ChunkStore, SnapshotDamaged
from .lock import folder_lock

__all__ = ["MIN_SECRET", "scrub_chunk", "scrub_secrets"]

MIN_SECRET = 8
_ROW = re.compile(rb"(?:plugin:[a-z0-9][a-z0-9_-]{0,63}|storage:previous)\{")
_FIELD = re.compile(rb'"([A-Za-z0-9_]{1,64})"\s{0,8}:\s{0,8}"((?:[^"\\]|\\.){1,4096})"')


def _forms(secret: str) -> set[bytes]:
    """How ``secret`` can appear in a database file: as text, and inside a JSON string."""
    as_json = msgspec.json.encode(secret)[1:-1]
    return {form for form in (secret.encode(), as_json) if len(form) >= MIN_SECRET}


def scrub_chunk(data: bytes, secrets: Iterable[bytes], page_size: int) -> bytes | None:
    """``data`` with every secret in it overwritten by ``*``; None when it holds none."""
    out: bytearray | None = None

    def blank(start: int, end: int) -> None:
        nonlocal out
        if out is None:
            out = bytearray(data)
        out[start:end] = b"*" * (end - start)

    for secret in secrets:
        start = data.find(secret)
        while start != -1:
            blank(start, start + len(secret))
            start = data.find(secret, start + len(secret))
    for row in _ROW.finditer(data):
        page_end = (row.start() // page_size + 1) * page_size
        for field in _FIELD.finditer(data, row.end() - 1, page_end):
            value = field.group(2)
            if secret_names([field.group(1).decode()]) and not is_scrubbed(value.decode("utf-8", "replace")):
                blank(field.start(2), field.end(2))
    return None if out is None else bytes(out)


def scrub_secrets(folder: Path, known: Iterable[str]) -> int:
    """Overwrite the secrets in every chunk of the snapshots in ``folder`` (``known``: the secrets the
    library keeps now); returns how many chunks changed."""
    if not (folder / "catalog.db").is_file():
        return 0
    secrets = sorted({form for secret in known for form in _forms(secret)}, key=len, reverse=True)
    db = Database(folder / "catalog.db")
    try:
        migrate(db.connection, CATALOG_MIGRATIONS)
        catalog, chunks = SnapshotCatalog(db), ChunkStore(folder / "chunks")
        with folder_lock(folder, None):  # no snapshot is taken, restored or pruned meanwhile
            page_size = catalog.smallest_page_size()
            changed: dict[str, tuple[str, int, int]] = {}
            for digest, raw_bytes in catalog.chunk_sizes():
                try:
                    data = chunks.read(digest, raw_bytes)
                except SnapshotDamaged:
                    continue  # `snapshot verify` names it; nothing here can mend it
                scrubbed = scrub_chunk(data, secrets, page_size)
                if scrubbed is not None:
                    new = hashlib.blake2b(scrubbed, digest_size=32).hexdigest()
                    changed[digest] = (new, len(scrubbed), chunks.write(new, scrubbed))
            if changed:
                with db.write():
                    for old, (new, raw_bytes, stored_bytes) in changed.items():
                        catalog.add_chunk(new, raw_bytes, stored_bytes)
                        catalog.replace_chunk(old, new)
                    catalog.forget_chunks(list(changed))
            chunks.sweep(catalog.all_chunk_hashes())  # the old files, and any a crash left
        return len(changed)
    finally:
        db.close()
