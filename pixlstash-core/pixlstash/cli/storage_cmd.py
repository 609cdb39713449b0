"""``pixlstash storage [show|use|migrate]``: where a library keeps its originals (its folder, or an
S3-compatible bucket through the pixlstash-s3 plugin), and moving them."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import click

from ..errors import BadInput, Conflict
from ..files.store_choice import StoreChoice, parse_store_url, storage_state
from ..files.store_moves import StoreMove
from ..library import DATABASE_NAME
from ..system.paths import resolve_library_path
from .bucket_options import bucket_address, bucket_address_options
from .common import json_option, library_option, print_json
from .library_options import open_library
from .output import counted

__all__ = ["storage_group"]

_STORE = click.argument("target", metavar="s3://BUCKET/PREFIX|local")


def _options(func):
    func = click.option(
        "--secret-access-key-file",
        type=click.File("r"),
        help="a file holding the secret key, kept with the library's secrets (default: AWS_SECRET_ACCESS_KEY)",
    )(func)
    func = click.option("--access-key-id", help="the access key (default: AWS_ACCESS_KEY_ID when the library is used)")(
        func
    )
    return bucket_address_options(func)


def _given(endpoint, region, virtual_hosted, access_key_id, secret_access_key_file) -> dict:
    return {
        **bucket_address(endpoint, region, virtual_hosted),
        "access_key_id": access_key_id,
        "secret_access_key": secret_access_key_file.read().strip() if secret_access_key_file else None,
    }


@click.group("storage", invoke_without_command=True)
@library_option
@json_option
@click.pass_context
def storage_group(ctx, library_path, as_json) -> int:
    """Where the originals are (the library's folder or a bucket), and moving them."""
    if ctx.invoked_subcommand is None:
        return ctx.invoke(show, library_path=library_path, as_json=as_json)
    return 0


@storage_group.command("show")
@library_option
@json_option
@click.pass_obj
def show(pm, library_path, as_json) -> int:
    """Where the originals live, how many, and whether the store answers."""
    with open_library(library_path, pm) as library:
        state = storage_state(library.store, library.pictures)
    if as_json:
        print_json({"store": state.store, "where": state.where, "originals": state.originals, "state": state.state})
    else:
        print(f"originals: {counted(state.originals, 'file')} in {state.where} ({state.store}); {state.state}")
    return 0 if state.state == "answers" else 1


@storage_group.command("use")
@library_option
@_STORE
@_options
@click.pass_obj
def use(pm, library_path, target, **options) -> int:
    """Keep a new library's originals in TARGET (a library with originals moves them with `migrate`).

    \b
    Examples:
      pixlstash storage use s3://photos/library --endpoint http://127.0.0.1:8333 --library ~/new-library
      pixlstash storage use s3://my-bucket/pixlstash --region eu-central-1 --virtual-hosted --library ~/new2
    """
    folder = resolve_library_path(library_path)
    # A new library made here for the bucket is taken away again when the bucket refuses: left behind, it
    # would be a library that keeps its originals in its folder, which is not what was asked for.
    before = set(os.listdir(folder)) if folder.is_dir() else None
    made_here = not (folder / DATABASE_NAME).exists()
    try:
        with open_library(library_path, pm, create=True) as library:
            if library.pictures.managed_originals():
                raise Conflict("this library has originals already: `pixlstash storage migrate` moves them")
            choice, given = (
                StoreChoice(library.plugin_settings, library.plugin_manager, library.root),
                _given(**options),
            )  # (the secret's file is read once)
            store = choice.store_for(target, **given)
            store.check()
            choice.switch(target, **given)
            choice.forget_previous()
    except BaseException:
        if made_here:
            _unmake(folder, before)
        raise
    print(f"originals will be kept in {store.where()}")
    return 0


def _unmake(folder: Path, before: set[str] | None) -> None:
    """Remove what opening a new library at ``folder`` made (the folder itself, if it was not there)."""
    if before is None:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for name in set(os.listdir(folder)) - before:
        path = folder / name
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


@storage_group.command("migrate")
@library_option
@_STORE
@_options
@click.option("--delete-source", is_flag=True, help="delete the old copies once every original is in TARGET")
@click.pass_obj
def migrate(pm, library_path, target, delete_source, **options) -> int:
    """Move the originals to TARGET: every one copied and checked, then the library switched.

    A killed run starts again where it stopped. The old copies stay until `--delete-source` (given now, or
    on a later run once the library is on TARGET). No server may run on the library meanwhile.

    \b
    Examples:
      pixlstash storage migrate s3://photos/library --endpoint http://127.0.0.1:8333
      pixlstash storage migrate local
      pixlstash storage migrate s3://photos/library --delete-source
    """
    from ..instance import ServiceLock

    parse_store_url(target)
    with open_library(library_path, pm) as library:
        lock = ServiceLock(library.root)
        lock.acquire("storage migration")  # no server imports into the old store meanwhile
        try:
            return _migrate(library, target, delete_source, _given(**options))
        finally:
            lock.release()


def _migrate(library, target: str, delete_source: bool, given: dict) -> int:
    choice = StoreChoice(library.plugin_settings, library.plugin_manager, library.root)
    source, destination = library.store, choice.store_for(target, **given)
    originals = library.pictures.managed_originals()
    if source.where() == destination.where():
        previous = choice.previous_store()
        if not delete_source or previous is None or previous.where() == destination.where():
            print(f"the originals are in {destination.where()} already")
            return 0
        source = previous  # a later run with --delete-source: the copies the move left
        if missing := StoreMove(source, destination, library.root / "cache" / "moving").check(originals):
            raise BadInput(f"{len(missing)} originals are not whole in {destination.where()}: nothing deleted")
    else:
        destination.check()
        shown = time.monotonic()

        def progress(report) -> None:
            nonlocal shown
            if time.monotonic() - shown > 5:
                shown = time.monotonic()
                done = report.copied + report.present + len(report.failed)
                print(f"  {done:,} of {report.total:,} originals", file=sys.stderr, flush=True)

        report = StoreMove(source, destination, library.root / "cache" / "moving").run(originals, progress)
        print(f"copied {counted(report.copied, 'original')} to {destination.where()} ({report.present} there already)")
        for line in (report.failed + report.missing)[:20]:
            print(f"  not moved: {line}", file=sys.stderr)
        if report.failed or report.missing:
            raise BadInput(
                f"{len(set(report.failed) | set(report.missing))} originals are not in {destination.where()}: "
                "the library stays where it was; run the same command again to go on"
            )
        choice.switch(target, **given)
        print(f"the library now keeps its originals in {destination.where()}; the old copies stay in {source.where()}")
    if delete_source:
        kept = [(h, s) for h, s, _ in originals if not _deleted(source, h, s)]
        if kept:
            raise BadInput(f"{len(kept)} old copies in {source.where()} could not be deleted; run it again")
        source.tidy()
        choice.forget_previous()
        print(f"deleted {counted(len(originals), 'old copy', 'old copies')} from {source.where()}")
    return 0


def _deleted(store, content_hash: str, suffix: str, tries: int = 3) -> bool:
    """Delete, then check that it is gone (a service may answer a delete it did not carry out)."""
    for _ in range(tries):
        store.delete(content_hash, suffix)
        if not store.exists(content_hash, suffix):
            return True
    return False
