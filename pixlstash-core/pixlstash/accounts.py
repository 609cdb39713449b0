"""The people of one library: accounts beside the owner, each with a role (``auth.ROLE_SCOPES``), added
(directly, or by an invite the person accepts with a name and password of their own), changed, disabled
and removed by an admin (``pixlstash user``, ``/api/v1/users``, ``/api/v1/invites``).

An invite is a 256-bit code shown once (only its digest is kept), good for one account, until it expires
(7 days unless said) or an admin revokes it.

The owner is the admin who made the library: no one demotes, disables or removes it (``pixlstash user
create --replace`` hands the library to a new owner). No one acts on their own account here either, so an
admin cannot lock themselves out by a slip. Disabling or removing an account ends its browser sessions and
refuses its tokens at once; removing one also revokes its tokens for good.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Literal

import msgspec

from .auth import ROLE_SCOPES, Authenticator, Forbidden, Role, Scope, Unauthenticated, digest, hash_password, new_secret
from .db.auth_db import AccountRow, InviteRow
from .errors import BadInput, Conflict, NotFound, PixlstashError
from .system.clock import now_ms

__all__ = [
    "GIVEN_ROLES",
    "INVITE_PREFIX",
    "Account",
    "Accounts",
    "GivenRole",
    "Invite",
    "InviteGone",
    "NewInvite",
    "uploads_private",
]

INVITE_PREFIX = "pxi_"
_DAY_MS = 86_400_000

GivenRole = Literal["admin", "member", "viewer"]
GIVEN_ROLES: tuple[GivenRole, ...] = ("admin", "member", "viewer")  # the owner's role is never given


class Account(msgspec.Struct, frozen=True):
    id: int
    username: str
    role: Role
    scope: Scope  # what its sessions may do (its tokens at most this)
    created_at: int
    disabled: bool
    uploads_private: bool = False  # its uploads stay private to it unless it says otherwise
    quota_bytes: int | None = None  # how much it may upload into the library (None: no limit)


class Invite(msgspec.Struct, frozen=True):
    id: int
    prefix: str  # the code's first characters, to recognise it
    role: GivenRole
    note: str
    created_at: int
    expires_at: int
    state: Literal["open", "used", "expired", "revoked"]
    used_by: str | None = None  # the account it made


class NewInvite(msgspec.Struct, frozen=True):
    id: int
    code: str  # shown once
    role: GivenRole
    expires_at: int


def uploads_private(row: AccountRow) -> bool:
    """An account's default for its uploads: as it chose, else private for a member (a household member's
    pictures are theirs until they share them) and shared for the owner and admins (as before accounts)."""
    return bool(row.uploads_private) if row.uploads_private is not None else row.role == "member"


def _account(row: AccountRow) -> Account:
    disabled = row.disabled_at is not None
    role = row.role
    private = uploads_private(row)
    return Account(row.id, row.username, role, ROLE_SCOPES[role], row.created_at, disabled, private, row.quota_bytes)  # type: ignore[arg-type]


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

    def set_uploads_private(self, user_id: int, private: bool) -> Account:
        """An account's own default for its uploads (each upload may still say otherwise)."""
        with self.db.write():
            if self.store.account(user_id) is None:
                raise NotFound(f"no account {user_id}")
            self.store.set_uploads_private(user_id, private)
        return self.by_id(user_id)

    def set_quota(self, username: str, quota_bytes: int | None, *, by: int | None) -> Account:
        """How many bytes of originals the account may bring into the library (None: no limit). An upload that
        would pass it is refused whole, with one line; what the account has stays."""
        if quota_bytes is not None and quota_bytes <= 0:
            raise BadInput("a quota is a positive number of bytes, or none")
        with self.db.write():
            account = self._changeable(username, by, "give a quota")
            self.store.set_quota(account.id, quota_bytes)
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

    def remove(self, username: str, *, by: int | None, hand_over: Callable[[int], object]) -> None:
        """The account, its sessions and (revoked) its tokens. What it brought into the library stays:
        ``hand_over(user_id)`` (``Library.hand_over_pictures``) gives it to the owner first, so that no picture
        ever names an account that is gone (nor one a later account could get the id of)."""
        with self.db.write():
            account = self._changeable(username, by, "remove")
            hand_over(account.id)
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

    # -- invites ---------------------------------------------------------------------------------

    def invite(self, role: GivenRole, *, by: int | None, note: str = "", expires_in_days: float = 7.0) -> NewInvite:
        """A one-time code for one account of ``role``, made by the account ``by``."""
        if role not in GIVEN_ROLES:
            raise BadInput(f"a role is one of {', '.join(GIVEN_ROLES)}")
        if not 0 < expires_in_days <= 30:
            raise BadInput("an invite lasts more than no time and at most 30 days")
        if self.store.owner_id() is None:
            raise Conflict("this library has no owner yet: create it first (pixlstash user create NAME)")
        code, now = new_secret(INVITE_PREFIX), now_ms()
        expires_at = now + int(expires_in_days * _DAY_MS)
        with self.db.write():
            invite_id = self.store.add_invite(digest(code), code[:8], role, note.strip()[:200], by, now, expires_at)
        return NewInvite(invite_id, code, role, expires_at)

    def invites(self) -> list[Invite]:
        names, now = {a.id: a.username for a in self.store.accounts()}, now_ms()
        return [
            Invite(
                row.id,
                row.prefix,
                row.role,  # type: ignore[arg-type]
                row.note,
                row.created_at,
                row.expires_at,
                _invite_state(row, now),
                names.get(row.used_by) if row.used_by is not None else None,
            )
            for row in self.store.invites()
        ]

    def revoke_invite(self, invite_id: int) -> None:
        with self.db.write():
            if not self.store.revoke_invite(invite_id, now_ms()):
                raise NotFound(f"no open invite {invite_id}")

    def accept(self, code: str, username: str, password: str) -> int:
        """The account an invite makes, with the name and password its person chose; returns its id. The
        code works once: of two people using it at once, one gets the account and the other a Conflict."""
        if len(password) < 8:
            raise BadInput("a password has at least 8 characters")
        row = self.store.invite_by_hash(digest(code))
        if row is None or not hmac.compare_digest(row.code_hash, digest(code)):
            raise Unauthenticated("this invite does not exist: ask for a new one")
        state = _invite_state(row, now_ms())
        if state != "open":
            raise InviteGone(f"this invite was {state}: ask for a new one" if state != "expired" else
                             "this invite has expired: ask for a new one")  # fmt: skip
        password_hash = hash_password(password)
        with self.db.write():
            user_id = self.auth.add_account(username.strip(), password_hash, row.role)  # type: ignore[arg-type]
            if not self.store.use_invite(row.id, user_id, now_ms()):  # used or revoked since it was read
                raise InviteGone("this invite was used already: ask for a new one")
        return user_id

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


class InviteGone(PixlstashError):
    """The invite was used, revoked or has expired."""

    code = "invite_gone"


def _invite_state(row: InviteRow, now: int) -> Literal["open", "used", "expired", "revoked"]:
    if row.used_at is not None:
        return "used"
    if row.revoked_at is not None:
        return "revoked"
    return "expired" if row.expires_at <= now else "open"
