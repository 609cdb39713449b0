"""No function hides a module-level name of its own module behind a parameter or a local.

Automatic snapshots once never ran because ``run_schedule(self, now_ms=None)`` hid the imported
``now_ms()`` and then called it. ruff has no rule for names bound by imports and definitions (its ``A``
rules cover builtins, and are on), so this walks every package module's syntax tree.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ["pixlstash-core", "pixlstash-web", "pixlstash-plugins"]


def _module_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
    return names


def _is_fixture(function: ast.AST) -> bool:
    """pytest fixtures take other fixtures by the name they are defined under, on purpose."""
    return any("fixture" in ast.unparse(d) for d in getattr(function, "decorator_list", []))


def _bound_inside(function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    arguments = function.args
    names = {a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]}
    names |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
    if not isinstance(function, ast.Lambda):
        names |= {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return names


def shadowed_names(source: str) -> list[tuple[int, str]]:
    tree = ast.parse(source)
    module_names = _module_names(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) and not _is_fixture(node):
            found += [(node.lineno, name) for name in sorted(_bound_inside(node) & module_names)]
    return found


def test_the_check_finds_the_snapshot_schedule_bug():
    source = "from .clock import now_ms\n\ndef run(now_ms=None):\n    return now_ms() if now_ms is None else now_ms\n"
    assert shadowed_names(source) == [(3, "now_ms")]


def test_no_package_module_shadows_its_own_imports_or_definitions():
    problems = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            # Tests take fixtures by the name they are defined under, on purpose.
            if any(part in {".venv", "build", "tests"} or part.endswith(".egg-info") for part in path.parts):
                continue
            problems += [f"{path.relative_to(REPO)}:{line}: {name}" for line, name in shadowed_names(path.read_text())]
    assert problems == []
