"""usearch's ``Index``, imported so that no later import can crash the process.

usearch's Linux wheels carry a static GCC 14 libstdc++ and export its symbols (about 5,000, 107 of them
``STB_GNU_UNIQUE`` locale facet ids, which the loader makes process-wide whatever the ``dlopen`` flags).
From 2.26.2 on, a library that then loads the system's libstdc++ for the first time crashes initialising
``std::locale``: ``import usearch; import onnxruntime`` is a segmentation fault in onnxruntime's module
start-up. With the system's libstdc++ loaded into the global scope first, as any extension linked against
it (PyAV, libvips) would have done, both orders work. The known-bad versions are also excluded in the
core's requirements and reported by ``pixlstash doctor``; this keeps the next such release harmless.
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["Index"]


def _share_system_libstdcxx() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libstdc++.so.6", mode=ctypes.RTLD_GLOBAL)  # the soname since GCC 3.4
    except OSError:  # no system libstdc++ (a static, musl or minimal image): nothing to share
        pass


_share_system_libstdcxx()

from usearch.index import Index  # noqa: E402 - after the libstdc++ above, on purpose
