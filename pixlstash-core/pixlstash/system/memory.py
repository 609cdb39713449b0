"""Giving freed memory back to the operating system.

Decoding a large image allocates tens of megabytes at a time; glibc keeps freed heap memory in each
thread's arena for reuse, so a server's RSS after an import depends on the largest images it last saw
(measured: 69 MB before an import of 570 pictures of up to 4096 px, 114 MB 30 s after). ``malloc_trim``
returns the free pages of every arena; it takes a few milliseconds and is called when a batch of preview
renders ends, and a moment after the last of a burst of imports (``release_when_quiet``). Elsewhere
(macOS, musl, Windows) it is a no-op.

Not after each import: a client sending a folder in 25-file requests had every request fault its decode
buffers in afresh (48,000-60,000 page faults for 60 big files, against 33,000-41,000 when the memory
stayed until the last request; 62 % against 65 % of the machine's decode limit, benchmarks/README.md,
issue 65).

``malloc_trim`` cannot shrink the top of a thread arena, though, and glibc gives each busy thread an
arena of its own: after an import the four or five arenas of the import's threads kept 9-18 MB each
at their tops (``malloc_info``: 48 MB free, none of it returned), 29 MB over the server's RSS before the
import, whatever the import's size. A long-running process therefore keeps one arena
(``M_ARENA_MAX``): its top is trimmed, and an import of 600 pictures measured as fast (10.7 s against
10.5 s) and left 4 MB. Decoders allocate a few large buffers per picture, so the one arena's lock is
not contended.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import os
import sys
import threading
from collections.abc import Iterator

__all__ = ["collector_paused", "keep_one_heap", "release_freed_memory", "release_when_quiet"]

_M_ARENA_MAX = -8  # glibc's mallopt parameter
QUIET_SECONDS = 1.0  # a burst's requests come tens of milliseconds apart


def _glibc_function(name: str, argtypes: list):
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        function = getattr(libc, name)
    except (OSError, AttributeError):  # not glibc
        return None
    function.argtypes, function.restype = argtypes, ctypes.c_int
    return function


_malloc_trim = _glibc_function("malloc_trim", [ctypes.c_size_t])


def keep_one_heap() -> None:
    """Make every thread allocate from one glibc arena, for a long-running process; call it before the
    process starts threads (threads given an arena earlier keep theirs). A ``MALLOC_ARENA_MAX`` the
    user set wins."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    mallopt = _glibc_function("mallopt", [ctypes.c_int, ctypes.c_int])
    if mallopt is not None:
        mallopt(_M_ARENA_MAX, 1)


def release_freed_memory() -> None:
    """Return freed heap memory to the operating system where the C library allows it."""
    if _malloc_trim is not None:
        _malloc_trim(0)


_quiet_lock = threading.Lock()
_quiet_timer: threading.Timer | None = None


def release_when_quiet(seconds: float = QUIET_SECONDS) -> None:
    """Return freed heap memory once ``seconds`` have passed without another call: the next request of a
    burst reuses the memory the last one freed instead of faulting it in again."""
    global _quiet_timer
    if _malloc_trim is None:
        return
    with _quiet_lock:
        if _quiet_timer is not None:
            _quiet_timer.cancel()
        _quiet_timer = threading.Timer(seconds, release_freed_memory)
        _quiet_timer.name = "pixlstash-release-memory"
        _quiet_timer.daemon = True  # a process that ends has nothing to give back
        _quiet_timer.start()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector held off while a burst of objects without cycles is made: reading a
    library's rows makes millions of tuples and strings, and the collector would walk them all several
    times (a third of numbering 100,000 pictures' settings, measured). Another thread that pauses it too
    just finds it paused; whoever paused it starts it again."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
