"""SQL for the enrichment job queue: jobs, their items (one per picture), and what is already done.

An item moves ``queued -> running -> done | failed``; ``running`` only while a worker holds it. The
worker that owns the library's job lock resets stale ``running`` items on start, so a killed process
resumes exactly where it stopped, and an item is marked done in the same transaction that writes its
results, so nothing is computed into the library twice.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from ..domain import EngineProgress, Job, JobItemError
from ..errors import NotFound
from .database import Database

__all__ = ["ClaimedBatch", "JobStore"]

_JOB_COLUMNS = (
    "id, task, engine_id, engine_version, state, reason, total, done, failed, created_at, started_at, "
    "finished_at, error, parameters"
)
_params_decoder = msgspec.json.Decoder(dict)


class ClaimedBatch(msgspec.Struct):
    job_id: int
    task: str
    engine_id: str
    parameters: dict
    picture_ids: list[int]


def _to_job(row: Sequence, queued: int) -> Job:
    return Job(
        id=row[0],
        task=row[1],
        engine_id=row[2],
        engine_version=row[3],
        state=row[4],
        reason=row[5],
        total=row[6],
        done=row[7],
        failed=row[8],
        queued=queued,
        created_at=row[9],
        started_at=row[10],
        finished_at=row[11],
        error=row[12],
        parameters=_params_decoder.decode(row[13]),
    )


class JobStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- queueing -------------------------------------------------------------------------------

    def create(
        self,
        task: str,
        engine_id: str,
        engine_version: str,
        picture_ids: Sequence[int],
        *,
        parameters: dict | None = None,
        reason: str = "request",
        now: int,
    ) -> int | None:
        """A job over ``picture_ids`` (inside the caller's write); None when there is nothing to do."""
        if not picture_ids:
            return None
        if reason == "import" and not parameters:
            # New pictures join the engine's open import job: a folder filling one file at a time makes
            # one job, not thousands.
            open_job = self.db.scalar(
                "SELECT id FROM jobs WHERE reason = 'import' AND engine_id = ? AND engine_version = ? "
                "AND parameters = '{}' AND state IN ('queued', 'running') ORDER BY id DESC LIMIT 1",
                (engine_id, engine_version),
            )
            if open_job is not None:
                self.db.connection.executemany(
                    "INSERT OR IGNORE INTO job_items(job_id, picture_id) VALUES (?, ?)",
                    [(open_job, pid) for pid in picture_ids],
                )
                self.db.execute(
                    "UPDATE jobs SET total = (SELECT count(*) FROM job_items WHERE job_id = ?) WHERE id = ?",
                    (open_job, open_job),
                )
                return open_job
        self.db.execute(
            "INSERT INTO jobs(task, engine_id, engine_version, parameters, reason, total, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                task,
                engine_id,
                engine_version,
                msgspec.json.encode(parameters or {}).decode(),
                reason,
                len(picture_ids),
                now,
            ),
        )
        job_id = self.db.connection.last_insert_rowid()
        self.db.connection.executemany(
            "INSERT OR IGNORE INTO job_items(job_id, picture_id) VALUES (?, ?)", [(job_id, pid) for pid in picture_ids]
        )
        return job_id

    def not_enriched(self, engine_id: str, engine_version: str, picture_ids: Sequence[int]) -> list[int]:
        """Those of ``picture_ids`` this engine version has not yet done, and not already queued for it."""
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted_ids (id INTEGER PRIMARY KEY)")
        self.db.execute("DELETE FROM temp.wanted_ids")
        self.db.connection.executemany(
            "INSERT OR IGNORE INTO temp.wanted_ids VALUES (?)", [(pid,) for pid in picture_ids]
        )
        rows = self.db.query(
            "SELECT w.id FROM temp.wanted_ids w WHERE NOT EXISTS (SELECT 1 FROM enrichments e "
            "WHERE e.engine_id = ? AND e.picture_id = w.id AND e.engine_version = ?) AND NOT EXISTS ("
            "SELECT 1 FROM job_items i JOIN jobs j ON j.id = i.job_id WHERE i.picture_id = w.id "
            "AND i.state IN ('queued', 'running') AND j.engine_id = ?)",
            (engine_id, engine_version, engine_id),
        )
        self.db.execute("DELETE FROM temp.wanted_ids")
        return [r[0] for r in rows]

    def never_queued(self, engine_id: str) -> list[int]:
        """Live pictures this engine neither did nor was ever asked to do (a crash mid-import, a new plugin)."""
        rows = self.db.query(
            "SELECT id FROM pictures p WHERE deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM enrichments e "
            "WHERE e.engine_id = ? AND e.picture_id = p.id) AND NOT EXISTS (SELECT 1 FROM job_items i "
            "JOIN jobs j ON j.id = i.job_id WHERE i.picture_id = p.id AND j.engine_id = ?)",
            (engine_id, engine_id),
        )
        return [r[0] for r in rows]

    # -- working --------------------------------------------------------------------------------

    def reset_running(self) -> int:
        """Items a dead worker held go back to the queue (called by the worker that takes the lock)."""
        self.db.execute("UPDATE job_items SET state = 'queued' WHERE state = 'running'")
        changed = self.db.connection.changes()
        self.db.execute("UPDATE jobs SET state = 'queued' WHERE state = 'running'")
        return changed

    def fail_exhausted(self, max_attempts: int) -> list[tuple[int, int]]:
        """Items that were being worked on when the worker died ``max_attempts`` times: marked failed."""
        rows = self.db.query(
            "SELECT job_id, picture_id FROM job_items WHERE state = 'queued' AND attempts >= ?", (max_attempts,)
        )
        for job_id, picture_id in rows:
            self.finish_item(
                job_id, picture_id, f"the worker stopped while processing this picture {max_attempts} times"
            )
        return rows

    def runnable_jobs(self) -> list[tuple[int, str, str, str]]:
        """Open jobs, requested ones before import ones, oldest first: (id, task, engine_id, parameters JSON)."""
        return self.db.query(
            "SELECT id, task, engine_id, parameters FROM jobs WHERE state IN ('queued', 'running') "
            "ORDER BY reason = 'import', id"
        )

    def engine_busy(self, engine_id: str) -> bool:
        """Whether pictures are queued or running for ``engine_id`` (a scorer reading its vectors waits)."""
        return bool(
            self.db.scalar(
                "SELECT 1 FROM jobs j WHERE j.engine_id = ? AND j.state IN ('queued', 'running') AND EXISTS "
                "(SELECT 1 FROM job_items i WHERE i.job_id = j.id AND i.state IN ('queued', 'running')) LIMIT 1",
                (engine_id,),
            )
        )

    def claim(self, job_id: int, limit: int, now: int) -> list[int]:
        """Mark up to ``limit`` queued items of a job running (attempts + 1); returns their picture ids."""
        ids = [
            r[0]
            for r in self.db.query(
                "SELECT picture_id FROM job_items WHERE job_id = ? AND state = 'queued' ORDER BY picture_id LIMIT ?",
                (job_id, limit),
            )
        ]
        if ids:
            marks = ",".join("?" * len(ids))
            self.db.execute(
                f"UPDATE job_items SET state = 'running', attempts = attempts + 1 "
                f"WHERE job_id = ? AND picture_id IN ({marks})",
                (job_id, *ids),
            )
            self.db.execute(
                "UPDATE jobs SET state = 'running', started_at = coalesce(started_at, ?) "
                "WHERE id = ? AND state = 'queued'",
                (now, job_id),
            )
        return ids

    def finish_item(self, job_id: int, picture_id: int, error: str | None = None) -> bool:
        """Mark one item done (or failed with ``error``); False when it was no longer open (cancelled, restored)."""
        state = "failed" if error else "done"
        self.db.execute(
            "UPDATE job_items SET state = ?, error = ? WHERE job_id = ? AND picture_id = ? "
            "AND state IN ('queued', 'running')",
            (state, error, job_id, picture_id),
        )
        if not self.db.connection.changes():
            return False
        column = "failed" if error else "done"
        self.db.execute(f"UPDATE jobs SET {column} = {column} + 1 WHERE id = ?", (job_id,))
        return True

    def release(self, job_id: int, picture_ids: Sequence[int]) -> None:
        """Give claimed items back to the queue untouched (the engine could not start)."""
        marks = ",".join("?" * len(picture_ids))
        self.db.execute(
            f"UPDATE job_items SET state = 'queued', attempts = max(attempts - 1, 0) "
            f"WHERE job_id = ? AND state = 'running' AND picture_id IN ({marks})",
            (job_id, *picture_ids),
        )

    def mark_enriched(self, picture_id: int, engine_id: str, engine_version: str, now: int) -> None:
        self.db.execute(
            "INSERT INTO enrichments(picture_id, engine_id, engine_version, created_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET engine_version = excluded.engine_version, "
            "created_at = excluded.created_at",
            (picture_id, engine_id, engine_version, now),
        )

    def close_if_finished(self, job_id: int, now: int) -> bool:
        """A job with no open items is done (or failed when every item failed)."""
        if self.db.scalar(
            "SELECT 1 FROM job_items WHERE job_id = ? AND state IN ('queued', 'running') LIMIT 1", (job_id,)
        ):
            return False
        self.db.execute(
            "UPDATE jobs SET state = CASE WHEN done = 0 AND failed > 0 THEN 'failed' ELSE 'done' END, "
            "finished_at = ? WHERE id = ? AND state IN ('queued', 'running')",
            (now, job_id),
        )
        return bool(self.db.connection.changes())

    def fail_job(self, job_id: int, error: str, now: int) -> None:
        """The whole job cannot run (engine missing, model missing); its items stay queued for a retry."""
        self.db.execute("UPDATE job_items SET state = 'queued' WHERE job_id = ? AND state = 'running'", (job_id,))
        self.db.execute(
            "UPDATE jobs SET state = 'failed', error = ?, finished_at = ? WHERE id = ?", (error, now, job_id)
        )

    def prune_finished(self, before: int) -> None:
        """Forget finished jobs older than ``before`` (their results stay; only the bookkeeping goes)."""
        self.db.execute("DELETE FROM jobs WHERE state = 'done' AND finished_at < ?", (before,))

    # -- managing -------------------------------------------------------------------------------

    def cancel(self, job_id: int, now: int) -> None:
        self.get(job_id)
        self.db.execute(
            "UPDATE job_items SET state = 'cancelled' WHERE job_id = ? AND state IN ('queued', 'running')", (job_id,)
        )
        self.db.execute(
            "UPDATE jobs SET state = 'cancelled', finished_at = ? WHERE id = ? AND state IN ('queued', 'running')",
            (now, job_id),
        )

    def retry(self, job_id: int) -> int:
        """Queue a job's failed and cancelled items again; returns how many."""
        self.get(job_id)
        self.db.execute(
            "UPDATE job_items SET state = 'queued', attempts = 0, error = NULL WHERE job_id = ? "
            "AND state IN ('failed', 'cancelled')",
            (job_id,),
        )
        requeued = self.db.connection.changes()
        self.db.execute(
            "UPDATE jobs SET state = 'queued', error = NULL, finished_at = NULL, "
            "failed = (SELECT count(*) FROM job_items WHERE job_id = jobs.id AND state = 'failed') "
            "WHERE id = ?",
            (job_id,),
        )
        return requeued

    def get(self, job_id: int) -> Job:
        row = self.db.row(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,))
        if row is None:
            raise NotFound(f"no job {job_id}")
        return _to_job(row, self._queued(job_id))

    def _queued(self, job_id: int) -> int:
        return self.db.scalar(
            "SELECT count(*) FROM job_items WHERE job_id = ? AND state IN ('queued', 'running')", (job_id,)
        )

    def list(self, *, open_only: bool = False, limit: int = 100) -> list[Job]:
        where = "WHERE state IN ('queued', 'running')" if open_only else ""
        rows = self.db.query(f"SELECT {_JOB_COLUMNS} FROM jobs {where} ORDER BY id DESC LIMIT ?", (limit,))
        return [_to_job(row, self._queued(row[0]) if row[4] in ("queued", "running") else 0) for row in rows]

    def item_errors(self, job_id: int, limit: int = 100) -> list[JobItemError]:
        rows = self.db.query(
            "SELECT picture_id, error, attempts FROM job_items WHERE job_id = ? AND state = 'failed' "
            "ORDER BY picture_id LIMIT ?",
            (job_id, limit),
        )
        return [JobItemError(pid, error or "", attempts) for pid, error, attempts in rows]

    def progress(self, now: int) -> list[EngineProgress]:
        """Per engine over its open jobs; throughput is pictures finished since the oldest open job started."""
        rows = self.db.query(
            "SELECT j.engine_id, j.task, count(*) FILTER (WHERE i.state = 'queued'), "
            "count(*) FILTER (WHERE i.state = 'running'), count(*) FILTER (WHERE i.state = 'done'), "
            "count(*) FILTER (WHERE i.state = 'failed'), "
            "min(j.started_at) FROM jobs j JOIN job_items i ON i.job_id = j.id "
            "WHERE j.state IN ('queued', 'running') GROUP BY j.engine_id, j.task ORDER BY j.engine_id"
        )
        result = []
        for engine_id, task, queued, running, done, failed, started in rows:
            elapsed = (now - started) / 1000 if started else 0
            rate = (done + failed) / elapsed if elapsed > 0 else 0.0
            left = round((queued + running) / rate, 1) if rate > 0 else None
            result.append(EngineProgress(engine_id, task, queued, running, done, failed, round(rate, 2), left))
        return result
