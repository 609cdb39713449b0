"""The UI's panels and dialogs in real headless Chromium against a real server with a library made here:
statistics, snapshots, sharing, settings, people, export, tasks and the update banner."""

from __future__ import annotations

import io
import re

from ui_library import ids_by_name, open_filters, page, server, template, tile  # noqa: F401 - fixtures
from ui_support import OWNER, PASSWORD, PageWatcher, expect, screenshot


def test_statistics_panel_filters_by_clicking_a_bar(page, server):  # noqa: F811
    ids = ids_by_name(server)
    server.library.edits.set_fields([ids["red"], ids["blue"]], rating=5)
    page.get_by_role("button", name="Statistics").click()
    panel = page.locator("#panel")
    expect(panel).to_contain_text("20 pictures")
    expect(panel).to_contain_text("≤ 0.1 MB")  # bucket labels from the API's bounds
    expect(panel).to_contain_text("> 32 MP")
    assert "NaN" not in panel.inner_text() and "undefined" not in panel.inner_text()
    screenshot(page, "statistics")
    panel.get_by_role("button", name="★★★★★: 2").click()
    expect(page.locator(".tile:visible")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"rating_min=5"))


def test_snapshots_take_preview_and_selective_restore(page, server):  # noqa: F811
    ids = ids_by_name(server)
    page.get_by_role("button", name="Snapshots").click()
    panel = page.locator("#panel")
    panel.get_by_label("Snapshot label").fill("before cleanup")
    panel.get_by_role("button", name="Take snapshot").click()
    expect(panel).to_contain_text("before cleanup")
    server.library.edits.set_fields([ids["blue"]], rating=2)  # an edit of a picture not restored below
    server.library.edits.set_fields([ids["red"], ids["green"]], rating=1)  # an edit that can be undone
    tile(page, ids["red"]).click(modifiers=["Control"])
    page.get_by_role("button", name="Snapshots").click()  # closes
    page.get_by_role("button", name="Snapshots").click()  # reopens with the selection
    panel.get_by_role("button", name="Preview restore").first.click()
    expect(panel).to_contain_text("3 to revert")  # red, green and blue were rated since
    panel.get_by_role("button", name="Restore selection…").first.click()
    expect(panel).to_contain_text("1 of 1 would change")
    screenshot(page, "snapshots")
    # The restore drops the undo steps that changed what it brings back: it says so first, and Cancel
    # leaves everything as it was.
    panel.get_by_role("button", name="Restore these").click()
    dialog = page.locator(".dialog")
    expect(dialog).to_contain_text("Undo steps that changed them can no longer be undone; the others stay")
    dialog.get_by_role("button", name="Cancel").click()
    assert server.library.get(ids["red"]).rating == 1 and server.library.edits.history().can_undo
    panel.get_by_role("button", name="Restore these").click()
    dialog.get_by_role("button", name="Restore these").click()
    expect(page.locator("#toast")).to_contain_text("Restored 1")
    assert server.library.get(ids["red"]).rating == 0  # restored
    assert server.library.get(ids["green"]).rating == 1  # not selected: left alone
    # The step that rated red (and green) went; the one about blue alone can still be undone.
    assert [step.label for step in server.library.edits.history().steps] == ["Rate 1 picture ★★"]


def test_share_dialog_and_the_recipient_sees_only_the_share(page, server, browser):  # noqa: F811
    ids = ids_by_name(server)
    tile(page, ids["red"]).click(modifiers=["Control"])
    tile(page, ids["blue"]).click(modifiers=["Control"])
    page.locator("#selection-bar").get_by_role("button", name="Share…").click()
    dialog = page.locator(".dialog")
    dialog.get_by_label("Share title").fill("For the client")
    dialog.get_by_role("button", name="Create link").click()
    link = dialog.locator("#share-link")
    expect(link).to_be_visible()
    url = link.get_attribute("href")
    screenshot(page, "share-dialog")
    recipient = browser.new_context().new_page()  # no session: a stranger with the link
    watcher = PageWatcher(recipient)
    recipient.goto(url)
    expect(recipient.locator("body")).to_contain_text("For the client")
    expect(recipient.locator("#grid .tile:visible img[src]")).to_have_count(2)
    shown = recipient.locator("#grid .tile:visible img").evaluate_all("els => els.map(e => e.src)")
    hashes = {server.library.get(i).content_hash for i in (ids["red"], ids["blue"])}
    assert len(shown) == 2 and all(any(h in src for h in hashes) for src in shown)
    screenshot(recipient, "recipient")
    assert recipient.request.get(f"{server.url}/api/v1/pictures").status == 401
    assert watcher.clean() == []
    recipient.context.close()


