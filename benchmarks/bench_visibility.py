"""What the access check costs (issue 62): the grid, search and similar search at 100,000 pictures with 10
accounts and per-picture visibility, beside the same calls for the library's owner, in one run.

    .venv/bin/python benchmarks/bench_visibility.py [--pictures 100000] [--runs 30] [--small] [--before REV]

The library is made once (``.bench/visibility-N``: benchmarks/synthetic_library.py with 512-d embeddings),
then its pictures are given to 10 accounts: the owner's tenth, and 9 members whose pictures are private
one time in three (each holds its own). Every call runs in process through the library's own code, once as
the owner (who sees everything: no access condition), once as a member (their pictures and the shared
ones) and once as a member with 1,000 ratings of its own (each person's marks are theirs), in turn, and
prints the p50 of each and the cost over the owner's. ``--before REV`` prints the table for that git
revision's core, then for this tree's, each in a process of its own, on the same library.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = Path(sys.argv[sys.argv.index("--core") + 1]) if "--core" in sys.argv else ROOT / "pixlstash-core"
sys.path.insert(0, str(CORE))
sys.path.insert(0, str(ROOT / "benchmarks"))
# Imported first, from CORE: the helpers below put this tree's core first on the path as they load.
import pixlstash  # noqa: E402

if not Path(pixlstash.__file__).is_relative_to(CORE):
    raise SystemExit(f"pixlstash came from {pixlstash.__file__}, not {CORE}")

from bench_ann import plugin_manager  # noqa: E402 - the stand-in CLIP engine the embeddings belong to
from synthetic_library import build  # noqa: E402

from pixlstash.domain import PictureFilter, Sort  # noqa: E402
from pixlstash.library import Library  # noqa: E402
from pixlstash.pictures.visibility import Audience, seen_by  # noqa: E402

ACCOUNTS = 10
OWNER = Audience(1, sees_all=True, is_owner=True)
MEMBER = Audience(5, sees_all=False)
RATER = Audience(6, sees_all=False)  # a member with ratings and favourites of its own


def library_for(pictures: int) -> Path:
    root = ROOT / ".bench" / f"visibility-{pictures}"
    if not (root / "library.db").exists():
        build(root, pictures, tags_per_picture=10, sets=100, characters=20, embedding_dims=512)
    with Library.open(root) as library:
        if not library.db.scalar("SELECT count(*) FROM picture_holders"):
            with library.db.write():
                # Account 1 is the owner; members 2..10 keep one picture in three to themselves.
                library.db.execute(
                    f"UPDATE pictures SET owner_id = id % {ACCOUNTS} + 1, "
                    f"private = (id % {ACCOUNTS} != 0 AND (id / {ACCOUNTS}) % 3 = 0)"
                )
                library.db.execute("INSERT INTO picture_holders SELECT owner_id, id, 0 FROM pictures")
            library.db.execute("ANALYZE")
    return root


def mark(library: Library) -> None:
    """A rating member's own ratings and favourites on 1,000 of the pictures it sees."""
    if library.db.scalar("SELECT count(*) FROM picture_marks WHERE user_id = ?", (RATER.user_id,)):
        return
    with seen_by(RATER):
        seen = [s.id for s in library.page(PictureFilter(), Sort("taken_at"), limit=1000).items]
        with library.db.write():
            for n, picture_id in enumerate(seen):
                library.pictures.update([picture_id], rating=1 + n % 5, favourite=n % 7 == 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pictures", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--small", action="store_true", help="5,000 pictures and 3 runs: a check of the script")
    parser.add_argument("--before", metavar="REV", help="first the same table at this git revision")
    parser.add_argument("--core", help=argparse.SUPPRESS)  # (read above: the core this process imports)
    parser.add_argument("--library", type=Path, help=argparse.SUPPRESS)  # a copy made for one table
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)  # only make the library
    args = parser.parse_args()
    if args.prepare:
        library_for(5_000 if args.small else args.pictures)
        return
    if args.before:  # each table in a process of its own, on its own copy (a newer core upgrades the schema)
        made = ROOT / ".bench" / f"visibility-{5_000 if args.small else args.pictures}"
        both_tables(args.before, made, [a for a in sys.argv[1:] if a not in ("--before", args.before)])
        return
    pictures, runs = (5_000, 3) if args.small else (args.pictures, args.runs)
    root = args.library or library_for(pictures)
    with Library.open(root, plugin_manager=plugin_manager(root)) as library:
        common = library.db.query("SELECT name FROM tags ORDER BY picture_count DESC LIMIT 1")[0][0]
        rare = library.db.query("SELECT name FROM tags WHERE picture_count > 20 ORDER BY picture_count LIMIT 1")[0][0]
        with seen_by(MEMBER):
            sees = library.count()
        private = library.db.scalar("SELECT count(*) FROM pictures WHERE private = 1")
        mark(library)
        print(f"library: {pictures:,} pictures, {ACCOUNTS} accounts, {private:,} private; a member sees {sees:,}")
        library.indexes.get("clip/ViT-B-32").ensure_current(wait=True)
        probe = 2 + ACCOUNTS * 7  # a shared picture both may see
        grid = PictureFilter(stack_covers=True)
        calls = [
            ("grid, first page by date", lambda: library.page(grid, Sort("taken_at"))),
            ("grid, first page by rating", lambda: library.page(grid, Sort("rating"))),
            ("grid, count", lambda: library.count(grid)),
            (f"search, common tag {common!r}", lambda: library.page(PictureFilter(tags=[common]), Sort("taken_at"))),
            (f"search, rare tag {rare!r}", lambda: library.page(PictureFilter(tags=[rare]), Sort("taken_at"))),
            ("search, words (full text)", lambda: library.page(PictureFilter(text="IMG"), Sort("taken_at"))),
            ("similar search, top 50", lambda: library.search.similar(picture_ids=[probe], limit=50)),
            ("tag list (autocomplete 'tag_01')", lambda: library.tags.vocabulary("tag_01", limit=20)),
        ]
        print(f"{'':<40}{'owner p50':>11}{'member p50':>12}{'cost':>7}{'rater p50':>11}{'cost':>7}")
        for label, call in calls:
            owner, member, rater = interleaved_p50(runs, call)
            costs = [f"{(ms / owner - 1) * 100:>+6.0f}%" for ms in (member, rater)]
            print(f"{label:<40}{owner:>8.2f} ms{member:>9.2f} ms{costs[0]}{rater:>8.2f} ms{costs[1]}")


