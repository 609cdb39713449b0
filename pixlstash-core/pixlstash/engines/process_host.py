"""Engines that run in a process of their own, so that their libraries and weights leave with it.

A module cannot be unimported: an engine loaded in the server would keep torch (about 900 MB of mapped
libraries on Linux, measured in ``benchmarks/bench_engine_memory.py``) for the server's whole life after a
single search. An engine class that sets ``own_process = True`` (the CLIP, JoyCaption, WD tagger and faces
engines do) is run instead by a child interpreter, started when the engine loads and ended when it
unloads, the idle unload included: the memory comes back whole.

The child builds the engine as this process does, from the installed plugins with the library's plugin
settings, then takes calls: images or texts in, results out (engine calls are pure; nothing in the child
touches the library). The stand-in here (``HostedEngine``) answers everything else from an engine built in
this process, which reads its files but loads nothing. A native crash in the child fails the call it was
making, naming the signal (its stack is on standard error); the next call starts a new child.
"""

from __future__ import annotations

import importlib
import os
import signal
import socket
import subprocess
import sys
import threading
import types
from collections.abc import Mapping
from multiprocessing.connection import Connection
from typing import Any

from .. import errors
from .base import Engine, OutOfDeviceMemory, is_out_of_memory

__all__ = ["EngineHosts", "EngineInterrupted", "EngineProcessCrashed", "HostedEngine"]

# What the child runs; everything else about an engine is answered here.
_CALLS = frozenset(
    {
        "embed_images",
        "embed_texts",
        "tag",
        "describe",
        "extract",
        "likeness",
        "score",
        "read",
        "devices",
        "batch_size",
        "device_note",
    }
)


class EngineProcessCrashed(RuntimeError):
    """The engine's process died during a call (a native crash, or killed)."""


class EngineInterrupted(EngineProcessCrashed):
    """The engine's process was ended during a call on purpose: Ctrl+C reached it, or ``interrupt()``."""


_INTERRUPTED = 130  # the child's exit status after Ctrl+C, as a shell reports one


class EngineHosts:
    """The engine processes of one library: engines whose class names the same ``own_process`` group
    (JoyCaption's captioner and tagger share their weights) share one child."""

    def __init__(self, plugin_manager) -> None:
        self.plugin_manager = plugin_manager
        self._hosts: dict[str, _Host] = {}

    def wrap(self, engine: Engine, settings: Mapping[str, Any]) -> Engine:
        """``engine`` itself, or a stand-in running it in its process when its class asks for one."""
        group = getattr(engine, "own_process", False)
        if not group:
            return engine
        key = group if isinstance(group, str) else engine.id
        host = self._hosts.get(key)
        if host is None or host.settings != settings:
            if host is not None:
                host.stop()
            host = self._hosts[key] = _Host(settings, _plugin_modules(self.plugin_manager))
        return HostedEngine(engine, host)  # type: ignore[return-value]

    def stop(self) -> None:
        for host in self._hosts.values():
            host.stop()
        self._hosts.clear()

    def interrupt(self) -> None:
        """End every engine process now, mid-call too (the enrichment worker stopping): a call in flight
        raises ``EngineInterrupted``; the next call starts a new process."""
        for host in list(self._hosts.values()):
            host.interrupt()


def _plugin_modules(pm) -> list[tuple[str, str]]:
    """(name, module) of each plugin of ``pm`` that is a module, built-ins aside: what the child registers,
    so that it has this process's plugins, however they came (entry points, or registered by hand)."""
    from ..plugins import BUILTIN_PLUGINS

    builtin = {name for name, _ in BUILTIN_PLUGINS}
    return [
        (name, plugin.__name__)
        for name, plugin in pm.list_name_plugin()
        if isinstance(plugin, types.ModuleType) and name not in builtin
    ]


