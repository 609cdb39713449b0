"""Who may do what: accounts and their roles, API tokens, browser sessions and the login rate limit.

An account's role bounds everything done with it: a session has its role's scope (``ROLE_SCOPES``), and a
token acts for an account with at most that account's scope. A disabled account's sessions and tokens are
refused from the next request on (``accounts`` changes accounts).

Tokens are 256-bit random strings shown once; only their SHA-256 digests are stored (a fast hash is
right for random secrets) and compared in constant time. Passwords use scrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from pathlib import Path
from typing import Literal

import msgspec

from .db.auth_db import AUTH_DATABASE_NAME, AUTH_MIGRATIONS, AuthStore
from .db.database import Database
from .db.schema import migrate
from .errors import BadInput, Conflict, NotFound, PixlstashError
from .pictures.visibility import Audience
from .system.clock import now_ms

__all__ = [
    "ROLE_SCOPES",
    "SCOPES",
    "AccountDisabled",
    "ApiToken",
    "Authenticator",
    "Forbidden",
    "LoginRateLimiter",
    "NewSecret",
    "Principal",
    "RateLimited",
    "Role",
    "Scope",
    "SessionInfo",
    "Unauthenticated",
    "hash_password",
    "verify_password",
]

Scope = Literal["read", "write", "admin"]
SCOPES: tuple[Scope, ...] = ("read", "write", "admin")
Role = Literal["owner", "admin", "member", "viewer"]
# What each role may do: an admin everything (accounts, settings), a member uploads and organises, a viewer
# looks. The owner is the admin who made the library, whom no other admin can demote, disable or remove.
ROLE_SCOPES: dict[str, Scope] = {"owner": "admin", "admin": "admin", "member": "write", "viewer": "read"}
TOKEN_PREFIX = "pxl_"
SESSION_DAYS = 30
_DAY_MS = 86_400_000
_TOUCH_EVERY_MS = 60_000  # last-used times are written at most once a minute per token


class Unauthenticated(PixlstashError):
    """No valid credentials: missing, unknown, expired or revoked."""

    code = "unauthenticated"


class AccountDisabled(Unauthenticated):
    """The credentials are right, but an admin disabled their account."""


class Forbidden(PixlstashError):
    """Valid credentials without the right to do this."""

    code = "forbidden"


class RateLimited(PixlstashError):
    code = "rate_limited"


class Principal(msgspec.Struct, frozen=True):
    """Who is calling: the owner through a session, an API token, or a share link recipient."""

    kind: Literal["session", "token", "share"]
    scope: Scope | Literal["share"]
    id: int
    user_id: int | None = None  # the account it acts for (a share link: the account that made it)
    csrf_hash: bytes | None = None
    role: Role | None = None  # that account's role (None: no account is named, so the library's, the owner's)

    def allows(self, needed: Scope) -> bool:
        if self.scope == "share":
            return False
        return SCOPES.index(self.scope) >= SCOPES.index(needed)

    @property
    def audience(self) -> Audience:
        """Whose pictures it sees: an account's role, not a token's scope, decides (an admin's read-only token
        reads everything; a member's sees that member's and the shared pictures)."""
        owner = self.role in ("owner", None)
        return Audience(self.user_id or 0, owner or self.role == "admin", owner)


class ApiToken(msgspec.Struct, frozen=True):
    id: int
    name: str
    prefix: str
    scope: Scope
    created_at: int
    expires_at: int | None
    last_used_at: int | None
    revoked: bool
    user: str | None = None  # the account it acts for


class SessionInfo(msgspec.Struct, frozen=True):
    id: int
    user: str
    created_at: int
    last_seen_at: int
    expires_at: int
    user_agent: str
    address: str


class NewSecret(msgspec.Struct, frozen=True):
    """A secret shown once (token, session, share link) and the id of what it unlocks."""

    id: int
    secret: str
    extra: str | None = None  # a session's CSRF token


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)  # 256 bits


_SCRYPT = {"n": 2**15, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    if not 8 <= len(password) <= 1024:
        raise BadInput("a password has 8 to 1024 characters")
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, maxmem=64 << 20, dklen=32, **_SCRYPT)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${b64(salt).decode()}${b64(key).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, key = stored.split("$")
        expected = base64.b64decode(key)
        actual = hashlib.scrypt(
            password.encode()[:1024],
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=64 << 20,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# A valid hash to compare against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$" + base64.b64encode(b"\0" * 32).decode()


class LoginRateLimiter:
    """At most ``attempts`` failed logins per client address in ``window`` seconds.

    An attempt counts as failed from the moment it starts (checked and counted under one lock), and
    only a success takes it back: concurrent attempts cannot all pass the check before any fails."""

    def __init__(self, attempts: int = 10, window: float = 300.0) -> None:
        self.attempts, self.window = attempts, window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def begin(self, address: str) -> None:
        """Count one attempt from ``address``, or raise ``RateLimited`` when it has had too many."""
        with self._lock:
            recent = self._failures.setdefault(address, deque())
            now = time.monotonic()
            while recent and now - recent[0] > self.window:
                recent.popleft()
            if len(recent) >= self.attempts:
                retry = int(self.window - (now - recent[0])) + 1
                raise RateLimited(f"too many failed logins; try again in {retry} s", retry_after=retry)
            recent.append(now)

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)


class Authenticator:
    """Credentials of one installation, in ``<library>/auth.db``."""

    def __init__(self, root: Path) -> None:
        self.db = Database(Path(root) / AUTH_DATABASE_NAME)
        migrate(self.db.connection, AUTH_MIGRATIONS)
        self.store = AuthStore(self.db)
        self.rate_limiter = LoginRateLimiter()

    def close(self) -> None:
        self.db.close()

    # -- the owner ------------------------------------------------------------------------------

    @property
    def needs_setup(self) -> bool:
        return self.store.user_count() == 0

    def create_owner(self, username: str, password: str, *, replace: bool = False) -> int:
        """The library's owner, its first admin. A library that has an owner keeps it unless ``replace``,
        which ends the old owner's account and sessions (its tokens and share links pass to the new one;
        the other accounts stay)."""
        username = username.strip()
        password_hash = hash_password(password)
        with self.db.write():
            owner = self.store.owner_name()
            if owner is not None and not replace:
                raise Conflict(
                    f"this library has an owner already ({owner}): change its password with `pixlstash user "
                    f"password {owner}`, or replace the owner with --replace"
                )
            if owner is not None:
                self.store.remove_owner()
            return self.add_account(username, password_hash)

    def create_user(self, username: str, password: str) -> int:
        """The owner of a library that has none yet (the first-run setup)."""
        return self.create_owner(username, password)

    def add_account(self, username: str, password_hash: str, role: Role = "owner") -> int:
        if not 1 <= len(username) <= 100 or any(ord(ch) < 32 or ord(ch) == 127 for ch in username):
            raise BadInput("a user name has 1 to 100 characters and no control characters")
        if self.store.account_named(username) is not None:
            raise Conflict(f"there is an account named {username} already")
        return self.store.create_user(username, password_hash, now_ms(), role)

    def set_password(self, username: str, password: str) -> None:
        user = self.store.user_by_name(username)
        if user is None:
            raise NotFound(f"no user named {username!r}")
        with self.db.write():
            self.store.set_password(user[0], hash_password(password))

    def change_password(self, user_id: int, current: str, new: str, address: str, keep_session: int | None) -> int:
        """Change the owner's password once the current one is checked (rate-limited as sign-ins are).
        Every other browser session ends: whoever else had the old password is signed out. Returns how
        many sessions ended."""
        self.rate_limiter.begin(address)
        name = self.store.username(user_id)
        user = self.store.user_by_name(name) if name else None
        if user is None or not verify_password(current, user[2]):
            # 403, not 401: the caller is signed in; only this check failed (a browser keeps its session)
            raise Forbidden("the current password is wrong")
        self.rate_limiter.succeeded(address)
        new_hash = hash_password(new)
        ended = 0
        with self.db.write():
            self.store.set_password(user[0], new_hash)
            for session in self.sessions():
                if session.id != keep_session and session.user == name:
                    ended += self.store.revoke_session(session.id, now_ms())
        return ended

    def login(self, username: str, password: str, address: str, user_agent: str = "") -> NewSecret:
        """Check a password (rate-limited per address) and open a session; returns its secret and CSRF token."""
        account = f"account:{username.strip().casefold()}"  # guesses at one account from many addresses
        self.rate_limiter.begin(address)
        try:
            self.rate_limiter.begin(account)
        except RateLimited:
            self.rate_limiter.succeeded(address)  # counted against the account alone
            raise
        user = self.store.user_by_name(username.strip())
        ok = verify_password(password, user[2] if user else _DUMMY_HASH) and user is not None
        if not ok:
            raise Unauthenticated("wrong user name or password")
        self.rate_limiter.succeeded(address)
        self.rate_limiter.succeeded(account)
        found = self.store.account(user[0])
        if found is None or found.disabled_at is not None:
            raise AccountDisabled("this account is disabled: ask an admin of this library")
        return self.open_session(user[0], address, user_agent)

    def open_session(self, user_id: int, address: str, user_agent: str = "") -> NewSecret:
        """A new browser session for ``user_id``, whose password was just checked (or just set, at setup)."""
        session, csrf = new_secret("pxs_"), secrets.token_urlsafe(32)
        now = now_ms()
        with self.db.write():
            session_id = self.store.add_session(
                user_id, digest(session), digest(csrf), now, now + SESSION_DAYS * _DAY_MS, user_agent, address
            )
        return NewSecret(session_id, session, csrf)

    def session(self, secret: str) -> Principal:
        row = self.store.session_by_hash(digest(secret))
        now = now_ms()
        if row is None or not hmac.compare_digest(row.session_hash, digest(secret)):
            raise Unauthenticated("not signed in")
        if row.revoked_at is not None or row.expires_at <= now:
            raise Unauthenticated("the session has ended; sign in again")
        account = self.store.account(row.user_id)
        if account is None or account.disabled_at is not None:
            raise AccountDisabled("this account is disabled: ask an admin of this library")
        if now - row.last_seen_at > _TOUCH_EVERY_MS:  # sliding expiry, written rarely
            with self.db.write():
                self.store.touch_session(row.id, now, now + SESSION_DAYS * _DAY_MS)
        return Principal("session", ROLE_SCOPES[account.role], row.id, row.user_id, row.csrf_hash, account.role)

    def sessions(self) -> list[SessionInfo]:
        return [
            SessionInfo(
                s.id,
                self.store.username(s.user_id) or "",
                s.created_at,
                s.last_seen_at,
                s.expires_at,
                s.user_agent,
                s.address,
            )
            for s in self.store.sessions()
        ]

    def revoke_session(self, session_id: int) -> None:
        with self.db.write():
            if not self.store.revoke_session(session_id, now_ms()):
                raise NotFound(f"no active session {session_id}")

    # -- API tokens -----------------------------------------------------------------------------

    def create_token(
        self, name: str, scope: Scope, expires_in_days: float | None = None, *, user_id: int | None = None
    ) -> NewSecret:
        """A token acting for the account ``user_id`` (None: the owner), within that account's role."""
        if scope not in SCOPES:
            raise BadInput(f"scope is one of {', '.join(SCOPES)}")
        user_id = user_id if user_id is not None else self.store.owner_id()
        account = self.store.account(user_id) if user_id is not None else None
        if user_id is not None and account is None:
            raise NotFound(f"no account {user_id}")
        if account is not None and SCOPES.index(scope) > SCOPES.index(ROLE_SCOPES[account.role]):
            allowed = ", ".join(SCOPES[: SCOPES.index(ROLE_SCOPES[account.role]) + 1])
            raise BadInput(f"{account.username} is a {account.role}: its tokens may have the scope {allowed}")
        if expires_in_days is not None and expires_in_days <= 0:
            raise BadInput("expiry must be in the future")
        secret = new_secret(TOKEN_PREFIX)
        now = now_ms()
        expires_at = None if expires_in_days is None else now + int(expires_in_days * _DAY_MS)
        with self.db.write():
            token_id = self.store.add_token(
                name.strip()[:100] or "token", digest(secret), secret[:8], scope, now, expires_at, user_id
            )
        return NewSecret(token_id, secret)

    def token(self, secret: str) -> Principal:
        row = self.store.token_by_hash(digest(secret))
        now = now_ms()
        if row is None or not hmac.compare_digest(row.token_hash, digest(secret)):
            raise Unauthenticated("unknown API token")
        if row.revoked_at is not None:
            raise Unauthenticated("this API token was revoked")
        if row.expires_at is not None and row.expires_at <= now:
            raise Unauthenticated("this API token has expired")
        user_id = row.user_id if row.user_id is not None else self.store.owner_id()
        account = self.store.account(user_id) if user_id is not None else None
        if account is not None and account.disabled_at is not None:
            raise AccountDisabled("the account this API token acts for is disabled")
        scope: Scope = row.scope  # type: ignore[assignment]
        if account is not None:  # never more than its account's role (a demoted account's tokens shrink)
            scope = min(scope, ROLE_SCOPES[account.role], key=SCOPES.index)
        if row.last_used_at is None or now - row.last_used_at > _TOUCH_EVERY_MS:
            with self.db.write():
                self.store.touch_token(row.id, now)
        return Principal("token", scope, row.id, user_id, role=account.role if account is not None else None)

    def tokens(self) -> list[ApiToken]:
        names, owner = {a.id: a.username for a in self.store.accounts()}, self.store.owner_id()
        return [
            ApiToken(
                t.id,
                t.name,
                t.prefix,
                t.scope,
                t.created_at,
                t.expires_at,
                t.last_used_at,  # type: ignore
                t.revoked_at is not None,
                names.get(t.user_id if t.user_id is not None else owner),
            )
            for t in self.store.tokens()
        ]

    def revoke_token(self, token_id: int) -> None:
        with self.db.write():
            if not self.store.revoke_token(token_id, now_ms()):
                raise NotFound(f"no active token {token_id}")

    def csrf_ok(self, principal: Principal, presented: str | None) -> bool:
        return (
            bool(presented)
            and principal.csrf_hash is not None
            and hmac.compare_digest(principal.csrf_hash, digest(presented or ""))
        )
