"""Where a bucket is, as the commands that name one take it (``storage``, ``backup``): the service's
address, its region and how it is addressed. Credentials are never options: they come from a file or the
environment."""

from __future__ import annotations

import click

__all__ = ["bucket_address", "bucket_address_options"]


def bucket_address_options(func):
    """``--endpoint``, ``--region``, ``--virtual-hosted``."""
    for option in reversed(
        [
            click.option(
                "--endpoint",
                help="the service's URL (http://127.0.0.1:8333, https://s3.eu-central-1.wasabisys.com); none: the "
                "service of the library's own bucket when its originals are in one, else AWS S3",
            ),
            click.option(
                "--region", help="the bucket's region (default: the library's bucket's at its service, else us-east-1)"
            ),
            click.option(
                "--virtual-hosted",
                "virtual_hosted",
                is_flag=True,
                default=None,
                help="bucket.host/key addressing (AWS, R2) instead of host/bucket/key",
            ),
        ]
    ):
        func = option(func)
    return func


def bucket_address(endpoint: str | None, region: str | None, virtual_hosted: bool | None) -> dict:
    """What was given of those options, as the s3 plugin's settings name them (None: not given)."""
    return {
        "endpoint": endpoint,
        "region": region,
        "path_style": None if virtual_hosted is None else not virtual_hosted,
    }
