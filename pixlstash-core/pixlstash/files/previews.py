"""The background preview pass: make the previews not made yet, newest pictures first, while idle.

Previews are made on a picture's first view (``PictureFiles``), which keeps the disk small. A user who
would rather have every overlay open at once turns ``ahead`` on; the server then makes the missing
previews a few at a time whenever nothing else is running, and stops within one picture when an import
or enrichment starts, when ``ahead`` is turned off (that is how it is cancelled) or when the server stops.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ..db.pictures import PictureStore
from ..db.settings import SettingsStore
from ..domain import PreviewProgress, PreviewSettings
from ..errors import PixlstashError
from ..system.memory import release_freed_memory
from .picture_files import PictureFiles

__all__ = ["PreviewPass"]

log = logging.getLogger(__name__)

_PAGE = 500
_SETTINGS_EVERY = 20  # pictures between two looks at the setting (a query) while a pass runs


class PreviewPass:
    def __init__(
        self, pictures: PictureStore, files: PictureFiles, settings_store: SettingsStore, busy: Callable[[], bool]
    ) -> None:
        self.pictures, self.files, self.settings_store, self.busy = pictures, files, settings_store, busy
        self.made = self.failed = 0
        self._running = threading.Event()
        self._lock = threading.Lock()

    def settings(self) -> PreviewSettings:
        return self.settings_store.get("previews", PreviewSettings, PreviewSettings())

    def configure(self, settings: PreviewSettings) -> PreviewSettings:
        self.settings_store.put("previews", settings)
        return settings

    def progress(self) -> PreviewProgress:
        return PreviewProgress(self.settings(), self._running.is_set(), self.made, self.failed)

    def run_when_idle(self, should_stop: Callable[[], bool] = lambda: False) -> int:
        """The server's periodic task: a pass when ``ahead`` is on and nothing else runs."""
        if not self.settings().ahead or self.busy():
            return 0
        return self.run(lambda: should_stop() or self.busy(), keep_checking_setting=True)

    def run(
        self, should_stop: Callable[[], bool] = lambda: False, *, limit: int | None = None, keep_checking_setting=False
    ) -> int:
        """Make missing previews, newest pictures first, until done, ``limit`` or ``should_stop()``.
        Returns how many were made. One pass at a time per process (a second call returns 0)."""
        if not self._lock.acquire(blocking=False):
            return 0
        self._running.set()
        made, cursor = 0, 1 << 62
        try:
            while limit is None or made < limit:
                page = self.pictures.images_below(cursor, _PAGE)
                if not page:
                    break
                for picture_id, content_hash in page:
                    cursor = picture_id
                    if self.files.thumbnails.exists(content_hash, "preview"):
                        continue
                    if should_stop() or (limit is not None and made >= limit):
                        return made
                    if keep_checking_setting and made % _SETTINGS_EVERY == 0 and not self.settings().ahead:
                        return made
                    try:
                        self.files.thumbnail_path(picture_id, "preview")
                        made += 1
                        self.made += 1
                    except (PixlstashError, OSError) as error:  # a missing or broken original: next one
                        self.failed += 1
                        log.info("no preview for picture %d: %s", picture_id, error)
            return made
        finally:
            self._running.clear()
            self._lock.release()
            if made:
                release_freed_memory()
