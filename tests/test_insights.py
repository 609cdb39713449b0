"""`pixlstash insights` (issue 64): which generation settings make keepers, over pictures imported from
files that carry A1111 parameters (the import reads them, as for a user). The counts, rates and Wilson
intervals are checked against a count made here and the textbook formula; the findings name only what was
planted; the scrapheap counts as not kept; the API answers what the CLI prints."""

from __future__ import annotations

import json
import math
from pathlib import Path

import msgspec
import pytest
from conftest import run_cli
from corpus import photo
from PIL import PngImagePlugin

from pixlstash.db.outcomes import OutcomeStore
from pixlstash.domain import PictureFilter
from pixlstash.insights import KeptRule
from pixlstash.insights.feature_cache import FeatureCache
from pixlstash.insights.service import Insights
from pixlstash.insights.settings import FeatureIndex, prompt_words
from pixlstash.library import Library
from pixlstash.plugins import make_plugin_manager


def _render(path, n: int, lora: str | None, sampler: str, checkpoint: str) -> None:
    prompt = f"masterpiece, portrait, tag{n % 3}" + (f", <lora:{lora}>" if lora else "")
    parameters = (
        f"{prompt}\nNegative prompt: blurry\nSteps: {20 + n % 2 * 10}, Sampler: {sampler}, CFG scale: 7, "
        f"Seed: {n}, Size: 64x64, Model: {checkpoint}"
    )
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", parameters)
    photo(64, 64, seed=500 + n).save(path, "PNG", pnginfo=info)


@pytest.fixture(scope="module")
def library_template(tmp_path_factory) -> tuple[Path, list[int], list[int]]:
    """80 renders: 30 with film_grain at 0.7 (24 of them rated 5), 50 without (4 rated 5, 2 rated 4);
    half on each of two checkpoints and samplers, whatever their rating. Made once; each test works on a
    copy (``library``, conftest.py)."""
    root, folder = tmp_path_factory.mktemp("renders") / "library", tmp_path_factory.mktemp("files")
    for n in range(80):
        lora = "film_grain:0.7" if n < 30 else None
        _render(folder / f"r{n:02}.png", n, lora, "Euler a" if n % 2 else "DPM++ 2M", f"model{n % 4 // 2}")
    with Library.open(root, plugin_manager=make_plugin_manager(load_entry_points=False)) as library:
        report = library.import_paths([folder])
        ids = {p.path.rsplit("/", 1)[-1]: p.picture_id for p in report.imported}
        assert len(ids) == 80
        grain = [ids[f"r{n:02}.png"] for n in range(30)]
        plain = [ids[f"r{n:02}.png"] for n in range(30, 80)]
        library.edits.set_fields(grain[:24] + plain[:4], rating=5)
        library.edits.set_fields(plain[4:6], rating=4)
    return root, grain, plain


@pytest.fixture
def renders(library, library_template):
    return library, library_template[1], library_template[2]


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    p = k / n
    denominator = 1 + z * z / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / denominator, (centre + spread) / denominator


def test_keep_rates_lifts_and_intervals(renders):
    library, _, _ = renders
    report = library.insights.keepers(PictureFilter(), KeptRule(), min_pictures=10)
    assert (report.pictures, report.kept) == (80, 30)
    assert report.rate == round(30 / 80, 4)
    stats = {(s.setting, s.value): s for values in report.settings.values() for s in values}
    lora = stats["lora", "film_grain"]
    assert (lora.pictures, lora.kept) == (30, 24)
    low, high = _wilson(24, 30)
    assert (lora.rate_low, lora.rate_high) == (round(low, 4), round(high, 4))
    assert lora.lift == round((24 / 30) / (30 / 80), 3)
    assert stats["lora_weight", "film_grain@0.6-0.8"].pictures == 30
    assert stats["steps", "20"].pictures == 40 and stats["cfg", "7"].pictures == 80
    assert {s.value for s in report.settings["checkpoint"]} == {"model0", "model1"}
    assert stats["prompt_word", "masterpiece"].pictures == 80
    assert stats["lora", "film_grain"].mean_rating == 5.0
    # Planted: film_grain (and its 0.6-0.8 band) kept more often; nothing else reliably so.
    above = {f.stat.label for f in report.findings if f.direction == "above"}
    assert above == {"LoRA film_grain", "LoRA film_grain at 0.6-0.8"}
    assert report.findings[0].text.endswith("(80% against 38%), 30 pictures")
    assert "kept 2.1x as often as average" in report.findings[0].text


