"""Undo in the browser as a person uses it (issue 32, item 3): a set made, filled by drag, moved into a
project, renamed and deleted from the sidebar, each then undone with Ctrl+Z, newest first, the sidebar
showing each state in turn."""

from __future__ import annotations

import pytest
from ui_library import tile
from ui_support import expect, photos_server, screenshot, signed_in_page


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with photos_server(tmp_path_factory, 4, size=(320, 240), name="p{n}.jpg") as live:
        yield live


def sidebar_sets(server) -> list[tuple[str, int, int | None]]:
    return [(c.name, c.member_count, c.project_id) for c in server.library.collections.collections("set")]


def test_sidebar_edits_are_undone_one_at_a_time_with_ctrl_z(browser, server):
    library = server.library
    project = library.organise.create_project("Client")
    with signed_in_page(browser, server) as page:
        sidebar = page.locator("#sidebar")
        sidebar.get_by_role("button", name="New set").click()
        page.get_by_role("textbox", name="Name of the new set").fill("Keepers")
        page.keyboard.press("Enter")
        expect(page.locator("#toast")).to_contain_text("Made the set Keepers")
        expect(sidebar.get_by_label("set Keepers")).to_be_visible()
        first = library.db.scalar("SELECT min(id) FROM pictures")
        tile(page, first).click(modifiers=["Control"])
        tile(page, first).drag_to(sidebar.get_by_label("set Keepers"))
        expect(page.locator("#toast")).to_contain_text("Added 1 picture")
        expect(sidebar.get_by_label("set Keepers").locator(".count")).to_have_text("1")
        sidebar.get_by_label("set Keepers").drag_to(sidebar.get_by_label("project Client"))
        expect(page.locator("#toast")).to_contain_text("Moved Keepers")
        sidebar.get_by_label("set Keepers").click(button="right")
        page.get_by_role("menuitem", name="Delete set (keeps pictures)").click()
        expect(page.locator(".dialog")).to_contain_text("Undo (Ctrl+Z) brings it back")
        page.locator(".dialog").get_by_role("button", name="Delete").click()
        expect(page.locator("#toast")).to_contain_text("Deleted Keepers")
        expect(sidebar.get_by_label("set Keepers")).to_have_count(0)
        assert sidebar_sets(server) == []
        page.keyboard.press("Escape")  # the selection goes; the next keys are the page's

        states = [[("Keepers", 1, project.id)], [("Keepers", 1, None)], [("Keepers", 0, None)], []]
        labels = ["Delete the set Keepers", "Move Keepers", "Add 1 picture to Keepers", "Create the set Keepers"]
        for state, label in zip(states, labels, strict=True):
            page.keyboard.press("Control+z")
            expect(page.locator("#toast")).to_contain_text(f"Undone: {label}")
            if state:
                expect(sidebar.get_by_label("set Keepers").locator(".count")).to_have_text(str(state[0][1]))
            else:
                expect(sidebar.get_by_label("set Keepers")).to_have_count(0)
            assert sidebar_sets(server) == state
            if label == "Delete the set Keepers":
                screenshot(page, "undo-delete-set")
        page.keyboard.press("Control+y")
        expect(page.locator("#toast")).to_contain_text("Redone: Create the set Keepers")
        expect(sidebar.get_by_label("set Keepers")).to_be_visible()
