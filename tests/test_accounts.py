"""Many people in one library (issue 62), its first part: accounts beside the owner with roles (admin,
member, viewer) that bound their sessions and tokens, disabled and removed accounts refused at once, the
owner and one's own account out of reach, sign-in limits per account, and an auth.db of the previous
schema upgraded with its owner's sessions and tokens; through the core, the command line and a real server."""

from __future__ import annotations

import threading

import httpx
import pytest
from test_cli_accounts import cli

from pixlstash.accounts import Accounts, InviteGone
from pixlstash.auth import AccountDisabled, Authenticator, Forbidden, RateLimited, Unauthenticated, digest
from pixlstash.db.auth_db import AUTH_MIGRATIONS
from pixlstash.db.database import Database
from pixlstash.db.schema import migrate
from pixlstash.errors import BadInput, Conflict

PASSWORD = "correct horse battery"


@pytest.fixture
def auth(tmp_path):
    auth = Authenticator(tmp_path)
    auth.create_owner("alice", PASSWORD)
    yield auth
    auth.close()


def test_a_role_bounds_the_sessions_and_tokens_of_its_account(auth):
    accounts = Accounts(auth)
    bob = accounts.add("bob", "bobs password", "member")
    carol = accounts.add("carol", "carols password", "viewer")
    assert [(a.username, a.role, a.scope) for a in accounts.list()] == [
        ("alice", "owner", "admin"),
        ("bob", "member", "write"),
        ("carol", "viewer", "read"),
    ]
    assert auth.session(auth.login("carol", "carols password", "10.0.0.1").secret).scope == "read"
    bobs_session = auth.login("bob", "bobs password", "10.0.0.2").secret
    assert auth.session(bobs_session).scope == "write"
    with pytest.raises(BadInput, match="carol is a viewer: its tokens may have the scope read"):
        auth.create_token("too much", "write", user_id=carol.id)
    bobs_token = auth.create_token("comfyui", "write", user_id=bob.id).secret
    assert (auth.token(bobs_token).scope, auth.token(bobs_token).user_id) == ("write", bob.id)
    owners = auth.create_token("old script", "admin").secret  # no account named: the owner's
    assert auth.token(owners).user_id == auth.store.owner_id()

    # Demoted: the token made while a member now reads only; promoted, it has its own scope again.
    accounts.set_role("bob", "viewer", by=None)
    assert auth.token(bobs_token).scope == "read" and auth.session(bobs_session).scope == "read"
    accounts.set_role("bob", "admin", by=None)
    assert auth.token(bobs_token).scope == "write" and auth.session(bobs_session).scope == "admin"

    # Disabled: refused from the next request on, sessions ended for good, tokens back when enabled.
    accounts.disable("bob", by=None)
    with pytest.raises(AccountDisabled):
        auth.token(bobs_token)
    with pytest.raises(Unauthenticated):
        auth.session(bobs_session)
    with pytest.raises(AccountDisabled, match="this account is disabled"):
        auth.login("bob", "bobs password", "10.0.0.2")
    accounts.enable("bob", by=None)
    assert auth.token(bobs_token).scope == "write"
    with pytest.raises(Unauthenticated):
        auth.session(bobs_session)  # ended at the disabling

    # Removed: its tokens are revoked (never passed to the owner), its name free again.
    handed: list[int] = []
    bob_id = accounts.named("bob").id
    accounts.remove("bob", by=None, hand_over=handed.append)
    assert handed == [bob_id]  # its pictures were handed over before it went
    with pytest.raises(Unauthenticated, match="revoked"):
        auth.token(bobs_token)
    assert [a.username for a in accounts.list()] == ["alice", "carol"]
    accounts.add("bob", "another password", "viewer")


def _never(user_id: int) -> None:
    raise AssertionError(f"account {user_id} was not to be removed")


def test_the_owner_and_your_own_account_are_out_of_reach(auth):
    accounts = Accounts(auth)
    dave = accounts.add("dave", "daves password", "admin")
    accounts.add("erin", "erins password", "member")
    owner_id = auth.store.owner_id()
    for change in (
        lambda: accounts.set_role("alice", "viewer", by=dave.id),
        lambda: accounts.disable("alice", by=dave.id),
        lambda: accounts.remove("alice", by=dave.id, hand_over=_never),
        lambda: accounts.reset_password("alice", "a new password", by=dave.id),
        lambda: accounts.disable("alice", by=None),  # not even from the command line
    ):
        with pytest.raises(Forbidden, match="alice is the library's owner"):
            change()
    with pytest.raises(Forbidden, match="your own account"):
        accounts.set_role("dave", "viewer", by=dave.id)
    with pytest.raises(Forbidden, match="your own account"):
        accounts.remove("dave", by=dave.id, hand_over=_never)
    accounts.set_role("erin", "viewer", by=owner_id)
    with pytest.raises(BadInput):
        accounts.set_role("erin", "owner", by=owner_id)  # the owner's role is never given
    with pytest.raises(Conflict, match="there is an account named Erin already"):
        accounts.add("Erin", "erins password", "member")  # names are one whatever their case
    with pytest.raises(BadInput, match="at least 8"):
        accounts.add("frank", "short", "member")
    assert accounts.named("alice").role == "owner"


