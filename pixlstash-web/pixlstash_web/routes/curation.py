"""Curated sets: who contributes to a set and who curates it, and the pictures submitted to it."""

from __future__ import annotations

from typing import Literal

import msgspec

from pixlstash.errors import NotFound
from pixlstash.organising.curation import SetRole, Submission

from ..api import Api, RequestContext
from ..schemas import IdList, Ids
from ..security import Policy

SET = "/sets/{collection_id:int}"


class RoleChange(msgspec.Struct, forbid_unknown_fields=True):
    role: Literal["viewer", "contributor", "curator"] | None  # None: no role in it


class Decision(msgspec.Struct, forbid_unknown_fields=True):
    ids: IdList
    accept: bool


class SubmissionsQuery(msgspec.Struct, forbid_unknown_fields=True):
    state: Literal["pending", "accepted", "rejected", "all"] = "pending"


class Done(msgspec.Struct):
    picture_ids: list[int]  # those submitted, accepted or rejected by this request


class NamedRole(msgspec.Struct):
    user_id: int
    username: str
    role: str


def _named(ctx: RequestContext, roles: list[SetRole]) -> list[NamedRole]:
    store = ctx.state.auth.store
    return [NamedRole(r.user_id, store.username(r.user_id) or f"account {r.user_id}", r.role) for r in roles]


def _account_named(ctx: RequestContext) -> int:
    """The account the path names (404 when there is none)."""
    user_id = ctx.path["user_id"]
    if ctx.state.auth.store.account(user_id) is None:
        raise NotFound(f"no account {user_id}")
    return user_id


def register(api: Api) -> None:
    @api.get(SET + "/roles", policy=Policy.READ, tag="curation",
             summary="A set's contributors and curators (one with a curator is curated)")  # fmt: skip
    def roles(ctx: RequestContext) -> list[NamedRole]:
        return _named(ctx, ctx.library.curation.roles(ctx.path["collection_id"]))

    @api.put(
        SET + "/roles/{user_id:int}",
        policy=Policy.WRITE,
        tag="curation",
        summary="Give an account a role in a set (viewer, contributor, curator) or none",
        extra_responses={403: "not an admin, the set's maker or a curator of it"},
    )
    def set_role(ctx: RequestContext, body: RoleChange) -> list[NamedRole]:
        roles = ctx.library.curation.set_role(ctx.path["collection_id"], _account_named(ctx), body.role)
        return _named(ctx, roles)

    @api.get("/projects/{project_id:int}/roles", policy=Policy.READ, tag="curation",
             summary="A project's viewers, contributors and curators")  # fmt: skip
    def project_roles(ctx: RequestContext) -> list[NamedRole]:
        return _named(ctx, ctx.library.curation.project_roles(ctx.path["project_id"]))

    @api.put(
        "/projects/{project_id:int}/roles/{user_id:int}",
        policy=Policy.WRITE,
        tag="curation",
        summary="Give an account a role in a project (viewer, contributor, curator) or none",
        extra_responses={403: "not an admin, the project's maker or a curator of it"},
    )
    def set_project_role(ctx: RequestContext, body: RoleChange) -> list[NamedRole]:
        roles = ctx.library.curation.set_project_role(ctx.path["project_id"], _account_named(ctx), body.role)
        return _named(ctx, roles)

    @api.post(
        SET + "/submissions",
        policy=Policy.WRITE,
        tag="curation",
        summary="Submit pictures to a curated set (its contributors and curators), for its curators to decide",
    )
    def submit(ctx: RequestContext, body: Ids) -> Done:
        return Done(ctx.library.curation.submit(ctx.path["collection_id"], body.ids))

    @api.get(
        SET + "/submissions",
        policy=Policy.READ,
        tag="curation",
        summary="A set's submissions: every one for its curators, one's own (and how each went) for others",
    )
    def submissions(ctx: RequestContext, query: SubmissionsQuery) -> list[Submission]:
        state = None if query.state == "all" else query.state
        return ctx.library.curation.submissions(ctx.path["collection_id"], state)

    @api.post(
        SET + "/submissions/decide",
        policy=Policy.WRITE,
        tag="curation",
        summary="Accept submissions (their pictures join the set: one undo step) or reject them (its curators)",
    )
    def decide(ctx: RequestContext, body: Decision) -> Done:
        return Done(ctx.library.curation.decide(ctx.path["collection_id"], body.ids, accept=body.accept))
