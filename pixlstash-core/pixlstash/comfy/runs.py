"""Workflows run on a linked ComfyUI from the library, and their outputs filed back.

A **remix** re-runs a picture's own embedded API graph (the ``prompt`` ComfyUI's SaveImage wrote into it)
with a new or pinned seed, optionally a new positive prompt and LoRA strengths. A **run** sends a workflow
with an image input (LoadImage) to ComfyUI once per selected picture, the picture uploaded into ComfyUI's
input folder first. Both are checked against the ComfyUI's ``/object_info`` before anything is queued
(``graphs.preflight``). When a run ends, what its graph saved is fetched from ``/history`` and ``/view``
and imported with its generation data, filed into the source's projects, sets and characters, and
stacked on the source. Runs are recorded (``comfy_runs``): ``create_*`` records them, ``carry_out`` does one
(the web server's runner thread, or the CLI, which waits)."""

from __future__ import annotations

import contextlib
import logging
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from ..db.comfy import ComfyStore
from ..db.database import Database
from ..db.pictures import PictureStore
from ..domain import ComfyLink, ComfyRun, ImportReport, Picture
from ..errors import BadInput, ComfyUnreachable, NotFound, PixlstashError, WorkflowRefused
from ..files.picture_files import PictureFiles
from ..organising.organiser import Organiser
from ..organising.stacks import Stacks
from ..pictures.visibility import current_audience
from ..system.clock import now_ms
from ..system.scratch import ScratchArea, is_alive
from .client import ComfyClient, checked_url
from .graphs import image_inputs, parse_graph, preflight, remix, saved_images, with_image

__all__ = ["ComfyRuns", "RunCancelled"]

log = logging.getLogger("pixlstash")
_POLL_SECONDS = 0.5
_COMFY_READS = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}


class RunCancelled(PixlstashError):
    code = "cancelled"


class RunsLibrary(Protocol):
    """What workflow runs use of a library: its pictures and their files, imports, organising and stacks."""

    db: Database
    pictures: PictureStore
    scratch: ScratchArea
    files: PictureFiles
    organise: Organiser
    stacks: Stacks
    tmp: Path

    def get(self, picture_id: int) -> Picture: ...
    def original_path(self, picture_id: int) -> Path: ...
    def new_source(self, kind: str, label: str) -> int: ...
    def import_uploads(
        self,
        files: Sequence[tuple[Path, str]],
        *,
        project_id: int | None = None,
        collection_ids: Sequence[int] = (),
        source_id: int | None = None,
        enrich: bool = True,
        owner_id: int | None = None,
        private: bool = False,
    ) -> ImportReport: ...


def _asked_by(source: Picture) -> tuple[int | None, bool]:
    """Whose a run's outputs become (the account asking for it; None: the owner's) and whether they stay
    private: as private as the picture it runs on."""
    audience = current_audience()
    return (audience.user_id if audience is not None else None), source.private


