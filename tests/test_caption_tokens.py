"""Caption token counts in the dataset check (issue 64): the CLIP plugin's tokenizers count what kohya-ss
sd-scripts' own tokenize strategies make of each caption (SD 1.5's CLIP-L at 75 tokens, Flux's T5 at 512),
captions that are cut are a finding naming their pictures, counts are kept so a check again loads no
tokenizer, and a missing T5 tokenizer or a broken one is said, not fatal; CLIP's counts are open_clip's own
ids without open_clip's import."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys

import pytest
from consumer_venv import CONSUMERS, REFERENCE, consumer_answer, consumer_python, reference
from corpus import photo

from pixlstash.domain import PictureFilter
from pixlstash.library import Library
from pixlstash.training import BucketRules, ExportOptions
from pixlstash.training.caption_tokens import TokenCache, token_counts

COMFY_TOKENIZERS = REFERENCE / "ComfyUI" / "comfy"
SHORT = "ohwx woman in a meadow, smile"
LONG = "ohwx woman, " + ", ".join(f"detail {n} of the scene" for n in range(30))  # over 75 CLIP tokens
# Over 512 T5 tokens and the HTML, quotes and non-Latin text where cleaning differs between tokenizers.
VERY_LONG = "ohwx, “café” &amp; naïve 日本語 — " + " ".join(f"word{n}" for n in range(300))


class Counting:
    """A tokenizer that counts words, and how often it was asked."""

    id, label, window = "words", "words", 5

    def __init__(self, unavailable: str = "", fails: bool = False) -> None:
        self.asked: list[list[str]] = []
        self.why, self.fails = unavailable, fails

    def unavailable(self) -> str:
        return self.why

    def count(self, texts):
        if self.fails:
            raise OSError("tokenizer.json: truncated file")
        self.asked.append(list(texts))
        return [len(text.split()) for text in texts]


def test_counts_are_kept_per_text_and_a_tokenizer_that_cannot_count_says_why(tmp_path, caplog):
    cache_path = tmp_path / "indexes" / "caption-tokens.v1.msgpack"
    words = Counting()
    captions = {1: "one two", 2: "one two three four five six", 3: ""}
    [count] = token_counts([words], captions, TokenCache(cache_path))
    assert count.per_picture == {1: 2, 2: 6} and count.cut == [2] and count.most == 6 and count.median == 4
    assert words.asked == [["one two", "one two three four five six"]]
    # A new process: only the changed caption is counted.
    [again] = token_counts([words], {**captions, 2: "a b c"}, TokenCache(cache_path))
    assert words.asked[1:] == [["a b c"]] and again.per_picture == {1: 2, 2: 3} and again.cut == []
    missing, broken = token_counts(
        [Counting("no tokenizer here: copy it to X"), Counting(fails=True)], {1: "fresh words"}, TokenCache(cache_path)
    )
    assert missing.unavailable == "no tokenizer here: copy it to X" and missing.per_picture == {}
    assert broken.unavailable == "its tokenizer failed to load or run (the log says why)"
    assert "OSError: tokenizer.json: truncated file" in caplog.text
    cache_path.write_bytes(b"\x00not msgpack")  # damaged: counted again, nothing fails
    [fresh] = token_counts([words], {1: "one two"}, TokenCache(cache_path))
    assert fresh.per_picture == {1: 2} and words.asked[-1] == ["one two"]


def test_clip_tokens_are_open_clips_own_and_counting_them_imports_no_torch():
    """The CLIP counts run open_clip's vocabulary through ``tokenizers`` (open_clip's import takes torch's
    seconds): every id equals open_clip's ``SimpleTokenizer.encode``, on captions built to find where
    cleaning and splitting could part: HTML entities, mojibake, curly quotes, full-width letters, emoji,
    ligatures, control characters, contractions, the special tokens, runs of white space."""
    caption_tokens = pytest.importorskip("pixlstash_clip.caption_tokens")
    counted = subprocess.run(
        [sys.executable, "-c", COUNT_WITHOUT_TORCH], capture_output=True, text=True, timeout=120, check=False
    )
    assert counted.returncode == 0 and counted.stdout.split() == ["5", "False"], counted.stderr[-2000:]
    from open_clip.tokenizer import SimpleTokenizer

    theirs, ours = SimpleTokenizer(), caption_tokens.ClipTokens()
    made = random.Random(64)
    alphabet = "abcdefghij XYZ ,.!?'\"()[]{}<>_-:|123😀🐱‍👤日本éÃ©â€œ&;#\n\t\x00ﬁＦ½"
    captions = [
        "ohwx, “café” &amp; naïve 日本語 — word1 word2",
        "Hello  WORLD!!! it's 2026... <end_of_text> x<start_of_text>y <END_OF_TEXT>",
        "mojibake cafÃ© â€œquotedâ€\x9d, &lt;b&gt;bold&lt;/b&gt; &amp;amp; &#39;",
        "1girl, solo, long_hair, looking_at_viewer, (masterpiece:1.2), [blue eyes], score_9",
        "Ünïcödé straße ǅ ﬁ ＦＵＬＬＷＩＤＴＨ Ⅻ ⅛ \x07 'S 'LL Don't\r\n\t end",
        "",
        "   ",
        *("".join(made.choice(alphabet) for _ in range(made.randint(0, 80))) for _ in range(1500)),
    ]
    for caption in captions:
        assert ours.ids(caption) == theirs.encode(caption), repr(caption)
    assert ours.count(captions) == [len(theirs.encode(c)) for c in captions]


COUNT_WITHOUT_TORCH = """
import sys
from pixlstash_clip.caption_tokens import ClipTokens
print(*ClipTokens().count(["a photo of a cat"]), "torch" in sys.modules)
"""


@pytest.fixture(scope="module")
def sd_scripts_tokens(tmp_path_factory):
    """What sd-scripts makes of captions: its venv, and a ``tokenizer_cache_dir`` holding the tokenizers it
    would download (openai/clip-vit-large-patch14, google/t5-v1_1-xxl) as ComfyUI ships them. ComfyUI's
    CLIP config says 8192 tokens where the hub's says 77 (ComfyUI cuts prompts itself); the hub's is set."""
    source = reference("sd-scripts")
    python = consumer_python("sd-scripts", CONSUMERS / "sd-scripts-requirements.txt")
    cache = tmp_path_factory.mktemp("tokenizers")
    clip = shutil.copytree(COMFY_TOKENIZERS / "sd1_tokenizer", cache / "openai_clip-vit-large-patch14")
    config = json.loads((clip / "tokenizer_config.json").read_text())
    os.chmod(clip / "tokenizer_config.json", 0o644)
    (clip / "tokenizer_config.json").write_text(json.dumps({**config, "model_max_length": 77}))
    shutil.copytree(COMFY_TOKENIZERS / "text_encoders" / "t5_tokenizer", cache / "google_t5-v1_1-xxl")

    def tokens(captions: list[str]) -> list[dict]:
        answer, _ = consumer_answer(
            [python, CONSUMERS / "tokens_with_sd_scripts.py", cache],
            stdin=json.dumps(captions),
            env={**os.environ, "PYTHONPATH": str(source)},
        )
        return answer

    return tokens


@pytest.mark.slow
def test_clip_and_t5_counts_equal_what_sd_scripts_tokenizes(tmp_path, plugin_manager, sd_scripts_tokens):
    clip_plugin = pytest.importorskip("pixlstash_clip")
    plugin_manager.register(clip_plugin, name="clip")
    folder = tmp_path / "pictures"
    folder.mkdir()
    for n in range(4):
        photo(512, 512, seed=n).save(folder / f"{n}.png")
    with Library.open(tmp_path / "library", plugin_manager=plugin_manager) as library:
        ids = sorted(p.picture_id for p in library.import_paths([folder]).imported)
        alice = library.edits.create_collection("character", "Alice")
        library.edits.add_members(alice.id, ids)
        captions = dict(zip(ids, [SHORT, LONG, VERY_LONG], strict=False))  # the fourth: the trigger alone
        for picture_id, caption in captions.items():
            library.edits.caption(picture_id, caption)

        in_set, options = PictureFilter(collections=[alice.id]), ExportOptions(caption="caption", trigger="ohwx")

        def check():
            return library.training.check(in_set, options, BucketRules())

        report = check()
        clip, t5 = report.captions.tokens
        assert (clip.tokenizer, clip.window, t5.tokenizer, t5.window) == ("clip", 75, "t5", 511)
        assert t5.per_picture == {} and "t5_tokenizer=PATH" in t5.unavailable  # none on this machine
        library.plugin_settings.update(
            "clip", {"t5_tokenizer": str(COMFY_TOKENIZERS / "text_encoders" / "t5_tokenizer")}
        )
        report = check()
        clip, t5 = report.captions.tokens
        # The caption files' texts, as the export writes them (the trigger put first).
        written = {f.picture_id: f.caption for f in library.training.plan(in_set, options).files if f.caption}
        assert clip.per_picture.keys() == t5.per_picture.keys() == written.keys()
        theirs = dict(zip(written, sd_scripts_tokens(list(written.values())), strict=True))
        for picture_id, said in theirs.items():
            assert clip.per_picture[picture_id] == said["clip"], written[picture_id]
            assert t5.per_picture[picture_id] == said["t5"], written[picture_id]
            # What we call cut is what sd-scripts leaves out.
            assert (picture_id in clip.cut) == (said["clip_kept"] < said["clip"]) == (said["clip"] > 75)
            assert said["flux_clip_kept"] == min(said["clip"], clip.window)
            assert (picture_id in t5.cut) == (said["t5_kept"] < said["t5"]) == (said["t5"] > t5.window)
        assert clip.cut == [ids[2], ids[1]]  # longest first
        assert t5.cut == [ids[2]] and written[ids[3]] == "ohwx"
        long_ones = [f for f in report.findings if f.kind == "long-captions"]
        assert [f.picture_ids for f in long_ones] == [clip.cut, t5.cut]
        assert "2 pictures have a caption longer than the 75 tokens CLIP (SD 1.5, SDXL) reads" in long_ones[0].message
        assert "1 picture has a caption longer than the 511 tokens T5 (Flux, SD3) reads" in long_ones[1].message
        assert (library.root / "indexes" / "caption-tokens.v1.msgpack").is_file()


def test_the_t5_setting_reads_only_a_tokenizer_json_and_never_says_what_a_bad_one_holds(tmp_path, caplog):
    caption_tokens = pytest.importorskip("pixlstash_clip.caption_tokens")
    secret = tmp_path / "settings.json"
    secret.write_text('{"model": {"type": "hunter2-the-secret"}}')
    [elsewhere] = token_counts([caption_tokens.T5Tokens(str(secret))], {1: "a cat"}, TokenCache(tmp_path / "c"))
    assert elsewhere.unavailable.startswith(f"the t5_tokenizer setting names {secret}/tokenizer.json, which is not")
    planted = tmp_path / "planted" / "tokenizer.json"
    planted.parent.mkdir()
    planted.write_text(secret.read_text())
    [bad] = token_counts([caption_tokens.T5Tokens(str(planted.parent))], {1: "a cat"}, TokenCache(tmp_path / "c"))
    assert bad.unavailable == "its tokenizer failed to load or run (the log says why)"
    assert "hunter2" not in bad.unavailable and bad.per_picture == {}
