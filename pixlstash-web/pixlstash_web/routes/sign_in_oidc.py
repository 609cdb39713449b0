"""Signing in with the household's or studio's identity provider (OpenID Connect), and its settings.

The browser's round trip: ``start`` sends it to the provider with a state bound to a cookie of its own;
the provider sends it back to ``callback``, which checks everything (``pixlstash.sign_in.oidc``,
``pixlstash_web.oidc_client``), opens a session and sends it on to the page it came from. A person
already signed in links their account with ``POST /auth/oidc/link`` (CSRF-checked: a page elsewhere must
not link someone else's provider identity to their account). The callback answers a failure with a short
page that says what went wrong, with its status, since a browser, not a script, lands there.
"""

from __future__ import annotations

import html
from typing import Annotated

import msgspec
from msgspec import Meta
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pixlstash.accounts import GivenRole
from pixlstash.errors import BadInput, PixlstashError
from pixlstash.sign_in.oidc import OidcSettings

from ..api import Api, RequestContext, json_response
from ..errors import status_of
from ..security import Policy, client_address, public_base_url
from .auth_routes import set_session_cookie

BROWSER_COOKIE = "pixlstash_oidc"  # binds a sign-in's state to the browser that began it
CSRF_HANDOFF_COOKIE = "pixlstash_csrf"  # the new session's CSRF token, for the page to take once
_CALLBACK = "/api/v1/auth/oidc/callback"


class OidcPublic(msgspec.Struct):
    """What the sign-in page needs: whether to offer the provider, and its name."""

    enabled: bool
    label: str | None = None


class OidcSettingsView(msgspec.Struct):
    issuer: str
    client_id: str
    client_secret_set: bool
    label: str
    create_accounts: bool
    default_role: GivenRole
    role_claim: str | None
    role_values: dict[str, GivenRole]
    scopes: str
    redirect_uri: str  # register this at the provider


class OidcSettingsChange(msgspec.Struct, forbid_unknown_fields=True):
    issuer: Annotated[str, Meta(min_length=8, max_length=500)]
    client_id: Annotated[str, Meta(min_length=1, max_length=500)]
    client_secret: Annotated[str, Meta(min_length=1, max_length=2000)] | None = None  # None: keep the one set
    label: Annotated[str, Meta(min_length=1, max_length=60)] = "your identity provider"
    create_accounts: bool = False
    default_role: GivenRole = "viewer"
    role_claim: Annotated[str, Meta(min_length=1, max_length=100)] | None = None
    role_values: dict[Annotated[str, Meta(max_length=200)], GivenRole] = {}
    scopes: Annotated[str, Meta(max_length=500)] = "openid profile email"


class OidcStart(msgspec.Struct):
    url: str  # where to send the browser


class OidcStartQuery(msgspec.Struct, forbid_unknown_fields=True):
    next: Annotated[str, Meta(max_length=2000)] = "/"


class OidcCallbackQuery(msgspec.Struct):  # the provider may add parameters of its own
    state: Annotated[str, Meta(max_length=500)] | None = None
    code: Annotated[str, Meta(max_length=4000)] | None = None
    iss: Annotated[str, Meta(max_length=500)] | None = None
    error: Annotated[str, Meta(max_length=200)] | None = None
    error_description: Annotated[str, Meta(max_length=1000)] | None = None


def _client(ctx: RequestContext):
    if ctx.state.oidc_client is None:
        from ..oidc_client import OidcClient  # Authlib, httpx and cryptography load at the first sign-in

        ctx.state.oidc_client = OidcClient()
    return ctx.state.oidc_client


def _redirect_uri(ctx: RequestContext) -> str:
    return public_base_url(ctx.request, ctx.state.settings) + _CALLBACK


def _view(ctx: RequestContext, settings: OidcSettings) -> OidcSettingsView:
    fields = msgspec.structs.asdict(settings)
    fields.pop("client_secret")
    return OidcSettingsView(**fields, client_secret_set=bool(settings.client_secret), redirect_uri=_redirect_uri(ctx))


def _failure_page(status: int, message: str) -> HTMLResponse:
    text = html.escape(message)
    page = (
        '<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
        f"<title>Sign-in failed · PixlStash</title><main><h1>Sign-in failed</h1><p>{text}</p>"
        '<p><a href="/">Back to PixlStash</a></p></main></html>'
    )
    return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})


async def _begin(ctx: RequestContext, next_path: str, link_user_id: int | None) -> tuple[str, str]:
    settings, pending = await run_in_threadpool(ctx.state.oidc.begin, next_path, link_user_id)
    url = await _client(ctx).authorization_url(settings, pending, _redirect_uri(ctx))
    return url, pending.browser


def _with_browser_cookie(ctx: RequestContext, response: Response, browser: str) -> Response:
    response.set_cookie(
        BROWSER_COOKIE,
        browser,
        max_age=600,
        httponly=True,
        samesite="lax",  # sent on the provider's redirect back, a top-level navigation from another site
        secure=ctx.state.settings.secure_cookies,
        path=_CALLBACK,
    )
    return response


