"""Draw the app's icons (home screen, install prompt, tab) into the web package's static folder.

    .venv/bin/python scripts/make_app_icons.py

A stash of three pictures, fanned, on the UI's dark background. ``maskable`` keeps the drawing inside
the middle 80 % (the safe zone a phone's mask may crop to). Run again only to change the design: the
PNGs are committed.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "pixlstash-web" / "pixlstash_web" / "static" / "icons"
BACKGROUND, ACCENT, LIGHT, SKY = (18, 20, 23), (90, 169, 255), (231, 233, 236), (38, 42, 49)


def draw(size: int, *, maskable: bool) -> Image.Image:
    scale = 4  # drawn large, then reduced: smooth edges without an anti-aliasing library
    big = size * scale
    image = Image.new("RGB", (big, big), BACKGROUND)
    if not maskable:  # a rounded square, transparent outside, like the platforms' own icons
        image = image.convert("RGBA")
        mask = Image.new("L", (big, big), 0)
        ImageDraw.Draw(mask).rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=255)
        image.putalpha(mask)
    canvas = ImageDraw.Draw(image)
    inset = big * (0.22 if maskable else 0.16)
    card_w, card_h = big - 2 * inset - big * 0.12, (big - 2 * inset) * 0.72
    for n, (colour, dx, dy) in enumerate(((SKY, 0.12, 0.0), (ACCENT, 0.06, 0.06), (LIGHT, 0.0, 0.12))):
        x0, y0 = inset + big * dx, inset + big * dy
        box = (x0, y0, x0 + card_w, y0 + card_h)
        canvas.rounded_rectangle(box, radius=big * 0.04, fill=colour, outline=BACKGROUND, width=int(big * 0.015))
        if n == 2:  # the front picture: a sun and a hill
            cx, cy, r = x0 + card_w * 0.72, y0 + card_h * 0.3, card_h * 0.11
            canvas.ellipse((cx - r, cy - r, cx + r, cy + r), fill=ACCENT)
            canvas.polygon(
                [
                    (x0 + card_w * 0.08, y0 + card_h * 0.88),
                    (x0 + card_w * 0.4, y0 + card_h * 0.42),
                    (x0 + card_w * 0.62, y0 + card_h * 0.7),
                    (x0 + card_w * 0.92, y0 + card_h * 0.88),
                ],
                fill=SKY,
            )
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, size, maskable in (
        ("app-192.png", 192, False),
        ("app-512.png", 512, False),
        ("app-maskable-512.png", 512, True),
        ("apple-touch-icon.png", 180, True),  # iOS rounds the corners itself
        ("favicon-32.png", 32, False),
    ):
        draw(size, maskable=maskable).save(OUT / name, optimize=True)
        print(OUT / name)


if __name__ == "__main__":
    main()
