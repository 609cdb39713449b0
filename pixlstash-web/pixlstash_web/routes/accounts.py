"""The library's accounts, for its admins: list, add, invite, change a role, disable or enable, give a new
password, remove (``pixlstash.accounts``; the rules on the owner and on one's own account live there); and
for everyone signed in, the names of the people a set can be shared with. An invite is accepted by its
person at ``POST /invites/accept`` (``auth_routes``)."""

from __future__ import annotations

import msgspec
from msgspec import UNSET
from starlette.concurrency import run_in_threadpool

from pixlstash.accounts import Account, Accounts, Invite

from ..api import Api, RequestContext
from ..schemas import AccountChange, AccountCreate, InviteCreate, InviteCreated, PasswordReset
from ..security import Policy, public_base_url


class PersonName(msgspec.Struct):
    id: int
    username: str


def register(api: Api) -> None:
    @api.get("/users", policy=Policy.ADMIN, tag="auth", summary="The library's accounts")
    def accounts(ctx: RequestContext) -> list[Account]:
        return Accounts(ctx.state.auth).list()

    @api.get(
        "/users/names",
        policy=Policy.READ,
        tag="auth",
        summary="The names of the library's active accounts: whom a set's maker may give a role in it",
    )
    def names(ctx: RequestContext) -> list[PersonName]:
        return [PersonName(a.id, a.username) for a in Accounts(ctx.state.auth).list() if not a.disabled]

    @api.post(
        "/users",
        policy=Policy.ADMIN,
        status=201,
        tag="auth",
        summary="Add an account with a role (admin, member or viewer) and its first password",
        extra_responses={409: "an account of that name exists, or the library has no owner yet"},
    )
    async def add(ctx: RequestContext, body: AccountCreate) -> Account:
        async with ctx.state.password_checks:  # hashing costs what a sign-in costs
            return await run_in_threadpool(Accounts(ctx.state.auth).add, body.username, body.password, body.role)

    @api.patch(
        "/users/{user_id:int}",
        policy=Policy.ADMIN,
        tag="auth",
        summary="Change an account's role or quota, or disable (its sessions end, its tokens stop) or enable it",
        extra_responses={403: "the owner's account, or your own"},
    )
    def change(ctx: RequestContext, body: AccountChange) -> Account:
        accounts = Accounts(ctx.state.auth)
        name, by = accounts.by_id(ctx.path["user_id"]).username, ctx.principal.user_id
        if isinstance(body.role, str):
            accounts.set_role(name, body.role, by=by)
        if body.quota_bytes is not UNSET:
            accounts.set_quota(name, body.quota_bytes, by=by)
        if body.disabled is True:
            accounts.disable(name, by=by)
        elif body.disabled is False:
            accounts.enable(name, by=by)
        return accounts.named(name)

    @api.post(
        "/users/{user_id:int}/password",
        policy=Policy.ADMIN,
        tag="auth",
        summary="Give an account a new password (its sessions end); not the owner's, nor your own",
        extra_responses={403: "the owner's account, or your own (change yours with POST /auth/password)"},
    )
    async def reset_password(ctx: RequestContext, body: PasswordReset) -> None:
        accounts = Accounts(ctx.state.auth)
        name = accounts.by_id(ctx.path["user_id"]).username
        async with ctx.state.password_checks:
            await run_in_threadpool(accounts.reset_password, name, body.password, by=ctx.principal.user_id)

    @api.delete(
        "/users/{user_id:int}",
        policy=Policy.ADMIN,
        tag="auth",
        summary="Remove an account and revoke its tokens (what it brought into the library becomes the owner's)",
        extra_responses={403: "the owner's account, or your own"},
    )
    def remove(ctx: RequestContext) -> None:
        accounts = Accounts(ctx.state.auth)
        name = accounts.by_id(ctx.path["user_id"]).username
        accounts.remove(name, by=ctx.principal.user_id, hand_over=ctx.library.hand_over_pictures)

    @api.get("/invites", policy=Policy.ADMIN, tag="auth", summary="Invites (no codes)")
    def invites(ctx: RequestContext) -> list[Invite]:
        return Accounts(ctx.state.auth).invites()

    @api.post(
        "/invites",
        policy=Policy.ADMIN,
        status=201,
        tag="auth",
        summary="Invite someone: a one-time code for one account of a role, shown once, expiring (7 days)",
        extra_responses={409: "the library has no owner yet"},
    )
    def invite(ctx: RequestContext, body: InviteCreate) -> InviteCreated:
        made = Accounts(ctx.state.auth).invite(
            body.role, by=ctx.principal.user_id, note=body.note, expires_in_days=body.expires_in_days
        )
        url = f"{public_base_url(ctx.request, ctx.state.settings)}/#invite={made.code}"
        return InviteCreated(made.id, made.code, url, made.role, made.expires_at)

    @api.delete("/invites/{invite_id:int}", policy=Policy.ADMIN, tag="auth", summary="Revoke an unused invite")
    def revoke_invite(ctx: RequestContext) -> None:
        Accounts(ctx.state.auth).revoke_invite(ctx.path["invite_id"])
