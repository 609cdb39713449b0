"""Deterministic fake engines and pytest fixtures for PixlStash and its plugin authors.

Installed as a pytest plugin (entry point ``pytest11``), so any project with ``pixlstash``
installed gets the ``plugin_manager`` and ``fake_engines`` fixtures.

The fakes compute exact, documented results from pixel colours, so tests can assert rankings:

- ``FakeEmbedder`` (``fake/colour``): an image's vector is its mean (R, G, B) scaled to [0, 1] plus
  a constant 0.05 fourth component, L2-normalised. A text naming a colour ("red", "green", "blue",
  "yellow", "cyan", "magenta", "white", "black") maps to that colour's vector the same way; other
  texts map to a fixed vector derived from their blake2b hash.
- ``FakeTagger`` (``fake/colour-tagger``): the tag of each colour channel whose mean is over 0.5
  (score = that mean), plus "bright" or "dark" by mean brightness.
- ``FakeCaptioner`` (``fake/captioner``): "a <colour> picture, <w>x<h>" and the prompt if given.
- ``FakeFaceExtractor`` (``fake/faces``): one face centred in each image whose brightness is over 0.2,
  box the middle half, embedding the image's ``FakeEmbedder`` vector.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pytest
from PIL.Image import Image

from .engines import Captioner, Embedder, Engine, EngineParameter, Face, FaceExtractor, Tagger, TagScore
from .hookspecs import hookimpl
from .plugins import PluginManager, make_plugin_manager

__all__ = [
    "COLOURS",
    "FakeCaptioner",
    "FakeEmbedder",
    "FakeEnginesPlugin",
    "FakeFaceExtractor",
    "FakeTagger",
    "colour_vector",
    "engines_by_id",
    "fake_engines",
    "mean_rgb",
    "plugin_manager",
]

COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (1.0, 0.0, 0.0),
    "green": (0.0, 1.0, 0.0),
    "blue": (0.0, 0.0, 1.0),
    "yellow": (1.0, 1.0, 0.0),
    "cyan": (0.0, 1.0, 1.0),
    "magenta": (1.0, 0.0, 1.0),
    "white": (1.0, 1.0, 1.0),
    "black": (0.0, 0.0, 0.0),
}


def mean_rgb(image: Image) -> tuple[float, float, float]:
    """Mean of each RGB channel in [0, 1]."""
    pixels = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    r, g, b = pixels.reshape(-1, 3).mean(axis=0)
    return float(r), float(g), float(b)


def colour_vector(rgb: Sequence[float]) -> np.ndarray:
    """The fake embedder's vector for a mean colour: (r, g, b, 0.05), L2-normalised."""
    vector = np.array([*rgb, 0.05], dtype=np.float32)
    return vector / np.linalg.norm(vector)


def _nearest_colour_name(rgb: Sequence[float]) -> str:
    return min(COLOURS, key=lambda name: sum((a - b) ** 2 for a, b in zip(COLOURS[name], rgb, strict=True)))


class FakeEmbedder(Embedder):
    """Exact colour vectors (see the module docstring); 4 dimensions, with a text encoder."""

    id = "fake/colour"
    version = "1"
    label = "Fake colour embedder"
    dimensions = 4
    preferred_batch_size = 64
    input_size = 32

    def __init__(self) -> None:
        self.calls = 0

    def embed_images(self, images: Sequence[Image]) -> np.ndarray:
        self.calls += 1
        return np.stack([colour_vector(mean_rgb(image)) for image in images]).astype(np.float32)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for text in texts:
            word = text.strip().lower()
            if word in COLOURS:
                rows.append(colour_vector(COLOURS[word]))
            else:
                digest = hashlib.blake2b(word.encode(), digest_size=16).digest()
                raw = np.frombuffer(digest, dtype=np.uint8)[:4].astype(np.float32) + 1.0
                rows.append(raw / np.linalg.norm(raw))
        return np.stack(rows).astype(np.float32)


