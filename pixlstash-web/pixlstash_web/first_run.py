"""First-run setup when the owner's browser is not on the server's machine (a container, a NAS).

From this machine (loopback, naming itself), setup needs nothing more, as before. From anywhere else it
needs the one-time setup code the server prints in its log when it starts without an owner, as Jupyter
and Home Assistant do: whoever can read the server's log is whoever installed it. The code is kept only
as a hash, compared in constant time, limited like sign-ins per address, and dies when the owner exists.
For unattended installs, ``PIXLSTASH_OWNER_PASSWORD_FILE`` (a Docker secret, say) creates the owner at
start instead, named by ``PIXLSTASH_OWNER_NAME`` (``owner`` by default).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from pixlstash.errors import BadInput

__all__ = ["SETUP_CODE_HEADER", "SetupCode", "first_run", "owner_from_environment"]

SETUP_CODE_HEADER = "X-Setup-Code"
_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U/V pairs to misread from a log
_GROUPS, _GROUP = 3, 4  # 12 characters: about 59 bits


def _normalised(text: str) -> bytes:
    return "".join(ch for ch in text.upper() if ch.isalnum()).encode()


class SetupCode:
    """One setup code, kept as its hash."""

    def __init__(self, code: str) -> None:
        self._digest = hashlib.sha256(_normalised(code)).digest()

    @staticmethod
    def new() -> str:
        return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(_GROUP)) for _ in range(_GROUPS))

    def matches(self, presented: str) -> bool:
        return hmac.compare_digest(hashlib.sha256(_normalised(presented[:100])).digest(), self._digest)


def owner_from_environment(environ: Mapping[str, str] = os.environ) -> tuple[str, str] | None:
    """(name, password file) from ``PIXLSTASH_OWNER_NAME`` and ``PIXLSTASH_OWNER_PASSWORD_FILE``, if set."""
    password_file = environ.get("PIXLSTASH_OWNER_PASSWORD_FILE", "").strip()
    if not password_file:
        return None
    return environ.get("PIXLSTASH_OWNER_NAME", "").strip() or "owner", password_file


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def first_run(auth, owner: tuple[str, str] | None, say: Callable[[str], None] = _say) -> SetupCode | None:
    """At start: nothing when the owner exists; the owner made from a password file when one is named;
    else a new setup code, said in the log."""
    if not auth.needs_setup:
        return None
    if owner is not None:
        name, password_file = owner
        try:
            password = Path(password_file).read_text().rstrip("\r\n")
        except OSError as error:
            raise BadInput(f"cannot read PIXLSTASH_OWNER_PASSWORD_FILE {password_file}: {error.strerror}") from None
        if len(password) < 8:
            raise BadInput(f"the owner's password in {password_file} is shorter than 8 characters")
        auth.create_user(name, password)
        say(f"created the owner account {name!r} with the password in {password_file}")
        return None
    code = SetupCode.new()
    say(
        "No owner account yet. Open PixlStash in a browser to create it: from this machine nothing more is "
        f"needed; from any other, enter the setup code {code} (it works until the owner exists)."
    )
    return SetupCode(code)
