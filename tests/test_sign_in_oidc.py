"""Sign-in with the household's or studio's identity provider (issue 62): a real OpenID provider
(oidc-provider on Node, tests/openid_provider.py) and a real server, the code flow with PKCE, state and
nonce; accounts linked by the provider's subject, made at a first sign-in when the admin allows, roles
from the provider's claims; and the attacks: a wrong or reused state, a state from another browser, a
replayed code, a token for another client, an ID token signed with another key or with ``alg: none``, an
issuer mismatch, redirects to another host."""

from __future__ import annotations

import base64
import html
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from openid_provider import CLIENT_ID, CLIENT_SECRET, OpenIdProvider
from test_cli_accounts import cli

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


def _refused(answer: httpx.Response, status: int, words: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("text/html"), answer.text
    assert words in html.unescape(answer.text), answer.text
    assert "pixlstash_session" not in answer.cookies


def test_a_wrong_reused_or_foreign_state_is_refused(live, provider, admin):
    stranger = _browser(live)
    _refused(stranger.get(CALLBACK, params={"state": "made-up", "code": "x"}), 401, "unknown, used or too old")
    _refused(stranger.get(CALLBACK, params={"code": "x"}), 400, "without a state")

    # A sign-in begun in one browser and finished in another (login CSRF: someone hands you their link).
    browser = _browser(live)
    back = provider.round_trip(browser, _to_provider(browser), "dana")
    _refused(stranger.get(back), 401, "begun in another browser")
    _refused(browser.get(back), 401, "unknown, used or too old")  # that try used the state up

    # Finished once, the same answer again is refused.
    browser, done = sign_in(live, provider, "dana")
    assert done.status_code == 303
    _refused(browser.get(str(done.request.url)), 401, "unknown, used or too old")

    # The person said no at the provider: its word, and the state is gone.
    url = _to_provider(browser)
    state = httpx.URL(url).params["state"]
    _refused(browser.get(CALLBACK, params={"state": state, "error": "access_denied"}), 400, "access_denied")
    assert [a.username for a in Accounts(live.state.auth).list()] == ["alice", "dana"]


def test_a_replayed_code_is_refused(live, provider, admin):
    _, done = sign_in(live, provider, "dana")
    old_code = done.request.url.params["code"]
    fresh = _browser(live)
    url = _to_provider(fresh)
    state = httpx.URL(url).params["state"]
    _refused(fresh.get(CALLBACK, params={"state": state, "code": old_code}), 401, "refused this sign-in")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims_of(id_token: str) -> tuple[dict, dict]:
    header, payload, _ = id_token.split(".")
    pad = lambda part: base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))  # noqa: E731
    return json.loads(pad(header)), json.loads(pad(payload))


def _signed_with_another_key(token: dict) -> dict:
    header, claims = _claims_of(token["id_token"])
    key = RSAKey.generate_key(2048, parameters={"kid": header["kid"]})  # the provider's key id, not its key
    return {**token, "id_token": jwt.encode({"alg": "RS256", "kid": header["kid"]}, claims, key)}


def _unsigned(token: dict) -> dict:
    _, claims = _claims_of(token["id_token"])
    return {**token, "id_token": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."}


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        (_signed_with_another_key, "bad_signature"),
        (_unsigned, "unsupported_algorithm: Algorithm of 'none' is not allowed"),
        ("another client", "invalid_claim: Invalid claim: 'aud'"),
    ],
)
def test_a_forged_id_token_is_refused(live, provider, admin, forge, reason):
    browser = _browser(live)
    url = _to_provider(browser)
    if forge == "another client":
        # A genuine token of the same provider for the same person, issued to another application: it
        # even carries this sign-in's nonce (read from the request). Only its audience is wrong.
        other = provider.token_for_another_client(_browser(live), "dana", httpx.URL(url).params["nonce"])
        assert _claims_of(other["id_token"])[1]["aud"] != CLIENT_ID
        provider.proxy.tamper = lambda token: {**token, "id_token": other["id_token"]}
    else:
        provider.proxy.tamper = forge
    back = provider.round_trip(browser, url, "dana")
    _refused(browser.get(back), 401, f"the ID token failed its checks: {reason}")
    assert [a.username for a in Accounts(live.state.auth).list()] == ["alice"]


def test_an_issuer_mismatch_is_refused(live, provider, admin):
    # The same provider under another name: its discovery document says who it is, and that differs.
    port = httpx.URL(provider.issuer).port
    settings = admin.get("/api/v1/auth/oidc/settings").json()
    changed = {k: settings[k] for k in ("client_id", "label", "create_accounts", "default_role")}
    assert admin.put("/api/v1/auth/oidc/settings", json={**changed, "issuer": f"http://localhost:{port}"}).is_success
    refused = _browser(live).get("/api/v1/auth/oidc/start")
    assert refused.status_code == 502 and "names the issuer" in refused.json()["error"]["message"]
    assert admin.put("/api/v1/auth/oidc/settings", json={**changed, "issuer": provider.issuer}).is_success

    # The provider names itself on the way back (RFC 9207): an answer from another issuer is refused.
    browser = _browser(live)
    back = httpx.URL(provider.round_trip(browser, _to_provider(browser), "dana"))
    assert back.params["iss"] == provider.issuer
    mixed_up = back.copy_set_param("iss", "https://id.attacker.example")
    _refused(browser.get(str(mixed_up)), 401, "another issuer")


