"""Anime characters in the browser, as photo faces are: the People panel lists the unnamed characters the
anime engines found (a filter picks the engine), naming one makes a character, the viewer names each box's
engine and guesses the character of an unnamed head by CCIP ("Looks like …", one click), merging two
characters and each step undoes from its toast. Real Chromium, a real server, the engines in their own
process on the random-weight graphs."""

from __future__ import annotations

import pytest
from PIL import Image
from test_anime_plugin import FACES, HEADS, pictures
from tiny_anime import build_tiny_models

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


@pytest.mark.slow
def test_anime_characters_are_named_guessed_merged_and_undone_in_the_browser(tmp_path, monkeypatch):
    import pixlstash_anime
    from live_server import LiveServer
    from test_web_enrichment import wait_for_jobs
    from ui_support import OWNER, PASSWORD, launch, screenshot, signed_in_page

    from pixlstash import make_plugin_manager
    from pixlstash.domain import EnrichmentSettings, PeopleSettings
    from pixlstash.library import Library

    build_tiny_models(tmp_path / "hub", detectors=("head_detect_v2.0_s", "face_detect_v1.4_s"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("PIXLSTASH_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("PIXLSTASH_ANIME_DETECTORS", "head_detect_v2.0_s,face_detect_v1.4_s")
    folder = tmp_path / "pictures"
    folder.mkdir()
    for n, image in enumerate(pictures()):
        image.save(folder / f"scene{n}.png")
    pm = make_plugin_manager(load_entry_points=False)
    pm.register(pixlstash_anime, name="anime")
    with Library.open(tmp_path / "lib", plugin_manager=pm) as library, LiveServer(library) as live:
        library.engines.configure(EnrichmentSettings(on_import=["faces"], defaults={"faces": HEADS}))
        library.people.configure(PeopleSettings(engine_thresholds={HEADS: 0.92, FACES: 0.92}))
        ids = [item.picture_id for item in library.import_paths([folder]).imported]
        client = live.client(live.token("write"))
        # The face detector too, leaving out its many tiny boxes (the random graph finds edges everywhere).
        queued = client.post(
            "/api/v1/jobs", json={"task": "faces", "engine": FACES, "picture_ids": ids, "parameters": {"min_size": 12}}
        )
        assert queued.status_code == 202, queued.text
        wait_for_jobs(client, timeout=120)
        library.people.update()
        clusters = client.get("/api/v1/people/unnamed", params={"min_faces": 1}).json()
        assert {c["engine_id"] for c in clusters} == {HEADS, FACES}
        heads = [c for c in clusters if c["engine_id"] == HEADS]
        live.state.auth.create_user(OWNER, PASSWORD)
        with playwright_api.sync_playwright() as p:
            browser = launch(p)
            with signed_in_page(browser, live) as page:
                page.locator("#open-people").click()
                panel = page.locator("#panel")
                unnamed = panel.locator("#unnamed .face-row:visible")
                expect(unnamed).to_have_count(len(clusters))
                panel.get_by_label("Faces found by").select_option(label="Anime heads")
                expect(unnamed).to_have_count(len(heads))
                expect(unnamed.first).to_contain_text("Anime heads")
                screenshot(page, "anime-people")
                first = heads[0]["cluster_id"]
                panel.get_by_label(f"Name unnamed person {first}", exact=True).fill("Pink")
                panel.get_by_label(f"Name unnamed person {first}", exact=True).press("Enter")
                expect(page.locator("#toast")).to_contain_text("Named Pink")
                pink = next(c for c in client.get("/api/v1/characters").json() if c["name"] == "Pink")
                assert pink["member_count"] >= 1

                # A new picture of Pink arrives (another render of one of hers, a little smaller); in the
                # viewer each box names its engine, and its head is guessed as Pink by CCIP.
                cover = heads[0]["cover_picture_id"]
                again = tmp_path / "more" / "again.png"
                again.parent.mkdir()
                with Image.open(folder / f"scene{ids.index(cover)}.png") as original:
                    original.resize((original.width - 8, original.height - 6)).save(again)
                [picture_id] = [item.picture_id for item in library.import_paths([again.parent]).imported]
                wait_for_jobs(client, timeout=120)
                guesses = client.get(f"/api/v1/pictures/{picture_id}/character-guesses").json()
                guess = next(g for g in guesses if g["engine_id"] == HEADS)
                assert (guess["name"], guess["character_id"]) == ("Pink", pink["id"])
                assert client.get("/api/v1/pictures/999999/character-guesses").status_code == 404
                assert live.client().get(f"/api/v1/pictures/{picture_id}/character-guesses").status_code == 401
                assert guess["likeness"] >= 0.92
                page.goto(f"/?picture={picture_id}")
                viewer = page.locator("#overlay")
                expect(viewer.locator(".facebox").first).to_contain_text("Anime")
                looks = viewer.get_by_role("button", name="Looks like Pink")
                expect(looks.first).to_be_visible()
                screenshot(page, "anime-guess")
                looks.first.click()
                toast = page.locator("#toast")
                expect(toast).to_contain_text("Named Pink")
                face = next(
                    f
                    for f in client.get(f"/api/v1/pictures/{picture_id}").json()["faces"]
                    if f["id"] == guess["face_id"]
                )
                assert face["character_id"] == pink["id"]
                toast.get_by_role("button", name="Undo").click()
                expect(toast).to_contain_text("Undone")
                face = next(
                    f
                    for f in client.get(f"/api/v1/pictures/{picture_id}").json()["faces"]
                    if f["id"] == guess["face_id"]
                )
                assert face["character_id"] is None

                # A second character, merged into Pink, and the merge undone.
                page.goto("/")
                page.wait_for_selector("body[data-ready='1']")  # (a click before the app starts is lost)
                page.locator("#open-people").click()
                remaining = next(
                    c["cluster_id"] for c in client.get("/api/v1/people/unnamed", params={"min_faces": 1}).json()
                )
                panel.get_by_label(f"Name unnamed person {remaining}", exact=True).fill("Sakura")
                panel.get_by_label(f"Name unnamed person {remaining}", exact=True).press("Enter")
                expect(page.locator("#toast")).to_contain_text("Named Sakura")
                panel.get_by_label("Merge into").select_option(label="Pink")
                panel.get_by_role("button", name="Merge Sakura into it").click()
                page.locator(".dialog").get_by_role("button", name="Merge").click()
                expect(toast).to_contain_text("Merged into Pink")
                assert {c["name"] for c in client.get("/api/v1/characters").json()} == {"Pink"}
                toast.get_by_role("button", name="Undo").click()
                expect(toast).to_contain_text("Undone: Merge Sakura into Pink")
                assert {c["name"] for c in client.get("/api/v1/characters").json()} == {"Pink", "Sakura"}
            with signed_in_page(
                browser, live, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
            ) as page:
                page.locator("#open-people").click()
                expect(page.locator("#panel").get_by_label("Faces found by")).to_be_visible()
                screenshot(page, "anime-people-phone")
            browser.close()
