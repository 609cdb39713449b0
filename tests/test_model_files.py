"""The header check ``pixlstash models`` runs before it calls a model's files present."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

from pixlstash import check_model_files


def test_whole_files_pass_and_damaged_ones_are_named_with_the_reason(tmp_path):
    save_file({"w": np.ones((64, 64), np.float32)}, str(tmp_path / "model.safetensors"))
    (tmp_path / "config.json").write_text(json.dumps({"dim": 64}))
    # An ONNX graph's first bytes: field 1 (ir_version) as a varint, as onnx.save writes it.
    (tmp_path / "tagger.onnx").write_bytes(b"\x08\x08\x12\x07pytorch" + bytes(100))
    assert check_model_files(tmp_path) == []
    whole = (tmp_path / "model.safetensors").read_bytes()

    (tmp_path / "model.safetensors").write_bytes(whole[:-10])
    (tmp_path / "config.json").write_text('{"dim": ')
    (tmp_path / "tagger.onnx").write_bytes(b"<html>rate limited</html>")
    (tmp_path / "empty.safetensors").write_bytes(b"")
    problems = check_model_files(tmp_path)
    assert problems[0] == "config.json: is not valid JSON (Expecting value: line 1 column 9 (char 8))"
    assert problems[1] == "empty.safetensors: is empty"
    assert problems[2] == f"model.safetensors: is cut short ({len(whole) - 10:,} bytes of {len(whole):,})"
    assert problems[3] == "tagger.onnx: is not an ONNX graph"
    (tmp_path / "model.safetensors").write_bytes(struct.pack("<Q", 1 << 40) + b"{}")
    assert "header runs past the end" in check_model_files(tmp_path / "model.safetensors")[0]
    assert check_model_files(tmp_path / "nowhere") == [f"{tmp_path / 'nowhere'} does not exist"]


def test_the_hub_cache_is_where_huggingface_hub_looks(monkeypatch, tmp_path):
    """The same folder huggingface_hub's own constants resolve, for each way users name it."""
    import importlib

    import huggingface_hub.constants as constants

    from pixlstash.system.paths import hub_cache_dir

    for variable in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME"):
        for other in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME"):
            monkeypatch.delenv(other, raising=False)
        monkeypatch.setenv(variable, str(tmp_path / variable))
        reference = importlib.reload(constants).HF_HUB_CACHE
        assert hub_cache_dir() == Path(reference), variable
    monkeypatch.undo()
    importlib.reload(constants)
