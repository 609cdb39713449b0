"""PixlStash web app: a thin Starlette layer over the core. Build it with ``create_app``.

``create_app`` is imported on first use: the package is also the plugin that adds ``pixlstash serve``,
and every CLI command loads plugins, so importing the package must not import Starlette.
"""

from __future__ import annotations

__all__ = ["create_app"]


def __getattr__(name: str):
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module 'pixlstash_web' has no attribute {name!r}")
