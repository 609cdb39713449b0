"""Which insightface model packs this plugin offers and where their files are.

A pack is a folder of ONNX files as insightface publishes it (``buffalo_l``: the SCRFD-10G detector
``det_10g.onnx``, the ArcFace ResNet-50 ``w600k_r50.onnx`` and attribute models this plugin does not
load). It is looked for in ``<models dir>/faces/<pack>/``, then in insightface's own folder
(``~/.insightface/models/<pack>``, or ``$INSIGHTFACE_HOME/models/<pack>``), where other tools leave it.
Nothing here touches the network; ``download`` does, and only ``pixlstash models pull`` calls it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import msgspec

from pixlstash import ModelMissing, models_dir

__all__ = ["DEFAULT_PACK", "INSIGHTFACE_RELEASES", "KNOWN_PACKS", "FacePack", "FacesSettings", "configured_packs"]

DEFAULT_PACK = "buffalo_l"
# Where insightface's own downloader fetches the packs (its model zoo's GitHub releases).
INSIGHTFACE_RELEASES = "https://github.com/deepinsight/insightface/releases"
KNOWN_PACKS = {
    "buffalo_l": "SCRFD-10G detector and ArcFace ResNet-50 (the most accurate)",
    "buffalo_m": "SCRFD-2.5G detector and ArcFace ResNet-50",
    "buffalo_s": "SCRFD-500M detector and ArcFace MobileFaceNet (fast, small)",
    "antelopev2": "SCRFD-10G detector and ArcFace ResNet-100 (glint360k)",
}


def faces_models_dir() -> Path:
    return models_dir() / "faces"


def insightface_root() -> Path:
    return Path(os.environ.get("INSIGHTFACE_HOME", "~/.insightface")).expanduser()


def onnx_folder(folder: Path) -> Path | None:
    """The folder holding the pack's ONNX files: itself, or its one subfolder (antelopev2's zip nests
    one), or None when there are none."""
    if not folder.is_dir():
        return None
    if any(folder.glob("*.onnx")):
        return folder
    inner = [child for child in folder.iterdir() if child.is_dir() and any(child.glob("*.onnx"))]
    return inner[0] if len(inner) == 1 else None


@dataclass(frozen=True)
class FacePack:
    name: str
    local_folder: Path

    @property
    def engine_id(self) -> str:
        return f"faces/{self.name}"

    def files(self) -> Path | None:
        return onnx_folder(self.local_folder) or onnx_folder(insightface_root() / "models" / self.name)

    def fingerprint(self) -> str:
        import hashlib  # here, not at the top: OpenSSL's hashlib costs every CLI start

        folder = self.files()
        if folder is None:
            return "0"
        digest = hashlib.blake2b(digest_size=6)
        for path in sorted(folder.glob("*.onnx")):
            digest.update(f"{path.name}:{path.stat().st_size}".encode())
        return digest.hexdigest()

    def how_to_get(self) -> str:
        ways = []
        if self.name in KNOWN_PACKS:
            ways.append(
                f"run `pixlstash models pull {self.engine_id}` on a machine with internet (it downloads "
                f"insightface's {self.name}.zip from its GitHub releases into {self.local_folder})"
            )
        ways.append(f"or unzip the {self.name} pack (its .onnx files) into {self.local_folder}")
        return "; ".join(ways)

    def download(self) -> Path:
        """Fetch the pack with insightface's own downloader (the user asked: ``pixlstash models pull``)."""
        if self.name not in KNOWN_PACKS:
            raise ModelMissing(f"{self.engine_id} is a local pack with no download source: {self.how_to_get()}")
        from insightface.utils.storage import download

        self.local_folder.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.local_folder.parent) as staging:
            fetched = Path(download("models", self.name, force=True, root=staging))
            shutil.rmtree(self.local_folder, ignore_errors=True)
            shutil.move(str(fetched), self.local_folder)
        return self.local_folder


class FacesSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The plugin's settings (``pixlstash plugins config faces``)."""

    packs: list[str] = msgspec.field(default_factory=lambda: [DEFAULT_PACK])  # offered, by name
    threads: int = 0  # onnxruntime intra-op threads on the CPU; 0: one per core


def configured_packs(settings: FacesSettings | None = None) -> list[FacePack]:
    """The packs named by the settings, then every local pack folder that is not one of them."""
    base = faces_models_dir()
    names = [n.strip() for n in (settings or FacesSettings()).packs if n.strip()]
    packs = [FacePack(name, base / name) for name in dict.fromkeys(names)]
    named = {p.name for p in packs}
    if base.is_dir():
        for folder in sorted(base.iterdir()):
            if folder.name not in named and onnx_folder(folder) is not None:
                packs.append(FacePack(folder.name, folder))
    return packs