def test_the_scrapheap_counts_as_not_kept_and_a_set_can_say_kept(renders):
    library, grain, plain = renders
    library.edits.scrap(plain[10:20])
    not_scrapped = library.insights.keepers(PictureFilter(), KeptRule("not-scrapped"), min_pictures=5)
    assert (not_scrapped.pictures, not_scrapped.kept) == (80, 70)
    best = library.edits.create_collection("set", "Best")
    library.edits.add_members(best.id, grain[:5])
    by_set = library.insights.keepers(PictureFilter(), KeptRule("set", set_id=best.id), min_pictures=5)
    assert by_set.kept == 5
    only_scrapheap = library.insights.keepers(PictureFilter(scrapheap=True), KeptRule(), min_pictures=5)
    assert (only_scrapheap.pictures, only_scrapheap.kept) == (10, 0)


def test_a_new_process_starts_from_the_settings_the_last_one_numbered(renders):
    """The numbered settings are kept in indexes/insights.v1.npz: a new process (a new Insights over the
    same file) answers the same without numbering them again, a changed picture is read again, and a file
    from a database that went back in time, or a damaged one, is not trusted."""
    library, grain, _ = renders
    first = library.insights.keepers(PictureFilter(), KeptRule(), min_pictures=10)
    path = library.root / "indexes" / "insights.v1.npz"
    assert path.is_file()
    index, features = FeatureCache(path).load(library.db.scalar("SELECT max(meta_seq) FROM pictures"))
    assert len(features) == 80 and len(index.keys) >= len({k for v in first.settings.values() for k in v})

    def fresh() -> Insights:
        return Insights(library.query, OutcomeStore(library.db), library.collections, FeatureCache(path))

    assert fresh().keepers(PictureFilter(), KeptRule(), min_pictures=10) == first
    library.edits.set_fields(grain[24:30], rating=5)  # six more kept: their stamps move
    again = fresh().keepers(PictureFilter(), KeptRule(), min_pictures=10)
    assert again.kept == first.kept + 6
    assert again == library.insights.keepers(PictureFilter(), KeptRule(), min_pictures=10)
    newest = library.db.scalar("SELECT max(meta_seq) FROM pictures")
    assert FeatureCache(path).load(newest - 1)[1] == {}  # an older database came back: not trusted
    path.write_bytes(b"PK\x03\x04 damaged")
    assert FeatureCache(path).load(newest)[1] == {}
    assert fresh().keepers(PictureFilter(), KeptRule(), min_pictures=10) == again


def test_prompt_words():
    words = prompt_words("(masterpiece:1.2), best quality,\n<lora:film_grain:0.7>, [1girl], a woman by the sea at dusk")
    assert words == {"masterpiece", "best quality", "1girl", "woman", "sea", "dusk"}
    assert prompt_words("") == set()