def test_settings_engines_tokens_and_update_check(page, server):  # noqa: F811
    page.get_by_role("button", name="Settings").click()
    panel = page.locator("#panel")
    expect(panel).to_contain_text("Engines")
    # Sections are tabs; a setting is saved as it changes (no button to forget).
    panel.get_by_role("tab", name="Library").click()
    expect(panel.get_by_label("Check for updates")).not_to_be_checked()  # off by default
    expect(panel.get_by_label("captioner engine")).to_be_hidden()
    panel.get_by_role("tab", name="Engines").click()
    panel.get_by_label("captioner engine").select_option("fake/captioner")
    expect(panel.locator("#engine-saved")).to_contain_text("Saved")
    assert server.library.engines.settings().defaults == {"captioner": "fake/captioner"}
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    panel.get_by_role("tab", name="Account").click()
    panel.get_by_label("Token name").fill("comfyui")
    panel.get_by_role("button", name="Create token").click()
    expect(panel.locator("#token-secret")).to_contain_text("pxl_")
    secret = panel.locator("#token-secret code").inner_text()
    panel.get_by_role("button", name="Copy token").click()
    assert page.evaluate("() => navigator.clipboard.readText()") == secret
    screenshot(page, "settings")
    # Revoking asks first, then the token shows as revoked, with no button left to press.
    panel.get_by_role("button", name="Revoke token comfyui").click()
    dialog = page.locator(".dialog")
    expect(dialog).to_contain_text("Revoke the token comfyui?")
    dialog.get_by_role("button", name="Revoke").click()
    row = panel.get_by_label("API tokens").locator(".row", has_text="comfyui")
    expect(row).to_contain_text("revoked")
    expect(row.get_by_role("button")).to_have_count(0)
    assert [t.revoked for t in server.state.auth.tokens() if t.name == "comfyui"] == [True]
    # Each engine's parameters, used on import too, saved when the field is left; automatic snapshots.
    panel.get_by_role("tab", name="Engines").click()
    panel.get_by_label("Fake captioner parameters").locator("input").fill("house style")
    page.keyboard.press("Tab")
    expect(panel.locator("#engine-saved")).to_contain_text("Saved")
    assert server.library.engines.settings().parameters == {"fake/captioner": {"prompt": "house style"}}
    panel.get_by_role("tab", name="Library").click()
    admin = server.client(server.token("admin"))
    scheduled = admin.get("/api/v1/snapshots/schedule").json()["enabled"]
    box = panel.get_by_label("Take daily, weekly and monthly snapshots automatically")
    expect(box).to_be_checked(checked=scheduled)
    box.click()
    expect(page.locator("#toast")).to_contain_text(f"Automatic snapshots {'off' if scheduled else 'on'}")
    assert admin.get("/api/v1/snapshots/schedule").json() == {"enabled": not scheduled}
    # Another browser's session, ended from here.
    other = server.client()
    other.post("/api/v1/auth/login", json={"username": OWNER, "password": PASSWORD}).raise_for_status()
    page.get_by_role("button", name="Settings", exact=True).click()  # closes the panel
    page.get_by_role("button", name="Settings", exact=True).click()
    expect(panel.get_by_role("tab", name="Library")).to_have_attribute("aria-selected", "true")  # as left
    panel.get_by_role("tab", name="Account").click()
    sessions = panel.get_by_label("Browser sessions")
    expect(sessions.locator(".row")).to_have_count(2)
    sessions.get_by_role("button", name="End").click()
    page.locator(".dialog").get_by_role("button", name="End session").click()
    expect(sessions.locator(".row")).to_have_count(1)
    assert other.get("/api/v1/auth/me").status_code == 401
    # The password: a wrong current one is refused in place; the new one signs in.
    expect(panel.get_by_label("Browser sessions")).to_contain_text("(this browser)")
    page.expected_errors.append("status of 403 (Forbidden)")
    panel.get_by_label("Current password", exact=True).fill("not it")
    panel.get_by_label("New password", exact=True).fill("a new horse battery")
    panel.get_by_label("New password again").fill("a new horse battery")
    panel.get_by_role("button", name="Change password").click()
    expect(panel.locator("#password-error")).to_contain_text("the current password is wrong")
    panel.get_by_label("Current password", exact=True).fill(PASSWORD)
    panel.get_by_role("button", name="Change password").click()
    expect(page.locator("#toast")).to_contain_text("Password changed")
    assert (
        server.client()
        .post("/api/v1/auth/login", json={"username": OWNER, "password": "a new horse battery"})
        .is_success
    )
    server.state.auth.set_password(OWNER, PASSWORD)


