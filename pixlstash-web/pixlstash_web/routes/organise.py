"""Projects, characters, sets, their members, set operations, breadcrumbs and the tag vocabulary."""

from __future__ import annotations

import msgspec

from pixlstash.domain import Breadcrumb, Collection, Id, Project, Tag

from ..api import Api, RequestContext
from ..schemas import (
    CollectionCreate,
    CollectionPatch,
    Ids,
    MoveRequest,
    ProjectCreate,
    ProjectPatch,
    SetOperationRequest,
    SetOperationResult,
    TagAlias,
    TagMerge,
    TagPatch,
    TagsQuery,
)
from ..security import Policy


class BreadcrumbQuery(msgspec.Struct, forbid_unknown_fields=True):
    project: Id | None = None
    collection: Id | None = None


class ListQuery(msgspec.Struct, forbid_unknown_fields=True):
    """The query of a list of sets or characters: optionally one project's."""

    project: Id | None = None


def _patch_fields(body: msgspec.Struct) -> dict:
    return {k: v for k, v in msgspec.structs.asdict(body).items() if v is not None}


def register(api: Api) -> None:
    org = lambda ctx: ctx.library.organise  # noqa: E731

    @api.get("/projects", policy=Policy.READ, tag="projects", summary="All projects")
    def projects(ctx: RequestContext) -> list[Project]:
        return ctx.library.collections.projects()

    @api.post(
        "/projects",
        policy=Policy.WRITE,
        status=201,
        tag="projects",
        summary="Create a project",
    )
    def create_project(ctx: RequestContext, body: ProjectCreate) -> Project:
        made = ctx.library.edits.create_project(body.name, body.description, body.color)
        return ctx.library.organise.set_project_private(made.id, True) if body.private else made

    @api.get("/projects/{project_id:int}", policy=Policy.READ, tag="projects", summary="One project")
    def project(ctx: RequestContext) -> Project:
        return ctx.library.collections.project(ctx.path["project_id"])

    @api.patch(
        "/projects/{project_id:int}",
        policy=Policy.WRITE,
        tag="projects",
        summary="Rename, describe or recolour a project, or keep it private (to you and those with a role in it)",
    )
    def patch_project(ctx: RequestContext, body: ProjectPatch) -> Project:
        ctx.library.collections.project(ctx.path["project_id"])
        fields = _patch_fields(body)
        private = fields.pop("private", None)
        if fields:
            ctx.library.organise.require_manage_project(ctx.path["project_id"])
            ctx.library.edits.edit_details("project", ctx.path["project_id"], **fields)
        if private is not None:
            ctx.library.organise.set_project_private(ctx.path["project_id"], private)
        return ctx.library.collections.project(ctx.path["project_id"])

    @api.delete(
        "/projects/{project_id:int}",
        policy=Policy.WRITE,
        tag="projects",
        summary="Delete a project (its characters, sets and pictures stay)",
    )
    def delete_project(ctx: RequestContext) -> None:
        ctx.library.organise.require_manage_project(ctx.path["project_id"])
        ctx.library.edits.delete_project(ctx.path["project_id"])

    @api.post(
        "/projects/{project_id:int}/pictures",
        policy=Policy.WRITE,
        tag="projects",
        summary="Add pictures to a project directly",
    )
    def add_to_project(ctx: RequestContext, body: Ids) -> None:
        ctx.library.collections.project(ctx.path["project_id"])
        ctx.library.edits.add_to_project(ctx.path["project_id"], body.ids)

    @api.post(
        "/projects/{project_id:int}/pictures/remove",
        policy=Policy.WRITE,
        tag="projects",
        summary="Remove direct project membership (collections still hold theirs)",
    )
    def remove_from_project(ctx: RequestContext, body: Ids) -> None:
        ctx.library.collections.project(ctx.path["project_id"])
        ctx.library.edits.remove_from_project(ctx.path["project_id"], body.ids)

    for kind, plural in (("set", "sets"), ("character", "characters")):
        _register_collections(api, kind, plural)

    @api.post(
        "/set-operations",
        policy=Policy.READ,
        tag="sets",
        summary="Union, overlap, difference or unique of sets and characters (optionally saved)",
    )
    def set_operation(ctx: RequestContext, body: SetOperationRequest) -> SetOperationResult:
        ids = org(ctx).set_operation(body.collection_ids, body.op)
        return SetOperationResult(body.op, ids)

    @api.post(
        "/set-operations/save",
        policy=Policy.WRITE,
        status=201,
        tag="sets",
        summary="Save the result of a set operation as a new set",
    )
    def save_set_operation(ctx: RequestContext, body: SetOperationRequest) -> SetOperationResult:
        saved = ctx.library.edits.save_set_operation(
            body.collection_ids, body.op, body.save_as or f"{body.op} result", body.project_id
        )  # one undo step
        return SetOperationResult(body.op, org(ctx).set_operation([saved], "union"), saved)

    @api.get(
        "/breadcrumbs",
        policy=Policy.READ,
        tag="projects",
        summary="The path of a view: library, project, character or set",
    )
    def breadcrumbs(ctx: RequestContext, query: BreadcrumbQuery) -> list[Breadcrumb]:
        return org(ctx).breadcrumbs(project_id=query.project, collection_id=query.collection)

    @api.get(
        "/tags",
        policy=Policy.READ,
        tag="tags",
        summary="The tag vocabulary (prefix search for autocomplete)",
    )
    def tags(ctx: RequestContext, query: TagsQuery) -> list[Tag]:
        return ctx.library.tags.vocabulary(query.prefix, query.category, query.limit, query.after)

    @api.get("/tags/{tag_id:int}", policy=Policy.READ, tag="tags", summary="One tag")
    def tag(ctx: RequestContext) -> Tag:
        return ctx.library.tags.get(ctx.path["tag_id"])

    @api.patch(
        "/tags/{tag_id:int}",
        policy=Policy.WRITE,
        tag="tags",
        summary="Rename a tag or change its category",
    )
    def patch_tag(ctx: RequestContext, body: TagPatch) -> Tag:
        ctx.library.edits.rename_tag(ctx.path["tag_id"], name=body.name, category=body.category)  # one undo step
        return ctx.library.tags.get(ctx.path["tag_id"])

    @api.post(
        "/tags/{tag_id:int}/merge",
        policy=Policy.WRITE,
        tag="tags",
        summary="Fold this tag into another (its name becomes an alias)",
    )
    def merge_tag(ctx: RequestContext, body: TagMerge) -> Tag:
        ctx.library.edits.merge_tags(ctx.path["tag_id"], body.into)
        return ctx.library.tags.get(body.into)

    @api.post(
        "/tags/{tag_id:int}/aliases",
        policy=Policy.WRITE,
        tag="tags",
        summary="Add an alias to a tag",
    )
    def alias_tag(ctx: RequestContext, body: TagAlias) -> Tag:
        ctx.library.edits.alias_tag(ctx.path["tag_id"], body.alias)
        return ctx.library.tags.get(ctx.path["tag_id"])

    @api.delete(
        "/tags/{tag_id:int}",
        policy=Policy.WRITE,
        tag="tags",
        summary="Delete a tag from the vocabulary and every picture",
    )
    def delete_tag(ctx: RequestContext) -> None:
        ctx.library.edits.delete_tag(ctx.path["tag_id"])  # one undo step


