"""Signing in and out, first-run setup, API tokens, sessions and share links (the owner's side)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from pixlstash.accounts import Accounts, uploads_private
from pixlstash.auth import ApiToken, Forbidden, NewSecret, RateLimited, SessionInfo
from pixlstash.errors import Conflict, PixlstashError
from pixlstash.sharing.service import Share, ShareOptions

from ..api import Api, RequestContext, json_response
from ..schemas import (
    InviteAccept,
    LoginRequest,
    LoginResult,
    Me,
    MeChange,
    PasswordChange,
    PasswordChanged,
    SessionStatus,
    SetupRequest,
    SetupStatus,
    ShareCreate,
    ShareCreated,
    TokenCreate,
    TokenCreated,
)
from ..security import SESSION_COOKIE, Policy, client_address, is_local, public_base_url, refuse_cross_site

_SIGN_INS_WAITING = 32  # beyond this many waiting for a password check, answer 429 at once


async def _session_response(ctx: RequestContext, username: str, password: str, status: int = 200) -> Response:
    # A password check takes a core and 32 MiB for a tenth of a second: a few run at a time, and the rest
    # wait here without holding a worker thread, so a flood of sign-ins never stalls other requests.
    slots = ctx.state.password_checks
    if slots.statistics().tasks_waiting >= _SIGN_INS_WAITING:
        raise RateLimited("too many sign-ins at once; try again in a few seconds", retry_after=5)
    async with slots:
        secret = await run_in_threadpool(
            ctx.state.auth.login,
            username,
            password,
            client_address(ctx.request),
            ctx.request.headers.get("user-agent", ""),
        )
    return _with_session_cookie(ctx, username, secret, status)


def _with_session_cookie(ctx: RequestContext, username: str, secret: NewSecret, status: int) -> Response:
    return set_session_cookie(ctx, json_response(LoginResult(username, secret.extra), status), secret)


def set_session_cookie(ctx: RequestContext, response: Response, secret: NewSecret) -> Response:
    """The browser's session cookie on ``response``: a password sign-in, or one through the identity provider."""
    response.set_cookie(
        SESSION_COOKIE,
        secret.secret,
        max_age=30 * 86_400,
        httponly=True,
        samesite="lax",
        secure=ctx.state.settings.secure_cookies,
        path="/",
    )
    return response


