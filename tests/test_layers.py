"""The layering rules, checked on the syntax of every core module: SQL lives in ``db/`` only, and
the core never names the web package or Starlette in code, not even as a string to import by name."""

from __future__ import annotations

import ast
import re
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "pixlstash-core" / "pixlstash"
SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|BEGIN|COMMIT|ROLLBACK|ATTACH|WITH)\b")
SQL_CALLS = {"execute", "executemany", "pragma", "query", "scalar"}
WEB = re.compile(r"starlette|uvicorn|pixlstash_web|pixlstash-web", re.I)


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def sql_outside_storage(source: str) -> list[str]:
    tree = ast.parse(source)
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.match(node.value):
            problems.append(f"line {node.lineno}: SQL text {node.value[:40]!r}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS:
            problems.append(f"line {node.lineno}: .{node.func.attr}(...)")
    return problems


def web_names(source: str) -> list[str]:
    tree = ast.parse(source)
    skip = _docstrings(tree)
    problems = []
    for node in ast.walk(tree):
        text = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            text = node.value
        elif isinstance(node, ast.Import | ast.ImportFrom):
            text = " ".join(
                [node.module or "" if isinstance(node, ast.ImportFrom) else ""] + [a.name for a in node.names]
            )
        elif isinstance(node, ast.Name | ast.Attribute):
            text = node.id if isinstance(node, ast.Name) else node.attr
        if text and WEB.search(text):
            problems.append(f"line {node.lineno}: {text[:60]!r}")
    return problems


def test_the_checks_catch_what_they_are_for():
    assert sorted(sql_outside_storage('db.query("SELECT 1")')) == ["line 1: .query(...)", "line 1: SQL text 'SELECT 1'"]
    assert web_names('importlib.import_module("pixlstash_web.server")') == ["line 1: 'pixlstash_web.server'"]
    assert web_names('"""Runs without Starlette."""') == []


def test_sql_lives_in_db_only():
    problems = {
        str(path.relative_to(CORE)): found
        for path in CORE.rglob("*.py")
        if "db" not in path.relative_to(CORE).parts and (found := sql_outside_storage(path.read_text()))
    }
    assert problems == {}


def test_the_core_never_names_the_web_package_or_starlette():
    problems = {str(p.relative_to(CORE)): found for p in CORE.rglob("*.py") if (found := web_names(p.read_text()))}
    assert problems == {}
