"""The engine layer's table of tasks is the one place that knows each kind of engine."""

from __future__ import annotations

from pixlstash import hookspecs
from pixlstash.engines import Task
from pixlstash.engines.tasks import TASKS


def test_every_task_has_one_complete_entry():
    assert set(TASKS) == set(Task)
    for task, spec in TASKS.items():
        assert spec.task is task and spec.base.task is task
        assert callable(getattr(hookspecs, spec.hook)), spec.hook  # a real hook plugins implement
        assert spec.vector_kind in (None, "image", "face")
    assert len({spec.field for spec in TASKS.values()}) == len(TASKS)  # each changes its own field
    assert len({spec.hook for spec in TASKS.values()}) == len(TASKS)
