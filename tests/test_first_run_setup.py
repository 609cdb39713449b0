"""First-run setup from a browser that is not on the server's machine (a container, a NAS): the real
`pixlstash serve` prints a one-time setup code in its log; the setup page asks for it from any other
address, a wrong one is refused (and limited like sign-ins), and it dies once the owner exists. An
unattended install names the owner's password in a file instead."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import httpx
import pytest
from conftest import wait_for
from reverse_proxies import PROXIES, reverse_proxy
from serve_process import ServeProcess, free_port
from ui_support import CHROMIUM_FLAGS, chromium_path, screenshot

CODE = re.compile(r"enter the setup code ([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})")


@pytest.fixture
def serve(tmp_path):
    started: list[ServeProcess] = []

    def start(env: dict[str, str] | None = None) -> ServeProcess:
        started.append(ServeProcess(tmp_path / "lib", env))
        return started[-1]

    yield start
    for server in started:
        if server.process.poll() is None:
            server.stop()


def test_setup_from_another_machine_takes_the_code_from_the_log(serve, tmp_path):
    server = serve()
    assert any(f"serves the library at {tmp_path / 'lib'}" in line for line in server.log), server.log
    [code] = wait_for(lambda: [m.group(1) for line in server.log for m in [CODE.search(line)] if m], "the code")
    # What a browser on another machine sends: the server's name on the network, not this machine's.
    elsewhere = {"Host": f"nas.local:{server.port}"}
    body = {"username": "owner", "password": "correct horse battery"}
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", headers=elsewhere) as http:
        assert http.get("/api/v1/setup").json() == {"needs_setup": True, "needs_code": True}
        without = http.post("/api/v1/setup", json=body)
        assert without.status_code == 403 and "setup code" in without.json()["error"]["message"]
        wrong = http.post("/api/v1/setup", json=body, headers={"X-Setup-Code": "AAAA-BBBB-CCCC"})
        assert wrong.status_code == 403 and "not the setup code" in wrong.json()["error"]["message"]
        typed = code.lower().replace("-", " ")  # as a person might type it
        made = http.post("/api/v1/setup", json=body, headers={"X-Setup-Code": typed})
        assert made.status_code == 201, made.text
        assert made.json()["username"] == "owner"
        again = http.post("/api/v1/setup", json={**body, "username": "second"}, headers={"X-Setup-Code": code})
        assert again.status_code == 403  # the code died with the owner's creation
        assert http.get("/api/v1/setup").json() == {"needs_setup": False, "needs_code": False}
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}") as http:
        assert http.post("/api/v1/auth/login", json=body).status_code == 200
    server.stop()
    restarted = serve()
    assert not any(CODE.search(line) for line in restarted.log)  # an owner exists: no code is printed


@pytest.mark.parametrize("kind", PROXIES)
def test_behind_a_reverse_proxy_on_this_machine_setup_needs_the_code(serve, tmp_path, kind):
    """nginx's plain proxy_pass connects from loopback and names 127.0.0.1 as the host, with no forwarding
    header: every client on the internet used to pass for this machine and could create the owner."""
    server = serve()
    [code] = wait_for(lambda: [m.group(1) for line in server.log for m in [CODE.search(line)] if m], "the code")
    body = {"username": "owner", "password": "correct horse battery"}
    with reverse_proxy(kind, tmp_path / kind, server.port) as url, httpx.Client(base_url=url) as outside:
        assert outside.get("/api/v1/setup").json() == {"needs_setup": True, "needs_code": True}
        taken = outside.post("/api/v1/setup", json={**body, "username": "mallory"})
        assert taken.status_code == 403 and "setup code" in taken.json()["error"]["message"]
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}") as here:  # this machine, no proxy
            assert here.get("/api/v1/setup").json() == {"needs_setup": True, "needs_code": False}
        made = outside.post("/api/v1/setup", json=body, headers={"X-Setup-Code": code})
        assert made.status_code == 201, made.text
        assert made.json()["username"] == "owner"


def test_setup_from_a_rate_limited_address_makes_the_owner_and_says_so(serve, tmp_path):
    """Wrong codes sent through a proxy on this machine count against 127.0.0.1; the owner then made from
    this machine gets 201 and a session, not a 429 for an owner that was created."""
    server = serve()
    wait_for(lambda: any(CODE.search(line) for line in server.log), "the code")
    body = {"username": "owner", "password": "correct horse battery"}
    with reverse_proxy("nginx", tmp_path / "nginx", server.port) as url, httpx.Client(base_url=url) as outside:
        wrong = [
            outside.post("/api/v1/setup", json=body, headers={"X-Setup-Code": "AAAA-BBBB-CCCC"}) for _ in range(11)
        ]
    assert [answer.status_code for answer in wrong] == [403] * 10 + [429]
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}") as here:
        made = here.post("/api/v1/setup", json=body)
        assert made.status_code == 201, made.text
        assert here.get("/api/v1/auth/status").json()["signed_in"] is True


def test_wrong_codes_are_limited_like_sign_ins(serve):
    server = serve()
    wait_for(lambda: any(CODE.search(line) for line in server.log), "the code")
    body = {"username": "owner", "password": "correct horse battery"}
    headers = {"Host": f"nas.local:{server.port}", "X-Setup-Code": "AAAA-BBBB-CCCC"}
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", headers=headers) as http:
        answers = [http.post("/api/v1/setup", json=body).status_code for _ in range(11)]
    assert answers == [403] * 10 + [429]


def test_an_unattended_install_names_the_owners_password_in_a_file(serve, tmp_path):
    secret = tmp_path / "owner_password"
    secret.write_text("a secret from docker\n")
    server = serve({"PIXLSTASH_OWNER_PASSWORD_FILE": str(secret), "PIXLSTASH_OWNER_NAME": "admin"})
    assert any("created the owner account 'admin'" in line for line in server.log), server.log
    assert not any(CODE.search(line) for line in server.log)
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}") as http:
        login = http.post("/api/v1/auth/login", json={"username": "admin", "password": "a secret from docker"})
        assert login.status_code == 200
        assert http.get("/api/v1/setup").json()["needs_setup"] is False
    assert "a secret from docker" not in "".join(server.log)


def test_a_short_password_file_stops_the_start_with_one_line(tmp_path):
    secret = tmp_path / "owner_password"
    secret.write_text("short\n")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}
    environ["PIXLSTASH_OWNER_PASSWORD_FILE"] = str(secret)
    done = subprocess.run(
        [sys.executable, "-m", "pixlstash", "serve", "--library", str(tmp_path / "lib"), "--port", str(free_port())],
        env=environ, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0 and "shorter than 8 characters" in done.stderr


def test_the_setup_page_asks_a_browser_elsewhere_for_the_code(serve):
    playwright_api = pytest.importorskip("playwright.sync_api")
    server = serve()
    [code] = wait_for(lambda: [m.group(1) for line in server.log for m in [CODE.search(line)] if m], "the code")
    with playwright_api.sync_playwright() as p:
        # The browser reaches the server by a network name, as one on another machine would.
        browser = p.chromium.launch(
            executable_path=chromium_path(),
            headless=True,
            args=[*CHROMIUM_FLAGS, "--host-resolver-rules=MAP nas.local 127.0.0.1"],
        )
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(f"http://nas.local:{server.port}/")
        page.get_by_text("with the setup code the server printed in its log").wait_for()
        page.get_by_label("User name").fill("owner")
        page.get_by_label("Password").fill("correct horse battery")
        screenshot(page, "first-run-setup-code-phone")
        page.get_by_label("Setup code").fill("WRONG-CODE-0000")
        page.get_by_role("button", name="Create account").click()
        page.get_by_role("alert").filter(has_text="not the setup code").wait_for()
        page.get_by_label("Setup code").fill(code)
        page.get_by_role("button", name="Create account").click()
        page.locator("#login").wait_for(state="hidden")
        browser.close()
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}") as http:
        login = http.post("/api/v1/auth/login", json={"username": "owner", "password": "correct horse battery"})
        assert login.status_code == 200
