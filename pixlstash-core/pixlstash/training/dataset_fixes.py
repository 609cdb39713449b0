"""The fixes a dataset check offers, each one undo step: the same for the CLI and the API."""

from __future__ import annotations

from ..db.pictures import PictureStore
from ..history.undo import Edits
from .dataset_check import DatasetReport, duplicates_to_remove

__all__ = ["remove_near_duplicates"]


def remove_near_duplicates(
    edits: Edits, pictures: PictureStore, collection_id: int, name: str, report: DatasetReport
) -> list[int]:
    """Take out of a set or character every near-duplicate ``report`` found there but the best of each
    group (the highest rated, then the most pixels): one undo step. The ids taken out, sorted."""
    group_ids = [i for group in report.near_duplicates for i in group]
    removed = duplicates_to_remove(report, {i: pictures.get(i) for i in group_ids})
    if removed:
        label = f"Remove {len(removed)} near-duplicate{'' if len(removed) == 1 else 's'} from {name}"
        with edits.step(label):
            edits.remove_members(collection_id, removed)
    return removed
