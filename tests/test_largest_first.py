"""The import's worker pool takes the largest waiting file first (issue 65), keeps the arrival order with
one worker, and hands a failure to whoever waits on it. Ordering is checked by what ran when the workers
were held back on an event, never by timing."""

from __future__ import annotations

import threading

import pytest

from pixlstash.importing.largest_first import LargestFirstPool


def _held_pool(workers: int):
    """A pool whose workers are each kept busy until their event is set, so that everything submitted
    after them waits in its queue."""
    events, started = [threading.Event() for _ in range(workers)], threading.Semaphore(0)
    pool = LargestFirstPool(workers, thread_name_prefix="test-pool")

    def blocker(event: threading.Event) -> None:
        started.release()
        event.wait()

    for event in events:
        pool.submit(10**9, blocker, event)
    for _ in events:
        assert started.acquire(timeout=300)
    return pool, events


def test_the_largest_waiting_file_runs_first():
    pool, (first, second) = _held_pool(2)
    ran: list[str] = []
    sizes = {"small.jpg": 200_000, "huge.png": 19_000_000, "mid.png": 5_000_000, "tiny.txt": 600, "also-mid": 5_000_000}
    futures = {name: pool.submit(size, ran.append, name) for name, size in sizes.items()}
    first.set()  # one worker takes the queue, one call at a time: the order it takes them in is the order
    for future in futures.values():
        future.result(timeout=300)
    second.set()
    pool.shutdown()
    assert ran == ["huge.png", "mid.png", "also-mid", "small.jpg", "tiny.txt"]  # equal sizes: as they came


def test_one_worker_keeps_the_order_files_came_in():
    pool, (held,) = _held_pool(1)
    ran: list[str] = []
    for name, size in (("a", 1), ("b", 900), ("c", 5), ("d", 10**8)):
        pool.submit(size, ran.append, name)
    held.set()
    pool.shutdown()
    assert ran == ["a", "b", "c", "d"]


def test_a_failure_goes_to_its_future_and_the_pool_goes_on():
    with LargestFirstPool(2, thread_name_prefix="test-pool") as pool:
        failed = pool.submit(5, lambda: 1 / 0)
        fine = pool.submit(1, lambda: "fine")
        with pytest.raises(ZeroDivisionError):
            failed.result(timeout=300)
        assert fine.result(timeout=300) == "fine"
    with pytest.raises(RuntimeError, match="shut down"):
        pool.submit(1, print)
    assert [thread.name for thread in pool._threads] == ["test-pool_0", "test-pool_1"]
    assert not any(thread.is_alive() for thread in pool._threads)
