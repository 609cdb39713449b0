"""Native crashes say where they happened, and never end a command silently.

``faulthandler`` prints every thread's Python stack to standard error when a native library crashes the
process (a segmentation fault in an extension module, an abort). Commands that run engines (``enrich``)
run in a child process watched by this one, so that a crash there also ends with one line saying what
happened and what to do, and the exit status says it failed. The parent imports nothing heavy: it costs
one bare interpreter.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
from collections.abc import Sequence

__all__ = ["SUPERVISED_COMMANDS", "enable_crash_reports", "run_supervised", "should_supervise"]

# Commands that load engines (native code from plugins) and run long enough to be worth a watcher.
SUPERVISED_COMMANDS = frozenset({"enrich"})
_CHILD_ENV = "PIXLSTASH_SUPERVISED"
_PR_SET_PDEATHSIG = 1


def enable_crash_reports() -> None:
    """Every thread's stack to the real standard error on a fatal signal (the server's log is its stderr)."""
    stream = sys.__stderr__
    if stream is not None and not faulthandler.is_enabled():
        try:
            faulthandler.enable(file=stream, all_threads=True)
        except (ValueError, OSError, AttributeError):  # no file descriptor (an embedding host's stderr)
            pass


def should_supervise(args: Sequence[str]) -> bool:
    """Whether this invocation runs its command in a watched child process: only a command-line run (the
    child is started exactly as this process was), and only on Linux, where the child can be made to die
    with its parent (a parent killed with SIGKILL must not leave an orphan holding the library)."""
    if os.environ.get(_CHILD_ENV) or not sys.platform.startswith("linux") or list(args) != sys.argv[1:]:
        return False
    command = next((a for a in args if not a.startswith("-")), None)
    return command in SUPERVISED_COMMANDS and not {"-h", "--help"} & set(args)


def run_supervised(args: Sequence[str]) -> int:
    """Run this same command line in a child process; a death by signal becomes one line and status 1."""
    # Imported here, not at the top: only supervised commands (serve, worker) need them, not every start.
    # (Before the fork: an import in preexec_fn could wait on a lock another thread held at fork time.)
    import ctypes
    import subprocess

    libc = ctypes.CDLL(None, use_errno=True)
    env = {**os.environ, _CHILD_ENV: "1"}
    child = subprocess.Popen(sys.orig_argv, env=env, preexec_fn=lambda: libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL))
    forward = {signal.SIGTERM, signal.SIGHUP}
    previous = {sig: signal.signal(sig, lambda s, _f: child.send_signal(s)) for sig in forward}
    # Ctrl+C reaches the child from the terminal itself; the child stops cleanly and says so.
    previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        status = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if status >= 0:
        return status
    number = -status
    if number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        return 130 if number == signal.SIGINT else 128 + number
    name = _describe(number)
    command = next((a for a in args if not a.startswith("-")), "pixlstash")
    print(
        f"error: pixlstash {command} crashed with {name} (signal {number}) inside a native library; the stack "
        "above shows where. Unfinished work resumes on the next run. Run `pixlstash doctor` to check the "
        "installed versions against the tested set.",
        file=sys.stderr,
    )
    return 1


def _describe(number: int) -> str:
    names = {
        signal.SIGSEGV: "a segmentation fault",
        signal.SIGABRT: "an abort",
        signal.SIGBUS: "a bus error",
        signal.SIGILL: "an illegal instruction",
        signal.SIGFPE: "a floating-point exception",
        signal.SIGKILL: "SIGKILL (out of memory, or killed)",
    }
    return names.get(number, signal.Signals(number).name)
