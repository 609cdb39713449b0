"""``pixlstash user`` and ``pixlstash token``: the owner account and API tokens."""

from __future__ import annotations

import datetime as dt
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from ..auth import SCOPES, Authenticator
from ..errors import BadInput
from ..library import Library
from ..system.paths import resolve_library_path
from .common import SectionedCommand, json_option, library_option, print_json
from .output import Column, print_table


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
    """The owner account: one per library (tokens and share links serve everyone else).

    \b
    Examples:
      pixlstash user create alice                 (asks for the password twice)
      printf '%s\\n' "$PASSWORD" | pixlstash user create alice --password-stdin
      pixlstash user password alice
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
    """Create the library's owner account."""
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
    """Change the owner's password."""
    with _authenticator(library_path, pm) as auth:
        auth.set_password(username, _password(password_stdin))
    print(f"changed the password of {username}")
    return 0


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
@json_option
@click.pass_obj
def token_create(pm, library_path, name, scope, expires_days, as_json) -> int:
    """Create a token (its secret is printed once, on standard output)."""
    with _authenticator(library_path, pm) as auth:
        secret = auth.create_token(name, scope, expires_days)
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
            dt.datetime.fromtimestamp(t.created_at / 1000, dt.UTC).strftime("%Y-%m-%d"),
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
