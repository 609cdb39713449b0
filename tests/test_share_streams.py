"""Share event streams cannot hold up the owner: bulk edits with 40 anonymous streams open, caps on
streams per link and per address, and what one stream keeps while it waits."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import httpx
import pytest
from live_server import LiveServer

from pixlstash.instance import InstanceOptions
from pixlstash.library import Library
from pixlstash.system.events import Event
from pixlstash_web.app import WebSettings
from pixlstash_web.event_streams import Mailbox

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from synthetic_library import build

SIZE = 3000


@pytest.fixture
def crowded(tmp_path):
    """A server over 3,000 pictures in one set, and a write token."""
    root = tmp_path / "lib"
    build(root, pictures=SIZE, tags_per_picture=3, sets=2, characters=2, seed=3, log=lambda *_: None)
    library = Library.open(root)
    shared = library.organise.create_collection("set", "for friends")
    library.organise.add_members(shared.id, list(range(1, SIZE + 1)))
    settings = WebSettings(
        sse_heartbeat=0.5,
        share_streams_per_link=20,
        share_streams_per_address=40,
        services=InstanceOptions(watch_folders=False, snapshot_schedule=False),
    )
    with LiveServer(library, settings) as live:
        yield live, shared.id, live.token("write")
    library.close()


HANG = 300  # seconds: only a hang takes this long, however busy the machine (the waits below are for events)


async def _until(condition, what: str) -> None:
    """Until ``condition()`` holds (the server's own count, polled), failing only on a hang."""
    deadline = time.monotonic() + HANG
    while not condition():
        assert time.monotonic() < deadline, f"{what} never happened"
        await asyncio.sleep(0.05)


async def _opened(stream: asyncio.Task, opened: asyncio.Event) -> None:
    """Until the stream's first line came, or the stream failed (then its error is raised at once)."""
    waiting = asyncio.create_task(opened.wait())
    await asyncio.wait({stream, waiting}, timeout=HANG, return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    if stream.done() and not opened.is_set():
        stream.result()  # its assertion (a 429), or its error
    assert opened.is_set(), "the stream never opened"


async def _open_stream(http: httpx.AsyncClient, link: str, seen: set[int], opened: asyncio.Event) -> None:
    async with http.stream("GET", f"/api/v1/shared/{link}/events") as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            opened.set()
            if line.startswith("data: "):
                seen.update(json.loads(line[6:])["picture_ids"])


def test_forty_share_streams_do_not_hold_up_bulk_edits_or_the_owner(crowded):
    live, set_id, token = crowded
    ids = list(range(1, SIZE + 1))

    async def scenario() -> tuple[list[float], list[float], list[set[int]]]:
        owner = httpx.AsyncClient(base_url=live.url, headers={"Authorization": f"Bearer {token}"}, timeout=120)
        anonymous = httpx.AsyncClient(base_url=live.url, timeout=None, limits=httpx.Limits(max_connections=50))
        links = []
        for n in range(2):
            made = await owner.post("/api/v1/shares", json={"scope_type": "set", "scope_id": set_id, "title": str(n)})
            links.append(made.json()["token"])
        seen = [set() for _ in range(40)]
        opened = [asyncio.Event() for _ in range(40)]
        streams = [asyncio.create_task(_open_stream(anonymous, links[n % 2], seen[n], opened[n])) for n in range(40)]
        for stream, first_line in zip(streams, opened, strict=True):
            await _opened(stream, first_line)
        latencies: list[float] = []
        edits: list[float] = []
        done = asyncio.Event()

        async def owner_browses() -> None:
            while not done.is_set():
                begin = time.perf_counter()
                assert (await owner.get("/api/v1/pictures", params={"limit": 100})).status_code == 200
                latencies.append(time.perf_counter() - begin)
                await asyncio.sleep(0.02)

        browsing = asyncio.create_task(owner_browses())
        for rating in (1, 2, 3):
            begin = time.perf_counter()
            edit = await owner.post(
                "/api/v1/pictures/bulk", json={"ids": ids, "operation": {"action": "rate", "rating": rating}}
            )
            assert edit.status_code == 200, edit.text
            edits.append(time.perf_counter() - begin)
        await _until(lambda: all(len(s) == SIZE for s in seen), "every stream learning of every picture")
        done.set()
        await browsing
        for task in streams:
            task.cancel()
        await asyncio.gather(*streams, return_exceptions=True)
        await owner.aclose()
        await anonymous.aclose()
        return latencies, edits, seen

    latencies, edits, seen = asyncio.run(scenario())
    # Before streams were bounded and batched, each edit took 26 s and the owner waited as long.
    assert max(edits) < 3, edits
    assert max(latencies) < 2, max(latencies)
    assert all(s == set(ids) for s in seen)  # every stream still learnt of every changed picture


def test_streams_are_capped_per_link_and_per_address_and_slots_come_back(crowded):
    live, set_id, token = crowded
    owner = live.client(token)
    links = [
        owner.post("/api/v1/shares", json={"scope_type": "set", "scope_id": set_id, "title": str(n)}).json()["token"]
        for n in range(3)
    ]

    listeners_before = len(live.library.events._subscribers)

    async def scenario() -> None:
        anonymous = httpx.AsyncClient(base_url=live.url, timeout=None, limits=httpx.Limits(max_connections=60))
        opened = [asyncio.Event() for _ in range(40)]
        streams = [
            asyncio.create_task(_open_stream(anonymous, links[0 if n < 20 else 1], set(), opened[n])) for n in range(40)
        ]
        for stream, first_line in zip(streams, opened, strict=True):
            await _opened(stream, first_line)
        full_link = await anonymous.get(f"/api/v1/shared/{links[0]}/events")
        assert full_link.status_code == 429
        assert "20 live update streams" in full_link.json()["error"]["message"]
        assert full_link.headers["Retry-After"] == "30"
        full_address = await anonymous.get(f"/api/v1/shared/{links[2]}/events")  # a fresh link, same address
        assert full_address.status_code == 429
        assert "from this address" in full_address.json()["error"]["message"]
        assert owner_listing_works()  # the owner's own stream and requests are not capped
        streams[0].cancel()  # a recipient leaves: its slot comes back
        await asyncio.gather(streams[0], return_exceptions=True)
        # links[0]'s own share (``all()`` lists the newest first: [0] was links[2], whose count is 0 from the
        # start, so the wait passed at once and the next stream raced the slot coming back)
        link_id = next(share.id for share in live.state.shares.all() if share.title == "0")
        await _until(lambda: live.state.share_streams.count(link_id) < 20, "the left slot coming back")
        again = asyncio.Event()
        extra = asyncio.create_task(_open_stream(anonymous, links[0], set(), again))
        await _opened(extra, again)
        for task in [*streams[1:], extra]:
            task.cancel()
        await asyncio.gather(*streams[1:], extra, return_exceptions=True)
        await anonymous.aclose()
        # Every stream closed on the server too: no listener is left behind.
        await _until(lambda: len(live.library.events._subscribers) <= listeners_before, "every stream closing")
        assert len(live.library.events._subscribers) == listeners_before
        # each slot comes back just after its stream leaves the event bus: waited for, as the listeners are
        await _until(lambda: live.state.share_streams.count(link_id) == 0, "every slot coming back")

    def owner_listing_works() -> bool:
        with owner.stream("GET", "/api/v1/events") as response:
            return response.status_code == 200

    asyncio.run(scenario())


def test_a_stream_merges_what_waits_and_past_its_bound_asks_for_a_reload():
    async def scenario() -> None:
        mailbox = Mailbox(asyncio.get_running_loop())
        mailbox.put(Event("picture.changed", [1, 2], {"fields": ["rating"]}))
        mailbox.put(Event("picture.changed", [2, 3], {"fields": ["rating"]}))
        mailbox.put(Event("picture.changed", [4], {"fields": ["tags"]}))  # other data: kept apart
        mailbox.put(Event("picture.removed", [5]))
        mailbox.put(Event("picture.changed", [6], {"fields": ["tags"]}))  # not merged across the removal
        mailbox.put(Event("job.progress", data={"done": 1}))
        mailbox.put(Event("job.progress", data={"done": 1}))  # not picture events: never merged
        assert await mailbox.take(1) == [
            Event("picture.changed", [1, 2, 3], {"fields": ["rating"]}),
            Event("picture.changed", [4], {"fields": ["tags"]}),
            Event("picture.removed", [5]),
            Event("picture.changed", [6], {"fields": ["tags"]}),
            Event("job.progress", data={"done": 1}),
            Event("job.progress", data={"done": 1}),
        ]
        with pytest.raises(TimeoutError):
            await mailbox.take(0.05)  # nothing left
        for n in range(300):
            mailbox.put(Event("job.progress", data={"done": n}))
        assert await mailbox.take(1) == [Event("library.changed", data={"reload": True})]
        mailbox.put(Event("picture.added", [7]))  # and afterwards it works as before
        assert await mailbox.take(1) == [Event("picture.added", [7])]

    asyncio.run(scenario())
