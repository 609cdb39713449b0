"""The server's memory with every plugin installed: at idle, while an engine runs, after it unloads; and
what the first call of each engine costs after start (its runtime imported, its model loaded).

    .venv/bin/python benchmarks/bench_engine_memory.py [--skip-full]

A real ``pixlstash serve`` (its own process) over a library of 12 pictures already enriched, so the
server has nothing to do at start. The engines are the tests' tiny models (WD tagger, insightface pack,
CLIP, JoyCaption) and a full-size CLIP ViT-B/32 with random weights (``--skip-full`` leaves it out).
For each engine: one job of one picture (POST /api/v1/jobs) timed from request to done, which includes
importing its runtime and loading its model (in the engine's own process, started then); the server's
RSS and the engine process's right after; then the RSS of the server and its children 60 s after the
engine's idle unload (``idle_unload_seconds`` set to 5), which ends the engine's process.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
for tests in (
    "tests",
    "pixlstash-plugins/clip/tests",
    "pixlstash-plugins/wd-tagger/tests",
    "pixlstash-plugins/faces/tests",
    "pixlstash-plugins/joycaption/tests",
):
    sys.path.insert(0, str(ROOT / tests))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def children_rss_mb(pid: int) -> float:
    """The RSS of the server's child processes (the engine processes)."""
    children = {c for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()}
    return sum(rss_mb(int(child)) for child in children if Path(f"/proc/{child}").exists())


def build_models(models: Path, full: bool) -> list[str]:
    from tiny_clip import build_tiny_clip
    from tiny_joycaption import build_tiny_joycaption
    from tiny_pack import build_tiny_pack
    from tiny_wd import build_tiny_wd

    build_tiny_wd(models / "wd-tagger" / "tiny-wd")
    build_tiny_pack(models / "faces" / "tiny-pack")
    build_tiny_clip(models / "clip" / "tiny-clip")
    build_tiny_joycaption(models / "joycaption" / "tiny")
    engines = ["wd-tagger/tiny-wd", "faces/tiny-pack", "clip/tiny-clip", "joycaption/tiny"]
    if full:
        import open_clip
        import torch
        from safetensors.torch import save_file

        folder = models / "clip" / "vit-b-32-random"
        folder.mkdir(parents=True)
        torch.manual_seed(0)
        config = open_clip.get_model_config("ViT-B-32")
        model = open_clip.model.CLIP(**config)
        preprocess = {"mean": [0.48145466, 0.4578275, 0.40821073], "std": [0.26862954, 0.26130258, 0.27577711]}
        (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": config, "preprocess_cfg": preprocess}))
        save_file(model.state_dict(), str(folder / "open_clip_model.safetensors"))
        engines.append("clip/vit-b-32-random")
    return engines


def is_loaded(client: httpx.Client, engine: str) -> bool:
    return any(e["id"] == engine and e["loaded"] for e in client.get("/engines").json())


def cli(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "pixlstash", *args], env=env, check=True, capture_output=True, text=True
    ).stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-full", action="store_true", help="leave the full-size CLIP ViT-B/32 out")
    args = parser.parse_args()
    from corpus import photo

    work = Path(tempfile.mkdtemp(prefix="pixlstash-bench-memory-"))
    models, library, pictures = work / "models", work / "library", work / "pictures"
    engines = build_models(models, full=not args.skip_full)
    pictures.mkdir()
    for n in range(12):
        photo(320, 240, seed=n).save(pictures / f"{n}.jpg", quality=90)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXLSTASH_")}
    env.update(
        PIXLSTASH_MODELS_DIR=str(models),
        HF_HUB_OFFLINE="1",
        HF_HOME=str(work / "hf"),
        INSIGHTFACE_HOME=str(work / "insightface"),
    )
    cli(env, "import", str(pictures), "--library", str(library))
    cli(env, "enrich", "--library", str(library))  # the on-import tasks done: nothing left for the server
    token = cli(env, "token", "create", "--library", str(library), "--scope", "admin").strip()

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "pixlstash", "serve", "--library", str(library), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{port}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=600
    )
    try:
        while True:
            try:
                client.get("/version")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        print(f"server answering after {time.perf_counter() - started:.2f} s")
        settings = client.get("/engines/settings").json()
        settings["idle_unload_seconds"] = 5
        assert client.put("/engines/settings", json=settings).status_code == 200
        time.sleep(10)
        idle = rss_mb(server.pid)
        print(f"RSS at idle, every plugin installed: {idle:.0f} MB")
        print(f"{'engine':<24} {'first call':>10} {'server RSS':>11} {'engine process':>15} {'60 s after unload':>18}")
        for engine in engines:
            task = {"wd-tagger": "tagger", "faces": "faces", "clip": "embedder", "joycaption": "captioner"}[
                engine.split("/")[0]
            ]
            begun = time.perf_counter()
            job = client.post("/jobs", json={"task": task, "engine": engine, "picture_ids": [1], "force": True})
            assert job.status_code == 202, job.text
            job_id = job.json()["job"]["id"]
            while (state := next(j for j in client.get("/jobs").json() if j["id"] == job_id))["state"] != "done":
                assert state["state"] in ("queued", "running"), state
                time.sleep(0.05)
            first_call = time.perf_counter() - begun
            after, engine_process = rss_mb(server.pid), children_rss_mb(server.pid)
            deadline = time.monotonic() + 120
            while is_loaded(client, engine) and time.monotonic() < deadline:
                time.sleep(1)
            time.sleep(60)
            print(
                f"{engine:<24} {first_call:>9.2f}s {after:>9.0f}MB {engine_process:>13.0f}MB "
                f"{rss_mb(server.pid) + children_rss_mb(server.pid):>16.0f}MB"
            )
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(60)


if __name__ == "__main__":
    main()