def register(api: Api) -> None:
    @api.get(
        "/setup",
        policy=Policy.PUBLIC,
        tag="auth",
        summary="Whether the first-run setup (creating the owner) is still needed",
    )
    def setup_status(ctx: RequestContext) -> SetupStatus:
        needs = ctx.state.auth.needs_setup
        return SetupStatus(needs, needs and not is_local(ctx.request))

    @api.post(
        "/setup",
        policy=Policy.SETUP,
        response=LoginResult,
        status=201,
        raw=True,
        tag="auth",
        summary="Create the owner account (once; from another machine with the X-Setup-Code from the server's log)",
    )
    async def setup(ctx: RequestContext, body: SetupRequest) -> Response:
        auth = ctx.state.auth
        if not await run_in_threadpool(lambda: auth.needs_setup):
            raise Conflict("the owner account already exists; sign in instead")
        address, agent = client_address(ctx.request), ctx.request.headers.get("user-agent", "")
        async with ctx.state.password_checks:
            user_id = await run_in_threadpool(auth.create_user, body.username, body.password)
        ctx.state.setup_code = None  # the code dies with the owner's creation
        # Signed in at once, without checking the password just set again: a sign-in here would count
        # against the address's limit and could answer 429 for an owner that was made.
        secret = await run_in_threadpool(auth.open_session, user_id, address, agent)
        return _with_session_cookie(ctx, body.username.strip(), secret, 201)

    @api.post(
        "/invites/accept",
        policy=Policy.PUBLIC,
        response=LoginResult,
        status=201,
        raw=True,
        tag="auth",
        summary="Accept an invite: make its account with your name and password, and sign in",
        extra_responses={
            401: "no such invite",
            409: "the name is taken",
            410: "the invite was used, revoked or has expired",
            429: "too many failed attempts from this address",
        },
    )
    async def accept_invite(ctx: RequestContext, body: InviteAccept) -> Response:
        refuse_cross_site(ctx.request)
        auth, address = ctx.state.auth, client_address(ctx.request)
        auth.rate_limiter.begin(address)  # a wrong code counts as a wrong password does
        async with ctx.state.password_checks:
            user_id = await run_in_threadpool(Accounts(auth).accept, body.code, body.username, body.password)
        auth.rate_limiter.succeeded(address)
        secret = await run_in_threadpool(auth.open_session, user_id, address, ctx.request.headers.get("user-agent", ""))
        return _with_session_cookie(ctx, body.username.strip(), secret, 201)

    @api.post(
        "/auth/login",
        policy=Policy.PUBLIC,
        response=LoginResult,
        raw=True,
        tag="auth",
        summary="Sign in: sets an HttpOnly session cookie and returns the CSRF token",
        extra_responses={401: "wrong user name or password", 429: "too many failed attempts from this address"},
    )
    async def login(ctx: RequestContext, body: LoginRequest) -> Response:
        refuse_cross_site(ctx.request)
        return await _session_response(ctx, body.username, body.password)

    @api.post(
        "/auth/logout", policy=Policy.READ, status=204, raw=True, tag="auth", summary="Sign out (ends this session)"
    )
    def logout(ctx: RequestContext) -> Response:
        if ctx.principal.kind == "session":
            ctx.state.auth.revoke_session(ctx.principal.id)
        response = Response(status_code=204)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @api.get(
        "/auth/status",
        policy=Policy.PUBLIC,
        tag="auth",
        summary="Whether this browser's session cookie is signed in (never 401), and whether setup is needed",
    )
    def status(ctx: RequestContext) -> SessionStatus:
        auth = ctx.state.auth
        cookie = ctx.request.cookies.get(SESSION_COOKIE)
        if cookie:
            try:
                principal = auth.session(cookie)
                return SessionStatus(True, False, auth.store.username(principal.user_id))
            except PixlstashError:
                pass  # expired or revoked: the sign-in form
        return SessionStatus(False, auth.needs_setup)

    @api.get("/auth/me", policy=Policy.READ, tag="auth", summary="Who the credentials belong to")
    def me(ctx: RequestContext) -> Me:
        p, store = ctx.principal, ctx.state.auth.store
        account = store.account(p.user_id) if p.user_id else None
        if account is None:
            return Me(p.kind, p.scope, accounts=store.user_count())
        session_id = p.id if p.kind == "session" else None
        private = uploads_private(account)
        used = ctx.library.pictures.visibility.uploaded_bytes(account.id)
        return Me(
            p.kind,
            p.scope,
            account.username,
            session_id,
            account.role,
            account.id,
            private,
            store.user_count(),
            account.quota_bytes,
            used,
        )

    @api.patch(
        "/auth/me",
        policy=Policy.WRITE,
        tag="auth",
        summary="Your own default for your uploads: kept to yourself (private) or shared with the library",
    )
    def change_me(ctx: RequestContext, body: MeChange) -> Me:
        if ctx.principal.user_id is None:
            raise Forbidden("these credentials act for no account")
        Accounts(ctx.state.auth).set_uploads_private(ctx.principal.user_id, body.uploads_private)
        return me(ctx)

    @api.post(
        "/auth/password",
        policy=Policy.READ,
        tag="auth",
        summary="Change your own password (signed in only); every other browser session of yours ends",
        extra_responses={403: "the current password is wrong, or not signed in (API tokens cannot)"},
    )
    async def change_password(ctx: RequestContext, body: PasswordChange) -> PasswordChanged:
        p = ctx.principal
        if p.kind != "session" or p.user_id is None:
            raise Forbidden("sign in to change the password: an API token cannot")
        async with ctx.state.password_checks:  # hashing costs what a sign-in costs
            ended = await run_in_threadpool(
                ctx.state.auth.change_password,
                p.user_id,
                body.current_password,
                body.new_password,
                client_address(ctx.request),
                p.id,
            )
        return PasswordChanged(ended)

    @api.get("/sessions", policy=Policy.ADMIN, tag="auth", summary="Open browser sessions")
    def sessions(ctx: RequestContext) -> list[SessionInfo]:
        return ctx.state.auth.sessions()

    @api.delete("/sessions/{session_id:int}", policy=Policy.ADMIN, tag="auth", summary="End a browser session")
    def end_session(ctx: RequestContext) -> None:
        ctx.state.auth.revoke_session(ctx.path["session_id"])

    @api.get("/tokens", policy=Policy.ADMIN, tag="auth", summary="API tokens (no secrets)")
    def tokens(ctx: RequestContext) -> list[ApiToken]:
        return ctx.state.auth.tokens()

    @api.post(
        "/tokens",
        policy=Policy.ADMIN,
        status=201,
        tag="auth",
        summary="Create an API token (its secret is shown once)",
    )
    def create_token(ctx: RequestContext, body: TokenCreate) -> TokenCreated:
        user_id = ctx.principal.user_id  # the token acts for the account that made it
        secret = ctx.state.auth.create_token(body.name, body.scope, body.expires_in_days, user_id=user_id)
        return TokenCreated(secret.id, secret.secret, body.scope)

    @api.delete("/tokens/{token_id:int}", policy=Policy.ADMIN, tag="auth", summary="Revoke an API token")
    def revoke_token(ctx: RequestContext) -> None:
        ctx.state.auth.revoke_token(ctx.path["token_id"])

    @api.get("/shares", policy=Policy.ADMIN, tag="shares", summary="Share links (no secrets)")
    def shares(ctx: RequestContext) -> list[Share]:
        return ctx.state.shares.all()

    @api.post(
        "/shares",
        policy=Policy.WRITE,
        status=201,
        tag="shares",
        summary="Create a read-only share link for pictures, a set, a character or a project",
    )
    def create_share(ctx: RequestContext, body: ShareCreate) -> ShareCreated:
        watermark = None
        if body.watermark_text or body.watermark_picture_id is not None:
            watermark = {"opacity": body.watermark_opacity, "position": body.watermark_position}
            if body.watermark_picture_id is not None:
                watermark["image"] = str(ctx.state.shares.keep_watermark_image(body.watermark_picture_id))
            else:
                watermark["text"] = body.watermark_text
        options = ShareOptions(
            allow_original=body.allow_original,
            include_metadata=body.include_metadata,
            watermark=watermark,
            edited_downloads=body.edited_downloads,
        )
        scope_type = type(body).__struct_config__.tag
        share, secret = ctx.state.shares.create(
            scope_type,
            getattr(body, "scope_id", None),
            getattr(body, "picture_ids", None),
            body.title,
            options,
            body.expires_in_days,
            made_by=ctx.principal,
        )
        return ShareCreated(share.id, secret, f"{public_base_url(ctx.request, ctx.state.settings)}/s/{secret}")

    @api.delete("/shares/{share_id:int}", policy=Policy.WRITE, tag="shares", summary="Revoke a share link at once")
    def revoke_share(ctx: RequestContext) -> None:
        ctx.state.shares.revoke(ctx.path["share_id"], by=ctx.principal)

    @api.post(
        "/shares/{share_id:int}/owner",
        policy=Policy.ADMIN,
        tag="shares",
        summary="Take over a share link, so that it outlives the token that made it",
    )
    def reown_share(ctx: RequestContext) -> Share:
        return ctx.state.shares.reown(ctx.path["share_id"], ctx.principal)
