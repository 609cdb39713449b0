"""``pixlstash backup``: the whole library (databases, originals, snapshots) to a folder, a tar file or a
bucket, checked, and restored into a new folder."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from ..backups import create_backup, kept_backups, restore_backup, verify_backup
from ..backups.bucket import open_backup_place
from ..db.copies import folder_paths
from .bucket_options import bucket_address, bucket_address_options
from .common import SOME_FAILED, SectionedCommand, json_option, library_option, print_json
from .library_options import open_library
from .output import Progress, counted, human_bytes


@click.group("backup")
def backup_group() -> None:
    """Back up the whole library, check a backup, restore one.

    A backup holds the databases (copied consistently while the server runs), every original, the
    snapshots and, if asked, the thumbnails. Into a folder or a bucket (s3://BUCKET/PREFIX, with the
    pixlstash-s3 plugin), the next backup writes only what is new, and the databases of the last 3
    backups are kept. Accounts and plugin secrets (API keys) are left out unless --with-accounts asks for
    them. Files in reference folders stay where they are and are not in the backup.

    A bucket's credentials are the library's own when it is on the library's endpoint, else
    AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. When the originals are in the same bucket, the service
    copies them into the backup itself (nothing passes through this machine).

    \b
    Examples:
      pixlstash backup create /mnt/usb/pixlstash-backup
      pixlstash backup create ~/library-2026-11.tar --with-thumbnails
      pixlstash backup create s3://offsite/pixlstash --endpoint https://s3.eu-central-003.backblazeb2.com
      pixlstash backup verify /mnt/usb/pixlstash-backup
      pixlstash backup list /mnt/usb/pixlstash-backup
      pixlstash backup restore /mnt/usb/pixlstash-backup --to ~/library-restored
    """


def _place(pm, target, endpoint, region, virtual_hosted, settings=None):
    """A folder or tar file as a Path, or the bucket s3://BUCKET/PREFIX names."""
    given = {k: v for k, v in bucket_address(endpoint, region, virtual_hosted).items() if v is not None}
    return open_backup_place(pm, str(target), given, settings)


