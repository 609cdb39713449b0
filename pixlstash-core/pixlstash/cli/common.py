"""Options and output helpers shared by subcommands."""

from __future__ import annotations

import argparse
import sys

import msgspec

__all__ = ["add_library_option", "print_json", "progress_bar"]

_json_encoder = msgspec.json.Encoder()


def add_library_option(parser: argparse.ArgumentParser) -> None:
    """``--library PATH``: which library folder to use."""
    parser.add_argument(
        "--library",
        metavar="PATH",
        help="library folder (default: $PIXLSTASH_LIBRARY, then the per-user data folder)",
    )


def print_json(value: object) -> None:
    """Write ``value`` (Structs included) as one line of JSON to stdout."""
    sys.stdout.write(_json_encoder.encode(value).decode() + "\n")


def progress_bar(done: int, total: int, width: int = 28) -> str:
    """``[#########-----------]  45%`` for terminals."""
    fraction = done / total if total else 1.0
    filled = round(fraction * width)
    return f"[{'#' * filled}{'-' * (width - filled)}] {fraction:4.0%}"
