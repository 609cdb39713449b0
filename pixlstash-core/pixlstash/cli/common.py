"""Options, decorators and JSON output shared by subcommands."""

from __future__ import annotations

import functools
import io
import re
import sys
from typing import TextIO

import click

__all__ = [
    "SOME_FAILED",
    "EscapingStream",
    "SectionOption",
    "escape_controls",
    "json_option",
    "library_option",
    "option",
    "print_json",
    "print_jsonl",
    "terminal",
]

# Exit status of a command that did its work but not for every item it was given (a partial import, a
# partial restore, an export with missing originals); the reasons go to standard error. 1 is an error
# (nothing done), 2 bad usage.
SOME_FAILED = 3

# Control characters but tab and newline: a file name like "bad\x1b[31m.jpg" must not drive the terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def escape_controls(text: str) -> str:
    """``text`` with control characters written as visible escapes (``\\x1b``)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class EscapingStream(io.TextIOBase):
    """A text stream that writes control characters as visible escapes (``\\x1b``). The CLI puts one
    over stdout and stderr, so nothing it prints (file names, tags, errors) can move the cursor, recolour
    or retitle the terminal; its own tables and progress bars write through ``terminal()``."""

    def __init__(self, stream: TextIO) -> None:
        self.unescaped = stream

    def write(self, text: str) -> int:
        self.unescaped.write(escape_controls(text))
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

    @property
    def buffer(self):
        """The byte stream, for click writing bytes it made itself (a shell-completion script)."""
        return self.unescaped.buffer


def terminal(stream: TextIO) -> TextIO:
    """The stream under an ``EscapingStream``, for the CLI's own styling and cursor movements."""
    return getattr(stream, "unescaped", stream)


class SectionOption(click.Option):
    """An option listed under its own heading in ``--help`` ("Filters", "Order")."""

    def __init__(self, *args, section: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.section = section


class SectionedCommand(click.Command):
    """A command whose ``--help`` lists its options by section, examples kept as written."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        sections: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            if not isinstance(param, click.Option):  # arguments are in the usage line
                continue
            record = param.get_help_record(ctx)
            if record is not None:
                sections.setdefault(getattr(param, "section", None) or "Options", []).append(record)
        for title in ("Options", *[t for t in sections if t != "Options"]):
            if title in sections:
                with formatter.section(title):
                    formatter.write_dl(sections[title])


def option(*declarations: str, section: str | None = None, **attrs):
    """``click.option`` that can name its help section."""
    return click.option(*declarations, cls=SectionOption, section=section, **attrs)


def _or_the_groups(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A command's --library, else the one given before the command (`pixlstash --library X ls`)."""
    return value if value is not None else ctx.meta.get("library_path")


library_option = click.option(
    "--library",
    "library_path",
    metavar="PATH",
    callback=_or_the_groups,
    help="library folder (default: $PIXLSTASH_LIBRARY, then the per-user data folder)",
)
json_option = click.option("--json", "as_json", is_flag=True, help="print JSON (its shape: `pixlstash docs`)")


@functools.cache
def _json_encoder():
    import msgspec  # not for every start: `--help` and `version` print no JSON

    return msgspec.json.Encoder()


def print_json(value: object) -> None:
    """Write ``value`` (Structs included) as one line of JSON to stdout."""
    sys.stdout.write(_json_encoder().encode(value).decode() + "\n")


def print_jsonl(values) -> None:
    """Write each value as a line of JSON, flushing as it goes (for pipes)."""
    for value in values:
        sys.stdout.write(_json_encoder().encode(value).decode() + "\n")
    sys.stdout.flush()
