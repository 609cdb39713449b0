"""``pixlstash user`` and ``pixlstash token``: the library's accounts and API tokens."""

from __future__ import annotations

import datetime as dt
import getpass
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
import msgspec

from ..accounts import GIVEN_ROLES, Accounts
from ..auth import SCOPES, Authenticator
from ..db.secrets_db import SecretStore
from ..errors import BadInput
from ..library import Library
from ..sign_in.oidc import OidcSettings, OidcSignIn, check_issuer
from ..system.paths import resolve_library_path
from .common import SectionedCommand, json_option, library_option, print_json
from .output import Column, print_table


@contextmanager
def _sign_in(library_path, pm) -> Iterator[OidcSignIn]:
    with _authenticator(library_path, pm) as auth:
        secrets = SecretStore(resolve_library_path(library_path))
        try:
            yield OidcSignIn(auth, secrets)
        finally:
            secrets.close()


@contextmanager
def _authenticator(library_path, pm) -> Iterator[Authenticator]:
    root = resolve_library_path(library_path)
    Library.open(root, plugin_manager=pm).close()  # creates a fresh library when there is none yet
    auth = Authenticator(root)
    try:
        yield auth
    finally:
        auth.close()


@click.group("user")
def user_group() -> None:
    """The library's accounts: its owner, and the people it is shared with, each with a role.

    \b
    Roles:
      admin   everything, accounts and settings included
      member  uploads, organises, runs enrichment and ComfyUI
      viewer  looks and downloads; changes nothing
    The owner is the admin who made the library: no one demotes, disables or removes it.

    \b
    Examples:
      pixlstash user create alice                 (the owner; asks for the password twice)
      printf '%s\\n' "$PASSWORD" | pixlstash user create alice --password-stdin
      pixlstash user add bob --role member        (asks for bob's first password)
      pixlstash user invite --role viewer --note "Dana, the client"
      pixlstash user list
      pixlstash user role bob viewer
      pixlstash user disable bob                  (his sessions end, his tokens stop)
      pixlstash user password bob
    """


_password_stdin = click.option(
    "--password-stdin", is_flag=True, help="read the password from standard input instead of asking"
)


@user_group.command("create", cls=SectionedCommand)
@library_option
@click.argument("username")
@_password_stdin
@click.option("--replace", is_flag=True, help="replace the library's owner (their sessions end)")
@click.pass_obj
def user_create(pm, library_path, username, password_stdin, replace) -> int:
    """Create the library's owner account (its first admin)."""
    with _authenticator(library_path, pm) as auth:
        auth.create_owner(username, _password(password_stdin), replace=replace)
    print(f"created owner {username}{' (the previous owner is replaced)' if replace else ''}")
    return 0


@user_group.command("password", cls=SectionedCommand)
@library_option
@click.argument("username")
@_password_stdin
@click.pass_obj
def user_password(pm, library_path, username, password_stdin) -> int:
    """Set an account's password (its sessions stay; `pixlstash user disable` ends them)."""
    with _authenticator(library_path, pm) as auth:
        auth.set_password(username, _password(password_stdin))
    print(f"changed the password of {username}")
    return 0


@user_group.command("add", cls=SectionedCommand)
@library_option
@click.argument("username")
@click.option("--role", type=click.Choice(GIVEN_ROLES), default="member", show_default=True, help="what it may do")
@_password_stdin
@click.pass_obj
def user_add(pm, library_path, username, role, password_stdin) -> int:
    """Add an account beside the owner, with its first password (tell it to the person)."""
    with _authenticator(library_path, pm) as auth:
        account = Accounts(auth).add(username, _password(password_stdin), role)
    print(f"added {account.username} ({account.role})")
    return 0


@user_group.command("list", cls=SectionedCommand)
@library_option
@json_option
@click.pass_obj
def user_list(pm, library_path, as_json) -> int:
    """The accounts, their roles and whether each is disabled."""
    with _authenticator(library_path, pm) as auth:
        accounts = Accounts(auth).list()
    if as_json:
        print_json(accounts)
        return 0
    if not accounts:
        print("no accounts yet (pixlstash user create NAME makes the owner)")
        return 0
    rows = [(a.username, a.role, "disabled" if a.disabled else "active", _day(a.created_at)) for a in accounts]
    print_table([Column("NAME"), Column("ROLE"), Column("STATE"), Column("CREATED")], rows)
    return 0


