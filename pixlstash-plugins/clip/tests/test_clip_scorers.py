"""The CLIP plugin's scorers on tiny models the test builds, run through the library's worker: the aesthetic
predictor's head at its real shape, against the reference repository's module; prompt match against
open_clip's own encoders; both reading only stored vectors."""

from __future__ import annotations

import numpy as np
import pytest
from corpus import photo
from PIL import PngImagePlugin

open_clip = pytest.importorskip("open_clip")
torch = pytest.importorskip("torch")

from tiny_clip import build_tiny_clip  # noqa: E402

from pixlstash import make_plugin_manager  # noqa: E402
from pixlstash.domain import PictureFilter, Sort  # noqa: E402
from pixlstash.engines import Task  # noqa: E402
from pixlstash.library import Library  # noqa: E402


class ReferenceAestheticHead(torch.nn.Module):
    """The head of christophschuhmann/improved-aesthetic-predictor (``simple_inference.py``), as published."""

    def __init__(self, input_size: int = 768) -> None:
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Linear(input_size, 1024),
            torch.nn.Dropout(0.2),
            torch.nn.Linear(1024, 128),
            torch.nn.Dropout(0.2),
            torch.nn.Linear(128, 64),
            torch.nn.Dropout(0.1),
            torch.nn.Linear(64, 16),
            torch.nn.Linear(16, 1),
        )

    def forward(self, x):
        return self.layers(x)


@pytest.fixture
def models(tmp_path, monkeypatch):
    root = tmp_path / "models"
    build_tiny_clip(root / "clip" / "tiny-l14", seed=1, embed_dim=768)
    build_tiny_clip(root / "clip" / "tiny-test", seed=2)
    monkeypatch.setenv("PIXLSTASH_MODELS_DIR", str(root))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("PIXLSTASH_CLIP_MODELS", "tiny-test")
    monkeypatch.setenv("PIXLSTASH_CLIP_AESTHETIC_MODEL", "tiny-l14")
    monkeypatch.setenv("PIXLSTASH_CLIP_PROMPT_MATCH_MODEL", "tiny-test")
    return root


@pytest.fixture
def library(models, tmp_path):
    pm = make_plugin_manager(load_entry_points=False)
    import pixlstash_clip

    pm.register(pixlstash_clip, name="clip")
    with Library.open(tmp_path / "lib", plugin_manager=pm) as library:
        yield library


def save_head(models, name: str = "sac+logos+ava1-l14-linearMSE.pth") -> ReferenceAestheticHead:
    torch.manual_seed(5)
    head = ReferenceAestheticHead().eval()
    with torch.no_grad():
        head.layers[7].bias.fill_(5.0)  # random weights land mid-scale, as trained ones do
    (models / "aesthetic").mkdir(parents=True, exist_ok=True)
    torch.save(head.state_dict(), models / "aesthetic" / name)
    return head


def run_jobs(library) -> None:
    library.new_enrichment_worker(decode_threads=2).run_until_idle()


def generated_png(path, prompt: str, seed: int) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", f"{prompt}\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, Seed: {seed}")
    photo(200, 160, seed).save(path, "PNG", pnginfo=info)


