"""``pixlstash version``."""

from __future__ import annotations

import platform

import click

from .. import __version__
from .common import json_option, print_json


@click.command("version")
@json_option
def version_command(as_json) -> int:
    """Print the PixlStash version, the library schema it writes, and the Python version."""
    from ..db.schema import SCHEMA_VERSION

    if as_json:
        print_json({"version": __version__, "schema": SCHEMA_VERSION, "python": platform.python_version()})
    else:
        print(f"pixlstash {__version__} (library schema {SCHEMA_VERSION}, Python {platform.python_version()})")
    return 0