def _register_collections(api: Api, kind: str, plural: str) -> None:
    path = f"/{plural}"
    item = f"/{plural}/{{collection_id:int}}"

    def org(ctx):
        return ctx.library.organise

    def one(ctx: RequestContext) -> Collection:
        return ctx.library.collections.collection(ctx.path["collection_id"], kind)

    @api.get(
        path,
        policy=Policy.READ,
        tag=plural,
        summary=f"All {plural} (optionally of one project)",
    )
    def list_(ctx: RequestContext, query: ListQuery) -> list[Collection]:
        return ctx.library.collections.collections(kind, query.project)

    @api.post(
        path,
        policy=Policy.WRITE,
        status=201,
        tag=plural,
        summary=f"Create a {kind}",
    )
    def create(ctx: RequestContext, body: CollectionCreate) -> Collection:
        made = ctx.library.edits.create_collection(kind, body.name, body.project_id, body.description, body.color)
        return ctx.library.organise.set_private(made.id, True) if body.private else made

    @api.get(item, policy=Policy.READ, tag=plural, summary=f"One {kind}")
    def get(ctx: RequestContext) -> Collection:
        return one(ctx)

    @api.patch(
        item,
        policy=Policy.WRITE,
        tag=plural,
        summary=f"Rename, describe or recolour a {kind}, or keep it private (to you and those with a role in it)",
    )
    def patch(ctx: RequestContext, body: CollectionPatch) -> Collection:
        one(ctx)
        fields = _patch_fields(body)
        private = fields.pop("private", None)
        if fields:
            ctx.library.organise.require_manage(ctx.path["collection_id"])
            ctx.library.edits.edit_details("collection", ctx.path["collection_id"], **fields)
        if private is not None:
            ctx.library.organise.set_private(ctx.path["collection_id"], private)
        return one(ctx)

    @api.delete(item, policy=Policy.WRITE, tag=plural, summary=f"Delete a {kind} (never its pictures)")
    def delete(ctx: RequestContext) -> None:
        one(ctx)
        ctx.library.organise.require_manage(ctx.path["collection_id"])
        ctx.library.edits.delete_collection(ctx.path["collection_id"])

    @api.post(
        item + "/move",
        policy=Policy.WRITE,
        tag=plural,
        summary=f"Move a {kind} to another project; its pictures follow, reference-aware",
    )
    def move(ctx: RequestContext, body: MoveRequest) -> Collection:
        ctx.library.organise.require_manage(ctx.path["collection_id"])
        return ctx.library.edits.move_collection(ctx.path["collection_id"], body.project_id)

    @api.post(
        item + "/pictures",
        policy=Policy.WRITE,
        tag=plural,
        summary=f"Add pictures to a {kind}",
    )
    def add(ctx: RequestContext, body: Ids) -> Collection:
        one(ctx)
        ctx.library.edits.add_members(ctx.path["collection_id"], body.ids)
        return one(ctx)

    @api.post(
        item + "/pictures/remove",
        policy=Policy.WRITE,
        tag=plural,
        summary=f"Remove pictures from a {kind}",
    )
    def remove(ctx: RequestContext, body: Ids) -> Collection:
        one(ctx)
        ctx.library.edits.remove_members(ctx.path["collection_id"], body.ids)
        return one(ctx)
