"""``pixlstash jobs``: enrichment progress per engine (live on a terminal), and cancelling or retrying jobs."""

from __future__ import annotations

import sys
import time

import click

from .common import SectionedCommand, json_option, library_option, print_json, terminal
from .library_options import open_library
from .output import Column, human_duration, print_table


@click.command("jobs", cls=SectionedCommand)
@library_option
@click.option("--all", "show_all", is_flag=True, help="list recent jobs, finished ones included")
@click.option("--once", is_flag=True, help="print once, even on a terminal")
@click.option("--cancel", type=int, metavar="JOB", help="cancel a job's unfinished pictures")
@click.option("--retry", type=int, metavar="JOB", help="queue a job's failed pictures again")
@json_option
@click.pass_obj
def jobs_command(pm, library_path, show_all, once, cancel, retry, as_json) -> int:
    """Enrichment progress per engine: queued, running, done, failed, pictures/s.

    On a terminal it updates live until the queue is empty (Ctrl-C stops watching, never the work).

    \b
    Examples:
      pixlstash jobs
      pixlstash jobs --all
      pixlstash jobs --retry 12
    """
    with open_library(library_path, pm) as library:
        enrichment = library.enrichment
        if cancel is not None or retry is not None:
            job = enrichment.cancel(cancel) if cancel is not None else enrichment.retry(retry)
            print_json(job) if as_json else print(f"job {job.id}: {job.state}, {job.queued} queued")
            return 0
        if show_all:
            jobs = enrichment.list_jobs()
            if as_json:
                print_json(jobs)
            elif not jobs:
                print("no enrichment jobs yet (pixlstash enrich)")
            else:
                rows = [
                    (j.id, j.state, j.task, j.engine_id, f"{j.done}/{j.total}", j.failed, j.error or "") for j in jobs
                ]
                columns = ("JOB", "STATE", "TASK", "ENGINE", "DONE", "FAILED", "ERROR")
                print_table([Column(c, right=c in ("JOB", "DONE", "FAILED"), wide=c == "ERROR") for c in columns], rows)
            return 0
        if as_json or once or not sys.stdout.isatty():
            progress = enrichment.progress()
            if as_json:
                print_json(progress)
            else:
                lines = _render(progress) + _cluster_lines(enrichment.cluster()) + _storage_lines(library)
                print("\n".join(lines + _failed_lately(enrichment)))
            return 0
        shown = 0
        storage = _storage_lines(library)  # asked once: a bucket is not asked every second
        try:
            while True:
                lines = _render(enrichment.progress()) + _cluster_lines(enrichment.cluster()) + storage
                terminal(sys.stdout).write("\x1b[F\x1b[K" * shown + "\n".join(lines) + "\n")
                sys.stdout.flush()
                shown = len(lines)
                if lines[0] == "no enrichment work queued":
                    return 0
                time.sleep(1.0)
        except KeyboardInterrupt:
            return 0


_FAILED_SHOWN_FOR_MS = 24 * 3_600_000


def _failed_lately(enrichment) -> list[str]:
    """Jobs that failed whole in the last day (an engine the server does not have, a model missing): said
    here too, not only under --all, with the command that tries them again."""
    now = time.time() * 1000
    failed = [
        job
        for job in enrichment.list_jobs(limit=50)
        if job.state == "failed" and (job.finished_at or job.created_at) > now - _FAILED_SHOWN_FOR_MS
    ]
    return [
        f"job {job.id} failed: {job.error or 'see pixlstash jobs --all'} (retry: pixlstash jobs --retry {job.id})"
        for job in failed
    ]


def _render(progress) -> list[str]:
    if not progress:
        return ["no enrichment work queued"]
    lines = []
    for p in progress:
        total = p.queued + p.running + p.done + p.failed
        fraction = (p.done + p.failed) / total if total else 1.0
        bar = "#" * round(fraction * 20)
        lines.append(
            f"{p.engine_id:<28} {p.task:<9} [{bar:<20}] {fraction:4.0%} "
            f"{p.done:>7} done {p.failed:>5} failed {p.queued + p.running:>7} left "
            # A full-size tagger on a CPU does a fraction of a picture a second: two decimals below 10.
            f"{p.pictures_per_second:>8.{2 if p.pictures_per_second < 10 else 1}f}/s"
            + (f"  ~{human_duration(p.seconds_left)} left" if p.seconds_left else "")
        )
        if p.device:
            lines.append(f"    on {p.device}, {p.batch} at a time" + (f" ({p.note})" if p.note else ""))
    return lines


def _cluster_lines(cluster) -> list[str]:
    """What a worker on Ray last reported: its nodes and their pictures."""
    if cluster is None:
        return []
    where = "lost: going on locally" if cluster.local else (cluster.address or "a Ray on the worker's machine")
    lines = [
        f"on Ray ({where}): {cluster.in_flight} batches out, {cluster.pictures_per_second:.1f} pictures/s, "
        f"{len(cluster.nodes)} node{'s' if len(cluster.nodes) != 1 else ''}"
    ]
    lines += [f"    node {node[:12]}: {count:,} pictures" for node, count in sorted(cluster.nodes.items())]
    return lines


def _storage_lines(library) -> list[str]:
    """The originals' store, when it is a bucket or does not answer (a local folder that answers is not news)."""
    from ..files.store_choice import storage_state

    state = storage_state(library.store, library.pictures)
    if not state.remote and state.state == "answers":
        return []
    return [f"originals in {state.where}: {'the store answers' if state.state == 'answers' else state.state}"]
