"""Snapshots of the library's metadata, and full, selective and previewed restores.

Taking one: SQLite's online backup copies the database inside one read transaction (in WAL mode
writers carry on), the copy is cut into fixed 64 KiB chunks, and each chunk is stored once, named by
its BLAKE2b-256 hash and compressed with zstd. Snapshots share every unchanged chunk, so a second
snapshot of an unchanged library writes almost nothing. Chunks are written first and the catalog row
last, so a crash leaves either a whole snapshot or none (and some orphan chunks, swept later).

Restoring: chunks are read back and checked against their names (a damaged chunk stops the restore),
the copy is upgraded by the library's migrations if it is older, a SAFETY snapshot is taken, and the
copy is written into the live database with SQLite's backup API as one transaction: after a crash the
library is either as it was or as restored. Image files are never touched, and credentials live in
``auth.db``, which no restore changes.
"""

from .chunks import SnapshotDamaged
from .service import RestoreResource, SnapshotService, SnapshotSettings

__all__ = ["RestoreResource", "SnapshotDamaged", "SnapshotService", "SnapshotSettings"]