@user_group.command("role", cls=SectionedCommand)
@library_option
@click.argument("username")
@click.argument("role", type=click.Choice(GIVEN_ROLES))
@click.pass_obj
def user_role(pm, library_path, username, role) -> int:
    """Change an account's role (its tokens never do more than its role)."""
    with _authenticator(library_path, pm) as auth:
        account = Accounts(auth).set_role(username, role, by=None)
    print(f"{account.username} is now {'an' if account.role == 'admin' else 'a'} {account.role}")
    return 0


_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def _size(text: str) -> int | None:
    """``none``, or a number of bytes with an optional K, M, G or T (binary: 10G is 10 GiB)."""
    if text.strip().lower() == "none":
        return None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?", text.strip(), re.IGNORECASE)
    if match is None:
        raise BadInput(f"a size is a number with K, M, G or T (10G), or none; not {text!r}")
    return int(float(match[1]) * _UNITS[match[2].upper()])


@user_group.command("quota", cls=SectionedCommand)
@library_option
@click.argument("username")
@click.argument("size")
@click.pass_obj
def user_quota(pm, library_path, username, size) -> int:
    """How much an account may upload into the library (10G, 500M, or none); an upload past it is refused."""
    with _authenticator(library_path, pm) as auth:
        account = Accounts(auth).set_quota(username, _size(size), by=None)
    said = f"{account.quota_bytes:,} bytes" if account.quota_bytes is not None else "no limit"
    print(f"{account.username} may upload {said}")
    return 0


