"""End-to-end UI flows in real headless Chromium against a real server with a library made here: the grid,
selection, the viewer, the sidebar, search and filters, uploads (the panels are in test_ui_panels.py)."""

from __future__ import annotations

import io
import re

from corpus import photo, solid
from test_web_enrichment import wait_for_jobs
from ui_library import ids_by_name, open_filters, page, server, template, tile  # noqa: F401 - fixtures
from ui_support import PageWatcher, expect, screenshot, sign_in, wait_for_the_list


def test_first_run_setup_from_loopback_creates_the_owner(browser, fake_engines, library):
    from live_server import LiveServer

    with LiveServer(library) as live:
        context = browser.new_context(base_url=live.url)
        page = context.new_page()
        watcher = PageWatcher(page)
        page.goto("/")
        expect(page.get_by_text("Create the owner account")).to_be_visible()
        page.get_by_label("User name").fill("me")
        page.get_by_label("Password").fill("a long password")
        page.get_by_role("button", name="Create account").click()
        page.wait_for_selector("body[data-ready='1']")
        expect(page.locator("#empty")).to_be_visible()
        assert live.state.auth.needs_setup is False
        assert watcher.clean(allow=("401",)) == []
        context.close()


def test_grid_paints_thumbnails_filters_sorts_and_keeps_the_url(page, server):  # noqa: F811
    tiles = page.locator(".tile:visible")
    expect(tiles).to_have_count(20)
    expect(page.locator("#count")).to_have_text("20 pictures")
    screenshot(page, "grid")
    page.get_by_label("Sort by").select_option("rating")
    expect(page).to_have_url(re.compile(r"sort=rating"))
    open_filters(page)
    page.get_by_label("Media type").select_option("video")
    expect(page.locator("#empty")).to_be_visible()
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    expect(page.get_by_label("Sort by")).to_have_value("rating")
    expect(page.locator(".chip", has_text="videos")).to_be_visible()  # the filter in force, as a chip
    expect(page.get_by_label("Media type")).to_have_value("video")
    page.go_back()
    page.go_back()
    # Back twice: the first step (sort by rating, every type) also shows 20 tiles, so wait for the
    # second step's toolbar before opening its filters.
    expect(page.get_by_label("Sort by")).not_to_have_value("rating")
    expect(tiles).to_have_count(20)
    open_filters(page)
    page.get_by_label("Minimum width").fill("300")
    page.get_by_label("Minimum width").press("Enter")
    expect(page).to_have_url(re.compile(r"min_width=300"))
    expect(tiles).to_have_count(12)  # only the 320 px photos
    page.go_back()
    page.get_by_label("Layout").select_option("justified")
    expect(page).to_have_url(re.compile(r"layout=justified"))
    screenshot(page, "grid-justified")


def test_selection_rating_tagging_and_keyboard(page, server):  # noqa: F811
    ids = ids_by_name(server)
    tile(page, ids["red"]).locator(".check").click(force=True)  # the check mark selects
    tile(page, ids["green"]).click()  # and once one is selected, clicks select
    expect(page.locator("#selection-bar")).to_contain_text("2 selected")
    page.keyboard.press("4")
    expect(page.locator("#toast")).to_contain_text("Rated 2 pictures ★★★★")
    assert {server.library.get(ids[n]).rating for n in ("red", "green")} == {4}
    page.keyboard.press("t")
    page.get_by_role("combobox", name="Add tags").fill("sunset, keeper")
    page.keyboard.press("Enter")
    expect(page.locator("#toast")).to_contain_text("Tagged 2")
    assert {t.name for t in server.library.get(ids["red"]).tags} >= {"sunset", "keeper"}
    red = tile(page, ids["red"])  # tiles fill in tags, suggestions and faces after the thumbnail
    expect(red.locator(".chips")).to_contain_text("keeper")
    expect(red.locator(".chips")).to_contain_text("sunset")
    expect(red.locator(".faces")).to_have_text("☺1")  # the fake face finder's one face
    expect(red.locator(".suggested")).to_have_text("+2")  # the fake tagger's "red" and "dark"
    assert "2 suggested tags to review" in red.get_attribute("title")
    # The tag box completes the last tag typed from the library's tags.
    page.keyboard.press("t")
    page.get_by_role("combobox", name="Add tags").press_sequentially("dusk, kee")
    expect(page.locator("#ask-suggestions option")).to_have_count(1)
    assert page.locator("#ask-suggestions option").get_attribute("value") == "dusk, keeper"
    page.keyboard.press("Escape")
    screenshot(page, "grid-badges")
    page.keyboard.press("Escape")
    expect(page.locator("#selection-bar")).to_be_hidden()
    page.keyboard.press("Control+a")
    expect(page.locator("#selection-bar")).to_contain_text("All 20 pictures selected")
    page.keyboard.press("Escape")
    page.locator("#grid").focus()
    page.keyboard.press("ArrowRight")  # the focus, not a selection
    expect(page.locator("#selection-bar")).to_be_hidden()
    page.keyboard.press("Shift+ArrowLeft")
    expect(page.locator("#selection-bar")).to_contain_text("2 selected")
    page.keyboard.press("Space")
    expect(page.locator("#selection-bar")).to_contain_text("1 selected")
    page.keyboard.press("?")
    expect(page.locator("#panel")).to_contain_text("Keyboard shortcuts")