def test_people_panel_names_a_person_and_takes_suggestions(page, server):  # noqa: F811
    from pixlstash.domain import PeopleSettings

    # Fake face vectors are colour vectors: at 0.97 likeness the photos' faces make a few people and
    # the solid colours each their own, so there is something left to suggest after naming one.
    server.library.people.configure(PeopleSettings(cluster_threshold=0.97))
    server.library.people.clustering.rebuild()
    page.get_by_role("button", name="People").click()
    panel = page.locator("#panel")
    expect(panel.locator("#unnamed [data-person]").first).to_be_visible()
    people = server.library.people.unnamed(min_faces=1)
    biggest = people[0]
    screenshot(page, "people")
    form = panel.locator(f"[data-name-person='{biggest.cluster_id}'] input")
    form.fill("Alice")
    form.press("Enter")
    expect(page.locator("#toast")).to_contain_text("Named Alice")
    expect(page.locator("#sidebar")).to_contain_text("Alice")
    [alice] = [c for c in server.library.collections.collections("character") if c.name == "Alice"]
    assert alice.member_count == biggest.pictures
    # Naming opens Alice's page: her faces, then suggestions to take or leave.
    expect(panel.locator("h2")).to_contain_text("Alice")
    expect(panel.locator("#named-faces .suggestion")).to_have_count(biggest.faces)
    first = panel.locator("#suggestions .suggestion").first
    expect(first).to_be_visible()
    face_id = int(first.get_attribute("data-face"))
    first.get_by_role("button", name=f"Reject face {face_id}").click()
    expect(page.locator("#toast")).to_contain_text("Rejected")
    expect(panel.locator(f"#suggestions .suggestion[data-face='{face_id}']")).to_have_count(0)
    second = panel.locator("#suggestions .suggestion").first
    accepted = int(second.get_attribute("data-face"))
    second.get_by_role("button", name=f"Accept face {accepted}").click()
    expect(page.locator("#toast")).to_contain_text("Accepted")
    assert accepted in {f for f, _ in server.library.vectors.character_faces(alice.id)}
    expect(panel.locator(f"#named-faces [data-face='{accepted}']")).to_be_visible()
    screenshot(page, "people-character")

    # A wrong face is split out: unnamed, gone from her page and her suggestions.
    panel.get_by_role("button", name=f"Not Alice: face {accepted}").click()
    expect(page.locator("#toast")).to_contain_text("No longer Alice")
    expect(panel.locator(f"#named-faces [data-face='{accepted}']")).to_have_count(0)
    assert accepted not in {f for f, _ in server.library.vectors.character_faces(alice.id)}
    expect(panel.locator("#suggestions .suggestion").first).to_be_visible()
    expect(panel.locator(f"#suggestions [data-face='{accepted}']")).to_have_count(0)

    # The People front page lists her with her faces; the sidebar's menu opens her page again.
    panel.get_by_role("button", name="People").first.click()
    expect(panel.get_by_role("button", name="Open Alice")).to_contain_text(f"{biggest.faces} faces")
    panel.locator("[data-close]").click()
    page.locator("#sidebar .side-item", has_text="Alice").click(button="right")
    page.get_by_text("Faces and suggestions…").click()
    expect(panel.locator("#named-faces .suggestion")).to_have_count(biggest.faces)


