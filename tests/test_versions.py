"""One version for everything: every package's metadata, the core's ``__version__``, the web package's
pin on the core, and a CHANGELOG.md section for it; the API says it with the schema."""

from __future__ import annotations

import re
import tomllib

from conftest import REPO

from pixlstash import __version__
from pixlstash.db.schema import SCHEMA_VERSION


def test_every_package_and_the_changelog_carry_one_version():
    projects = [REPO / "pixlstash-core", REPO / "pixlstash-web", *sorted((REPO / "pixlstash-plugins").iterdir())]
    versions = {}
    for folder in projects:
        if (folder / "pyproject.toml").is_file():
            versions[folder.name] = tomllib.loads((folder / "pyproject.toml").read_text())["project"]["version"]
    assert set(versions.values()) == {__version__}, versions
    web = tomllib.loads((REPO / "pixlstash-web" / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"pixlstash-core=={__version__}" in web
    changelog = (REPO / "CHANGELOG.md").read_text()
    newest = re.search(r"^## (\S+)", changelog, re.MULTILINE).group(1)
    assert newest == __version__, "CHANGELOG.md's newest section is not this version"
    assert f"schema {SCHEMA_VERSION}" in changelog.split("\n## ")[1], "the newest section names its schema"


def test_the_api_says_the_version_and_schemas(live):
    reader = live.client(live.token("read"))
    assert reader.get("/api/v1/system").json() == {
        "version": __version__,
        "schema": SCHEMA_VERSION,
        "library_schema": SCHEMA_VERSION,
        "python": reader.get("/api/v1/system").json()["python"],
    }
    assert live.client().get("/api/v1/system").status_code == 401  # not for anyone


def test_the_health_route_says_whether_the_library_answers(live):
    anonymous = live.client()  # health checks carry no token
    answer = anonymous.get("/api/v1/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "library_open": True, "version": __version__, "reason": None}
    live.library.db.close()  # what a library whose database went away looks like to the server
    answer = anonymous.get("/api/v1/health")
    assert answer.status_code == 503
    assert answer.json()["status"] == "unavailable" and answer.json()["library_open"] is False
