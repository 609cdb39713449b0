"""The SQL of sign-in through an OpenID provider, in ``auth.db``: which provider subject is which account,
and the sign-ins begun but not yet finished (``pixlstash.sign_in.oidc``)."""

from __future__ import annotations

import msgspec

from .database import Database

__all__ = ["AUTH_V5", "OidcLinkRow", "OidcStore", "PendingRow"]

# A subject is the provider's own unchanging id of a person (OpenID Connect Core 1.0, section 2): with the
# issuer it names one person for good, where a name or an e-mail address can change hands. A pending
# sign-in keeps what the browser's return is checked against: the state's digest, the digest of the
# browser's own cookie, the nonce and the PKCE verifier; each is taken (deleted) once.
AUTH_V5 = """
CREATE TABLE oidc_links (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX oidc_links_user ON oidc_links(user_id);
CREATE TABLE oidc_pending (
    state_hash BLOB PRIMARY KEY,
    browser_hash BLOB NOT NULL,
    nonce TEXT NOT NULL,
    verifier TEXT NOT NULL,
    next TEXT NOT NULL,
    link_user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,  -- a signed-in person linking their account
    created_at INTEGER NOT NULL
);
"""


class OidcLinkRow(msgspec.Struct, frozen=True):
    issuer: str
    subject: str
    user_id: int
    created_at: int
    last_used_at: int | None


class PendingRow(msgspec.Struct, frozen=True):
    browser_hash: bytes
    nonce: str
    verifier: str
    next: str
    link_user_id: int | None
    created_at: int


class OidcStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add_pending(self, state_hash: bytes, row: PendingRow) -> None:
        self.db.execute(
            "INSERT INTO oidc_pending(state_hash, browser_hash, nonce, verifier, next, link_user_id, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (state_hash, *msgspec.structs.astuple(row)),
        )

    def take_pending(self, state_hash: bytes) -> PendingRow | None:
        """The pending sign-in of this state, deleted in the same statement: a state is good once."""
        return self.db.row(
            "DELETE FROM oidc_pending WHERE state_hash = ? "
            "RETURNING browser_hash, nonce, verifier, next, link_user_id, created_at",
            (state_hash,),
            PendingRow,
        )

    def forget_pending_before(self, when: int) -> None:
        self.db.execute("DELETE FROM oidc_pending WHERE created_at < ?", (when,))

    def pending_count(self) -> int:
        return self.db.scalar("SELECT count(*) FROM oidc_pending") or 0

    def linked_user(self, issuer: str, subject: str) -> int | None:
        return self.db.scalar("SELECT user_id FROM oidc_links WHERE issuer = ? AND subject = ?", (issuer, subject))

    def link(self, issuer: str, subject: str, user_id: int, now: int) -> None:
        self.db.execute(
            "INSERT INTO oidc_links(issuer, subject, user_id, created_at) VALUES (?, ?, ?, ?)",
            (issuer, subject, user_id, now),
        )

    def touch(self, issuer: str, subject: str, now: int) -> None:
        self.db.execute(
            "UPDATE oidc_links SET last_used_at = ? WHERE issuer = ? AND subject = ?", (now, issuer, subject)
        )

    def unlink(self, user_id: int) -> int:
        self.db.execute("DELETE FROM oidc_links WHERE user_id = ?", (user_id,))
        return self.db.connection.changes()

    def links(self) -> list[OidcLinkRow]:
        query = "SELECT issuer, subject, user_id, created_at, last_used_at FROM oidc_links ORDER BY user_id, issuer"
        return [OidcLinkRow(*r) for r in self.db.query(query)]