def _bytes_progress(label: str) -> tuple[Progress, object]:
    bar = Progress(label, unit="MB")

    def report(what: str, done: int, total: int) -> None:
        bar.update(done=done // 1_000_000, total=max(1, total // 1_000_000))

    return bar, report


@backup_group.command("create", cls=SectionedCommand)
@click.argument("target")
@click.option("--with-thumbnails", is_flag=True, help="also the thumbnails (else they are made again after a restore)")
@click.option(
    "--with-accounts",
    is_flag=True,
    help="also the accounts (password hash, tokens, share links) and plugin secrets such as API keys, in clear",
)
@click.option(
    "--force",
    is_flag=True,
    help="replace a backup of more pictures than the library now holds, or write inside a container (not a volume)",
)
@bucket_address_options
@library_option
@json_option
@click.pass_obj
def create_command(
    pm, target, with_thumbnails, with_accounts, force, endpoint, region, virtual_hosted, library_path, as_json
) -> int:
    """Back the library up to TARGET: a folder (new, empty, or an earlier backup's: only what is new is
    written), a file name ending in .tar, or a bucket, s3://BUCKET/PREFIX (as a folder)."""
    with open_library(library_path, pm) as library:
        place = _place(pm, target, endpoint, region, virtual_hosted, library.plugin_settings.all())
        bar, report_progress = _bytes_progress("backing up")
        with bar:
            report = create_backup(
                library.backup_source(),
                place,
                with_thumbnails=with_thumbnails,
                with_accounts=with_accounts,
                force=force,
                progress=report_progress,
            )
    if as_json:
        print_json(report)
    else:
        print(
            f"backup {report.backup_id} in {report.target}: {counted(report.files, 'file')}, "
            f"{human_bytes(report.bytes_in_backup)}; written now: {counted(report.files_written, 'file')}, "
            f"{human_bytes(report.bytes_written)}, in {report.seconds:.1f} s"
        )
        if report.with_accounts:
            print("it holds the accounts and plugin secrets in clear: keep it where only you can read it")
        else:
            left_out = (
                f" and the secret settings {', '.join(report.secrets_left_out)}" if report.secrets_left_out else ""
            )
            print(f"accounts{left_out} are not in it (--with-accounts to include them)")
        if report.copied_in_bucket:
            copied = counted(report.copied_in_bucket, "original")
            print(f"{copied} copied inside the bucket by the service (the library keeps its originals there too)")
        if len(report.kept) > 1:
            print(f"it keeps the databases of backups {', '.join(report.kept)}")
        for problem in report.problems:
            print(f"problem: {problem}", file=sys.stderr)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return SOME_FAILED if report.problems else 0


_backup_id_option = click.option(
    "--backup", "backup_id", metavar="ID", help="an earlier backup this folder keeps (`backup list` shows them)"
)


@backup_group.command("verify", cls=SectionedCommand)
@click.argument("source")
@_backup_id_option
@bucket_address_options
@json_option
@click.pass_obj
def verify_command(pm, source, backup_id, endpoint, region, virtual_hosted, as_json) -> int:
    """Check every file of the backup at SOURCE (a folder, a .tar file, s3://BUCKET/PREFIX) against its
    manifest (one line per problem)."""
    place = _place(pm, source, endpoint, region, virtual_hosted)
    bar, report_progress = _bytes_progress("checking")
    with bar:
        manifest, problems = verify_backup(place, report_progress, backup_id)
    if as_json:
        print_json({"backup_id": manifest.backup_id if manifest else None, "problems": problems})
    else:
        for problem in problems:
            print(problem)
        if manifest and not problems:
            print(
                f"backup {manifest.backup_id} is whole: {counted(len(manifest.files), 'file')} checked, "
                f"{counted(manifest.pictures, 'picture')} ({manifest.in_reference_folders:,} in reference folders, "
                "not in the backup)"
            )
    return 1 if problems else 0


@backup_group.command("list", cls=SectionedCommand)
@click.argument("source")
@bucket_address_options
@json_option
@click.pass_obj
def list_command(pm, source, endpoint, region, virtual_hosted, as_json) -> int:
    """The backups whose databases the backup folder or bucket SOURCE keeps, newest first."""
    place = _place(pm, source, endpoint, region, virtual_hosted)
    if isinstance(place, Path) and not place.is_dir():
        raise click.BadParameter(f"{source} is not a backup folder", param_hint="SOURCE")
    kept = kept_backups(place)
    if as_json:
        print_json(kept)
        return 0
    for manifest in kept:
        when = dt.datetime.fromtimestamp(manifest.created_at / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        accounts = "with accounts" if manifest.with_accounts else "without accounts"
        print(f"{manifest.backup_id}  {when}  {counted(manifest.pictures, 'picture')}, {accounts}")
    if not kept:
        print(f"{source} keeps no backups")
    return 0


@backup_group.command("restore", cls=SectionedCommand)
@click.argument("source")
@click.option("--to", "to", required=True, type=click.Path(path_type=Path), help="a new or empty folder")
@_backup_id_option
@bucket_address_options
@json_option
@click.pass_obj
def restore_command(pm, source, to, backup_id, endpoint, region, virtual_hosted, as_json) -> int:
    """Restore the backup at SOURCE (a folder, a .tar file, s3://BUCKET/PREFIX) into a new library folder
    (never over an existing one)."""
    place = _place(pm, source, endpoint, region, virtual_hosted)
    if isinstance(place, Path) and not place.exists():
        raise click.BadParameter(f"{source} does not exist", param_hint="SOURCE")
    bar, report_progress = _bytes_progress("restoring")
    with bar:
        manifest = restore_backup(place, to, report_progress, backup_id)
    library = Path(to).expanduser().resolve()
    paused = folder_paths(library / "library.db")
    if as_json:
        print_json(
            {
                "backup_id": manifest.backup_id,
                "library": str(library),
                "with_accounts": manifest.with_accounts,
                "paused_folders": paused,
            }
        )
    else:
        print(
            f"restored backup {manifest.backup_id} ({counted(manifest.pictures, 'picture')}) into {to}; "
            f"open it with: pixlstash serve --library {to}"
        )
        if not manifest.with_accounts:
            print("the backup held no accounts: the server starts with first-run setup (create the owner there)")
        if paused:
            print(
                f"its {counted(len(paused), 'watched folder')} ({', '.join(paused)}) are paused, so that it does not "
                "take files the library it came from is watching for: once this is the library you use, "
                f"`pixlstash folders resume --library {to} ID` (or Resume in Settings, Folders)"
            )
    return 0
