"""ONNX engines on the GPU (issue 61), what can be checked without one: why onnxruntime's CUDA provider
would not load (the library it misses, named), the device list on a machine without a GPU, and the float16
copy of a graph (made once, atomically, its outputs within float16's rounding of the published graph's)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper, save

from pixlstash.engines.hardware import accelerators
from pixlstash.engines.onnx_sessions import (
    cuda_problem,
    fp16_copy,
    onnx_devices,
    open_session,
    provider_library_problem,
    session_note,
)


def _compile(source: str, target, *flags: str) -> None:
    c_file = target.with_suffix(".c")
    c_file.write_text(source)
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(target), str(c_file), *flags], check=True)


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler to build the stand-in provider")
def test_a_provider_library_whose_dependency_is_missing_names_that_library(tmp_path):
    # A provider built against a CUDA library that is then taken away: what onnxruntime-gpu's CUDA provider
    # meets on a machine without the CUDA 12 runtime (libcublasLt.so.12, measured with the real wheel).
    gone = tmp_path / "libcublasLt_standin.so.12"
    _compile("int cublas_standin(void) { return 12; }", gone, "-Wl,-soname,libcublasLt_standin.so.12")
    provider = tmp_path / "libonnxruntime_providers_cuda.so"
    _compile(
        "extern int cublas_standin(void); int provider(void) { return cublas_standin(); }",
        provider,
        f"-L{tmp_path}",
        f"-l:{gone.name}",
    )
    gone.unlink()
    said = provider_library_problem(tmp_path)
    assert "needs libcublasLt_standin.so.12, which is not installed" in said
    assert "onnxruntime-gpu[cuda,cudnn]" in said

    working = tmp_path / "working"
    working.mkdir()
    _compile("int provider(void) { return 1; }", working / "libonnxruntime_providers_cuda.so")
    assert provider_library_problem(working) == ""
    assert "is not in" in provider_library_problem(tmp_path / "nowhere")


@pytest.mark.skipif("cuda" in accelerators(), reason="a machine without an NVIDIA GPU")
def test_without_a_gpu_onnx_engines_run_on_the_cpu_and_say_nothing_of_it(tmp_path):
    assert cuda_problem() == "no NVIDIA GPU here"
    assert onnx_devices() == ["cpu"]
    session = open_session(_graph(tmp_path / "model.onnx"), "cpu", 1)
    assert session_note(session) == ""  # a CPU machine: nothing unexpected to explain


def _graph(path, seed: int = 0):
    rng = np.random.default_rng(seed)
    w = rng.normal(0, 0.3, (64, 10)).astype(np.float32)
    b = rng.normal(0, 0.5, 10).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["mm"]),
            helper.make_node("Add", ["mm", "b"], ["logits"]),
            helper.make_node("Sigmoid", ["logits"], ["scores"]),
        ],
        "small",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 64])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", 10])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")],
    )
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def test_the_fp16_copy_is_made_once_and_scores_within_float16_rounding(tmp_path):
    source = _graph(tmp_path / "model.onnx")
    target = tmp_path / ".fp16" / "model-abc.onnx"
    made = fp16_copy(source, target)
    assert made == target and target.is_file()
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]  # no scratch file left
    stamp = target.stat().st_mtime_ns
    assert fp16_copy(source, target) == target and target.stat().st_mtime_ns == stamp  # once

    import onnx

    weights = {t.name: t.data_type for t in onnx.load(str(target)).graph.initializer}
    assert weights["w"] == TensorProto.FLOAT16  # half the bytes a GPU reads
    x = np.random.default_rng(1).normal(0, 1, (8, 64)).astype(np.float32)
    full = open_session(source, "cpu", 1).run(None, {"x": x})[0]
    half = open_session(target, "cpu", 1).run(None, {"x": x})[0]
    assert half.dtype == np.float32  # float32 in and out: callers feed and read the same arrays
    assert np.abs(full - half).max() < 2e-3
    assert (np.argsort(-full, axis=1)[:, :3] == np.argsort(-half, axis=1)[:, :3]).mean() > 0.9


def test_doctor_says_why_onnx_engines_are_not_on_the_gpu(monkeypatch):
    from pixlstash.system import doctor

    facts = {"version": "1.23.2", "providers": ["CUDAExecutionProvider", "CPUExecutionProvider"]}
    missing = "onnxruntime's CUDA provider needs libcublasLt.so.12, which is not installed: install ..."
    monkeypatch.setattr(doctor, "accelerators", lambda: ("cuda",))  # the machine has an NVIDIA GPU
    line = doctor._runtime_line("onnxruntime", {**facts, "cuda_problem": missing})
    assert line.status == "warn" and line.detail.endswith(f"ONNX engines on the CPU: {missing}")
    line = doctor._runtime_line("onnxruntime", {**facts, "cuda_problem": ""})
    assert (line.status, line.detail) == ("ok", "1.23.2 with CUDA, CPU: ONNX engines on the GPU")
    monkeypatch.setattr(doctor, "accelerators", lambda: ())
    line = doctor._runtime_line("onnxruntime", {**facts, "cuda_problem": "no NVIDIA GPU here"})
    assert (line.status, line.detail) == ("ok", "1.23.2 with CUDA, CPU")


def test_doctor_s_probe_of_onnxruntime_reports_the_provider_check():
    from pixlstash.system.doctor import runtime_checks

    [line] = list(runtime_checks({"onnxruntime"}))
    assert line.status == "ok" and line.name == "onnxruntime" and "CPU" in line.detail
