#!/usr/bin/env bash
# Put in .whl/ what benchmarks/bench_gpu.py needs on the GPU machine beside what that machine has (torch,
# transformers, timm, onnx, onnxruntime, pillow, numpy, pluggy, click, rich): PixlStash's packages built
# here, and the rest downloaded for CPython 3.12 on Linux x86-64. Under 64 MiB in all.
#
#     benchmarks/gpu_wheels.sh            then, there:
#     python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl \
#       && PYTHONPATH=/tmp/site python3 benchmarks/bench_gpu.py --json "$OUT/bench_gpu.json"
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
rm -rf .whl && mkdir .whl
for package in pixlstash-core pixlstash-plugins/clip pixlstash-plugins/wd-tagger pixlstash-plugins/joycaption \
    pixlstash-plugins/florence2; do
    "$PYTHON" -m pip wheel --quiet --no-deps --no-build-isolation -w .whl "./$package"
done
# The locked versions (constraints.txt) of what the machine lacks.
wanted=()
for name in msgspec apsw zstandard usearch numkong platformdirs open_clip_torch ftfy wcwidth; do
    pinned=$(grep -i "^${name}==" constraints.txt || true)
    wanted+=("${pinned:-$name}")
done
platforms=()
for n in 39 35 34 31 28 27 24 17 5; do platforms+=(--platform "manylinux_2_${n}_x86_64"); done
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    "${platforms[@]}" --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl "${wanted[@]}"
du -sh .whl
