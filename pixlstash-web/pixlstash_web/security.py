"""Authentication and authorisation: every route declares a policy, and nothing passes without one.

Credentials: an API token (``Authorization: Bearer``), or the owner's session cookie (unsafe methods
then also need a same-origin ``Origin`` and the ``X-CSRF-Token`` header), or, on ``/shared/{token}``
routes only, a share link token in the path. Tokens in query strings are refused outright.
"""

from __future__ import annotations

import enum
import ipaddress

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from pixlstash.auth import Forbidden, Principal, Unauthenticated
from pixlstash.errors import BadInput
from pixlstash.system.addresses import is_loopback_host

from .first_run import SETUP_CODE_HEADER
from .state import AppState

__all__ = ["SESSION_COOKIE", "Policy", "authorise", "client_address", "is_local", "is_loopback", "public_base_url"]

SESSION_COOKIE = "pixlstash_session"
CSRF_HEADER = "x-csrf-token"
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_URL_TOKEN_PARAMS = {"token", "access_token", "api_key", "apikey", "session"}


class Policy(enum.StrEnum):
    PUBLIC = "public"  # anyone (version, login, docs, the UI shell)
    SETUP = "setup"  # only while no owner exists: from this machine, or with the setup code from the log
    READ = "read"  # a read, write or admin token, or the owner's session
    WRITE = "write"
    ADMIN = "admin"
    SHARE = "share"  # a share link token in the path, nothing else
    MIXED = "mixed"  # a path whose methods have different policies (each method checks its own)


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def is_loopback(request: Request) -> bool:
    try:
        return ipaddress.ip_address(client_address(request)).is_loopback
    except ValueError:
        return False


def _host_is_this_machine(request: Request) -> bool:
    """The Host header names this machine: a DNS-rebinding page (Host: its own domain, resolving to
    127.0.0.1) is on loopback too, but names its own host."""
    host = (request.url.hostname or "").lower()
    listening = request.scope.get("server") or (None, None)
    return is_loopback_host(host) or host == str(listening[0]).lower()


# What a reverse proxy adds to what it passes on. A proxy on this machine connects from loopback and may name
# loopback as the host (nginx's plain `proxy_pass http://127.0.0.1:9537` does), so its clients, anywhere on
# the internet, would pass for this machine.
_PROXY_HEADERS = ("forwarded", "via", "x-real-ip", "true-client-ip", "cf-connecting-ip", "x-client-ip")


def _through_a_proxy(request: Request) -> bool:
    """The request bears a proxy's marks: a header proxies add, or HTTP/1.0, which nginx speaks to the
    servers it passes requests to unless told otherwise (browsers and HTTP clients speak 1.1 or newer)."""
    if request.scope.get("http_version") == "1.0":
        return True
    return any(name in _PROXY_HEADERS or name.startswith("x-forwarded-") for name in request.headers)


def is_local(request: Request) -> bool:
    """The request provably comes from this machine: from loopback, naming this machine, and not passed on
    by a proxy. First-run setup trusts only such a request without the setup code."""
    return is_loopback(request) and _host_is_this_machine(request) and not _through_a_proxy(request)


def _check_setup_code(request: Request, state: AppState) -> None:
    """First-run setup from another machine: the setup code from the server's log, tried a limited number
    of times per address (the sign-in limit)."""
    presented, code = request.headers.get(SETUP_CODE_HEADER, ""), state.setup_code
    if code is None:
        raise Forbidden("first-run setup is possible only from this machine now (the owner exists)")
    if not presented:
        raise Forbidden(
            "first-run setup from another machine needs the setup code the server printed in its log at start"
        )
    address = client_address(request)
    state.auth.rate_limiter.begin(address)
    if not code.matches(presented):
        raise Forbidden("that is not the setup code the server printed in its log")
    state.auth.rate_limiter.succeeded(address)


def public_base_url(request: Request, settings) -> str:
    """Where this server is reached, for links it hands out: the configured public URL, else the address
    it listens on. Never the request's Host header, which a client chooses."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host, port = request.scope.get("server") or ("127.0.0.1", 9537)
    host = f"[{host}]" if ":" in str(host) else host
    default = {"http": 80, "https": 443}.get(request.url.scheme)
    return f"{request.url.scheme}://{host}" + ("" if port == default else f":{port}")


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if referer is None:
            return True  # not a browser cross-site request (those always send Origin)
        origin = "/".join(referer.split("/")[:3])
    return origin == f"{request.url.scheme}://{request.url.netloc}"


def refuse_cross_site(request: Request) -> None:
    """For the public routes that sign a browser in (sign-in, an invite): another site's page must not sign
    a visitor into an account of its choosing (login CSRF)."""
    if not _same_origin(request):
        raise Forbidden("cross-site request refused (Origin does not match)")


async def authorise(request: Request, state: AppState, policy: Policy):
    """(principal, share) for this request, or raise Unauthenticated (401) / Forbidden (403)."""
    if _URL_TOKEN_PARAMS & set(request.query_params):
        raise BadInput("credentials are never accepted in URLs; send Authorization: Bearer <token>")
    if policy == Policy.PUBLIC:
        return None, None
    if policy == Policy.SETUP:
        if not is_local(request):
            await run_in_threadpool(_check_setup_code, request, state)
        return None, None
    if policy == Policy.SHARE:
        token = request.path_params.get("share_token", "")
        share, principal = await run_in_threadpool(state.shares.resolve, token)
        return principal, share
    principal = await _principal(request, state)
    if principal.kind == "session" and request.method in _UNSAFE:
        if not _same_origin(request):
            raise Forbidden("cross-site request refused (Origin does not match)")
        if not state.auth.csrf_ok(principal, request.headers.get(CSRF_HEADER)):
            raise Forbidden("missing or wrong X-CSRF-Token header")
    if not principal.allows(policy.value):
        raise Forbidden(f"this needs {policy.value} access; the credentials have {principal.scope}")
    return principal, None


async def _principal(request: Request, state: AppState) -> Principal:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("use Authorization: Bearer <token>")
        return await run_in_threadpool(state.auth.token, token.strip())
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return await run_in_threadpool(state.auth.session, cookie)
    raise Unauthenticated("sign in, or send Authorization: Bearer <token>")
