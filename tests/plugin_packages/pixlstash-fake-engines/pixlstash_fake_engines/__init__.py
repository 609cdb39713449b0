"""Registers one fake engine of each task, so the real CLI can be tested end to end."""

from pixlstash import hookimpl
from pixlstash.testing import FakeCaptioner, FakeEmbedder, FakeFaceExtractor, FakeTagger


@hookimpl
def register_embedders(register):
    register(FakeEmbedder())


@hookimpl
def register_taggers(register):
    register(FakeTagger())


@hookimpl
def register_captioners(register):
    register(FakeCaptioner())


@hookimpl
def register_face_extractors(register):
    register(FakeFaceExtractor())
