"""Extension points for sharing: transforms applied to what a share recipient gets, and share targets."""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["ShareContext", "ShareTarget", "ShareTransform"]


class ShareContext(msgspec.Struct, frozen=True):
    """What a transform knows about the share it serves (never the token itself)."""

    share_id: int
    scope_type: str
    scope_id: int | None = None
    options: dict[str, Any] = {}


class ShareTransform(abc.ABC):
    """Changes an image before a share recipient receives it (watermark, resize, strip, ...)."""

    id: str

    def applies_to(self, share: ShareContext) -> bool:
        """Whether this transform changes what ``share`` serves; when none does, files are served as stored."""
        return True

    @abc.abstractmethod
    def apply(self, image: Image, share: ShareContext) -> Image:
        """Return the image the recipient should see; return ``image`` itself when not applicable."""


class ShareTarget(abc.ABC):
    """A destination a share link can be sent to, beyond copying the link (a chat, a mail, ...)."""

    id: str
    label: str

    @abc.abstractmethod
    def deliver(self, url: str, share: ShareContext, message: str = "") -> str:
        """Send ``url`` to the target and return a short human-readable receipt."""