def test_picture_overlay_tags_predictions_caption_and_navigation(page, server):  # noqa: F811
    ids = ids_by_name(server)
    tile(page, ids["red"]).click()
    overlay = page.locator("#overlay")
    expect(overlay).to_be_visible()
    expect(page).to_have_url(re.compile(rf"picture={ids['red']}"))
    expect(overlay).to_contain_text("Suggested")
    screenshot(page, "overlay")
    overlay.get_by_role("button", name="Accept red").click()
    expect(overlay.locator("#tags")).to_contain_text("red")
    assert "red" in {t.name for t in server.library.get(ids["red"]).tags}
    overlay.get_by_label("Caption").fill("a very red square")
    overlay.get_by_role("button", name="Save caption").click()
    expect(page.locator("#toast")).to_contain_text("Caption saved")
    assert server.library.get(ids["red"]).captions[0].text == "a very red square"
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    expect(page.locator("#overlay")).to_be_visible()  # the URL brought it back
    index = page.evaluate(f"() => window.pixlstash.app.grid.indexOf.get({ids['red']})")
    page.keyboard.press("ArrowLeft" if index > 0 else "ArrowRight")
    neighbour = page.evaluate(f"() => window.pixlstash.app.grid.ids[{index - 1 if index > 0 else index + 1}]")
    expect(page).to_have_url(re.compile(rf"picture={neighbour}$"))
    page.keyboard.press("Escape")
    expect(page.locator("#overlay")).to_be_hidden()


def test_sidebar_projects_sets_drag_and_set_operations(page, server):  # noqa: F811
    lib = server.library
    ids = ids_by_name(server)
    project = lib.organise.create_project("Portfolio")
    warm = lib.organise.create_collection("set", "Warm")
    bright = lib.organise.create_collection("set", "Bright")
    lib.organise.add_members(warm.id, [ids["red"], ids["yellow"], ids["magenta"]])
    lib.organise.add_members(bright.id, [ids["yellow"], ids["white"], ids["cyan"]])
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    sidebar = page.locator("#sidebar")
    sidebar.get_by_label("set Warm").click()
    expect(page.locator(".tile:visible")).to_have_count(3)
    expect(page.locator("#breadcrumbs")).to_contain_text("Warm")
    # Drag pictures onto a set.
    tile(page, ids["red"]).click(modifiers=["Control"])
    tile(page, ids["red"]).drag_to(sidebar.get_by_label("set Bright"))
    expect(page.locator("#toast")).to_contain_text("Added 1 picture")
    assert ids["red"] in lib.organise.set_operation([bright.id], "union")
    expect(sidebar.get_by_label("set Bright").locator(".count")).to_have_text("4")  # the sidebar has settled
    # Drag a set onto a project.
    sidebar.get_by_label("set Warm").drag_to(sidebar.get_by_label("project Portfolio"))
    expect(page.locator("#toast")).to_contain_text("Moved Warm")
    assert lib.collections.collection(warm.id).project_id == project.id
    # Ctrl-click two sets and combine them.
    sidebar.get_by_label("set Warm").click(modifiers=["Control"])
    sidebar.get_by_label("set Bright").click(modifiers=["Control"])
    page.locator("#setops").get_by_role("button", name="Overlap").click()
    expected = set(lib.organise.set_operation([warm.id, bright.id], "overlap"))
    expect(page).to_have_url(re.compile(r"op=overlap"))
    wait_for_the_list(page)
    assert {int(i) for i in page.locator(".tile:visible").evaluate_all("els => els.map(e => e.dataset.id)")} == expected
    screenshot(page, "set-operations")


