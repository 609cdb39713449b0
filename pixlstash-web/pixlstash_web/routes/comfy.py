"""ComfyUI from the library: link a ComfyUI (its node pack gets a token made for it), remix a picture's
own workflow, run a workflow on a selection, and follow or cancel the runs. Runs are worked by the app's
runner thread; every change is a ``comfy.run`` event on the event stream."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from pixlstash.comfy import NODES_MISSING, checked_url
from pixlstash.domain import ComfyLink, ComfyRun, Id
from pixlstash.errors import BadInput

from ..api import Api, RequestContext
from ..security import Policy, public_base_url

Url = Annotated[str, Meta(min_length=1, max_length=2000)]
# Up to 2**64 - 1, as ComfyUI's seeds: checked by the remix (msgspec's bounds stop at 2**63 - 1).
Seed = Annotated[int, Meta(ge=0, extra_json_schema={"maximum": 2**64 - 1})]
Strength = Annotated[float, Meta(ge=-100, le=100)]


class LinkRequest(msgspec.Struct, forbid_unknown_fields=True):
    url: Url
    pixlstash_url: Url | None = None  # how that ComfyUI reaches this server (default: this request's address)


class Linked(msgspec.Struct):
    link: ComfyLink
    comfyui_version: str | None
    pack_configured: bool  # the PixlStash nodes there got this server's address and a token of their own
    message: str


class RemixRequest(msgspec.Struct, forbid_unknown_fields=True):
    picture_id: Id
    seed: Seed | None = None  # pinned; a new random one when left out
    prompt: Annotated[str, Meta(max_length=20000)] | None = None  # a new positive prompt
    loras: dict[Annotated[str, Meta(max_length=300)], Strength] = {}
    link: Id | None = None  # which linked ComfyUI (the only one by default)


class RunRequest(msgspec.Struct, forbid_unknown_fields=True):
    picture_ids: Annotated[list[Id], Meta(min_length=1, max_length=1000)]
    workflow: dict[str, Any] | None = None  # an API-format workflow...
    workflow_from: Id | None = None  # ...or the one embedded in this picture
    image_node: Annotated[str, Meta(max_length=40)] | None = None  # its LoadImage the pictures go to
    link: Id | None = None


def register(api: Api) -> None:
    @api.get("/comfy/links", policy=Policy.ADMIN, tag="comfyui", summary="Linked ComfyUIs")
    def links(ctx: RequestContext) -> list[ComfyLink]:
        return ctx.library.comfy.links()

    @api.post(
        "/comfy/links",
        policy=Policy.ADMIN,
        extra_responses={502: "the ComfyUI did not answer, or answered with an error"},
        status=201,
        tag="comfyui",
        summary="Link a ComfyUI: probe it, and give its PixlStash nodes a write token of their own",
    )
    def link(ctx: RequestContext, body: LinkRequest) -> Linked:
        comfy = ctx.library.comfy
        own_url = checked_url(body.pixlstash_url) if body.pixlstash_url else None
        stats = comfy.probe(body.url)
        made = ctx.state.auth.create_token(f"ComfyUI at {body.url}"[:100], "write")
        own_url = own_url or public_base_url(ctx.request, ctx.state.settings)
        configured = comfy.client(body.url).configure_pack(own_url, made.secret)
        if not configured:  # no node pack there: the token would only lie around
            ctx.state.auth.revoke_token(made.id)
        linked = comfy.link(body.url, made.id if configured else None, revoke_token=ctx.state.auth.revoke_token)
        message = (
            f"linked; its PixlStash nodes now reach {own_url} with a token of their own"
            if configured
            else f"linked; {NODES_MISSING}"
        )
        version = (stats.get("system") or {}).get("comfyui_version")
        return Linked(linked, version, configured, message)

    @api.delete("/comfy/links/{link_id:int}", policy=Policy.ADMIN, tag="comfyui", summary="Unlink a ComfyUI")
    def unlink(ctx: RequestContext) -> None:
        removed = ctx.library.comfy.unlink(ctx.path["link_id"])
        if removed.token_id is not None:
            ctx.state.auth.revoke_token(removed.token_id)

    @api.post(
        "/comfy/remix",
        extra_responses={502: "the ComfyUI did not answer, or answered with an error"},
        policy=Policy.WRITE,
        status=202,
        tag="comfyui",
        summary="Re-run a picture's own ComfyUI workflow with a new or pinned seed (checked before it is queued)",
    )
    def remix(ctx: RequestContext, body: RemixRequest) -> ComfyRun:
        run = ctx.library.comfy.create_remix(
            body.picture_id, link=body.link, seed=body.seed, positive=body.prompt, loras=body.loras
        )
        ctx.state.comfy_runner.wake()
        return run

    @api.post(
        "/comfy/runs",
        policy=Policy.WRITE,
        extra_responses={502: "the ComfyUI did not answer, or answered with an error"},
        status=202,
        tag="comfyui",
        summary="Run a workflow once per picture, each fed to its image input (checked before anything is queued)",
    )
    def run(ctx: RequestContext, body: RunRequest) -> list[ComfyRun]:
        if (body.workflow is None) == (body.workflow_from is None):
            raise BadInput("give the workflow, or the picture whose embedded workflow to run (workflow_from)")
        workflow = body.workflow
        if body.workflow_from is not None:
            generation = ctx.library.get(body.workflow_from).generation
            if not (generation and generation.raw_prompt):
                raise BadInput(f"picture {body.workflow_from} carries no ComfyUI workflow")
            workflow = generation.raw_prompt
        runs = ctx.library.comfy.create_runs(workflow, body.picture_ids, image_node=body.image_node, link=body.link)
        ctx.state.comfy_runner.wake()
        return runs

    @api.get("/comfy/runs", policy=Policy.READ, tag="comfyui", summary="Workflow runs, newest first")
    def runs(ctx: RequestContext) -> list[ComfyRun]:
        open_only = ctx.request.query_params.get("open") in ("1", "true")
        return ctx.library.comfy.runs(open_only=open_only)

    @api.get("/comfy/runs/{run_id:int}", policy=Policy.READ, tag="comfyui", summary="A workflow run")
    def one(ctx: RequestContext) -> ComfyRun:
        return ctx.library.comfy.get(ctx.path["run_id"])

    @api.post(
        "/comfy/runs/{run_id:int}/cancel",
        policy=Policy.WRITE,
        tag="comfyui",
        summary="Cancel a queued or running workflow run",
    )
    def cancel(ctx: RequestContext) -> ComfyRun:
        return ctx.library.comfy.cancel(ctx.path["run_id"])
