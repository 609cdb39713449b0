"""``pixlstash worker``: run a library's background services without the web server."""

from __future__ import annotations

import signal
import threading

from ..instance import Instance, InstanceOptions
from .common import add_library_option
from .library_options import open_library


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="run the background services (enrichment, folder watching, snapshots) without the web server",
        description="Run the library's long-lived services in this process until Ctrl+C or SIGTERM: the "
        "enrichment worker, import- and reference-folder watching, the snapshot schedule and the opt-in "
        "update check. One process per library runs them: this refuses to start while a server or another "
        "worker does, and `pixlstash serve` refuses while this runs.",
    )
    add_library_option(parser)
    parser.add_argument("--no-enrichment", action="store_true", help="leave queued enrichment jobs alone")
    parser.add_argument("--no-watch", action="store_true", help="do not watch import or reference folders")
    parser.add_argument("--no-snapshots", action="store_true", help="take no scheduled snapshots")
    parser.set_defaults(func=run)


def run(args, pm) -> int:
    options = InstanceOptions(
        enrichment=not args.no_enrichment,
        watch_folders=not args.no_watch,
        snapshot_schedule=not args.no_snapshots,
        outside_changes=False,  # nobody here listens to the live stream
    )
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    with open_library(args, pm) as library:
        instance = Instance(library, options, role="worker")
        instance.start()
        try:
            running = [name for name, on in _services(options) if on]
            print(f"running {', '.join(running) or 'nothing'} for {library.root} (Ctrl+C stops)", flush=True)
            stopping.wait()
        finally:
            instance.stop()
    print("stopped")
    return 0


def _services(options: InstanceOptions) -> list[tuple[str, bool]]:
    return [
        ("enrichment", options.enrichment),
        ("folder watching", options.watch_folders),
        ("the snapshot schedule", options.snapshot_schedule),
        ("the update check", options.update_check),
    ]