def test_search_similar_and_context_menu_with_engines(page, server):  # noqa: F811
    ids = ids_by_name(server)
    page.keyboard.press("f")
    page.keyboard.type("red")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"q=red"))
    page.get_by_label("Search by").select_option("meaning")  # by likeness: every picture, red first
    expect(page).to_have_url(re.compile(r"mode=meaning"))
    first = page.locator(".tile[data-index='0']:visible")
    expect(first).to_have_attribute("data-id", str(ids["red"]))
    tile(page, ids["blue"]).click(button="right")
    menu = page.locator("#menu")
    expect(menu).to_be_visible()
    screenshot(page, "context-menu")
    menu.get_by_role("menuitem", name="Find similar pictures").click()
    expect(page).to_have_url(re.compile(rf"similar={ids['blue']}"))
    expect(page.locator(".tile[data-index='0']:visible")).not_to_have_attribute("data-id", str(ids["blue"]))
    page.get_by_role("link", name="Library").click()
    tile(page, ids["green"]).click(button="right")
    menu.get_by_role("menuitem", name="Describe with ›").click()
    menu.get_by_role("menuitem", name="Fake captioner…").click()
    dialog = page.locator(".engine-form")  # the engine's own controls before it runs
    dialog.locator("#param-prompt").fill("for training")
    screenshot(page, "engine-parameters")
    dialog.get_by_role("button", name="Run").click()
    expect(page.locator("#panel")).to_contain_text("Tasks")
    expect(page.locator("#panel")).to_contain_text("fake/captioner")
    wait_for_jobs(server.client(server.token("read")))
    [suggested] = server.library.get(ids["green"]).captions
    assert suggested.source == "fake/captioner" and "for training" in suggested.text
    assert suggested.parameters == {"prompt": "for training"}
    expect(page.locator("#panel")).to_contain_text("done 1/1")  # the panel follows the live stream
    screenshot(page, "tasks")
    # The machine caption is a suggestion until it is taken. (The right-click selected green: clear the
    # selection, or the click would select rather than open.)
    page.locator("#selection-bar").get_by_role("button", name="Clear selection").click()
    tile(page, ids["green"]).click()
    page.get_by_role("button", name="Use the caption from fake/captioner").click()
    expect(page.locator("#toast")).to_contain_text("Caption accepted")
    expect(page.locator("#caption")).to_have_value(suggested.text)
    assert server.library.get(ids["green"]).captions[0].source == "user"


def test_upload_by_drop_and_the_new_pictures_pill(page, server):  # noqa: F811
    buffer = io.BytesIO()
    solid(90, 60, (10, 200, 90)).save(buffer, "PNG")
    # The server imports; the pill comes from the live stream (a grid at rest takes them in at once: a
    # selection keeps it still).
    page.locator(".tile:visible").first.click(modifiers=["Control"])
    client = server.client(server.token("write"))
    client.post("/api/v1/uploads", files=[("file", ("new.png", buffer.getvalue(), "image/png"))])
    pill = page.locator("#new-pictures")
    expect(pill).to_be_visible()
    pill.click()
    expect(page.locator(".tile:visible")).to_have_count(21)


def test_phone_sized_screen_is_usable(browser, server):  # noqa: F811
    context = browser.new_context(base_url=server.url, viewport={"width": 390, "height": 800}, is_mobile=True)
    page = context.new_page()  # noqa: F811
    watcher = PageWatcher(page)
    sign_in(page)
    expect(page.locator("#sidebar")).to_be_hidden()
    page.get_by_role("button", name="Show or hide the sidebar").click()
    expect(page.locator("#sidebar")).to_be_visible()
    screenshot(page, "phone")
    unnamed = page.evaluate("""() => [...document.querySelectorAll('button, input, select')]
        .filter(e => e.offsetParent && !(e.getAttribute('aria-label') || e.textContent.trim() || e.labels?.length))
        .map(e => e.outerHTML)""")
    assert unnamed == []
    assert watcher.clean() == []
    context.close()


