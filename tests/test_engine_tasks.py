"""The engine layer's table of tasks is the one place that knows each kind of engine."""

from __future__ import annotations

import pytest

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


def test_engine_parameters_convert_text_and_json_to_their_declared_types():
    from pixlstash.engines import EngineParameter
    from pixlstash.errors import BadInput

    number = EngineParameter("t", "number", 0.5, minimum=0, maximum=1)
    assert number.convert("0.25") == 0.25 and number.convert(1) == 1.0
    assert EngineParameter("n", "integer").convert("7") == 7
    assert EngineParameter("b", "boolean").convert("off") is False and EngineParameter("b", "boolean").convert(True)
    assert EngineParameter("l", "string-list").convert(" a, b ,,c") == ["a", "b", "c"]
    assert EngineParameter("l", "string-list").convert(["x"]) == ["x"]
    assert EngineParameter("s", "string").convert("free text") == "free text"
    for parameter, value in [
        (number, "high"),
        (number, 1.5),
        (number, float("nan")),
        (number, True),
        (EngineParameter("n", "integer"), 2.5),
        (EngineParameter("b", "boolean"), "maybe"),
        (EngineParameter("s", "string"), 3),
        (EngineParameter("l", "string-list"), [1]),
    ]:
        with pytest.raises(BadInput, match=parameter.name):
            parameter.convert(value)
