"""``pixlstash jobs``: enrichment progress per engine (live on a terminal), and cancelling or retrying jobs."""

from __future__ import annotations

import sys
import time

from .common import add_library_option, print_json, progress_bar, terminal
from .library_options import open_library


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "jobs",
        help="enrichment progress: queued, running, done, failed, pictures/s",
        description="Show enrichment progress per engine. On a terminal it updates live until the queue is empty "
        "(Ctrl-C stops watching, never the work).",
    )
    add_library_option(parser)
    parser.add_argument("--all", action="store_true", help="list recent jobs, finished ones included")
    parser.add_argument("--once", action="store_true", help="print once, even on a terminal")
    parser.add_argument("--cancel", type=int, metavar="JOB", help="cancel a job's unfinished pictures")
    parser.add_argument("--retry", type=int, metavar="JOB", help="queue a job's failed pictures again")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def _render(progress) -> list[str]:
    if not progress:
        return ["no enrichment work queued"]
    lines = []
    for p in progress:
        total = p.queued + p.running + p.done + p.failed
        lines.append(
            f"{p.engine_id:<28} {p.task:<9} {progress_bar(p.done + p.failed, total)} "
            f"{p.done:>7} done {p.failed:>5} failed {p.queued + p.running:>7} left "
            f"{p.pictures_per_second:>8.1f}/s"
        )
    return lines


def run(args, pm) -> int:
    with open_library(args, pm) as library:
        enrichment = library.enrichment
        if args.cancel is not None or args.retry is not None:
            job = enrichment.cancel(args.cancel) if args.cancel is not None else enrichment.retry(args.retry)
            print_json(job) if args.json else print(f"job {job.id}: {job.state}, {job.queued} queued")
            return 0
        if args.all:
            jobs = enrichment.list_jobs()
            if args.json:
                print_json(jobs)
                return 0
            for job in jobs:
                print(
                    f"{job.id:>6}  {job.state:<9} {job.task:<9} {job.engine_id:<28} {job.done:>7}/{job.total:<7} "
                    f"failed {job.failed}" + (f"  {job.error}" if job.error else "")
                )
            return 0
        if args.json or args.once or not sys.stdout.isatty():
            progress = enrichment.progress()
            print_json(progress) if args.json else print("\n".join(_render(progress)))
            return 0
        shown = 0
        try:
            while True:
                lines = _render(enrichment.progress())
                terminal(sys.stdout).write("\x1b[F\x1b[K" * shown + "\n".join(lines) + "\n")
                sys.stdout.flush()
                shown = len(lines)
                if lines == ["no enrichment work queued"]:
                    return 0
                time.sleep(1.0)
        except KeyboardInterrupt:
            return 0
