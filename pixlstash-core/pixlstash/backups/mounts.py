"""Whether a folder outlives its container: a backup written to a container's own writable layer (its
root file system, an overlay) is gone when the container is recreated, which an upgrade does.

Read from ``/proc/self/mountinfo``: the mount that holds a path is the one with the longest mount point
above it. In a container, a volume or a host folder is a mount of its own; what is not on one lies on the
root, and a root of type overlay is the container's layer (Docker, Podman, containerd). A machine whose
root is a real disk never matches.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["MOUNTINFO", "container_layer"]

MOUNTINFO = Path("/proc/self/mountinfo")
_LAYER_TYPES = {"overlay", "fuse.fuse-overlayfs", "aufs"}


def _unescape(field: str) -> str:
    """Mount points in mountinfo escape space, tab, newline and backslash as octal (``\\040``)."""
    out, i = [], 0
    while i < len(field):
        code = field[i + 1 : i + 4]
        if field[i] == "\\" and len(code) == 3 and code.isdigit():
            out.append(chr(int(code, 8)))
            i += 4
            continue
        out.append(field[i])
        i += 1
    return "".join(out)


def _mounts(mountinfo: Path) -> list[tuple[str, str]]:
    """(mount point, file system type) of every mount."""
    mounts = []
    for line in mountinfo.read_text(errors="replace").splitlines():
        fields = line.split()
        if "-" not in fields or len(fields) < 5:
            continue
        after = fields[fields.index("-") + 1 :]
        if after:
            mounts.append((_unescape(fields[4]), after[0]))
    return mounts


def _existing(path: Path) -> Path:
    """``path`` with links resolved, or its nearest folder that exists (a backup folder may be new)."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return Path(os.path.realpath(path))


def container_layer(path: Path, mountinfo: Path = MOUNTINFO) -> bool:
    """Whether ``path`` lies on a container's own writable layer rather than on a mounted volume."""
    try:
        mounts = _mounts(mountinfo)
    except OSError:
        return False  # not Linux, or no /proc: nothing to tell
    place = str(_existing(path))
    holder = None
    for point, kind in mounts:  # the longest mount point above; of two at one point, the later hides the other
        if (place == point or place.startswith(point.rstrip("/") + "/")) and (
            holder is None or len(point) >= len(holder[0])
        ):
            holder = (point, kind)
    return holder is not None and holder[0] == "/" and holder[1] in _LAYER_TYPES
