"""Real media files made by the tests: every format, AI metadata, EXIF, and a corpus of bad input."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

COMFY_PROMPT = {
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sdxl_base.safetensors"}},
    "10": {
        "class_type": "LoraLoader",
        "inputs": {"lora_name": "film_grain.safetensors", "strength_model": 0.8, "model": ["4", 0]},
    },
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a lighthouse at dusk, volumetric fog"}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry, watermark"}},
    "3": {
        "class_type": "KSampler",
        "inputs": {
            "seed": 123456789,
            "steps": 30,
            "cfg": 6.5,
            "sampler_name": "dpmpp_2m",
            "scheduler": "karras",
            "positive": ["6", 0],
            "negative": ["7", 0],
            "model": ["10", 0],
        },
    },
}
COMFY_WORKFLOW = {"last_node_id": 10, "nodes": [{"id": 3, "type": "KSampler"}]}
A1111_PARAMETERS = (
    "masterpiece, a red fox in snow <lora:fluffy:0.7>\n"
    "Negative prompt: lowres, bad anatomy\n"
    "Steps: 25, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 512x768, Model hash: abc123, "
    'Model: dreamshaper_8, Lora hashes: "fluffy: 1234abcd", Version: v1.9.0'
)


def photo(width: int, height: int, seed: int = 0) -> Image.Image:
    """A photo-like picture: gradients, shapes and a little noise (compresses like a real photo)."""
    rng = np.random.default_rng(seed)
    x, y = np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)[:, None]
    base = np.empty((height, width, 3), np.float32)
    base[..., 0] = x / width * 255
    base[..., 1] = y / height * 255
    base[..., 2] = (x + y) / (width + height) * 255
    for _ in range(8):
        cx, cy, r = rng.integers(0, width), rng.integers(0, height), rng.integers(5, max(6, width // 3))
        # The disc, worked out inside its bounding box only (whole numbers: exact in any float).
        top, left = max(0, cy - r), max(0, cx - r)
        yy, xx = np.ogrid[top : min(height, cy + r + 1), left : min(width, cx + r + 1)]
        inside = (xx - cx) ** 2 + (yy - cy) ** 2 < r**2
        colour = rng.integers(0, 255, 3)
        base[top : top + inside.shape[0], left : left + inside.shape[1]][inside] = colour
    base += rng.normal(0, 4, base.shape)
    return Image.fromarray(base.clip(0, 255).astype(np.uint8))


def solid(width: int, height: int, color: tuple[int, int, int]) -> Image.Image:
    return Image.new("RGB", (width, height), color)


def jpeg_with_exif(
    path: Path,
    width: int = 400,
    height: int = 300,
    orientation: int = 6,
    taken: str = "2024:05:31 06:42:37",
    seed: int = 1,
) -> Path:
    image = photo(width, height, seed)
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS R5"
    exif[0x0112] = orientation
    exif.get_ifd(0x8769)[0x9003] = taken
    exif.get_ifd(0x8769)[0x9011] = "+02:00"
    image.save(path, "JPEG", quality=90, exif=exif)
    return path


def comfyui_png(path: Path, seed: int = 2) -> Path:
    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", json.dumps(COMFY_PROMPT))
    info.add_text("workflow", json.dumps(COMFY_WORKFLOW))
    photo(256, 256, seed).save(path, "PNG", pnginfo=info)
    return path


def a1111_png(path: Path, seed: int = 3) -> Path:
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", A1111_PARAMETERS)
    photo(256, 384, seed).save(path, "PNG", pnginfo=info)
    return path


def every_format(folder: Path) -> dict[str, Path]:
    """One small picture per supported still format, each different."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for n, (fmt, suffix, extra) in enumerate(
        [
            ("JPEG", ".jpg", {"quality": 90}),
            ("PNG", ".png", {}),
            ("WEBP", ".webp", {"quality": 80}),
            ("GIF", ".gif", {}),
            ("BMP", ".bmp", {}),
            ("TIFF", ".tiff", {}),
            ("AVIF", ".avif", {"quality": 60}),
        ]
    ):
        path = folder / f"format{suffix}"
        photo(120 + n * 8, 90, seed=100 + n).save(path, fmt, **extra)
        files[fmt] = path
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
        path = folder / "format.heic"
        photo(128, 96, seed=120).save(path, "HEIF", quality=70)
        files["HEIF"] = path
    except Exception:  # pragma: no cover - the README set-up installs pillow-heif
        pass
    return files


def mp4(
    path: Path,
    frames: int = 24,
    size: tuple[int, int] = (160, 120),
    fps: int = 12,
    metadata: dict | None = None,
    colour: tuple[int, int, int] | None = None,  # every frame this colour (else a slow change of colours)
) -> Path:
    import av

    with av.open(str(path), "w") as container:
        container.metadata.update(metadata or {})  # what a phone writes: creation_time, location, ...
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_image(solid(*size, colour or (i * 10 % 255, 80, 200 - i * 5 % 200)))
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def bad_corpus(folder: Path) -> dict[str, str]:
    """Files that must be refused, with a word each reason must contain."""
    folder.mkdir(parents=True, exist_ok=True)
    good = io.BytesIO()
    photo(300, 200, seed=9).save(good, "JPEG", quality=90)
    data = good.getvalue()
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "text.jpg").write_bytes(b"this is not a picture at all\n" * 10)
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 3])
    corrupt = bytearray(data)
    corrupt[200:4000] = b"\x00" * 3800
    (folder / "garbled-header.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(corrupt[8:200]))
    # A decompression bomb: a tiny PNG that claims 20000 x 20000 pixels.
    Image.new("1", (20000, 20000)).save(folder / "bomb.png", optimize=True)
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4 nothing")
    return {
        "empty.jpg": "empty",
        "text.jpg": "not a picture",
        "truncated.jpg": "truncated",
        "garbled-header.png": "corrupt",
        "bomb.png": "decompression bomb",
        "notes.pdf": "not a picture",
    }


def hostile_zip(path: Path, good_image: Path) -> Path:
    """A zip with a good entry, a traversal entry, an absolute path, a zip bomb entry and a text file."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(good_image, "album/good.jpg")
        archive.writestr("../../escape.png", b"x" * 100)
        archive.writestr("/etc/absolute.png", b"x" * 100)
        archive.writestr("bomb.png", b"\x00" * (30 << 20))
        archive.writestr("readme.txt", "hello")
    return path
