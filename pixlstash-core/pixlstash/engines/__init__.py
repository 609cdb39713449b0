"""The engine layer: the base classes plugins implement (``base``), the table of what each kind of engine
does (``tasks``), the registry of installed engines (``registry``) and how they run: devices, loading,
idle unloading, the fallback to the CPU (``runtime``). Search and enrichment both build on it."""

# As asyncio's package does: the layer's public names are its base classes' and their data's, listed once
# (base.__all__).
from .base import *  # noqa: F403
from .base import __all__ as __all__
