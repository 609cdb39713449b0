"""An upload's first files are prepared while the rest of the request still arrives; nothing is recorded
before the request is whole, and a request that fails half-way leaves nothing of what was prepared."""

from __future__ import annotations

import io

from conftest import wait_for
from corpus import photo
from live_server import LiveServer

from pixlstash.instance import InstanceOptions
from pixlstash_web.app import WebSettings

BOUNDARY = "early-import-test"


def _png(seed: int, size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    photo(*size, seed=seed).save(buffer, "PNG")
    return buffer.getvalue()


def _file_part(name: str, data: bytes) -> bytes:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
    return head.encode() + b"Content-Type: image/png\r\n\r\n" + data + b"\r\n"


def _field_part(name: str, value: str) -> bytes:
    return f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()


def _stored_files(library) -> list:
    return [p for folder in ("originals", "thumbnails") for p in (library.root / folder).rglob("*") if p.is_file()]


def _post_in_two_halves(client, library, first: bytes, rest: bytes):
    """Send ``first`` and the boundary after it (a part ends where the next begins), wait until the server
    has prepared what it holds (its thumbnail is written, and no picture is recorded yet), then the rest."""
    whole = first + rest
    split = len(first) + len(f"--{BOUNDARY}\r\n")

    def body():
        yield whole[:split]
        wait_for(lambda: _stored_files(library), "the first file to be prepared while the request is open")
        assert library.count() == 0  # prepared, not recorded
        yield whole[split:]

    headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    return client.post("/api/v1/uploads", content=body(), headers=headers)


def test_files_are_prepared_as_they_arrive_and_recorded_with_what_came_after_them(live):
    client = live.client(live.token("write"))
    project = client.post("/api/v1/projects", json={"name": "Late fields"}).json()
    three_years_ago = 1_700_000_000_000
    # The browser sends its fields after the file; a script may send them anywhere.
    rest = (
        _file_part("second.png", _png(2))
        + _field_part("project_id", str(project["id"]))
        + _field_part("last_modified", f"{three_years_ago},0")
        + f"--{BOUNDARY}--\r\n".encode()
    )
    response = _post_in_two_halves(client, live.library, _file_part("first.png", _png(1)), rest)
    assert response.status_code == 200, response.text
    report = response.json()
    assert [p["path"] for p in report["imported"]] == ["first.png", "second.png"]
    first, second = (client.get(f"/api/v1/pictures/{p['picture_id']}").json() for p in report["imported"])
    assert (first["taken_at"], first["taken_from"]) == (three_years_ago, "file")
    assert second["taken_from"] == "import"
    assert client.get("/api/v1/pictures/count", params={"project": project["id"]}).json() == {"count": 2}
    (label,) = [row[0] for row in live.library.db.query("SELECT label FROM sources WHERE kind = 'upload'")]
    assert label == "first.png, second.png"
    assert list(live.library.tmp.iterdir()) == []


def test_a_request_that_fails_after_its_first_files_were_prepared_leaves_nothing(library):
    settings = WebSettings(max_upload_file_bytes=100_000, services=InstanceOptions(watch_folders=False))
    with LiveServer(library, settings) as live:
        client = live.client(live.token("write"))
        big = _png(5, (400, 400))
        assert len(big) > 100_000
        rest = _file_part("big.png", big) + f"--{BOUNDARY}--\r\n".encode()
        response = _post_in_two_halves(client, library, _file_part("small.png", _png(6)), rest)
        assert response.status_code == 413 and "per-file limit" in response.json()["error"]["message"]
        assert library.count() == 0
        assert _stored_files(library) == [] and list(library.tmp.iterdir()) == []
        # A project that does not exist, named after the files: 404, and nothing kept either.
        rest = _field_part("project_id", "999") + f"--{BOUNDARY}--\r\n".encode()
        response = _post_in_two_halves(client, library, _file_part("lost.png", _png(7)), rest)
        assert response.status_code == 404, response.text
        assert library.count() == 0
        assert _stored_files(library) == [] and list(library.tmp.iterdir()) == []
        # The same bytes in a good request import as usual.
        ok = client.post("/api/v1/uploads", files=[("file", ("small.png", _png(6), "image/png"))])
        assert len(ok.json()["imported"]) == 1


def _cut_off_after_first_file(live, library, first: bytes) -> None:
    """Open an upload of more bytes than are sent, send the first file and the boundary after it, wait until
    the server has prepared it, then hang up (a browser tab closed, a script killed)."""
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(live.url)
    promised = len(first) + 1_000_000  # the request says a megabyte more is coming
    head = (
        f"POST /api/v1/uploads HTTP/1.1\r\nHost: {address.hostname}:{address.port}\r\n"
        f"Authorization: Bearer {live.token('write')}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {promised}\r\n\r\n"
    )
    with socket.create_connection((address.hostname, address.port)) as connection:
        connection.sendall(head.encode() + first + f"--{BOUNDARY}\r\n".encode())
        wait_for(lambda: _stored_files(library), "the first file to be prepared while the request is open")
    # The connection is closed: what was prepared goes, and nothing is recorded.


def test_an_upload_cut_off_after_its_first_files_were_prepared_leaves_nothing(live):
    library = live.library
    for attempt in range(3):  # more than the two requests that prepare at once: none keeps its place
        _cut_off_after_first_file(live, library, _file_part(f"cut-{attempt}.png", _png(10 + attempt)))
        wait_for(lambda: not _stored_files(library), "what the cut-off upload prepared to be removed")
        wait_for(lambda: not list(library.tmp.iterdir()), "the cut-off upload's temporary files to be removed")
        assert library.count() == 0
    # The server still prepares the next upload early, and imports it.
    client = live.client(live.token("write"))
    rest = f"--{BOUNDARY}--\r\n".encode()
    response = _post_in_two_halves(client, library, _file_part("after.png", _png(20)), rest)
    assert response.status_code == 200 and len(response.json()["imported"]) == 1
