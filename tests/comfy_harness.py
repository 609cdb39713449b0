"""A small stand-in for ComfyUI's loader and executor (ComfyUI does not install from the package registry):
it imports a custom node folder the way ComfyUI's ``load_custom_node`` does, checks every node's
declaration against the contract ComfyUI relies on, and runs API-format graphs (the JSON ComfyUI's
"Export (API)" writes and its ``/prompt`` endpoint takes) the way its executor does: nodes in dependency
order, inputs checked against ``INPUT_TYPES``, hidden inputs filled in, called with keyword arguments,
list outputs mapped over downstream nodes.

The ComfyUI modules custom nodes import (``folder_paths``, ``comfy.cli_args``) are provided with the
attributes ComfyUI gives them, pointing at a temporary ComfyUI folder."""

from __future__ import annotations

import importlib.util
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN"}
SECTIONS = {"required", "optional", "hidden"}
HIDDEN = {"PROMPT", "EXTRA_PNGINFO", "UNIQUE_ID", "DYNPROMPT"}


@dataclass
class ComfyEnvironment:
    """The ComfyUI folder a run sees: its user, temp and output directories and its command-line flags."""

    root: Path
    multi_user: bool = False
    disable_metadata: bool = False

    def install(self) -> None:
        for name in ("user", "temp", "output", "input"):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        folder_paths = types.ModuleType("folder_paths")
        folder_paths.get_user_directory = lambda: str(self.root / "user")
        folder_paths.get_temp_directory = lambda: str(self.root / "temp")
        folder_paths.get_output_directory = lambda: str(self.root / "output")
        folder_paths.get_input_directory = lambda: str(self.root / "input")
        comfy = types.ModuleType("comfy")
        cli_args = types.ModuleType("comfy.cli_args")
        cli_args.args = types.SimpleNamespace(multi_user=self.multi_user, disable_metadata=self.disable_metadata)
        comfy.cli_args = cli_args
        sys.modules.update({"folder_paths": folder_paths, "comfy": comfy, "comfy.cli_args": cli_args})

    @staticmethod
    def uninstall() -> None:
        for name in ("folder_paths", "comfy", "comfy.cli_args"):
            sys.modules.pop(name, None)