class ComfyRuns:
    def __init__(self, library: RunsLibrary, store: ComfyStore | None = None, *, client=ComfyClient) -> None:
        self.library = library
        self.store = store or ComfyStore(library.db)
        self.client = client

    # -- links ---------------------------------------------------------------------------------------------

    def probe(self, url: str) -> dict:
        """ComfyUI's ``/system_stats`` at ``url``, or one line saying why it cannot be reached."""
        return self.client(checked_url(url), timeout=5.0).system_stats()

    def link(
        self, url: str, token_id: int | None = None, revoke_token: Callable[[int], object] | None = None
    ) -> ComfyLink:
        """Link (or link again) the ComfyUI at ``url``. Linking again replaces its node pack's token: the
        one it had is revoked through ``revoke_token`` in the same step, so only one stays alive."""
        url = checked_url(url)
        self.probe(url)
        with self.library.db.write():
            replaced = next((known.token_id for known in self.store.links() if known.url == url), None)
            linked = self.store.add_link(url, token_id, now_ms())
        if replaced is not None and replaced != token_id and revoke_token is not None:
            with contextlib.suppress(NotFound):  # revoked by hand already
                revoke_token(replaced)
        return linked

    def links(self) -> list[ComfyLink]:
        return self.store.links()

    def unlink(self, link_id: int) -> ComfyLink:
        with self.library.db.write():
            return self.store.remove_link(link_id)

    def resolve_link(self, link: int | str | None) -> ComfyLink:
        """A linked ComfyUI by id or address; the only one when there is one."""
        links = self.store.links()
        if link is None:
            if len(links) != 1:
                raise BadInput(
                    "link a ComfyUI first (pixlstash comfy link http://127.0.0.1:8188)"
                    if not links
                    else f"{len(links)} ComfyUIs are linked: say which (an id or address)"
                )
            return links[0]
        if isinstance(link, int) or str(link).isdigit():
            return self.store.link(int(link))
        url = checked_url(str(link))
        for known in links:
            if known.url == url:
                return known
        raise NotFound(f"{url} is not linked (pixlstash comfy link {url})")

    # -- making runs ---------------------------------------------------------------------------------------

    def create_remix(
        self,
        picture_id: int,
        *,
        link: int | str | None = None,
        seed: int | None = None,
        positive: str | None = None,
        loras: Mapping[str, float] | None = None,
    ) -> ComfyRun:
        """A remix of the picture's embedded graph, checked against the ComfyUI before it is recorded."""
        target = self.resolve_link(link)
        picture = self.library.get(picture_id)
        raw = picture.generation.raw_prompt if picture.generation else None
        if not raw:
            raise BadInput(
                f"picture {picture_id} carries no ComfyUI workflow to remix (only pictures saved by ComfyUI's "
                "Save Image or the PixlStash Picture Saver, with metadata, do)"
            )
        graph, _ = remix(parse_graph(raw), seed=seed, positive=positive, loras=loras)
        self._preflight(target, graph)
        with self.library.db.write():
            return self.store.add_run("remix", target.id, picture_id, graph, now_ms(), *_asked_by(picture))

    def create_runs(
        self,
        workflow: dict | str,
        picture_ids: Sequence[int],
        *,
        image_node: str | None = None,
        link: int | str | None = None,
    ) -> list[ComfyRun]:
        """One run of ``workflow`` per picture, each fed to ``image_node`` (its only LoadImage by default)."""
        target = self.resolve_link(link)
        graph = parse_graph(workflow)
        node = image_node or (image_inputs(graph)[0] if len(image_inputs(graph)) == 1 else None)
        with_image(graph, node, "check.png")  # refuses a graph without that image input, at once
        ids = self.library.pictures.require(picture_ids)
        pictures = {pid: self.library.get(pid) for pid in ids}
        videos = [pid for pid in ids if pictures[pid].media_type != "image"]
        if videos:
            raise BadInput(f"workflows run on pictures, not videos: {', '.join(map(str, videos[:10]))}")
        self._preflight(target, graph, fed=(str(node),))
        graph["_pixlstash"] = {"image_node": str(node)}  # where each picture goes, kept with the run
        with self.library.db.write():
            return [
                self.store.add_run("run", target.id, pid, graph, now_ms(), *_asked_by(pictures[pid])) for pid in ids
            ]

    def _preflight(self, target: ComfyLink, graph: dict, fed: tuple[str, ...] = ()) -> None:
        problems = preflight(graph, self.client(target.url).object_info(), fed=fed)
        if problems:
            raise WorkflowRefused(
                f"the workflow cannot run on {target.url}: {problems[0]}"
                + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
                problems=problems,
            )

    # -- reading and cancelling ----------------------------------------------------------------------------

    def get(self, run_id: int) -> ComfyRun:
        return self.store.run(run_id)

    def runs(self, *, open_only: bool = False, limit: int = 100) -> list[ComfyRun]:
        return self.store.runs(open_only=open_only, limit=limit)

    def cancel(self, run_id: int) -> ComfyRun:
        """Stop a run: a queued one never starts; a running one is taken out of ComfyUI's queue or
        interrupted (``carry_out`` notices and files nothing)."""
        run = self.store.run(run_id)
        if run.status in ("queued", "running"):
            with self.library.db.write():
                self.store.update_run(run_id, status="cancelled", message="cancelled", finished_at=now_ms())
            if run.prompt_id and run.link_id is not None:
                try:
                    self.client(self.store.link(run.link_id).url).cancel(run.prompt_id)
                except (ComfyUnreachable, NotFound) as error:
                    log.warning("workflow run %d: ComfyUI could not be told to stop: %s", run_id, error)
        return self.store.run(run_id)

    # -- doing a run ---------------------------------------------------------------------------------------

    def carry_out(
        self, run_id: int, on_change: Callable[[ComfyRun], None] | None = None, timeout: float = 3600
    ) -> ComfyRun:
        """Send the run to ComfyUI, wait for it, and file what it saved; returns the finished run (done,
        failed or cancelled; never raises for a failure of the run itself)."""
        notify = on_change or (lambda run: None)
        with self.library.db.write():
            claimed = self.store.claim(run_id, self.library.scratch.name)
        run = self.store.run(run_id)
        if not claimed:  # done, cancelled, or another process's runner has it
            return run
        notify(run)
        return self._see_through(run, notify, timeout)

    def adopt_orphans(
        self, on_change: Callable[[ComfyRun], None] | None = None, timeout: float = 3600
    ) -> list[ComfyRun]:
        """Runs left "running" by a process that died (kill -9, a crash, a power cut): one that reached
        ComfyUI is followed to its end and its outputs filed; one that had not is failed, saying why."""
        notify = on_change or (lambda run: None)
        me, adopted = self.library.scratch.name, []
        for run_id, owner in self.store.running_owners():
            if owner == me or (owner is not None and is_alive(self.library.scratch.parent, owner)):
                continue
            with self.library.db.write():
                if not self.store.take_over(run_id, owner, me):
                    continue  # another process adopted it first
            run = self.store.run(run_id)
            log.info("workflow run %d: adopted from a process that stopped", run_id)
            if run.prompt_id is None:
                message = "the process sending it to ComfyUI stopped before ComfyUI had it: run it again"
                adopted.append(self._ended(run_id, notify, status="failed", message=message))
            else:
                adopted.append(self._see_through(run, notify, timeout))
        return adopted

    def _see_through(self, run: ComfyRun, notify, timeout: float) -> ComfyRun:
        try:
            comfy = self._client_of(run)
            prompt_id = run.prompt_id or self._send(comfy, run, notify)
            images = self._wait(comfy, run.id, prompt_id, notify, timeout)
            ids = self._file(run, comfy, images)
            return self._ended(run.id, notify, status="done", message=f"{len(ids)} picture(s) filed", output_ids=ids)
        except RunCancelled:
            return self.store.run(run.id)
        except PixlstashError as error:
            log.info("workflow run %d failed: %s", run.id, error.message)
            return self._ended(run.id, notify, status="failed", message=error.message)
        except Exception as error:  # a bug, or an answer ComfyUI never gives: the run must not stay "running"
            log.exception("workflow run %d", run.id)
            message = f"unexpected error: {type(error).__name__}: {error}"[:500]
            return self._ended(run.id, notify, status="failed", message=message)

    def _ended(self, run_id: int, notify, **fields) -> ComfyRun:
        try:
            return self._update(run_id, notify, finished_at=now_ms(), **fields)
        except RunCancelled:
            return self.store.run(run_id)

    def _update(self, run_id: int, notify, **fields) -> ComfyRun:
        with self.library.db.write():
            if self.store.run(run_id).status == "cancelled":
                raise RunCancelled("cancelled")
            self.store.update_run(run_id, **fields)
        run = self.store.run(run_id)
        notify(run)
        return run

    def _client_of(self, run: ComfyRun):
        link = self.store.link(run.link_id) if run.link_id is not None else None
        if link is None:
            raise NotFound("the ComfyUI of this run is no longer linked")
        return self.client(link.url)

    def _send(self, comfy, run: ComfyRun, notify) -> str:
        graph = self.store.graph(run.id)
        if run.kind == "run":
            node = graph.pop("_pixlstash")["image_node"]
            picture = self.library.get(run.source_id)
            original = self.library.original_path(picture.id)
            suffix, content, mime = original.suffix.lower(), None, picture.mime
            if suffix not in _COMFY_READS:  # ComfyUI's LoadImage reads what a plain Pillow reads
                suffix, content, mime = ".png", self.library.files.png_rendition(picture.id), "image/png"
            name = comfy.upload_image(
                f"pixlstash-{picture.content_hash[:16]}{suffix}",
                content if content is not None else original.read_bytes(),
                mime,
            )
            graph = with_image(graph, node, name)
        prompt_id = comfy.queue(graph, client_id=f"pixlstash-{uuid.uuid4().hex}")
        self._update(run.id, notify, prompt_id=prompt_id, message="queued in ComfyUI")
        return prompt_id

    def _wait(self, comfy, run_id: int, prompt_id: str, notify, timeout: float) -> list[dict]:
        """Wait for ComfyUI to finish the prompt; the images it saved (names, not their bytes)."""
        deadline, shown = time.monotonic() + timeout, self.store.run(run_id).message
        while True:
            entry = comfy.history(prompt_id)
            if entry and entry.get("status", {}).get("completed") is not None:
                break
            where = comfy.queued(prompt_id)
            if where is None:  # out of the queue: finished just now, or forgotten (ComfyUI restarted since)
                entry = comfy.history(prompt_id)
                if entry and entry.get("status", {}).get("completed") is not None:
                    break
                if not entry:
                    raise ComfyUnreachable(f"ComfyUI at {comfy.url} no longer knows this run (was it restarted?)")
            state = "running in ComfyUI" if where == "running" else "queued in ComfyUI"
            if state != shown:
                shown = state
                self._update(run_id, notify, message=state)
            elif self.store.run(run_id).status == "cancelled":
                raise RunCancelled("cancelled")
            if time.monotonic() > deadline:
                comfy.cancel(prompt_id)
                raise ComfyUnreachable(f"ComfyUI did not finish the workflow within {timeout:.0f} s")
            time.sleep(_POLL_SECONDS)
        status = entry["status"]
        if status.get("status_str") != "success":
            raise ComfyUnreachable(f"ComfyUI could not run the workflow: {_failure(status)}")
        images = saved_images(entry)
        if not images:
            raise BadInput("the workflow ran but saved no picture (its Save Image got nothing)")
        return images

    def _file(self, run: ComfyRun, comfy, images: list[dict]) -> list[int]:
        """Fetch the outputs one at a time into scratch files (never all in memory) and import them as an
        upload is (same limits and checks), with their generation data, into the source's projects, sets
        and characters, stacked on the source."""
        source = self.library.get(run.source_id) if run.source_id is not None else None
        projects = list(source.projects) if source else []
        with tempfile.TemporaryDirectory(dir=self.library.tmp) as scratch:
            files = []
            for n, image in enumerate(images):
                name = Path(str(image["filename"])).name or "output.png"
                path = Path(scratch) / f"{n}-{_safe_name(name)}"
                with open(path, "wb") as out:
                    comfy.view_to(str(image["filename"]), str(image.get("subfolder", "")), str(image["type"]), out)
                files.append((path, _safe_name(name)))
            owner_id, private = self.store.requester(run.id)
            report = self.library.import_uploads(
                files,
                project_id=projects[0] if projects else None,
                collection_ids=list(source.collections) if source else [],
                source_id=self.library.new_source("upload", f"ComfyUI: workflow run {run.id}"),
                owner_id=owner_id,
                private=private,
            )
        if report.skipped:
            raise BadInput(f"ComfyUI's output could not be imported: {report.skipped[0].reason}")
        ids = [p.picture_id for p in report.imported + report.duplicates + report.restored]
        for project_id in projects[1:]:
            self.library.organise.add_to_project(project_id, ids)
        if source is not None and ids:
            self._stack_on(source.id, [i for i in ids if i != source.id])
        return ids

    def _stack_on(self, source_id: int, output_ids: list[int]) -> None:
        if not output_ids:
            return
        stacks = self.library.stacks
        existing = stacks.store.stacks_of([source_id])[source_id]
        if existing is not None:
            stacks.add(existing, output_ids)
        else:
            stacks.stack([source_id, *output_ids], cover_id=source_id, origin="run")


def _safe_name(name: str) -> str:
    """A ComfyUI output's file name as a plain name of our own choosing: letters, digits, - _ . only."""
    cleaned = "".join(c for c in name if c.isalnum() or c in "-_.").lstrip(".")[:120]
    return cleaned or "output.png"


def _failure(status: dict) -> str:
    for kind, message in status.get("messages", []):
        if kind == "execution_error":
            return f"{message.get('node_type')}: {message.get('exception_message', '').strip()}"
        if kind == "execution_interrupted":
            return "interrupted"
    return str(status.get("status_str"))