class _Host:
    """One child process and the engines built in it."""

    def __init__(self, settings: Mapping[str, Any], plugins: list[tuple[str, str]]) -> None:
        self.settings, self.plugins = dict(settings), plugins
        self._child: subprocess.Popen | None = None
        self._connection: Connection | None = None
        self._built: set[str] = set()
        self._loaded: set[str] = set()
        self._lock = threading.Lock()  # one call at a time over the one connection
        self._interrupted = False

    @property
    def process_id(self) -> int | None:
        return self._child.pid if self._child is not None and self._child.poll() is None else None

    def call(self, engine: Engine, method: str, args: tuple = (), kwargs: dict[str, Any] | None = None):
        with self._lock:
            if self._child is None or self._child.poll() is not None:
                self._stop()
                self._start()
            if engine.id not in self._built:
                self._exchange(engine, "build", (engine.task.value,), {})
                self._built.add(engine.id)
            result = self._exchange(engine, method, args, kwargs or {})
            if method == "load":
                self._loaded.add(engine.id)
            return result

    def unload(self, engine: Engine) -> None:
        with self._lock:
            if self._child is None:
                return
            self._loaded.discard(engine.id)
            if not self._loaded:
                self._stop()
                return
            try:  # others still use this process: only this engine's weights go
                self._exchange(engine, "unload", (), {})
            except EngineProcessCrashed:  # it had ended (interrupted, crashed): nothing is left to unload
                pass

    def stop(self) -> None:
        with self._lock:
            self._stop()

    def interrupt(self) -> None:
        # Without the lock, which the call in flight holds: the call sees the connection close and cleans up.
        child = self._child
        if child is not None and child.poll() is None:
            self._interrupted = True
            child.kill()

    def _start(self) -> None:
        self._interrupted = False
        ours, theirs = socket.socketpair()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self._child = subprocess.Popen(
            [sys.executable, "-m", "pixlstash.engines.process_host", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            env=env,
            stdin=subprocess.DEVNULL,
            # What engine libraries print (insightface lists the models it finds) goes to the log, never
            # into a command's standard output, which scripts read (--json).
            stdout=_log_stream(),
        )
        theirs.close()
        self._connection = Connection(ours.detach())
        self._connection.send(("settings", None, (self.settings, self.plugins), {}))

    def _stop(self) -> None:
        child, connection = self._child, self._connection
        self._child = self._connection = None
        self._built.clear()
        self._loaded.clear()
        if connection is not None:
            try:
                connection.send(("exit", None, (), {}))
            except OSError:
                pass
            connection.close()
        if child is not None:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    def _exchange(self, engine: Engine, method: str, args: tuple, kwargs: dict[str, Any]):
        connection = self._connection
        assert connection is not None
        try:
            connection.send((method, engine.id, args, kwargs))
            reply = connection.recv()
        except (EOFError, OSError):
            child = self._child
            status = child.wait() if child is not None else None
            interrupted = self._interrupted or status == _INTERRUPTED
            self._stop()
            if interrupted:
                raise EngineInterrupted(
                    f"the process running {engine.id} was ended during {method} (Ctrl+C, or the worker stopping)"
                ) from None
            raise EngineProcessCrashed(
                f"the process running {engine.id} ended during {method} ({_describe(status)}); its stack, if it "
                "crashed, is on standard error (the server's log); the next call starts it again"
            ) from None
        if reply[0] == "ok":
            return reply[1]
        raise _rebuilt(*reply[1:])


class HostedEngine:
    """Stands in for an engine: its description is the local instance's, its work the child's."""

    def __init__(self, engine: Engine, host: _Host) -> None:
        self._local, self._host = engine, host

    @property
    def __class__(self):  # isinstance(stand_in, Embedder) holds, as for the engine it stands for
        return type(self._local)

    def __getattr__(self, name: str):
        if name in _CALLS:
            return lambda *args, **kwargs: self._host.call(self._local, name, args, kwargs)
        return getattr(self._local, name)

    def __repr__(self) -> str:
        return f"<{self._local.id} in process {self._host.process_id or '(not started)'}>"

    @property
    def process_id(self) -> int | None:
        """The id of the process running this engine, while one runs."""
        return self._host.process_id

    def load(self, device: str = "cpu") -> None:
        self._host.call(self._local, "load", (device,))

    def unload(self) -> None:
        self._host.unload(self._local)


def _log_stream():
    stream = sys.__stderr__
    try:
        return stream.fileno() if stream is not None else subprocess.DEVNULL
    except (OSError, ValueError):  # no file descriptor (an embedding host's stderr)
        return subprocess.DEVNULL


def _describe(status: int | None) -> str:
    if status is None:
        return "no exit status"
    if status < 0:
        return f"signal {-status}, {signal.Signals(-status).name}"
    return f"exit status {status}"


def _rebuilt(module: str, name: str, message: str, details: dict, out_of_memory: bool) -> Exception:
    """The child's exception, as near to the original as this process can make it."""
    if out_of_memory:
        return OutOfDeviceMemory(message)
    if module == errors.__name__ and isinstance(getattr(errors, name, None), type):
        return getattr(errors, name)(message, **details)
    return RuntimeError(f"{name}: {message}")


# -- the child ------------------------------------------------------------------------------------------


def _serve(connection: Connection) -> None:
    from ..plugins import make_plugin_manager
    from .base import Task
    from .registry import EngineRegistry

    settings: Mapping[str, Any] = {}
    plugins: list[tuple[str, str]] = []
    registry: EngineRegistry | None = None
    engines: dict[str, Engine] = {}
    while True:
        method, engine_id, args, kwargs = connection.recv()
        if method == "exit":
            return
        if method == "settings":
            settings, plugins = args
            continue
        try:
            if method == "build":
                if registry is None:
                    pm = make_plugin_manager(load_entry_points=False)
                    for name, module in plugins:
                        pm.register(importlib.import_module(module), name=name)
                    registry = EngineRegistry.from_plugin_manager(pm, settings)
                engines[engine_id] = registry.get(Task(args[0]), engine_id)
                result = None
            else:
                result = getattr(engines[engine_id], method)(*args, **kwargs)
        except Exception as error:  # sent back whole; the parent raises it as the call's error
            details = error.details if isinstance(error, errors.PixlstashError) else {}
            message = error.message if isinstance(error, errors.PixlstashError) else str(error)
            connection.send(
                ("error", type(error).__module__, type(error).__name__, message, details, is_out_of_memory(error))
            )
            continue
        connection.send(("ok", result))


def main() -> None:
    import faulthandler

    faulthandler.enable(all_threads=True)  # a native crash prints where, on the parent's stderr (its log)
    connection = Connection(int(sys.argv[1]))
    status = 0
    try:
        _serve(connection)
    except EOFError:  # the parent went away
        pass
    except KeyboardInterrupt:  # Ctrl+C reached the whole group: the parent learns it from the status
        status = _INTERRUPTED
    # Nothing of the child outlives its calls (they are pure; every result was sent): it skips the
    # interpreter's teardown of torch and the weights, which kept a CLI command 1.8 s at its end.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    main()