def test_a_picture_opened_by_its_address_offers_the_characters_for_its_faces(page, server):  # noqa: F811
    ids = ids_by_name(server)
    server.library.organise.create_collection("character", "Hero")
    # The characters arrive only after the viewer has drawn (held back here, as a slow answer would be).
    held = []
    page.route("**/api/v1/characters", lambda route: held.append(route))
    with page.expect_request("**/api/v1/characters"):
        page.goto(f"/?picture={ids['red']}")
    select = page.get_by_label("Character of face 1")
    expect(select).to_be_visible()
    assert held, "the characters were asked for"
    for route in held:
        route.continue_()
    expect(select.locator("option", has_text="Hero")).to_have_count(1)
    page.unroute("**/api/v1/characters")


def test_generation_data_filters_find_renders_by_lora_sampler_and_seed(page, server, tmp_path):  # noqa: F811
    from corpus import a1111_png, comfyui_png

    renders = tmp_path / "renders"
    renders.mkdir()
    comfyui_png(renders / "lighthouse.png")
    a1111_png(renders / "fox.png")
    server.library.import_paths([renders])
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    names = ids_by_name(server)
    tiles = page.locator(".tile:visible")
    expect(tiles).to_have_count(22)
    open_filters(page)
    page.get_by_label("LoRA names (all of them)").fill("film_grain")
    page.get_by_label("LoRA names (all of them)").press("Enter")
    expect(page).to_have_url(re.compile(r"loras=film_grain"))
    expect(tiles).to_have_count(1)
    expect(tile(page, names["lighthouse"])).to_be_visible()
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    expect(tiles).to_have_count(1)  # the filter is part of the URL
    open_filters(page)
    page.get_by_label("LoRA names (all of them)").fill("")
    page.get_by_label("LoRA names (all of them)").press("Enter")
    expect(tiles).to_have_count(22)
    open_filters(page)
    page.get_by_label("Sampler").fill("euler a")
    page.get_by_label("Sampler").press("Enter")
    expect(tiles).to_have_count(1)
    expect(tile(page, names["fox"])).to_be_visible()
    open_filters(page)
    page.get_by_label("Seed").fill("4x2")
    page.get_by_label("Seed").press("Enter")
    expect(page.get_by_text("A seed is a whole number")).to_be_visible()
    page.get_by_label("Seed").fill("42")
    page.get_by_label("Seed").press("Enter")
    expect(page).to_have_url(re.compile(r"generation_seed=42"))
    expect(tiles).to_have_count(1)
    expect(page.locator(".chip", has_text="sampler euler a")).to_be_visible()  # what narrows the view is shown
    open_filters(page)
    screenshot(page, "generation-filters")
    page.get_by_label("Remove filter sampler euler a").click()
    page.get_by_label("Remove filter seed 42").click()
    expect(tiles).to_have_count(22)


def test_an_empty_grid_says_why_it_is_empty(page, server):  # noqa: F811
    """A filter that matches nothing, an empty set and an empty scrapheap are not an empty library."""
    tiles = page.locator(".tile:visible")
    expect(tiles).to_have_count(20)
    open_filters(page)
    page.get_by_label("Media type").select_option("video")
    page.keyboard.press("Escape")  # closes the Filters panel
    empty = page.locator("#empty")
    expect(empty).to_contain_text("No pictures match these filters.")
    expect(empty).not_to_contain_text("Upload")
    screenshot(page, "empty-filtered")
    empty.get_by_role("button", name="Show all pictures").click()
    expect(tiles).to_have_count(20)
    expect(page.get_by_label("Media type")).to_have_value("")
    expect(page.locator("#count")).to_have_text("20 pictures")
    page.goto("/?scrapheap=1")
    page.wait_for_selector("body[data-ready='1']")
    expect(empty).to_contain_text("The scrapheap is empty.")
    cats = server.library.organise.create_collection("set", "Cats")
    page.goto(f"/?collections={cats.id}")
    page.wait_for_selector("body[data-ready='1']")
    expect(empty).to_contain_text("Nothing in here yet")
    [one] = [pid for pid in ids_by_name(server).values()][:1]
    server.library.organise.add_members(cats.id, [one])
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    expect(page.locator("#count")).to_have_text("1 picture")


