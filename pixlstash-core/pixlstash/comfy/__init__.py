"""Running ComfyUI workflows from the library: a client for ComfyUI's API, graph changes and pre-flight
checks, and the runs whose outputs come back stacked on their source."""

from .client import NODES_MISSING, ComfyClient, checked_url
from .graphs import image_inputs, parse_graph, preflight, remix, saved_images, with_image
from .runs import ComfyRuns, RunCancelled

__all__ = [
    "NODES_MISSING",
    "ComfyClient",
    "ComfyRuns",
    "RunCancelled",
    "checked_url",
    "image_inputs",
    "parse_graph",
    "preflight",
    "remix",
    "saved_images",
    "with_image",
]