def test_an_account_made_before_the_owner_is_refused(tmp_path):
    auth = Authenticator(tmp_path)
    try:
        with pytest.raises(Conflict, match="no owner yet"):
            Accounts(auth).add("bob", "bobs password", "admin")
    finally:
        auth.close()


def test_sign_ins_are_limited_per_account_whatever_the_address(auth):
    Accounts(auth).add("bob", "bobs password", "member")
    for n in range(auth.rate_limiter.attempts):
        with pytest.raises(Unauthenticated):
            auth.login("alice", "wrong guess", f"10.1.0.{n}")
    with pytest.raises(RateLimited):
        auth.login("ALICE", PASSWORD, "10.2.0.1")  # a new address, the right password: still refused
    auth.login("bob", "bobs password", "10.2.0.1")  # the address itself was not held against others


def test_an_auth_db_of_schema_2_opens_with_its_owner_sessions_and_tokens(tmp_path):
    old = Database(tmp_path / "auth.db")
    migrate(old.connection, AUTH_MIGRATIONS[:2])
    with old.write():  # its owner, session and token as that version made them
        old.execute("INSERT INTO users(username, password_hash, created_at) VALUES ('alice', 'x', 1)")
        old.execute(
            "INSERT INTO sessions(user_id, session_hash, csrf_hash, created_at, expires_at, last_seen_at) "
            "VALUES (1, ?, ?, 1, 99999999999999, 1)",
            (digest("pxs_old-session"), digest("csrf")),
        )
        old.execute(
            "INSERT INTO api_tokens(name, token_hash, prefix, scope, created_at) "
            "VALUES ('t', ?, 'pxl_old', 'admin', 1)",
            (digest("pxl_old-token"),),
        )
    old.close()
    auth = Authenticator(tmp_path)
    try:
        assert auth.session("pxs_old-session").scope == "admin"
        token = auth.token("pxl_old-token")
        assert (token.scope, token.user_id) == ("admin", 1)
        assert [(a.username, a.role, a.disabled) for a in Accounts(auth).list()] == [("alice", "owner", False)]
        assert auth.tokens()[0].user == "alice"
        Accounts(auth).add("bob", "bobs password", "viewer")  # the new roles are there
    finally:
        auth.close()


