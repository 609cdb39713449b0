"""A real OpenID provider for the sign-in tests: oidc-provider (tests/oidc_provider/provider.mjs) on Node,
behind a forwarding proxy on 127.0.0.1 that can play the attacker on the provider's answers (an ID token
re-signed with another key, or with ``alg: none``, one issued to another client, a redirect elsewhere).

The provider knows itself by the proxy's URL, so everything it issues names the proxy as its issuer.
``round_trip`` is a person at the provider's own development sign-in pages: it follows the redirects,
fills in the login (any name signs in as that person) and consents, and stops at the redirect back to the
client, which it returns for the test to follow, or tamper with.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import re
import secrets
import subprocess
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode, urljoin

import httpx

PROVIDER_DIR = Path(__file__).parent / "oidc_provider"
CLIENT_ID, CLIENT_SECRET = "pixlstash", "pixlstash-client-secret-for-tests-only"
OTHER_ID, OTHER_SECRET = "another-app", "another-app-secret-for-tests-only"
OTHER_REDIRECT = "http://127.0.0.1:9/callback"  # never followed


class _Forward(BaseHTTPRequestHandler):
    server: _Proxy

    def log_message(self, *args) -> None:
        pass

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        proxy = self.server
        if self.path.startswith("/token") and proxy.token_redirect_to:
            self.send_response(307)
            self.send_header("Location", proxy.token_redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        upstream = http.client.HTTPConnection("127.0.0.1", proxy.provider_port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        headers["Host"] = f"127.0.0.1:{proxy.server_port}"
        upstream.request(self.command, self.path, body=body or None, headers=headers)
        answer = upstream.getresponse()
        content = answer.read()
        if self.path.startswith("/token") and answer.status == 200 and proxy.tamper is not None:
            content = json.dumps(proxy.tamper(json.loads(content))).encode()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "keep-alive"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)
        upstream.close()

    do_GET = do_POST = _forward


class _Proxy(ThreadingHTTPServer):
    daemon_threads = True
    provider_port = 0
    tamper: Callable[[dict], dict] | None = None
    token_redirect_to: str | None = None


class OpenIdProvider:
    def __init__(self, redirect_uri: str) -> None:
        self.redirect_uri = redirect_uri
        self.proxy = _Proxy(("127.0.0.1", 0), _Forward)
        self.issuer = f"http://127.0.0.1:{self.proxy.server_port}"

    def __enter__(self) -> OpenIdProvider:
        clients = [
            {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [self.redirect_uri]},
            {"client_id": OTHER_ID, "client_secret": OTHER_SECRET, "redirect_uris": [OTHER_REDIRECT]},
        ]
        self.process = subprocess.Popen(
            ["node", "provider.mjs", json.dumps(clients), self.issuer],
            cwd=PROVIDER_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.process.stdout.readline()  # one line once it listens; empty if it died
        if not line:
            raise RuntimeError(f"the OpenID provider did not start (exit {self.process.wait()})")
        self.proxy.provider_port = json.loads(line)["port"]
        threading.Thread(target=self.proxy.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.proxy.shutdown()
        self.proxy.server_close()
        self.process.terminate()
        self.process.wait(10)

    # -- a person at the provider ---------------------------------------------------------------------

    def round_trip(self, browser: httpx.Client, url: str, login: str) -> str:
        """Follow ``url`` through the provider's sign-in and consent pages; returns the redirect back."""
        for _ in range(20):
            if not url.startswith(self.issuer):
                return url
            response = browser.get(url)
            if response.is_redirect:
                url = urljoin(url, response.headers["location"])
                continue
            form = re.search(r'<form[^>]*action="([^"]+)"', response.text)
            prompt = re.search(r'name="prompt" value="(\w+)"', response.text)
            assert form and prompt, response.text[:500]
            fields = {"prompt": prompt.group(1)}
            if prompt.group(1) == "login":
                fields.update(login=login, password="any password")
            response = browser.post(urljoin(url, form.group(1)), data=fields)
            assert response.is_redirect, response.text[:500]
            url = urljoin(url, response.headers["location"])
        raise AssertionError("the provider's pages went round in circles")

    def token_for_another_client(self, browser: httpx.Client, login: str, nonce: str) -> dict:
        """A genuine token response, issued to another application of the same provider, for ``login``."""
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = {
            "client_id": OTHER_ID,
            "response_type": "code",
            "scope": "openid profile",
            "redirect_uri": OTHER_REDIRECT,
            "state": "x",
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        back = self.round_trip(browser, f"{self.issuer}/auth?{urlencode(query)}", login)
        code = httpx.URL(back).params["code"]
        answer = httpx.post(
            f"{self.issuer}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": OTHER_REDIRECT,
                "code_verifier": verifier,
            },
            auth=(OTHER_ID, OTHER_SECRET),
        )
        answer.raise_for_status()
        return answer.json()