def load_pack(folder: Path) -> types.ModuleType:
    """Import a custom node folder as ComfyUI does: its ``__init__.py`` as a module named after the folder."""
    name = folder.name
    for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[loaded]  # a fresh import each time, as at ComfyUI's start
    spec = importlib.util.spec_from_file_location(name, folder / "__init__.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def contract_problems(module: types.ModuleType) -> list[str]:
    """Everything in a pack's declarations ComfyUI would reject or mis-handle."""
    problems = []
    mappings = getattr(module, "NODE_CLASS_MAPPINGS", None)
    names = getattr(module, "NODE_DISPLAY_NAME_MAPPINGS", {})
    if not isinstance(mappings, dict) or not mappings:
        return ["NODE_CLASS_MAPPINGS is missing or empty"]
    web = getattr(module, "WEB_DIRECTORY", None)
    if web is not None and not (Path(module.__file__).parent / web).is_dir():
        problems.append(f"WEB_DIRECTORY {web} is not a folder")
    for key, cls in mappings.items():
        where = f"{key}:"
        if key not in names:
            problems.append(f"{where} no display name")
        if not isinstance(cls, type):
            problems.append(f"{where} not a class")
            continue
        try:
            inputs = cls.INPUT_TYPES()
        except Exception as error:  # ComfyUI would drop the node
            problems.append(f"{where} INPUT_TYPES raised {error!r}")
            continue
        if not isinstance(inputs, dict) or "required" not in inputs or set(inputs) - SECTIONS:
            problems.append(f"{where} INPUT_TYPES sections are {sorted(inputs)}")
            continue
        for section, specs in inputs.items():
            for name, spec in specs.items():
                problems.extend(f"{where} input {name}: {p}" for p in _spec_problems(section, spec))
        returns = getattr(cls, "RETURN_TYPES", None)
        if not isinstance(returns, tuple) or not all(isinstance(t, str) for t in returns):
            problems.append(f"{where} RETURN_TYPES must be a tuple of type names")
            returns = ()
        for attribute in ("RETURN_NAMES", "OUTPUT_IS_LIST"):
            value = getattr(cls, attribute, None)
            if value is not None and (not isinstance(value, tuple) or len(value) != len(returns)):
                problems.append(f"{where} {attribute} must be a tuple as long as RETURN_TYPES")
        function = getattr(cls, "FUNCTION", None)
        if not isinstance(function, str) or not callable(getattr(cls, function, None)):
            problems.append(f"{where} FUNCTION names no method")
        if not isinstance(getattr(cls, "CATEGORY", None), str):
            problems.append(f"{where} CATEGORY must be text")
        if not isinstance(getattr(cls, "OUTPUT_NODE", False), bool):
            problems.append(f"{where} OUTPUT_NODE must be True or False")
        changed = cls.__dict__.get("IS_CHANGED")
        if changed is not None and not isinstance(changed, classmethod):
            problems.append(f"{where} IS_CHANGED must be a classmethod")
        if getattr(cls, "RETURN_TYPES", None) == () and not getattr(cls, "OUTPUT_NODE", False):
            problems.append(f"{where} no outputs and not an output node: ComfyUI would never run it")
    return problems


def _spec_problems(section: str, spec: Any) -> list[str]:
    if section == "hidden":
        return [] if spec in HIDDEN else [f"unknown hidden input {spec!r}"]
    if not isinstance(spec, tuple) or not 1 <= len(spec) <= 2:
        return ["must be a tuple (type,) or (type, options)"]
    kind, options = spec[0], spec[1] if len(spec) == 2 else {}
    if not isinstance(options, dict):
        return ["options must be a dict"]
    if isinstance(kind, list):
        if not kind or not all(isinstance(v, str) for v in kind):
            return ["a combo needs a non-empty list of text values"]
        if "default" in options and options["default"] not in kind:
            return [f"default {options['default']!r} is not one of the combo's values"]
        return []
    if not isinstance(kind, str) or not kind:
        return ["the type must be a name or a list of values"]
    if kind in ("INT", "FLOAT") and "default" in options:
        low, high = options.get("min", float("-inf")), options.get("max", float("inf"))
        if not low <= options["default"] <= high:
            return [f"default {options['default']} is outside {low}..{high}"]
    return []


@dataclass
class Run:
    outputs: dict[str, list[list[Any]]] = field(default_factory=dict)  # node id -> per output, the values
    ui: dict[str, list[dict]] = field(default_factory=dict)  # node id -> what it showed

    def output(self, node: str, index: int = 0) -> Any:
        """An output of a node that ran once (lists for list outputs)."""
        values = self.outputs[node][index]
        return values[0] if len(values) == 1 else values


class GraphError(Exception):
    pass


def run_graph(
    module: types.ModuleType,
    prompt: dict[str, dict],
    extra_pnginfo: dict | None = None,
    on_node: Callable | None = None,
) -> Run:
    """Execute an API-format graph: validate, order, call each node with keyword arguments."""
    mappings = module.NODE_CLASS_MAPPINGS
    order = _order(prompt)
    run = Run()
    for node_id in order:
        node = prompt[node_id]
        cls = mappings.get(node["class_type"])
        if cls is None:
            raise GraphError(f"node {node_id}: unknown class {node['class_type']}")
        declared = cls.INPUT_TYPES()
        lists = _inputs(node_id, node, declared, prompt, mappings, run)
        for hidden_name, kind in declared.get("hidden", {}).items():
            lists[hidden_name] = [{"PROMPT": prompt, "EXTRA_PNGINFO": extra_pnginfo, "UNIQUE_ID": node_id}.get(kind)]
        if "IS_CHANGED" in cls.__dict__:
            cls.IS_CHANGED(**{k: v[0] for k, v in lists.items() if k in _all_inputs(declared)})
        runs = max((len(v) for v in lists.values()), default=1)
        outputs: list[list[Any]] = [[] for _ in cls.RETURN_TYPES]
        as_lists = getattr(cls, "OUTPUT_IS_LIST", (False,) * len(cls.RETURN_TYPES))
        for i in range(runs):
            kwargs = {k: v[min(i, len(v) - 1)] for k, v in lists.items()}
            result = getattr(cls(), cls.FUNCTION)(**kwargs)
            if isinstance(result, dict):
                run.ui.setdefault(node_id, []).append(result.get("ui", {}))
                result = result.get("result", ())
            for slot, value in enumerate(result or ()):
                outputs[slot].extend(value) if as_lists[slot] else outputs[slot].append(value)
        run.outputs[node_id] = outputs
        if on_node:
            on_node(node_id)
    return run


def _all_inputs(declared: dict) -> set[str]:
    return set(declared.get("required", {})) | set(declared.get("optional", {}))


def _inputs(node_id, node, declared, prompt, mappings, run) -> dict[str, list[Any]]:
    specs = {**declared.get("required", {}), **declared.get("optional", {})}
    given = node.get("inputs", {})
    missing = [name for name in declared.get("required", {}) if name not in given]
    if missing:
        raise GraphError(f"node {node_id}: required input missing: {', '.join(missing)}")
    values: dict[str, list[Any]] = {}
    for name, value in given.items():
        if name not in specs:
            continue  # ComfyUI ignores inputs a node does not declare
        kind, options = specs[name][0], specs[name][1] if len(specs[name]) > 1 else {}
        if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and value[0] in prompt:
            source_cls = mappings[prompt[value[0]]["class_type"]]
            produced = source_cls.RETURN_TYPES[value[1]]
            if produced != kind and "*" not in (produced, kind) and not isinstance(kind, list):
                raise GraphError(f"node {node_id}: input {name} wants {kind}, gets {produced}")
            values[name] = run.outputs[value[0]][value[1]]
        else:
            values[name] = [_widget(node_id, name, kind, options, value)]
    return values


def _widget(node_id: str, name: str, kind: Any, options: dict, value: Any) -> Any:
    """A widget value, converted and range-checked as ComfyUI's validation does."""
    where = f"node {node_id}: {name}"
    if isinstance(kind, list):
        if value not in kind:
            raise GraphError(f"{where}: value not in list: {value!r}")
        return value
    if kind not in WIDGET_TYPES:
        raise GraphError(f"{where}: a {kind} input needs a link")
    try:
        converted = {"INT": int, "FLOAT": float, "STRING": str, "BOOLEAN": bool}[kind](value)
    except (TypeError, ValueError):
        raise GraphError(f"{where}: {value!r} is not {kind}") from None
    low, high = options.get("min", float("-inf")), options.get("max", float("inf"))
    if kind in ("INT", "FLOAT") and not low <= converted <= high:
        raise GraphError(f"{where}: {converted} is out of range")
    return converted


def _order(prompt: dict[str, dict]) -> list[str]:
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(node_id: str) -> None:
        if state.get(node_id) == "done":
            return
        if state.get(node_id) == "visiting":
            raise GraphError(f"the graph has a cycle through node {node_id}")
        state[node_id] = "visiting"
        for value in prompt[node_id].get("inputs", {}).values():
            if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and value[0] in prompt:
                visit(value[0])
        state[node_id] = "done"
        order.append(node_id)

    for node_id in sorted(prompt, key=lambda k: (len(k), k)):
        visit(node_id)
    return order
