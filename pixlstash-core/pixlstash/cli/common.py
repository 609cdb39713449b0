"""Options and output helpers shared by subcommands."""

from __future__ import annotations

import argparse
import io
import re
import sys
from typing import TextIO

import msgspec

__all__ = ["EscapingStream", "add_library_option", "print_json", "progress_bar", "terminal"]

# Control characters but tab and newline: a file name like "bad\x1b[31m.jpg" must not drive the terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class EscapingStream(io.TextIOBase):
    """A text stream that writes control characters as visible escapes (``\\x1b``). The CLI puts one
    over stdout and stderr, so nothing it prints (file names, tags, errors) can move the cursor, recolour
    or retitle the terminal; its own progress displays write through ``terminal()``."""

    def __init__(self, stream: TextIO) -> None:
        self.unescaped = stream

    def write(self, text: str) -> int:
        self.unescaped.write(_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text))
        return len(text)

    def flush(self) -> None:
        self.unescaped.flush()

    def isatty(self) -> bool:
        return self.unescaped.isatty()

    def fileno(self) -> int:
        return self.unescaped.fileno()

    @property
    def encoding(self) -> str:
        return self.unescaped.encoding


def terminal(stream: TextIO) -> TextIO:
    """The stream under an ``EscapingStream``, for the CLI's own cursor movements (live progress)."""
    return getattr(stream, "unescaped", stream)


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


# Exit status of a command that did its work but not for every item it was given (a partial import, a
# partial restore, an export with missing originals); the reasons go to standard error. 1 is an error
# (nothing done), 2 bad usage (argparse's own).
SOME_FAILED = 3