class _Recorder(BaseHTTPRequestHandler):
    seen: list[str] = []

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        self.seen.append(f"{self.path} {self.headers.get('authorization')}")
        self.send_response(200)
        self.end_headers()

    do_GET = do_POST


def test_redirects_to_another_host_are_never_followed(live, provider, admin):
    # After signing in, only a path on this server: never another site (an open redirect).
    for elsewhere in ("https://attacker.example/", "//attacker.example/x", "/\\attacker.example"):
        browser = _browser(live)
        started = browser.get("/api/v1/auth/oidc/start", params={"next": elsewhere})
        done = browser.get(provider.round_trip(browser, started.headers["location"], "dana"))
        assert done.status_code == 303 and done.headers["location"] == "/", elsewhere

    # A provider's token endpoint that redirects: the client's credentials and the code go nowhere else.
    recorder = HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=recorder.serve_forever, daemon=True).start()
    try:
        provider.proxy.token_redirect_to = f"http://127.0.0.1:{recorder.server_port}/steal"
        browser = _browser(live)
        back = provider.round_trip(browser, _to_provider(browser), "dana")
        _refused(browser.get(back), 502, "could not be asked")
        assert _Recorder.seen == []
    finally:
        recorder.shutdown()
        recorder.server_close()


def test_without_new_accounts_a_person_needs_a_linked_account(live, provider, admin):
    settings = admin.get("/api/v1/auth/oidc/settings").json()
    assert "client_secret" not in settings and settings["client_secret_set"] is True
    assert settings["redirect_uri"] == live.url + CALLBACK
    kept = {k: settings[k] for k in ("issuer", "client_id", "label", "default_role")}
    assert admin.put("/api/v1/auth/oidc/settings", json={**kept, "create_accounts": False}).is_success

    browser, done = sign_in(live, provider, "dana")
    _refused(done, 403, "pixlstash user link NAME dana")
    bob = Accounts(live.state.auth).add("bob", "bobs password", "member")
    live.state.oidc.link("bob", "dana")  # what `pixlstash user link bob dana` does
    browser, done = sign_in(live, provider, "dana")
    assert done.status_code == 303 and _me(browser).json()["username"] == "bob"

    # A disabled account cannot sign in through the provider either, and its session died.
    Accounts(live.state.auth).disable("bob", by=None)
    assert _me(browser).status_code == 401
    _refused(sign_in(live, provider, "dana")[1], 401, "disabled")
    assert bob.role == "member"


def test_a_signed_in_person_links_their_own_account(live, provider, admin):
    Accounts(live.state.auth).add("bob", "bobs password", "member")
    browser = _browser(live)
    signed_in = browser.post("/api/v1/auth/login", json={"username": "bob", "password": "bobs password"})
    csrf = signed_in.json()["csrf_token"]
    # Another site's page cannot start it (it would link the attacker's provider identity to bob).
    assert browser.post("/api/v1/auth/oidc/link", headers={"Origin": live.url}).status_code == 403
    started = browser.post("/api/v1/auth/oidc/link", headers={"Origin": live.url, "X-CSRF-Token": csrf})
    assert started.status_code == 200, started.text
    done = browser.get(provider.round_trip(browser, started.json()["url"], "bob-at-home"))
    assert done.status_code == 303
    assert [(link.subject, link.user_id) for link in live.state.oidc.links()] == [
        ("bob-at-home", Accounts(live.state.auth).named("bob").id)
    ]
    fresh, done = sign_in(live, provider, "bob-at-home")
    assert _me(fresh).json()["username"] == "bob"
    # One person at the provider, one account here: linking it to a second account is refused.
    carol = Accounts(live.state.auth).add("carol", "carols password", "member")
    other = _browser(live)
    csrf = other.post("/api/v1/auth/login", json={"username": "carol", "password": "carols password"}).json()
    started = other.post("/api/v1/auth/oidc/link", headers={"Origin": live.url, "X-CSRF-Token": csrf["csrf_token"]})
    _refused(other.get(provider.round_trip(other, started.json()["url"], "bob-at-home")), 409, "another account")
    assert carol.id not in {link.user_id for link in live.state.oidc.links()}


