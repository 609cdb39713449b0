"""First-run setup refuses DNS rebinding; sign-in limits hold against forged addresses and concurrency;
a flood of sign-ins never stalls other requests; share links are built from the server's own address."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from live_server import LiveServer

from pixlstash.instance import InstanceOptions
from pixlstash_web.app import WebSettings

SETTINGS = WebSettings(services=InstanceOptions(watch_folders=False, snapshot_schedule=False, enrichment=False))
WRONG = {"username": "owner", "password": "not the password"}


def test_setup_refuses_a_rebound_host_name(library):
    with LiveServer(library, SETTINGS) as server, httpx.Client(base_url=server.url) as http:
        body = {"username": "owner", "password": "correct horse battery"}
        rebound = http.post(
            "/api/v1/setup",
            json=body,
            headers={"Host": "rebind.attacker.example", "Origin": "http://rebind.attacker.example"},
        )
        assert rebound.status_code == 403 and server.state.auth.needs_setup
        assert http.post("/api/v1/setup", json=body).status_code == 201


def test_forged_forwarded_addresses_do_not_dodge_the_limit(library):
    with LiveServer(library, SETTINGS) as server, httpx.Client(base_url=server.url) as http:
        server.state.auth.create_user("owner", "correct horse battery")
        codes = [
            http.post("/api/v1/auth/login", json=WRONG, headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
            for n in range(40)
        ]
        assert codes[:10] == [401] * 10 and set(codes[10:]) == {429}


def test_concurrent_wrong_sign_ins_get_exactly_the_allowed_password_checks(library):
    with LiveServer(library, SETTINGS) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        server.state.auth.create_user("owner", "correct horse battery")
        with ThreadPoolExecutor(60) as pool:
            codes = list(pool.map(lambda _: http.post("/api/v1/auth/login", json=WRONG).status_code, range(60)))
        assert codes.count(401) == 10 and codes.count(429) == 50


def test_a_flood_of_sign_ins_does_not_stall_other_requests(library):
    # Behind a (trusted) proxy every sign-in comes from another address, so each one is really checked.
    with (
        LiveServer(library, SETTINGS, forwarded_allow_ips="127.0.0.1") as server,
        httpx.Client(base_url=server.url, timeout=120) as http,
    ):
        server.state.auth.create_user("owner", "correct horse battery")
        token = server.token("read")
        started = threading.Event()

        def sign_in(n: int) -> int:
            started.set()
            return http.post(
                "/api/v1/auth/login", json=WRONG, headers={"X-Forwarded-For": f"10.9.{n // 250}.{n % 250}"}
            ).status_code

        with ThreadPoolExecutor(100) as pool:
            flood = [pool.submit(sign_in, n) for n in range(100)]
            started.wait()
            time.sleep(0.3)
            waits = []
            for _ in range(5):
                begun = time.perf_counter()
                assert (
                    http.get("/api/v1/pictures/count", headers={"Authorization": f"Bearer {token}"}).status_code == 200
                )
                waits.append(time.perf_counter() - begun)
            codes = [f.result() for f in flood]
        assert max(waits) < 1.0, waits
        assert set(codes) <= {401, 429} and codes.count(401) >= 2


def test_share_links_use_the_servers_own_address_not_the_host_header(library, tmp_path):
    from live_server import make_pictures

    ids = make_pictures(library, tmp_path / "p", 1)
    with LiveServer(library, SETTINGS) as server, server.client(server.token("write")) as http:
        created = http.post(
            "/api/v1/shares", json={"scope_type": "pictures", "picture_ids": ids}, headers={"Host": "evil.example"}
        ).json()
        assert created["url"] == f"{server.url}/s/{created['token']}"
    public = WebSettings(
        public_url="https://photos.example.org/",
        services=InstanceOptions(watch_folders=False, snapshot_schedule=False, enrichment=False),
    )
    with LiveServer(library, public) as server, server.client(server.token("write")) as http:
        created = http.post("/api/v1/shares", json={"scope_type": "pictures", "picture_ids": ids}).json()
        assert created["url"] == f"https://photos.example.org/s/{created['token']}"
