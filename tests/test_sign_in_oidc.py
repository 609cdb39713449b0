"""Sign-in with the household's or studio's identity provider (issue 62): a real OpenID provider
(oidc-provider on Node, tests/openid_provider.py) and a real server, the code flow with PKCE, state and
nonce; accounts linked by the provider's subject, made at a first sign-in when the admin allows, roles
from the provider's claims; and the attacks: a wrong or reused state, a state from another browser, a
replayed code, a token for another client, an ID token signed with another key or with ``alg: none``, an
issuer mismatch, redirects to another host."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlencode

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from openid_provider import CLIENT_ID, CLIENT_SECRET, OpenIdProvider

from pixlstash.accounts import Accounts

CALLBACK = "/api/v1/auth/oidc/callback"


@pytest.fixture
def provider(live):
    with OpenIdProvider(live.url + CALLBACK) as provider:
        yield provider


@pytest.fixture
def admin(live, provider):
    """The owner, signed in with a token, with the provider set up as an admin sets it up."""
    auth = live.state.auth
    auth.create_owner("alice", "alices password")
    client = live.client(auth.create_token("admin", "admin").secret)
    answer = client.put(
        "/api/v1/auth/oidc/settings",
        json={
            "issuer": provider.issuer,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "label": "Household ID",
            "create_accounts": True,
            "default_role": "viewer",
            "role_claim": "groups",
            "role_values": {"pixl-admins": "admin"},
            "scopes": "openid profile email groups",  # this provider sends groups when asked for them
        },
    )
    assert answer.status_code == 200, answer.text
    return client


def _browser(live) -> httpx.Client:
    return httpx.Client(base_url=live.url, follow_redirects=False, timeout=30)


def _to_provider(browser: httpx.Client, next_path: str = "/") -> str:
    started = browser.get("/api/v1/auth/oidc/start", params={"next": next_path})
    assert started.status_code == 303, started.text
    return started.headers["location"]


def sign_in(live, provider, login: str, browser: httpx.Client | None = None) -> tuple[httpx.Client, httpx.Response]:
    browser = browser or _browser(live)
    back = provider.round_trip(browser, _to_provider(browser, "/#settings"), login)
    assert back.startswith(live.url + CALLBACK), back
    return browser, browser.get(back)


def _me(browser: httpx.Client) -> httpx.Response:
    return browser.get("/api/v1/auth/me")


def test_a_first_sign_in_makes_an_account_and_the_next_one_finds_it(live, provider, admin):
    assert _browser(live).get("/api/v1/auth/oidc").json() == {"enabled": True, "label": "Household ID"}
    browser, done = sign_in(live, provider, "dana")
    assert done.status_code == 303 and done.headers["location"] == "/#settings"
    assert "pixlstash_session" in browser.cookies and browser.cookies["pixlstash_csrf"]
    me = _me(browser).json()
    assert (me["username"], me["role"], me["kind"]) == ("dana", "viewer", "session")

    # Signing in again (a new browser) finds the same account: linked by the subject, not made twice.
    again, done = sign_in(live, provider, "dana")
    assert done.status_code == 303 and _me(again).json()["user_id"] == me["user_id"]
    assert [a.username for a in Accounts(live.state.auth).list()] == ["alice", "dana"]

    # The CSRF token handed over is the session's: a write without it is refused, with it done.
    origin = {"Origin": live.url}
    assert browser.post("/api/v1/auth/logout", headers=origin).status_code == 403
    csrf = browser.cookies["pixlstash_csrf"]
    assert browser.post("/api/v1/auth/logout", headers={**origin, "X-CSRF-Token": csrf}).status_code == 204
    assert _me(browser).status_code == 401

    # The provider's groups give roles: someone in pixl-admins is an admin here.
    boss, _ = sign_in(live, provider, "admin-erin")
    assert _me(boss).json()["role"] == "admin"
