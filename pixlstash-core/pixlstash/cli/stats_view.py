"""``ls --stats`` for people: counts, the rating spread, sizes, resolutions, scores and the top tags."""

from __future__ import annotations

from ..domain import Statistics
from .output import Column, counted, human_bytes, print_table

_BAR = 30


def print_statistics(stats: Statistics, top_tags: int = 15) -> None:
    kinds = ", ".join(counted(n, kind) for kind, n in sorted(stats.media_type.items()) if n)
    print(f"{counted(stats.count, 'picture')} ({kinds or 'none'}), {human_bytes(stats.total_bytes)} in all")
    if not stats.count:
        return
    print("\nrating")
    for rating in range(5, -1, -1):
        n = stats.rating.get(rating, 0)
        print(f"  {'*' * rating if rating else 'unrated':<8} {_bar(n, stats.count)} {n:>9,}")
    print("\nfile size")
    lower = "0"
    for bucket in stats.file_size:
        upper = bucket["max_bytes"]
        label = f"{lower} - {human_bytes(upper)}" if upper is not None else f"over {lower}"
        print(f"  {label:<20} {_bar(bucket['count'], stats.count)} {bucket['count']:>9,}")
        lower = human_bytes(upper) if upper is not None else lower
    print("\nresolution")
    lower = "0"
    for bucket in stats.resolution:
        upper = bucket["max_megapixels"]
        label = f"{lower} - {upper:g} MP" if upper is not None else f"over {lower} MP"
        print(f"  {label:<20} {_bar(bucket['count'], stats.count)} {bucket['count']:>9,}")
        lower = f"{upper:g}" if upper is not None else lower
    for histogram in stats.scores:
        print(f"\nscore: {histogram['engine_id']} ({counted(histogram['count'], 'picture')} scored)")
        low, high, buckets = histogram["low"], histogram["high"], histogram["buckets"]
        width = (high - low) / len(buckets)
        for n, count in enumerate(buckets):
            label = f"{low + n * width:.3g} - {low + (n + 1) * width:.3g}"
            print(f"  {label:<20} {_bar(count, histogram['count'])} {count:>9,}")
    if stats.tags:
        print()
        rows = [(t["name"], t.get("category", ""), f"{t['count']:,}") for t in stats.tags[:top_tags]]
        print_table([Column("TAG"), Column("CATEGORY"), Column("PICTURES", right=True)], rows)
        if len(stats.tags) > top_tags:
            print(f"... and {counted(len(stats.tags) - top_tags, 'more tag')} (--json lists them)")


def _bar(count: int, total: int) -> str:
    filled = round(_BAR * count / total) if total else 0
    return "#" * filled + "." * (_BAR - filled)
