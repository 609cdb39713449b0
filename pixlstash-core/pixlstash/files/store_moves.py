"""Moving a library's originals from one store to another (the library's folder to a bucket, a bucket back,
one bucket to another): every original copied and checked, resumable after a kill (what the target holds
is not copied again), the old copies left in place. Switching the library to the target is the caller's
step, taken only once ``missing`` is empty."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import msgspec

from ..errors import PixlstashError
from .originals import OriginalStore
from .staged import fetch_checked

__all__ = ["MoveReport", "StoreMove"]

_CHUNK = 1 << 20
WORKERS = 4  # objects in flight at once (a bucket answers each in milliseconds; the network is the limit)


class MoveReport(msgspec.Struct):
    total: int
    copied: int = 0
    present: int = 0  # the target held them already (an earlier, interrupted run)
    failed: list[str] = []  # one line each: "<hash>: why"
    missing: list[str] = []  # what the final check did not find whole in the target


class StoreMove:
    def __init__(self, source: OriginalStore, target: OriginalStore, scratch: Path) -> None:
        self.source, self.target, self.scratch = source, target, scratch

    def run(
        self, originals: Sequence[tuple[str, str, int]], progress: Callable[[MoveReport], None] | None = None
    ) -> MoveReport:
        """Copy each (hash, suffix, size) the target lacks, then check that the target holds every one."""
        self.scratch.mkdir(parents=True, exist_ok=True)
        for left in self.scratch.glob(".moving-*"):  # a killed run's half-fetched file
            left.unlink(missing_ok=True)
        report = MoveReport(total=len(originals))
        lock = threading.Lock()

        def one(item: tuple[str, str, int]) -> None:
            content_hash, suffix, _ = item
            try:
                copied = self._copy(content_hash, suffix)
            except (PixlstashError, OSError) as error:
                with lock:
                    report.failed.append(f"{content_hash[:16]}…{suffix}: {getattr(error, 'message', error)}")
                return
            with lock:
                if copied:
                    report.copied += 1
                else:
                    report.present += 1
                if progress is not None:
                    progress(report)

        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(one, originals))
        report.missing = self.check(originals)
        return report

    def _copy(self, content_hash: str, suffix: str) -> bool:
        if self.target.exists(content_hash, suffix):
            return False
        local = self.source.local_path(content_hash, suffix)
        if local is not None:
            if not local.is_file():
                raise FileNotFoundError(f"not in {self.source.where()}")
            self.target.put(content_hash, local, suffix)
            return True
        fetched = fetch_checked(self.source, content_hash, suffix, self.scratch, ".moving-")
        try:
            self.target.put(content_hash, fetched, suffix, move=True)
        finally:
            fetched.unlink(missing_ok=True)
        return True

    def check(self, originals: Sequence[tuple[str, str, int]]) -> list[str]:
        """Those the target does not hold at their size (one line each)."""
        missing: list[str] = []

        def one(item: tuple[str, str, int]) -> None:
            content_hash, suffix, size = item
            try:
                held = self.target.size(content_hash, suffix)
            except FileNotFoundError:
                held = -1
            except PixlstashError as error:
                missing.append(f"{content_hash[:16]}…{suffix}: {error.message}")
                return
            if held != size:
                missing.append(
                    f"{content_hash[:16]}…{suffix}: " + ("absent" if held < 0 else f"{held} bytes of {size}")
                )

        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(one, originals))
        return sorted(missing)
