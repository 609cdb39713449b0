"""Make tests/fixtures/volumes/schema-20-image.tar.zst: the /library volume that the container image of the
version before schema 21 wrote, with what a newer image must find there in schema-20-image.json.

The old version's image is built from its commit (tests/test_container.py's ``fill_with_the_previous_image``:
`scripts/image --local-base` with Podman or Docker), run on a fresh volume, given an owner, two pictures and
a token through its own CLI, and stopped; the volume's files are then read out as a tar with their owners.
test_container.py loads it into a fresh volume and opens it in this checkout's image. That image never
changes, so this runs once, not in every CI run (its build took 100-120 s of each):

    .venv/bin/python scripts/fixture_volume.py
"""

from __future__ import annotations

import json
import sys
import tempfile
import uuid
from pathlib import Path

import zstandard

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from test_container import (  # noqa: E402  (the tests' own helpers, from beside them)
    VOLUME_EXPECTED,
    VOLUME_FIXTURE,
    Container,
    engine,
    fill_with_the_previous_image,
    volume_tar,
)


def main() -> None:
    volume = f"pixlstash-fixture-{uuid.uuid4().hex[:8]}"
    engine("volume", "create", volume)
    made: list[Container] = []
    try:
        with tempfile.TemporaryDirectory() as scratch:
            expected = fill_with_the_previous_image(volume, made, Path(scratch))
        # Read out through the base image: any image with tar does, and this one is always here.
        tar = volume_tar("localhost/pixlstash-base:bookworm", volume)
    finally:
        for container in made:
            container.remove()
        engine("volume", "rm", "--force", volume, check=False)
    VOLUME_FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    VOLUME_FIXTURE.write_bytes(zstandard.ZstdCompressor(level=19).compress(tar))
    VOLUME_EXPECTED.write_text(json.dumps(expected, indent=2) + "\n")
    print(f"{VOLUME_FIXTURE.relative_to(REPO)}: {len(tar):,} bytes of tar, {VOLUME_FIXTURE.stat().st_size:,} kept")


if __name__ == "__main__":
    main()