def test_accounts_over_http_as_each_role(live):
    auth = live.state.auth
    auth.create_user("alice", PASSWORD)
    admin = live.client(live.token("admin"))
    made = {
        name: admin.post("/api/v1/users", json={"username": name, "password": f"{name} password", "role": role})
        for name, role in (("dave", "admin"), ("bob", "member"), ("carol", "viewer"))
    }
    assert {name: r.status_code for name, r in made.items()} == {"dave": 201, "bob": 201, "carol": 201}
    ids = {name: r.json()["id"] for name, r in made.items()}
    assert made["carol"].json() | {"created_at": 0} == {
        "id": ids["carol"], "username": "carol", "role": "viewer", "scope": "read", "created_at": 0, "disabled": False,
        "uploads_private": False, "quota_bytes": None,
    }  # fmt: skip
    assert made["bob"].json()["uploads_private"] is True  # a member's uploads are theirs until shared
    bad = admin.post("/api/v1/users", json={"username": "x", "password": "long enough", "role": "owner"})
    assert bad.status_code == 422  # the schema's: a role is admin, member or viewer
    again = admin.post("/api/v1/users", json={"username": "BOB", "password": "long enough"})
    assert again.status_code == 409

    def signed_in(name: str) -> tuple[httpx.Client, dict]:
        client = live.client()
        answer = client.post("/api/v1/auth/login", json={"username": name, "password": f"{name} password"})
        assert answer.status_code == 200, answer.text
        return client, {"X-CSRF-Token": answer.json()["csrf_token"], "Origin": live.url}

    carol, carol_csrf = signed_in("carol")
    assert carol.get("/api/v1/auth/me").json()["role"] == "viewer"
    assert carol.get("/api/v1/pictures").status_code == 200
    assert carol.post("/api/v1/projects", json={"name": "A"}, headers=carol_csrf).status_code == 403
    assert carol.get("/api/v1/users").status_code == 403
    bob, bob_csrf = signed_in("bob")
    assert bob.post("/api/v1/projects", json={"name": "A"}, headers=bob_csrf).status_code == 201
    assert bob.get("/api/v1/users").status_code == 403 and bob.get("/api/v1/tokens").status_code == 403
    # Everyone changes their own password; a viewer too.
    changed = carol.post(
        "/api/v1/auth/password",
        json={"current_password": "carol password", "new_password": "carol password"},
        headers=carol_csrf,
    )
    assert changed.status_code == 200

    dave, dave_csrf = signed_in("dave")
    owner_id = auth.store.owner_id()
    for method, path, body in (
        ("PATCH", f"/api/v1/users/{owner_id}", {"role": "viewer"}),
        ("PATCH", f"/api/v1/users/{owner_id}", {"disabled": True}),
        ("DELETE", f"/api/v1/users/{owner_id}", None),
        ("POST", f"/api/v1/users/{owner_id}/password", {"password": "taken over"}),
        ("DELETE", f"/api/v1/users/{ids['dave']}", None),
    ):
        answer = dave.request(method, path, json=body, headers=dave_csrf)
        assert answer.status_code == 403, (method, path, answer.text)
    # Dave disables carol: her very next request is refused, and her token with it.
    token = admin.post("/api/v1/tokens", json={"name": "x", "scope": "read"}).json()["token"]
    carols_token = live.client(auth.create_token("carol's", "read", user_id=ids["carol"]).secret)
    assert carols_token.get("/api/v1/pictures").status_code == 200
    disabled = dave.patch(f"/api/v1/users/{ids['carol']}", json={"disabled": True}, headers=dave_csrf)
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    assert carol.get("/api/v1/pictures").status_code == 401
    assert carols_token.get("/api/v1/pictures").status_code == 401
    assert live.client(token).get("/api/v1/pictures").status_code == 200  # the owner's token is untouched
    # A new password for bob from an admin ends bob's sessions.
    reset = dave.post(f"/api/v1/users/{ids['bob']}/password", json={"password": "new bob password"}, headers=dave_csrf)
    assert reset.status_code == 204 and bob.get("/api/v1/pictures").status_code == 401
    assert dave.delete(f"/api/v1/users/{ids['bob']}", headers=dave_csrf).status_code == 204
    assert dave.delete("/api/v1/users/999999", headers=dave_csrf).status_code == 404
    assert [u["username"] for u in admin.get("/api/v1/users").json()] == ["alice", "dave", "carol"]


def test_the_command_line_manages_accounts(tmp_path):
    root = str(tmp_path / "lib")
    assert cli("user", "create", "alice", "--password-stdin", "--library", root, stdin=f"{PASSWORD}\n").returncode == 0
    added = cli("user", "add", "bob", "--role", "viewer", "--password-stdin", "--library", root, stdin="bobs words\n")
    assert added.returncode == 0 and added.stdout == "added bob (viewer)\n"
    listed = cli("user", "list", "--library", root).stdout.splitlines()
    assert listed[0].split() == ["NAME", "ROLE", "STATE", "CREATED"]
    assert [line.split()[:3] for line in listed[1:]] == [["alice", "owner", "active"], ["bob", "viewer", "active"]]
    assert cli("user", "role", "bob", "admin", "--library", root).stdout == "bob is now an admin\n"
    assert cli("user", "disable", "bob", "--library", root).stdout == "disabled bob\n"
    owner = cli("user", "disable", "alice", "--library", root)
    assert owner.returncode == 1 and "alice is the library's owner" in owner.stderr and "Traceback" not in owner.stderr
    too_much = cli("token", "create", "--user", "nobody", "--library", root)
    assert too_much.returncode == 1 and "no account named 'nobody'" in too_much.stderr
    made = cli("token", "create", "--user", "bob", "--scope", "admin", "--name", "bobs", "--library", root)
    assert made.returncode == 0
    tokens = cli("token", "list", "--library", root).stdout.splitlines()
    assert tokens[1].split()[-2:] == ["bob", "bobs"]
    invited = cli("user", "invite", "--role", "viewer", "--note", "Dana", "--library", root)
    code = invited.stdout.strip()
    assert invited.returncode == 0 and code.startswith("pxi_") and f"/#invite={code}" in invited.stderr
    auth = Authenticator(tmp_path / "lib")
    try:
        Accounts(auth).accept(code, "dana", "danas password")
        assert Accounts(auth).named("dana").role == "viewer"
    finally:
        auth.close()
    assert cli("user", "remove", "bob", "--library", root).stdout == "removed bob\n"
    assert "revoked" in cli("token", "list", "--library", root).stdout


