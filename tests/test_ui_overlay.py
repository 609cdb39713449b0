"""The picture overlay and selection as people expect them (issue 19, first part): EXIF read as a
photographer reads it (and where it was taken), the people its XMP names, zoom by wheel and double-click
around the pointer with the original loaded, a swipe to the next picture, face boxes that never take a
click, a phone's drawer that closes on a choice, and a selection bar that never moves the grid."""

from __future__ import annotations

from corpus import photo
from PIL import Image
from ui_library import ids_by_name, page, server, template, tile  # noqa: F401 - fixtures and helpers
from ui_support import expect, screenshot, sign_in


def exif_photo(path):
    image = photo(640, 480, seed=42)
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS R5"
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = "2024:05:31 06:42:37"
    ifd[0x9011] = "+02:00"
    ifd[0x829A] = (1, 1000)
    ifd[0x829D] = (28, 10)
    ifd[0x920A] = (35, 1)
    ifd[0x8827] = 200
    ifd[0xA434] = "RF 35mm F1.8 MACRO IS STM"
    gps = exif.get_ifd(0x8825)  # Liverpool's Pier Head, 12 m up
    gps.update({1: "N", 2: (53.0, 24.0, 30.24), 3: "W", 4: (2.0, 59.0, 41.4), 5: b"\x00", 6: 12.0})
    image.save(path, "JPEG", quality=90, exif=exif)


def test_exif_reads_as_a_photographer_reads_it(page, server, tmp_path):  # noqa: F811
    exif_photo(tmp_path / "shot.jpg")
    (picture,) = server.library.import_paths([tmp_path / "shot.jpg"]).imported
    page.goto(f"/?picture={picture.picture_id}")
    page.wait_for_selector("body[data-ready='1']")
    rows = page.locator("#exif")
    expect(rows).to_contain_text("CameraCanon EOS R5")
    expect(rows).to_contain_text("LensRF 35mm F1.8 MACRO IS STM")
    expect(rows).to_contain_text("Exposure1/1000 s · f/2.8 · 35 mm · ISO 200")
    expect(rows).to_contain_text("Taken2024-05-31 06:42 (UTC+02:00)")
    expect(rows).to_contain_text("Place53.40840° N, 2.99483° W · 12 m")
    expect(rows).not_to_contain_text("exposure_time")
    expect(rows).not_to_contain_text("gps")
    assert server.library.get(picture.picture_id).exif["exposure_time"] == 0.001  # a rational kept as a number
    with server.library.db.write():  # as imports before that stored it
        server.library.db.execute(
            "UPDATE pictures SET exif = json_set(exif, '$.exposure_time', '(1, 500)') WHERE id = ?",
            (picture.picture_id,),
        )
    page.reload()
    expect(rows).to_contain_text("Exposure1/500 s")


def test_people_named_in_a_photo_s_xmp_show_as_its_characters_and_named_faces(page, server, tmp_path):  # noqa: F811
    from test_xmp_people import _regions, _write

    photo(600, 300, seed=7).save(tmp_path / "family.jpg", quality=90)
    _write(tmp_path / "family.jpg", {**_regions([("Ana", "Face", (0.25, 0.4, 0.2, 0.3))]),
                                     "Xmp.iptcExt.PersonInImage": ["Chloé"]})  # fmt: skip
    (picture,) = server.library.import_paths([tmp_path / "family.jpg"]).imported
    page.goto(f"/?picture={picture.picture_id}")
    page.wait_for_selector("body[data-ready='1']")
    named = page.locator(".face-row", has_text="Named in its XMP")
    expect(named).to_have_count(1)
    [face] = [f for f in server.library.get(picture.picture_id).faces if f.engine_id == "xmp"]
    expect(named.locator("select")).to_have_value(str(face.character_id))
    expect(named.locator("select option:checked")).to_have_text("Ana")
    expect(named.locator("[data-similar-face]")).to_have_count(0)  # no likeness vector to search with
    expect(page.locator("#overlay")).to_contain_text("Chloé")  # filed under her, no face


def test_wheel_and_double_click_zoom_load_the_original_and_a_swipe_steps(page, server):  # noqa: F811
    ids = ids_by_name(server)
    tile(page, ids["photo-05"]).click()
    stage = page.locator("#stage")
    image = page.locator("#full")
    expect(image).to_be_visible()
    box = stage.bounding_box()
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.move(*centre)
    page.mouse.wheel(0, -400)
    expect(stage).to_have_class("stage zoomed")
    assert float(stage.get_attribute("data-scale")) > 1.5
    expect(image).to_have_attribute("src", f"/api/v1/media/{server.library.get(ids['photo-05']).content_hash}/original")
    # A drag pans instead of stepping while zoomed in.
    page.mouse.down()
    page.mouse.move(centre[0] - 150, centre[1], steps=5)
    page.mouse.up()
    assert f"picture={ids['photo-05']}" in page.url
    page.mouse.dblclick(*centre)
    expect(stage).to_have_attribute("data-scale", "1.000")
    # At fit, a quick horizontal swipe goes to the next picture.
    order = page.evaluate("() => [...window.pixlstash.app.grid.ids]")
    following = order[order.index(ids["photo-05"]) + 1]
    page.mouse.move(*centre)
    page.mouse.down()
    page.mouse.move(centre[0] - 200, centre[1] + 5, steps=4)
    page.mouse.up()
    expect(page).to_have_url(f"{server.url}/?picture={following}")
    # Face boxes never take the pointer (they used to swallow the click that zooms).
    assert page.evaluate("() => getComputedStyle(document.getElementById('faceboxes')).pointerEvents") == "none"


def test_selecting_never_moves_the_grid_and_a_phone_drawer_closes_on_a_choice(page, server, browser):  # noqa: F811
    grid = page.locator("#grid")
    top = grid.bounding_box()["y"]
    ids = ids_by_name(server)
    tile(page, ids["red"]).click(modifiers=["Control"])
    expect(page.locator("#selection-bar")).to_be_visible()
    assert grid.bounding_box()["y"] == top
    phone = browser.new_context(base_url=server.url, viewport={"width": 390, "height": 844}, is_mobile=True)
    small = phone.new_page()
    sign_in(small)
    small.get_by_role("button", name="Show or hide the sidebar").click()
    drawer = small.locator("#sidebar")
    expect(drawer).to_be_visible()
    small.get_by_role("link", name="Duplicates").click()
    expect(drawer).to_be_hidden()
    expect(small.get_by_role("region", name="Near-duplicates")).to_contain_text("keeping the largest")
    assert small.evaluate("() => document.documentElement.scrollWidth") <= 390
    screenshot(small, "phone-duplicates")
    phone.close()


def test_a_light_theme_follows_the_system_setting(browser, server):  # noqa: F811
    for scheme, background in (("light", "rgb(246, 247, 249)"), ("dark", "rgb(18, 20, 23)")):
        context = browser.new_context(base_url=server.url, viewport={"width": 1440, "height": 900}, color_scheme=scheme)
        themed = context.new_page()
        sign_in(themed)
        assert themed.evaluate("() => getComputedStyle(document.body).backgroundColor") == background
        themed.locator(".tile:visible").first.click(modifiers=["Control"])
        screenshot(themed, f"grid-{scheme}")
        context.close()
