"""``pixlstash user``: one owner per library (a second one is refused, as the web setup refuses it, unless
replaced on purpose), and a password read from a terminal or standard input, with one clear line when
there is neither."""

from __future__ import annotations

import subprocess

import pytest
from conftest import run_cli

from pixlstash.auth import Authenticator, Unauthenticated


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, input=stdin if stdin is not None else "", check=False)


def test_one_owner_per_library_and_passwords_from_stdin(tmp_path):
    root = str(tmp_path / "lib")
    made = cli("user", "create", "alice", "--password-stdin", "--library", root, stdin="correct horse\n")
    assert made.returncode == 0 and "created owner alice" in made.stdout
    auth = Authenticator(tmp_path / "lib")
    alice_session = auth.login("alice", "correct horse", "127.0.0.1")
    auth.close()

    second = cli("user", "create", "bob", "--password-stdin", "--library", root, stdin="battery staple\n")
    assert second.returncode == 1 and "has an owner already (alice)" in second.stderr
    assert "--replace" in second.stderr and "Traceback" not in second.stderr

    no_terminal = cli("user", "create", "bob", "--library", root)  # stdin is not a terminal: no prompt
    assert no_terminal.returncode == 1 and "--password-stdin" in no_terminal.stderr
    assert "Traceback" not in no_terminal.stderr and "termios" not in no_terminal.stderr
    empty = cli("user", "create", "bob", "--password-stdin", "--replace", "--library", root, stdin="")
    assert empty.returncode == 1 and "no password" in empty.stderr

    replaced = cli(
        "user", "create", "bob", "--replace", "--password-stdin", "--library", root, stdin="battery staple\n"
    )
    assert replaced.returncode == 0 and "previous owner is replaced" in replaced.stdout
    auth = Authenticator(tmp_path / "lib")
    try:
        assert auth.store.user_count() == 1 and auth.store.owner_name() == "bob"
        with pytest.raises(Unauthenticated):  # the old owner's browser sessions ended with it
            auth.session(alice_session.secret)
        auth.login("bob", "battery staple", "127.0.0.1")
    finally:
        auth.close()
