"""The people of one library: accounts beside the owner, each with a role (``auth.ROLE_SCOPES``), added,
changed, disabled and removed by an admin (``pixlstash user``, ``/api/v1/users``).

The owner is the admin who made the library: no one demotes, disables or removes it (``pixlstash user
create --replace`` hands the library to a new owner). No one acts on their own account here either, so an
admin cannot lock themselves out by a slip. Disabling or removing an account ends its browser sessions and
refuses its tokens at once; removing one also revokes its tokens for good.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from .auth import ROLE_SCOPES, Authenticator, Forbidden, Role, Scope, hash_password
from .db.auth_db import AccountRow
from .errors import BadInput, Conflict, NotFound
from .system.clock import now_ms

__all__ = ["GIVEN_ROLES", "Account", "Accounts", "GivenRole"]

GivenRole = Literal["admin", "member", "viewer"]
GIVEN_ROLES: tuple[GivenRole, ...] = ("admin", "member", "viewer")  # the owner's role is never given


class Account(msgspec.Struct, frozen=True):
    id: int
    username: str
    role: Role
    scope: Scope  # what its sessions may do (its tokens at most this)
    created_at: int
    disabled: bool


def _account(row: AccountRow) -> Account:
    return Account(row.id, row.username, row.role, ROLE_SCOPES[row.role], row.created_at, row.disabled_at is not None)  # type: ignore[arg-type]


class Accounts:
    def __init__(self, auth: Authenticator) -> None:
        self.auth, self.store, self.db = auth, auth.store, auth.db

    def list(self) -> list[Account]:
        return [_account(row) for row in self.store.accounts()]

    def named(self, username: str) -> Account:
        row = self.store.account_named(username.strip())
        if row is None:
            raise NotFound(f"no account named {username!r}")
        return _account(row)

    def by_id(self, user_id: int) -> Account:
        row = self.store.account(user_id)
        if row is None:
            raise NotFound(f"no account {user_id}")
        return _account(row)

    def add(self, username: str, password: str, role: GivenRole) -> Account:
        """A new account; the library needs its owner first (the first-run setup, or ``user create``)."""
        if role not in GIVEN_ROLES:
            raise BadInput(f"a role is one of {', '.join(GIVEN_ROLES)}")
        if len(password) < 8:
            raise BadInput("a password has at least 8 characters")
        if self.store.owner_id() is None:
            raise Conflict("this library has no owner yet: create it first (pixlstash user create NAME)")
        password_hash = hash_password(password)
        with self.db.write():
            user_id = self.auth.add_account(username.strip(), password_hash, role)
        return _account(self.store.account(user_id))  # type: ignore[arg-type]

    def set_role(self, username: str, role: GivenRole, *, by: int | None) -> Account:
        """``by``: the account acting (None: the machine's owner at the command line). Its tokens shrink
        with it: a token never does more than its account's role."""
        if role not in GIVEN_ROLES:
            raise BadInput(f"a role is one of {', '.join(GIVEN_ROLES)}")
        with self.db.write():
            account = self._changeable(username, by, "give another role")
            self.store.set_role(account.id, role)
        return self.named(username)

    def disable(self, username: str, *, by: int | None) -> Account:
        """Its sessions end and its tokens and share links are refused until it is enabled again."""
        with self.db.write():
            account = self._changeable(username, by, "disable")
            self.store.set_disabled(account.id, now_ms())
            self.store.end_sessions_of(account.id, now_ms())
        return self.named(username)

    def enable(self, username: str, *, by: int | None) -> Account:
        with self.db.write():
            account = self._changeable(username, by, "enable")
            self.store.set_disabled(account.id, None)
        return self.named(username)

    def remove(self, username: str, *, by: int | None) -> None:
        """The account, its sessions and (revoked) its tokens. What it brought into the library stays."""
        with self.db.write():
            account = self._changeable(username, by, "remove")
            self.store.revoke_tokens_of(account.id, now_ms())
            self.store.delete_account(account.id)

    def reset_password(self, username: str, password: str, *, by: int | None) -> int:
        """A password an admin gives someone who forgot theirs; that account's sessions end (returns how
        many). Not the owner's (the owner changes it signed in, or at the command line)."""
        if len(password) < 8:
            raise BadInput("a password has at least 8 characters")
        password_hash = hash_password(password)
        with self.db.write():
            account = self._changeable(username, by, "set the password of")
            self.store.set_password(account.id, password_hash)
            return self.store.end_sessions_of(account.id, now_ms())

    def _changeable(self, username: str, by: int | None, doing: str) -> AccountRow:
        row = self.store.account_named(username.strip())
        if row is None:
            raise NotFound(f"no account named {username!r}")
        if row.role == "owner":
            raise Forbidden(
                f"{row.username} is the library's owner, whom no one can {doing} "
                "(`pixlstash user create NAME --replace` hands the library to a new owner)"
            )
        if by is not None and row.id == by:
            raise Forbidden(f"you cannot {doing} your own account: ask another admin")
        return row
