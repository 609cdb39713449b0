"""``pixlstash enrich``: queue tagging, captioning, embedding or face detection for a selection, and run it."""

from __future__ import annotations

import sys

from ..engines import Task
from ..enrichment.worker import WorkerBusy
from ..errors import BadInput
from ..instance import JOBS_ONLY, Instance
from .common import add_library_option, print_json, progress_bar, terminal
from .library_options import add_filter_options, filter_from_args, open_library


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "enrich",
        help="tag, describe, embed or find faces in pictures with a chosen engine",
        description="Queue enrichment for the selected pictures (filters, or --ids; default: the whole library) "
        "and run it here, unless a server is running for the library, which then does the work. "
        "Pictures the engine version already did are skipped unless --force.",
    )
    add_library_option(parser)
    parser.add_argument("--engine", metavar="ID", help="engine id (see `pixlstash models`); sets the task")
    parser.add_argument(
        "--task",
        choices=[t.value for t in Task],
        help="task with its default engine (default: every task run on import)",
    )
    parser.add_argument("--ids", metavar="ID,ID", help="only these picture ids")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="engine parameter (repeatable), e.g. prompt='describe the lighting'",
    )
    parser.add_argument("--force", action="store_true", help="redo pictures already done by this engine version")
    parser.add_argument("--no-run", action="store_true", help="only queue (a server or a later run does it)")
    parser.add_argument("--json", action="store_true", help="print the queued jobs as JSON")
    add_filter_options(parser)
    parser.set_defaults(func=run)


def _tasks(library, args) -> list[tuple[Task, str | None]]:
    if args.engine:
        engine = library.engines.by_id(args.engine)
        if args.task and engine.task.value != args.task:
            raise BadInput(f"{args.engine} is a {engine.task.value} engine, not a {args.task}")
        return [(engine.task, engine.id)]
    if args.task:
        return [(Task(args.task), None)]
    return [(Task(name), None) for name in library.engines.settings().on_import]


def run(args, pm) -> int:
    parameters = {}
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep:
            raise BadInput(f"--param takes NAME=VALUE, not {item!r}")
        parameters[name.strip()] = value
    with open_library(args, pm) as library:
        f, _ = filter_from_args(library, args)
        ids = [int(v) for v in args.ids.split(",") if v.strip()] if args.ids else None
        jobs = []
        for task, engine_id in _tasks(library, args):
            job = library.enrichment.enqueue(
                task, ids, engine_id=engine_id, f=f, parameters=parameters, force=args.force
            )
            if job is not None:
                jobs.append(job)
        # Work a stopped run (or the server) left open is run too: its claims died with its process.
        queued_now = {job.id for job in jobs}
        leftover = [
            job for job in library.enrichment.list_jobs(open_only=True, limit=10_000) if job.id not in queued_now
        ]
        if args.json:
            print_json(jobs)
        else:
            for job in jobs:
                print(f"queued job {job.id}: {job.task} with {job.engine_id} for {job.total} pictures")
            if leftover:
                left = sum(job.total - job.done - job.failed for job in leftover)
                print(f"resuming {len(leftover)} unfinished job(s), {left} pictures left")
            elif not jobs:
                print("nothing to do: every selected picture is already done (use --force to redo)")
        jobs += leftover
        if args.no_run or not jobs:
            return 0
        instance = Instance(library, JOBS_ONLY)
        total = sum(job.total for job in jobs)
        tty = sys.stderr.isatty()

        def show() -> None:
            if tty:
                done = sum(j.done + j.failed for j in (library.enrichment.job(job.id) for job in jobs))
                terminal(sys.stderr).write(f"\r{progress_bar(done, total)}  {done}/{total} pictures")
                sys.stderr.flush()

        try:
            instance.run_jobs_until_idle(on_batch=show)
        except WorkerBusy as busy:
            print(str(busy))
            return 0
        finally:
            instance.stop()
        if tty:
            sys.stderr.write("\n")
        ok = True
        for job in jobs:
            job = library.enrichment.job(job.id)
            ok = ok and job.state == "done" and job.failed == 0
            print(
                f"job {job.id}: {job.state}, {job.done} done, {job.failed} failed"
                + (f" ({job.error})" if job.error else "")
            )
    return 0 if ok else 1
