"""Settings → Backup in Chromium, at desktop and phone sizes: a person types a folder, backs up, watches
it finish, and turns the schedule on; what they see is what happened on disk."""

from __future__ import annotations

import pytest
from ui_support import expect, library_server, screenshot, signed_in_page

from pixlstash.backups import verify_backup


@pytest.fixture
def server(tmp_path):
    from corpus import photo

    folder = tmp_path / "pictures"
    folder.mkdir()
    for n in range(5):
        photo(320, 240, seed=n).save(folder / f"p{n}.jpg")
    with library_server(tmp_path / "lib", folder, 5) as live:
        yield live


@pytest.mark.parametrize("size", [{"width": 1280, "height": 800}, {"width": 390, "height": 844}])
def test_a_person_backs_up_from_settings_and_schedules_it(browser, server, tmp_path, size):
    target = tmp_path / "usb" / "backup"
    with signed_in_page(browser, server, viewport=size, has_touch=size["width"] < 500) as page:
        page.get_by_role("button", name="Settings", exact=True).click()
        page.get_by_role("tab", name="Library").click()
        section = page.locator("#backup-section")
        section.scroll_into_view_if_needed()
        expect(section.get_by_role("status")).to_have_text("No backup yet.")
        folder = section.get_by_label("Folder on the server")
        folder.fill("")
        folder.type(str(target))
        assert folder.input_value() == str(target)
        expect(section.get_by_label("Bucket's endpoint")).to_be_hidden()  # asked for a bucket only
        box = section.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= size["width"]  # no sideways overflow
        section.get_by_role("button", name="Back up now").click()
        expect(section.get_by_role("status")).to_contain_text(f"to {target}", timeout=20_000)
        expect(section.get_by_role("status")).to_contain_text("Backed up")
        expect(page.locator("#backup-progress")).to_be_hidden()
        manifest, problems = verify_backup(target)
        assert problems == [] and manifest.pictures == 5
        hours = section.get_by_label("Hours between backups")
        hours.fill("12")
        section.get_by_label("Back up there every").check()
        expect(page.locator("#toast")).to_contain_text("Backing up every 12 h")
        schedule = server.state.instance.backups.schedule()
        assert (schedule.enabled, schedule.target, schedule.every_hours) == (True, str(target), 12)
        screenshot(page, f"settings-backup-{size['width']}")


def test_a_larger_backup_is_replaced_only_when_asked_and_accounts_only_when_ticked(browser, server, tmp_path):
    from live_server import make_pictures

    from pixlstash.backups import create_backup
    from pixlstash.library import Library

    target = tmp_path / "usb" / "backup"
    with Library.open(tmp_path / "bigger") as bigger:  # another library, with more pictures, backed up there
        make_pictures(bigger, tmp_path / "more", 7, seed=3)
        create_backup(bigger.backup_source(), target)
    with signed_in_page(browser, server, viewport={"width": 1280, "height": 800}) as page:
        page.get_by_role("button", name="Settings", exact=True).click()
        page.get_by_role("tab", name="Library").click()
        section = page.locator("#backup-section")
        section.scroll_into_view_if_needed()
        section.get_by_label("Folder on the server").fill(str(target))
        accounts = section.get_by_label("With accounts and API keys")
        expect(accounts).not_to_be_checked()
        section.get_by_role("button", name="Back up now").click()
        expect(section.get_by_role("status")).to_contain_text("holds a backup of 7 pictures", timeout=20_000)
        assert verify_backup(target)[0].pictures == 7  # the larger backup is untouched
        accounts.check()
        section.get_by_role("button", name="Replace that backup anyway").click()
        expect(section.get_by_role("status")).to_contain_text("Backed up", timeout=20_000)
        expect(section.get_by_role("status")).to_contain_text("accounts and API keys in clear")
        expect(section.get_by_role("button", name="Replace that backup anyway")).to_be_hidden()
        screenshot(page, "settings-backup-replaced")
    manifest, problems = verify_backup(target)
    assert problems == [] and manifest.pictures == 5 and manifest.with_accounts
