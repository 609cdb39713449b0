"""SmilingWolf's wd-tagger app's own code, run on the files a test gives it (in a venv with pandas, which
the app reads the tag list with). The app module imports gradio and starts a UI, so only its definitions
are executed: the kaomoji list, ``load_labels``, ``mcut_threshold`` and ``Predictor.prepare_image``.

    python wd_app_reference.py APP_PY SELECTED_TAGS_CSV SIZE OUT_DIR IMAGE ...

Writes OUT_DIR/labels.json (names and the three index lists), OUT_DIR/<n>.npy (each image as the app
prepares it) and, for OUT_DIR/scores.npy if present, OUT_DIR/mcut.json (the app's thresholds per row).
"""

import ast
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
from PIL import Image


def app_definitions(app_py: Path) -> dict:
    tree = ast.parse(app_py.read_text(encoding="utf-8"))
    wanted = {"kaomojis", "load_labels", "mcut_threshold"}
    nodes = []
    for node in tree.body:
        named = {node.name} if isinstance(node, ast.FunctionDef) else set()
        if isinstance(node, ast.Assign):
            named = {getattr(t, "id", "") for t in node.targets}
        if named & wanted:
            nodes.append(node)
        elif isinstance(node, ast.ClassDef) and node.name == "Predictor":
            nodes += [n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "prepare_image"]
    namespace = {"np": np, "Image": Image, "pd": pd}
    exec(compile(ast.Module(nodes, type_ignores=[]), str(app_py), "exec"), namespace)
    return namespace


def main(app_py: str, csv_path: str, size: str, out: str, *images: str) -> None:
    app, out_dir = app_definitions(Path(app_py)), Path(out)
    names, rating, general, character = app["load_labels"](pd.read_csv(csv_path))
    labels = {"names": names, "rating": [int(i) for i in rating], "general": [int(i) for i in general]}
    labels["character"] = [int(i) for i in character]
    (out_dir / "labels.json").write_text(json.dumps(labels))
    predictor = SimpleNamespace(model_target_size=int(size))
    for n, path in enumerate(images):
        with Image.open(path) as image:  # the app is given pictures as RGBA (its gradio input's mode)
            prepared = app["prepare_image"](predictor, image.convert("RGBA"))
        np.save(out_dir / f"{n}.npy", prepared[0])
    if (out_dir / "scores.npy").exists():
        rows = np.load(out_dir / "scores.npy")
        (out_dir / "mcut.json").write_text(json.dumps([float(app["mcut_threshold"](row)) for row in rows]))


if __name__ == "__main__":
    main(*sys.argv[1:])
