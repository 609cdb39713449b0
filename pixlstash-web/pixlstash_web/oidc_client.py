"""OpenID Connect, the protocol (Authlib is the client): the provider's discovery document and keys, the
authorization request (code flow with PKCE, state and nonce), the code exchange, and the ID token's checks.

What is checked, and why each:
- the discovery document's ``issuer`` is exactly the one configured (a mix-up otherwise), and so is the
  ``iss`` the provider adds to its redirect (RFC 9207) where it adds one;
- the ID token's signature, against the provider's published keys, with only the algorithms its discovery
  lists and never ``none``; a key id not in the cached set fetches the keys once more (key rotation);
- its ``iss``, ``aud`` (must include our client id), ``azp``, ``exp``/``iat`` (two minutes of leeway),
  ``nonce`` (this sign-in's), and ``at_hash`` where present (Authlib's ``CodeIDToken``);
- user info, when fetched, names the same subject as the ID token.

Every call to the provider follows no redirect (a redirect would carry the client's credentials to
another host), times out, and reads at most 1 MiB: the provider is a peer like any other.
"""

from __future__ import annotations

import time
from typing import Any

import httpx2
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from pixlstash.auth import Unauthenticated
from pixlstash.sign_in.oidc import OidcSettings, PendingSignIn, ProviderUnreachable

__all__ = ["OidcClient"]

_READ_AT_MOST = 1 << 20
_TIMEOUT = httpx2.Timeout(10.0)
_METADATA_FOR_S = 3600.0
_LEEWAY_S = 120


class _CappedStream(httpx2.AsyncByteStream):
    def __init__(self, stream: httpx2.AsyncByteStream) -> None:
        self.stream = stream

    async def __aiter__(self):
        seen = 0
        async for chunk in self.stream:
            seen += len(chunk)
            if seen > _READ_AT_MOST:
                raise ProviderUnreachable("the identity provider sent more than 1 MiB; refused")
            yield chunk

    async def aclose(self) -> None:
        await self.stream.aclose()


class _CappedTransport(httpx2.AsyncHTTPTransport):
    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await super().handle_async_request(request)
        response.stream = _CappedStream(response.stream)  # type: ignore[arg-type]
        return response


def _client(settings: OidcSettings | None = None, **kwargs: Any) -> AsyncOAuth2Client:
    credentials = {} if settings is None else {"client_id": settings.client_id, "client_secret": settings.client_secret}
    return AsyncOAuth2Client(
        **credentials,
        code_challenge_method="S256",
        transport=_CappedTransport(),
        timeout=_TIMEOUT,
        follow_redirects=False,
        trust_env=False,  # no proxy or .netrc from the environment: the provider is the one the admin named
        **kwargs,
    )


class OidcClient:
    """One per server: caches each issuer's discovery document and keys for an hour."""

    def __init__(self) -> None:
        self._metadata: dict[str, tuple[float, dict]] = {}
        self._keys: dict[str, dict] = {}

    async def metadata(self, issuer: str) -> dict:
        cached = self._metadata.get(issuer)
        if cached and time.monotonic() - cached[0] < _METADATA_FOR_S:
            return cached[1]
        document = await self._get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
        if document.get("issuer") != issuer:
            raise ProviderUnreachable(
                f"the provider's discovery document names the issuer {document.get('issuer')!r}, not {issuer!r}"
            )
        for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(field), str):
                raise ProviderUnreachable(f"the provider's discovery document has no {field}")
        self._metadata[issuer] = (time.monotonic(), document)
        return document

    async def authorization_url(self, settings: OidcSettings, pending: PendingSignIn, redirect_uri: str) -> str:
        metadata = await self.metadata(settings.issuer)
        async with _client(settings, redirect_uri=redirect_uri, scope=settings.scopes) as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"],
                state=pending.state,
                code_verifier=pending.verifier,
                nonce=pending.nonce,
            )
        return url

    async def claims(
        self, settings: OidcSettings, code: str, verifier: str, nonce: str, redirect_uri: str, iss: str | None
    ) -> dict:
        """The person's checked claims for this authorization code (the ID token's, then user info's)."""
        if iss is not None and iss != settings.issuer:
            raise Unauthenticated("the sign-in came back from another issuer than this library's provider")
        metadata = await self.metadata(settings.issuer)
        async with _client(settings, redirect_uri=redirect_uri) as client:
            try:
                token = await client.fetch_token(
                    metadata["token_endpoint"], grant_type="authorization_code", code=code, code_verifier=verifier
                )
            except (httpx2.HTTPError, ValueError) as exc:
                raise ProviderUnreachable(f"the identity provider could not be asked: {exc}") from None
            except Exception as exc:  # Authlib's OAuthError: the provider refused the code
                raise Unauthenticated(f"the identity provider refused this sign-in: {exc}") from None
            claims = await self._id_token_claims(settings, metadata, token, nonce)
            if metadata.get("userinfo_endpoint") and token.get("access_token"):
                info = await self._get_json(metadata["userinfo_endpoint"], client)
                if info.get("sub") != claims["sub"]:
                    raise Unauthenticated("the provider's user info names another person than its ID token")
                claims = {**info, **claims}
        return claims

    async def _id_token_claims(self, settings: OidcSettings, metadata: dict, token: dict, nonce: str) -> dict:
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise Unauthenticated("the identity provider sent no ID token")
        algorithms = [a for a in metadata.get("id_token_signing_alg_values_supported") or ["RS256"] if a != "none"]
        registry = JWSRegistry(algorithms=algorithms)
        try:
            try:
                decoded = jwt.decode(id_token, KeySet.import_key_set(await self._key_set(metadata)), registry=registry)
            except InvalidKeyIdError:  # the provider rotated its keys since they were fetched
                keys = await self._key_set(metadata, fresh=True)
                decoded = jwt.decode(id_token, KeySet.import_key_set(keys), registry=registry)
            options = {
                "iss": {"essential": True, "value": settings.issuer},
                "aud": {"essential": True, "value": settings.client_id},
                "sub": {"essential": True},
            }
            params = {"nonce": nonce, "client_id": settings.client_id, "access_token": token.get("access_token")}
            checked = CodeIDToken(decoded.claims, decoded.header, options, params)
            checked.validate(leeway=_LEEWAY_S)
        except (JoseError, ValueError) as exc:
            raise Unauthenticated(f"the ID token failed its checks: {exc}") from None
        return dict(checked)

    async def _key_set(self, metadata: dict, fresh: bool = False) -> dict:
        uri = metadata["jwks_uri"]
        if fresh or uri not in self._keys:
            self._keys[uri] = await self._get_json(uri)
        return self._keys[uri]

    @staticmethod
    async def _get_json(url: str, client: AsyncOAuth2Client | None = None) -> dict:
        try:
            if client is None:
                async with _client() as own:
                    response = await own.request("GET", url, withhold_token=True)
            else:
                response = await client.get(url)
            response.raise_for_status()
            document = response.json()
        except (httpx2.HTTPError, ValueError) as exc:
            raise ProviderUnreachable(f"the identity provider could not be asked ({url}): {exc}") from None
        if not isinstance(document, dict):
            raise ProviderUnreachable(f"the identity provider answered {url} with no JSON object")
        return document
