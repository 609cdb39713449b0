"""The credentials database (``auth.db``): users, API tokens, sessions, share links, instance settings.

Kept apart from the library database on purpose: credentials are not library metadata, so restoring
a snapshot of the library never signs anyone out, revives a revoked token or revokes a valid one.
Secrets are never stored: only SHA-256 digests of random tokens and scrypt hashes of passwords.
"""

from __future__ import annotations

import msgspec

from .database import Database
from .oidc_rows import AUTH_V5

__all__ = [
    "AUTH_DATABASE_NAME",
    "AUTH_MIGRATIONS",
    "AccountRow",
    "ApiTokenRow",
    "AuthStore",
    "InviteRow",
    "SessionRow",
    "ShareRow",
]

AUTH_DATABASE_NAME = "auth.db"

_AUTH_V1 = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'owner' CHECK (role IN ('owner')),
    created_at INTEGER NOT NULL
);
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    prefix TEXT NOT NULL,                 -- first characters, to recognise a token in lists
    scope TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    last_used_at INTEGER,
    revoked_at INTEGER
);
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_hash BLOB NOT NULL UNIQUE,
    csrf_hash BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    user_agent TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    revoked_at INTEGER
);
CREATE TABLE shares (
    id INTEGER PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    scope_type TEXT NOT NULL CHECK (scope_type IN ('pictures', 'set', 'character', 'project')),
    scope_id INTEGER,
    picture_ids TEXT NOT NULL DEFAULT '[]',  -- JSON, for scope_type 'pictures'
    title TEXT NOT NULL DEFAULT '',
    options TEXT NOT NULL DEFAULT '{}',      -- JSON: watermark, allow_original, include_metadata
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    last_used_at INTEGER,
    revoked_at INTEGER
);
CREATE TABLE instance_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL                      -- JSON
) WITHOUT ROWID;
"""

# A share link belongs to what made it (an API token, or the owner's account): it ends with that token.
# Links made before this have no owner and belong to the library's owner.
_AUTH_V2 = """
ALTER TABLE shares ADD COLUMN owner_kind TEXT CHECK (owner_kind IN ('token', 'user'));
ALTER TABLE shares ADD COLUMN owner_id INTEGER;
"""

# Accounts beside the owner, each with a role (issue 62), which a disabled account keeps. SQLite cannot
# widen a CHECK in place: the users table is made again, and sessions (which refer to it, and would go with
# it) are kept aside meanwhile. A token belongs to an account; those made before belong to the owner.
_AUTH_V3 = """
CREATE TEMP TABLE sessions_kept AS SELECT * FROM sessions;
DROP TABLE sessions;
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at INTEGER NOT NULL,
    disabled_at INTEGER
);
INSERT INTO accounts(id, username, password_hash, role, created_at)
    SELECT id, username, password_hash, role, created_at FROM users;