def test_export_dialog_previews_the_captions_the_zip_then_holds(page, server, tmp_path):  # noqa: F811
    import zipfile
    from pathlib import Path

    ids = ids_by_name(server)
    library = server.library
    lora = library.organise.create_collection("set", "LoRA")
    members = [ids["red"], ids["green"], ids["blue"], ids["yellow"]]
    library.organise.add_members(lora.id, [*members, ids["white"]])  # white: no caption, no tags
    library.edits.tag(members, add=["solo"])
    library.edits.caption(ids["red"], "a red square")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    page.locator("#sidebar").get_by_label("set LoRA").click(button="right")
    page.get_by_text("Export for training…").click()
    dialog = page.locator(".export-form")
    samples = dialog.locator(".export-samples li")
    expect(samples).to_have_count(3)
    # Said before anything is written: white gets no caption file (sd-scripts stops on an empty one).
    warning = dialog.locator("#export-preview .warning")
    expect(warning).to_have_text(re.compile(r"^1 picture has no caption or tags: no caption file is written"))
    box = warning.bounding_box()
    assert box and box["height"] > 10 and box["width"] > 200  # shown, not a sliver
    screenshot(page, "export-dialog-warning")
    dialog.get_by_label("Trigger word (first)").fill("ohwx")
    expect(warning).to_have_count(0)  # with a trigger every picture has a caption
    dialog.get_by_label("Caption file", exact=True).select_option("tags")
    dialog.get_by_label("Repeats (kohya folder N_trigger; 0: none)").fill("10")
    expect(dialog.locator("#export-preview")).to_contain_text("10_ohwx/")
    expect(samples.first).to_contain_text("ohwx, solo")
    screenshot(page, "export-dialog")
    shown = [(li.locator("code").inner_text(), li.locator(".export-caption").inner_text()) for li in samples.all()]
    with page.expect_download() as download_info:
        dialog.get_by_role("button", name="Download zip").click()
    data = Path(download_info.value.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for image, caption in shown:  # the preview is what the export wrote
            assert archive.read(image.rsplit(".", 1)[0] + ".txt").decode().strip() == caption
        assert len([n for n in archive.namelist() if n.endswith(".txt")]) == 5
        assert archive.read(f"10_ohwx/{ids['white']}.txt") == b"ohwx\n"
    assert library.training.remembered(lora.id).trigger == "ohwx"  # remembered for the set


def test_the_task_manager_shows_a_ray_cluster_s_nodes(page, server):  # noqa: F811
    from pixlstash.domain import ClusterProgress
    from pixlstash.system.clock import now_ms

    # What a worker running on Ray reports (the Ray tests check that it does): seen from another process.
    server.library.enrichment.report_cluster(
        ClusterProgress(
            "ray://gpu-head:10001", {"a1b2c3d4e5f6a7b8": 1200, "f0e1d2c3b4a59687": 1150}, 3, 48.5, False, now_ms()
        )
    )
    page.get_by_role("button", name="Tasks").click()
    section = page.locator("#cluster")
    expect(section).to_contain_text("ray://gpu-head:10001 · 3 batches out")
    expect(section).to_contain_text("48.5 pictures/s")
    expect(section.locator(".row")).to_have_count(2)
    expect(section).to_contain_text("node a1b2c3d4e5f6")
    expect(section).to_contain_text("1,200 pictures")
    screenshot(page, "tasks-on-ray")


def test_the_statistics_panel_shows_the_api_s_figures_for_the_view_and_follows_it(page, server):  # noqa: F811
    ids = ids_by_name(server)
    server.library.edits.set_fields([ids["red"], ids["blue"], ids["photo-01"]], rating=3)
    server.library.edits.set_fields([ids["green"]], rating=5)
    client = server.client(server.token("read"))

    def shown_bars() -> dict[str, str]:
        labels = page.locator("#panel [data-bar]").evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
        return dict(label.rsplit(": ", 1) for label in labels)

    def api_bars(params) -> dict[str, str]:
        stats = client.get("/api/v1/pictures/stats", params=params).json()
        bars = {("★" * r if r else "unrated"): str(stats["rating"].get(str(r), 0)) for r in range(6)}
        bars.update({t["name"]: str(t["count"]) for t in stats["tags"][:25]})
        return bars, stats["count"]

    page.get_by_role("button", name="Statistics").click()
    expect(page.locator("#panel")).to_contain_text("20 pictures")
    expected, count = api_bars({})
    assert {k: v for k, v in shown_bars().items() if k in expected} == expected
    open_filters(page)
    page.get_by_label("Media type").select_option("image")  # a filter while the panel is open
    page.locator("#panel").get_by_role("button", name="★★★: 3").click()
    expect(page).to_have_url(re.compile(r"rating_min=3&rating_max=3|rating_max=3&rating_min=3"))
    expect(page.locator(".tile:visible")).to_have_count(3)
    expect(page.locator("#panel")).to_contain_text("3 pictures")  # the panel follows the view
    expected, count = api_bars({"media_type": "image", "rating_min": 3, "rating_max": 3})
    assert count == 3 and {k: v for k, v in shown_bars().items() if k in expected} == expected
    chip = page.get_by_label("Remove filter rating ≤ 3")  # the exact rating is visible and removable
    expect(page.locator(".chip", has_text="rating ≤ 3")).to_be_visible()
    chip.click()
    expect(page.locator(".tile:visible")).to_have_count(4)
    expect(page.locator("#panel")).to_contain_text("4 pictures")


def test_the_update_banner_names_a_security_release_and_is_dismissed_per_version(page, server):  # noqa: F811
    from test_web_privacy import _UpdateServer

    updates = _UpdateServer(
        {"latest": "9.0.0", "severity": "high", "notes_url": "https://example.invalid/notes", "affected": "<0.2.0"}
    )
    try:
        admin = server.client(server.token("admin"))
        admin.put("/api/v1/settings/update-check", json={"enabled": False, "url": updates.url}).raise_for_status()
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        banner = page.locator("#update-banner")
        expect(banner).to_be_hidden()  # off until the owner turns it on: nothing asked, nothing shown
        assert updates.requests == []
        page.get_by_role("button", name="Settings").click()
        page.get_by_role("tab", name="Library").click()
        page.get_by_label("Check for updates").check()
        expect(banner).to_contain_text("Security fix (high): PixlStash 9.0.0 is out")
        expect(banner).to_contain_text("It fixes versions <0.2.0.")
        expect(banner.get_by_role("link", name="Release notes")).to_have_attribute(
            "href", "https://example.invalid/notes"
        )
        assert len(updates.requests) == 1
        page.get_by_role("button", name="Settings", exact=True).click()  # closes the panel
        screenshot(page, "update-banner")
        banner.get_by_role("button", name="Dismiss the notice of 9.0.0").click()
        expect(banner).to_be_hidden()
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        expect(page.locator("#count")).to_be_visible()
        expect(banner).to_be_hidden()  # dismissed for 9.0.0 ...
        # The dismissal is the person's own (prefs.js keeps it under their account): another version's.
        page.evaluate(
            "() => localStorage.setItem(`pixlstash.u${window.pixlstash.app.me.user_id}.update.dismissed`, '8.0.0')"
        )
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        expect(banner).to_be_visible()  # ... not for other versions
    finally:
        updates.close()
