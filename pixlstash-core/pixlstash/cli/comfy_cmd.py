"""``pixlstash comfy link|links|unlink|remix|run|runs|cancel``: workflows run on a linked ComfyUI from the
library; ``remix`` and ``run`` wait for ComfyUI and print what came back (stacked on its source)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..auth import Authenticator
from ..comfy import NODES_MISSING, checked_url
from ..domain import ComfyRun
from ..errors import BadInput
from .common import SectionedCommand, json_option, library_option, print_json
from .library_options import filter_options, open_library
from .output import Column, counted, print_table
from .selection import PICTURES_HELP, picture_ids

__all__ = ["comfy_group"]


@click.group("comfy")
def comfy_group() -> None:
    """Run ComfyUI workflows from the library: remix a picture's own workflow, run a workflow on a
    selection. The outputs come back with their generation data, filed with their source and stacked on it.

    \b
    Examples:
      pixlstash comfy link http://127.0.0.1:8188
      pixlstash comfy remix 12 --seed 42
      pixlstash comfy run invert_api.json 3,7,20-30
    """


@comfy_group.command("link", cls=SectionedCommand)
@library_option
@click.argument("url")
@click.option(
    "--pixlstash-url",
    help="where that ComfyUI reaches `pixlstash serve`: its PixlStash nodes then get this address and a "
    "write token of their own",
)
@json_option
@click.pass_obj
def link_command(pm, library_path, url, pixlstash_url, as_json) -> int:
    """Link a ComfyUI (its /system_stats must answer). Exits 1 when it cannot be reached."""
    with open_library(library_path, pm) as library:
        library.comfy.probe(url)
        token_id, configured = None, False
        auth = Authenticator(library.root)
        if pixlstash_url:
            made = auth.create_token(f"ComfyUI at {checked_url(url)}"[:100], "write")
            configured = library.comfy.client(url).configure_pack(checked_url(pixlstash_url), made.secret)
            if configured:
                token_id = made.id
            else:
                auth.revoke_token(made.id)
        link = library.comfy.link(url, token_id, revoke_token=auth.revoke_token)
    if as_json:
        print_json(link)
    else:
        print(f"linked ComfyUI {link.id} at {link.url}")
        if pixlstash_url:
            print(
                f"its PixlStash nodes reach {pixlstash_url} with a token of their own" if configured else NODES_MISSING
            )
    return 0


@comfy_group.command("links", cls=SectionedCommand)
@library_option
@json_option
@click.pass_obj
def links_command(pm, library_path, as_json) -> int:
    """The linked ComfyUIs."""
    with open_library(library_path, pm) as library:
        links = library.comfy.links()
    if as_json:
        print_json(links)
    elif not links:
        print("no ComfyUI is linked (pixlstash comfy link http://127.0.0.1:8188)")
    else:
        print_table([Column("ID", right=True), Column("URL", wide=True)], [(lk.id, lk.url) for lk in links])
    return 0


@comfy_group.command("unlink", cls=SectionedCommand)
@library_option
@click.argument("link_id", type=int, metavar="ID")
@click.pass_obj
def unlink_command(pm, library_path, link_id) -> int:
    """Unlink a ComfyUI; the token its PixlStash nodes had is revoked."""
    with open_library(library_path, pm) as library:
        removed = library.comfy.unlink(link_id)
        if removed.token_id is not None:
            Authenticator(library.root).revoke_token(removed.token_id)
    print(f"unlinked {removed.url}")
    return 0


def _lora(value: str) -> tuple[str, float]:
    name, _, strength = value.rpartition("=")
    try:
        return name, float(strength)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not NAME=STRENGTH (add_detail=0.6)", param_hint="--lora") from None


def _wait_and_report(library, runs: list[ComfyRun], as_json: bool) -> int:
    """Work the runs here, one after another, printing each as it ends; 0 when all were done, 1 when all
    failed, 3 when some did."""
    finished = []
    for n, run in enumerate(runs):
        try:
            ran = library.comfy.carry_out(run.id, on_change=lambda r: None if as_json else _progress(r))
        except KeyboardInterrupt:
            # Ctrl+C: this run and those not started are cancelled, and ComfyUI is told to drop ours (only ours).
            for left in runs[n:]:
                library.comfy.cancel(left.id)
                print(f"run {left.id} cancelled", file=sys.stderr)
            raise
        finished.append(ran)
        if not as_json:
            if ran.status == "done":
                print(f"run {ran.id}: {ran.message}: {', '.join(map(str, ran.output_ids))}")
            else:
                print(f"run {ran.id} {ran.status}: {ran.message}", file=sys.stderr)
    if as_json:
        print_json(finished)
    failed = sum(1 for r in finished if r.status != "done")
    return 0 if not failed else 1 if failed == len(finished) else 3


def _progress(run: ComfyRun) -> None:
    print(f"run {run.id}: {run.message}", file=sys.stderr)


@comfy_group.command("remix", cls=SectionedCommand)
@library_option
@click.argument("picture_id", type=int, metavar="PICTURE")
@click.option("--seed", type=click.IntRange(0, 2**64 - 1), help="this seed (default: a new random one)")
@click.option("--prompt", "positive", help="a new positive prompt")
@click.option("--lora", "loras", multiple=True, type=_lora, metavar="NAME=STRENGTH", help="a LoRA's new strength")
@click.option("--comfy", "link", help="which linked ComfyUI (id or address; the only one by default)")
@click.option("--times", type=click.IntRange(1, 100), default=1, show_default=True, help="remixes, each a new seed")
@json_option
@click.pass_obj
def remix_command(pm, library_path, picture_id, seed, positive, loras, link, times, as_json) -> int:
    """Re-run a picture's own ComfyUI workflow (embedded by ComfyUI's Save Image) with a new or pinned seed,
    optionally a new prompt and LoRA strengths, and wait for it. Missing nodes or models on the ComfyUI
    are reported before anything runs. Exits 0 when done, 1 when refused or failed, 3 when some of
    --times failed.

    \b
    Examples:
      pixlstash comfy remix 12
      pixlstash comfy remix 12 --seed 42 --prompt "a lighthouse at dawn" --lora add_detail=0.4
      pixlstash comfy remix 12 --times 4
    """
    if seed is not None and times > 1:
        raise click.UsageError("--seed pins one seed: use it without --times")
    with open_library(library_path, pm) as library:
        runs = [
            library.comfy.create_remix(picture_id, link=link, seed=seed, positive=positive, loras=dict(loras))
            for _ in range(times)
        ]
        return _wait_and_report(library, runs, as_json)


@comfy_group.command("run", cls=SectionedCommand)
@library_option
@click.argument("workflow", metavar="WORKFLOW")
@click.argument("pictures", metavar="PICTURES")
@click.option("--image-node", help="the LoadImage node the pictures go to (its id; the only one by default)")
@click.option("--comfy", "link", help="which linked ComfyUI (id or address; the only one by default)")
@filter_options(order=False)
@json_option
@click.pass_obj
def run_command(pm, library_path, workflow, pictures, image_node, link, where, as_json) -> int:
    """Run a workflow once per picture, each uploaded to ComfyUI and fed to its image input, and wait.
    WORKFLOW is a file in ComfyUI's API format (Workflow > Export (API)) or `picture:ID` for the workflow
    embedded in a picture. Exits 0 when all were done, 1 when refused or all failed, 3 when some failed."""
    with open_library(library_path, pm) as library:
        if workflow.startswith("picture:") and workflow[8:].isdigit():
            generation = library.get(int(workflow[8:])).generation
            if not (generation and generation.raw_prompt):
                raise BadInput(f"picture {workflow[8:]} carries no ComfyUI workflow to run")
            graph = generation.raw_prompt
        else:
            try:
                graph = Path(workflow).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise click.BadParameter(f"{workflow} could not be read: {error}", param_hint="WORKFLOW") from None
        ids = picture_ids(library, pictures, where)
        runs = library.comfy.create_runs(graph, ids, image_node=image_node, link=link)
        if not as_json:
            print(f"running the workflow on {counted(len(runs), 'picture')}", file=sys.stderr)
        return _wait_and_report(library, runs, as_json)


_RUN_EXAMPLES = "  pixlstash comfy run invert_api.json 12,14\n  pixlstash comfy run picture:40 where --in-set Best"
run_command.help += f"\n\n{PICTURES_HELP}\n\n\b\nExamples:\n{_RUN_EXAMPLES}"


@comfy_group.command("runs", cls=SectionedCommand)
@library_option
@click.option("--open", "open_only", is_flag=True, help="only queued and running ones")
@json_option
@click.pass_obj
def runs_command(pm, library_path, open_only, as_json) -> int:
    """Workflow runs, newest first."""
    with open_library(library_path, pm) as library:
        runs = library.comfy.runs(open_only=open_only)
    if as_json:
        print_json(runs)
        return 0
    print_table(
        [
            Column("ID", right=True),
            Column("KIND"),
            Column("SOURCE", right=True),
            Column("STATUS"),
            Column("MESSAGE", wide=True),
        ],
        [(r.id, r.kind, r.source_id or "", r.status, r.message) for r in runs],
    )
    return 0


@comfy_group.command("cancel", cls=SectionedCommand)
@library_option
@click.argument("run_id", type=int, metavar="RUN")
@click.pass_obj
def cancel_command(pm, library_path, run_id) -> int:
    """Cancel a queued or running workflow run (ComfyUI is told to drop or interrupt it)."""
    with open_library(library_path, pm) as library:
        run = library.comfy.cancel(run_id)
    print(f"run {run.id}: {run.status}")
    return 0
