"""Whether an address is this machine (loopback): what the core, the web server and plugins decide by when
something may go out of the machine (an identity provider over plain HTTP, pictures sent to a vision
server) or came from it (first-run setup)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

__all__ = ["is_loopback_host", "is_loopback_url", "url_host"]


def is_loopback_host(host: str | None) -> bool:
    """``localhost``, 127.0.0.0/8 or ::1 (brackets allowed, as in a URL's authority); any other name is not,
    whatever it resolves to: a name's answer can change between the check and the connection."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_host(url: str) -> str | None:
    """The URL's host, or None when it has none or its authority could be read two ways. Python's
    ``urlsplit`` reads ``http://[::1].example/`` as the host ``::1`` where an HTTP client may not: a check
    made on one reading and a connection made on the other is how a loopback-only rule is got round."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return None
    host = parts.hostname
    if not host:
        return None
    authority = parts.netloc.rpartition("@")[2].lower()
    if authority not in (host, f"{host}:{parts.port}", f"[{host}]", f"[{host}]:{parts.port}"):
        return None
    return host


def is_loopback_url(url: str) -> bool:
    """Whether the URL names this machine (``is_loopback_host``), read one way only (``url_host``)."""
    return is_loopback_host(url_host(url))
