"""Deny by default: every route's policy, checked over the whole route table with every kind of credential."""

from __future__ import annotations

import time

import httpx
import pytest
from live_server import make_pictures
from starlette.requests import Request

from pixlstash.auth import Forbidden
from pixlstash_web.api import PolicyRoute
from pixlstash_web.security import Policy, authorise


@pytest.fixture
def world(live, tmp_path):
    """A library with pictures, a set, a project, a tag, and a share of the set."""
    lib = live.library
    ids = make_pictures(lib, tmp_path / "in", 3)
    project = lib.organise.create_project("P")
    shared = lib.organise.create_collection("set", "S", project.id)
    lib.organise.add_members(shared.id, ids[:2])
    lib.edits.tag(ids, add=["cat"])
    _share, secret = live.state.shares.create("set", shared.id)
    values = {
        "picture_id": ids[0],
        "collection_id": shared.id,
        "project_id": project.id,
        "tag_id": lib.tags.resolve("cat"),
        "folder_id": 999_999,
        "token_id": 999_999,
        "session_id": 999_999,
        "share_id": 999_999,
        "snapshot_id": 999_999,
        "content_hash": lib.get(ids[0]).content_hash,
        "size": "grid",
        "share_token": secret,
        "job_id": 999_999,
        "face_id": 999_999,
        "character_id": 999_999,
        "cluster_id": 999_999,
        "ticket_id": "no-such-export",
        "stack_id": 999_999,
        "link_id": 999_999,
        "run_id": 999_999,
        "name": "no-such-plugin",
        "user_id": 999_999,
        "invite_id": 999_999,
    }
    return {"values": values, "share_secret": secret, "ids": ids}


def concrete(path: str, values: dict) -> str:
    import re

    return re.sub(r"{(\w+)(?::\w+)?}", lambda m: str(values[m.group(1)]), path)


def call(client: httpx.Client, method: str, url: str) -> int:
    if url.endswith("/events"):
        with client.stream(method, url) as response:
            return response.status_code
    return client.request(method, url).status_code


def test_every_route_declares_a_policy(live):
    routes = live.app.routes
    assert routes and all(isinstance(route, PolicyRoute) and route.policy in set(Policy) for route in routes)
    for endpoint in live.app.state.api.endpoints:
        assert endpoint.policy in set(Policy) and endpoint.policy != Policy.MIXED


