"""Full-size models with random weights and the real shapes, built (never downloaded) into a models folder
laid out as the plugins read it, each with its FLOPs per picture counted once (``flops.json``):

- CLIP ViT-B/32 and ViT-L/14 at 224 px and SigLIP so400m/14 at 384 px: open_clip's own configs. The
  vision towers are exact. SigLIP's text tower is given CLIP's tokenizer (its own is not on this machine);
  only queries use it.
- WD ViT v3 (ViT-B/16 at 448 px, no class token, average pooling) and WD EVA02-Large v3 (EVA02-L/14 at
  448 px): timm's architectures with the real 10,861-tag head, exported to ONNX with WD's signature (NHWC
  BGR 0-255 in, sigmoid scores out) beside the real ``selected_tags.csv``.
- SCRFD-10G and ArcFace R50 shaped graphs (``face_graphs.py``).

FLOPs are counted with torch's ``FlopCounterMode`` (attention on its math kernel, so its matrix products
are counted too) for the torch models, and with ONNX shape inference plus the operators' multiply-adds
for the face graphs; one multiply-add is two FLOPs.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TAGS = ROOT.parent / "shared" / "reference" / "wd-tagger" / "model" / "selected_tags.csv"

CLIP_MODELS = {  # folder name: (open_clip config, input side, mean, std)
    "vit-b-32": ("ViT-B-32", 224, (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)),
    "vit-l-14": ("ViT-L-14", 224, (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)),
    "siglip-so400m-384": ("ViT-SO400M-14-SigLIP-384", 384, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
}
WD_TAGS = 10_861  # WD v3's tag list: ratings, general tags, characters
RATINGS = ("general", "sensitive", "questionable", "explicit")
WD_MODELS = {  # folder name: (timm architecture, its arguments)
    "wd-vit-v3": ("vit_base_patch16_224", {"img_size": 448, "class_token": False, "global_pool": "avg"}),
    "wd-eva02-large-v3": ("eva02_large_patch14_448", {}),
}


def flops_of(folder: Path) -> float:
    return json.loads((folder / "flops.json").read_text())["flops"]


def _save_flops(folder: Path, flops: float) -> None:
    (folder / "flops.json").write_text(json.dumps({"flops": flops}))


def _counted(module, *inputs) -> float:
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    # Grad mode on: in inference mode nn.MultiheadAttention takes a fused path the counter does not see.
    with sdpa_kernel([SDPBackend.MATH]), FlopCounterMode(display=False) as counter, torch.no_grad():
        torch.set_grad_enabled(True)
        module(*inputs)
    return float(counter.get_total_flops())


def build_clip(models: Path, name: str) -> Path:
    folder = models / "clip" / name
    if (folder / "flops.json").is_file():
        return folder
    import open_clip
    import torch
    from safetensors.torch import save_file

    config_name, side, mean, std = CLIP_MODELS[name]
    config = open_clip.get_model_config(config_name)
    text = config.get("text_cfg", {})
    if text.pop("hf_tokenizer_name", None):  # CLIP's tokenizer (on this machine) in place of SigLIP's
        text.update(vocab_size=49408, context_length=77, tokenizer_kwargs={})
    torch.manual_seed(0)
    arguments = {k: v for k, v in config.items() if k != "custom_text"}
    model = (open_clip.CustomTextCLIP if config.get("custom_text") else open_clip.CLIP)(**arguments).eval()
    folder.mkdir(parents=True, exist_ok=True)
    preprocess = {"mean": list(mean), "std": list(std), "interpolation": "bicubic"}
    if name.startswith("siglip"):
        preprocess["resize_mode"] = "squash"
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": config, "preprocess_cfg": preprocess}))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(folder / "open_clip_model.safetensors"))
    _save_flops(folder, _counted(model.visual, torch.zeros(1, 3, side, side)))
    return folder


def _tag_list(target: Path) -> int:
    """WD v3's real ``selected_tags.csv`` (from ``../shared/reference``), or, where that is not at hand (the GPU
    machine), a list of the same length and categories: 4 ratings, then general and character tags."""
    if TAGS.is_file():
        shutil.copyfile(TAGS, target)
    else:
        rows = ["tag_id,name,category,count"] + [f"{n},{r},9,0" for n, r in enumerate(RATINGS)]
        rows += [f"{n},tag_{n},{4 if n >= 10_000 else 0},0" for n in range(len(RATINGS), WD_TAGS)]
        target.write_text("\n".join(rows) + "\n")
    return sum(1 for _ in target.open()) - 1


class _WdSignature:
    """Wraps a timm classifier in WD's published signature."""

    @staticmethod
    def wrap(classifier):
        import torch

        class Wd(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.classifier = classifier

            def forward(self, bgr):  # (N, S, S, 3) float32, BGR, 0-255
                rgb = bgr.flip(-1).permute(0, 3, 1, 2) / 127.5 - 1.0
                return torch.sigmoid(self.classifier(rgb))

        return Wd().eval()


def build_wd(models: Path, name: str) -> Path:
    folder = models / "wd-tagger" / name
    if (folder / "flops.json").is_file():
        return folder
    import timm
    import torch

    architecture, arguments = WD_MODELS[name]
    folder.mkdir(parents=True, exist_ok=True)
    tags = _tag_list(folder / "selected_tags.csv")
    torch.manual_seed(0)
    classifier = timm.create_model(architecture, pretrained=False, num_classes=tags, **arguments)
    # A head that scores like a trained one: most tags near 0, a few dozen a picture above 0.35 (timm's
    # initial head puts every tag at 0.5, so every tag would be written and top-10 agreement be noise).
    torch.nn.init.normal_(classifier.head.weight, std=2.0 / classifier.head.in_features**0.5)
    torch.nn.init.constant_(classifier.head.bias, -6.0)
    wrapped = _WdSignature.wrap(classifier)
    side = classifier.pretrained_cfg.get("input_size", (3, 448, 448))[-1] if not arguments else arguments["img_size"]
    sample = torch.zeros(1, side, side, 3)
    torch.onnx.export(
        wrapped,
        (sample,),
        str(folder / "model.onnx"),
        input_names=["input"],
        output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    _save_flops(folder, _counted(wrapped, sample))
    return folder


def build_faces(models: Path) -> Path:
    folder = models / "faces" / "full-size"
    if (folder / "flops.json").is_file():
        return folder
    from face_graphs import build_full_size_pack

    build_full_size_pack(folder)
    flops = {
        "detector": onnx_flops(folder / "det_10g_shaped.onnx", {"input.1": [1, 3, 640, 640]}),
        "recogniser": onnx_flops(folder / "w600k_r50_shaped.onnx", {"data": [1, 3, 112, 112]}),
    }
    (folder / "flops.json").write_text(json.dumps({"flops": flops["detector"], **flops}))
    return folder


def onnx_flops(path: Path, inputs: dict[str, list[int]] | None) -> float:
    """Multiply-adds of Conv, MatMul and Gemm nodes (x2), with shapes from ONNX shape inference at the
    given input shape (the graph's own where None)."""
    import onnx
    from onnx import shape_inference

    model = onnx.load(str(path))
    for graph_input in model.graph.input:
        if inputs and graph_input.name in inputs:
            for dim, size in zip(graph_input.type.tensor_type.shape.dim, inputs[graph_input.name], strict=True):
                dim.ClearField("dim_param")
                dim.dim_value = size
    model = shape_inference.infer_shapes(model)
    shapes = {}
    for value in [*model.graph.value_info, *model.graph.input, *model.graph.output]:
        shapes[value.name] = [d.dim_value for d in value.type.tensor_type.shape.dim]
    for init in model.graph.initializer:
        shapes[init.name] = list(init.dims)
    total = 0
    for node in model.graph.node:
        if node.op_type == "Conv":
            out, weight = shapes[node.output[0]], shapes[node.input[1]]
            total += int(np.prod(out)) * int(np.prod(weight[1:]))
        elif node.op_type in ("MatMul", "Gemm"):
            out, left = shapes[node.output[0]], shapes[node.input[0]]
            total += int(np.prod(out)) * left[-1]
    return 2.0 * total
