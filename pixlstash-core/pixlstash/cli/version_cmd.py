"""``pixlstash version``."""

from __future__ import annotations

import platform

import click

from .. import __version__
from .common import json_option, print_json


@click.command("version")
@json_option
def version_command(as_json) -> int:
    """Print the PixlStash and Python versions."""
    if as_json:
        print_json({"version": __version__, "python": platform.python_version()})
    else:
        print(f"pixlstash {__version__} (Python {platform.python_version()})")
    return 0