def test_the_aesthetic_head_scores_stored_vectors_as_the_reference_module_does(library, models, tmp_path):
    status = library.engines.by_id("clip/aesthetic").model_status()
    assert not status.present and "pixlstash models pull clip/aesthetic" in status.how_to_get
    head = save_head(models)
    assert library.engines.by_id("clip/aesthetic").model_status().present

    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(5):
        photo(240 + 20 * n, 180, seed=n).save(folder / f"p{n}.jpg")
    ids = [item.picture_id for item in library.import_paths([folder]).imported]
    library.enrichment.enqueue(Task.EMBEDDER, engine_id="clip/tiny-l14")
    job = library.enrichment.enqueue(Task.SCORER, engine_id="clip/aesthetic")
    run_jobs(library)  # the scorer waits for the embedder's vectors, whichever was asked for first
    assert library.enrichment.job(job.id).state == "done" and library.enrichment.job(job.id).failed == 0

    stored = library.vectors.embeddings("clip/tiny-l14", ids)
    with torch.no_grad():
        vectors = torch.from_numpy(np.stack([stored[i] for i in ids]))
        expected = head(vectors / vectors.norm(dim=-1, keepdim=True)).squeeze(1).clamp(0, 10).numpy()
    scores = [library.get(i).scores for i in ids]
    assert all(s[0].engine_id == "clip/aesthetic" for s in scores)
    np.testing.assert_allclose([s[0].value for s in scores], expected, rtol=1e-4, atol=1e-4)
    assert len(set(np.round(expected, 4))) == 5  # the pictures really are told apart

    ranked = library.page(PictureFilter(), Sort("score:clip/aesthetic"), None, 10)
    assert [p.id for p in ranked.items] == [ids[i] for i in np.argsort(-expected)]


def test_prompt_match_is_the_prompts_share_against_the_distractors(library, models, tmp_path):
    folder = tmp_path / "gen"
    folder.mkdir()
    prompts = ["a red car in the snow", "a portrait of an old man", "a bowl of fruit"]
    for n, prompt in enumerate(prompts):
        generated_png(folder / f"g{n}.png", prompt, seed=n)
    photo(100, 100, seed=9).save(folder / "plain.png")
    report = library.import_paths([folder])
    ids = {item.path.rsplit("/", 1)[-1]: item.picture_id for item in report.imported}
    library.enrichment.enqueue(Task.EMBEDDER, engine_id="clip/tiny-test")
    job = library.enrichment.enqueue(Task.SCORER, engine_id="clip/prompt-match")
    run_jobs(library)
    assert library.enrichment.job(job.id).failed == 0

    model, _, _ = open_clip.create_model_and_transforms(f"local-dir:{models / 'clip' / 'tiny-test'}")
    tokenizer = open_clip.get_tokenizer(f"local-dir:{models / 'clip' / 'tiny-test'}")
    from pixlstash_clip.scorers import DISTRACTORS

    with torch.no_grad():
        texts = model.eval().encode_text(tokenizer([*prompts, *DISTRACTORS]))
        texts = (texts / texts.norm(dim=-1, keepdim=True)).numpy()
    stored = library.vectors.embeddings("clip/tiny-test", list(ids.values()))
    for n, prompt in enumerate(prompts):
        vector = stored[ids[f"g{n}.png"]]
        logits = 100 * np.concatenate([[vector @ texts[n]], texts[len(prompts) :] @ vector])
        shares = np.exp(logits - logits.max())
        expected = shares[0] / shares.sum()
        (score,) = library.get(ids[f"g{n}.png"]).scores
        assert score.engine_id == "clip/prompt-match" and score.value == pytest.approx(expected, abs=1e-4), prompt
    assert library.get(ids["plain.png"]).scores == []  # nothing to match


def test_a_prompt_match_with_other_distractors_is_a_parameter(library, models, tmp_path):
    from pixlstash_clip.scorers import PromptMatchScorer

    engine = library.engines.by_id("clip/prompt-match")
    declared = {p.name: p for p in engine.parameters()}
    assert declared["distractors"].type == "string-list"
    scorer = next(e for e in _plain_registry() if isinstance(e, PromptMatchScorer))
    from pixlstash.engines import ScoreInput

    vector = np.zeros(64, np.float32)
    vector[0] = 1
    one = scorer.score([ScoreInput(vector, "a cat")], distractors=["a dog"])
    many = scorer.score([ScoreInput(vector, "a cat")])
    assert 0 < one[0] < 1 and 0 < many[0] < 1 and one != many
    assert scorer.score([ScoreInput(vector, "  ")]) == [None]


def _plain_registry():
    from pixlstash.engines.registry import EngineRegistry

    pm = make_plugin_manager(load_entry_points=False)
    import pixlstash_clip

    pm.register(pixlstash_clip, name="clip")
    return EngineRegistry.from_plugin_manager(pm).all()
