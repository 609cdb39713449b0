"""Names a package exports without importing their modules until first used (PEP 562).

``import pixlstash`` runs on every CLI start and in every plugin's ``from pixlstash import hookimpl``, and
each plugin's package loads for its settings: an engine module imported there would pull numpy, Pillow or
a model runtime into commands that never run an engine. Such a package lists its heavy names with the
module that holds each and hands the lookup to this module::

    __getattr__ = lazy_names(__name__, {"WdTagger": ".engine"})
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

__all__ = ["lazy_names"]


def lazy_names(module_name: str, exports: Mapping[str, str]) -> Callable[[str], object]:
    """A module-level ``__getattr__`` for ``module_name``: ``exports`` maps a name to the module that holds it
    (relative to ``module_name``'s package, as ``".engine"``); the value is imported once, then kept in
    the module so that later lookups skip this function."""

    def __getattr__(name: str) -> object:
        holder = exports.get(name)
        if holder is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(holder, module_name), name)
        setattr(sys.modules[module_name], name, value)
        return value

    return __getattr__
