"""Which number format and batch an engine gets on a device (pixlstash.engines.precision): the rules every
torch plugin uses, checked without a GPU (the plugins' own tests run the dtype path on the CPU)."""

from __future__ import annotations

import pytest

from pixlstash.engines.precision import batch_for_memory, dtype_name


@pytest.mark.parametrize(
    ("device", "precision", "bf16", "expected"),
    [
        ("cuda", "auto", True, "bfloat16"),  # Ampere and newer
        ("cuda", "auto", False, "float16"),  # compute capability under 8.0 (Turing, Volta)
        ("mps", "auto", True, "float16"),
        ("cpu", "auto", True, "float32"),
        ("cuda", "fp32", True, "float32"),  # the setting wins
        ("cpu", "bf16", True, "bfloat16"),  # torch's CPU autocast: how the tests run the GPU's path
        ("cuda", "bf16", False, "float16"),  # asked for on a card without it: the nearest it has
        ("cuda", "fp16", True, "float16"),
    ],
)
def test_the_number_format_for_each_device_and_setting(device, precision, bf16, expected):
    assert dtype_name(device, precision, bf16) == expected


def test_an_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="precision is one of auto, fp32, bf16, fp16"):
        dtype_name("cuda", "int4")


def test_a_batch_fills_what_the_card_has_free_and_no_more():
    gib, mib = 1 << 30, 1 << 20
    # ViT-L/14 at 224 px in bfloat16, ~12.6 MB a picture: an idle 80 GB card takes the cap.
    assert batch_for_memory(78 * gib, 257 * 1024 * 2 * 24, fallback=32) == 512
    # A 24 GB card with a ComfyUI model loaded (6 GB free): 7/10 of it, a multiple of 8.
    assert batch_for_memory(6 * gib, 257 * 1024 * 2 * 24, fallback=32) == 352
    # What one call needs whatever its size comes first; very little room still runs one at a time.
    assert batch_for_memory(100 * mib, 40 * mib, fallback=32, fixed_bytes=30 * mib) == 1
    assert batch_for_memory(1 * mib, 40 * mib, fallback=32) == 1
    assert batch_for_memory(None, 40 * mib, fallback=32) == 32  # the CPU: nothing to size from