def test_credentials_matrix_over_the_route_table(live, world):
    revoked = live.state.auth.create_token("old", "admin")
    live.state.auth.revoke_token(revoked.id)
    expiring = live.state.auth.create_token("short", "admin", expires_in_days=1e-6).secret
    time.sleep(0.2)
    # Tokens of other people's accounts: an admin's made before it became a viewer (it reads, no more), a
    # member's, and one of an account since disabled (refused).
    from pixlstash.accounts import Accounts

    live.state.auth.create_user("owner", "correct horse battery")
    people = Accounts(live.state.auth)
    demoted, member, gone = (people.add(name, f"{name} password", "admin") for name in ("dee", "mo", "di"))
    demoted_token = live.state.auth.create_token("d", "admin", user_id=demoted.id).secret
    people.set_role("dee", "viewer", by=None)
    people.set_role("mo", "member", by=None)
    disabled_token = live.state.auth.create_token("x", "admin", user_id=gone.id).secret
    people.disable("di", by=None)
    creds = {
        "anonymous": None,
        "garbage": "pxl_not-a-real-token",
        "revoked": revoked.secret,
        "expired": expiring,
        "share-as-bearer": world["share_secret"],
        "disabled account": disabled_token,
        "read": live.token("read"),
        "demoted to viewer": demoted_token,
        "write": live.token("write"),
        "member": live.state.auth.create_token("m", "write", user_id=member.id).secret,
        "admin": live.token("admin"),
    }
    clients = {name: live.client(token) for name, token in creds.items()}
    checked = 0
    for endpoint in live.app.state.api.endpoints:
        url = concrete(endpoint.path, world["values"])
        method = endpoint.method
        if endpoint.policy in (Policy.PUBLIC, Policy.SETUP):
            continue
        statuses = {
            name: call(client, method, url)
            for name, client in clients.items()
            if endpoint.policy != Policy.SHARE or name in ("anonymous", "admin")
        }
        where = f"{method} {endpoint.path}"
        if endpoint.policy == Policy.SHARE:
            if endpoint.path.endswith("/add-to-my-library"):  # the link opens it, and an account keeps it
                assert statuses["anonymous"] == 401 and statuses["admin"] not in (401, 403), (where, statuses)
            else:
                assert statuses["anonymous"] not in (401, 403), where  # the token in the path is the credential
            bad = concrete(endpoint.path, {**world["values"], "share_token": "pxh_forged"})
            assert call(clients["admin"], method, bad) == 401, where  # and nothing else opens it
            checked += 1
            continue
        for name in ("anonymous", "garbage", "revoked", "expired", "share-as-bearer", "disabled account"):
            assert statuses[name] == 401, (where, name, statuses[name])
        needed = {Policy.READ: 0, Policy.WRITE: 1, Policy.ADMIN: 2}[endpoint.policy]
        ranks = {"read": 0, "demoted to viewer": 0, "write": 1, "member": 1, "admin": 2}
        for name, rank in ranks.items():
            if rank < needed:
                assert statuses[name] == 403, (where, name, statuses[name])
            else:
                assert statuses[name] not in (401, 403), (where, name, statuses[name])
        checked += 1
    assert checked > 50


def test_error_bodies_have_one_shape(live):
    client = live.client(live.token("admin"))
    for response in (
        client.get("/api/v1/nope"),
        client.delete("/api/v1/version"),
        live.client().get("/api/v1/pictures"),
        client.get("/api/v1/pictures/999999"),
        client.post("/api/v1/projects", content=b"{nope", headers={"content-type": "application/json"}),
        client.post("/api/v1/projects", json={"name": 5}),
        client.post("/api/v1/projects", content=b"x", headers={"content-type": "text/plain"}),
        client.get("/api/v1/pictures", params={"limit": 0}),
    ):
        body = response.json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
        assert response.status_code in (400, 401, 404, 405, 415, 422)
    assert live.client().get("/api/v1/pictures").headers["www-authenticate"].startswith("Bearer")


def test_tokens_are_never_accepted_in_urls(live):
    token = live.token("admin")
    response = live.client().get("/api/v1/pictures", params={"access_token": token})
    assert response.status_code == 400 and "never accepted in URLs" in response.json()["error"]["message"]


def test_tokens_are_stored_hashed(live):
    secret = live.token("read")
    rows = live.state.auth.db.query("SELECT token_hash, prefix FROM api_tokens")
    assert all(secret.encode() not in bytes(row[0]) for row in rows)
    assert not any(secret in (row[1] or "") and len(row[1]) > 8 for row in rows)
    assert secret not in (live.library.root / "auth.db").read_bytes().decode("latin-1")


