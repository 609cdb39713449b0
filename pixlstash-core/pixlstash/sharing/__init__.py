"""Sharing: read-only, scoped, revocable share links (``sharing.service``) and the extension points
plugins use to change what recipients get (``sharing.transforms``, re-exported here)."""

from __future__ import annotations

from .transforms import ShareContext, ShareTarget, ShareTransform

__all__ = ["ShareContext", "ShareTarget", "ShareTransform"]
