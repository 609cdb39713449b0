"""Menus open every time: after a choice in "Add to…" or "More…", the next press opens the menu again (a
click listener left behind by the first menu closed the next one the moment it opened, so it stayed shut
until a click elsewhere). Three times in a row each, on a desktop and on a phone."""

from __future__ import annotations

import pytest
from ui_support import expect, photos_server, screenshot, signed_in_page

SIZES = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with photos_server(tmp_path_factory, 4, size=(300, 200), seed=40, name="m{n}.jpg") as live:
        live.sets = [live.library.organise.create_collection("set", name) for name in ("Alpha", "Beta", "Gamma")]
        yield live


@pytest.mark.parametrize("size", SIZES)
def test_each_menu_opens_again_right_after_a_choice(browser, server, size):
    with signed_in_page(browser, server, **SIZES[size]) as page:
        press = (lambda locator: locator.tap()) if size == "phone" else (lambda locator: locator.click())
        press(page.locator(".tile:visible .check").first)
        bar, menu, toast = page.locator("#selection-bar"), page.locator("#menu"), page.locator("#toast")
        for name in ("Alpha", "Beta", "Gamma"):
            press(bar.get_by_role("button", name="Add to…"))
            expect(menu).to_be_visible()
            press(menu.get_by_role("menuitem", name=f"■ {name}"))
            expect(toast).to_contain_text(name)
            expect(menu).to_be_hidden()
        for stars in ("★★", "★★★", "★★★★"):
            press(bar.get_by_role("button", name="More actions"))
            expect(menu.get_by_role("menuitem", name="Rate")).to_be_visible()
            press(menu.get_by_role("menuitem", name="Rate"))
            press(menu.get_by_role("menuitem", name=stars, exact=True))
            expect(toast).to_contain_text("Rated")
            expect(menu).to_be_hidden()
        press(bar.get_by_role("button", name="Add to…"))  # straight after a choice in the other menu
        expect(menu.get_by_role("menuitem", name="■ Alpha")).to_be_visible()
        screenshot(page, f"menu-again-{size}")
        page.keyboard.press("Escape")
    members = server.library.db.query(
        "SELECT c.name FROM collection_members m JOIN collections c ON c.id = m.collection_id ORDER BY c.name"
    )
    assert [name for (name,) in members][:3] == ["Alpha", "Beta", "Gamma"]