def test_session_cookie_csrf_and_restart(live, tmp_path):
    client = live.client()
    assert client.get("/api/v1/setup").json() == {"needs_setup": True, "needs_code": False}
    response = client.post("/api/v1/setup", json={"username": "owner", "password": "correct horse"})
    assert response.status_code == 201
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    csrf = response.json()["csrf_token"]
    assert client.post("/api/v1/setup", json={"username": "x", "password": "yyyyyyyy"}).status_code == 409
    me = client.get("/api/v1/auth/me").json()
    assert me == {
        "kind": "session", "scope": "admin", "username": "owner", "session_id": me["session_id"], "role": "owner",
        "user_id": me["user_id"], "uploads_private": False, "accounts": 1, "quota_bytes": None, "uploaded_bytes": 0,
    }  # fmt: skip
    assert [s["id"] for s in live.client(live.token()).get("/api/v1/sessions").json()] == [me["session_id"]]
    # Unsafe requests with a session need the CSRF token and a same-origin Origin.
    assert client.post("/api/v1/projects", json={"name": "A"}).status_code == 403
    assert client.post("/api/v1/projects", json={"name": "A"}, headers={"X-CSRF-Token": "wrong"}).status_code == 403
    evil = {"X-CSRF-Token": csrf, "Origin": "https://evil.example"}
    assert client.post("/api/v1/projects", json={"name": "A"}, headers=evil).status_code == 403
    ok = client.post("/api/v1/projects", json={"name": "A"}, headers={"X-CSRF-Token": csrf, "Origin": live.url})
    assert ok.status_code == 201
    # Sessions live in the database: the server restarted on the same library accepts the cookie.
    from live_server import LiveServer

    live.__exit__(None, None, None)  # one server per library at a time
    with LiveServer(live.library) as second:
        again = httpx.Client(base_url=second.url, cookies=client.cookies)
        assert again.get("/api/v1/auth/me").status_code == 200
        assert again.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
        assert again.get("/api/v1/auth/me").status_code == 401


def test_login_is_rate_limited_per_address(live):
    live.state.auth.create_user("owner", "a good password")
    client = live.client()
    for _ in range(10):
        assert client.post("/api/v1/auth/login", json={"username": "owner", "password": "wrong!!!"}).status_code == 401
    blocked = client.post("/api/v1/auth/login", json={"username": "owner", "password": "a good password"})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0


def test_setup_from_another_machine_needs_the_setup_code(live):
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/setup",
        "headers": [],
        "query_string": b"",
        "client": ("192.0.2.7", 5555),
        "path_params": {},
    }
    import asyncio

    with pytest.raises(Forbidden, match="needs the setup code the server printed in its log"):
        asyncio.run(authorise(Request(scope), live.state, Policy.SETUP))


def test_cli_token_works_against_the_server(live, tmp_path):
    import json

    from conftest import run_cli

    out = json.loads(
        run_cli("token", "create", "--library", str(live.library.root), "--scope", "admin", "--json").stdout
    )
    assert set(out) >= {"token"}
    assert live.client(out["token"]).get("/api/v1/tokens").status_code == 200
    listed = run_cli("token", "list", "--library", str(live.library.root)).stdout
    assert out["token"] not in listed and out["token"][:8] in listed


def test_password_change_checks_the_current_one_and_signs_other_browsers_out(live):
    live.state.auth.create_user("owner", "first password")

    def browser() -> tuple[httpx.Client, dict]:
        client = live.client()
        signed_in = client.post("/api/v1/auth/login", json={"username": "owner", "password": "first password"})
        return client, {"X-CSRF-Token": signed_in.json()["csrf_token"], "Origin": live.url}

    mine, headers = browser()
    other, _ = browser()
    change = {"current_password": "wrong one", "new_password": "second password"}
    wrong = mine.post("/api/v1/auth/password", json=change, headers=headers)
    assert wrong.status_code == 403 and wrong.json()["error"]["message"] == "the current password is wrong"
    short = mine.post(
        "/api/v1/auth/password", json={"current_password": "first password", "new_password": "short"}, headers=headers
    )
    assert short.status_code == 422  # the body does not validate
    token = live.client(live.token("admin"))
    refused = token.post("/api/v1/auth/password", json={**change, "current_password": "first password"})
    assert refused.status_code == 403 and "sign in" in refused.json()["error"]["message"]
    done = mine.post("/api/v1/auth/password", json={**change, "current_password": "first password"}, headers=headers)
    assert done.json() == {"sessions_ended": 1}
    assert mine.get("/api/v1/auth/me").status_code == 200  # this browser stays signed in
    assert other.get("/api/v1/auth/me").status_code == 401  # the other is out
    assert (
        live.client().post("/api/v1/auth/login", json={"username": "owner", "password": "second password"}).is_success
    )
