"""An edited picture's full-size download is rendered once per look, into a bounded cache, by one request
while the others asking for it wait; a share link's recipients together decode a few at a time, and the
owner's work goes before theirs. A share names the download by hash, never after the owner's file."""

from __future__ import annotations

import asyncio
import io
import threading
from concurrent.futures import ThreadPoolExecutor

import anyio
import numpy as np
import pytest
from live_server import LiveServer
from PIL import Image

from pixlstash.domain import EditChange
from pixlstash.files.renditions import RenditionCache
from pixlstash.sharing.service import ShareOptions
from pixlstash_web.decode_slots import DecodeSlots


@pytest.fixture
def edited(library, tmp_path):
    """A 2400x1600 noisy photo named after its owner's trip, straightened and cropped."""
    rng = np.random.default_rng(5)
    Image.fromarray(rng.integers(0, 255, (1600, 2400, 3), dtype=np.uint8)).save(tmp_path / "paris-trip-2026.png")
    [imported] = library.import_paths([tmp_path / "paris-trip-2026.png"]).imported
    library.edits.change_look([imported.picture_id], EditChange(angle=3.0))
    library.edits.change_look([imported.picture_id], EditChange(crop=(100, 100, 1800, 1200)))
    return imported.picture_id


def test_shared_edited_downloads_are_rendered_once_and_named_by_hash(library, edited):
    renders = []
    render = library.files.edited_image

    def counted(picture_id):  # the real rendering, counted
        renders.append(picture_id)
        return render(picture_id)

    library.files.edited_image = counted
    picture = library.get(edited)
    with LiveServer(library) as live:
        _, token = live.state.shares.create(
            "pictures", picture_ids=[edited], options=ShareOptions(edited_downloads=True, allow_original=True)
        )
        url = f"/api/v1/shared/{token}/media/{picture.content_hash}/original"
        with live.client() as recipient, ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: recipient.get(url), range(4)))
        with live.client(live.token("read")) as owner:
            own = owner.get(f"/api/v1/pictures/{edited}/edited")
    assert [a.status_code for a in answers] == [200] * 4
    assert len({a.content for a in answers}) == 1 and answers[0].content == own.content
    assert renders == [edited]  # four recipients and the owner: one render
    assert Image.open(io.BytesIO(answers[0].content)).size == (picture.width, picture.height)
    disposition = answers[0].headers["content-disposition"]
    assert f"{picture.content_hash}-edited.png" in disposition and "paris" not in disposition
    assert "paris-trip-2026-edited.png" in own.headers["content-disposition"]  # the owner sees their name


def test_the_cache_keeps_to_its_size_and_never_cuts_a_download_short(tmp_path):
    cache = RenditionCache(tmp_path / "edited", max_bytes=2500)
    hashes = [f"{n:064x}" for n in range(3)]

    def writer(n):
        return lambda out: out.write(bytes([n]) * 1000)

    first = cache.open(hashes[0], "k1", ".png", writer(0))
    cache.open(hashes[1], "k1", ".png", writer(1)).close()
    cache.open(hashes[2], "k1", ".png", writer(2)).close()  # 3000 bytes: the least recently used goes
    assert cache.open(hashes[0], "k1", ".png", None) is None
    assert first.read() == bytes([0]) * 1000  # a download in progress reads on after the trim
    first.close()
    assert cache.open(hashes[2], "k1", ".png", None).read() == bytes([2]) * 1000


def test_one_look_is_rendered_by_one_thread_while_the_others_wait(tmp_path):
    cache = RenditionCache(tmp_path / "edited")
    started, release, calls = threading.Event(), threading.Event(), []

    def slow(out):
        calls.append(1)
        started.set()
        release.wait()
        out.write(b"made once")

    with ThreadPoolExecutor(3) as pool:
        pending = [pool.submit(cache.open, "ab" * 32, "k", ".png", slow) for _ in range(3)]
        started.wait()
        release.set()
        bodies = [future.result().read() for future in pending]
    assert calls == [1] and bodies == [b"made once"] * 3


def test_the_owner_goes_before_share_traffic_and_a_link_decodes_a_few_at_a_time():
    async def scenario() -> None:
        slots = DecodeSlots(per_credential=2, total=1, per_share_link=1)
        order: list[str] = []
        release = threading.Event()

        def work(name: str, wait: bool = False):
            def run() -> str:
                if wait:
                    release.wait()
                order.append(name)
                return name

            return run

        async def until(condition) -> None:  # the tasks below run on this loop: wait for each to queue
            with anyio.fail_after(60):
                while not condition():
                    await asyncio.sleep(0.001)

        # One core: a recipient's download holds it; another recipient of the same link (another address)
        # waits for the link's one slot, a recipient of another link waits for the core, then the owner.
        holding = asyncio.create_task(slots.run(("share", 7, "10.0.0.1"), work("share 1", wait=True)))
        await until(lambda: slots.cores.free == 0)
        same_link = asyncio.create_task(slots.run(("share", 7, "10.0.0.2"), work("same link")))
        other_link = asyncio.create_task(slots.run(("share", 8, "10.0.0.3"), work("other link")))
        await until(lambda: slots.in_use(("share link", 7)) == 2 and len(slots.cores.waiting[1]) == 1)
        owner = asyncio.create_task(slots.run(("session", 1), work("owner")))
        await until(lambda: len(slots.cores.waiting[0]) == 1)
        release.set()
        await asyncio.gather(holding, same_link, other_link, owner)
        assert order[:2] == ["share 1", "owner"]  # the freed core went to the owner first
        assert set(order[2:]) == {"same link", "other link"}

    anyio.run(scenario)
