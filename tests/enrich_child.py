"""A worker process for the kill -9 and Ctrl+C tests: slow fake engines, so a kill lands mid-batch. With
``--hang``, the embedder says "computing" and then waits for the signal, so one lands mid-batch for sure."""

from __future__ import annotations

import sys
import time

from pixlstash.hookspecs import hookimpl
from pixlstash.library import Library
from pixlstash.plugins import make_plugin_manager
from pixlstash.testing import FakeEmbedder, FakeFaceExtractor


class SlowEmbedder(FakeEmbedder):
    id = "slow/embedder"
    preferred_batch_size = 4

    def embed_images(self, images):
        if "--hang" in sys.argv:
            print("computing", flush=True)
            # Short sleeps, not one long one: a Ctrl+C that lands after Python last looked for signals but
            # before the sleep began is only seen when that sleep ends (CPython checks on waking), which
            # on a busy machine left one long sleep sitting through the press (seen once in CI).
            for _ in range(6000):
                time.sleep(0.1)
        time.sleep(0.02)
        return super().embed_images(images)


class SlowFaces(FakeFaceExtractor):
    id = "slow/faces"
    preferred_batch_size = 3

    def extract(self, images):
        time.sleep(0.02)
        return super().extract(images)


class SlowEngines:
    @hookimpl
    def register_embedders(self, register):
        register(SlowEmbedder())

    @hookimpl
    def register_face_extractors(self, register):
        register(SlowFaces())


def plugin_manager():
    pm = make_plugin_manager(load_entry_points=False)
    pm.register(SlowEngines(), name="slow-engines")
    return pm


if __name__ == "__main__":
    with Library.open(sys.argv[1], plugin_manager=plugin_manager()) as library:
        print("ready", flush=True)
        library.new_enrichment_worker(decode_threads=2).run_until_idle()