DROP TABLE users;
ALTER TABLE accounts RENAME TO users;
CREATE UNIQUE INDEX one_owner ON users(role) WHERE role = 'owner';
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_hash BLOB NOT NULL UNIQUE,
    csrf_hash BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    user_agent TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    revoked_at INTEGER
);
INSERT INTO sessions SELECT * FROM sessions_kept;
DROP TABLE sessions_kept;
ALTER TABLE api_tokens ADD COLUMN user_id INTEGER REFERENCES users(id) ON DELETE SET NULL;
UPDATE api_tokens SET user_id = (SELECT id FROM users WHERE role = 'owner');
CREATE TABLE invites (
    id INTEGER PRIMARY KEY,
    code_hash BLOB NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    note TEXT NOT NULL DEFAULT '',          -- who it is for, as the admin wrote it
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    used_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    revoked_at INTEGER
);
"""

# Whether an account's uploads stay private to it unless it says otherwise (NULL: as its role has it, see
# ``accounts.uploads_private``), and how many bytes of uploads it may have in the library (NULL: no limit).
_AUTH_V4 = """
ALTER TABLE users ADD COLUMN uploads_private INTEGER CHECK (uploads_private IN (0, 1));
ALTER TABLE users ADD COLUMN quota_bytes INTEGER CHECK (quota_bytes > 0);
"""

AUTH_MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "users, tokens, sessions, shares, settings", _AUTH_V1),
    (2, "share links belong to the token or account that made them", _AUTH_V2),
    (3, "accounts with roles, invites; tokens belong to an account", _AUTH_V3),
    (4, "each account's default for its uploads (private or shared) and its quota", _AUTH_V4),
    (5, "sign-in through an OpenID provider: linked subjects, pending sign-ins", AUTH_V5),
]


class AccountRow(msgspec.Struct, frozen=True):
    id: int
    username: str
    role: str  # owner, admin, member, viewer
    created_at: int
    disabled_at: int | None
    uploads_private: int | None = None
    quota_bytes: int | None = None


class InviteRow(msgspec.Struct, frozen=True):
    id: int
    code_hash: bytes
    prefix: str
    role: str
    note: str
    created_by: int | None
    created_at: int
    expires_at: int
    used_at: int | None
    used_by: int | None
    revoked_at: int | None


class ApiTokenRow(msgspec.Struct, frozen=True):
    id: int
    name: str
    token_hash: bytes
    prefix: str
    scope: str
    created_at: int
    expires_at: int | None
    last_used_at: int | None
    revoked_at: int | None
    user_id: int | None  # the account it acts for (None: made before accounts had tokens: the owner's)


class SessionRow(msgspec.Struct, frozen=True):
    id: int
    user_id: int
    session_hash: bytes
    csrf_hash: bytes
    created_at: int
    expires_at: int
    last_seen_at: int
    user_agent: str
    address: str
    revoked_at: int | None


class ShareRow(msgspec.Struct, frozen=True):
    id: int
    token_hash: bytes
    prefix: str
    scope_type: str
    scope_id: int | None
    picture_ids: str
    title: str
    options: str
    created_at: int
    expires_at: int | None
    last_used_at: int | None
    revoked_at: int | None
    owner_kind: str | None = None  # "token", "user", or None: made before links had owners (the owner's)
    owner_id: int | None = None


_TOKEN_COLUMNS = "id, name, token_hash, prefix, scope, created_at, expires_at, last_used_at, revoked_at, user_id"
_ACCOUNT_COLUMNS = "id, username, role, created_at, disabled_at, uploads_private, quota_bytes"
_INVITE_COLUMNS = "id, code_hash, prefix, role, note, created_by, created_at, expires_at, used_at, used_by, revoked_at"
_SESSION_COLUMNS = (
    "id, user_id, session_hash, csrf_hash, created_at, expires_at, last_seen_at, user_agent, address, revoked_at"
)
_SHARE_COLUMNS = (
    "id, token_hash, prefix, scope_type, scope_id, picture_ids, title, options, created_at, expires_at, "
    "last_used_at, revoked_at, owner_kind, owner_id"
)


class AuthStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # users
    def user_count(self) -> int:
        return self.db.scalar("SELECT count(*) FROM users") or 0

    def owner_name(self) -> str | None:
        return self.db.scalar("SELECT username FROM users WHERE role = 'owner'")

    def owner_id(self) -> int | None:
        return self.db.scalar("SELECT id FROM users WHERE role = 'owner'")

    def remove_owner(self) -> None:
        """The owner's account and its browser sessions (its tokens and share links stay: with no account
        named they are the owner's, so the next owner's)."""
        self.db.execute("DELETE FROM users WHERE role = 'owner'")  # its tokens' user_id becomes NULL

    def create_user(self, username: str, password_hash: str, now: int, role: str = "owner") -> int:
        return self.db.query(
            "INSERT INTO users(username, password_hash, role, created_at) VALUES (?, ?, ?, ?) RETURNING id",
            (username, password_hash, role, now),
        )[0][0]

    def accounts(self) -> list[AccountRow]:
        return [AccountRow(*r) for r in self.db.query(f"SELECT {_ACCOUNT_COLUMNS} FROM users ORDER BY id")]

    def account(self, user_id: int) -> AccountRow | None:
        return self.db.row(f"SELECT {_ACCOUNT_COLUMNS} FROM users WHERE id = ?", (user_id,), AccountRow)

    def account_named(self, username: str) -> AccountRow | None:
        return self.db.row(f"SELECT {_ACCOUNT_COLUMNS} FROM users WHERE username = ?", (username,), AccountRow)

    def set_role(self, user_id: int, role: str) -> None:
        self.db.execute("UPDATE users SET role = ? WHERE id = ?", (role, user_id))

    def set_uploads_private(self, user_id: int, private: bool | None) -> None:
        self.db.execute(
            "UPDATE users SET uploads_private = ? WHERE id = ?", (None if private is None else int(private), user_id)
        )

    def set_quota(self, user_id: int, quota_bytes: int | None) -> None:
        self.db.execute("UPDATE users SET quota_bytes = ? WHERE id = ?", (quota_bytes, user_id))

    def set_disabled(self, user_id: int, when: int | None) -> None:
        self.db.execute("UPDATE users SET disabled_at = ? WHERE id = ?", (when, user_id))

    def delete_account(self, user_id: int) -> None:
        self.db.execute("DELETE FROM users WHERE id = ?", (user_id,))

    def end_sessions_of(self, user_id: int, now: int) -> int:
        self.db.execute("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", (now, user_id))
        return self.db.connection.changes()

    def revoke_tokens_of(self, user_id: int, now: int) -> int:
        self.db.execute("UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", (now, user_id))
        return self.db.connection.changes()

    def user_by_name(self, username: str) -> tuple[int, str, str] | None:
        return self.db.row("SELECT id, username, password_hash FROM users WHERE username = ?", (username,))

    def username(self, user_id: int) -> str | None:
        return self.db.scalar("SELECT username FROM users WHERE id = ?", (user_id,))

    def set_password(self, user_id: int, password_hash: str) -> None:
        self.db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))

    # invites
    def add_invite(
        self, code_hash: bytes, prefix: str, role: str, note: str, created_by: int | None, now: int, expires_at: int
    ) -> int:
        return self.db.query(
            "INSERT INTO invites(code_hash, prefix, role, note, created_by, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (code_hash, prefix, role, note, created_by, now, expires_at),
        )[0][0]

    def invite_by_hash(self, code_hash: bytes) -> InviteRow | None:
        return self.db.row(f"SELECT {_INVITE_COLUMNS} FROM invites WHERE code_hash = ?", (code_hash,), InviteRow)

    def invites(self) -> list[InviteRow]:
        return [InviteRow(*r) for r in self.db.query(f"SELECT {_INVITE_COLUMNS} FROM invites ORDER BY id DESC")]

    def use_invite(self, invite_id: int, user_id: int, now: int) -> bool:
        """Marks it used, once: False when it was used or revoked meanwhile."""
        self.db.execute(
            "UPDATE invites SET used_at = ?, used_by = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL",
            (now, user_id, invite_id),
        )
        return self.db.connection.changes() > 0

    def revoke_invite(self, invite_id: int, now: int) -> bool:
        self.db.execute(
            "UPDATE invites SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL AND used_at IS NULL",
            (now, invite_id),
        )
        return self.db.connection.changes() > 0

    # API tokens
    def add_token(
        self,
        name: str,
        token_hash: bytes,
        prefix: str,
        scope: str,
        now: int,
        expires_at: int | None,
        user_id: int | None = None,
    ) -> int:
        return self.db.query(
            "INSERT INTO api_tokens(name, token_hash, prefix, scope, created_at, expires_at, user_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (name, token_hash, prefix, scope, now, expires_at, user_id),
        )[0][0]

    def token_by_hash(self, token_hash: bytes) -> ApiTokenRow | None:
        return self.db.row(f"SELECT {_TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = ?", (token_hash,), ApiTokenRow)

    def tokens(self) -> list[ApiTokenRow]:
        return [ApiTokenRow(*r) for r in self.db.query(f"SELECT {_TOKEN_COLUMNS} FROM api_tokens ORDER BY id")]

    def revoke_token(self, token_id: int, now: int) -> bool:
        self.db.execute("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now, token_id))
        return self.db.connection.changes() > 0

    def touch_token(self, token_id: int, now: int) -> None:
        self.db.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (now, token_id))

    # sessions
    def add_session(
        self,
        user_id: int,
        session_hash: bytes,
        csrf_hash: bytes,
        now: int,
        expires_at: int,
        user_agent: str,
        address: str,
    ) -> int:
        return self.db.query(
            "INSERT INTO sessions(user_id, session_hash, csrf_hash, created_at, expires_at, last_seen_at, user_agent, "
            "address) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (user_id, session_hash, csrf_hash, now, expires_at, now, user_agent[:300], address[:100]),
        )[0][0]

    def session_by_hash(self, session_hash: bytes) -> SessionRow | None:
        return self.db.row(
            f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE session_hash = ?", (session_hash,), SessionRow
        )

    def sessions(self) -> list[SessionRow]:
        return [
            SessionRow(*r)
            for r in self.db.query(f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE revoked_at IS NULL ORDER BY id")
        ]

    def revoke_session(self, session_id: int, now: int) -> bool:
        self.db.execute("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now, session_id))
        return self.db.connection.changes() > 0

    def touch_session(self, session_id: int, now: int, expires_at: int) -> None:
        self.db.execute(
            "UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id = ?", (now, expires_at, session_id)
        )

    # shares
    def add_share(
        self,
        token_hash: bytes,
        prefix: str,
        scope_type: str,
        scope_id: int | None,
        picture_ids: str,
        title: str,
        options: str,
        now: int,
        expires_at: int | None,
        owner: tuple[str, int] | None = None,
    ) -> int:
        owner_kind, owner_id = owner or (None, None)
        return self.db.query(
            "INSERT INTO shares(token_hash, prefix, scope_type, scope_id, picture_ids, title, options, created_at, "
            "expires_at, owner_kind, owner_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                token_hash,
                prefix,
                scope_type,
                scope_id,
                picture_ids,
                title,
                options,
                now,
                expires_at,
                owner_kind,
                owner_id,
            ),
        )[0][0]

    def set_share_owner(self, share_id: int, owner: tuple[str, int] | None) -> bool:
        kind, owner_id = owner or (None, None)
        self.db.execute("UPDATE shares SET owner_kind = ?, owner_id = ? WHERE id = ?", (kind, owner_id, share_id))
        return self.db.connection.changes() > 0

    def token_active(self, token_id: int, now: int) -> bool:
        """Neither revoked nor expired, and its account (if it names one) not disabled."""
        row = self.db.row(
            "SELECT t.revoked_at, t.expires_at, u.disabled_at FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id "
            "WHERE t.id = ?",
            (token_id,),
        )
        return row is not None and row[0] is None and (row[1] is None or row[1] > now) and row[2] is None

    def token_user(self, token_id: int) -> int | None:
        """The account a token acts for (None: no account named, the owner's)."""
        return self.db.scalar("SELECT user_id FROM api_tokens WHERE id = ?", (token_id,))

    def user_active(self, user_id: int) -> bool:
        """The account exists and is not disabled."""
        return self.db.scalar("SELECT 1 FROM users WHERE id = ? AND disabled_at IS NULL", (user_id,)) is not None

    def share_by_hash(self, token_hash: bytes) -> ShareRow | None:
        return self.db.row(f"SELECT {_SHARE_COLUMNS} FROM shares WHERE token_hash = ?", (token_hash,), ShareRow)

    def share(self, share_id: int) -> ShareRow | None:
        return self.db.row(f"SELECT {_SHARE_COLUMNS} FROM shares WHERE id = ?", (share_id,), ShareRow)

    def shares(self) -> list[ShareRow]:
        return [ShareRow(*r) for r in self.db.query(f"SELECT {_SHARE_COLUMNS} FROM shares ORDER BY id DESC")]

    def revoke_share(self, share_id: int, now: int) -> bool:
        self.db.execute("UPDATE shares SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now, share_id))
        return self.db.connection.changes() > 0

    def touch_share(self, share_id: int, now: int) -> None:
        self.db.execute("UPDATE shares SET last_used_at = ? WHERE id = ?", (now, share_id))