def test_a_librarys_rows_numbered_together_read_as_each_row_alone():
    """The first report numbers every row at once (plain tag prompts split together); each row's settings
    must be what that row says by itself: the prompt's words as ``prompt_words`` reads them, each once."""
    grain = '[{"name": "film_grain", "weight": 0.7}, {"name": "film_grain", "weight": 0.7}]'
    rows = [
        (512, 768, "juggernaut", grain, "euler", "karras", 30, 7.0, None, "1girl, Smile, smile,, solo\nsky"),
        (0, 768, None, "[]", "", None, 0, None, 3.5, "(masterpiece:1.2), best quality, a woman by the sea at dusk"),
        (64, 64, "juggernaut", "not json", None, None, None, None, None, "tag, " + "x" * 61),
        (64, 64, None, '[{"weight": 0.5}, {"name": "ink"}]', None, None, 20, 6.2, None, ""),
        (64, 64, None, None, None, None, None, None, None, "one two three four five words here, tag"),
        (64, 64, None, None, None, None, None, None, None, None),
        (64, 64, None, '[{"name": ["odd"]}, {"name": "ink"}]', None, None, None, None, None, None),
        (64, 64, None, '[{"name": "a"}], [{"name": "b"}]', None, None, None, None, None, None),
        (64, 64, None, '{"name": "c"}]', None, None, None, None, None, None),
    ]  # fmt: skip
    index = FeatureIndex()
    together = [{index.keys[n] for n in numbers} for numbers in index.features_of(rows)]
    assert together[0] == {
        ("checkpoint", "juggernaut"), ("lora", "film_grain"), ("lora_weight", "film_grain@0.6-0.8"),
        ("sampler", "euler"), ("scheduler", "karras"), ("steps", "30"), ("cfg", "7"), ("size", "512x768"),
        ("prompt_word", "1girl"), ("prompt_word", "smile"), ("prompt_word", "solo"), ("prompt_word", "sky"),
    }  # fmt: skip
    assert together[1] == {("guidance", "3.5")} | {("prompt_word", w) for w in prompt_words(rows[1][-1])}
    assert together[2] == {("checkpoint", "juggernaut"), ("size", "64x64")} | {
        ("prompt_word", w) for w in prompt_words(rows[2][-1])
    }
    assert together[3] == {("lora", "ink"), ("steps", "20"), ("cfg", "6"), ("size", "64x64")}
    assert together[4] == {("size", "64x64")} | {
        ("prompt_word", w) for w in {"one", "two", "three", "four", "five", "words", "here", "tag"}
    }
    # A list with something else in it counts none; so do two lists side by side, and half of one.
    assert together[5] == together[6] == together[7] == together[8] == {("size", "64x64")}
    for numbers in index.features_of(rows):
        assert list(numbers) == sorted(set(numbers.tolist()))
    alone = FeatureIndex()
    assert [{alone.keys[n] for n in alone.features_of([row])[0]} for row in rows] == together


def test_the_command_line_and_the_api(renders, live):
    library, _, _ = renders
    path = str(library.root)
    shown = run_cli("insights", "--min-pictures", "10", "--library", path).stdout.splitlines()
    assert shown[0] == "80 generated pictures in view; 30 kept (rated 4 stars or more): 37.5%"
    assert shown[2].startswith("  + LoRA film_grain") and "30 pictures" in shown[2]
    as_json = json.loads(run_cli("insights", "--min-pictures", "10", "--json", "--library", path).stdout)
    reader = live.client(live.token("read"))
    answered = reader.post("/api/v1/insights/keepers", json={"min_pictures": 10})
    assert answered.status_code == 200 and answered.json() == as_json
    expected = library.insights.keepers(PictureFilter(), KeptRule(), 10)
    assert as_json == json.loads(msgspec.json.encode(expected))

    refused = run_cli("insights", "--kept", "rating:9", "--library", path, check=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == "error: --kept is rating:N (1-5), set:NAME or not-scrapped, not 'rating:9'"
    assert reader.post("/api/v1/insights/keepers", json={"kept": {"by": "set"}}).status_code == 400
    assert reader.post("/api/v1/insights/keepers", json={"kept": {"by": "set", "set_id": 999}}).status_code == 404
    assert reader.post("/api/v1/insights/keepers", json={"min_pictures": 0}).status_code == 422
    assert live.client().post("/api/v1/insights/keepers", json={}).status_code == 401
