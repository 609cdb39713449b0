"""``pixlstash worker``: run a library's background services without the web server."""

from __future__ import annotations

import signal
import threading

import click

from ..instance import Instance, InstanceOptions
from .common import SectionedCommand, library_option
from .library_options import open_library


@click.command("worker", cls=SectionedCommand)
@library_option
@click.option("--no-enrichment", is_flag=True, help="leave queued enrichment jobs alone")
@click.option("--no-watch", is_flag=True, help="do not watch import or reference folders")
@click.option("--no-snapshots", is_flag=True, help="take no scheduled snapshots")
@click.pass_obj
def worker_command(pm, library_path, no_enrichment, no_watch, no_snapshots) -> int:
    """Run the background services (enrichment, folder watching, snapshots) without the web server.

    They run in this process until Ctrl+C or SIGTERM: the enrichment worker, import- and reference-folder
    watching, the snapshot schedule and the opt-in update check. One process per library runs them: this
    refuses to start while a server or another worker does, and `pixlstash serve` refuses while this runs.

    \b
    Example:
      pixlstash worker --no-snapshots
    """
    options = InstanceOptions(
        enrichment=not no_enrichment,
        watch_folders=not no_watch,
        snapshot_schedule=not no_snapshots,
        outside_changes=False,  # nobody here listens to the live stream
    )
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    with open_library(library_path, pm, create=True) as library:
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
