"""Linked ComfyUIs and the workflow runs sent to them, in the database."""

from __future__ import annotations

import json

from ..domain import ComfyLink, ComfyRun
from ..errors import NotFound
from .database import Database

__all__ = ["ComfyStore"]

_RUN_COLUMNS = "id, kind, status, created_at, link_id, source_id, prompt_id, message, output_ids, finished_at"


def _run(row: tuple) -> ComfyRun:
    return ComfyRun(*row[:8], output_ids=json.loads(row[8]), finished_at=row[9])


class ComfyStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- links -------------------------------------------------------------------------------------------

    def add_link(self, url: str, token_id: int | None, now: int) -> ComfyLink:
        sql = (
            "INSERT INTO comfy_links (url, token_id, created_at) VALUES (?, ?, ?) ON CONFLICT (url) "
            "DO UPDATE SET token_id = excluded.token_id RETURNING id, url, created_at, token_id"
        )
        return ComfyLink(*self.db.query(sql, (url, token_id, now))[0])

    def links(self) -> list[ComfyLink]:
        return [
            ComfyLink(*r) for r in self.db.query("SELECT id, url, created_at, token_id FROM comfy_links ORDER BY id")
        ]

    def link(self, link_id: int) -> ComfyLink:
        rows = self.db.query("SELECT id, url, created_at, token_id FROM comfy_links WHERE id = ?", (link_id,))
        if not rows:
            raise NotFound(f"no linked ComfyUI {link_id} (pixlstash comfy links lists them)")
        return ComfyLink(*rows[0])

    def remove_link(self, link_id: int) -> ComfyLink:
        link = self.link(link_id)
        self.db.execute("DELETE FROM comfy_links WHERE id = ?", (link_id,))
        return link

    # -- runs --------------------------------------------------------------------------------------------

    def add_run(
        self,
        kind: str,
        link_id: int,
        source_id: int | None,
        graph: dict,
        now: int,
        requested_by: int | None = None,
        outputs_private: bool = False,
    ) -> ComfyRun:
        sql = (
            "INSERT INTO comfy_runs (kind, status, created_at, link_id, source_id, graph, requested_by, "
            f"outputs_private) VALUES (?, 'queued', ?, ?, ?, ?, ?, ?) RETURNING {_RUN_COLUMNS}"
        )
        values = (kind, now, link_id, source_id, json.dumps(graph), requested_by, int(outputs_private))
        return _run(self.db.query(sql, values)[0])

    def requester(self, run_id: int) -> tuple[int | None, bool]:
        """(who asked for the run, whether its outputs stay private to them)."""
        row = self.db.query("SELECT requested_by, outputs_private FROM comfy_runs WHERE id = ?", (run_id,))
        return (row[0][0], bool(row[0][1])) if row else (None, False)

    def run(self, run_id: int) -> ComfyRun:
        rows = self.db.query(f"SELECT {_RUN_COLUMNS} FROM comfy_runs WHERE id = ?", (run_id,))
        if not rows:
            raise NotFound(f"no workflow run {run_id}")
        return _run(rows[0])

    def graph(self, run_id: int) -> dict:
        return json.loads(str(self.db.scalar("SELECT graph FROM comfy_runs WHERE id = ?", (run_id,))))

    def runs(self, *, open_only: bool = False, limit: int = 100) -> list[ComfyRun]:
        where = "WHERE status IN ('queued', 'running')" if open_only else ""
        rows = self.db.query(f"SELECT {_RUN_COLUMNS} FROM comfy_runs {where} ORDER BY id DESC LIMIT ?", (limit,))
        return [_run(r) for r in rows]

    def claim(self, run_id: int, owner: str) -> bool:
        """Mark a queued run running, worked by ``owner``; False when another thread or process took it first."""
        sql = (
            "UPDATE comfy_runs SET status = 'running', message = 'sending to ComfyUI', owner = ? "
            "WHERE id = ? AND status = 'queued'"
        )
        self.db.execute(sql, (owner, run_id))
        return self.db.connection.changes() == 1

    def running_owners(self) -> list[tuple[int, str | None]]:
        """(run id, owner) of every running run, oldest first."""
        return [(r[0], r[1]) for r in self.db.query("SELECT id, owner FROM comfy_runs WHERE status = 'running'")]

    def take_over(self, run_id: int, previous: str | None, owner: str) -> bool:
        """Make ``owner`` the worker of a running run still worked by ``previous``; False when another
        process took it over first."""
        self.db.execute(
            "UPDATE comfy_runs SET owner = ? WHERE id = ? AND status = 'running' AND owner IS ?",
            (owner, run_id, previous),
        )
        return self.db.connection.changes() == 1

    def update_run(self, run_id: int, **fields: object) -> None:
        if "output_ids" in fields:
            fields["output_ids"] = json.dumps(fields["output_ids"])
        assignments = ", ".join(f"{name} = ?" for name in fields)
        self.db.execute(f"UPDATE comfy_runs SET {assignments} WHERE id = ?", (*fields.values(), run_id))
