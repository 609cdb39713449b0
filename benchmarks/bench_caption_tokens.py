"""How long the dataset check's first CLIP token count takes in a new process, side by side:

- ``open_clip``: open_clip's own ``SimpleTokenizer`` (importing it imports torch, torchvision and timm),
  what the clip plugin used before;
- ``tokenizers``: the plugin's ``ClipTokens`` now (open_clip's vocabulary file through Hugging Face
  ``tokenizers``, no torch).

Each run is a fresh ``python`` counting N generated captions (4 to 90 tag phrases); the two ways alternate so a
machine whose speed drifts treats both alike. Prints the median and every run.

    python benchmarks/bench_caption_tokens.py [--captions 2000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CHILD = r"""
import json, random, sys, time
start = time.perf_counter()
made = random.Random(7)
words = ["1girl", "solo", "long hair", "looking at viewer", "smile", "outdoors", "blue sky", "masterpiece",
         "ohwx woman", "red dress", "from side", "depth of field", "café", "“quoted”", "&amp;"]
captions = [", ".join(made.choice(words) for _ in range(made.randint(4, 90))) for _ in range(int(sys.argv[2]))]
if sys.argv[1] == "open_clip":
    from open_clip.tokenizer import SimpleTokenizer
    tokenizer = SimpleTokenizer()
    loaded = time.perf_counter()
    counts = [len(tokenizer.encode(c)) for c in captions]
else:
    from pixlstash_clip.caption_tokens import ClipTokens, _clip_bpe
    _clip_bpe()
    loaded = time.perf_counter()
    counts = ClipTokens().count(captions)
done = time.perf_counter()
print(json.dumps({"load": loaded - start, "count": done - loaded, "total": done - start, "tokens": sum(counts),
                  "torch": "torch" in sys.modules}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--captions", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    ways = ("open_clip", "tokenizers")
    results: dict[str, list[dict]] = {way: [] for way in ways}
    for _ in range(args.runs):
        for way in ways:
            out = subprocess.run(
                [sys.executable, "-c", CHILD, way, str(args.captions)], capture_output=True, text=True, check=True
            )
            results[way].append(json.loads(out.stdout.splitlines()[-1]))
    print(f"first CLIP token count in a new process, {args.captions:,} captions, {args.runs} runs each")
    for way in ways:
        runs = results[way]
        print(f"  {way:10}  tokens {runs[0]['tokens']:,}  torch imported: {runs[0]['torch']}")
        for key in ("load", "count", "total"):
            values = [r[key] for r in runs]
            listed = ", ".join(f"{v:.3f}" for v in values)
            print(f"    {key:5} median {statistics.median(values):6.3f} s  (runs: {listed})")
    assert len({r["tokens"] for way in ways for r in results[way]}) == 1, "the two ways counted differently"


if __name__ == "__main__":
    main()
