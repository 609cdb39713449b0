"""The container image as a self-hoster runs it (issue 46): `scripts/image --local-base` builds the cpu
variant here (no registry: a Debian base made with mmdebstrap), and a real Podman (or Docker) runs it on a
fresh volume. First-run setup with the code from the log, uploads over HTTP, a restart that keeps everything,
files owned by the image's user, the health check, a backup made with `exec`, a clean stop on SIGTERM, no
torch inside; and a volume written by the image of the previous schema opens in this one."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import uuid
from pathlib import Path

import httpx
import pytest
import zstandard
from conftest import REPO, wait_for
from corpus import photo
from serve_process import free_port

ENGINE = shutil.which("podman") or shutil.which("docker")
pytestmark = [
    pytest.mark.skipif(
        ENGINE is None or not shutil.which("mmdebstrap"),
        reason="needs Podman (or Docker) and mmdebstrap: `scripts/setup --dev` installs them",
    ),
    # Every test here on one worker: two workers each building the image doubled the disk it took.
    pytest.mark.container,
]
# Podman as root here: crun fails on these hosts' hybrid cgroups, and the default ulimits are refused.
RUN_OPTIONS = (
    ["--runtime", "runc", "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768"]
    if ENGINE and ENGINE.endswith("podman")
    else []
)
CA_FILE = "/etc/ssl/certs/ca-certificates.crt"  # this site's HTTPS goes through an inspecting proxy
CODE = re.compile(r"enter the setup code ([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})")
# The newest commit whose code wrote schema 20: the image of the version before the schema changed to 21.
SCHEMA_20_COMMIT = "8f63e4d19f1a1fc4f3c43d528562ce0207c69bed^"
# The volume that image wrote (fill_with_the_previous_image), kept by scripts/fixture_volume.py, and what is
# in it.
VOLUME_FIXTURE = REPO / "tests" / "fixtures" / "volumes" / "schema-20-image.tar.zst"
VOLUME_EXPECTED = VOLUME_FIXTURE.with_name("schema-20-image.json")
PASSWORD = "correct horse battery staple"


def engine(*args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([ENGINE, *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"{ENGINE} {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done


def build(*extra: str) -> None:
    ca = ["--ca-file", CA_FILE] if os.path.isfile(CA_FILE) else []
    done = subprocess.run(
        [str(REPO / "scripts" / "image"), "--local-base", *ca, *extra],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture(scope="module", autouse=True)
def _images_removed_afterwards():
    """Each build leaves 1-3 GB of images behind (a stage, the last image the tag named): on a machine
    that runs the suite again and again they filled the disk. The tags made here and every untagged image
    made while it ran go when the module ends; the base image stays, it is the same each time."""

    def images(*options: str) -> set[str]:
        return set(engine("images", "--quiet", "--no-trunc", *options, check=False).stdout.split())

    before = images("--all")
    yield
    engine("rmi", "--force", "localhost/pixlstash:test-cpu", check=False)
    left = images("--all") - before - images("--filter", "dangling=false")  # made here, untagged
    if left:
        engine("rmi", "--force", *sorted(left), check=False)


@pytest.fixture(scope="module")
def image() -> str:
    tag = "localhost/pixlstash:test-cpu"
    build("--variant", "cpu", "--tag", tag)
    return tag


class Container:
    """One container of the image on a named volume, reached at 127.0.0.1:<port>."""

    def __init__(self, image: str, volume: str, command: tuple[str, ...] = (), backups: str | None = None) -> None:
        self.name = f"pixlstash-test-{uuid.uuid4().hex[:8]}"
        self.port = free_port()
        engine(
            "run", "-d", "--name", self.name, *RUN_OPTIONS,
            "-p", f"127.0.0.1:{self.port}:9537", "-v", f"{volume}:/library",
            *(["-v", f"{backups}:/backups"] if backups else []), image, *command,
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}"
        self.wait_healthy()

    def wait_healthy(self) -> None:
        def healthy() -> bool:
            try:
                # /version, not /health: an image from before the health route must answer too.
                return httpx.get(f"{self.url}/api/v1/version", timeout=5).status_code == 200
            except httpx.HTTPError:
                running = engine("inspect", "--format", "{{.State.Running}}", self.name).stdout.strip()
                assert running == "true", f"the container stopped: {self.logs()[-3000:]}"
                return False

        wait_for(healthy, "the server in the container to answer", timeout=300)

    def logs(self) -> str:
        done = engine("logs", self.name)
        return done.stdout + done.stderr

    def exec(self, *command: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ENGINE, "exec", *(["-i"] if stdin is not None else []), self.name, *command],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=600,
        )

    def stop(self) -> int:
        """SIGTERM, then SIGKILL after 10 s: the exit status says which ended it (137 is the kill)."""
        engine("stop", "--time", "10", self.name)
        return int(engine("inspect", "--format", "{{.State.ExitCode}}", self.name).stdout.strip())

    def start(self) -> None:
        engine("start", self.name)
        self.wait_healthy()

    def remove(self) -> None:
        engine("rm", "--force", "--volumes", self.name, check=False)  # and /models' anonymous volume


@pytest.fixture
def volume():
    name = f"pixlstash-test-{uuid.uuid4().hex[:8]}"
    engine("volume", "create", name)
    made: list[Container] = []
    yield name, made
    for thing in made:
        if isinstance(thing, Container):
            thing.remove()
    for thing in made:
        if isinstance(thing, str):
            engine("volume", "rm", "--force", thing, check=False)
    engine("volume", "rm", "--force", name, check=False)


def _png(seed: int) -> bytes:
    buffer = io.BytesIO()
    photo(96, 64, seed=seed).save(buffer, "PNG")
    return buffer.getvalue()


def _count(url: str, token: str) -> int:
    answer = httpx.get(f"{url}/api/v1/pictures/count", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["count"]


def test_the_image_sets_up_keeps_backs_up_and_stops(image, volume):
    name, made = volume
    backups = f"{name}-backups"
    engine("volume", "create", backups)
    made.append(backups)  # removed with the rest
    container = Container(image, name, backups=backups)
    made.append(container)
    code = wait_for(lambda: CODE.search(container.logs()), "the setup code in the log").group(1)
    body = {"username": "owner", "password": PASSWORD}
    # From the host, the server sees the bridge's address, not loopback: the code is needed.
    refused = httpx.post(f"{container.url}/api/v1/setup", json=body, timeout=30)
    assert refused.status_code == 403 and "setup code" in refused.json()["error"]["message"]
    made_owner = httpx.post(f"{container.url}/api/v1/setup", json=body, headers={"X-Setup-Code": code}, timeout=30)
    assert made_owner.status_code == 201, made_owner.text
    with httpx.Client(base_url=container.url, timeout=60) as browser:
        signed_in = browser.post("/api/v1/auth/login", json=body)
        assert signed_in.status_code == 200, signed_in.text
        created = browser.post(
            "/api/v1/tokens",
            json={"name": "script", "scope": "admin"},
            headers={"X-CSRF-Token": signed_in.json()["csrf_token"]},
        )
        assert created.status_code == 201, created.text
        token = created.json()["token"]
    files = [("file", (f"render-{n}.png", _png(n), "image/png")) for n in range(3)]
    uploaded = httpx.post(
        f"{container.url}/api/v1/uploads", files=files, headers={"Authorization": f"Bearer {token}"}, timeout=120
    )
    assert uploaded.status_code in (200, 201), uploaded.text
    wait_for(lambda: _count(container.url, token) == 3, "the three uploads in the library")

    health = httpx.get(f"{container.url}/api/v1/health", timeout=30)
    assert health.status_code == 200 and health.json()["library_open"] is True
    if ENGINE.endswith("podman"):  # the image's own HEALTHCHECK, run as the engine runs it
        assert engine("healthcheck", "run", container.name, check=False).returncode == 0
    # The CA bundle given to the build as a secret was mounted only while pip ran: it is not in the image.
    assert container.exec("test", "-e", "/run/secrets/ca").returncode != 0
    no_torch = container.exec("python3", "-c", "import torch")
    assert no_torch.returncode != 0 and "No module named 'torch'" in no_torch.stderr
    backup = container.exec("pixlstash", "backup", "create", "/backups/first")
    assert backup.returncode == 0, backup.stderr
    verified = container.exec("pixlstash", "backup", "verify", "/backups/first")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    # Every file the server and the backup wrote on the volume belongs to the image's user, not root.
    owners = container.exec("find", "/library", "/backups", "-printf", "%u:%g %p\n")
    assert owners.returncode == 0 and "library.db" in owners.stdout, owners.stderr
    assert {line.split(" ", 1)[0] for line in owners.stdout.splitlines()} == {"pixlstash:pixlstash"}
    assert container.exec("id", "-u").stdout.strip() == "1000"

    assert container.stop() == 0  # stopped by SIGTERM within the 10 s before the kill (which exits 137)
    logs = container.logs()
    assert "Shutting down" in logs and "Finished server process" in logs
    container.start()
    assert _count(container.url, token) == 3  # the token, the owner and the pictures outlived the restart
    with httpx.Client(base_url=container.url, timeout=60) as browser:
        assert browser.post("/api/v1/auth/login", json=body).status_code == 200
    assert CODE.search(container.logs().split("Finished server process")[-1]) is None  # no code once set up


def _old_tree(commit: str, into: Path) -> Path:
    """The repository at ``commit`` (from git), with this checkout's image recipe beside it."""
    archive = subprocess.run(["git", "archive", commit], cwd=REPO, capture_output=True, timeout=300)
    if archive.returncode != 0:
        raise RuntimeError(f"git archive {commit} failed (a shallow clone?): {archive.stderr.decode()[-500:]}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    shutil.copytree(REPO / "container", into / "container", dirs_exist_ok=True)
    shutil.copy(REPO / ".dockerignore", into / ".dockerignore")
    return into


def fill_with_the_previous_image(volume: str, made: list, scratch: Path) -> dict:
    """Build the image of the version before schema 21 and let it write ``volume``: an owner, two pictures
    imported with its CLI, a read token. What a newer image must find there is returned.
    scripts/fixture_volume.py runs this once and keeps the volume (tests/fixtures/volumes/): that image
    never changes, and building it took 100-120 s of every CI run."""
    old_image = "localhost/pixlstash:test-schema20"
    build("--variant", "cpu", "--tag", old_image, "--context", str(_old_tree(SCHEMA_20_COMMIT, scratch / "old")))
    old = Container(old_image, volume, ("pixlstash", "serve", "--host", "0.0.0.0"))  # it had no PIXLSTASH_HOST
    made.append(old)
    made_owner = old.exec("pixlstash", "user", "create", "owner", "--password-stdin", stdin=PASSWORD + "\n")
    assert made_owner.returncode == 0, made_owner.stderr
    pictures = scratch / "pictures"
    pictures.mkdir()
    for n in range(2):
        (pictures / f"old-{n}.png").write_bytes(_png(10 + n))
    engine("cp", str(pictures), f"{old.name}:/tmp/pictures")
    imported = old.exec("pixlstash", "import", "/tmp/pictures")
    assert imported.returncode == 0, imported.stderr
    token = old.exec("pixlstash", "token", "create", "--name", "old", "--scope", "read", "--json")
    assert token.returncode == 0, token.stderr
    secret = re.search(r'"token"\s*:\s*"([^"]+)"', token.stdout).group(1)
    assert _count(old.url, secret) == 2
    schema = (
        "import sqlite3; print(sqlite3.connect('/library/library.db').execute('PRAGMA user_version').fetchone()[0])"
    )
    assert old.exec("python3", "-c", schema).stdout.strip() == "20"  # the old version wrote schema 20
    assert old.stop() == 0
    old.remove()
    engine("rmi", "--force", old_image, check=False)
    return {"schema": 20, "pictures": 2, "owner": "owner", "password": PASSWORD, "token": secret}


def volume_tar(image: str, volume: str) -> bytes:
    """The volume's files as a tar, owners by number (read in a container of ``image``, as root)."""
    done = subprocess.run(
        [ENGINE, "run", "--rm", *RUN_OPTIONS, "--user", "0", "-v", f"{volume}:/library", image,
         "tar", "--numeric-owner", "-C", "/library", "-cf", "-", "."],
        capture_output=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return done.stdout


def _volume_from_tar(image: str, volume: str, tar: bytes) -> None:
    done = subprocess.run(
        [ENGINE, "run", "--rm", "-i", *RUN_OPTIONS, "--user", "0", "-v", f"{volume}:/library", image,
         "tar", "--numeric-owner", "--same-owner", "-C", "/library", "-xpf", "-"],
        input=tar, capture_output=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-2000:]


def test_a_volume_of_the_previous_schema_opens_in_this_image(image, volume):
    """The volume the image of schema 20 wrote (scripts/fixture_volume.py keeps it) opens in this image:
    upgraded on opening, its pictures, its owner's password and its token all there, its files still the
    server's user's."""
    name, made = volume
    kept = VOLUME_FIXTURE.read_bytes()
    _volume_from_tar(image, name, zstandard.ZstdDecompressor().decompressobj().decompress(kept))
    expected = json.loads(VOLUME_EXPECTED.read_text())
    secret = expected["token"]

    new = Container(image, name)
    made.append(new)
    system = httpx.get(f"{new.url}/api/v1/system", headers={"Authorization": f"Bearer {secret}"}, timeout=30)
    assert system.status_code == 200, system.text
    assert system.json()["library_schema"] == system.json()["schema"] > expected["schema"]  # upgraded on opening
    assert _count(new.url, secret) == expected["pictures"]  # the pictures and the old version's token are there
    with httpx.Client(base_url=new.url, timeout=60) as browser:
        login = {"username": expected["owner"], "password": expected["password"]}
        assert browser.post("/api/v1/auth/login", json=login).status_code == 200
    owners = new.exec("find", "/library", "-not", "-user", "pixlstash")
    assert owners.returncode == 0 and owners.stdout == "", owners.stdout  # the upgrade left nothing root's


def _compose(folder: Path, env: dict[str, str], *args: str) -> str:
    """podman-compose ARGS in ``folder``, as a person types it there; its output (podman-compose 1.0 exits 0
    whatever happened and prints "exit code: N" for what it ran)."""
    done = subprocess.run(["podman-compose", *args], cwd=folder, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout + done.stderr


@pytest.mark.skipif(not shutil.which("podman-compose"), reason="needs podman-compose (scripts/setup --dev installs it)")
def test_the_readmes_compose_lines_run_as_written_and_a_backup_outlives_an_upgrade(image, tmp_path):
    """The README's lines for Debian 12's podman-compose 1.0, in a folder holding compose.yaml (its name is
    the project's): up, a backup with exec, the upgrade that recreates the container, the backup still
    there. A backup inside the container itself is refused: the upgrade would take it away."""
    folder = tmp_path / f"pixlstash-test-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    shutil.copy(REPO / "compose.yaml", folder / "compose.yaml")
    port = free_port()
    # The image built here has its own tag; another port, as the README says, when 9537 is taken.
    env = {**os.environ, "PIXLSTASH_IMAGE": image, "PIXLSTASH_HOST_PORT": str(port)}
    name = f"{folder.name}_pixlstash_1"

    def healthy() -> dict | None:
        running = engine("inspect", "--format", "{{.State.Running}}", name, check=False).stdout.strip()
        assert running != "false", f"the container stopped: {engine('logs', name, check=False).stderr[-3000:]}"
        try:
            answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5)
        except httpx.HTTPError:
            return None
        return answer.json() if answer.status_code == 200 else None

    try:
        _compose(folder, env, "up", "-d", "pixlstash")
        assert wait_for(healthy, "the compose service to answer", timeout=300)["library_open"] is True
        inspected = engine("inspect", "--format", "{{.HostConfig.RestartPolicy.Name}}", name)
        assert inspected.stdout.strip() == "unless-stopped"
        made = _compose(folder, env, "exec", "pixlstash", "pixlstash", "backup", "create", "/backups/today")
        assert "exit code: 0" in made and "backup " in made, made
        inside = _compose(folder, env, "exec", "pixlstash", "pixlstash", "backup", "create", "/tmp/today")
        assert "exit code: 1" in inside and "inside the container, not on a mounted volume" in inside, inside
        plugins = _compose(folder, env, "exec", "pixlstash", "pixlstash", "plugins")
        assert "s3  (pixlstash-s3" in plugins  # a library in a bucket opens in this image

        _compose(folder, env, "up", "-d", "--force-recreate", "pixlstash")  # the README's upgrade step
        wait_for(healthy, "the recreated container to answer", timeout=300)
        verified = _compose(folder, env, "exec", "pixlstash", "pixlstash", "backup", "verify", "/backups/today")
        assert "exit code: 0" in verified and "is whole" in verified, verified
    finally:
        subprocess.run(["podman-compose", "down", "-v"], cwd=folder, env=env, capture_output=True, timeout=300)


def test_scripts_image_names_ca_file_when_the_build_fails_on_a_certificate(tmp_path):
    """Behind an inspecting proxy, pip in the build fails on the proxy's certificate: scripts/image ends by
    saying how to give its CA (the build's own output above it). The engine here is a stand-in that fails
    as `podman build` does then, printing pip's error; everything else is the real script."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "podman").write_text(
        "#!/bin/sh\n"
        "echo 'ERROR: Could not install packages due to an OSError: HTTPSConnectionPool(host=pypi.org, port=443):"
        " Max retries exceeded (Caused by SSLError(SSLCertVerificationError(1, [SSL: CERTIFICATE_VERIFY_FAILED]"
        " certificate verify failed: self-signed certificate in certificate chain)))' >&2\n"
        "echo 'Error: building at STEP \"RUN ...\": exit status 1' >&2\n"
        "exit 1\n"
    )
    (bin_dir / "podman").chmod(0o755)
    done = subprocess.run(
        [str(REPO / "scripts" / "image"), "--base", "debian:bookworm", "--tag", "localhost/pixlstash:never"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
        cwd=REPO,
    )
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-2:]
    assert "Behind an inspecting proxy? Give its CA bundle: scripts/image --ca-file FILE" in last[0], done.stderr
    assert last[1] == "scripts/image: the build failed (its output is above)"
