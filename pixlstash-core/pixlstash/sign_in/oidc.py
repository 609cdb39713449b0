"""Sign-in through the household's or studio's own identity provider (OpenID Connect), the library's side:
the provider an admin chose, the sign-ins begun and not yet finished, and which of the provider's people
is which account. The protocol itself (discovery, the code exchange, checking the ID token) is the web
app's (``pixlstash_web.oidc_client``), done with Authlib.

A person is known by the provider's issuer and subject (its unchanging id of them), never by a name or an
e-mail address, which can change hands. A first sign-in by someone with no linked account makes one only
when the admin allows it (``create_accounts``), with ``default_role`` or the role the provider's claims map
to; otherwise an admin links the subject to an account (``pixlstash user link``), or the person, signed in
with a password, links their own. Such an account has no password until an admin sets one.

Each sign-in carries a random state, nonce and PKCE verifier; the state is bound to the browser that began
it (a cookie whose digest is kept here) and is good once, for ten minutes.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Literal
from urllib.parse import urlsplit

import msgspec

from ..accounts import GIVEN_ROLES, GivenRole
from ..auth import AccountDisabled, Authenticator, Forbidden, RateLimited, Unauthenticated, digest
from ..db.oidc_rows import OidcLinkRow, OidcStore, PendingRow
from ..db.secrets_db import SecretStore
from ..db.settings import SettingsStore
from ..errors import BadInput, Conflict, PixlstashError
from ..system.addresses import is_loopback_url, url_host
from ..system.clock import now_ms

__all__ = [
    "OidcSettings",
    "OidcSignIn",
    "PendingSignIn",
    "ProviderUnreachable",
    "SignInFinished",
    "check_issuer",
]

PENDING_MS = 10 * 60_000  # a sign-in not finished within ten minutes starts again
_PENDING_AT_MOST = 1000  # unfinished sign-ins kept at once: a flood of starts cannot fill auth.db
_SETTINGS_KEY = "oidc"
_SECRET_KEY = "sign-in:oidc"
_NO_PASSWORD = "!"  # no password verifies against it (auth.verify_password)
_ROLE_RANK = {"admin": 0, "member": 1, "viewer": 2}


class ProviderUnreachable(PixlstashError):
    """The identity provider did not answer, or answered what no provider should."""

    code = "provider_unreachable"


class OidcSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The identity provider this library signs people in with, as its admin registered PixlStash there."""

    issuer: str  # the provider's issuer URL, exactly as its discovery document states it
    client_id: str
    client_secret: str  # kept in secrets.db (owner-only, never in a snapshot), the rest in auth.db
    label: str = "your identity provider"  # the button reads "Sign in with <label>"
    create_accounts: bool = False  # a first sign-in with no linked account makes one
    default_role: GivenRole = "viewer"  # the role of an account made so, where no claim says otherwise
    role_claim: str | None = None  # a claim whose values give roles, e.g. "groups"
    role_values: dict[str, GivenRole] = {}  # a value of role_claim -> the role it gives, e.g. pixl-admins: admin
    scopes: str = "openid profile email"


class PendingSignIn(msgspec.Struct, frozen=True):
    """The secrets of one sign-in begun: ``state`` and ``nonce`` travel to the provider, ``verifier`` is the
    PKCE secret whose digest does, ``browser`` goes into the beginning browser's cookie."""

    state: str
    nonce: str
    verifier: str
    browser: str


class SignInFinished(msgspec.Struct, frozen=True):
    user_id: int
    username: str
    outcome: Literal["signed-in", "created", "linked"]


def check_issuer(issuer: str) -> str:
    """An issuer URL is https, or http on this machine's loopback (a provider beside the library, or tests):
    anything else would send the client secret and the codes in the clear."""
    parts = urlsplit(issuer)
    if parts.query or parts.fragment or not url_host(issuer):
        raise BadInput("an issuer is a URL with a host and no query or fragment, e.g. https://id.example.org")
    if parts.scheme == "https":
        return issuer
    if parts.scheme == "http" and is_loopback_url(issuer):
        return issuer
    raise BadInput(f"an issuer must use https (or http on 127.0.0.1): {issuer}")


