"""``pixlstash enrich``: queue tagging, captioning, embedding or face detection for a selection, and run it."""

from __future__ import annotations

import click
import msgspec

from ..engines import Task
from ..enrichment.worker import WorkerBusy
from ..errors import BadInput
from ..instance import JOBS_ONLY, Instance, ServiceLock
from .common import SectionedCommand, json_option, library_option, print_json
from .library_options import filter_from_args, filter_options, open_library
from .output import Progress


@click.command("enrich", cls=SectionedCommand)
@library_option
@click.option("--engine", metavar="ID", help="engine id (see `pixlstash models`); sets the task")
@click.option("--task", type=click.Choice([t.value for t in Task]), help="a task with its default engine")
@click.option("--ids", metavar="ID,ID", help="only these picture ids")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="engine parameter (repeatable), e.g. caption_length=short",
)
@click.option("--force", is_flag=True, help="redo pictures this engine version already did")
@click.option("--no-run", is_flag=True, help="only queue (a running server or a later run does it)")
@click.option(
    "--ray",
    "ray_address",
    is_flag=False,
    flag_value="local",
    metavar="[ADDRESS]",
    help="run the engines on a Ray cluster (auto, ray://HOST:10001; alone: a Ray on this machine)",
)
@json_option
@filter_options
@click.pass_obj
def enrich_command(pm, library_path, engine, task, ids, params, force, no_run, ray_address, as_json, where) -> int:
    """Tag, describe, embed or find faces in pictures with a chosen engine.

    Queues the work for the selected pictures (filters or --ids; default: the whole library; default
    tasks: those run on import) and runs it here with a progress bar, unless a server runs for the
    library, which then does it. Pictures this engine version already did are skipped unless --force.
    Exits 1 when a job failed.

    \b
    Examples:
      pixlstash enrich --engine clip/ViT-B-32@laion2b_s34b_b79k
      pixlstash enrich --task tagger --in-set Best
      pixlstash enrich --engine joycaption/beta-one --param caption_length=short --ids 4,5,6
      pixlstash enrich --task tagger --ray auto
    """
    parameters = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep:
            raise BadInput(f"--param takes NAME=VALUE, not {item!r}")
        parameters[name.strip()] = value
    with open_library(library_path, pm) as library:
        f, _ = filter_from_args(library, where)
        picture_ids = [int(v) for v in ids.split(",") if v.strip()] if ids else None
        jobs = []
        chosen = _tasks(library, engine, task)
        _refuse_what_the_server_lacks(library, chosen)
        for job_task, engine_id in chosen:
            job = library.enrichment.enqueue(
                job_task, picture_ids, engine_id=engine_id, f=f, parameters=parameters, force=force
            )
            if job is not None:
                jobs.append(job)
        # Work a stopped run (or the server) left open is run too: its claims died with its process.
        queued_now = {job.id for job in jobs}
        leftover = [
            job for job in library.enrichment.list_jobs(open_only=True, limit=10_000) if job.id not in queued_now
        ]
        if as_json:
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
        if no_run or not jobs:
            return 0
        return _run(library, jobs, ray_address)


def _tasks(library, engine: str | None, task: str | None) -> list[tuple[Task, str | None]]:
    if engine:
        chosen = library.engines.by_id(engine)
        if task and chosen.task.value != task:
            raise BadInput(f"{engine} is a {chosen.task.value} engine, not a {task}")
        return [(chosen.task, chosen.id)]
    if task:
        return [(Task(task), None)]
    settings = library.engines.settings()
    return library.engines.import_choices(settings.on_import)


def _refuse_what_the_server_lacks(library, chosen: list[tuple[Task, str | None]]) -> None:
    """A running server works the queue with the plugins it loaded when it started: work for an engine
    installed since would be queued, and then failed there. Say so now instead."""
    holder = ServiceLock(library.root).holder()
    served = library.engines.served() if holder else None
    if served is None:
        return
    for job_task, engine_id in chosen:
        wanted = library.engines.get(job_task, engine_id).id
        if wanted not in served:
            raise BadInput(
                f"{holder} runs this library's jobs and has no {wanted}: it started before that plugin was "
                "installed. Restart it (it then loads the plugin), or stop it and run this command again"
            )


def _run(library, jobs, ray_address: str | None) -> int:
    instance = Instance(library, msgspec.structs.replace(JOBS_ONLY, ray_address=ray_address))
    total = sum(job.total for job in jobs)
    with Progress("enriching", total=total) as progress:

        def show() -> None:
            progress.update(done=sum(j.done + j.failed for j in (library.enrichment.job(job.id) for job in jobs)))

        try:
            instance.run_jobs_until_idle(on_batch=show)
        except WorkerBusy as busy:
            print(str(busy))
            return 0
        finally:
            instance.stop()
    nodes = getattr(instance.worker, "per_node", dict)()
    for node, count in sorted(nodes.items()):
        print(f"Ray node {node[:12]}: {count} pictures")
    ok = True
    for job in jobs:
        job = library.enrichment.job(job.id)
        ok = ok and job.state == "done" and job.failed == 0
        print(
            f"job {job.id}: {job.state}, {job.done} done, {job.failed} failed"
            + (f" ({job.error})" if job.error else "")
        )
    return 0 if ok else 1
