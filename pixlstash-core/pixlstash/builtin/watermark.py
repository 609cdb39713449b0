"""The built-in watermark: draws text or a user image on what a share recipient gets.

A share opts in with ``options["watermark"] = {"text": "...", "image": "/path.png", "opacity": 0.5,
"position": "bottom-right"}``; shares without it pass through untouched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..hookspecs import hookimpl
from ..sharing import ShareContext, ShareTransform

if TYPE_CHECKING:
    from collections.abc import Callable

    from PIL import Image

__all__ = ["Watermark"]

_POSITIONS = {"bottom-right", "bottom-left", "top-right", "top-left", "center"}


def _place(position: str, canvas: tuple[int, int], mark: tuple[int, int], margin: int) -> tuple[int, int]:
    (cw, ch), (mw, mh) = canvas, mark
    if position == "center":
        return (cw - mw) // 2, (ch - mh) // 2
    x = margin if position.endswith("left") else cw - mw - margin
    y = margin if position.startswith("top") else ch - mh - margin
    return max(0, x), max(0, y)


class Watermark(ShareTransform):
    """Text or image watermark, scaled to the picture, at a chosen corner and opacity."""

    id = "watermark"

    def applies_to(self, share: ShareContext) -> bool:
        spec = share.options.get("watermark")
        return isinstance(spec, dict) and bool(spec.get("text") or spec.get("image"))

    def apply(self, image: Image.Image, share: ShareContext) -> Image.Image:
        if not self.applies_to(share):
            return image
        from PIL import Image, ImageDraw, ImageFont  # here: every CLI start registers this plugin

        spec = share.options["watermark"]
        opacity = min(1.0, max(0.0, float(spec.get("opacity", 0.5))))
        position = spec.get("position", "bottom-right")
        position = position if position in _POSITIONS else "bottom-right"
        base = image.convert("RGBA")
        margin = max(4, min(base.size) // 40)
        layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
        if spec.get("image"):
            try:
                with Image.open(str(spec["image"])) as source:
                    mark = source.convert("RGBA")
            except OSError:  # the logo file is gone: better no watermark than no picture
                return image
            scale = (base.width * 0.25) / max(1, mark.width)
            mark = mark.resize((max(1, int(mark.width * scale)), max(1, int(mark.height * scale))))
            alpha = mark.getchannel("A").point(lambda a: int(a * opacity))
            mark.putalpha(alpha)
            layer.paste(mark, _place(position, base.size, mark.size, margin))
        else:
            text = str(spec["text"])[:200]
            font = ImageFont.load_default(size=max(10, base.height // 20))
            draw = ImageDraw.Draw(layer)
            left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
            x, y = _place(position, base.size, (right - left, bottom - top), margin)
            shadow, fill = int(160 * opacity), int(255 * opacity)
            draw.text((x - left + 1, y - top + 1), text, font=font, fill=(0, 0, 0, shadow))
            draw.text((x - left, y - top), text, font=font, fill=(255, 255, 255, fill))
        marked = Image.alpha_composite(base, layer)
        return marked if image.mode == "RGBA" else marked.convert("RGB")


@hookimpl
def register_share_transforms(register: Callable[[ShareTransform], None]) -> None:
    register(Watermark())