def _safe_next(path: str) -> str:
    """Where the browser goes once signed in: a path on this server only (an open redirect otherwise)."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path or any(ord(c) < 33 for c in path):
        return "/"
    return path[:2000]


class OidcSignIn:
    def __init__(self, auth: Authenticator, secret_store: SecretStore) -> None:
        self.auth, self.db, self.secrets = auth, auth.db, secret_store
        self.store = OidcStore(auth.db)
        self._settings = SettingsStore(auth.db, "instance_settings")

    # -- the admin's choice ---------------------------------------------------------------------------

    def settings(self) -> OidcSettings | None:
        stored = self._settings.get(_SETTINGS_KEY, OidcSettings | None, None)
        if stored is None:
            return None
        return msgspec.structs.replace(stored, client_secret=self.secrets.get(_SECRET_KEY).get("client_secret", ""))

    def configure(self, settings: OidcSettings) -> OidcSettings:
        check_issuer(settings.issuer)
        if not settings.client_id.strip() or not settings.client_secret:
            raise BadInput("a client id and a client secret are needed (the provider gives both)")
        if settings.default_role not in GIVEN_ROLES or any(r not in GIVEN_ROLES for r in settings.role_values.values()):
            raise BadInput(f"a role is one of {', '.join(GIVEN_ROLES)}")
        if "openid" not in settings.scopes.split():
            raise BadInput("the scopes must include openid")
        # The secret goes to secrets.db (owner-only, never in a snapshot), the rest to auth.db.
        self.secrets.put(_SECRET_KEY, {"client_secret": settings.client_secret})
        self._settings.put(_SETTINGS_KEY, msgspec.structs.replace(settings, client_secret=""))
        return settings

    def turn_off(self) -> None:
        """No more sign-ins through the provider; links stay, for when it is turned on again."""
        self._settings.delete(_SETTINGS_KEY)
        self.secrets.put(_SECRET_KEY, {})

    def links(self) -> list[OidcLinkRow]:
        return self.store.links()

    def link(self, username: str, subject: str) -> None:
        """An admin links the provider's subject to an account (the person signs in as it from now on)."""
        settings = self._needed()
        account = self.auth.store.account_named(username.strip())
        if account is None:
            raise BadInput(f"no account named {username!r}")
        with self.db.write():
            self._link(settings.issuer, subject, account.id)

    def unlink(self, username: str) -> int:
        account = self.auth.store.account_named(username.strip())
        if account is None:
            raise BadInput(f"no account named {username!r}")
        with self.db.write():
            return self.store.unlink(account.id)

    # -- one sign-in ----------------------------------------------------------------------------------

    def begin(self, next_path: str = "/", link_user_id: int | None = None) -> tuple[OidcSettings, PendingSignIn]:
        settings = self._needed()
        pending = PendingSignIn(*(secrets.token_urlsafe(32) for _ in range(4)))
        now = now_ms()
        with self.db.write():
            self.store.forget_pending_before(now - PENDING_MS)
            if self.store.pending_count() >= _PENDING_AT_MOST:
                raise RateLimited("too many sign-ins under way; try again in a few minutes", retry_after=60)
            row = PendingRow(
                digest(pending.browser), pending.nonce, pending.verifier, _safe_next(next_path), link_user_id, now
            )
            self.store.add_pending(digest(pending.state), row)
        return settings, pending

    def take(self, state: str, browser: str | None) -> PendingRow:
        """The sign-in this state began, once, for the browser that began it, within ten minutes."""
        with self.db.write():
            row = self.store.take_pending(digest(state))
        if row is None or now_ms() - row.created_at > PENDING_MS:
            raise Unauthenticated("this sign-in is unknown, used or too old: start it again")
        if browser is None or not hmac.compare_digest(row.browser_hash, digest(browser)):
            raise Unauthenticated("this sign-in was begun in another browser: start it again here")
        return row

    def finish(self, issuer: str, claims: dict, pending: PendingRow) -> SignInFinished:
        """The account the provider's checked claims sign in as: linked, linked now, or made now."""
        settings = self._needed()
        subject = claims.get("sub")
        if not isinstance(subject, str) or not 1 <= len(subject) <= 255:
            raise Unauthenticated("the provider named no subject")
        now = now_ms()
        with self.db.write():
            user_id = self.store.linked_user(issuer, subject)
            outcome: Literal["signed-in", "created", "linked"] = "signed-in"
            if pending.link_user_id is not None:
                if user_id not in (None, pending.link_user_id):
                    raise Conflict("this person at the provider is linked to another account already")
                if user_id is None:
                    self._link(issuer, subject, pending.link_user_id)
                user_id, outcome = pending.link_user_id, "linked"
            elif user_id is None:
                if not settings.create_accounts:
                    raise Forbidden(
                        "no account here is linked to this sign-in: ask an admin to link it "
                        f"(pixlstash user link NAME {subject}) or to let new people in"
                    )
                role = self._role(settings, claims) or settings.default_role
                name = self._free_name(claims, subject)
                user_id = self.auth.add_account(name, _NO_PASSWORD, role)
                self._link(issuer, subject, user_id)
                outcome = "created"
            account = self.auth.store.account(user_id)
            if account is None or account.disabled_at is not None:
                raise AccountDisabled("this account is disabled: ask an admin of this library")
            mapped = self._role(settings, claims)
            if settings.role_claim and account.role != "owner" and outcome != "linked":
                # the provider decides the roles it is asked to; the owner's stays the owner's
                role = mapped or settings.default_role
                if role != account.role:
                    self.auth.store.set_role(user_id, role)
            self.store.touch(issuer, subject, now)
        return SignInFinished(user_id, account.username, outcome)

    # -- helpers --------------------------------------------------------------------------------------

    def _needed(self) -> OidcSettings:
        settings = self.settings()
        if settings is None:
            raise BadInput("sign-in through an identity provider is not set up (pixlstash user oidc set)")
        return settings

    def _link(self, issuer: str, subject: str, user_id: int) -> None:
        if self.store.linked_user(issuer, subject) is not None:
            raise Conflict("this person at the provider is linked to an account already")
        self.store.link(issuer, subject, user_id, now_ms())

    @staticmethod
    def _role(settings: OidcSettings, claims: dict) -> GivenRole | None:
        if not settings.role_claim:
            return None
        values = claims.get(settings.role_claim)
        values = [values] if isinstance(values, str) else values if isinstance(values, list) else []
        roles = [settings.role_values[v] for v in values if isinstance(v, str) and v in settings.role_values]
        return min(roles, key=_ROLE_RANK.__getitem__) if roles else None

    def _free_name(self, claims: dict, subject: str) -> str:
        """An account name from the provider's preferred name (or e-mail, or subject), made unique."""
        for claim in ("preferred_username", "name", "email"):
            value = claims.get(claim)
            if isinstance(value, str) and value.strip():
                base = value.strip()
                break
        else:
            base = subject
        base = "".join(ch for ch in base if ord(ch) >= 32 and ord(ch) != 127)[:90] or "person"
        name, n = base, 1
        while self.auth.store.account_named(name) is not None:
            n += 1
            name = f"{base} {n}"
        return name
