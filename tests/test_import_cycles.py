"""Import cycles in the core, counting imports under TYPE_CHECKING and inside functions (a circle hidden
there is still a circle). Services are built from the stores they use, never from ``Library``, so the
core has none."""

from __future__ import annotations

import ast
import re
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "pixlstash-core" / "pixlstash"


def _modules() -> dict[str, Path]:
    found = {}
    for path in CORE.rglob("*.py"):
        parts = list(path.relative_to(CORE.parent).with_suffix("").parts)
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = ".".join([*package[: len(package) - node.level + 1], node.module or ""]).strip(".")
                base = base if node.level else node.module or ""
                targets = [f"{base}.{alias.name}" for alias in node.names]
            for target in targets:
                while target and target not in modules and "." in target:
                    target = target.rsplit(".", 1)[0]
                # A module's own package (its __init__) is not an edge back to it.
                if target in modules and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_finder_sees_a_cycle_hidden_in_a_function():
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [{"a", "b"}]


def test_the_core_has_no_import_cycle():
    assert cycles(import_graph()) == []


def test_no_service_takes_the_library():
    """Only the modules above ``Library`` (the instance, the CLI, the testing helpers) may name it."""
    allowed = {"pixlstash.library", "pixlstash.instance", "pixlstash.system.outside_changes", "pixlstash.testing"}
    graph = import_graph()
    users = {name for name, targets in graph.items() if "pixlstash.library" in targets}
    assert {u for u in users - allowed if not u.startswith("pixlstash.cli")} == set()
    takers = {
        f"{name}: {function}({argument})"
        for name, path in _modules().items()
        if name not in allowed and not name.startswith("pixlstash.cli")
        for function, argument in library_parameters(ast.parse(path.read_text()))
    }
    assert takers == set(), "a service receives what it uses (a typed Protocol of it at most), never the Library"


def library_parameters(tree: ast.AST) -> list[tuple[str, str]]:
    """(function, parameter) of the parameters that take a library: named ``library`` with no annotation,
    or annotated ``Library``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
                annotation = ast.unparse(arg.annotation) if arg.annotation is not None else None
                if (arg.arg == "library" and annotation is None) or (annotation or "").strip("'\"") == "Library":
                    found.append((node.name, arg.arg))
    return found


def test_the_guard_sees_a_service_that_takes_the_library():
    taken = (
        "def __init__(self, library, store):\n    pass\ndef run(lib: Library):\n    pass\ndef ok(library: Host): pass"
    )
    assert library_parameters(ast.parse(taken)) == [("__init__", "library"), ("run", "lib")]


UI = Path(__file__).resolve().parent.parent / "pixlstash-web" / "pixlstash_web" / "static" / "js"
# A static import (import ... from "./x.js", export ... from "../y/x.js") and a dynamic one (import("./x.js")).
_JS_IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}/[\w./-]+\.js)["']""")


def ui_import_graph() -> dict[str, set[str]]:
    """Each module (its path below js/, "viewer/overlay.js") and the modules it imports."""
    return {
        path.relative_to(UI).as_posix(): {
            (path.parent / target).resolve().relative_to(UI).as_posix()
            for target in _JS_IMPORT.findall(path.read_text())
        }
        for path in UI.rglob("*.js")
    }


def test_the_ui_finder_sees_static_and_dynamic_imports():
    graph = ui_import_graph()
    assert {"api.js", "ui.js", "dialogs.js"} <= graph["menus/menus.js"]
    assert "menus/menus.js" in graph["app.js"]  # imported when first used: import("./menus/menus.js")
    assert all(target in graph for targets in graph.values() for target in targets)


def test_the_ui_has_no_import_cycle():
    assert cycles(ui_import_graph()) == []