def test_the_tag_filter_completes_names_and_refuses_a_misspelt_tag(page, server):  # noqa: F811
    names = ids_by_name(server)
    server.library.edits.tag([names["red"], names["blue"], names["green"]], add=["cat"])
    server.library.edits.tag([names["white"]], add=["catalogue"])
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    open_filters(page)
    tag_input = page.get_by_label("Filter by tag")
    tag_input.fill("ca")
    expect(page.locator("#tag-names option[value='cat']")).to_have_count(1)  # the most used first
    expect(page.locator("#tag-names option").first).to_have_attribute("value", "cat")
    expect(page.locator("#tag-names option[value='catalogue']")).to_have_count(1)
    tag_input.fill("catt")
    tag_input.press("Enter")
    expect(page.locator("#toast")).to_contain_text("No tag named “catt”. Did you mean cat, catalogue?")
    expect(page).not_to_have_url(re.compile(r"tags="))
    expect(page.locator(".tile:visible")).to_have_count(20)
    page.get_by_label("Filter by tag").fill("CAT")  # any case
    page.get_by_label("Filter by tag").press("Enter")
    expect(page).to_have_url(re.compile(r"tags=cat"))
    expect(page.locator(".tile:visible")).to_have_count(3)


def test_the_search_box_finds_words_and_by_meaning_on_request(page, server):  # noqa: F811
    """Words find pictures whose captions, prompts or names hold them; Meaning ranks every picture by an
    embedder's likeness to the words (the fake colour embedder here)."""
    ids = ids_by_name(server)
    server.library.edits.caption(ids["photo-03"], "a lighthouse on a cliff at dusk")
    box = page.get_by_label("Search pictures")
    box.fill("lighthouse")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"q=lighthouse"))
    tiles = page.locator(".tile:visible")
    expect(tiles).to_have_count(1)  # not every picture, ranked
    expect(tiles.first).to_have_attribute("data-id", str(ids["photo-03"]))
    expect(page.locator("#count")).to_have_text("1 picture")
    page.get_by_label("Search by").select_option("meaning")
    expect(page).to_have_url(re.compile(r"mode=meaning"))
    expect(tiles).to_have_count(20)  # every picture, by likeness
    expect(page.locator("#count")).to_have_text("20 matches")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    expect(page.get_by_label("Search by")).to_have_value("meaning")


def test_duplicates_view_keeps_one_of_a_group_and_undo_brings_the_rest_back(page, server, tmp_path):  # noqa: F811
    folder = tmp_path / "variants"
    folder.mkdir()
    original = photo(320, 230, seed=3)  # photo-03's own scene, as other files
    original.resize((160, 115)).save(folder / "small.png")
    original.save(folder / "lossy.jpg", quality=40)
    server.library.import_paths([folder])
    ids = ids_by_name(server)
    page.get_by_role("link", name="Duplicates").click()
    view = page.get_by_role("region", name="Near-duplicates")
    expect(view).to_contain_text("keeping the largest of each frees")
    group = view.locator(".duplicate-group", has=page.locator(f"[data-id='{ids['small']}']"))
    expect(group.locator(".duplicate-card")).to_have_count(3)
    expect(group.locator(f"[data-id='{ids['photo-03']}']")).to_contain_text("largest")
    expect(group.locator(f"[data-id='{ids['small']}'] figcaption")).to_contain_text("small.png")  # named, not numbered
    screenshot(page, "duplicates")
    group.get_by_role("button", name="Keep photo-03.jpg, scrap the rest of its group").click()
    toast = page.locator("#toast")
    expect(toast).to_contain_text("Kept photo-03.jpg; 2 moved to the scrapheap")
    assert server.library.get(ids["small"]).deleted_at is not None
    assert server.library.get(ids["lossy"]).deleted_at is not None
    assert server.library.get(ids["photo-03"]).deleted_at is None
    toast.get_by_role("button", name="Undo").click()
    expect(toast).to_contain_text("Undone: Move 2 pictures to the scrapheap")
    assert server.library.get(ids["small"]).deleted_at is None
    expect(view.locator(f".duplicate-card[data-id='{ids['small']}']")).to_be_visible()
    # Alike but not duplicates: the group goes, and Undo brings it back.
    group = view.locator(".duplicate-group", has=page.locator(f"[data-id='{ids['small']}']"))
    group.get_by_role("button", name="Not duplicates").click()
    expect(toast).to_contain_text("3 pictures marked as not duplicates")
    expect(view.locator(f".duplicate-card[data-id='{ids['small']}']")).to_have_count(0)
    assert all(ids["small"] not in g.picture_ids for g in server.library.duplicate_groups())
    toast.get_by_role("button", name="Undo").click()
    expect(view.locator(f".duplicate-card[data-id='{ids['small']}']")).to_be_visible()
    view.get_by_role("button", name="Back to the pictures").click()
    expect(view).to_be_hidden()
    expect(page.locator(".tile:visible").first).to_be_visible()
