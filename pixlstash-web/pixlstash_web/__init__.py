"""PixlStash web app: a thin Starlette layer over the core. Build it with ``create_app``."""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
