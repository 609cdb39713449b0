"""What an upload's report says about a file it skipped names the file as the person sent it, never the
server's temporary file (FFmpeg's message quotes the path it opened)."""

from __future__ import annotations


def test_a_skipped_uploads_reason_names_no_server_path(live):
    client = live.client(live.token("write"))
    broken_video = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 4000
    response = client.post("/api/v1/uploads", files=[("file", ("holiday clip.mp4", broken_video, "video/mp4"))])
    assert response.status_code == 200, response.text
    [skipped] = response.json()["skipped"]
    assert skipped["path"] == "holiday clip.mp4"
    assert "holiday clip.mp4" in skipped["reason"] or "video" in skipped["reason"]
    assert str(live.library.root) not in skipped["reason"] and "/tmp" not in skipped["reason"], skipped
    assert "upload-" not in skipped["reason"], skipped
