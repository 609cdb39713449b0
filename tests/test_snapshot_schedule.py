"""The automatic snapshot schedule, run by a real server on a clock the test moves forward."""

from __future__ import annotations

import time
from datetime import datetime

from conftest import wait_for
from live_server import LiveServer, make_pictures

from pixlstash.instance import InstanceOptions
from pixlstash_web.app import WebSettings

DAY = 86_400_000


class SteppedClock:
    """Unix milliseconds that only move when the test says so."""

    def __init__(self, start: int) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now


def test_the_server_takes_daily_weekly_and_monthly_snapshots_and_prunes_them(library, tmp_path):
    make_pictures(library, tmp_path / "p", 2)
    clock = SteppedClock(1_700_000_000_000)
    settings = WebSettings(
        services=InstanceOptions(
            watch_folders=False, enrichment=False, snapshot_schedule=True, snapshot_check_seconds=0.02, clock=clock
        )
    )
    with LiveServer(library, settings) as server, server.client(server.token("admin")) as http:

        def snapshots() -> list[dict]:
            return http.get("/api/v1/snapshots").raise_for_status().json()

        def kinds() -> dict[str, list[int]]:
            found: dict[str, list[int]] = {"DAILY": [], "WEEKLY": [], "MONTHLY": []}
            for snapshot in snapshots():
                stamp = int(datetime.fromisoformat(snapshot["created_at"]).timestamp() * 1000)
                found.setdefault(snapshot["kind"], []).append(stamp)
            return found

        schedule = http.get("/api/v1/snapshots/schedule").json()
        assert schedule == {"enabled": True}
        steps = [DAY] * 10 + [7 * DAY] * 6 + [30 * DAY] * 13  # ten days, six weeks, thirteen months
        for step in [0, *steps]:
            clock.now += step
            # The schedule takes the DAILY last: once it has today's stamp, this tick's work is done.
            wait_for(lambda: clock.now in kinds()["DAILY"], f"the DAILY snapshot of {clock.now}")
        final = wait_for(
            lambda: (k := kinds()) and [len(k["DAILY"]), len(k["WEEKLY"]), len(k["MONTHLY"])] == [7, 4, 12] and k,
            "pruning to 7 / 4 / 12",
        )
        # What is kept is the newest of each kind: the last ticks were a month apart, each took all three.
        for kind, keep in (("DAILY", 7), ("WEEKLY", 4), ("MONTHLY", 12)):
            assert sorted(final[kind]) == [clock.now - k * 30 * DAY for k in reversed(range(keep))]

        # Manual snapshots are never pruned; a schedule turned off takes nothing more.
        http.post("/api/v1/snapshots", json={"label": "keep me"}).raise_for_status()
        assert http.put("/api/v1/snapshots/schedule", json={"enabled": False}).json() == {"enabled": False}
        count = len(snapshots())
        clock.now += 40 * DAY
        time.sleep(0.3)  # fifteen checks of the schedule
        after = snapshots()
        assert len(after) == count and "keep me" in [s["label"] for s in after]