def register(api: Api) -> None:
    @api.get(
        "/auth/oidc",
        policy=Policy.PUBLIC,
        tag="auth",
        summary="Whether signing in with an identity provider is offered, and the provider's name",
    )
    def public(ctx: RequestContext) -> OidcPublic:
        settings = ctx.state.oidc.settings()
        return OidcPublic(False) if settings is None else OidcPublic(True, settings.label)

    @api.get(
        "/auth/oidc/start",
        policy=Policy.PUBLIC,
        status=303,
        raw=True,
        tag="auth",
        summary="Sign in with the identity provider: sends the browser there (303)",
        extra_responses={400: "not set up", 429: "too many sign-ins under way", 502: "the provider did not answer"},
    )
    async def start(ctx: RequestContext, query: OidcStartQuery) -> Response:
        url, browser = await _begin(ctx, query.next, None)
        return _with_browser_cookie(ctx, RedirectResponse(url, status_code=303), browser)

    @api.post(
        "/auth/oidc/link",
        policy=Policy.READ,
        response=OidcStart,
        raw=True,
        tag="auth",
        summary="Link your account to your identity at the provider: returns where to send the browser",
    )
    async def link(ctx: RequestContext) -> Response:
        if ctx.principal.kind != "session" or ctx.principal.user_id is None:
            raise BadInput("link an account from a browser signed in to it")
        url, browser = await _begin(ctx, "/", ctx.principal.user_id)
        return _with_browser_cookie(ctx, json_response(OidcStart(url)), browser)

    @api.get(
        "/auth/oidc/callback",
        policy=Policy.PUBLIC,
        status=303,
        raw=True,
        tag="auth",
        summary="Where the identity provider sends the browser back: signs it in (303), or says why not",
        extra_responses={
            400: "no state, or the provider said no",
            401: "a check failed",
            403: "no account is linked",
            409: "linked to another account",
            502: "the provider did not answer",
        },
        error_pages=True,
    )
    async def callback(ctx: RequestContext, query: OidcCallbackQuery) -> Response:
        try:
            return await _finish(ctx, query)
        except PixlstashError as error:
            return _failure_page(status_of(error), error.message)

    async def _finish(ctx: RequestContext, query: OidcCallbackQuery) -> Response:
        if not query.state:
            raise BadInput("the identity provider sent the browser back without a state: start again")
        pending = await run_in_threadpool(ctx.state.oidc.take, query.state, ctx.request.cookies.get(BROWSER_COOKIE))
        if query.error or not query.code:
            said = query.error_description or query.error or "no authorization code"
            raise BadInput(f"the identity provider did not sign you in: {said}")
        settings = ctx.state.oidc.settings()
        if settings is None:
            raise BadInput("sign-in through an identity provider was turned off")
        claims = await _client(ctx).claims(
            settings, query.code, pending.verifier, pending.nonce, _redirect_uri(ctx), query.iss
        )
        finished = await run_in_threadpool(ctx.state.oidc.finish, settings.issuer, claims, pending)
        response = RedirectResponse(pending.next, status_code=303)
        response.delete_cookie(BROWSER_COOKIE, path=_CALLBACK)
        if finished.outcome == "linked":
            return response
        secret = await run_in_threadpool(
            ctx.state.auth.open_session,
            finished.user_id,
            client_address(ctx.request),
            ctx.request.headers.get("user-agent", ""),
        )
        set_session_cookie(ctx, response, secret)
        # The page keeps its CSRF token in its own storage; it takes this one once and deletes the cookie.
        secure = ctx.state.settings.secure_cookies
        response.set_cookie(CSRF_HANDOFF_COOKIE, secret.extra or "", max_age=120, samesite="strict", secure=secure)
        return response

    @api.get(
        "/auth/oidc/settings",
        policy=Policy.ADMIN,
        tag="auth",
        summary="The identity provider this library signs people in with (null: none), and the redirect URI",
    )
    def settings(ctx: RequestContext) -> OidcSettingsView | None:
        current = ctx.state.oidc.settings()
        return None if current is None else _view(ctx, current)

    @api.put(
        "/auth/oidc/settings",
        policy=Policy.ADMIN,
        tag="auth",
        summary="Set the identity provider (the client secret is kept when not given)",
    )
    def change(ctx: RequestContext, body: OidcSettingsChange) -> OidcSettingsView:
        current = ctx.state.oidc.settings()
        fields = msgspec.structs.asdict(body)
        if body.client_secret is None:
            if current is None:
                raise BadInput("a client secret is needed (the provider gives it with the client id)")
            fields["client_secret"] = current.client_secret
        return _view(ctx, ctx.state.oidc.configure(OidcSettings(**fields)))

    @api.delete(
        "/auth/oidc/settings",
        policy=Policy.ADMIN,
        tag="auth",
        summary="Stop offering sign-in with the identity provider (links to accounts are kept)",
    )
    def turn_off(ctx: RequestContext) -> None:
        ctx.state.oidc.turn_off()