def test_only_an_admin_sees_or_sets_the_provider(live, provider, admin):
    member = Accounts(live.state.auth).add("bob", "bobs password", "member")
    token = live.state.auth.create_token("bob", "write", user_id=member.id).secret
    bob = live.client(token)
    assert bob.get("/api/v1/auth/oidc/settings").status_code == 403
    assert bob.put("/api/v1/auth/oidc/settings", json={"issuer": "x", "client_id": "y"}).status_code == 403
    assert bob.delete("/api/v1/auth/oidc/settings").status_code == 403
    plain = {"issuer": "http://id.example.org", "client_id": "c", "client_secret": "s"}
    refused = admin.put("/api/v1/auth/oidc/settings", json=plain)
    assert refused.status_code == 400 and "must use https" in refused.json()["error"]["message"]
    # Plain HTTP is for this machine only: names that merely start or end like it are someone else's.
    for lookalike in ("127.0.0.1.nip.io", "localhost.attacker.example", "0x7f000001", "127.1", "[::1].example"):
        lookalike_issuer = {**plain, "issuer": f"http://{lookalike}:9000"}
        assert admin.put("/api/v1/auth/oidc/settings", json=lookalike_issuer).status_code == 400, lookalike
    assert admin.delete("/api/v1/auth/oidc/settings").status_code == 204
    assert _browser(live).get("/api/v1/auth/oidc").json() == {"enabled": False, "label": None}
    assert _browser(live).get("/api/v1/auth/oidc/start").status_code == 400


def test_the_command_line_sets_up_the_provider_and_links_accounts(live, provider):
    root = str(live.library.root)
    assert (
        cli("user", "create", "alice", "--password-stdin", "--library", root, stdin="alices password\n").returncode == 0
    )
    assert cli("user", "add", "bob", "--password-stdin", "--library", root, stdin="bobs password\n").returncode == 0
    plain = cli("user", "oidc", "set", "--library", root, "--issuer", "http://id.example.org", "--client-id", "x")
    assert plain.returncode == 1 and "an issuer must use https" in plain.stderr
    done = cli(
        "user", "oidc", "set", "--library", root, "--issuer", provider.issuer, "--client-id", CLIENT_ID,
        "--client-secret-stdin", "--label", "Household ID", "--role-claim", "groups", "--role", "pixl-admins=admin",
        stdin=CLIENT_SECRET + "\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert cli("user", "link", "bob", "bob-at-home", "--library", root).returncode == 0
    browser, answer = sign_in(live, provider, "bob-at-home")
    assert answer.status_code == 303 and _me(browser).json()["username"] == "bob"
    shown = json.loads(cli("user", "oidc", "show", "--json", "--library", root).stdout)
    assert shown["settings"]["client_secret"] == "(set)" and CLIENT_SECRET not in json.dumps(shown)
    assert shown["links"] == [{"user": "bob", "issuer": provider.issuer, "subject": "bob-at-home"}]
    # The client secret lives in secrets.db (owner-only, never in a snapshot), not in auth.db.
    for name in ("auth.db", "auth.db-wal"):
        path = live.library.root / name
        assert not path.exists() or CLIENT_SECRET.encode() not in path.read_bytes()
    assert (live.library.root / "secrets.db").stat().st_mode & 0o077 == 0
    # Without the groups scope the provider sends no groups: bob keeps the default role, viewer.
    assert _me(browser).json()["role"] == "viewer"
    assert "1 link removed" in cli("user", "unlink", "bob", "--library", root).stdout
    assert cli("user", "oidc", "off", "--library", root).returncode == 0
    assert _browser(live).get("/api/v1/auth/oidc").json()["enabled"] is False


def test_a_sign_in_begun_over_ten_minutes_ago_is_refused_and_starts_are_bounded(tmp_path, monkeypatch):
    from pixlstash.auth import Authenticator, RateLimited, Unauthenticated
    from pixlstash.db.secrets_db import SecretStore
    from pixlstash.sign_in import oidc
    from pixlstash.sign_in.oidc import OidcSettings, OidcSignIn

    auth, secrets = Authenticator(tmp_path), SecretStore(tmp_path)
    try:
        sign_in = OidcSignIn(auth, secrets)
        sign_in.configure(OidcSettings("https://id.example.org", "pixlstash", "a secret"))
        _, old = sign_in.begin()
        with auth.db.write():
            auth.db.execute("UPDATE oidc_pending SET created_at = created_at - ?", (oidc.PENDING_MS + 1000,))
        with pytest.raises(Unauthenticated, match="too old"):
            sign_in.take(old.state, old.browser)
        # A flood of starts fills no more than the bound: then one clear line (429), until some end.
        monkeypatch.setattr(oidc, "_PENDING_AT_MOST", 3)
        for _ in range(3):
            sign_in.begin()
        with pytest.raises(RateLimited, match="too many sign-ins under way"):
            sign_in.begin()
        assert auth.db.scalar("SELECT count(*) FROM oidc_pending") == 3
    finally:
        secrets.close()
        auth.close()