def both_tables(revision: str, made: Path, arguments: list[str]) -> None:
    """The library ``made`` by ``revision``'s code (or kept; that code must be able to open it), then each
    table on a copy of it."""
    import shutil
    import subprocess

    from revision_tree import tree_at

    with tree_at(revision, ROOT / ".bench") as tree:
        before = [sys.executable, __file__, *arguments, "--core", str(tree / "pixlstash-core")]
        subprocess.run([*before, "--prepare"], check=True)
        for name, core in ((revision, tree / "pixlstash-core"), ("now", ROOT / "pixlstash-core")):
            print(f"\n{name}:", flush=True)
            copy = tree.parent / f"library-{name}"
            shutil.copytree(made, copy, ignore=shutil.ignore_patterns("*-wal", "*-shm", "lock"))
            command = [sys.executable, __file__, *arguments, "--core", str(core), "--library", str(copy)]
            subprocess.run(command, check=True)


def interleaved_p50(runs: int, call) -> tuple[float, float, float]:
    """The owner's, the member's and the rating member's p50 of ``call``, one of each in turn: a machine
    whose speed drifts during the run (a busy neighbour, a clock) drifts them alike."""
    times: dict[Audience, list[float]] = {OWNER: [], MEMBER: [], RATER: []}
    for run in range(runs + 1):
        for audience, samples in times.items():
            with seen_by(audience):
                started = time.perf_counter()
                call()
                if run:  # the first of each warms
                    samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(times[OWNER]), statistics.median(times[MEMBER]), statistics.median(times[RATER])


if __name__ == "__main__":
    main()
