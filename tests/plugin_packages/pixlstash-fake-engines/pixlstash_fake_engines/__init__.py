"""Registers one fake engine of each task, so the real CLI can be tested end to end, and a slow embedder
(``fake/slow-colour``: the colour embedder taking ``PIXLSTASH_FAKE_SLOW_SECONDS`` a batch, 0.2 by default)
so a test can act while batches are out."""

import os
import time

from pixlstash import hookimpl
from pixlstash.testing import FakeCaptioner, FakeEmbedder, FakeFaceExtractor, FakeTagger


class SlowEmbedder(FakeEmbedder):
    id = "fake/slow-colour"
    preferred_batch_size = 4
    ray_resources = {"num_cpus": 0.5}  # what an engine may declare for its Ray actors

    def embed_images(self, images):
        time.sleep(float(os.environ.get("PIXLSTASH_FAKE_SLOW_SECONDS", "0.2")))
        return super().embed_images(images)


@hookimpl
def register_embedders(register):
    register(FakeEmbedder())
    register(SlowEmbedder())


@hookimpl
def register_taggers(register):
    register(FakeTagger())


@hookimpl
def register_captioners(register):
    register(FakeCaptioner())


@hookimpl
def register_face_extractors(register):
    register(FakeFaceExtractor())
