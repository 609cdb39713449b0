"""Which key-value cache a generating engine decodes with (``pixlstash.engines.decoding``): the static one
on CUDA when "auto", never for quantized weights; a static cache that fails is given up once, said, and the
call made again with the dynamic cache; running out of memory is not such a failure (the runtime halves the
batch), and a static cache asked for by name is never swapped. The engines' own captions with each cache
are compared in the JoyCaption and Florence-2 plugins' tests."""

from __future__ import annotations

import pytest

from pixlstash import OutOfDeviceMemory
from pixlstash.engines.decoding import KeyValueCache


class Generator:
    """Stands in for a transformers model's ``generate``: records the caches asked for, fails as told."""

    def __init__(self, static_fails_with: Exception | None = None) -> None:
        self.asked: list[str] = []
        self.static_fails_with = static_fails_with

    def generate(self, **arguments):
        cache = arguments.get("cache_implementation", "dynamic")
        self.asked.append(cache)
        if cache == "static" and self.static_fails_with is not None:
            raise self.static_fails_with
        return [arguments["input_ids"]]


def test_auto_is_static_on_cuda_only_and_never_for_quantized_weights():
    cache = KeyValueCache("auto")
    assert cache.static("cuda") and not cache.static("cpu") and not cache.static("mps")
    assert not cache.static("cuda", quantized=True)
    assert KeyValueCache("static").static("cpu") and not KeyValueCache("dynamic").static("cuda")
    with pytest.raises(ValueError, match="decoding is one of auto, static, dynamic"):
        KeyValueCache("compiled")


def test_a_static_cache_that_fails_gives_way_to_the_dynamic_one_once_and_says_why(caplog):
    cache = KeyValueCache("auto", "joycaption/beta-one")
    model = Generator(RuntimeError("Failed to find C compiler. Please specify via CC environment variable."))
    assert cache.generate(model, cache.static("cuda"), input_ids=[1, 2]) == [[1, 2]]
    assert model.asked == ["static", "dynamic"]
    assert not cache.static("cuda")  # from now on
    assert cache.note(cache.static("cuda")) == (
        "dynamic cache (the static one failed: RuntimeError: Failed to find C compiler. "
        "Please specify via CC environment variable.)"
    )
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == ["joycaption/beta-one: the static cache failed"]
    cache.generate(model, cache.static("cuda"), input_ids=[3])
    assert model.asked == ["static", "dynamic", "dynamic"]


@pytest.mark.parametrize(
    ("setting", "error"),
    [("auto", OutOfDeviceMemory("CUDA out of memory")), ("static", RuntimeError("no compiler"))],
)
def test_out_of_memory_and_a_static_cache_asked_for_by_name_are_raised(setting, error):
    cache, model = KeyValueCache(setting), Generator(error)
    with pytest.raises(type(error)):
        cache.generate(model, True, input_ids=[1])
    assert model.asked == ["static"] and not cache.failed
