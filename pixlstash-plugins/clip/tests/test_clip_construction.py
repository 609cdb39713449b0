"""Every catalogue model is built as its weights were trained, checked against open_clip's own
constructors: OpenAI's CLIP weights need QuickGELU (open_clip's ``*-quickgelu`` configs), which open_clip
does not apply from the pretrained tag by itself (it only warns). A real checkpoint of ``ViT-B-32@openai``
loaded through the engine gives the vectors open_clip's ``ViT-B-32-quickgelu`` gives for it."""

from __future__ import annotations

import numpy as np
import pytest
from corpus import photo

open_clip = pytest.importorskip("open_clip")
torch = pytest.importorskip("torch")

from pixlstash import make_plugin_manager  # noqa: E402
from pixlstash.engines.registry import EngineRegistry  # noqa: E402
from pixlstash_clip.catalogue import KNOWN  # noqa: E402
from pixlstash_clip.engine import creation_options  # noqa: E402


def _activations(model) -> set[str]:
    return {type(module).__name__ for module in model.modules() if type(module).__name__ in ("GELU", "QuickGELU")}


@pytest.mark.parametrize("key", sorted(KNOWN))
def test_each_catalogue_model_uses_the_activation_its_weights_were_trained_with(key):
    name, tag = key.split("@", 1)
    trained_quick = bool((open_clip.get_pretrained_cfg(name, tag) or {}).get("quick_gelu"))
    options = creation_options(open_clip, key)
    assert options["force_quick_gelu"] is trained_quick
    if "SigLIP" in name or "H-14" in name or "L-14" in name:
        # Their towers are large: the configuration decides the activation, so compare configurations.
        ours = open_clip.get_model_config(name)
        if trained_quick:
            assert open_clip.get_model_config(f"{name}-quickgelu")["quick_gelu"] is True
        assert ours.get("quick_gelu", False) is False  # what open_clip would build without being told
        return
    built = open_clip.create_model(name, load_weights=False, force_quick_gelu=options["force_quick_gelu"])
    reference = open_clip.create_model(f"{name}-quickgelu" if trained_quick else name, load_weights=False)
    assert _activations(built) == _activations(reference)


def test_an_openai_checkpoint_gives_open_clips_quickgelu_vectors(tmp_path, monkeypatch):
    from safetensors.torch import save_file

    root = tmp_path / "models"
    (root / "clip").mkdir(parents=True)
    torch.manual_seed(0)
    weights = open_clip.create_model("ViT-B-32-quickgelu", load_weights=False)
    checkpoint = root / "clip" / "ViT-B-32@openai.safetensors"
    save_file({k: v.contiguous() for k, v in weights.state_dict().items()}, str(checkpoint))
    monkeypatch.setenv("PIXLSTASH_MODELS_DIR", str(root))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))

    pm = make_plugin_manager(load_entry_points=False)
    import pixlstash_clip
    from pixlstash_clip.catalogue import ClipSettings

    pm.register(pixlstash_clip, name="clip")
    registry = EngineRegistry.from_plugin_manager(pm, settings={"clip": ClipSettings(models=["ViT-B-32@openai"])})
    [engine] = [e for e in registry.all() if e.id == "clip/ViT-B-32@openai"]
    picture = photo(224, 224, seed=4)
    ours = np.asarray(engine.embed_images([picture]))[0]

    cfg = open_clip.get_pretrained_cfg("ViT-B-32", "openai")
    model, _, preprocess = open_clip.create_model_and_transforms(
        "ViT-B-32-quickgelu",
        pretrained=str(checkpoint),
        image_mean=cfg["mean"],
        image_std=cfg["std"],
        image_interpolation=cfg["interpolation"],
        image_resize_mode=cfg["resize_mode"],
    )
    model.eval()
    with torch.no_grad():
        theirs = model.encode_image(preprocess(picture).unsqueeze(0))[0].numpy()
    theirs = theirs / np.linalg.norm(theirs)
    assert float(np.dot(ours / np.linalg.norm(ours), theirs)) > 0.9999
    assert _activations(engine._loaded[0]) == {"QuickGELU"}
    assert engine.version.endswith("+quickgelu")  # vectors stored before, with GELU, are made again