def test_an_invite_makes_one_account_once(auth):
    accounts = Accounts(auth)
    made = accounts.invite("viewer", by=auth.store.owner_id(), note="Dana, the client")
    assert made.code.startswith("pxi_") and len(made.code) > 40
    assert made.code not in str(auth.db.query("SELECT * FROM invites"))  # only its digest is kept
    # Eight people at once with one code: one account, and seven told the invite was used.
    outcomes: list[str] = []

    def take(n: int) -> None:
        try:
            accounts.accept(made.code, f"dana{n}", "danas password")
            outcomes.append("made")
        except InviteGone as gone:
            outcomes.append(gone.message)

    threads = [threading.Thread(target=take, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("made") == 1 and set(outcomes) - {"made"} <= {
        "this invite was used: ask for a new one",
        "this invite was used already: ask for a new one",
    }
    [dana] = [a for a in accounts.list() if a.username.startswith("dana")]
    assert dana.role == "viewer" and auth.session(auth.login(dana.username, "danas password", "10.0.0.9").secret)
    [listed] = accounts.invites()
    assert (listed.state, listed.used_by, listed.note) == ("used", dana.username, "Dana, the client")

    with pytest.raises(Unauthenticated, match="does not exist"):
        accounts.accept("pxi_made-up", "eve", "eves password")
    late = accounts.invite("member", by=None)
    with auth.db.write():
        auth.db.execute("UPDATE invites SET expires_at = 1 WHERE id = ?", (late.id,))
    with pytest.raises(InviteGone, match="has expired"):
        accounts.accept(late.code, "eve", "eves password")
    withdrawn = accounts.invite("admin", by=None)
    accounts.revoke_invite(withdrawn.id)
    with pytest.raises(InviteGone, match="was revoked"):
        accounts.accept(withdrawn.code, "eve", "eves password")
    taken = accounts.invite("member", by=None)
    with pytest.raises(Conflict, match="an account named alice"):
        accounts.accept(taken.code, "alice", "eves password")  # the name is taken: the invite still works
    accounts.accept(taken.code, "eve", "eves password")
    assert [i.state for i in accounts.invites()] == ["used", "revoked", "expired", "used"]


def test_an_invite_over_http_signs_its_person_in(live):
    live.state.auth.create_user("alice", PASSWORD)
    admin = live.client(live.token("admin"))
    made = admin.post("/api/v1/invites", json={"role": "viewer", "note": "Dana"})
    assert made.status_code == 201 and made.json()["url"] == f"{live.url}/#invite={made.json()['code']}"
    code = made.json()["code"]
    assert "code" not in admin.get("/api/v1/invites").json()[0]  # never listed again
    stranger = live.client()
    evil = stranger.post(
        "/api/v1/invites/accept",
        json={"code": code, "username": "dana", "password": "danas password"},
        headers={"Origin": "https://evil.example"},
    )
    assert evil.status_code == 403  # another site cannot sign a visitor into an account of its choosing
    taken = stranger.post(
        "/api/v1/invites/accept", json={"code": code, "username": "dana", "password": "danas password"}
    )
    assert taken.status_code == 201 and stranger.get("/api/v1/auth/me").json()["role"] == "viewer"
    again = live.client().post("/api/v1/invites/accept", json={"code": code, "username": "x", "password": "xxxxxxxx"})
    assert again.status_code == 410 and again.json()["error"]["code"] == "invite_gone"
    wrong = live.client().post("/api/v1/invites/accept", json={"code": "pxi_no", "username": "x", "password": "x" * 8})
    assert wrong.status_code == 401
    cross_site_login = live.client().post(
        "/api/v1/auth/login",
        json={"username": "dana", "password": "danas password"},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site_login.status_code == 403
    writer = live.client(live.state.auth.create_token("w", "write").secret)
    assert writer.post("/api/v1/invites", json={"role": "viewer"}).status_code == 403  # inviting is an admin's


def test_a_member_ends_their_own_share_links_only(live, tmp_path):
    from live_server import make_pictures

    live.state.auth.create_user("alice", PASSWORD)
    ids = make_pictures(live.library, tmp_path / "in", 2)
    Accounts(live.state.auth).add("bob", "bobs password", "member")
    old, _ = live.state.shares.create("pictures", picture_ids=ids[:1])  # made before links had owners: alice's
    bob = live.client()
    csrf = {"X-CSRF-Token": bob.post("/api/v1/auth/login", json={"username": "bob", "password": "bobs password"})
            .json()["csrf_token"], "Origin": live.url}  # fmt: skip
    made = bob.post("/api/v1/shares", json={"scope_type": "pictures", "picture_ids": ids[1:]}, headers=csrf)
    assert made.status_code == 201
    assert bob.delete(f"/api/v1/shares/{old.id}", headers=csrf).status_code == 403
    assert bob.delete(f"/api/v1/shares/{made.json()['id']}", headers=csrf).status_code == 204