class FakeTagger(Tagger):
    """Colour channel tags and brightness (see the module docstring)."""

    id = "fake/colour-tagger"
    version = "1"
    label = "Fake colour tagger"
    preferred_batch_size = 64

    def tag(self, images: Sequence[Image]) -> list[list[TagScore]]:
        results = []
        for image in images:
            rgb = mean_rgb(image)
            tags = [
                TagScore(name, round(value, 4))
                for name, value in zip(("red", "green", "blue"), rgb, strict=True)
                if value > 0.5
            ]
            brightness = sum(rgb) / 3
            tags.append(TagScore("bright" if brightness >= 0.5 else "dark", round(abs(brightness - 0.5) * 2, 4)))
            results.append(tags)
        return results


class FakeCaptioner(Captioner):
    """A caption naming the nearest colour and the size (see the module docstring)."""

    id = "fake/captioner"
    version = "1"
    label = "Fake captioner"

    def parameters(self) -> list[EngineParameter]:
        return [EngineParameter("prompt", "string", None, "added to the caption in parentheses")]

    def describe(self, images: Sequence[Image], prompt: str | None = None) -> list[str]:
        captions = []
        for image in images:
            caption = f"a {_nearest_colour_name(mean_rgb(image))} picture, {image.width}x{image.height}"
            captions.append(f"{caption} ({prompt})" if prompt else caption)
        return captions


class FakeFaceExtractor(FaceExtractor):
    """One centred face per image brighter than 0.2 (see the module docstring)."""

    id = "fake/faces"
    version = "1"
    label = "Fake face extractor"
    dimensions = 4

    def extract(self, images: Sequence[Image]) -> list[list[Face]]:
        results = []
        for image in images:
            rgb = mean_rgb(image)
            if sum(rgb) / 3 <= 0.2:
                results.append([])
                continue
            w, h = image.size
            box = (w / 4, h / 4, 3 * w / 4, 3 * h / 4)
            landmarks = [
                (w * 0.4, h * 0.4),
                (w * 0.6, h * 0.4),
                (w * 0.5, h * 0.5),
                (w * 0.42, h * 0.62),
                (w * 0.58, h * 0.62),
            ]
            results.append([Face(box, 0.99, landmarks, colour_vector(rgb).tolist())])
        return results


class FakeEnginesPlugin:
    """A plugin registering one fake engine of each task through the real hooks."""

    def __init__(self) -> None:
        self.embedder = FakeEmbedder()
        self.tagger = FakeTagger()
        self.captioner = FakeCaptioner()
        self.face_extractor = FakeFaceExtractor()

    @hookimpl
    def register_embedders(self, register: Callable[[Embedder], None]) -> None:
        register(self.embedder)

    @hookimpl
    def register_taggers(self, register: Callable[[Tagger], None]) -> None:
        register(self.tagger)

    @hookimpl
    def register_captioners(self, register: Callable[[Captioner], None]) -> None:
        register(self.captioner)

    @hookimpl
    def register_face_extractors(self, register: Callable[[FaceExtractor], None]) -> None:
        register(self.face_extractor)


def engines_by_id(pm: PluginManager, settings: Mapping[str, Any] | None = None) -> dict[str, Engine]:
    """Every engine the plugins registered on ``pm`` make, by id, as the core builds them (each plugin with
    its ``settings``, else its defaults and environment overrides)."""
    from .engines.registry import EngineRegistry

    return {engine.id: engine for engine in EngineRegistry.from_plugin_manager(pm, settings).all()}


@pytest.fixture
def plugin_manager() -> Iterator[PluginManager]:
    """A fresh plugin manager with the built-ins only (installed plugins are not loaded)."""
    pm = make_plugin_manager(load_entry_points=False)
    yield pm


@pytest.fixture
def fake_engines(plugin_manager: PluginManager) -> Iterator[FakeEnginesPlugin]:
    """Registers ``FakeEnginesPlugin`` on ``plugin_manager`` for the test, unregisters it afterwards."""
    plugin = FakeEnginesPlugin()
    plugin_manager.register(plugin, name="fake-engines")
    plugin_manager.check_pending()
    yield plugin
    plugin_manager.unregister(plugin)
