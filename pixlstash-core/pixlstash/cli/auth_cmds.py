"""``pixlstash user`` and ``pixlstash token``: the owner account and API tokens."""

from __future__ import annotations

import datetime as dt
import getpass
import sys

from ..auth import SCOPES, Authenticator
from ..errors import BadInput
from ..library import Library
from ..paths import resolve_library_path
from .common import add_library_option, print_json


def _authenticator(args, pm) -> Authenticator:
    root = resolve_library_path(args.library)
    Library.open(root, plugin_manager=pm).close()  # creates a fresh library when there is none yet
    return Authenticator(root)


def add_parser(subparsers) -> None:
    user = subparsers.add_parser(
        "user", help="manage the owner account", description="Create the owner account or change its password."
    )
    actions = user.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (("create", "create the owner account"), ("password", "change the owner's password")):
        action = actions.add_parser(name, help=text)
        add_library_option(action)
        action.add_argument("username")
        action.add_argument(
            "--password-stdin", action="store_true", help="read the password from standard input instead of prompting"
        )
        if name == "create":
            action.add_argument("--replace", action="store_true", help="replace the library's owner (one per library)")
        action.set_defaults(func=run_user)

    token = subparsers.add_parser(
        "token",
        help="manage API tokens",
        description="API tokens for scripts and tools: Authorization: Bearer <token>.",
    )
    actions = token.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a token (the secret is printed once)")
    add_library_option(create)
    create.add_argument("--name", default="cli", help="a label to recognise it by")
    create.add_argument("--scope", choices=SCOPES, default="read", help="what it may do (default: read)")
    create.add_argument("--expires-days", type=float, metavar="DAYS", help="expire after this many days")
    create.add_argument("--json", action="store_true", help='print {"token": "..."}')
    create.set_defaults(func=run_token_create)
    listing = actions.add_parser("list", help="list tokens (never their secrets)")
    add_library_option(listing)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=run_token_list)
    revoke = actions.add_parser("revoke", help="revoke a token at once")
    add_library_option(revoke)
    revoke.add_argument("token_id", type=int)
    revoke.set_defaults(func=run_token_revoke)


def _password(args) -> str:
    if args.password_stdin:
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


def run_user(args, pm) -> int:
    auth = _authenticator(args, pm)
    try:
        if args.action == "create":
            auth.create_owner(args.username, _password(args), replace=args.replace)
            print(f"created owner {args.username}{' (the previous owner is replaced)' if args.replace else ''}")
        else:
            auth.set_password(args.username, _password(args))
            print(f"changed the password of {args.username}")
    finally:
        auth.close()
    return 0


def run_token_create(args, pm) -> int:
    auth = _authenticator(args, pm)
    try:
        secret = auth.create_token(args.name, args.scope, args.expires_days)
    finally:
        auth.close()
    if args.json:
        print_json({"token": secret.secret, "id": secret.id, "scope": args.scope})
    else:
        print(secret.secret)
        print(f"token {secret.id} ({args.scope}); this is the only time it is shown", file=sys.stderr)
    return 0


def run_token_list(args, pm) -> int:
    auth = _authenticator(args, pm)
    try:
        tokens = auth.tokens()
    finally:
        auth.close()
    if args.json:
        print_json(tokens)
        return 0
    for token in tokens:
        when = dt.datetime.fromtimestamp(token.created_at / 1000, dt.UTC).strftime("%Y-%m-%d")
        state = "revoked" if token.revoked else "active"
        print(f"{token.id:>4}  {token.prefix}…  {token.scope:<5}  {state:<7}  {when}  {token.name}")
    return 0


def run_token_revoke(args, pm) -> int:
    auth = _authenticator(args, pm)
    try:
        auth.revoke_token(args.token_id)
    finally:
        auth.close()
    print(f"revoked token {args.token_id}")
    return 0
