"""The CLIP embedder's number format, through the same code a GPU runs, on the CPU (torch's CPU autocast):
``precision=bf16`` really computes the image and text towers' matrix products in bfloat16, its vectors stay
within the fidelity bound of float32's (cosine >= 0.999 on average, the least printed), the default on a
CPU is float32, and a GPU's batch is sized from its free memory."""

from __future__ import annotations

import numpy as np
import pytest
from corpus import photo

torch = pytest.importorskip("torch")
open_clip = pytest.importorskip("open_clip")

from tiny_clip import build_tiny_clip  # noqa: E402

from pixlstash import make_plugin_manager  # noqa: E402
from pixlstash.testing import engines_by_id  # noqa: E402


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    root = tmp_path / "models"
    build_tiny_clip(root / "clip" / "tiny-test")
    monkeypatch.setenv("PIXLSTASH_MODELS_DIR", str(root))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return root


def _embedder(models_dir, precision: str):
    pm = make_plugin_manager(load_entry_points=False)
    import pixlstash_clip

    pm.register(pixlstash_clip, name="clip")
    from pixlstash.plugin_settings import PluginSettings

    settings = PluginSettings(pm).all()
    settings["clip"] = pixlstash_clip.ClipSettings(precision=precision)
    return engines_by_id(pm, settings)["clip/tiny-test"]


def _matmul_dtypes(engine) -> set:
    """The dtypes the towers' linear layers compute in, seen by hooks during one image and one text call."""
    seen: set = set()
    model = engine._loaded[0]
    hooks = [m.register_forward_hook(lambda _m, _i, out: seen.add(out.dtype)) for m in model.modules()
             if isinstance(m, torch.nn.Linear)]  # fmt: skip
    try:
        engine.embed_images([photo(120, 90, seed=1)])
        engine.embed_texts(["a lighthouse at dusk"])
    finally:
        for hook in hooks:
            hook.remove()
    return seen


def test_bf16_computes_in_bfloat16_within_the_fidelity_bound(models_dir):
    images = [photo(160 + 7 * n, 120, seed=n) for n in range(12)]
    texts = ["a photo of a cat", "two dogs on a beach", "a red car", "a lighthouse at dusk"]
    full, half = _embedder(models_dir, "fp32"), _embedder(models_dir, "bf16")
    full.load("cpu")
    half.load("cpu")
    assert _matmul_dtypes(full) == {torch.float32}
    assert _matmul_dtypes(half) == {torch.bfloat16}
    for ours, reference in ((half.embed_images(images), full.embed_images(images)),
                            (half.embed_texts(texts), full.embed_texts(texts))):  # fmt: skip
        assert ours.dtype == np.float32  # vectors are stored as float32 whatever the tower computed in
        cosine = np.sum(ours * reference, axis=1)
        print(f"bf16 against fp32: mean cosine {cosine.mean():.5f}, least {cosine.min():.5f}")
        assert cosine.mean() >= 0.999 and cosine.min() >= 0.995


def test_auto_is_float32_on_a_cpu_and_a_gpus_batch_comes_from_its_memory(models_dir, monkeypatch):
    engine = _embedder(models_dir, "auto")
    engine.load("cpu")
    assert _matmul_dtypes(engine) == {torch.float32}
    assert engine.batch_size("cpu") == engine.preferred_batch_size
    # What a card with this much free memory gets (asked of torch on a real GPU: torch.cuda.mem_get_info).
    from pixlstash import batch_for_memory

    monkeypatch.setattr("pixlstash.free_device_bytes", lambda _torch, _device: 24 << 30)
    engine._dtype = torch.bfloat16
    assert engine.batch_size("cuda") == 512  # a 24 GB card fills up to the cap with this small tower
    monkeypatch.setattr("pixlstash.free_device_bytes", lambda _torch, _device: 4 << 20)
    small = engine.batch_size("cuda")
    assert 1 <= small < 512 and small == batch_for_memory(4 << 20, engine.tokens * 64 * 2 * 24, fallback=32)


def test_the_gpu_s_parts_prepared_ahead_give_the_same_vectors(models_dir, monkeypatch):
    """A GPU's batch goes through in parts, each prepared while the card runs the one before (pinned
    memory, a copy that does not wait): run here on the CPU, the parts give the whole batch's vectors."""
    import pixlstash_clip.engine as clip_engine

    monkeypatch.setattr(clip_engine, "GPU_PART", 5)  # 12 pictures: parts of 5, 5 and 2
    engine = _embedder(models_dir, "fp32")
    images = [photo(150 + 9 * n, 110, seed=n) for n in range(12)]
    whole = engine.embed_images(images)
    model, preprocess, _, device = engine._ready()
    parts = list(engine._queued(model, preprocess, images, device))
    assert [len(part) for part in parts] == [5, 5, 2]
    np.testing.assert_allclose(engine._normalised(torch.cat(parts)), whole, atol=1e-5)
