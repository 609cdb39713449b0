"""A cheap check that model files open, before ``pixlstash models`` calls them present.

Reads headers only (a safetensors file's JSON header and the data size it declares, an ONNX graph's first
field, a JSON config, a zip-based torch checkpoint's directory), so it takes milliseconds for gigabytes of
weights. A file cut short by an interrupted copy, or one that holds something else, is named with the
reason; a full load would find the rest.
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

__all__ = ["check_model_files"]

_CHECKED = {".safetensors", ".onnx", ".json", ".pt", ".pth", ".bin", ".ckpt"}
_MAX_HEADER = 100 << 20  # safetensors' own limit on the JSON header


def check_model_files(location: str | Path) -> list[str]:
    """Problems found in the model files at ``location`` (a folder or one file); empty when they look whole."""
    path = Path(location)
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in _CHECKED)
    else:
        return [f"{path} does not exist"]
    problems = []
    for file in files:
        try:
            problem = _check(file)
        except OSError as error:
            problem = f"cannot be read ({error.strerror or error})"
        if problem:
            problems.append(f"{file.name}: {problem}")
    return problems


def _check(file: Path) -> str | None:
    suffix = file.suffix.lower()
    size = file.stat().st_size
    if size == 0:
        return "is empty"
    if suffix == ".safetensors":
        return _check_safetensors(file, size)
    if suffix == ".onnx":
        with open(file, "rb") as handle:
            first = handle.read(1)
        # Every ONNX ModelProto starts with a protobuf field key (ir_version is field 1, a varint: 0x08).
        return None if first and first[0] & 0x07 in (0, 2) and first[0] >> 3 >= 1 else "is not an ONNX graph"
    if suffix == ".json":
        try:
            json.loads(file.read_bytes())
        except ValueError as error:
            return f"is not valid JSON ({error})"
        return None
    if suffix in (".pt", ".pth", ".bin", ".ckpt") and zipfile.is_zipfile(file):
        try:
            with zipfile.ZipFile(file) as archive:
                archive.infolist()
        except zipfile.BadZipFile as error:
            return f"is damaged ({error})"
    return None


def _check_safetensors(file: Path, size: int) -> str | None:
    with open(file, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            return "is cut short (no header)"
        (header_size,) = struct.unpack("<Q", head)
        if header_size > _MAX_HEADER or 8 + header_size > size:
            return "is cut short or is not a safetensors file (its header runs past the end)"
        try:
            header = json.loads(handle.read(header_size))
        except ValueError:
            return "has a damaged header (not JSON)"
    if not isinstance(header, dict):
        return "has a damaged header"
    ends = [
        entry["data_offsets"][1]
        for name, entry in header.items()
        if name != "__metadata__" and isinstance(entry, dict) and isinstance(entry.get("data_offsets"), list)
    ]
    needed = 8 + header_size + max(ends, default=0)
    if needed > size:
        return f"is cut short ({size:,} bytes of {needed:,})"
    return None