@user_group.command("invite", cls=SectionedCommand)
@library_option
@click.option("--role", type=click.Choice(GIVEN_ROLES), default="member", show_default=True, help="what it may do")
@click.option("--note", default="", help="who it is for (shown in the invites' list)")
@click.option(
    "--expires-days", type=click.FloatRange(min=0, max=30, min_open=True), default=7.0, show_default=True,
    metavar="DAYS", help="how long it works",
)  # fmt: skip
@json_option
@click.pass_obj
def user_invite(pm, library_path, role, note, expires_days, as_json) -> int:
    """Invite someone: a one-time code (printed once, on standard output) with which they choose their own
    name and password, at the server's address followed by #invite=CODE."""
    with _authenticator(library_path, pm) as auth:
        made = Accounts(auth).invite(role, by=None, note=note, expires_in_days=expires_days)
    if as_json:
        print_json(made)
        return 0
    print(made.code)
    until = dt.datetime.fromtimestamp(made.expires_at / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(
        f"invite {made.id} ({made.role}), works once until {until}: give the person the link "
        f"http://YOUR-SERVER/#invite={made.code}",
        file=sys.stderr,
    )
    return 0


def _account_change(name: str, done: str, change: str) -> click.Command:
    """``user disable|enable|remove NAME``: one account change each."""

    @library_option
    @click.argument("username")
    @click.pass_obj
    def command(pm, library_path, username) -> int:
        with _authenticator(library_path, pm) as auth:
            if change != "remove":
                getattr(Accounts(auth), change)(username, by=None)
            else:
                with Library.open(resolve_library_path(library_path), plugin_manager=pm) as library:
                    Accounts(auth).remove(username, by=None, hand_over=library.hand_over_pictures)
        print(f"{done} {username}")
        return 0

    command.__doc__ = {
        "disable": "Disable an account: its sessions end, its tokens and share links stop until it is enabled.",
        "enable": "Enable a disabled account again.",
        "remove": "Remove an account and revoke its tokens (what it brought into the library becomes the owner's).",
    }[change]
    return user_group.command(name, cls=SectionedCommand)(command)


user_disable = _account_change("disable", "disabled", "disable")
user_enable = _account_change("enable", "enabled", "enable")
user_remove = _account_change("remove", "removed", "remove")


@user_group.group("oidc")
def oidc_group() -> None:
    """Sign-in with your identity provider (OpenID Connect: Authentik, Keycloak, Authelia, Kanidm, Google...).

    \b
    Register PixlStash at the provider as a confidential web client with the redirect URI
      <the server's public URL>/api/v1/auth/oidc/callback
    then give its issuer, client id and client secret here.

    \b
    Examples:
      printf '%s\\n' "$SECRET" | pixlstash user oidc set --issuer https://id.example.org \\
          --client-id pixlstash --client-secret-stdin --label "Household ID"
      pixlstash user oidc set ... --create-accounts --default-role member
      pixlstash user oidc set ... --role-claim groups --role pixl-admins=admin --scopes "openid profile groups"
      pixlstash user oidc show
      pixlstash user link bob 8f2c0c1e-...      (bob signs in as the provider's person with that subject)
      pixlstash user oidc off
    """


def _role_value(text: str) -> tuple[str, str]:
    value, _, role = text.rpartition("=")
    if not value or role not in GIVEN_ROLES:
        raise BadInput(f"--role is VALUE=ROLE with ROLE one of {', '.join(GIVEN_ROLES)} (not {text!r})")
    return value, role


@oidc_group.command("set", cls=SectionedCommand)
@library_option
@click.option("--issuer", required=True, help="the provider's issuer URL (https)")
@click.option("--client-id", required=True, help="the client id the provider gave PixlStash")
@click.option("--client-secret-stdin", is_flag=True, help="read the client secret from standard input")
@click.option("--label", default="your identity provider", show_default=True, help='the button: "Sign in with LABEL"')
@click.option("--create-accounts/--no-create-accounts", default=False, help="a first sign-in makes an account")
@click.option("--default-role", type=click.Choice(GIVEN_ROLES), default="viewer", show_default=True)
@click.option("--role-claim", metavar="CLAIM", help="a claim whose values give roles (e.g. groups)")
@click.option("--role", "role_values", multiple=True, metavar="VALUE=ROLE", help="a value of --role-claim and its role")
@click.option("--scopes", default="openid profile email", show_default=True, help="what to ask the provider for")
@click.pass_obj
def oidc_set(pm, library_path, issuer, client_id, client_secret_stdin, label, create_accounts, **options) -> int:
    """Sign people in through this identity provider (the client secret is kept when not given again)."""
    check_issuer(issuer)  # before asking for a secret
    with _sign_in(library_path, pm) as sign_in:
        current = sign_in.settings()
        if client_secret_stdin:
            secret = sys.stdin.readline().strip()
        elif current is not None and current.client_id == client_id:
            secret = current.client_secret
        elif sys.stdin.isatty():
            secret = getpass.getpass("client secret: ")
        else:
            raise BadInput("no client secret: pipe it in with --client-secret-stdin")
        role_values = dict(_role_value(text) for text in options.pop("role_values"))
        settings = OidcSettings(issuer, client_id, secret, label, create_accounts, role_values=role_values, **options)
        sign_in.configure(settings)
    print(f"sign-in with {label} through {issuer} is on")
    print("the redirect URI to register there: <this server's public URL>/api/v1/auth/oidc/callback")
    return 0


@oidc_group.command("show", cls=SectionedCommand)
@library_option
@json_option
@click.pass_obj
def oidc_show(pm, library_path, as_json) -> int:
    """The identity provider people sign in with (never its client secret), and the linked accounts."""
    with _sign_in(library_path, pm) as sign_in:
        settings, links = sign_in.settings(), sign_in.links()
        names = {a.id: a.username for a in Accounts(sign_in.auth).list()}
    shown = None if settings is None else {**msgspec.structs.asdict(settings), "client_secret": "(set)"}
    if as_json:
        linked = [{"user": names.get(link.user_id), "issuer": link.issuer, "subject": link.subject} for link in links]
        print_json({"settings": shown, "links": linked})
        return 0
    if shown is None:
        print("sign-in with an identity provider is off (pixlstash user oidc set turns it on)")
    else:
        for key, value in shown.items():
            print(f"{key:16} {value}")
    if links:
        print()
        rows = [(names.get(link.user_id, "?"), link.subject, link.issuer) for link in links]
        print_table([Column("NAME"), Column("SUBJECT"), Column("ISSUER")], rows)
    return 0


@oidc_group.command("off", cls=SectionedCommand)
@library_option
@click.pass_obj
def oidc_off(pm, library_path) -> int:
    """Stop offering sign-in with the identity provider (links to accounts are kept)."""
    with _sign_in(library_path, pm) as sign_in:
        sign_in.turn_off()
    print("sign-in with an identity provider is off")
    return 0


@user_group.command("link", cls=SectionedCommand)
@library_option
@click.argument("username")
@click.argument("subject")
@click.pass_obj
def user_link(pm, library_path, username, subject) -> int:
    """Link an account to a person at the identity provider, by the provider's subject (its id of them)."""
    with _sign_in(library_path, pm) as sign_in:
        sign_in.link(username, subject)
    print(f"{username} signs in as {subject} at the identity provider")
    return 0


@user_group.command("unlink", cls=SectionedCommand)
@library_option
@click.argument("username")
@click.pass_obj
def user_unlink(pm, library_path, username) -> int:
    """Unlink an account from the identity provider (it signs in with its password only)."""
    with _sign_in(library_path, pm) as sign_in:
        count = sign_in.unlink(username)
    print(f"{username}: {count} link{'s' if count != 1 else ''} removed")
    return 0


def _day(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise BadInput("no password on standard input")
        return password
    if not sys.stdin.isatty():
        raise BadInput("there is no terminal to ask for the password on: pipe it in with --password-stdin")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise BadInput("the passwords differ")
    return first


@click.group("token")
def token_group() -> None:
    """API tokens for scripts and tools (Authorization: Bearer <token>).

    \b
    Examples:
      pixlstash token create --name comfyui --scope write
      pixlstash token list
      pixlstash token revoke 3
    """


@token_group.command("create", cls=SectionedCommand)
@library_option
@click.option("--name", default="cli", show_default=True, help="a label to recognise it by")
@click.option("--scope", type=click.Choice(SCOPES), default="read", show_default=True, help="what it may do")
@click.option("--expires-days", type=click.FloatRange(min=0, min_open=True), metavar="DAYS", help="expire after DAYS")
@click.option("--user", "username", metavar="NAME", help="the account it acts for (default: the owner)")
@json_option
@click.pass_obj
def token_create(pm, library_path, name, scope, expires_days, username, as_json) -> int:
    """Create a token (its secret is printed once, on standard output); it never does more than its
    account's role allows."""
    with _authenticator(library_path, pm) as auth:
        user_id = Accounts(auth).named(username).id if username else None
        secret = auth.create_token(name, scope, expires_days, user_id=user_id)
    if as_json:
        print_json({"token": secret.secret, "id": secret.id, "scope": scope})
    else:
        print(secret.secret)
        print(f"token {secret.id} ({scope}); this is the only time it is shown", file=sys.stderr)
    return 0


@token_group.command("list", cls=SectionedCommand)
@library_option
@json_option
@click.pass_obj
def token_list(pm, library_path, as_json) -> int:
    """Tokens (never their secrets)."""
    with _authenticator(library_path, pm) as auth:
        tokens = auth.tokens()
    if as_json:
        print_json(tokens)
        return 0
    if not tokens:
        print("no tokens (pixlstash token create)")
        return 0
    rows = [
        (
            t.id,
            f"{t.prefix}…",
            t.scope,
            "revoked" if t.revoked else "active",
            _day(t.created_at),
            t.user or "",
            t.name,
        )
        for t in tokens
    ]
    print_table(
        [
            Column("ID", right=True),
            Column("PREFIX"),
            Column("SCOPE"),
            Column("STATE"),
            Column("CREATED"),
            Column("USER"),
            Column("NAME"),
        ],
        rows,
    )
    return 0


@token_group.command("revoke", cls=SectionedCommand)
@library_option
@click.argument("token_id", type=int)
@click.pass_obj
def token_revoke(pm, library_path, token_id) -> int:
    """Revoke a token at once."""
    with _authenticator(library_path, pm) as auth:
        auth.revoke_token(token_id)
    print(f"revoked token {token_id}")
    return 0
